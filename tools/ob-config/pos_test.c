/* Unit tests of pos: the line of members, elements and nested values, and the fallback to a parent
 * for a path that is not in the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/ob-config/pos.h"

static const char pos_doc[] = "{\n"
                              "  \"a\": 1,\n"
                              "  \"feeds\": [\n"
                              "    {\"name\": \"x\",\n"
                              "     \"agg\": \"0x\\\"}{,\"},\n"
                              "    {\n"
                              "      \"name\": \"y\", \"deep\": {\"k\": [1,\n"
                              "        2]}\n"
                              "    }\n"
                              "  ],\n"
                              "  \"b\": {}\n"
                              "}\n";

static void
test_lines(void **state)
{
	(void)state;
	obc_pos p = { 0 };
	assert_int_equal(obc_pos_scan(&p, pos_doc, strlen(pos_doc)), 0);
	assert_int_equal(obc_pos_line(&p, "a"), 2);
	assert_int_equal(obc_pos_line(&p, "feeds"), 3);
	assert_int_equal(obc_pos_line(&p, "feeds[0]"), 4);
	assert_int_equal(obc_pos_line(&p, "feeds[0].name"), 4);
	assert_int_equal(obc_pos_line(&p, "feeds[0].agg"), 5); /* escapes and brackets inside a string */
	assert_int_equal(obc_pos_line(&p, "feeds[1]"), 6);
	assert_int_equal(obc_pos_line(&p, "feeds[1].name"), 7);
	assert_int_equal(obc_pos_line(&p, "feeds[1].deep.k[0]"), 7);
	assert_int_equal(obc_pos_line(&p, "feeds[1].deep.k[1]"), 8);
	assert_int_equal(obc_pos_line(&p, "b"), 11);
	/* missing members: the nearest recorded parent */
	assert_int_equal(obc_pos_line(&p, "feeds[1].missing"), 6);
	assert_int_equal(obc_pos_line(&p, "b.none"), 11);
	assert_int_equal(obc_pos_line(&p, "nothing"), 1);
	/* a key that is a prefix of another is not its parent */
	assert_int_equal(obc_pos_line(&p, "ab"), 1);
	obc_pos_free(&p);
}

static void
test_too_deep(void **state)
{
	(void)state;
	char doc[200];
	memset(doc, '[', 100);
	memset(doc + 100, ']', 100);
	obc_pos p = { 0 };
	assert_int_equal(obc_pos_scan(&p, doc, sizeof doc), -1);
	obc_pos_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_too_deep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
