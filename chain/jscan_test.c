/* jscan_test: the strict validator, path lookup, string unescaping, counting (moved here with the
 * scanner from actors/fetcher; the fetcher's adapters_test still covers it through its adapters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chain/jscan.h"

static void test_deep_nesting(void **state)
{
	static char deep[20001];
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	size_t off;
	const char *why;
	assert_int_equal(js_validate(deep, 20000, &off, &why), -1);
	assert_string_equal(why, "nested too deeply");
	/* at the limit it is fine */
	char ok[2 * JS_MAX_DEPTH];
	memset(ok, '[', JS_MAX_DEPTH);
	memset(ok + JS_MAX_DEPTH, ']', JS_MAX_DEPTH);
	assert_int_equal(js_validate(ok, sizeof ok, NULL, NULL), 0);
}

static void test_find(void **state)
{
	const char *d = "{\"a\":[1,{\"b\":\"x\\\"y\"},[]],\"c\":{},\"e\":\"\\ud83d\\ude00\"}";
	js_val v;
	char buf[16];
	assert_int_equal(js_validate(d, strlen(d), NULL, NULL), 0);
	assert_int_equal(js_find(d, strlen(d), "a.1.b", &v), 0);
	assert_int_equal(v.type, JS_STRING);
	assert_int_equal(js_string(&v, buf, sizeof buf), 3);
	assert_string_equal(buf, "x\"y");
	assert_int_equal(js_find(d, strlen(d), "a", &v), 0);
	assert_int_equal(js_count(&v), 3);
	assert_int_equal(js_find(d, strlen(d), "c", &v), 0);
	assert_int_equal(js_count(&v), 0);
	assert_int_equal(js_find(d, strlen(d), "e", &v), 0);
	assert_int_equal(js_string(&v, buf, sizeof buf), 4);
	assert_memory_equal(buf, "\xf0\x9f\x98\x80", 4);
	assert_int_equal(js_string(&v, buf, 4), -1); /* does not fit */
	assert_int_equal(js_find(d, strlen(d), "a.3", &v), -1);
	assert_int_equal(js_find(d, strlen(d), "a..b", &v), -1);
	assert_int_equal(js_find(d, strlen(d), "a.", &v), -1);
	assert_int_equal(js_find(d, strlen(d), "*.*.b", &v), 0);
	assert_int_equal(js_find(d, strlen(d), "", &v), 0);
	assert_int_equal(v.type, JS_OBJECT);
	const char *nul = "{\"p\":\"a\\u0000b\"}";
	assert_int_equal(js_find(nul, strlen(nul), "p", &v), 0);
	assert_int_equal(js_string(&v, buf, sizeof buf), -1);
}

static void test_validate(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "01", "1.", "1e", "-", "+1", ".5",
		"\"\\x\"", "\"\\u12\"", "\"\\udc00\"", "\"\\ud800\"", "\"\\ud800\\u0041\"", "\"a\nb\"",
		"\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "tru", "nulll", "[] []", "\"abc",
	};
	static const char *const good[] = {
		"0", "-0", "1.5e+10", " [ ] ", "{}", "\"\\u00e9\\/\"", "\"\xc3\xa9\"", "\"\xf0\x9f\x98\x80\"",
		"[true,false,null]", "{\"a\":{\"b\":[{}]}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(js_validate(bad[i], strlen(bad[i]), NULL, NULL), -1);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(js_validate(good[i], strlen(good[i]), NULL, NULL), 0);
	size_t off;
	const char *why;
	assert_int_equal(js_validate("[1,2 3]", 7, &off, &why), -1);
	assert_int_equal(off, 5);
	assert_string_equal(why, "expected ',' or ']'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_validate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
