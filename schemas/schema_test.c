/* Unit tests of the schema engine and every message family:
 *  - golden vectors (schemas/vectors/<type>.json) both ways: hex decodes to a record whose JSON view
 *    equals "json"; "json" encodes to exactly "hex";
 *  - one vector's bytes rebuilt by hand from the msgpack spec, and one decoded with msgpack-c's own
 *    unpacker, as checks independent of the encoder under test;
 *  - a round trip of every family with every field filled to capacity (wire and JSON);
 *  - every kind of strict error, asserting the message names the field;
 *  - every prefix and many byte mutations of every vector decode or fail cleanly.
 * The vectors directory is $SCHEMAS_VECTORS, else schemas/vectors under the working directory (make
 * runs tests from the repo root), else next to this source file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <msgpack.h>

#include "schemas/messages.h"
#include "schemas/schema.h"
#include "schemas/schema_impl.h"

static char vec_dir[512];

static void
find_vec_dir(void)
{
	struct stat st;
	const char *env = getenv("SCHEMAS_VECTORS");
	if (env) {
		snprintf(vec_dir, sizeof vec_dir, "%s", env);
		return;
	}
	if (stat("schemas/vectors", &st) == 0) {
		snprintf(vec_dir, sizeof vec_dir, "schemas/vectors");
		return;
	}
	snprintf(vec_dir, sizeof vec_dir, "%s", __FILE__);
	char *slash = strrchr(vec_dir, '/');
	if (slash)
		snprintf(slash + 1, sizeof vec_dir - (size_t)(slash + 1 - vec_dir), "vectors");
}

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s);
	assert_true(n % 2 == 0 && n / 2 <= cap);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned b;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
	return n / 2;
}

static json_t *
load_vectors(const char *type)
{
	char path[640];
	json_error_t je;
	snprintf(path, sizeof path, "%s/%s.json", vec_dir, type);
	json_t *root = json_load_file(path, 0, &je);
	if (!root)
		fail_msg("%s: %s", path, je.text);
	assert_true(json_is_array(root) && json_array_size(root) >= 1);
	return root;
}

static uint8_t buf[SC_MAX_BODY + 16], buf2[SC_MAX_BODY + 16];

/* ---- golden vectors ---------------------------------------------------------------------------- */

static void
test_vectors_both_ways(void **st)
{
	(void)st;
	size_t nd;
	const sc_msgdef *const *all = sc_all(&nd);
	assert_int_equal(nd, 15); /* one per family; a new family needs its vector file */
	for (size_t di = 0; di < nd; di++) {
		const sc_msgdef *d = all[di];
		json_t *root = load_vectors(sc_type(d));
		size_t i;
		json_t *v;
		json_array_foreach(root, i, v)
		{
			sc_err e;
			const char *hex = json_string_value(json_object_get(v, "hex"));
			json_t *want = json_object_get(v, "json");
			assert_string_equal(json_string_value(json_object_get(v, "type")), sc_type(d));
			assert_non_null(hex);
			size_t n = unhex(hex, buf, sizeof buf);
			void *rec = malloc(sc_size(d)), *rec2 = malloc(sc_size(d));

			/* hex -> record -> JSON == "json" */
			if (sc_decode(d, buf, n, rec, &e))
				fail_msg("%s[%zu]: decode: %s", sc_type(d), i, e.text);
			json_t *got = sc_to_json(d, rec);
			if (!json_equal(got, want)) {
				char *g = json_dumps(got, JSON_SORT_KEYS);
				fail_msg("%s[%zu]: JSON view differs: %s", sc_type(d), i, g);
			}
			json_decref(got);

			/* "json" -> record -> bytes == hex */
			size_t len;
			if (sc_from_json(d, want, rec2, &e))
				fail_msg("%s[%zu]: from_json: %s", sc_type(d), i, e.text);
			assert_true(sc_equal(d, rec, rec2));
			assert_int_equal(sc_encode(d, rec2, buf2, sizeof buf2, &len, &e), 0);
			assert_int_equal(len, n);
			assert_memory_equal(buf2, buf, n);

			/* body_to_json agrees */
			got = sc_body_to_json(d, buf, n, &e);
			assert_true(json_equal(got, want));
			json_decref(got);
			free(rec);
			free(rec2);
		}
		json_decref(root);
	}
}

