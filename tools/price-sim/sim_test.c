/* sim_test.c - the price simulator's feed bound: PS_MAX_FEEDS feeds are set (the feed array grows
 * to them) and each one's price is served; one more is refused with a 400 naming why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/rt_buf.h"
#include "tools/price-sim/sim.h"

static void
test_feed_bound(void **st)
{
	(void)st;
	ps_sim *s = ps_new();
	assert_non_null(s);
	rt_buf out = RT_BUF_INIT;
	char q[80], path[48];
	for (int i = 0; i < PS_MAX_FEEDS; i++) {
		snprintf(q, sizeof q, "feed=F%d-USD&price=%d.5", i, i + 1);
		rt_buf_reset(&out);
		assert_int_equal(ps_command(s, "set", q, &out), 200);
	}
	rt_buf_reset(&out);
	assert_int_equal(ps_command(s, "set", "feed=ONEMORE-USD&price=1", &out), 400);
	assert_non_null(strstr((const char *)out.data, "too many feeds"));
	/* an existing feed can still be set, and the first and the last are served */
	rt_buf_reset(&out);
	assert_int_equal(ps_command(s, "set", "feed=F0-USD&price=7", &out), 200);
	ps_reply r;
	memset(&r, 0, sizeof r);
	rt_buf_reset(&out);
	assert_int_equal(ps_handle(s, "GET", "/generic/F0-USD", "", 0, &out, &r), 200);
	assert_non_null(strstr((const char *)out.data, "\"price\":\"7\""));
	snprintf(path, sizeof path, "/generic/F%d-USD", PS_MAX_FEEDS - 1);
	rt_buf_reset(&out);
	assert_int_equal(ps_handle(s, "GET", path, "", 0, &out, &r), 200);
	snprintf(q, sizeof q, "\"price\":\"%d.5\"", PS_MAX_FEEDS);
	assert_non_null(strstr((const char *)out.data, q));
	rt_buf_free(&out);
	ps_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
