/* Unit tests for rt_main: rt_init (identity, instance default, config, --env-table and bad
 * configuration exit codes in child processes), the start-up ("starting" on /health until rt_ready
 * and every gate), graceful signals (first stops, second exits),
 * stop wake-ups, clocks, core-dump suppression and secret memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/util.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "base/rt_version.h"

static uint64_t tick;
static const rt_opt opts[] = {
	{ "T_TICK", RT_DURATION, "1s", "tick", &tick, 0, 0, 0, 0 },
};

/* Runs fn in a child with stdout/stderr to files; returns the wait status. */
static int
in_child(void (*fn)(void), char *out, size_t olen)
{
	char path[] = "/tmp/rt_main_test_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		rt_log_set_fd(2);
		fn();
		_exit(99);
	}
	int st;
	waitpid(pid, &st, 0);
	ssize_t n = pread(fd, out, olen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return st;
}

static void
child_env_table(void)
{
	char *argv[] = { "x", "--env-table", NULL };
	rt_init("tester", 2, argv, opts, OB_COUNT(opts));
}

static void
child_bad_config(void)
{
	setenv("T_TICK", "soon", 1);
	setenv("HTTP_PORT", "-1", 1);
	setenv("LOG_LEVEL", "loud", 1);
	char *argv[] = { "x", NULL };
	rt_init("tester", 1, argv, opts, OB_COUNT(opts));
}

/* --check-config: validates, says so, exits 0 without starting (no "started" line). */
static void
child_check_ok(void)
{
	unsetenv("HTTP_PORT");
	unsetenv("LOG_LEVEL");
	setenv("T_TICK", "2s", 1);
	char *argv[] = { "x", "--check-config", NULL };
	rt_init("tester", 2, argv, opts, OB_COUNT(opts));
}

static void
child_check_bad(void)
{
	setenv("T_TICK", "2 s", 1);
	char *argv[] = { "x", "--check-config", NULL };
	rt_init("tester", 2, argv, opts, OB_COUNT(opts));
}

static void
child_version(void)
{
	char *argv[] = { "x", "--version", NULL };
	rt_init("tester", 2, argv, opts, OB_COUNT(opts));
}

/* Actors take no arguments: a stray one is a usage error, before the configuration is read. */
static void
child_unknown(void)
{
	setenv("T_TICK", "soon", 1); /* would be 78 if the configuration were read first */
	char *argv[] = { "x", "--check-config", "--verbose", NULL };
	rt_init("tester", 3, argv, opts, OB_COUNT(opts));
}

static void
child_two_signals(void)
{
	char *argv[] = { "x", NULL };
	unsetenv("T_TICK");
	setenv("HTTP_PORT", "0", 1); /* no listener: the seed's 8000/8080 may be taken on a test host */
	if (rt_init("tester", 1, argv, opts, OB_COUNT(opts)) != 0)
		_exit(98);
	raise(SIGTERM);
	if (!rt_stopping())
		_exit(97);
	raise(SIGINT); /* the second signal exits at once */
	_exit(96);
}