/* The second price.obs vector, written out by hand from the msgpack spec (not by msgpack-c). */
static void
test_vector_by_hand(void **st)
{
	(void)st;
	static const uint8_t want[] = {
		0x86,             /* fixmap, 6 entries */
		0xa1, 'v',  0x01, /* "v": 1 */
		0xa4, 'f',  'e',  'e',  'd',  0xa7, 'B',  'T',  'C',  '-',  'U',  'S',  'D',  0xa6, 's',
		'o',  'u',  'r',  'c',  'e',  0xa6, 'k',  'r',  'a',  'k',  'e',  'n',  0xa5, 'v',  'a',
		'l',  'u',  'e',  0xc4, 0x20, /* bin8, 32 bytes: int256 -1 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xa8, 'd',  'e',  'c',  'i',  'm',  'a',  'l',  's',  0x08, 0xae, 'o',  'b',
		's',  'e',  'r',  'v',  'e',  'd',  '_',  'a',  't',  '_',  'n',  's',  0x01,
	};
	json_t *root = load_vectors("price.obs");
	uint8_t got[256];
	size_t n = unhex(json_string_value(json_object_get(json_array_get(root, 1), "hex")), got, sizeof got);
	assert_int_equal(n, sizeof want);
	assert_memory_equal(got, want, n);
	json_decref(root);

	sc_price_obs o;
	sc_err e;
	assert_int_equal(sc_decode(&SC_PRICE_OBS, want, sizeof want, &o, &e), 0);
	assert_string_equal(o.feed, "BTC-USD");
	assert_true(i256_is_neg(&o.value));
	assert_true(o.decimals == 8 && o.observed_at_ns == 1 && o.source_ts_ms == 0);
}

/* The first price.obs vector read back with msgpack-c's unpacker: every key/value must agree
 * with the record our decoder produced. */
static void
test_vector_msgpack_c(void **st)
{
	(void)st;
	json_t *root = load_vectors("price.obs");
	size_t n = unhex(json_string_value(json_object_get(json_array_get(root, 0), "hex")), buf, sizeof buf);
	json_decref(root);
	sc_price_obs o;
	sc_err e;
	assert_int_equal(sc_decode(&SC_PRICE_OBS, buf, n, &o, &e), 0);

	msgpack_unpacked up;
	msgpack_unpacked_init(&up);
	size_t off = 0;
	assert_int_equal(msgpack_unpack_next(&up, (const char *)buf, n, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, n);
	msgpack_object m = up.data;
	assert_int_equal(m.type, MSGPACK_OBJECT_MAP);
	assert_int_equal(m.via.map.size, 8);
	int checked = 0;
	for (uint32_t i = 0; i < m.via.map.size; i++) {
		msgpack_object k = m.via.map.ptr[i].key, v = m.via.map.ptr[i].val;
		char key[32] = { 0 };
		assert_int_equal(k.type, MSGPACK_OBJECT_STR);
		memcpy(key, k.via.str.ptr, k.via.str.size < 31 ? k.via.str.size : 31);
		if (!strcmp(key, "feed") || !strcmp(key, "source")) {
			const char *s = !strcmp(key, "feed") ? o.feed : o.source;
			assert_int_equal(v.type, MSGPACK_OBJECT_STR);
			assert_int_equal(v.via.str.size, strlen(s));
			assert_memory_equal(v.via.str.ptr, s, v.via.str.size);
		} else if (!strcmp(key, "value")) {
			uint8_t be[32];
			u256_to_be(&o.value, be);
			assert_int_equal(v.type, MSGPACK_OBJECT_BIN);
			assert_int_equal(v.via.bin.size, 32);
			assert_memory_equal(v.via.bin.ptr, be, 32);
			/* 312345670000 = 0x48b940b170 */
			assert_true(u256_fits_u64(&o.value) && u256_low64(&o.value) == 312345670000ULL);
		} else {
			assert_int_equal(v.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
			uint64_t want = !strcmp(key, "v")                  ? 1
			                : !strcmp(key, "decimals")         ? o.decimals
			                : !strcmp(key, "source_ts_ms")     ? o.source_ts_ms
			                : !strcmp(key, "fetch_latency_us") ? o.fetch_latency_us
			                : !strcmp(key, "observed_at_ns")   ? o.observed_at_ns
			                                                   : 0xdead;
			assert_true(v.via.u64 == want);
		}
		checked++;
	}
	assert_int_equal(checked, 8);
	assert_true(o.observed_at_ns == 1732700000456789012ULL && o.source_ts_ms == 1732700000123ULL);
	msgpack_unpacked_destroy(&up);
}

/* ---- round trip of every family with every field at capacity ---------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t
rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

static void
fill_str(char *s, uint32_t cap, int token)
{
	static const char tok[] = "abcXYZ019._:/@+-";
	uint32_t n = cap, i = 0;
	while (i < n) {
		if (!token && i + 2 <= n && rnd() % 4 == 0) { /* a 2-byte UTF-8 character: "é" */
			s[i++] = (char)0xc3, s[i++] = (char)0xa9;
			continue;
		}
		s[i++] = tok[rnd() % (sizeof tok - 1)];
	}
	s[n] = 0;
}

static void
fill_rec(const sc_msgdef *d, void *rec)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const sc_field *f = &d->fields[i];
		char *p = (char *)rec + f->off;
		switch (f->kind) { /* test-only filler: a switch is clearer than a table here */
		case SC_U64: {
			uint64_t v = rnd();
			if (f->max)
				v %= f->max + 1;
			memcpy(p, &v, 8);
			break;
		}
		case SC_I64: {
			int64_t v = (int64_t)rnd();
			memcpy(p, &v, 8);
			break;
		}
		case SC_BOOL:
			*(bool *)p = true;
			break;
		case SC_STR:
			fill_str(p, f->cap, f->flags & SC_TOKEN);
			break;
		case SC_BYTES:
			for (uint32_t k = 0; k < f->cap; k++)
				p[k] = (char)rnd();
			*(uint32_t *)((char *)rec + f->aux_off) = f->cap;
			break;
		case SC_FIXED:
			for (uint32_t k = 0; k < f->cap; k++)
				p[k] = (char)(rnd() | 1);
			break;
		case SC_U256:
		case SC_I256:
			for (int k = 0; k < 4; k++)
				((u256 *)p)->w[k] = rnd();
			break;
		case SC_ENUM:
			*(int *)p = (int)(f->nnames - 1);
			break;
		case SC_LIST:
			for (uint32_t k = 0; k < f->cap; k++)
				fill_rec(f->sub, p + (size_t)k * f->sub->size);
			*(uint32_t *)((char *)rec + f->aux_off) = f->cap;
			break;
		case SC_MAP: {
			sc_kv *kv = (sc_kv *)p;
			for (uint32_t k = 0; k < f->cap; k++) {
				fill_str(kv[k].key, SC_KV_KEY_CAP, 1);
				kv[k].key[0] = 'k'; /* unique prefix: k + two letters */
				kv[k].key[1] = (char)('a' + k / 26);
				kv[k].key[2] = (char)('a' + k % 26);
				fill_str(kv[k].value, SC_KV_VALUE_CAP, 0);
			}
			*(uint32_t *)((char *)rec + f->aux_off) = f->cap;
			break;
		}
		}
	}
}

