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

#include "base/util.h"
#include "base/rt_config.h"
#include "base/hex.h"

static void
clear_env(void)
{
	static const char *names[] = { "T_STR", "T_I64",  "T_U64",  "T_BOOL", "T_DUR", "T_PPM",
		                       "T_DBL", "T_LIST", "T_HEX",  "T_KEY",  "T_REQ", "T_FILE",
		                       "T_URL", "T_RPC",  "T_ADDR", "T_THR",  "T_MODE" };
	for (size_t i = 0; i < OB_COUNT(names); i++)
		unsetenv(names[i]);
}

static void
test_every_type_ok(void **state)
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
		{ "T_STR", RT_STR, NULL, "s", &s, 0, 0, 0, 0 },      { "T_I64", RT_I64, NULL, "i", &i, -10, 10, 0, 0 },
		{ "T_U64", RT_U64, NULL, "u", &u, 0, 0, 0, 0 },      { "T_BOOL", RT_BOOL, NULL, "b", &b, 0, 0, 0, 0 },
		{ "T_DUR", RT_DURATION, NULL, "d", &d, 0, 0, 0, 0 }, { "T_PPM", RT_PPM, NULL, "p", &p, 0, 0, 0, 0 },
		{ "T_DBL", RT_DOUBLE, NULL, "x", &x, 0, 0, 0, 0 },   { "T_LIST", RT_LIST, NULL, "l", &l, 0, 0, 3, 0 },
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
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), 0);
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
	rt_config_free(o, OB_COUNT(o));
	assert_null(l.mem);
	clear_env();
}

static void
test_parsers(void **state)
{
	static const struct {
		const char *in;
		int ok;
		uint64_t ms;
	} dur[] = { { "30", 1, 30000 },
		    { "30s", 1, 30000 },
		    { "500ms", 1, 500 },
		    { "2m", 1, 120000 },
		    { "1h", 1, 3600000 },
		    { "0", 1, 0 },
		    { "", 0, 0 },
		    { "s", 0, 0 },
		    { "1.5s", 0, 0 },
		    { "-1s", 0, 0 },
		    { "10x", 0, 0 },
		    { " 1s", 0, 0 },
		    { "99999999999999999999", 0, 0 },
		    { "18446744073709551615h", 0, 0 } };
	for (size_t k = 0; k < OB_COUNT(dur); k++) {
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
	} pp[] = { { "0.5", 1, 5000 }, { "1", 1, 10000 },   { "1%", 1, 10000 },    { "12.3456", 1, 123456 },
		   { "0.0001", 1, 1 }, { "0.00010", 1, 1 }, { "100", 1, 1000000 }, { "0.00001", 0, 0 },
		   { ".5", 0, 0 },     { "5.", 0, 0 },      { "-1", 0, 0 },        { "1e2", 0, 0 },
		   { "abc", 0, 0 },    { "1%%", 0, 0 } };
	for (size_t k = 0; k < OB_COUNT(pp); k++) {
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
static void
test_all_errors_at_once(void **state)
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
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), -1);
	const char *want = "T_REQ: required (the node URL)\n"
	                   "T_I64: '5' is out of range [1, 3]\n"
	                   "T_U64: '-1' is not an unsigned integer\n"
	                   "T_BOOL: 'maybe' is not a bool (true/false, 1/0, yes/no, on/off)\n"
	                   "T_DUR: 'abc' is not a duration (examples: 30, 30s, 500ms, 2m, 1h)\n"
	                   "T_PPM: '0.00001' is not a percent with at most 4 decimals (examples: 0.5, 1, 2.25%)\n"
	                   "T_DBL: 'inf' is not a finite number\n"
	                   "T_LIST: more than 2 items (3 given)\n"
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
	/* the list's own bound: RT_LIST_MAX items are taken (allocated to the count), one more is refused */
	char *big = malloc(RT_LIST_MAX * 8 + 16), *w = big;
	for (int k = 0; k <= RT_LIST_MAX; k++)
		w += sprintf(w, "%sf%d", k ? "," : "", k);
	setenv("T_LIST", big, 1);
	rt_opt om[] = { { "T_LIST", RT_LIST, NULL, "l", &l, 0, 0, 0, 0 } };
	assert_int_equal(rt_config_load(om, 1, err, sizeof err), -1);
	char want_max[80];
	snprintf(want_max, sizeof want_max, "T_LIST: more than %d items (%d given)", RT_LIST_MAX, RT_LIST_MAX + 1);
	assert_string_equal(err, want_max);
	*strrchr(big, ',') = 0; /* RT_LIST_MAX items */
	setenv("T_LIST", big, 1);
	assert_int_equal(rt_config_load(om, 1, err, sizeof err), 0);
	assert_int_equal(l.n, RT_LIST_MAX);
	assert_string_equal(l.v[0], "f0");
	snprintf(want_max, sizeof want_max, "f%d", RT_LIST_MAX - 1);
	assert_string_equal(l.v[RT_LIST_MAX - 1], want_max);
	rt_config_free(om, 1);
	free(big);
	setenv("T_HEX", "0xzz", 1);
	rt_opt oh[] = { { "T_HEX", RT_HEX, NULL, "h", h, 0, 0, 1, 0 } };
	assert_int_equal(rt_config_load(oh, 1, err, sizeof err), -1);
	assert_string_equal(err, "T_HEX: '0xzz' is not hex (expected 1 bytes, 2 hex digits, 0x optional)");

	/* A small err buffer truncates but stays terminated. */
	char tiny[16];
	assert_int_equal(rt_config_load(o, OB_COUNT(o), tiny, sizeof tiny), -1);
	assert_int_equal(strlen(tiny), 15);
	clear_env();
}

