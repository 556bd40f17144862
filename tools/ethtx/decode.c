/* decode.c — the view of a signed raw transaction for `ethtx decode` / `ethtx inspect`.
 *
 * All parsing and checking is chain/tx.h's strict decoder (the one the submitter trusts); this file
 * only turns its result into a JSON object (one source for both output forms) and its refusals
 * into messages that name the field and byte offset.
 */
#include "tools/ethtx/decode.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "chain/rlp.h"
#include "chain/tx.h"

__attribute__((format(printf, 3, 4))) static int
dx_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
dx_parse_hex(const char *s, size_t slen, uint8_t *raw, size_t *n, char *err, size_t errlen)
{
	size_t a = 0, b = slen, off;
	int rc;
	while (a < b && isspace((unsigned char)s[a]))
		a++;
	while (b > a && isspace((unsigned char)s[b - 1]))
		b--;
	if (a == b)
		return dx_fail(err, errlen, "empty input: want a 0x-hex raw transaction");
	rc = hex_decode(s + a, b - a, HEX_PREFIX_OPTIONAL, raw, DX_MAX_RAW, n, &off);
	if (rc == HEX_ESPACE)
		return dx_fail(err, errlen, "input longer than %u bytes", DX_MAX_RAW);
	if (rc == HEX_EODD)
		return dx_fail(err, errlen, "odd number of hex digits");
	if (rc)
		return dx_fail(err, errlen, "not hex at character %zu: %s", a + off, hex_strerror(rc));
	if (*n == 0)
		return dx_fail(err, errlen, "empty input: want a 0x-hex raw transaction");
	return 0;
}

static const char *
dx_type_name(int type)
{
	return type == TX_EIP1559 ? "EIP-1559" : type == TX_EIP2930 ? "EIP-2930" : "legacy";
}

/* Why the decoder refused raw, as one line an operator can act on. */
static void
dx_refusal(const uint8_t *raw, int rc, const tx_derr *e, char *err, size_t errlen)
{
	switch (rc) {
	case TX_ERLP:
		dx_fail(err, errlen, "not canonical RLP at byte %zu: %s", e->off, rlp_strerror(e->rlp_err));
		break;
	case TX_ETYPE:
		dx_fail(err, errlen,
		        "unsupported transaction type 0x%02x at byte 0 (known: an RLP list for "
		        "legacy, 0x01 EIP-2930, 0x02 EIP-1559)",
		        raw[0]);
		break;
	default:
		if (rc == TX_EFIELDS && !e->field) /* else one field is a list where a value belongs */
			dx_fail(err, errlen, "%s transaction at byte %zu: %zu fields, want %zu",
			        dx_type_name(raw[0] >= 0xc0 ? TX_LEGACY : raw[0]), e->off, e->got, e->want);
		else
			dx_fail(err, errlen, "field %s at byte %zu: %s", e->field ? e->field : "?", e->off,
			        e->why ? e->why : tx_strerror(rc));
	}
}

static json_t *
dx_hex(const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 3);
	json_t *j;
	if (!s)
		return NULL;
	hex_encode(b, n, 1, s);
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
dx_addr(const uint8_t a[20])
{
	char s[43];
	hex_addr_format(a, s);
	return json_string(s);
}

static json_t *
dx_u256(const u256 *v)
{
	char s[80];
	u256_to_dec(v, s);
	return json_string(s);
}

static json_t *
dx_u64(uint64_t v)
{
	char s[24];
	snprintf(s, sizeof s, "%" PRIu64, v);
	return json_string(s);
}