static void
test_roundtrip_full(void **st)
{
	(void)st;
	size_t nd;
	const sc_msgdef *const *all = sc_all(&nd);
	for (size_t di = 0; di < nd; di++) {
		const sc_msgdef *d = all[di];
		void *a = calloc(1, sc_size(d)), *b = malloc(sc_size(d)), *c = malloc(sc_size(d));
		sc_err e;
		size_t len, len2;
		fill_rec(d, a);
		if (sc_encode(d, a, buf, sizeof buf, &len, &e))
			fail_msg("%s: encode: %s", sc_type(d), e.text);
		if (sc_decode(d, buf, len, b, &e))
			fail_msg("%s: decode: %s", sc_type(d), e.text);
		assert_true(sc_equal(d, a, b));
		assert_int_equal(sc_encode(d, b, buf2, sizeof buf2, &len2, &e), 0);
		assert_int_equal(len, len2);
		assert_memory_equal(buf, buf2, len);
		json_t *j = sc_to_json(d, a);
		assert_non_null(j);
		if (sc_from_json(d, j, c, &e))
			fail_msg("%s: from_json: %s", sc_type(d), e.text);
		assert_true(sc_equal(d, a, c));
		/* through JSON text too, as another language would see it */
		char *txt = json_dumps(j, 0);
		json_t *j2 = json_loads(txt, 0, NULL);
		assert_int_equal(sc_from_json(d, j2, c, &e), 0);
		assert_true(sc_equal(d, a, c));
		free(txt);
		json_decref(j2);
		json_decref(j);
		/* a record differing in one field is not equal */
		memcpy(c, b, sc_size(d));
		((uint8_t *)c)[d->fields[0].off] ^= 1;
		assert_false(sc_equal(d, b, c));
		/* the empty record of a family with only optional fields zero still encodes "v" */
		/* too small a buffer fails cleanly */
		assert_int_equal(sc_encode(d, a, buf2, len - 1, &len2, &e), -1);
		assert_non_null(strstr(e.text, "does not fit"));
		free(a), free(b), free(c);
	}
}

