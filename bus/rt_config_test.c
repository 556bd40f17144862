/* Unit tests for rt_config: every type, every error message, all errors at once, secrets never
 * echoed, defaults, usage table, and the optional JSON config file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/rt_config.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void clear_env(void)
{
	static const char *names[] = { "T_STR", "T_I64", "T_U64", "T_BOOL", "T_DUR", "T_PPM", "T_DBL", "T_LIST",
		                       "T_HEX", "T_KEY", "T_REQ", "T_FILE" };
	for (size_t i = 0; i < N(names); i++)
		unsetenv(names[i]);
}

static void test_every_type_ok(void **state)
{
	clear_env();
	const char *s = NULL;
	int64_t i = 0;
	uint64_t u = 0, d = 0, p = 0;
	bool b = false;
	double x = 0;
	rt_strlist l = { 0 };
	uint8_t h[4] = { 0 };
	rt_opt o[] = {
		{ "T_STR", RT_STR, NULL, "s", &s, 0, 0, 0, 0 },
		{ "T_I64", RT_I64, NULL, "i", &i, -10, 10, 0, 0 },
		{ "T_U64", RT_U64, NULL, "u", &u, 0, 0, 0, 0 },
		{ "T_BOOL", RT_BOOL, NULL, "b", &b, 0, 0, 0, 0 },
		{ "T_DUR", RT_DURATION, NULL, "d", &d, 0, 0, 0, 0 },
		{ "T_PPM", RT_PPM, NULL, "p", &p, 0, 0, 0, 0 },
		{ "T_DBL", RT_DOUBLE, NULL, "x", &x, 0, 0, 0, 0 },
		{ "T_LIST", RT_LIST, NULL, "l", &l, 0, 0, 3, 0 },
		{ "T_HEX", RT_HEX, NULL, "h", h, 0, 0, 4, 0 },
	};
	setenv("T_STR", "http://x:8545", 1);
	setenv("T_I64", "-7", 1);
	setenv("T_U64", "18446744073709551615", 1);
	setenv("T_BOOL", "Yes", 1);
	setenv("T_DUR", "2m", 1);
	setenv("T_PPM", "0.5", 1);
	setenv("T_DBL", "2.5e-3", 1);
	setenv("T_LIST", " a , b,c ", 1);
	setenv("T_HEX", "0xDeadBeef", 1);
	char err[512];
	assert_int_equal(rt_config_load(o, N(o), err, sizeof err), 0);
	assert_string_equal(err, "");
	assert_string_equal(s, "http://x:8545");
	assert_int_equal(i, -7);
	assert_true(u == UINT64_MAX);
	assert_true(b);
	assert_int_equal(d, 120000);
	assert_int_equal(p, 5000);
	assert_true(x == 2.5e-3);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "a");
	assert_string_equal(l.v[1], "b");
	assert_string_equal(l.v[2], "c");
	const uint8_t want[4] = { 0xde, 0xad, 0xbe, 0xef };
	assert_memory_equal(h, want, 4);
	rt_config_free(o, N(o));
	assert_null(l.mem);
	clear_env();
}

static void test_parsers(void **state)
{
	static const struct {
		const char *in;
		int ok;
		uint64_t ms;
	} dur[] = { { "30", 1, 30000 }, { "30s", 1, 30000 }, { "500ms", 1, 500 }, { "2m", 1, 120000 },
		    { "1h", 1, 3600000 }, { "0", 1, 0 }, { "", 0, 0 }, { "s", 0, 0 }, { "1.5s", 0, 0 },
		    { "-1s", 0, 0 }, { "10x", 0, 0 }, { " 1s", 0, 0 }, { "99999999999999999999", 0, 0 },
		    { "18446744073709551615h", 0, 0 } };
	for (size_t k = 0; k < N(dur); k++) {
		uint64_t v = 0;
		int rc = rt_parse_duration_ms(dur[k].in, &v);
		assert_int_equal(rc == 0, dur[k].ok);
		if (dur[k].ok)
			assert_int_equal(v, dur[k].ms);
	}
	static const struct {
		const char *in;
		int ok;
		uint64_t ppm;
	} pp[] = { { "0.5", 1, 5000 }, { "1", 1, 10000 }, { "1%", 1, 10000 }, { "12.3456", 1, 123456 },
		   { "0.0001", 1, 1 }, { "0.00010", 1, 1 }, { "100", 1, 1000000 }, { "0.00001", 0, 0 },
		   { ".5", 0, 0 }, { "5.", 0, 0 }, { "-1", 0, 0 }, { "1e2", 0, 0 }, { "abc", 0, 0 },
		   { "1%%", 0, 0 } };
	for (size_t k = 0; k < N(pp); k++) {
		uint64_t v = 0;
		int rc = rt_parse_ppm(pp[k].in, &v);
		assert_int_equal(rc == 0, pp[k].ok);
		if (pp[k].ok)
			assert_int_equal(v, pp[k].ppm);
	}
	uint8_t h[2] = { 0x11, 0x22 };
	assert_int_equal(rt_parse_hex("0xabc", h, 2), -1);
	assert_int_equal(rt_parse_hex("abzz", h, 2), -1);
	assert_int_equal(h[0], 0x11); /* untouched on error */
	assert_int_equal(rt_parse_hex("ABcd", h, 2), 0);
	assert_int_equal(h[0], 0xab);
	assert_int_equal(h[1], 0xcd);
}