static void
test_secrets_not_echoed(void **state)
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
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), -1);
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

static void
test_defaults_and_untouched(void **state)
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
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), 0);
	assert_int_equal(hb, 3600000);
	assert_int_equal(dev, 5000);
	assert_string_equal(url, "keep");
	clear_env();
}

static void
test_usage_table(void **state)
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
	rt_config_usage(o, OB_COUNT(o), f);
	fclose(f);
	assert_string_equal(text,
	                    "| variable | default | meaning |\n"
	                    "|---|---|---|\n"
	                    "| `HEARTBEAT` | `3600` | seconds between forced updates (duration, 1000..86400000 ms) |\n"
	                    "| `RPC_URL` | (required) | node URL \\| comma list (string) |\n"
	                    "| `AGGREGATOR_ADDRESS` |  | contract (hex bytes, 20 bytes) |\n");
	free(text);
}

static void
test_config_file(void **state)
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

/* One validator call: ok, or the reason contains want. */
static void
url_case(int bus, const char *url, int listen, const char *want)
{
	char why[200] = "";
	int rc = bus ? rt_check_bus_url(url, listen, why, sizeof why) : rt_check_http_url(url, why, sizeof why);
	if (want == NULL) {
		if (rc != 0)
			fail_msg("%s: rejected: %s", url, why);
	} else {
		if (rc == 0)
			fail_msg("%s: accepted, expected '%s'", url, want);
		if (strstr(why, want) == NULL)
			fail_msg("%s: reason '%s' lacks '%s'", url, why, want);
	}
}

