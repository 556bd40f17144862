/* ethtx — a small command line front end to chain/ (keccak, RLP, ABI, transactions), for operators
 * (decode a raw transaction) and so tests can compare this implementation with Foundry's `cast`.
 * The usage text below (ethtx_usage) is the reference; tools/ethtx/README.md explains it.
 *
 *   ethtx decode [--json] 0xRAW|-   decode a signed raw transaction (legacy, EIP-2930, EIP-1559),
 *        its hash and the sender recovered from the signature; inspect adds the signing hash, size,
 *        the access list and the calldata words. Exit 1 on a malformed transaction.
 *   ethtx mktx [--legacy] --chain N --nonce N --gas-limit N --gas-price WEI
 *              [--priority-gas-price WEI] [--value WEI] TO [SIG [ARGS...]]
 *        prints the signed raw transaction (0x...). The key comes from env ETHTX_KEY (hex), is
 *        never printed, and is wiped after use. Type 2 unless --legacy; --gas-price is the max fee.
 *   ethtx address                print the EIP-55 address of ETHTX_KEY
 *   ethtx keccak DATA            DATA is 0x-hex, or else taken as UTF-8 text (as cast does)
 *   ethtx abi-encode SIG ARGS... scalar, bytes and string parameters only
 *   ethtx calldata SIG ARGS...   the same with the selector
 *   ethtx to-rlp JSON            nested JSON arrays of 0x-hex strings, e.g. '["0xaa",["0x"]]'
 * A "--" argument anywhere only ends options, as in cast ("-- -5" passes a negative number).
 * Exit status 0 on success; 1 when decode/inspect refuse the transaction; 2 on bad usage or on
 * bad input to the other commands (with a message on stderr). --help prints usage and exits 0.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rt_config.h"
#include "base/rt_version.h"
#include "chain/abi.h"
#include "base/hex.h"
#include "base/keccak.h"
#include "chain/rlp.h"
#include "chain/tx.h"
#include "tools/ethtx/decode.h"

static uint8_t ethtx_buf[1 << 16];

static const char ethtx_usage_text[] =
        "usage: ethtx COMMAND [ARGS]\n"
        "  decode [--json] 0xRAW|-     decode a signed raw transaction (legacy, EIP-2930, EIP-1559):\n"
        "                              every field, the hash, the sender; - reads the hex from stdin\n"
        "  inspect [--json] 0xRAW|-    the same plus size, signing hash, access list, calldata words\n"
        "  mktx [--legacy] --chain N --nonce N --gas-limit N --gas-price WEI\n"
        "       [--priority-gas-price WEI] [--value WEI] TO [SIG [ARGS...]]\n"
        "                              sign a transaction with the key in env ETHTX_KEY (hex)\n"
        "  address                     the EIP-55 address of ETHTX_KEY\n"
        "  keccak DATA                 keccak-256 of 0x-hex DATA, or else of DATA as text\n"
        "  abi-encode SIG ARGS...      ABI-encode scalar, bytes and string arguments\n"
        "  calldata SIG ARGS...        the same with the 4-byte selector\n"
        "  to-rlp JSON                 RLP of nested JSON arrays of 0x-hex strings\n"
        "  --help                      this text\n"
        "  --version                   'ethtx VERSION (git REVISION, built DATE)'\n"
        "Exit status: 0 ok, 1 decode/inspect refused a malformed transaction, 2 bad usage or input.\n";

static int
ethtx_die(const char *what, const char *detail)
{
	fprintf(stderr, "ethtx: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	return 2;
}

/* Bad usage (unknown command or option): the message, then the usage, on stderr; exit 2. */
static int
ethtx_usage_error(const char *what, const char *detail)
{
	ethtx_die(what, detail);
	fputs(ethtx_usage_text, stderr);
	return 2;
}

static int
ethtx_is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

static void
ethtx_print_hex(const uint8_t *b, size_t n)
{
	static char out[2 * sizeof ethtx_buf + 3];
	hex_encode(b, n, 1, out);
	puts(out);
}

/* Decimal, or 0x-hex (odd digit counts allowed, as cast allows "0x123"), unsigned 256-bit. */
static int
ethtx_u256(const char *s, u256 *v)
{
	if (s[0] == '0' && s[1] == 'x') {
		char even[68] = "0";
		uint8_t be[32];
		size_t n, len = strlen(s + 2);
		if (len > 64)
			return -1;
		memcpy(even + (len % 2), s + 2, len + 1); /* left-pad one '0' when the count is odd */
		if (hex_decode(even, strlen(even), 0, be, 32, &n, NULL) != HEX_OK)
			return -1;
		return u256_from_be(v, be, n);
	}
	return u256_from_dec(v, s, strlen(s));
}