/* [{address, storageKeys: [...]}, ...] of a list tx_decode already validated. */
static json_t *
dx_access_list(const tx *t)
{
	json_t *arr = json_array();
	rlp_item al, e, a, ks, k;
	rlp_iter i, j, l;
	if (!t->access_list || rlp_decode(t->access_list, t->access_list_len, &al, NULL))
		return arr;
	rlp_iter_init(&i, &al);
	while (rlp_iter_next(&i, &e, NULL) == 1) {
		json_t *o = json_object(), *keys = json_array();
		rlp_iter_init(&j, &e);
		rlp_iter_next(&j, &a, NULL);
		rlp_iter_next(&j, &ks, NULL);
		json_object_set_new(o, "address", dx_addr(a.p));
		rlp_iter_init(&l, &ks);
		while (rlp_iter_next(&l, &k, NULL) == 1)
			json_array_append_new(keys, dx_hex(k.p, k.len));
		json_object_set_new(o, "storageKeys", keys);
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *
dx_view(const uint8_t *raw, size_t n, int rich, char *err, size_t errlen)
{
	uint8_t h[32], from[20];
	size_t na, nk;
	uint64_t v;
	tx_derr e;
	tx t;
	int rc = tx_decode_at(raw, n, &t, &e);
	if (rc) {
		dx_refusal(raw, rc, &e, err, errlen);
		return NULL;
	}
	if ((rc = tx_recover_sender(&t, from))) {
		dx_fail(err, errlen, "signature (fields r, s, %s): %s", t.type == TX_LEGACY ? "v" : "yParity",
		        tx_strerror(rc));
		return NULL;
	}
	tx_access_count(&t, &na, &nk); /* cannot fail on a decoded tx */
	json_t *o = json_object();
	json_object_set_new(o, "type", json_integer(t.type));
	json_object_set_new(o, "chainId", t.type == TX_LEGACY && !t.chain_id ? json_null() : dx_u64(t.chain_id));
	json_object_set_new(o, "nonce", dx_u64(t.nonce));
	if (t.type == TX_EIP1559) {
		json_object_set_new(o, "maxPriorityFeePerGas", dx_u256(&t.max_priority_fee));
		json_object_set_new(o, "maxFeePerGas", dx_u256(&t.max_fee));
	} else {
		json_object_set_new(o, "gasPrice", dx_u256(&t.gas_price));
	}
	json_object_set_new(o, "gasLimit", dx_u64(t.gas_limit));
	json_object_set_new(o, "to", t.has_to ? dx_addr(t.to) : json_null());
	json_object_set_new(o, "value", dx_u256(&t.value));
	json_object_set_new(o, "data", dx_hex(t.data, t.data_len));
	if (t.type != TX_LEGACY) {
		json_object_set_new(o, "accessListAddresses", json_integer((json_int_t)na));
		json_object_set_new(o, "accessListStorageKeys", json_integer((json_int_t)nk));
		json_object_set_new(o, "yParity", json_integer(t.y_parity));
	} else {
		tx_legacy_v(&t, &v); /* fits: it came from the wire */
		json_object_set_new(o, "v", dx_u64(v));
	}
	json_object_set_new(o, "r", dx_hex(t.r, 32));
	json_object_set_new(o, "s", dx_hex(t.s, 32));
	tx_hash(raw, n, h);
	json_object_set_new(o, "hash", dx_hex(h, 32));
	json_object_set_new(o, "from", dx_addr(from));
	if (!rich)
		return o;
	json_object_set_new(o, "size", json_integer((json_int_t)n));
	tx_signing_hash(&t, h);
	json_object_set_new(o, "signingHash", dx_hex(h, 32));
	if (t.type != TX_LEGACY)
		json_object_set_new(o, "accessList", dx_access_list(&t));
	if (t.data_len >= 4) {
		json_t *words = json_array();
		json_object_set_new(o, "selector", dx_hex(t.data, 4));
		/* ABI arguments are 32-byte words; other data (deploy code, packed bytes) is not split */
		if ((t.data_len - 4) % 32 == 0)
			for (size_t k = 4; k < t.data_len; k += 32)
				json_array_append_new(words, dx_hex(t.data + k, 32));
		json_object_set_new(o, "words", words);
	}
	return o;
}

/* The text of one value; NULL values get the meaning of their absence. */
static void
dx_print_value(const char *key, const json_t *v, FILE *f)
{
	if (json_is_string(v))
		fputs(json_string_value(v), f);
	else if (json_is_integer(v))
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_null(v) && !strcmp(key, "chainId"))
		fputs("none (pre-EIP-155: valid on any chain)", f);
	else if (json_is_null(v) && !strcmp(key, "to"))
		fputs("none (contract creation)", f);
	else
		fputs("null", f);
}

void
dx_print_text(const json_t *view, FILE *f)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)view, key, v)
	{
		if (!strcmp(key, "accessList")) {
			size_t i, j;
			json_t *e, *k;
			json_array_foreach(v, i, e)
			{
				fprintf(f, "accessList[%zu]%*s %s\n", i, (int)(8 - (i > 9) - (i > 99)), "",
				        json_string_value(json_object_get(e, "address")));
				json_array_foreach(json_object_get(e, "storageKeys"), j, k)
				        fprintf(f, "  storageKey[%zu]%*s %s\n", j, (int)(6 - (j > 9) - (j > 99)), "",
				                json_string_value(k));
			}
			continue;
		}
		if (!strcmp(key, "words")) {
			size_t i;
			json_t *w;
			json_array_foreach(v, i, w) fprintf(f, "  word[%zu]%*s %s\n", i, (int)(12 - (i > 9) - (i > 99)),
			                                    "", json_string_value(w));
			continue;
		}
		fprintf(f, "%-21s ", key);
		dx_print_value(key, v, f);
		if (!strcmp(key, "type"))
			fprintf(f, " (%s)", dx_type_name((int)json_integer_value(v)));
		else if (!strcmp(key, "data"))
			fprintf(f, " (%zu bytes)", (json_string_length(v) - 2) / 2);
		else if (!strcmp(key, "value") || !strcmp(key, "gasPrice") || !strncmp(key, "max", 3))
			fputs(" wei", f);
		fputc('\n', f);
	}
}
