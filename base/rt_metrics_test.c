/* Unit tests for rt_metrics: registry identity, validation, exact exposition text, histogram
 * buckets, concurrency of the lock-free updates, and promtool acceptance of the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rt_metrics.h"

/* Runs first: the registry is process-wide, so the whole text is known exactly here. */
static void
test_exact_text(void **state)
{
	static const double b[] = { 0.5, 1, 2.5 };
	rt_metric *c = rt_counter("t_requests_total", "Requests\\served\nper route.", "route=\"/a\"");
	rt_metric *c2 = rt_counter("t_requests_total", "ignored: help comes from the first", "route=\"/b\"");
	rt_metric *g = rt_gauge("t_temp", "A gauge.", NULL);
	rt_metric *h = rt_histogram("t_lat_seconds", "Latency.", "op=\"x\"", b, 3);
	assert_non_null(c);
	assert_non_null(c2);
	assert_non_null(g);
	assert_non_null(h);
	rt_add(c, 41);
	rt_inc(c);
	rt_gauge_set(g, -1.25);
	rt_observe(h, 0.5); /* le is inclusive: bucket 0.5 */
	rt_observe(h, 0.7);
	rt_observe(h, 3);
	rt_observe(h, 100);
	size_t len = 0;
	char *t = rt_metrics_text(&len);
	assert_non_null(t);
	const char *want = "# HELP t_requests_total Requests\\\\served\\nper route.\n"
	                   "# TYPE t_requests_total counter\n"
	                   "t_requests_total{route=\"/a\"} 42\n"
	                   "t_requests_total{route=\"/b\"} 0\n"
	                   "# HELP t_temp A gauge.\n"
	                   "# TYPE t_temp gauge\n"
	                   "t_temp -1.25\n"
	                   "# HELP t_lat_seconds Latency.\n"
	                   "# TYPE t_lat_seconds histogram\n"
	                   "t_lat_seconds_bucket{op=\"x\",le=\"0.5\"} 1\n"
	                   "t_lat_seconds_bucket{op=\"x\",le=\"1\"} 2\n"
	                   "t_lat_seconds_bucket{op=\"x\",le=\"2.5\"} 2\n"
	                   "t_lat_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n"
	                   "t_lat_seconds_sum{op=\"x\"} 104.2\n"
	                   "t_lat_seconds_count{op=\"x\"} 4\n";
	assert_string_equal(t, want);
	assert_int_equal(len, strlen(want));
	free(t);
}

static void
test_identity_and_values(void **state)
{
	rt_metric *a = rt_counter("t_same_total", "h", "k=\"v\"");
	rt_metric *b = rt_counter("t_same_total", "h", "k=\"v\"");
	rt_metric *c = rt_counter("t_same_total", "h", "k=\"w\"");
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	rt_inc(a);
	rt_add(b, 9);
	assert_int_equal(rt_counter_value(a), 10);
	assert_int_equal(rt_counter_value(c), 0);
	rt_metric *g = rt_gauge("t_g", "h", NULL);
	rt_gauge_set(g, 2.5);
	rt_gauge_add(g, -4);
	assert_true(rt_gauge_value(g) == -1.5);
	/* NULL metrics are ignored, not crashes */
	rt_inc(NULL);
	rt_gauge_set(NULL, 1);
	rt_observe(NULL, 1);
	assert_int_equal(rt_counter_value(NULL), 0);
}

static void
test_validation(void **state)
{
	static const double ok[] = { 1, 2 }, dup[] = { 1, 1 }, nan_b[] = { NAN };
	assert_null(rt_counter("1bad", "h", NULL));
	assert_null(rt_counter("bad-name", "h", NULL));
	assert_null(rt_counter("", "h", NULL));
	assert_null(rt_counter("t_lbl_total", "h", "k=v"));        /* unquoted */
	assert_null(rt_counter("t_lbl_total", "h", "k=\"v"));      /* unterminated */
	assert_null(rt_counter("t_lbl_total", "h", "k=\"a\\x\"")); /* bad escape */
	assert_null(rt_counter("t_lbl_total", "h", "k=\"a\","));   /* trailing comma */
	assert_null(rt_counter("t_lbl_total", "h", "__k=\"a\""));  /* reserved */
	assert_non_null(rt_counter("t_lbl_total", "h", "k=\"a\\\"b\",k2=\"\""));
	assert_null(rt_histogram("t_hist_seconds", "h", "le=\"1\"", ok, 2)); /* le is the runtime's */
	assert_null(rt_histogram("t_hist_seconds", "h", NULL, dup, 2));
	assert_null(rt_histogram("t_hist_seconds", "h", NULL, nan_b, 1));
	assert_non_null(rt_histogram("t_hist_seconds", "h", NULL, ok, 2));
	assert_null(rt_histogram("t_hist_seconds", "h", "x=\"1\"", ok, 1)); /* other bounds */
	assert_null(rt_gauge("t_hist_seconds", "h", NULL));                 /* other type */
	assert_null(rt_counter("t_g2_total", "h", NULL) ? rt_gauge("t_g2_total", "h", NULL) : (rt_metric *)1);
}