static int
ethtx_u64(const char *s, uint64_t *v)
{
	u256 u;
	if (ethtx_u256(s, &u) || !u256_fits_u64(&u))
		return -1;
	*v = u256_low64(&u);
	return 0;
}

/* Fills vals[1..] for the root tuple of s from argv; scalars, bytes and string only. */
static int
ethtx_abi_values(const abi_sig *s, char **argv, int argc, abi_val *vals, uint8_t *store)
{
	const abi_type *root = &s->t[s->root];
	size_t used = 0;
	int k = 0;
	if (argc != root->ncomp)
		return ethtx_die("wrong number of arguments for", s->canon);
	abi_v_list(&vals[0], root->ncomp, (uint32_t)root->ncomp + 1);
	for (uint16_t c = root->first; c != ABI_NONE; c = s->t[c].next, k++) {
		const abi_type *t = &s->t[c];
		const char *a = argv[k];
		abi_val *v = &vals[k + 1];
		uint8_t tmp[32];
		size_t n;
		u256 u;
		switch (t->kind) {
		case ABI_UINT:
			if (ethtx_u256(a, &u))
				return ethtx_die("bad uint", a);
			abi_v_uint(v, &u);
			break;
		case ABI_INT:
			if ((a[0] == '-' ? i256_from_dec(&u, a, strlen(a)) : ethtx_u256(a, &u)))
				return ethtx_die("bad int", a);
			abi_v_uint(v, &u);
			v->kind = ABI_INT;
			break;
		case ABI_ADDRESS:
			if (hex_addr_parse(a, strlen(a), tmp) != HEX_OK)
				return ethtx_die("bad address", a);
			abi_v_address(v, tmp);
			break;
		case ABI_BOOL:
			if (strcmp(a, "true") && strcmp(a, "false"))
				return ethtx_die("bad bool", a);
			abi_v_bool(v, a[0] == 't');
			break;
		case ABI_FBYTES:
			if (hex_decode(a, strlen(a), HEX_PREFIX_REQUIRED, tmp, t->bits, &n, NULL) != HEX_OK)
				return ethtx_die("bad bytesN", a);
			abi_v_fbytes(v, tmp, n);
			break;
		case ABI_BYTES:
			if (hex_decode(a, strlen(a), HEX_PREFIX_REQUIRED, store + used, 4096 - used, &n, NULL))
				return ethtx_die("bad bytes", a);
			abi_v_bytes(v, store + used, n);
			used += n;
			break;
		case ABI_STRING:
			abi_v_bytes(v, (const uint8_t *)a, strlen(a));
			break;
		default:
			return ethtx_die("tuples and arrays are not supported on the command line", s->canon);
		}
	}
	return 0;
}

static int
ethtx_abi(int argc, char **argv, int with_selector)
{
	static uint8_t store[4096];
	abi_val vals[ABI_MAX_TYPES + 1];
	abi_sig s;
	size_t n, off;
	int rc;
	if (argc < 1)
		return ethtx_die("usage", "abi-encode SIG ARGS...");
	if ((rc = abi_parse_sig(&s, argv[0], &off)) != ABI_OK)
		return ethtx_die(abi_strerror(rc), argv[0]);
	if ((rc = ethtx_abi_values(&s, argv + 1, argc - 1, vals, store)))
		return rc;
	if ((rc = abi_encode(&s, vals, (size_t)argc, with_selector, ethtx_buf, sizeof ethtx_buf, &n)))
		return ethtx_die(abi_strerror(rc), NULL);
	ethtx_print_hex(ethtx_buf, n);
	return 0;
}

static int
ethtx_rlp_json(rlp_enc *e, const json_t *j, int depth)
{
	static uint8_t tmp[1 << 15];
	size_t n, i;
	json_t *x;
	if (depth > RLP_MAX_DEPTH)
		return -1;
	if (json_is_array(j)) {
		size_t m = rlp_list_begin(e);
		json_array_foreach(j, i, x) if (ethtx_rlp_json(e, x, depth + 1)) return -1;
		rlp_list_end(e, m);
		return 0;
	}
	if (!json_is_string(j))
		return -1;
	if (hex_decode(json_string_value(j), json_string_length(j), HEX_PREFIX_REQUIRED, tmp, sizeof tmp, &n, NULL) !=
	    HEX_OK)
		return -1;
	rlp_put_bytes(e, tmp, n);
	return 0;
}

