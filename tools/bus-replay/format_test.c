/*
 * format_test.c - unit tests of bus-replay's argument parsing and record rendering (format.c):
 * RFC 3339, relative and ns times (good and malformed), list lines and dump objects for a known
 * type, an unknown type, a known type whose body does not decode, a corrupt frame, and bytes that
 * are not UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus/frame.h"
#include "schemas/schema.h"
#include "tools/bus-replay/format.h"

#define T_2026 1795798800000000000ull /* 2026-11-27T17:00:00Z */

static void
test_rfc3339(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(rp_parse_time("2026-11-27T17:00:00Z", 0, &v), 0);
	assert_true(v == T_2026);
	assert_int_equal(rp_parse_time("2026-11-27t17:00:00.25z", 0, &v), 0);
	assert_true(v == T_2026 + 250000000u);
	assert_int_equal(rp_parse_time("2026-11-27 18:30:00.000000001+01:30", 0, &v), 0);
	assert_true(v == T_2026 + 1);
	assert_int_equal(rp_parse_time("2026-11-27T16:00:00-01:00", 0, &v), 0);
	assert_true(v == T_2026);
	/* digits beyond ns are accepted and dropped */
	assert_int_equal(rp_parse_time("2026-11-27T17:00:00.1234567899Z", 0, &v), 0);
	assert_true(v == T_2026 + 123456789u);

	static const char *bad[] = {
		"2026-11-27T17:00:00",                                  /* no zone */
		"2026-11-27T17:00Z",                                    /* no seconds */
		"2026-02-30T00:00:00Z",                                 /* no such day */
		"2026-13-01T00:00:00Z",                                 /* no such month */
		"2026-11-27T24:00:00Z",     "2026-11-27T17:00:00.Z",    /* empty fraction */
		"2026-11-27T17:00:00Zjunk", "2026-11-27T17:00:00+0100", /* offset needs a colon */
		"1969-12-31T23:59:59Z",                                 /* before the epoch */
		"+026-11-27T17:00:00Z",     "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 42;
		assert_int_equal(rp_parse_time(bad[i], 0, &v), -1);
		assert_true(v == 42);
	}
}

static void
test_relative_and_ns(void **state)
{
	(void)state;
	uint64_t now = T_2026, v = 0;
	assert_int_equal(rp_parse_time("-10m", now, &v), 0);
	assert_true(v == now - 600000000000ull);
	assert_int_equal(rp_parse_time("-2h", now, &v), 0);
	assert_true(v == now - 7200000000000ull);
	assert_int_equal(rp_parse_time("-500ms", now, &v), 0);
	assert_true(v == now - 500000000ull);
	assert_int_equal(rp_parse_time("-1d", now, &v), 0);
	assert_true(v == now - 86400000000000ull);
	assert_int_equal(rp_parse_time("-0s", now, &v), 0);
	assert_true(v == now);
	assert_int_equal(rp_parse_time("now", now, &v), 0);
	assert_true(v == now);
	assert_int_equal(rp_parse_time("1795798800000000000", now, &v), 0);
	assert_true(v == T_2026);

	static const char *bad[] = {
		"-10", "-10x", "-", "-m", "10m", "--1m", "-99999999d", "12a", "18446744073709551616", "-1.5h", " 5"
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(rp_parse_time(bad[i], now, &v), -1);

	double d;
	assert_int_equal(rp_parse_double("50", &d), 0);
	assert_true(d == 50);
	assert_int_equal(rp_parse_double("0.5", &d), 0);
	assert_int_equal(rp_parse_double("0", &d), -1);
	assert_int_equal(rp_parse_double("-1", &d), -1);
	assert_int_equal(rp_parse_double("nan", &d), -1);
	assert_int_equal(rp_parse_double("5/s", &d), -1);
}

static void
test_fmt_time(void **state)
{
	(void)state;
	char s[40];
	uint64_t v = 0;
	rp_fmt_time(T_2026 + 123456789u, s);
	assert_string_equal(s, "2026-11-27T17:00:00.123Z");
	assert_int_equal(rp_parse_rfc3339(s, &v), 0);
	assert_true(v == T_2026 + 123000000u);
	rp_fmt_time(0, s);
	assert_string_equal(s, "1970-01-01T00:00:00.000Z");
}

/* Encodes a frame with the given type, origin and body into buf; returns its length. */
static size_t
t_frame(uint8_t *buf, size_t cap, const char *type, const char *origin, const uint8_t *body, size_t blen)
{
	static const uint8_t id[16] = { 0xab, 0xcd, [15] = 1 };
	frame_fields f = {
		.topic = "price.obs.ETH-USD",
		.topic_len = 17,
		.type = type,
		.type_len = strlen(type),
		.id = id,
		.origin = origin,
		.origin_len = strlen(origin),
		.seq = 7,
		.ts_ns = T_2026,
		.body = body,
		.body_len = blen,
	};
	size_t signed_len;
	char err[128];
	size_t n = frame_encode(&f, buf, cap, &signed_len, err, sizeof err);
	assert_true(n > 0);
	return n;
}

/* Renders one list line into a string (the caller frees it). */
static char *
t_list(const jn_rec *rec)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	assert_non_null(f);
	rp_list_line(f, rec);
	fclose(f);
	return s;
}