static void
test_label_escape(void **state)
{
	char out[64];
	size_t n = rt_label_escape("a\"b\\c\nd", out, sizeof out);
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	assert_int_equal(n, strlen("a\\\"b\\\\c\\nd"));
	char small[4];
	n = rt_label_escape("ab\"cd", small, sizeof small); /* never splits an escape */
	assert_int_equal(n, 6);                             /* a b \\ " c d */
	assert_string_equal(small, "ab");
	assert_int_equal(rt_label_escape("xyz", NULL, 0), 3);
}

static void
test_histogram_buckets(void **state)
{
	static const double b[] = { 1, 10, 100 };
	rt_metric *h = rt_histogram("t_hb", "h", NULL, b, 3);
	double vals[] = { -5, 1, 1.0000001, 10, 50, 1000, INFINITY };
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		rt_observe(h, vals[i]);
	rt_observe(h, NAN); /* ignored: it would poison _sum */
	assert_int_equal(rt_histogram_count(h), 7);
	char *t = rt_metrics_text(NULL);
	assert_non_null(strstr(t, "t_hb_bucket{le=\"1\"} 2\nt_hb_bucket{le=\"10\"} 4\nt_hb_bucket{le=\"100\"} 5\n"
	                          "t_hb_bucket{le=\"+Inf\"} 7\nt_hb_sum +Inf\nt_hb_count 7\n"));
	free(t);
}

static rt_metric *conc_c, *conc_g, *conc_h;
#define CONC_N 100000
static void *
conc_worker(void *arg)
{
	for (int i = 0; i < CONC_N; i++) {
		rt_inc(conc_c);
		rt_gauge_add(conc_g, 1.0);
		rt_observe(conc_h, 0.5);
	}
	return NULL;
}

static void
test_concurrent_updates(void **state)
{
	static const double b[] = { 1 };
	conc_c = rt_counter("t_conc_total", "h", NULL);
	conc_g = rt_gauge("t_conc_g", "h", NULL);
	conc_h = rt_histogram("t_conc_seconds", "h", NULL, b, 1);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, conc_worker, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(rt_counter_value(conc_c), 4 * CONC_N);
	assert_true(rt_gauge_value(conc_g) == 4.0 * CONC_N);
	assert_int_equal(rt_histogram_count(conc_h), 4 * CONC_N);
}

static int collector_calls;
static void
collector(void *arg)
{
	collector_calls++;
	rt_gauge_set(arg, collector_calls);
}

static void
test_process_and_promtool(void **state)
{
	rt_metrics_process_init();
	rt_metrics_process_init(); /* idempotent */
	rt_metric *g = rt_gauge("t_collected", "Set by a collector.", NULL);
	assert_int_equal(rt_metrics_collector(collector, g), 0);
	char *t = rt_metrics_text(NULL);
	assert_int_equal(collector_calls, 1);
	assert_non_null(strstr(t, "t_collected 1\n"));
	/* sample lines (after a newline), not the HELP lines */
	const char *names[] = { "\nprocess_resident_memory_bytes ", "\nprocess_cpu_seconds_total ",
		                "\nprocess_start_time_seconds ", "\nprocess_open_fds " };
	for (size_t i = 0; i < 4; i++) {
		char *p = strstr(t, names[i]);
		assert_non_null(p);
		assert_true(strtod(p + strlen(names[i]), NULL) >= 0);
	}
	/* RSS is real: more than 100 KiB, less than 1 GiB */
	double rss = strtod(strstr(t, names[0]) + strlen(names[0]), NULL);
	assert_true(rss > 100e3 && rss < 1e9);
	/* Exactly one HELP per family even with several series */
	char *first = strstr(t, "# HELP t_same_total");
	assert_non_null(first);
	assert_null(strstr(first + 1, "# HELP t_same_total"));

	if (access("/usr/bin/promtool", X_OK) == 0) {
		char path[] = "/tmp/rt_metrics_test_XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
		close(fd);
		char cmd[128];
		snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
		int rc = system(cmd);
		unlink(path);
		assert_int_equal(rc, 0);
	}
	free(t);
}

static void
test_labels(void **state)
{
	char b[128];
	assert_string_equal(rt_labels(b, sizeof b, "feed", "ETH-USD", NULL), "feed=\"ETH-USD\"");
	assert_string_equal(rt_labels(b, sizeof b, "feed", "a\"b\\c\nd", "reason", "first", NULL),
	                    "feed=\"a\\\"b\\\\c\\nd\",reason=\"first\"");
	assert_string_equal(rt_labels(b, sizeof b, "feed", "x", NULL, "ignored", NULL), "feed=\"x\"");
	char small[20];
	assert_string_equal(rt_labels(small, sizeof small, "feed", "ETH-USD", "reason", "first", NULL),
	                    "feed=\"ETH-USD\""); /* whole pairs only */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_text),           cmocka_unit_test(test_identity_and_values),
		cmocka_unit_test(test_validation),           cmocka_unit_test(test_label_escape),
		cmocka_unit_test(test_histogram_buckets),    cmocka_unit_test(test_concurrent_updates),
		cmocka_unit_test(test_process_and_promtool), cmocka_unit_test(test_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