static void
test_bus_urls(void **state)
{
	static const struct {
		const char *url;
		int listen;
		const char *want; /* NULL = valid */
	} c[] = {
		{ "tcp://127.0.0.1:7701", 0, NULL },
		{ "tcp://busd-0.busd.oracle.svc:7701", 0, NULL },
		{ "tcp://[::1]:7701", 0, NULL },
		{ "tcp4://10.0.0.1:1", 0, NULL },
		{ "tls+tcp://busd:65535", 0, NULL },
		{ "ipc:///tmp/busd.sock", 0, NULL },
		{ "inproc://x", 0, NULL },
		{ "tcp://:7701", 1, NULL },
		{ "tcp://*:7701", 1, NULL },
		{ "tcp://:7701", 0, "no host" },
		{ "tcp://256.1.1.1:99", 0, "octet 256 is above 255" },
		{ "tcp://1.2.3.4:99999", 0, "port 99999 is not in 1..65535" },
		{ "tcp://1.2.3.4:0", 0, "port 0 is not in 1..65535" },
		{ "tcp://1.2.3:80", 0, "not an IPv4 address" },
		{ "tcp://1.2.3.4.5:80", 0, "not an IPv4 address" },
		{ "tcp://1.2.3.:80", 0, "not an IPv4 address" },
		{ "tcp://1..2.3:80", 0, "not an IPv4 address" },
		{ "tcp://1234.1.1.1:80", 0, "not an IPv4 address" },
		{ "tcp://[::g]:80", 0, "not an IPv6 address" },
		{ "tcp://host", 0, "no port" },
		{ "tcp://host:", 0, "no port" },
		{ "tcp://host:8x", 0, "not a number" },
		{ "tcp://-bad-:80", 0, "not a host name" },
		{ "tcp://a b:80", 0, "space" },
		{ "tcp://host:80/path", 0, "no path" },
		{ "http://host:80", 0, "not a bus transport" },
		{ "127.0.0.1:7701", 0, "not a URL" },
		{ "ipc://", 0, "ipc path empty" },
		{ "inproc://", 0, "inproc name is empty" },
	};
	for (size_t i = 0; i < OB_COUNT(c); i++)
		url_case(1, c[i].url, c[i].listen, c[i].want);
	char longipc[200] = "ipc:///";
	memset(longipc + 7, 'a', 150);
	url_case(1, longipc, 0, "longer than");
}

static void
test_http_urls(void **state)
{
	static const struct {
		const char *url, *want;
	} c[] = {
		{ "http://127.0.0.1:8545", NULL },
		{ "https://mainnet.example.org/v3/abcdef?x=1", NULL },
		{ "HTTPS://rpc.example.org", NULL },
		{ "http://user:pw@host:8080/x", NULL },
		{ "http://[::1]:8545/", NULL },
		{ "ftp://host", "not an http:// or https:// URL" },
		{ "127.0.0.1:8545", "not an http:// or https:// URL" },
		{ "http://", "no host" },
		{ "http://:8545", "no host" },
		{ "http://300.0.0.1", "octet 300 is above 255" },
		{ "http://host:70000/", "port 70000 is not in 1..65535" },
		{ "http://host:/", "no port" },
		{ "http://ho st/", "space" },
	};
	for (size_t i = 0; i < OB_COUNT(c); i++)
		url_case(0, c[i].url, 0, c[i].want);
}

static void
test_url_options(void **state)
{
	clear_env();
	const char *bus = NULL, *rpc = NULL, *lst = NULL;
	rt_opt o[] = {
		{ "T_URL", RT_BUS_URL, NULL, "bus", &bus, 0, 0, 0, 0 },
		{ "T_RPC", RT_HTTP_URL, NULL, "rpc", &rpc, 0, 0, 2, 0 },
		{ "T_MODE", RT_BUS_URL, "tcp://*:7701", "listen", &lst, 0, 0, 0, RT_LISTEN },
	};
	setenv("T_URL", "tcp://127.0.0.1:7701, ipc:///tmp/b.sock", 1);
	setenv("T_RPC", "http://a:8545,https://b", 1);
	char err[512];
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), 0);
	assert_string_equal(bus, "tcp://127.0.0.1:7701, ipc:///tmp/b.sock");
	assert_string_equal(rpc, "http://a:8545,https://b");
	assert_string_equal(lst, "tcp://*:7701");

	setenv("T_URL", "tcp://256.1.1.1:99999", 1);
	setenv("T_RPC", "http://a:8545,,http://b", 1);
	setenv("T_MODE", "tcp://a:1,tcp://b:2,ipc://", 1);
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), -1);
	assert_string_equal(err, "T_URL: 'tcp://256.1.1.1:99999' is not a bus URL: IPv4 octet 256 is above 255\n"
	                         "T_RPC: empty item 2 in the comma list\n"
	                         "T_MODE: item 3 'ipc://' is not a bus URL: ipc path empty or longer than 107 bytes");
	setenv("T_RPC", "http://a,http://b,http://c", 1);
	unsetenv("T_URL");
	unsetenv("T_MODE");
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), -1);
	assert_string_equal(err, "T_RPC: more than 2 URLs");
	clear_env();
}