static void
test_dump_known_type(void **state)
{
	(void)state;
	const sc_msgdef *def = sc_lookup("price.obs");
	assert_non_null(def);
	json_error_t jerr;
	json_t *in = json_loads("{\"feed\":\"ETH-USD\",\"source\":\"coinbase\",\"value\":\"312345670000\","
	                        "\"decimals\":8,\"source_ts_ms\":1732700000123,\"fetch_latency_us\":48211,"
	                        "\"observed_at_ns\":\"1732700000456789012\"}",
	                        0, &jerr);
	assert_non_null(in);
	void *rec = calloc(1, sc_size(def));
	sc_err se;
	assert_int_equal(sc_from_json(def, in, rec, &se), 0);
	uint8_t body[1024], buf[2048];
	size_t blen;
	assert_int_equal(sc_encode(def, rec, body, sizeof body, &blen, &se), 0);
	free(rec);

	jn_rec r = { .index = 3, .ts_ns = T_2026 + 5, .frame = buf };
	r.len = t_frame(buf, sizeof buf, "price.obs", "fetch-a", body, blen);
	json_t *o = rp_dump_obj(&r);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "index")), 3);
	/* ns timestamps are beyond 2^53: decimal strings, so jq and JavaScript read them exactly */
	char want[24];
	snprintf(want, sizeof want, "%llu", (unsigned long long)(T_2026 + 5));
	assert_string_equal(json_string_value(json_object_get(o, "recv_ts")), want);
	snprintf(want, sizeof want, "%llu", (unsigned long long)T_2026);
	assert_string_equal(json_string_value(json_object_get(o, "ts")), want);
	assert_string_equal(json_string_value(json_object_get(o, "topic")), "price.obs.ETH-USD");
	assert_string_equal(json_string_value(json_object_get(o, "id")), "0xabcd0000000000000000000000000001");
	assert_string_equal(json_string_value(json_object_get(o, "origin")), "fetch-a");
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 7);
	assert_true(json_is_false(json_object_get(o, "signed")));
	json_t *b = json_object_get(o, "body");
	assert_non_null(b);
	json_object_del(b, "v");
	assert_true(json_equal(b, in));
	assert_null(json_object_get(o, "body_hex"));
	json_decref(o);
	json_decref(in);

	char *line = t_list(&r);
	char idx[16], when[40], topic[64], type[40], origin[80];
	unsigned long long seq, size;
	assert_int_equal(
	        sscanf(line, "%15s %39s %63s %39s %79s %llu %llu", idx, when, topic, type, origin, &seq, &size), 7);
	assert_string_equal(idx, "3");
	assert_string_equal(when, "2026-11-27T17:00:00.000Z");
	assert_string_equal(topic, "price.obs.ETH-USD");
	assert_string_equal(type, "price.obs");
	assert_string_equal(origin, "fetch-a");
	assert_int_equal(seq, 7);
	assert_int_equal(size, r.len);
	free(line);
}

