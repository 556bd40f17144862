/* jscan_test: the strict validator, path lookup, string unescaping, counting (moved here with the
 * scanner from actors/fetcher; the fetcher's adapters_test still covers it through its adapters),
 * and the one-pass iterator (js_iter_*, js_get, js_key_eq, js_string_raw). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/jscan.h"

static void
test_deep_nesting(void **state)
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

static void
test_find(void **state)
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

static void
test_validate(void **state)
{
	static const char *const bad[] = {
		"",
		" ",
		"{",
		"[1,]",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{1:2}",
		"01",
		"1.",
		"1e",
		"-",
		"+1",
		".5",
		"\"\\x\"",
		"\"\\u12\"",
		"\"\\udc00\"",
		"\"\\ud800\"",
		"\"\\ud800\\u0041\"",
		"\"a\nb\"",
		"\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"",
		"tru",
		"nulll",
		"[] []",
		"\"abc",
	};
	static const char *const good[] = {
		"0",
		"-0",
		"1.5e+10",
		" [ ] ",
		"{}",
		"\"\\u00e9\\/\"",
		"\"\xc3\xa9\"",
		"\"\xf0\x9f\x98\x80\"",
		"[true,false,null]",
		"{\"a\":{\"b\":[{}]}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(js_validate(bad[i], strlen(bad[i]), NULL, NULL), -1);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(js_validate(good[i], strlen(good[i]), NULL, NULL), 0);
	size_t off;
	const char *why;
	/* the eight-bytes-at-a-time string scan: an offending byte at every position of a block */
	for (size_t pos = 1; pos < 20; pos++) {
		static const char offend[] = { '\n', '\x01', '\x1f', '\x80', '\xff', '"' };
		char b[24];
		memset(b, 'a', sizeof b);
		b[0] = '"';
		b[21] = '"';
		assert_int_equal(js_validate(b, 22, NULL, NULL), 0);
		for (size_t k = 0; k < sizeof offend; k++) {
			b[pos] = offend[k];
			assert_int_equal(js_validate(b, 22, &off, &why), -1);
			assert_int_equal(off, offend[k] == '"' ? pos + 1 : pos);
		}
		b[pos] = '\\';
		assert_int_equal(js_validate(b, 22, NULL, NULL), -1); /* \a */
		b[pos + 1] = 'n';
		assert_int_equal(js_validate(b, 22, NULL, NULL), pos + 1 < 21 ? 0 : -1);
		b[pos] = '\x7f'; /* DEL is allowed */
		b[pos + 1] = ' ';
		assert_int_equal(js_validate(b, 22, NULL, NULL), pos + 1 < 21 ? 0 : -1);
	}
	assert_int_equal(js_validate("[1,2 3]", 7, &off, &why), -1);
	assert_int_equal(off, 5);
	assert_string_equal(why, "expected ',' or ']'");
}

static js_val
doc_val(const char *d)
{
	js_val v;
	assert_int_equal(js_validate(d, strlen(d), NULL, NULL), 0);
	assert_int_equal(js_find(d, strlen(d), "", &v), 0);
	return v;
}

static void
test_iter_array(void **state)
{
	const char *d = " [ 1 , \"a\\\"]\" ,[[],{}], {\"x\":[1,2]} ,true,null,-2.5e3 ] ";
	js_val root = doc_val(d), k, v;
	static const js_type want[] = { JS_NUMBER, JS_STRING, JS_ARRAY, JS_OBJECT, JS_TRUE, JS_NULL, JS_NUMBER };
	static const char *const text[] = { "1", "\"a\\\"]\"", "[[],{}]", "{\"x\":[1,2]}", "true", "null", "-2.5e3" };
	js_iter it;
	size_t n = 0;
	js_iter_init(&it, &root);
	while (js_iter_next(&it, &k, &v)) {
		assert_true(n < 7);
		assert_int_equal(k.type, JS_NONE);
		assert_int_equal(v.type, want[n]);
		assert_int_equal(v.n, strlen(text[n]));
		assert_memory_equal(v.p, text[n], v.n);
		n++;
	}
	assert_int_equal(n, 7);
	assert_int_equal(n, js_count(&root));
	assert_int_equal(js_iter_next(&it, &k, &v), 0); /* stays exhausted */
	/* nested: the third element's own elements */
	js_iter in;
	js_val e;
	assert_int_equal(js_find(d, strlen(d), "2", &e), 0);
	js_iter_init(&in, &e);
	assert_int_equal(js_iter_next(&in, NULL, &v), 1);
	assert_int_equal(v.type, JS_ARRAY);
	assert_int_equal(v.n, 2);
	assert_int_equal(js_iter_next(&in, NULL, &v), 1);
	assert_int_equal(v.type, JS_OBJECT);
	assert_int_equal(js_iter_next(&in, NULL, &v), 0);
}