static int
ethtx_to_rlp(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
	rlp_enc e;
	size_t n;
	if (!j)
		return ethtx_die("bad JSON", err.text);
	rlp_enc_init(&e, ethtx_buf, sizeof ethtx_buf);
	int bad = ethtx_rlp_json(&e, j, 0);
	json_decref(j);
	if (bad || rlp_enc_finish(&e, &n) != RLP_OK)
		return ethtx_die("bad RLP input", "want nested arrays of 0x-hex strings");
	ethtx_print_hex(ethtx_buf, n);
	return 0;
}

static int
ethtx_keccak(const char *a)
{
	uint8_t h[32];
	size_t n;
	if (a[0] == '0' && a[1] == 'x' && hex_decode(a, strlen(a), 0, ethtx_buf, sizeof ethtx_buf, &n, NULL) == HEX_OK)
		kec_256(ethtx_buf, n, h);
	else
		kec_256(a, strlen(a), h);
	ethtx_print_hex(h, 32);
	return 0;
}

/* Reads ETHTX_KEY into key; the environment copy is the caller's (the shell's) business. */
static int
ethtx_key(uint8_t key[32])
{
	const char *k = getenv("ETHTX_KEY");
	if (!k || hex_decode_exact(k, strlen(k), key, 32) != HEX_OK || rt_check_seckey(key) != 0) {
		ethtx_die(
		        "ETHTX_KEY must hold a valid secp256k1 private key (32 bytes of hex, not zero, below the curve "
		        "order)",
		        NULL);
		return RT_EXIT_CONFIG; /* a configuration error, as in every actor */
	}
	return 0;
}

static int
ethtx_address(void)
{
	uint8_t key[32], a[20];
	char s[43];
	int rc = ethtx_key(key);
	if (!rc && (rc = tx_address_from_key(key, a)) != TX_OK)
		rc = ethtx_die(tx_strerror(rc), NULL);
	explicit_bzero(key, sizeof key);
	if (rc)
		return rc;
	hex_addr_format(a, s);
	puts(s);
	return 0;
}

static int
ethtx_mktx(int argc, char **argv)
{
	static uint8_t store[4096], data[8192];
	abi_val vals[ABI_MAX_TYPES + 1];
	uint8_t key[32];
	tx t = { 0 };
	int i, rc, have_chain = 0, have_gas = 0;
	size_t n;
	t.type = TX_EIP1559;
	for (i = 0; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--legacy")) {
			t.type = TX_LEGACY;
			continue;
		}
		if (!v)
			return ethtx_die("missing value for", o);
		i++;
		if (!strcmp(o, "--chain"))
			rc = ethtx_u64(v, &t.chain_id), have_chain = 1;
		else if (!strcmp(o, "--nonce"))
			rc = ethtx_u64(v, &t.nonce);
		else if (!strcmp(o, "--gas-limit"))
			rc = ethtx_u64(v, &t.gas_limit), have_gas = 1;
		else if (!strcmp(o, "--gas-price"))
			rc = ethtx_u256(v, &t.gas_price), t.max_fee = t.gas_price;
		else if (!strcmp(o, "--priority-gas-price"))
			rc = ethtx_u256(v, &t.max_priority_fee);
		else if (!strcmp(o, "--value"))
			rc = ethtx_u256(v, &t.value);
		else
			return ethtx_usage_error("unknown option", o);
		if (rc)
			return ethtx_die("bad number for", o);
	}
	if (!have_chain || !have_gas || i >= argc)
		return ethtx_die("usage", "mktx [--legacy] --chain N --nonce N --gas-limit N --gas-price WEI "
		                          "[--priority-gas-price WEI] [--value WEI] TO [SIG [ARGS...]]");
	if (hex_addr_parse(argv[i], strlen(argv[i]), t.to) != HEX_OK)
		return ethtx_die("bad TO address", argv[i]);
	t.has_to = 1;
	if (++i < argc) {
		abi_sig s;
		size_t off;
		if ((rc = abi_parse_sig(&s, argv[i], &off)) != ABI_OK)
			return ethtx_die(abi_strerror(rc), argv[i]);
		if ((rc = ethtx_abi_values(&s, argv + i + 1, argc - i - 1, vals, store)))
			return rc;
		if ((rc = abi_encode(&s, vals, (size_t)(argc - i), 1, data, sizeof data, &t.data_len)))
			return ethtx_die(abi_strerror(rc), NULL);
		t.data = data;
	}
	if ((rc = ethtx_key(key)))
		return rc;
	rc = tx_sign(&t, key);
	explicit_bzero(key, sizeof key);
	if (rc || (rc = tx_encode(&t, ethtx_buf, sizeof ethtx_buf, &n)))
		return ethtx_die(tx_strerror(rc), NULL);
	ethtx_print_hex(ethtx_buf, n);
	return 0;
}

