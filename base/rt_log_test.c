/* Unit tests for rt_log: each line parses back as JSON with the right fields and the exact
 * message (escaping of quotes, control bytes, invalid UTF-8), level filtering, extra fields,
 * whole lines under concurrency, and the state-change memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/rt_log.h"

/* Log into a fresh temp file; returns its fd (also the log fd). */
static int
capture(void)
{
	char path[] = "/tmp/rt_log_test_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	rt_log_set_fd(fd);
	return fd;
}

/* Everything logged so far; caller frees. */
static char *
captured(int fd)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *s = malloc((size_t)n + 1);
	assert_int_equal(pread(fd, s, (size_t)n, 0), n);
	s[n] = '\0';
	return s;
}

static json_t *
parse_line(const char *line)
{
	json_error_t e;
	json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL)
		fail_msg("not JSON (%s): %s", e.text, line);
	return j;
}

static void
test_line_is_json(void **state)
{
	int fd = capture();
	rt_log_set_identity("busd", "busd-\"0\"");
	rt_log_set_level(RT_DEBUG);
	rt_log(RT_INFO, "quote \" backslash \\ newline \n tab \t bell \a del \x7f utf8 \xc3\xa9 n=%d", 42);
	char *s = captured(fd);
	size_t len = strlen(s);
	assert_true(len > 0 && s[len - 1] == '\n');
	assert_null(memchr(s, '\n', len - 1)); /* one line */
	json_t *j = parse_line(s);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(j, "actor")), "busd");
	assert_string_equal(json_string_value(json_object_get(j, "instance")), "busd-\"0\"");
	assert_string_equal(json_string_value(json_object_get(j, "msg")),
	                    "quote \" backslash \\ newline \n tab \t bell \a del \x7f utf8 \xc3\xa9 n=42");
	const char *ts = json_string_value(json_object_get(j, "ts"));
	assert_non_null(ts);
	int y, mo, d, h, mi, sec, ms;
	char z;
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &sec, &ms, &z), 8);
	assert_true(y >= 2024 && z == 'Z');
	json_decref(j);
	free(s);
	close(fd);
}

static void
test_invalid_utf8_and_kv(void **state)
{
	int fd = capture();
	rt_log_set_level(RT_DEBUG);
	rt_logkv(RT_WARN, "source down", "source", "kra\xffken", "err", "time\"out", "empty", NULL, NULL);
	char *s = captured(fd);
	json_t *j = parse_line(s);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "source down");
	assert_string_equal(json_string_value(json_object_get(j, "source")), "kra\xef\xbf\xbdken");
	assert_string_equal(json_string_value(json_object_get(j, "err")), "time\"out");
	assert_string_equal(json_string_value(json_object_get(j, "empty")), "");
	json_decref(j);
	free(s);
	close(fd);
}

static void
test_levels(void **state)
{
	assert_int_equal(rt_log_parse_level("debug"), RT_DEBUG);
	assert_int_equal(rt_log_parse_level("INFO"), RT_INFO);
	assert_int_equal(rt_log_parse_level("warn"), RT_WARN);
	assert_int_equal(rt_log_parse_level("error"), RT_ERROR);
	assert_int_equal(rt_log_parse_level("verbose"), -1);
	assert_int_equal(rt_log_parse_level(NULL), -1);
	int fd = capture();
	rt_log_set_level(RT_WARN);
	rt_log(RT_DEBUG, "no");
	rt_log(RT_INFO, "no");
	rt_logkv(RT_INFO, "no", "k", "v", NULL);
	rt_log(RT_ERROR, "yes");
	char *s = captured(fd);
	json_t *j = parse_line(s);
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "yes");
	assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
	json_decref(j);
	free(s);
	close(fd);
	rt_log_set_level(RT_INFO);
}