/* Every error message, all reported in one call, in table order. */
static void test_all_errors_at_once(void **state)
{
	clear_env();
	const char *s = "untouched";
	int64_t i = 99;
	uint64_t u = 0, d = 0, p = 0;
	bool b = false;
	double x = 0;
	rt_strlist l = { 0 };
	uint8_t h[20];
	rt_opt o[] = {
		{ "T_REQ", RT_STR, NULL, "the node URL", &s, 0, 0, 0, RT_REQUIRED },
		{ "T_I64", RT_I64, NULL, "i", &i, 1, 3, 0, 0 },
		{ "T_U64", RT_U64, NULL, "u", &u, 0, 0, 0, 0 },
		{ "T_BOOL", RT_BOOL, NULL, "b", &b, 0, 0, 0, 0 },
		{ "T_DUR", RT_DURATION, NULL, "d", &d, 0, 0, 0, 0 },
		{ "T_PPM", RT_PPM, NULL, "p", &p, 0, 0, 0, 0 },
		{ "T_DBL", RT_DOUBLE, NULL, "x", &x, 0, 0, 0, 0 },
		{ "T_LIST", RT_LIST, NULL, "l", &l, 0, 0, 2, 0 },
		{ "T_HEX", RT_HEX, NULL, "h", h, 0, 0, 20, 0 },
		{ "T_STR", RT_DURATION, "forever", "bad default", &d, 0, 0, 0, 0 },
	};
	setenv("T_I64", "5", 1);
	setenv("T_U64", "-1", 1);
	setenv("T_BOOL", "maybe", 1);
	setenv("T_DUR", "abc", 1);
	setenv("T_PPM", "0.00001", 1);
	setenv("T_DBL", "inf", 1);
	setenv("T_LIST", "a,b,c", 1);
	setenv("T_HEX", "0x1234", 1);
	char err[2048];
	assert_int_equal(rt_config_load(o, N(o), err, sizeof err), -1);
	const char *want = "T_REQ: required (the node URL)\n"
	                   "T_I64: '5' is out of range [1, 3]\n"
	                   "T_U64: '-1' is not an unsigned integer\n"
	                   "T_BOOL: 'maybe' is not a bool (true/false, 1/0, yes/no, on/off)\n"
	                   "T_DUR: 'abc' is not a duration (examples: 30, 30s, 500ms, 2m, 1h)\n"
	                   "T_PPM: '0.00001' is not a percent with at most 4 decimals (examples: 0.5, 1, 2.25%)\n"
	                   "T_DBL: 'inf' is not a finite number\n"
	                   "T_LIST: more than 2 items\n"
	                   "T_HEX: expected 20 bytes (40 hex digits, 0x optional), got 4 hex digits\n"
	                   "T_STR: default 'forever' is not a duration (examples: 30, 30s, 500ms, 2m, 1h)";
	assert_string_equal(err, want);
	assert_string_equal(s, "untouched");
	assert_int_equal(i, 99);
	assert_null(l.mem);

	setenv("T_LIST", "a,,b", 1);
	rt_opt ol[] = { { "T_LIST", RT_LIST, NULL, "l", &l, 0, 0, 4, 0 } };
	assert_int_equal(rt_config_load(ol, 1, err, sizeof err), -1);
	assert_string_equal(err, "T_LIST: empty item 2 in the comma list");
	setenv("T_HEX", "0xzz", 1);
	rt_opt oh[] = { { "T_HEX", RT_HEX, NULL, "h", h, 0, 0, 1, 0 } };
	assert_int_equal(rt_config_load(oh, 1, err, sizeof err), -1);
	assert_string_equal(err, "T_HEX: '0xzz' is not hex (expected 1 bytes, 2 hex digits, 0x optional)");

	/* A small err buffer truncates but stays terminated. */
	char tiny[16];
	assert_int_equal(rt_config_load(o, N(o), tiny, sizeof tiny), -1);
	assert_int_equal(strlen(tiny), 15);
	clear_env();
}