/* ---- strict errors ----------------------------------------------------------------------------- */

typedef struct {
	msgpack_sbuffer sb;
	msgpack_packer pk;
} mb;

static void
mb_init(mb *m)
{
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
}
static void
mb_key(mb *m, const char *k)
{
	msgpack_pack_str(&m->pk, strlen(k));
	msgpack_pack_str_body(&m->pk, k, strlen(k));
}
static void
mb_str(mb *m, const char *k, const char *v)
{
	mb_key(m, k);
	mb_key(m, v);
}
static void
mb_u64(mb *m, const char *k, uint64_t v)
{
	mb_key(m, k);
	msgpack_pack_uint64(&m->pk, v);
}
static void
mb_bin(mb *m, const char *k, const void *p, size_t n)
{
	mb_key(m, k);
	msgpack_pack_bin(&m->pk, n);
	msgpack_pack_bin_body(&m->pk, p, n);
}

/* A price.obs body with its 6 required keys, minus `skip`, plus `extra` more entries that the
 * caller appends. */
static void
obs_body(mb *m, const char *skip, int extra)
{
	static const uint8_t val[32] = { [31] = 7 };
	mb_init(m);
	msgpack_pack_map(&m->pk, (size_t)(6 - (skip ? 1 : 0) + extra));
	if (!skip || strcmp(skip, "v"))
		mb_u64(m, "v", 1);
	if (!skip || strcmp(skip, "feed"))
		mb_str(m, "feed", "ETH-USD");
	if (!skip || strcmp(skip, "source"))
		mb_str(m, "source", "coinbase");
	if (!skip || strcmp(skip, "value"))
		mb_bin(m, "value", val, 32);
	if (!skip || strcmp(skip, "decimals"))
		mb_u64(m, "decimals", 8);
	if (!skip || strcmp(skip, "observed_at_ns"))
		mb_u64(m, "observed_at_ns", 5);
}

static void
expect_err(const sc_msgdef *d, mb *m, const char *want)
{
	sc_err e;
	void *rec = malloc(sc_size(d));
	int rc = sc_decode(d, (const uint8_t *)m->sb.data, m->sb.size, rec, &e);
	free(rec);
	msgpack_sbuffer_destroy(&m->sb);
	if (rc != -1)
		fail_msg("%s: decoded, expected error containing \"%s\"", sc_type(d), want);
	if (!strstr(e.text, want))
		fail_msg("%s: error \"%s\" does not contain \"%s\"", sc_type(d), e.text, want);
}