/* Reads all of stdin (at most cap bytes) into buf. */
static int
ethtx_read_stdin(char *buf, size_t cap, size_t *n)
{
	size_t r;
	*n = 0;
	while ((r = fread(buf + *n, 1, cap - *n, stdin)) > 0)
		if ((*n += r) == cap)
			return fgetc(stdin) == EOF ? 0 : -1;
	return ferror(stdin) ? -1 : 0;
}

static int
ethtx_decode(const char *cmd, int argc, char **argv)
{
	static uint8_t raw[DX_MAX_RAW];
	static char text[2 * DX_MAX_RAW + 4096]; /* 0x, digits, and room for surrounding whitespace */
	const char *in = NULL;
	char err[256];
	size_t n, tlen;
	int json = 0, rich = cmd[0] == 'i';
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (ethtx_is_help(argv[i])) {
			fputs(ethtx_usage_text, stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1])
			return ethtx_usage_error("unknown option", argv[i]);
		else if (in)
			return ethtx_usage_error("one raw transaction at a time, got another", argv[i]);
		else
			in = argv[i];
	}
	if (!in)
		return ethtx_usage_error("missing argument", "0xRAW or - (stdin)");
	if (!strcmp(in, "-")) {
		if (ethtx_read_stdin(text, sizeof text, &tlen)) {
			fprintf(stderr, "ethtx: %s: stdin: unreadable or longer than %zu characters\n", cmd,
			        sizeof text);
			return 1;
		}
	} else {
		tlen = strlen(in);
		if (tlen > sizeof text) {
			fprintf(stderr, "ethtx: %s: input longer than %u bytes\n", cmd, DX_MAX_RAW);
			return 1;
		}
		memcpy(text, in, tlen);
	}
	if (dx_parse_hex(text, tlen, raw, &n, err, sizeof err)) {
		fprintf(stderr, "ethtx: %s: %s\n", cmd, err);
		return 1;
	}
	json_t *view = dx_view(raw, n, rich, err, sizeof err);
	if (!view) {
		fprintf(stderr, "ethtx: %s: %s\n", cmd, err);
		return 1;
	}
	if (json) {
		json_dumpf(view, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		dx_print_text(view, stdout);
	}
	json_decref(view);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return ethtx_usage_error("missing command", NULL);
	const char *cmd = argv[1];
	if (ethtx_is_help(cmd) || !strcmp(cmd, "help")) {
		fputs(ethtx_usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		rt_version_print("ethtx", stdout);
		return 0;
	}
	/* "--" only ends options (as in cast: `-- -5` passes a negative number); drop it. */
	int w = 2;
	for (int r = 2; r < argc; r++)
		if (strcmp(argv[r], "--") != 0)
			argv[w++] = argv[r];
	argc = w;
	if (!strcmp(cmd, "decode") || !strcmp(cmd, "inspect"))
		return ethtx_decode(cmd, argc - 2, argv + 2);
	for (int i = 2; i < argc; i++)
		if (ethtx_is_help(argv[i])) {
			fputs(ethtx_usage_text, stdout);
			return 0;
		}
	if (!strcmp(cmd, "mktx"))
		return ethtx_mktx(argc - 2, argv + 2);
	if (!strcmp(cmd, "address"))
		return ethtx_address();
	if (!strcmp(cmd, "keccak") && argc == 3)
		return ethtx_keccak(argv[2]);
	if (!strcmp(cmd, "abi-encode"))
		return ethtx_abi(argc - 2, argv + 2, 0);
	if (!strcmp(cmd, "calldata"))
		return ethtx_abi(argc - 2, argv + 2, 1);
	if (!strcmp(cmd, "to-rlp") && argc == 3)
		return ethtx_to_rlp(argv[2]);
	return ethtx_usage_error("unknown command or wrong arguments", cmd);
}