static void
test_dump_unknown_and_bad_body(void **state)
{
	(void)state;
	uint8_t buf[512];
	const uint8_t raw[] = { 0x00, 0xff, 0x10 };
	jn_rec r = { .index = 1, .ts_ns = 1, .frame = buf };

	r.len = t_frame(buf, sizeof buf, "blob.raw", "tester", raw, sizeof raw);
	json_t *o = rp_dump_obj(&r);
	assert_string_equal(json_string_value(json_object_get(o, "body_hex")), "0x00ff10");
	assert_null(json_object_get(o, "body"));
	assert_null(json_object_get(o, "body_error")); /* unknown type: nothing to complain about */
	json_decref(o);

	/* a known type whose body is not a valid price.obs says why */
	r.len = t_frame(buf, sizeof buf, "price.obs", "tester", raw, sizeof raw);
	o = rp_dump_obj(&r);
	assert_string_equal(json_string_value(json_object_get(o, "body_hex")), "0x00ff10");
	assert_non_null(json_string_value(json_object_get(o, "body_error")));
	assert_true(strlen(json_string_value(json_object_get(o, "body_error"))) > 0);
	json_decref(o);

	/* an origin outside the topic alphabet (here not even UTF-8) cannot be framed at all, so a
	 * journal never holds one: frame_encode refuses it, and frame_decode would too */
	frame_fields f = { .topic = "a.b",
		           .topic_len = 3,
		           .type = "blob.raw",
		           .type_len = 8,
		           .id = raw,
		           .origin = "bad\xff\xfeorigin",
		           .origin_len = 11,
		           .body = raw,
		           .body_len = 3 };
	uint8_t id16[16] = { 0 };
	f.id = id16;
	assert_int_equal(frame_encode(&f, buf, sizeof buf, NULL, NULL, 0), 0);
}

static void
test_corrupt_frame(void **state)
{
	(void)state;
	uint8_t buf[512];
	jn_rec r = { .index = 9, .ts_ns = T_2026, .frame = buf };
	size_t n = t_frame(buf, sizeof buf, "blob.raw", "tester", (const uint8_t *)"x", 1);
	buf[n] = 0xc0; /* a trailing byte: strict decoding refuses it */
	r.len = n + 1;

	json_t *o = rp_dump_obj(&r);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "index")), 9);
	const char *err = json_string_value(json_object_get(o, "error"));
	assert_non_null(err);
	assert_non_null(strstr(err, "trailing"));
	const char *hex = json_string_value(json_object_get(o, "hex"));
	assert_non_null(hex);
	assert_int_equal(strlen(hex), 2 + 2 * r.len);
	assert_string_equal(hex + 2 + 2 * n, "c0");
	assert_null(json_object_get(o, "topic"));
	json_decref(o);

	char *line = t_list(&r);
	assert_non_null(strstr(line, "price.obs.ETH-USD"));
	assert_non_null(strstr(line, "!error"));
	assert_non_null(strstr(line, "# "));
	free(line);

	/* not even a topic: the list line still has every column */
	const uint8_t junk[] = { 0x01, 0x02 };
	jn_rec r2 = { .index = 10, .ts_ns = T_2026, .frame = junk, .len = sizeof junk };
	line = t_list(&r2);
	assert_true(strncmp(line, "10       2026-11-27T17:00:00.000Z -", 35) == 0);
	free(line);
	o = rp_dump_obj(&r2);
	assert_string_equal(json_string_value(json_object_get(o, "hex")), "0x0102");
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_relative_and_ns),
		cmocka_unit_test(test_fmt_time),
		cmocka_unit_test(test_dump_known_type),
		cmocka_unit_test(test_dump_unknown_and_bad_body),
		cmocka_unit_test(test_corrupt_frame),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