static void
test_addresses(void **state)
{
	clear_env();
	uint8_t a[20] = { 0 };
	rt_opt o[] = {
		{ "T_ADDR", RT_ADDR, NULL, "contract", a, 0, 0, 20, 0 },
		RT_CHECK_ROW("T_ADDR", hex_addr_opt_check),
	};
	char err[512];
	/* EIP-55's own example, checksummed; then all lower and all upper case (no checksum to check) */
	static const char *const good[] = { "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		                            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
		                            "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED" };
	for (size_t i = 0; i < OB_COUNT(good); i++) {
		memset(a, 0, sizeof a);
		setenv("T_ADDR", good[i], 1);
		assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), 0);
		assert_int_equal(a[0], 0x5a);
		assert_int_equal(a[19], 0xed);
	}
	static const struct {
		const char *in, *want;
	} bad[] = {
		{ "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "T_ADDR: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD' "
		                                                "has a wrong EIP-55 checksum (mixed case); check "
		                                                "the address or write it in lower case" },
		{ "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
		  "T_ADDR: '5aaeb6053f3e94c9b9a09f33669435e7ef1beaed' is not an address: an address starts with 0x" },
		{ "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", "T_ADDR: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea' is "
		                                              "not an address: an address is 0x and 40 hex digits" },
		{ "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beazz",
		  "T_ADDR: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beazz' is not an address: an address is 0x and 40 hex "
		  "digits" },
		{ "0x0000000000000000000000000000000000000000",
		  "T_ADDR: '0x0000000000000000000000000000000000000000' is not an address: the zero address" },
	};
	for (size_t i = 0; i < OB_COUNT(bad); i++) {
		memset(a, 0x77, sizeof a);
		setenv("T_ADDR", bad[i].in, 1);
		assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), -1);
		assert_string_equal(err, bad[i].want);
	}
	assert_int_equal(a[0], 0x77); /* untouched when the syntax is wrong */
	clear_env();
}