static void
test_iter_object(void **state)
{
	const char *d = "{\"a\":{\"b\":[1,{\"c\":\"}\"}]},\"k\\u0065y\":2,\"q\\\"\":\"v\",\"\":[],\"e\":{}}";
	js_val root = doc_val(d), k, v, x;
	js_iter it;
	char buf[32];
	size_t n = 0;
	js_iter_init(&it, &root);
	while (js_iter_next(&it, &k, &v)) {
		assert_int_equal(k.type, JS_STRING);
		switch (n++) {
		case 0:
			assert_true(js_key_eq(&k, "a"));
			assert_int_equal(v.type, JS_OBJECT);
			assert_int_equal(js_get(&v, "b", &x), 0);
			assert_int_equal(x.type, JS_ARRAY);
			assert_int_equal(js_count(&x), 2);
			break;
		case 1: /* an escape in the key */
			assert_true(js_key_eq(&k, "key"));
			assert_false(js_key_eq(&k, "ke"));
			assert_int_equal(v.type, JS_NUMBER);
			break;
		case 2:
			assert_true(js_key_eq(&k, "q\""));
			assert_int_equal(js_string(&v, buf, sizeof buf), 1);
			break;
		case 3:
			assert_true(js_key_eq(&k, ""));
			assert_int_equal(v.type, JS_ARRAY);
			break;
		case 4:
			assert_true(js_key_eq(&k, "e"));
			assert_int_equal(v.type, JS_OBJECT);
			break;
		}
	}
	assert_int_equal(n, 5);
	assert_int_equal(js_get(&root, "key", &x), 0);
	assert_memory_equal(x.p, "2", 1);
	assert_int_equal(js_get(&root, "k\\u0065y", &x), -1); /* names are unescaped text */
	assert_int_equal(js_get(&root, "c", &x), -1);         /* one level only */
	assert_int_equal(js_get(&root, "q\"", &x), 0);
	assert_int_equal(x.type, JS_STRING);
	const char *raw;
	size_t rl;
	assert_int_equal(js_string_raw(&x, &raw, &rl), 0);
	assert_int_equal(rl, 1);
	assert_int_equal(raw[0], 'v');
	assert_int_equal(js_string_raw(&k, &raw, &rl), -1); /* not a string (last key was "e": k reset) */
	js_val esc = { JS_STRING, "\"a\\nb\"", 6 };
	assert_int_equal(js_string_raw(&esc, &raw, &rl), -1);
	/* empty containers and scalars yield nothing */
	static const char *const empty[] = { "{}", "[]", " { } ", "[ ]", "1", "\"s\"", "null" };
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		js_val e = doc_val(empty[i]);
		js_iter_init(&it, &e);
		assert_int_equal(js_iter_next(&it, &k, &v), 0);
		assert_int_equal(js_get(&e, "a", &x), -1);
	}
}

static void
test_iter_untrusted(void **state)
{
	/* not validated: must stop inside the bounds (ASan checks) and never loop */
	static const char *const junk[] = { "[",     "{",   "{\"a",      "{\"a\\",       "{\"a\":",
		                            "[\"\\", "[1,", "{\"a\" 1}", "[[[[",         "{\"a\":\"b\\\"}",
		                            "[}",    "{]",  "[,,,]",     "{\"\\u12\":1}" };
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		size_t n = strlen(junk[i]);
		char *b = malloc(n);
		memcpy(b, junk[i], n);
		js_val v = { b[0] == '{' ? JS_OBJECT : JS_ARRAY, b, n }, k, e;
		js_iter it;
		char buf[8];
		js_iter_init(&it, &v);
		for (int guard = 0; js_iter_next(&it, &k, &e); guard++) {
			assert_true(guard < 10);
			assert_true(e.p >= b && e.p + e.n <= b + n);
			if (k.type == JS_STRING)
				js_key_eq(&k, "a");
			js_string(&e, buf, sizeof buf);
		}
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deep_nesting), cmocka_unit_test(test_find),
		cmocka_unit_test(test_validate),     cmocka_unit_test(test_iter_array),
		cmocka_unit_test(test_iter_object),  cmocka_unit_test(test_iter_untrusted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