static void test_secrets_not_echoed(void **state)
{
	clear_env();
	uint8_t key[32];
	int64_t n = 0;
	const char *secret = "ab12SECRETVALUEcd";
	rt_opt o[] = {
		{ "T_KEY", RT_HEX, NULL, "signing key", key, 0, 0, 32, RT_SECRET },
		{ "T_I64", RT_I64, NULL, "pin", &n, 1, 9, 0, RT_SECRET },
	};
	setenv("T_KEY", secret, 1);
	setenv("T_I64", "12345", 1);
	char err[512];
	assert_int_equal(rt_config_load(o, N(o), err, sizeof err), -1);
	assert_null(strstr(err, "SECRET"));
	assert_null(strstr(err, "12345"));
	assert_string_equal(err, "T_KEY: value (hidden) is not hex (expected 32 bytes, 64 hex digits, 0x optional)\n"
	                         "T_I64: value (hidden) is out of range [1, 9]");
	/* RT_SCRUB: a parsed key leaves the environment, its bytes wiped */
	rt_opt os[] = { { "T_KEY", RT_HEX, NULL, "signing key", key, 0, 0, 4, RT_SECRET | RT_SCRUB } };
	setenv("T_KEY", "0x0102a0ff", 1);
	char *envp = getenv("T_KEY");
	assert_int_equal(rt_config_load(os, 1, err, sizeof err), 0);
	const uint8_t want[4] = { 1, 2, 0xa0, 0xff };
	assert_memory_equal(key, want, 4);
	assert_null(getenv("T_KEY"));
	assert_int_equal(envp[0], 0); /* glibc keeps setenv's string allocated: it must be zeroed */
	FILE *f;
	char *text = NULL;
	size_t len = 0;
	rt_opt od[] = { { "T_KEY", RT_STR, "defaultSECRET", "k", &secret, 0, 0, 0, RT_SECRET } };
	f = open_memstream(&text, &len);
	rt_config_usage(od, 1, f);
	fclose(f);
	assert_null(strstr(text, "defaultSECRET"));
	free(text);
	clear_env();
}

static void test_defaults_and_untouched(void **state)
{
	clear_env();
	uint64_t hb = 7, dev = 0;
	const char *url = "keep";
	rt_opt o[] = {
		{ "T_DUR", RT_DURATION, "3600", "heartbeat", &hb, 0, 0, 0, 0 },
		{ "T_PPM", RT_PPM, "0.5", "deviation", &dev, 0, 0, 0, 0 },
		{ "T_STR", RT_STR, NULL, "optional", &url, 0, 0, 0, 0 },
	};
	setenv("T_PPM", "", 1); /* empty counts as unset */
	char err[128];
	assert_int_equal(rt_config_load(o, N(o), err, sizeof err), 0);
	assert_int_equal(hb, 3600000);
	assert_int_equal(dev, 5000);
	assert_string_equal(url, "keep");
	clear_env();
}

static void test_usage_table(void **state)
{
	uint64_t hb;
	const char *url;
	uint8_t addr[20];
	rt_opt o[] = {
		{ "HEARTBEAT", RT_DURATION, "3600", "seconds between forced updates", &hb, 1000, 86400000, 0, 0 },
		{ "RPC_URL", RT_STR, NULL, "node URL | comma list", &url, 0, 0, 0, RT_REQUIRED },
		{ "AGGREGATOR_ADDRESS", RT_HEX, NULL, "contract", addr, 0, 0, 20, 0 },
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	rt_config_usage(o, N(o), f);
	fclose(f);
	assert_string_equal(text,
	                    "| variable | default | meaning |\n"
	                    "|---|---|---|\n"
	                    "| `HEARTBEAT` | `3600` | seconds between forced updates (duration, 1000..86400000 ms) |\n"
	                    "| `RPC_URL` | (required) | node URL \\| comma list (string) |\n"
	                    "| `AGGREGATOR_ADDRESS` |  | contract (hex bytes, 20 bytes) |\n");
	free(text);
}

static void test_config_file(void **state)
{
	clear_env();
	char err[256] = "x";
	assert_null(rt_config_file("T_FILE", err, sizeof err));
	assert_string_equal(err, "");

	char path[] = "/tmp/rt_config_test_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *good = "{\"feeds\": [\"ETH-USD\", \"BTC-USD\"]}";
	assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	close(fd);
	setenv("T_FILE", path, 1);
	json_t *j = rt_config_file("T_FILE", err, sizeof err);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "feeds")), 2);
	json_decref(j);

	FILE *f = fopen(path, "w");
	fputs("{\n  \"feeds\": [1,\n  2,, ]\n}\n", f);
	fclose(f);
	assert_null(rt_config_file("T_FILE", err, sizeof err));
	char prefix[300];
	snprintf(prefix, sizeof prefix, "T_FILE: %s:3:", path);
	assert_memory_equal(err, prefix, strlen(prefix)); /* names the variable, file and line */

	f = fopen(path, "w");
	fputs("{\"a\":1,\"a\":2}", f); /* duplicate keys are a mistake, not a silent override */
	fclose(f);
	assert_null(rt_config_file("T_FILE", err, sizeof err));
	assert_non_null(strstr(err, "duplicate"));
	unlink(path);
	clear_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_ok),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_secrets_not_echoed),
		cmocka_unit_test(test_defaults_and_untouched),
		cmocka_unit_test(test_usage_table),
		cmocka_unit_test(test_config_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