static void
test_strict_price_obs(void **st)
{
	(void)st;
	mb m;
	sc_price_obs o;
	sc_err e;

	obs_body(&m, NULL, 0); /* the baseline decodes */
	assert_int_equal(sc_decode(&SC_PRICE_OBS, (uint8_t *)m.sb.data, m.sb.size, &o, &e), 0);
	assert_true(u256_low64(&o.value) == 7 && o.decimals == 8);
	msgpack_sbuffer_destroy(&m.sb);

	obs_body(&m, "value", 1);
	mb_str(&m, "value", "7");
	expect_err(&SC_PRICE_OBS, &m, "value: expected bin(32), got str");
	obs_body(&m, "value", 1);
	mb_bin(&m, "value", "abc", 3);
	expect_err(&SC_PRICE_OBS, &m, "value: expected bin(32), got bin(3)");
	obs_body(&m, "feed", 1);
	mb_str(&m, "feed", "ETH-USD-ETH-USD-ETH-USD-ETH-USD-ETH-USD-ETH-USD-ETH-USD-ETH-USD-ETH-USD-ETH-USD-");
	expect_err(&SC_PRICE_OBS, &m, "feed: 80 bytes exceeds capacity 31");
	obs_body(&m, "source", 0);
	expect_err(&SC_PRICE_OBS, &m, "source: missing");
	obs_body(&m, "v", 0);
	expect_err(&SC_PRICE_OBS, &m, "v: missing");
	obs_body(&m, NULL, 1);
	mb_u64(&m, "foo", 1);
	expect_err(&SC_PRICE_OBS, &m, "unknown field 'foo'");
	obs_body(&m, "v", 1);
	mb_u64(&m, "v", 7);
	expect_err(&SC_PRICE_OBS, &m, "v: unsupported version 7");
	obs_body(&m, "v", 1);
	mb_str(&m, "v", "1");
	expect_err(&SC_PRICE_OBS, &m, "v: expected uint, got str");
	obs_body(&m, NULL, 0);
	msgpack_pack_nil(&m.pk);
	expect_err(&SC_PRICE_OBS, &m, "trailing bytes after body");
	obs_body(&m, NULL, 1);
	mb_str(&m, "feed", "BTC-USD");
	expect_err(&SC_PRICE_OBS, &m, "feed: duplicate key");
	obs_body(&m, NULL, 1);
	mb_u64(&m, "v", 1);
	expect_err(&SC_PRICE_OBS, &m, "v: duplicate key");
	obs_body(&m, "decimals", 1);
	mb_u64(&m, "decimals", 78);
	expect_err(&SC_PRICE_OBS, &m, "decimals: 78 exceeds maximum 77");
	obs_body(&m, "decimals", 1);
	mb_key(&m, "decimals");
	msgpack_pack_int64(&m.pk, -1);
	expect_err(&SC_PRICE_OBS, &m, "decimals: expected uint, got negative int");
	obs_body(&m, "decimals", 1);
	mb_key(&m, "decimals");
	msgpack_pack_double(&m.pk, 8.0);
	expect_err(&SC_PRICE_OBS, &m, "decimals: expected uint, got float");
	obs_body(&m, "feed", 1);
	mb_str(&m, "feed", "ETH USD");
	expect_err(&SC_PRICE_OBS, &m, "feed: must be non-empty and only");
	obs_body(&m, "feed", 1);
	mb_str(&m, "feed", "");
	expect_err(&SC_PRICE_OBS, &m, "feed: must be non-empty");
	obs_body(&m, "source", 1);
	mb_str(&m, "source", "\xc3\x28");
	expect_err(&SC_PRICE_OBS, &m, "source: not valid UTF-8");
	obs_body(&m, "source", 1);
	mb_key(&m, "source");
	msgpack_pack_nil(&m.pk);
	expect_err(&SC_PRICE_OBS, &m, "source: expected str, got nil");
	obs_body(&m, NULL, 1);
	msgpack_pack_uint8(&m.pk, 1);
	msgpack_pack_uint8(&m.pk, 1);
	expect_err(&SC_PRICE_OBS, &m, "map key at byte");
	mb_init(&m);
	msgpack_pack_array(&m.pk, 0);
	expect_err(&SC_PRICE_OBS, &m, "body: expected map, got array");

	/* empty and oversized bodies */
	assert_int_equal(sc_decode(&SC_PRICE_OBS, buf, 0, &o, &e), -1);
	assert_non_null(strstr(e.text, "body: empty"));
	assert_int_equal(sc_decode(&SC_PRICE_OBS, buf, SC_MAX_BODY + 1, &o, &e), -1);
	assert_non_null(strstr(e.text, "exceeds limit 65536"));
	/* a map header claiming far more entries than there are bytes */
	static const uint8_t huge[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'v', 0x01 };
	assert_int_equal(sc_decode(&SC_PRICE_OBS, huge, sizeof huge, &o, &e), -1);
	assert_non_null(strstr(e.text, "body: truncated"));
	/* a string header claiming 4 GiB */
	static const uint8_t bigstr[] = { 0x81, 0xdb, 0xff, 0xff, 0xff, 0xff, 'v' };
	assert_int_equal(sc_decode(&SC_PRICE_OBS, bigstr, sizeof bigstr, &o, &e), -1);
	/* the reserved byte 0xc1 */
	static const uint8_t reserved[] = { 0x81, 0xa1, 'v', 0xc1 };
	assert_int_equal(sc_decode(&SC_PRICE_OBS, reserved, sizeof reserved, &o, &e), -1);
	assert_non_null(strstr(e.text, "v: truncated or malformed value at byte 3"));
}

