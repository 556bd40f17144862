/* Unit tests for frame_json: the envelope and body of a frame as JSON, integers beyond 2^53 as
 * decimal strings (exact for jq and JavaScript), bytes as 0x-hex, undecodable bodies as hex with the
 * reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bus/frame_json.h"
#include "schemas/schema.h"

static const uint8_t t_id[16] = { 0xab, 0xcd, [15] = 0x01 };

static size_t
t_frame(uint8_t *buf, size_t cap, const char *type, uint64_t seq, uint64_t ts, const uint8_t *body, size_t blen,
        frame_view *v)
{
	frame_fields f = { .topic = "price.obs.ETH-USD",
		           .topic_len = 17,
		           .type = type,
		           .type_len = strlen(type),
		           .id = t_id,
		           .origin = "fetch-a",
		           .origin_len = 7,
		           .seq = seq,
		           .ts_ns = ts,
		           .body = body,
		           .body_len = blen };
	size_t signed_len;
	char err[128];
	size_t n = frame_encode(&f, buf, cap, &signed_len, err, sizeof err);
	assert_true(n > 0);
	assert_int_equal(frame_decode(buf, n, v, err, sizeof err), 0);
	return n;
}

static void
test_u64(void **state)
{
	(void)state;
	struct {
		uint64_t v;
		const char *want;
	} c[] = {
		{ 0, "0" },
		{ 9007199254740991ull, "9007199254740991" },
		{ 9007199254740992ull, "9007199254740992" },     /* 2^53: still exact as a double */
		{ 9007199254740993ull, "\"9007199254740993\"" }, /* 2^53+1: a double would say ...992 */
		{ 18446744073709551615ull, "\"18446744073709551615\"" },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		json_t *j = frame_json_u64(c[i].v);
		char *s = json_dumps(j, JSON_ENCODE_ANY);
		assert_string_equal(s, c[i].want);
		free(s);
		json_decref(j);
	}
	json_t *h = frame_json_hex((const uint8_t *)"\x00\xff\x10", 3);
	assert_string_equal(json_string_value(h), "0x00ff10");
	json_decref(h);
	h = frame_json_hex(NULL, 0);
	assert_string_equal(json_string_value(h), "0x");
	json_decref(h);
}

static void
test_frame(void **state)
{
	(void)state;
	const sc_msgdef *def = sc_lookup("price.obs");
	json_error_t jerr;
	json_t *in =
	        json_loads("{\"feed\":\"ETH-USD\",\"source\":\"coinbase\",\"value\":\"312345670000\",\"decimals\":8,"
	                   "\"observed_at_ns\":\"18446744073709551615\"}",
	                   0, &jerr);
	assert_non_null(in);
	void *rec = calloc(1, sc_size(def));
	sc_err se;
	uint8_t body[512], buf[1024];
	size_t blen;
	assert_int_equal(sc_from_json(def, in, rec, &se), 0);
	assert_int_equal(sc_encode(def, rec, body, sizeof body, &blen, &se), 0);
	free(rec);

	frame_view v;
	t_frame(buf, sizeof buf, "price.obs", 9007199254740993ull, 1764979200123456789ull, body, blen, &v);
	json_t *o = json_object();
	assert_int_equal(frame_json_add(o, &v), 0);
	assert_string_equal(json_string_value(json_object_get(o, "topic")), "price.obs.ETH-USD");
	assert_string_equal(json_string_value(json_object_get(o, "type")), "price.obs");
	assert_string_equal(json_string_value(json_object_get(o, "id")), "0xabcd0000000000000000000000000001");
	assert_string_equal(json_string_value(json_object_get(o, "origin")), "fetch-a");
	assert_string_equal(json_string_value(json_object_get(o, "seq")), "9007199254740993");
	assert_string_equal(json_string_value(json_object_get(o, "ts")), "1764979200123456789");
	assert_true(json_is_false(json_object_get(o, "signed")));
	assert_null(json_object_get(o, "key"));
	json_t *b = json_object_get(o, "body");
	assert_string_equal(json_string_value(json_object_get(b, "observed_at_ns")), "18446744073709551615");
	assert_int_equal(json_integer_value(json_object_get(b, "decimals")), 8);
	assert_null(json_object_get(o, "body_hex"));
	json_decref(o);
	json_decref(in);

	/* a small seq stays a number; no window for a frame without a proof */
	t_frame(buf, sizeof buf, "price.obs", 7, 1, body, blen, &v);
	o = json_object();
	assert_int_equal(frame_json_add(o, &v), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 7);
	assert_int_equal(json_integer_value(json_object_get(o, "ts")), 1);
	assert_null(json_object_get(o, "window"));
	json_decref(o);
}

/* A frame signed as part of a window shows its place: index, count and the sibling hashes. (The
 * signature here is arbitrary bytes: the JSON view shows, it does not verify.) */
static void
test_window(void **state)
{
	(void)state;
	uint8_t buf[1024], key[32], sig[64], path[64];
	frame_fields f = { .topic = "price.obs.ETH-USD",
		           .topic_len = 17,
		           .type = "nosuch.type",
		           .type_len = 11,
		           .id = t_id,
		           .origin = "fetch-a",
		           .origin_len = 7,
		           .seq = 1,
		           .ts_ns = 2,
		           .body = (const uint8_t *)"b",
		           .body_len = 1 };
	size_t sl;
	char err[128];
	assert_true(frame_encode(&f, buf, sizeof buf, &sl, err, sizeof err) > 0);
	memset(key, 0x11, 32);
	memset(sig, 0x22, 64);
	memset(path, 0xaa, 32);
	memset(path + 32, 0xbb, 32);
	frame_window_begin(buf, f.topic_len);
	size_t n = frame_attach_proof(buf, sl, key, sig, 1, 3, path, 64);
	frame_view v;
	assert_int_equal(frame_decode(buf, n, &v, err, sizeof err), 0);
	json_t *o = json_object();
	assert_int_equal(frame_json_add(o, &v), 0);
	assert_true(json_is_true(json_object_get(o, "signed")));
	json_t *w = json_object_get(o, "window");
	assert_non_null(w);
	assert_int_equal(json_integer_value(json_object_get(w, "index")), 1);
	assert_int_equal(json_integer_value(json_object_get(w, "count")), 3);
	json_t *p = json_object_get(w, "path");
	assert_int_equal(json_array_size(p), 2);
	assert_string_equal(json_string_value(json_array_get(p, 0)),
	                    "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_string_equal(json_string_value(json_array_get(p, 1)),
	                    "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	json_decref(o);
}

static void
test_bodies_that_do_not_decode(void **state)
{
	(void)state;
	const uint8_t raw[] = { 0x00, 0xff, 0x10 };
	uint8_t buf[512];
	frame_view v;
	t_frame(buf, sizeof buf, "blob.raw", 1, 1, raw, sizeof raw, &v);
	json_t *o = json_object();
	assert_int_equal(frame_json_add(o, &v), 0);
	assert_string_equal(json_string_value(json_object_get(o, "body_hex")), "0x00ff10");
	assert_null(json_object_get(o, "body"));
	assert_null(json_object_get(o, "body_error")); /* unknown type: nothing to complain about */
	json_decref(o);

	t_frame(buf, sizeof buf, "price.obs", 1, 1, raw, sizeof raw, &v);
	o = json_object();
	assert_int_equal(frame_json_add(o, &v), 0);
	assert_string_equal(json_string_value(json_object_get(o, "body_hex")), "0x00ff10");
	assert_true(strlen(json_string_value(json_object_get(o, "body_error"))) > 0);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_bodies_that_do_not_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