#define THREADS 4
#define LINES   200
static void *
writer(void *arg)
{
	char big[6000]; /* longer than PIPE_BUF: atomicity must come from the runtime */
	memset(big, 'a' + (int)(intptr_t)arg, sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (int i = 0; i < LINES; i++)
		rt_log(RT_INFO, "%d %s", i, big);
	return NULL;
}

static void
test_concurrent_lines_whole(void **state)
{
	int fd = capture();
	rt_log_set_level(RT_INFO);
	rt_log_set_rate_limit(0, 1); /* every line, for this test */
	pthread_t th[THREADS];
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	char *s = captured(fd);
	int lines = 0;
	for (char *line = s, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		json_t *j = parse_line(line);
		const char *msg = json_string_value(json_object_get(j, "msg"));
		const char *sp = strchr(msg, ' ');
		assert_non_null(sp);
		assert_int_equal(strlen(sp + 1), 5999);
		assert_int_equal(strspn(sp + 1, (char[]){ sp[1], 0 }), 5999); /* one writer's bytes only */
		json_decref(j);
		lines++;
	}
	assert_int_equal(lines, THREADS * LINES);
	free(s);
	close(fd);
	rt_log_set_rate_limit(RT_LOG_BURST, RT_LOG_WINDOW_S);
}

static int
count_lines(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
flood_line(int i)
{
	rt_log(RT_WARN, "dropped malformed frame %d", i); /* one call site */
}

/* 1,000 lines from one call site in a flood: at most a burst per window get out, the rest are
 * counted, the next line after the window reports them, and another site is not silenced. */
static void
test_rate_limit(void **state)
{
	int fd = capture();
	rt_log_set_rate_limit(5, 1);
	unsigned long long sup0 = rt_log_suppressed();
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000; i++)
		flood_line(i);
	rt_log(RT_WARN, "another site");
	char *s = captured(fd);
	int written = count_lines(s, "dropped malformed frame");
	assert_true(written >= 5 && written <= 10); /* a window may have turned during the loop */
	assert_int_equal(rt_log_suppressed() - sup0, (unsigned long long)(1000 - written));
	assert_int_equal(count_lines(s, "another site"), 1);
	free(s);
	/* wait for the next window (an event on the monotonic clock), then one line says how many */
	for (;;) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec > t0.tv_sec + 1)
			break;
		usleep(20000);
	}
	ftruncate(fd, 0);
	lseek(fd, 0, SEEK_SET);
	flood_line(0);
	s = captured(fd);
	assert_non_null(strstr(s, "\"suppressed\":"));
	free(s);
	close(fd);
	rt_log_set_rate_limit(RT_LOG_BURST, RT_LOG_WINDOW_S);
}

static void
test_state_change(void **state)
{
	assert_int_equal(rt_log_state_change("kraken", "down"), 1); /* first sight */
	assert_int_equal(rt_log_state_change("kraken", "down"), 0);
	assert_int_equal(rt_log_state_change("binance", "down"), 1);
	assert_int_equal(rt_log_state_change("kraken", "up"), 1);
	assert_int_equal(rt_log_state_change("kraken", "up"), 0);
	assert_int_equal(rt_log_state_change("binance", "down"), 0);
	assert_int_equal(rt_log_state_change("kraken", "down"), 1);
}

/* Thousands of keys (a median at 500 feeds x 3 sources) each remembered on its own; past 4,096 keys
 * a new one is not remembered (always "changed": logged, never silenced), the known ones still
 * are; a key longer than 256 bytes is not remembered either. */
static void
test_state_change_many(void **state)
{
	char key[300];
	for (int i = 0; i < 4000; i++) { /* with test_state_change's two: 4,002 */
		snprintf(key, sizeof key, "outlier:F%04d-USD:src", i);
		assert_int_equal(rt_log_state_change(key, "ok"), 1);
	}
	for (int i = 0; i < 4000; i++) {
		snprintf(key, sizeof key, "outlier:F%04d-USD:src", i);
		assert_int_equal(rt_log_state_change(key, "ok"), 0);
		assert_int_equal(rt_log_state_change(key, i % 2 ? "ok" : "outlier"), i % 2 == 0);
	}
	for (int i = 0; i < 200; i++) { /* 94 more are remembered, then none */
		snprintf(key, sizeof key, "late:%d", i);
		assert_int_equal(rt_log_state_change(key, "down"), 1);
		assert_int_equal(rt_log_state_change(key, "down"), i >= 94);
	}
	assert_int_equal(rt_log_state_change("outlier:F0001-USD:src", "ok"), 0);
	memset(key, 'k', 257);
	key[257] = 0;
	assert_int_equal(rt_log_state_change(key, "x"), 1);
	assert_int_equal(rt_log_state_change(key, "x"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_is_json),
		cmocka_unit_test(test_invalid_utf8_and_kv),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_concurrent_lines_whole),
		cmocka_unit_test(test_state_change),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_state_change_many),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rt_log_set_fd(2);
	return rc;
}