static void
test_strict_other_families(void **st)
{
	(void)st;
	static const uint8_t h32[32] = { 1 }, id16[16] = { 2 }, a20[20] = { 3 }, z32[32] = { 0 };
	mb m;

	/* tx.ack: a fixed-length field of the wrong length */
	mb_init(&m);
	msgpack_pack_map(&m.pk, 4);
	mb_u64(&m, "v", 1);
	mb_bin(&m, "id", id16, 16);
	mb_bin(&m, "tx_hash", h32, 31);
	mb_u64(&m, "received_at_ns", 1);
	expect_err(&SC_TX_ACK, &m, "tx_hash: expected bin(32), got bin(31)");
	mb_init(&m);
	msgpack_pack_map(&m.pk, 3);
	mb_u64(&m, "v", 1);
	mb_bin(&m, "tx_hash", h32, 32);
	mb_u64(&m, "received_at_ns", 1);
	expect_err(&SC_TX_ACK, &m, "id: missing");

	/* price.update: an unknown enum value */
	mb_init(&m);
	msgpack_pack_map(&m.pk, 8);
	mb_u64(&m, "v", 1);
	mb_str(&m, "feed", "ETH-USD");
	mb_bin(&m, "answer", z32, 32);
	mb_u64(&m, "decimals", 8);
	mb_str(&m, "reason", "whim");
	mb_u64(&m, "chain_id", 1);
	mb_bin(&m, "contract", a20, 20);
	mb_u64(&m, "decided_at_ns", 1);
	expect_err(&SC_PRICE_UPDATE, &m, "reason: unknown value 'whim'");

	/* price.agg: an error inside a list element names the element */
	mb_init(&m);
	msgpack_pack_map(&m.pk, 8);
	mb_u64(&m, "v", 1);
	mb_str(&m, "feed", "ETH-USD");
	mb_bin(&m, "median", z32, 32);
	mb_u64(&m, "decimals", 8);
	mb_key(&m, "used");
	msgpack_pack_array(&m.pk, 2);
	msgpack_pack_map(&m.pk, 3);
	mb_str(&m, "source", "a");
	mb_bin(&m, "value", z32, 32);
	mb_u64(&m, "observed_at_ns", 1);
	msgpack_pack_map(&m.pk, 3);
	mb_str(&m, "source", "b");
	mb_str(&m, "value", "1");
	mb_u64(&m, "observed_at_ns", 1);
	mb_u64(&m, "spread_ppm", 0);
	mb_u64(&m, "oldest_observed_at_ns", 0);
	mb_u64(&m, "aggregated_at_ns", 0);
	expect_err(&SC_PRICE_AGG, &m, "used[1].value: expected bin(32), got str");
	mb_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mb_u64(&m, "v", 1);
	mb_key(&m, "used");
	msgpack_pack_array(&m.pk, 17);
	for (int i = 0; i < 17; i++)
		msgpack_pack_nil(&m.pk);
	expect_err(&SC_PRICE_AGG, &m, "used: 17 elements exceeds capacity 16");
	mb_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mb_u64(&m, "v", 1);
	mb_key(&m, "used");
	msgpack_pack_array(&m.pk, 1);
	msgpack_pack_map(&m.pk, 1);
	mb_u64(&m, "v", 1);
	expect_err(&SC_PRICE_AGG, &m, "used[0].unknown field 'v'"); /* elements carry no version */

	/* ccip.msg: a byte field over capacity */
	static uint8_t big[1025];
	mb_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mb_u64(&m, "v", 1);
	mb_bin(&m, "return_data", big, 1025);
	expect_err(&SC_CCIP_MSG, &m, "return_data: 1025 bytes exceeds capacity 1024");
	mb_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mb_u64(&m, "v", 1);
	mb_str(&m, "ccip_version", "1.7");
	expect_err(&SC_CCIP_MSG, &m, "ccip_version: unknown value '1.7'");

	/* alert: labels */
	mb_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mb_u64(&m, "v", 1);
	mb_key(&m, "labels");
	msgpack_pack_map(&m.pk, 2);
	mb_str(&m, "lane", "a");
	mb_str(&m, "lane", "b");
	expect_err(&SC_ALERT, &m, "labels: duplicate key 'lane'");
	mb_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mb_u64(&m, "v", 1);
	mb_key(&m, "labels");
	msgpack_pack_map(&m.pk, 1);
	mb_key(&m, "lane");
	msgpack_pack_uint8(&m.pk, 1);
	expect_err(&SC_ALERT, &m, "labels: expected str values, got uint");
	mb_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mb_u64(&m, "v", 1);
	mb_key(&m, "labels");
	msgpack_pack_map(&m.pk, 17);
	for (int i = 0; i < 17; i++) {
		char k[4] = { 'k', (char)('a' + i), 0, 0 };
		mb_str(&m, k, "x");
	}
	expect_err(&SC_ALERT, &m, "labels: 17 entries exceeds capacity 16");

	/* gas.quote: bool */
	mb_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mb_u64(&m, "v", 1);
	mb_u64(&m, "eip1559", 1);
	expect_err(&SC_GAS_QUOTE, &m, "eip1559: expected bool, got uint");
}