static void
test_secp256k1_keys(void **state)
{
	clear_env();
	static const struct {
		const char *hex;
		int ok;
	} c[] = {
		{ "0000000000000000000000000000000000000000000000000000000000000001", 1 },
		{ "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", 1 }, /* n - 1 */
		{ "0000000000000000000000000000000000000000000000000000000000000000", 0 },   /* zero */
		{ "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 0 },   /* n */
		{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0 },
	};
	uint8_t k[32];
	rt_opt o[] = { { "T_KEY", RT_KEY, NULL, "signing key", k, 0, 0, 32, RT_SECRET | RT_SCRUB } };
	char err[512];
	for (size_t i = 0; i < OB_COUNT(c); i++) {
		memset(k, 0x55, sizeof k);
		setenv("T_KEY", c[i].hex, 1);
		int rc = rt_config_load(o, 1, err, sizeof err);
		if (c[i].ok) {
			assert_int_equal(rc, 0);
			assert_null(getenv("T_KEY")); /* scrubbed */
			uint8_t want[32];
			assert_int_equal(rt_parse_hex(c[i].hex, want, 32), 0);
			assert_memory_equal(k, want, 32);
		} else {
			assert_int_equal(rc, -1);
			/* not "required": a zero key is a key, and it is not valid */
			assert_string_equal(err, "T_KEY: not a valid secp256k1 secret key (it is zero or not below the "
			                         "curve order)");
			assert_int_equal(k[0], 0x55);
			assert_non_null(getenv("T_KEY")); /* an invalid secret is not scrubbed, but never echoed */
		}
	}
	setenv("T_KEY", "0xSECRETSECRET", 1);
	assert_int_equal(rt_config_load(o, 1, err, sizeof err), -1);
	assert_null(strstr(err, "SECRET"));
	assert_non_null(strstr(err, "value (hidden) is not hex"));
	uint8_t z[32] = { 0 };
	assert_int_equal(rt_check_seckey(z), -1);
	z[31] = 7;
	assert_int_equal(rt_check_seckey(z), 0);
	clear_env();
}

/* The checks of the test below: an actor's own semantic rules. */
static int64_t thr;
static const char *mode;
static void
check_mode(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	if (strcmp(mode, "fast") != 0 && strcmp(mode, "safe") != 0)
		rt_config_error(e, o->env, "'%s' is neither fast nor safe", mode);
}
static int cross_runs;
static void
check_cross(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	cross_runs++;
	/* a threshold problem is already listed: say nothing more about it */
	if (!rt_config_failed(e, "T_THR") && thr > 10)
		rt_config_error(e, "T_THR", "above 10");
	rt_config_require(e, "T_REQ", strcmp(mode, "safe") == 0, 0, "when T_MODE=safe");
	if (strcmp(mode, "fast") == 0) /* the first case: T_URL failed already, so this adds nothing */
		rt_config_require(e, "T_URL", 1, 0, "(already failed: not repeated)");
}

/* Three independent errors of three types, and an actor's semantic checks in the same pass: every
 * one is listed, one line each, in table order. */
static void
test_three_errors_three_lines(void **state)
{
	clear_env();
	const char *url = NULL;
	uint8_t a[20];
	rt_opt o[] = {
		{ "T_URL", RT_BUS_URL, NULL, "bus", &url, 0, 0, 0, 0 },
		{ "T_ADDR", RT_ADDR, NULL, "contract", a, 0, 0, 20, 0 },
		{ "T_THR", RT_I64, "1", "threshold", &thr, 0, 100, 0, 0 },
		{ "T_MODE", RT_STR, "fast", "mode", &mode, 0, 0, 0, 0 },
		RT_CHECK_ROW("T_MODE", check_mode),
		RT_CHECK_ROW("", check_cross),
	};
	setenv("T_URL", "tcp://256.1.1.1:99999", 1);
	setenv("T_ADDR", "0x1234", 1);
	setenv("T_THR", "-5", 1);
	char err[1024];
	cross_runs = 0;
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), -1);
	assert_string_equal(err, "T_URL: 'tcp://256.1.1.1:99999' is not a bus URL: IPv4 octet 256 is above 255\n"
	                         "T_ADDR: '0x1234' is not an address: an address is 0x and 40 hex digits\n"
	                         "T_THR: '-5' is out of range [0, 100]");
	assert_int_equal(cross_runs, 1); /* cross-option checks run even when options failed */

	/* the semantic checks add their lines to the type errors */
	setenv("T_THR", "50", 1);
	setenv("T_MODE", "safe", 1);
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), -1);
	assert_string_equal(err, "T_URL: 'tcp://256.1.1.1:99999' is not a bus URL: IPv4 octet 256 is above 255\n"
	                         "T_ADDR: '0x1234' is not an address: an address is 0x and 40 hex digits\n"
	                         "T_THR: above 10\n"
	                         "T_REQ: required when T_MODE=safe");
	setenv("T_MODE", "turbo", 1);
	unsetenv("T_URL");
	unsetenv("T_ADDR");
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), -1);
	assert_string_equal(err, "T_MODE: 'turbo' is neither fast nor safe\nT_THR: above 10");

	/* a check bound to a variable that failed does not run */
	setenv("T_THR", "5", 1);
	rt_opt ob[] = { { "T_THR", RT_I64, NULL, "t", &thr, 0, 9, 0, 0 },
		        { "T_MODE", RT_I64, NULL, "m", &thr, 0, 9, 0, 0 },
		        RT_CHECK_ROW("T_MODE", check_mode) };
	setenv("T_MODE", "x", 1);
	assert_int_equal(rt_config_load(ob, OB_COUNT(ob), err, sizeof err), -1);
	assert_string_equal(err, "T_MODE: 'x' is not an integer");
	/* a check row naming a variable not in the table is a table bug, reported */
	rt_opt orphan[] = { RT_CHECK_ROW("T_NOPE", check_mode) };
	assert_int_equal(rt_config_load(orphan, 1, err, sizeof err), -1);
	assert_string_equal(err, "T_NOPE: check row for a variable not in the table");
	/* check rows are not variables: not in the usage table */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	rt_config_usage_rows(o, OB_COUNT(o), f);
	fclose(f);
	assert_null(strstr(text, "check"));
	assert_non_null(strstr(text, "| `T_URL` |  | bus (bus URL list) |"));
	assert_non_null(strstr(text, "| `T_ADDR` |  | contract (address) |"));
	free(text);
	clear_env();
}