/* A listening socket on a free loopback port (the caller closes it); its port in *port. */
static int
listen_any(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* The status of GET path on 127.0.0.1:port, or -1. */
static int
http_status(int port, const char *path)
{
	char req[128], resp[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
		int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
		if (write(fd, req, (size_t)n) == n) {
			ssize_t r = read(fd, resp, sizeof resp - 1);
			resp[r > 0 ? r : 0] = '\0';
			if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
				status = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return status;
}

/* METRICS_PORT serves /metrics only; HEALTH_PORT every route. Exits 0 when all holds, else a step. */
static void
child_two_ports(void)
{
	char *argv[] = { "x", NULL }, v[16];
	int mp, hp;
	close(listen_any(&mp));
	close(listen_any(&hp));
	unsetenv("HTTP_PORT");
	snprintf(v, sizeof v, "%d", mp);
	setenv("METRICS_PORT", v, 1);
	snprintf(v, sizeof v, "%d", hp);
	setenv("HEALTH_PORT", v, 1);
	setenv("HTTP_ADDR", "127.0.0.1", 1);
	if (rt_init("tester", 1, argv, opts, OB_COUNT(opts)) != 0)
		_exit(10);
	if (rt_http_port() != hp || rt_http_metrics_port() != mp)
		_exit(11);
	if (http_status(mp, "/metrics") != 200 || http_status(mp, "/health") != 404)
		_exit(12);
	if (http_status(hp, "/health") != 503 || http_status(hp, "/metrics") != 200) /* starting */
		_exit(13);
	rt_ready();
	if (http_status(hp, "/health") != 200)
		_exit(14);
	rt_shutdown();
	_exit(0);
}

static int
flag_set(void *arg)
{
	return *(volatile int *)arg;
}

/* The text of the "starting" reason ("" when there is none). */
static void
starting_text(char *out, size_t cap)
{
	rt_buf b = { 0 };
	rt_health_json(&b);
	const char *p = b.data ? strstr((const char *)b.data, "{\"key\":\"starting\",\"text\":\"") : NULL;
	out[0] = '\0';
	if (p != NULL) {
		p += strlen("{\"key\":\"starting\",\"text\":\"");
		snprintf(out, cap, "%.*s", (int)strcspn(p, "\""), p);
	}
	rt_buf_free(&b);
}

/* The start-up over HTTP: 503 "starting" from the first answer, what rt_starting says, a gate holding
 * the end after rt_ready, 200 once it holds (asked by the HTTP thread), and nothing after that brings
 * "starting" back. Exits 0 when all holds, else the step. */
static void
child_starting(void)
{
	char *argv[] = { "x", NULL }, v[16], t[256];
	int hp;
	static volatile int bus_up;
	close(listen_any(&hp));
	snprintf(v, sizeof v, "%d", hp);
	setenv("HTTP_PORT", v, 1);
	setenv("HTTP_ADDR", "127.0.0.1", 1);
	if (rt_init("tester", 1, argv, opts, OB_COUNT(opts)) != 0)
		_exit(10);
	starting_text(t, sizeof t);
	if (http_status(hp, "/health") != 503 || strcmp(t, "starting") != 0 || rt_is_ready())
		_exit(11);
	rt_starting("opening the store");
	starting_text(t, sizeof t);
	if (strcmp(t, "starting: opening the store") != 0)
		_exit(12);
	int id = rt_ready_gate("the bus", flag_set, (void *)&bus_up);
	int gone = rt_ready_gate("a gate removed", flag_set, (void *)&bus_up);
	if (id <= 0 || gone <= 0 || gone == id)
		_exit(13);
	rt_ready_gate_del(gone);
	rt_ready();
	starting_text(t, sizeof t);
	if (http_status(hp, "/health") != 503 || strcmp(t, "starting: waiting for the bus") != 0 || rt_is_ready())
		_exit(14);
	bus_up = 1;
	if (http_status(hp, "/health") != 200 || !rt_is_ready())
		_exit(15);
	bus_up = 0; /* a gate is a start-up condition: never asked again */
	rt_starting("again");
	if (http_status(hp, "/health") != 200 || rt_ready_gate("late", flag_set, (void *)&bus_up) != 0)
		_exit(16);
	rt_ready(); /* a second call does nothing */
	if (http_status(hp, "/health") != 200)
		_exit(17);
	rt_shutdown();
	_exit(0);
}

static void
test_starting(void **state)
{
	char out[8192];
	int st = in_child(child_starting, out, sizeof out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "%s\n", out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(out, "\"msg\":\"start-up done: /health no longer says starting\""));
}

/* A port already taken: exit 1, the variable and port named. */
static int taken_port;
static void
child_port_taken(void)
{
	char *argv[] = { "x", NULL }, v[16];
	unsetenv("HTTP_PORT");
	setenv("METRICS_PORT", "0", 1);
	snprintf(v, sizeof v, "%d", taken_port);
	setenv("HEALTH_PORT", v, 1);
	setenv("HTTP_ADDR", "127.0.0.1", 1);
	rt_init("tester", 1, argv, opts, OB_COUNT(opts));
	_exit(0);
}

static void
child_both_forms(void)
{
	char *argv[] = { "x", NULL };
	setenv("HTTP_PORT", "0", 1);
	setenv("METRICS_PORT", "9", 1);
	rt_init("tester", 1, argv, opts, OB_COUNT(opts));
	_exit(0);
}

static void
test_ports(void **state)
{
	char out[8192];
	int st = in_child(child_two_ports, out, sizeof out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "%s\n", out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(out, "\"serves\":\"/metrics\""));

	int fd = listen_any(&taken_port);
	st = in_child(child_port_taken, out, sizeof out);
	close(fd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	char want[64];
	snprintf(want, sizeof want, "HEALTH_PORT %d: cannot listen", taken_port);
	assert_non_null(strstr(out, want));
	assert_null(strstr(out, "\"msg\":\"started\""));

	st = in_child(child_both_forms, out, sizeof out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), RT_EXIT_CONFIG);
	assert_non_null(strstr(out, "HTTP_PORT: set either HTTP_PORT"));
}

static void
test_exits(void **state)
{
	char out[8192];
	int st = in_child(child_env_table, out, sizeof out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(out, "| variable | default | meaning |\n|---|---|---|\n| `T_TICK` | `1s` | tick"));
	assert_non_null(strstr(out, "| `LOG_LEVEL` |"));
	assert_non_null(strstr(out, "| `INSTANCE` |"));
	assert_non_null(strstr(out, "| `HTTP_ADDR` | `0.0.0.0` |"));

	st = in_child(child_bad_config, out, sizeof out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), RT_EXIT_CONFIG);
	assert_int_equal(RT_EXIT_CONFIG, 78); /* EX_CONFIG: operators and scripts rely on the number */
	assert_non_null(strstr(out, "T_TICK: 'soon' is not a duration"));
	assert_non_null(strstr(out, "HTTP_PORT: '-1' is out of range [0, 65535]"));
	assert_non_null(strstr(out, "LOG_LEVEL: 'loud' is not a level"));
	assert_non_null(strstr(out, "\"level\":\"error\""));

	st = in_child(child_check_ok, out, sizeof out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(out, "configuration valid"));
	assert_null(strstr(out, "\"msg\":\"started\""));
	st = in_child(child_check_bad, out, sizeof out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), RT_EXIT_CONFIG);
	assert_non_null(strstr(out, "T_TICK: '2 s' is not a duration"));

	st = in_child(child_version, out, sizeof out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[256];
	snprintf(want, sizeof want, "tester %s (git %s, built %s)\n", rt_version(), rt_revision(), rt_build_date());
	assert_string_equal(out, want);
	assert_true(strlen(rt_version()) > 0 && strlen(rt_revision()) > 0);

	st = in_child(child_unknown, out, sizeof out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), RT_EXIT_USAGE);
	assert_non_null(strstr(out, "tester: unknown option '--verbose'"));
	assert_null(strstr(out, "T_TICK"));

	st = in_child(child_two_signals, out, sizeof out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 128 + SIGINT);
}

static void *
stopper(void *arg)
{
	struct timespec ts = { 0, 50 * 1000000 };
	nanosleep(&ts, NULL);
	rt_request_stop();
	return NULL;
}

/* Last in order: it leaves the process "stopping". */
static void
test_init_and_stop(void **state)
{
	char *argv[] = { "x", NULL };
	setenv("HTTP_PORT", "0", 1);
	setenv("T_TICK", "250ms", 1);
	setenv("INSTANCE", "tester-7", 1);
	assert_int_equal(rt_init("tester", 1, argv, opts, OB_COUNT(opts)), 0);
	assert_int_equal(tick, 250);
	assert_string_equal(rt_instance(), "tester-7");
	assert_string_equal(rt_actor(), "tester");
	char *text = rt_metrics_text(NULL), want[256];
	assert_non_null(text);
	snprintf(want, sizeof want, "\noraclebus_build_info{version=\"%s\",revision=\"%s\"} 1\n", rt_version(),
	         rt_revision());
	assert_non_null(strstr(text, want));
	free(text);
	assert_false(rt_stopping());
	assert_true(rt_stop_fd() >= 0);

	uint64_t t0 = rt_mono_ns();
	assert_false(rt_sleep_ms(30)); /* a plain sleep */
	assert_true(rt_mono_ns() - t0 >= 30 * 1000000ull);

	pthread_t th;
	t0 = rt_mono_ns();
	pthread_create(&th, NULL, stopper, NULL);
	assert_true(rt_sleep_ms(10000)); /* woken early by the stop */
	pthread_join(th, NULL);
	assert_true(rt_mono_ns() - t0 < 5000 * 1000000ull);
	assert_true(rt_stopping());
	rt_shutdown();
	unsetenv("INSTANCE");
	unsetenv("T_TICK");
}

static void
test_clocks(void **state)
{
	uint64_t now = rt_now_ns();
	time_t t = time(NULL);
	assert_true(now / 1000000000ull >= (uint64_t)t - 1 && now / 1000000000ull <= (uint64_t)t + 1);
	uint64_t a = rt_mono_ns(), b = rt_mono_ns();
	assert_true(b >= a);
}

static void
test_secrets(void **state)
{
	uint8_t *k = rt_secret_alloc(32);
	assert_non_null(k);
	assert_int_equal((uintptr_t)k % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
	for (int i = 0; i < 32; i++)
		assert_int_equal(k[i], 0);
	memset(k, 0x5a, 32);
	rt_secret_free(k, 32);
	rt_secret_free(NULL, 32);

	rt_no_core_dumps();
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exits),  cmocka_unit_test(test_ports),   cmocka_unit_test(test_starting),
		cmocka_unit_test(test_clocks), cmocka_unit_test(test_secrets), cmocka_unit_test(test_init_and_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