static void
test_strict_json(void **st)
{
	(void)st;
	static const struct {
		const char *type, *json, *want;
	} cases[] = {
		{ "price.obs", "{\"feed\":\"ETH-USD\",\"source\":\"x\",\"value\":\"1\",\"decimals\":8}",
		  "observed_at_ns: missing" },
		{ "price.obs",
		  "{\"feed\":\"ETH-USD\",\"source\":\"x\",\"value\":1.5,\"decimals\":8,\"observed_at_ns\":1}",
		  "value: expected a decimal string" },
		{ "price.obs",
		  "{\"feed\":\"ETH-USD\",\"source\":\"x\",\"value\":\"01\",\"decimals\":8,\"observed_at_ns\":1}",
		  "value: not a canonical decimal int256" },
		{ "price.obs", "{\"foo\":1}", "unknown field 'foo'" },
		{ "price.obs", "{\"v\":2}", "v: unsupported version" },
		{ "price.obs", "{\"decimals\":-1}", "decimals: expected a non-negative integer" },
		{ "price.obs", "{\"decimals\":\"18446744073709551616\"}", "decimals: not a decimal uint64" },
		{ "tx.ack", "{\"id\":\"0x00\"}", "id: expected exactly 16 bytes, got 1" },
		{ "tx.ack", "{\"id\":\"00000000000000000000000000000000\"}", "id: expected \"0x\"" },
		{ "tx.ack", "{\"id\":\"0x0000000000000000000000000000000g\"}", "id: invalid hex digit" },
		{ "tx.request", "{\"value\":\"-1\"}", "value: not a canonical decimal uint256" },
		{ "tx.request", "{\"value\":-1}", "value: negative value for uint256" },
		{ "price.update", "{\"reason\":\"whim\"}", "reason: unknown value 'whim'" },
		{ "gas.quote", "{\"eip1559\":1}", "eip1559: expected true or false" },
		{ "alert", "{\"labels\":{\"a\":1}}", "labels.a: expected a string" },
		{ "alert", "{\"labels\":[]}", "labels: expected an object" },
		{ "price.agg", "{\"used\":[{\"source\":\"a\",\"value\":\"1\"}]}", "used[0].observed_at_ns: missing" },
		{ "price.obs", "[]", "body: expected a JSON object" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const sc_msgdef *d = sc_lookup(cases[i].type);
		json_error_t je;
		json_t *j = json_loads(cases[i].json, 0, &je);
		sc_err e;
		void *rec = malloc(sc_size(d));
		assert_non_null(j);
		int rc = sc_from_json(d, j, rec, &e);
		if (rc != -1 || !strstr(e.text, cases[i].want))
			fail_msg("case %zu: rc %d error \"%s\", want \"%s\"", i, rc, rc ? e.text : "", cases[i].want);
		json_decref(j);
		free(rec);
	}
	/* U64 above 2^53 is a decimal string in JSON, and accepted back */
	sc_price_obs o = { .feed = "ETH-USD", .source = "x", .decimals = 8, .observed_at_ns = 9007199254740993ULL };
	json_t *j = sc_to_json(&SC_PRICE_OBS, &o);
	assert_string_equal(json_string_value(json_object_get(j, "observed_at_ns")), "9007199254740993");
	assert_true(json_integer_value(json_object_get(j, "decimals")) == 8);
	sc_price_obs back;
	sc_err e;
	assert_int_equal(sc_from_json(&SC_PRICE_OBS, j, &back, &e), 0);
	assert_true(back.observed_at_ns == 9007199254740993ULL);
	json_decref(j);
}

static void
test_encode_rejects_invalid(void **st)
{
	(void)st;
	sc_err e;
	size_t len;
	sc_price_update u = { .feed = "ETH-USD", .decimals = 8, .reason = 3, .chain_id = 1 };
	assert_int_equal(sc_encode(&SC_PRICE_UPDATE, &u, buf, sizeof buf, &len, &e), -1);
	assert_non_null(strstr(e.text, "reason: value 3 out of range"));
	sc_price_obs o = { .source = "x", .decimals = 8 };
	assert_int_equal(sc_encode(&SC_PRICE_OBS, &o, buf, sizeof buf, &len, &e), -1);
	assert_non_null(strstr(e.text, "feed: must not be empty"));
	memset(o.feed, 'A', sizeof o.feed); /* no NUL within the capacity */
	assert_int_equal(sc_encode(&SC_PRICE_OBS, &o, buf, sizeof buf, &len, &e), -1);
	assert_non_null(strstr(e.text, "feed: not NUL-terminated"));
	sc_tx_request r = { .chain_id = 1, .data_len = SC_CALLDATA_CAP + 1 };
	assert_int_equal(sc_encode(&SC_TX_REQUEST, &r, buf, sizeof buf, &len, &e), -1);
	assert_non_null(strstr(e.text, "data: length 2049 exceeds capacity 2048"));
	/* optional zero fields are left out: a minimal price.obs has exactly 6 keys */
	sc_price_obs min = { .feed = "ETH-USD", .source = "x", .decimals = 8 };
	assert_int_equal(sc_encode(&SC_PRICE_OBS, &min, buf, sizeof buf, &len, &e), 0);
	assert_int_equal(buf[0], 0x86);
	assert_int_equal(buf[1], 0xa1);
	assert_int_equal(buf[2], 'v');
}

/* ---- robustness: prefixes and mutations of every vector --------------------------------------- */

static void
test_mutations(void **st)
{
	(void)st;
	size_t nd;
	const sc_msgdef *const *all = sc_all(&nd);
	long decoded = 0, rejected = 0;
	for (size_t di = 0; di < nd; di++) {
		const sc_msgdef *d = all[di];
		json_t *root = load_vectors(sc_type(d));
		void *rec = malloc(sc_size(d)), *rec2 = malloc(sc_size(d));
		size_t i;
		json_t *v;
		json_array_foreach(root, i, v)
		{
			static uint8_t orig[SC_MAX_BODY];
			size_t n = unhex(json_string_value(json_object_get(v, "hex")), orig, sizeof orig);
			sc_err e;
			for (size_t k = 0; k < n; k++) { /* every strict prefix fails */
				assert_int_equal(sc_decode(d, orig, k, rec, &e), -1);
				assert_true(e.text[0] != 0);
			}
			for (size_t k = 0; k < n; k++) {
				static const uint8_t subst[] = { 0x00, 0x01, 0x7f, 0x80, 0xc0, 0xc1,
					                         0xc4, 0xd9, 0xdc, 0xde, 0xff };
				for (size_t s = 0; s < sizeof subst; s++) {
					memcpy(buf, orig, n);
					buf[k] = subst[s];
					if (sc_decode(d, buf, n, rec, &e) == 0) {
						size_t len;
						decoded++;
						assert_int_equal(sc_encode(d, rec, buf2, sizeof buf2, &len, &e), 0);
						assert_int_equal(sc_decode(d, buf2, len, rec2, &e), 0);
						assert_true(sc_equal(d, rec, rec2));
					} else {
						rejected++;
						assert_true(e.text[0] != 0);
					}
				}
			}
		}
		free(rec), free(rec2);
		json_decref(root);
	}
	assert_true(decoded > 0 && rejected > 0);
}

static void
test_lookup(void **st)
{
	(void)st;
	assert_ptr_equal(sc_lookup("price.obs"), &SC_PRICE_OBS);
	assert_ptr_equal(sc_lookup("token.result"), &SC_TOKEN_RESULT);
	assert_ptr_equal(sc_lookup("signer.lease"), &SC_SIGNER_LEASE);
	assert_null(sc_lookup("price"));
	assert_null(sc_lookup(NULL));
	assert_int_equal(sc_size(&SC_PRICE_OBS), sizeof(sc_price_obs));
	assert_string_equal(sc_enum_name(&SC_TX_STATUS, "state", SC_TX_REORGED), "reorged");
	assert_string_equal(sc_enum_name(&SC_CCIP_MSG, "ccip_version", SC_CCIP_V1_6), "1.6");
	assert_null(sc_enum_name(&SC_ALERT, "severity", 4));
	/* descriptor sanity: every field lies inside its struct, names are unique, <= 64 fields */
	size_t nd;
	const sc_msgdef *const *all = sc_all(&nd);
	for (size_t di = 0; di < nd; di++) {
		const sc_msgdef *d = all[di];
		assert_true(d->nfields <= 64 && d->version >= d->min_version && d->version >= 1);
		for (size_t i = 0; i < d->nfields; i++) {
			const sc_field *f = &d->fields[i];
			assert_true(f->off < d->size);
			if (f->kind == SC_LIST)
				assert_true(f->off + (size_t)f->cap * f->sub->size <= d->size);
			for (size_t k = 0; k < i; k++)
				assert_string_not_equal(f->name, d->fields[k].name);
		}
	}
}

int
main(void)
{
	find_vec_dir();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_vectors_both_ways),
		cmocka_unit_test(test_vector_by_hand),
		cmocka_unit_test(test_vector_msgpack_c),
		cmocka_unit_test(test_roundtrip_full),
		cmocka_unit_test(test_strict_price_obs),
		cmocka_unit_test(test_strict_other_families),
		cmocka_unit_test(test_strict_json),
		cmocka_unit_test(test_encode_rejects_invalid),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