/* rt_config_json: a missing or broken file is one more line in the list. */
static void
check_file(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	json_t *j = rt_config_json(e, "T_FILE");
	json_decref(j);
}

static void
test_check_reads_file(void **state)
{
	clear_env();
	const char *path = NULL;
	int64_t i = 0;
	rt_opt o[] = { { "T_FILE", RT_STR, NULL, "file", &path, 0, 0, 0, 0 },
		       { "T_I64", RT_I64, NULL, "i", &i, 0, 1, 0, 0 },
		       RT_CHECK_ROW("T_FILE", check_file) };
	char err[512];
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), 0);
	setenv("T_FILE", "/nonexistent/feeds.json", 1);
	setenv("T_I64", "7", 1);
	assert_int_equal(rt_config_load(o, OB_COUNT(o), err, sizeof err), -1);
	assert_string_equal(err, "T_I64: '7' is out of range [0, 1]\n"
	                         "T_FILE: /nonexistent/feeds.json:-1:-1: unable to open /nonexistent/feeds.json: No "
	                         "such file or directory");
	clear_env();
}

/* rt_config_dir: empty, missing (when it must exist), a file, and a fine directory. */
static void
test_config_dir(void **state)
{
	(void)state;
	char err[1024] = "", dir[] = "/tmp/rtcfg_dirXXXXXX", file[300], missing[300];
	rt_cfg_errs e = { err, sizeof err, 0 };
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/f", dir);
	snprintf(missing, sizeof missing, "%s/none", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(rt_config_dir(&e, "D", dir, 1), 0);
	assert_int_equal(rt_config_dir(&e, "D", missing, 0), 0); /* made at start */
	assert_int_equal(e.n, 0);
	assert_int_equal(rt_config_dir(&e, "A", "", 0), -1);
	assert_int_equal(rt_config_dir(&e, "B", missing, 1), -1);
	assert_int_equal(rt_config_dir(&e, "C", file, 0), -1);
	assert_int_equal(e.n, 3);
	assert_non_null(strstr(err, "A: required (a directory)"));
	assert_non_null(strstr(err, "B: "));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_non_null(strstr(err, "C: "));
	assert_non_null(strstr(err, "/f: not a directory"));
	unlink(file);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_ok),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_secrets_not_echoed),
		cmocka_unit_test(test_defaults_and_untouched),
		cmocka_unit_test(test_usage_table),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_bus_urls),
		cmocka_unit_test(test_http_urls),
		cmocka_unit_test(test_url_options),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_secp256k1_keys),
		cmocka_unit_test(test_three_errors_three_lines),
		cmocka_unit_test(test_check_reads_file),
		cmocka_unit_test(test_config_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
