/* rt_main: actor lifecycle (see rt_main.h). Stop requests go through a self-pipe so a signal
 * handler stays async-signal-safe and poll loops can wait on rt_stop_fd() beside their sockets. */
#include "base/rt_main.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_metrics.h"
#include "base/rt_version.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static atomic_int rtm_stop;
static int rtm_pipe[2] = { -1, -1 };
static const rt_opt *rtm_opts;
static size_t rtm_nopts;
static char rtm_actor_name[64];

/* The common options every actor gets; appended to the actor's table. */
static const char *rtm_log_level = "info";
static const char *rtm_instance_env;
static int64_t rtm_http_port = -1, rtm_metrics_port = 8000, rtm_health_port = 8080; /* -1: unset */
static const char *rtm_http_addr = "0.0.0.0";
static uint64_t rtm_http_maxconn, rtm_http_perip, rtm_http_timeout_ms;

static void
rtm_check_level(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	if (rt_log_parse_level(rtm_log_level) < 0)
		rt_config_error(e, o->env, "'%.40s' is not a level (debug, info, warn, error)", rtm_log_level);
}

/* HTTP_PORT is the one-port form of earlier releases: with it, the two seed ports are not used, and
 * naming both forms is a contradiction, refused rather than resolved by a rule nobody remembers. */
static void
rtm_check_ports(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	const char *p = getenv("HTTP_PORT"), *m = getenv("METRICS_PORT"), *h = getenv("HEALTH_PORT");
	if (p && *p && ((m && *m) || (h && *h)))
		rt_config_error(e, o->env,
		                "set either HTTP_PORT (one port for everything) or METRICS_PORT/HEALTH_PORT, "
		                "not both");
}

static const rt_opt rtm_common[] = {
	{ "LOG_LEVEL", RT_STR, "info", "log level: debug, info, warn or error", &rtm_log_level, 0, 0, 0, 0 },
	{ "INSTANCE", RT_STR, NULL, "instance name in logs, health and bus origin (default <actor>-<hostname>)",
	  &rtm_instance_env, 0, 0, 0, 0 },
	{ "METRICS_PORT", RT_I64, "8000", "port serving GET /metrics only (the seed's 8000); 0 = none",
	  &rtm_metrics_port, 0, 65535, 0, 0 },
	{ "HEALTH_PORT", RT_I64, "8080",
	  "port serving GET /health and the actor's own routes, /metrics too "
	  "(the seed's 8080); 0 = none; equal to METRICS_PORT = one listener",
	  &rtm_health_port, 0, 65535, 0, 0 },
	{ "HTTP_PORT", RT_I64, NULL,
	  "compatibility: when set, one port for everything and METRICS_PORT/HEALTH_PORT "
	  "are not used (setting both is an error); 0 = no HTTP server",
	  &rtm_http_port, 0, 65535, 0, 0 },
	{ "HTTP_ADDR", RT_STR, "0.0.0.0", "address the HTTP server binds", &rtm_http_addr, 0, 0, 0, 0 },
	{ "HTTP_MAX_CONNECTIONS", RT_U64, "64",
	  "HTTP connections open at once; more are refused "
	  "(http_connections_refused_total)",
	  &rtm_http_maxconn, 1, 100000, 0, 0 },
	{ "HTTP_MAX_PER_IP", RT_U64, "16", "HTTP connections open at once from one client address", &rtm_http_perip, 1,
	  100000, 0, 0 },
	{ "HTTP_IDLE_TIMEOUT", RT_DURATION, "10s",
	  "an HTTP connection idle or trickling for this long is closed "
	  "(slowloris)",
	  &rtm_http_timeout_ms, 1000, 3600000, 0, 0 },
	RT_CHECK_ROW("LOG_LEVEL", rtm_check_level),
	RT_CHECK_ROW("HTTP_PORT", rtm_check_ports),
};
#define RTM_NCOMMON (sizeof rtm_common / sizeof rtm_common[0])

static void
rtm_wake(void)
{
	if (rtm_pipe[1] >= 0) {
		int saved = errno; /* signal handlers must not clobber errno */
		ssize_t w = write(rtm_pipe[1], "x", 1);
		(void)w; /* a full pipe is already readable */
		errno = saved;
	}
}

static void
rtm_on_signal(int sig)
{
	if (atomic_exchange(&rtm_stop, 1)) {
		static const char msg[] = "{\"level\":\"error\",\"msg\":\"second signal: exiting at once\"}\n";
		ssize_t w = write(2, msg, sizeof msg - 1);
		(void)w;
		_exit(128 + sig);
	}
	rtm_wake();
}

void
rt_request_stop(void)
{
	atomic_store(&rtm_stop, 1);
	rtm_wake();
}

int
rt_stopping(void)
{
	return atomic_load(&rtm_stop);
}
int
rt_stop_fd(void)
{
	return rtm_pipe[0];
}

int
rt_sleep_ms(uint64_t ms)
{
	uint64_t end = rt_mono_ns() + ms * 1000000ull;
	while (!rt_stopping()) {
		uint64_t now = rt_mono_ns();
		if (now >= end)
			break;
		uint64_t left = (end - now + 999999) / 1000000;
		struct pollfd p = { rtm_pipe[0], POLLIN, 0 };
		if (rtm_pipe[0] < 0) {
			struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		} else {
			poll(&p, 1, left > 60000 ? 60000 : (int)left);
		}
	}
	return rt_stopping();
}

uint64_t
rt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
rt_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *
rt_instance(void)
{
	return rt_log_instance();
}
const char *
rt_actor(void)
{
	return rt_log_actor();
}

static void
rtm_usage(const char *actor, const rt_opt *opts, size_t n, int full)
{
	if (full)
		printf("%s: an oraclebus actor, configured by environment variables.\n"
		       "Usage: %s [--help] [--version] [--env-table] [--check-config]\n"
		       "  --check-config  validate the configuration, list every problem, exit 0 or %d (EX_CONFIG)\n"
		       "  --version       print '%s VERSION (git REVISION, built DATE)' and exit 0\n"
		       "Exit: 0 stopped cleanly, 1 runtime failure, 2 usage, %d configuration.\n\n",
		       actor, actor, RT_EXIT_CONFIG, actor, RT_EXIT_CONFIG);
	rt_config_usage(opts, n, stdout);
	rt_config_usage_rows(rtm_common, RTM_NCOMMON, stdout);
	fflush(stdout);
}

static int
rtm_signals(void)
{
	if (pipe2(rtm_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = rtm_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

/* Starts an HTTP listener with the process signals blocked, so its thread inherits a blocked mask
 * and every signal lands on the actor's own threads. A port that cannot be bound is fatal: an
 * actor without its health port would look dead to its supervisor, or worse, alive to nobody. */
static void
rtm_http(const char *var, int64_t port, int metrics_only)
{
	char url[300];
	const char *a = rtm_http_addr;
	snprintf(url, sizeof url, strchr(a, ':') ? "http://[%s]:%lld" : "http://%s:%lld", a, (long long)port);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = metrics_only ? rt_http_start_metrics(url) : rt_http_start(url);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		rt_log(RT_ERROR,
		       "%s %lld: cannot listen on %s (port in use, or HTTP_ADDR not an address of this "
		       "host); set %s to a free port or 0 for none",
		       var, (long long)port, url, var);
		exit(1);
	}
	rt_logkv(RT_INFO, "http listening", "url", url, "serves", metrics_only ? "/metrics" : "every route", NULL);
}

int
rt_init(const char *actor, int argc, char **argv, const rt_opt *opts, size_t nopts)
{
	/* An actor has few threads and small allocations: two arenas keep per-thread heaps from
	 * multiplying the resident set. */
	mallopt(M_ARENA_MAX, 2);
	snprintf(rtm_actor_name, sizeof rtm_actor_name, "%s", actor);
	rt_log_set_identity(actor, actor);

	rt_opt *all = calloc(nopts + RTM_NCOMMON, sizeof *all);
	if (all == NULL)
		return -1;
	if (nopts)
		memcpy(all, opts, nopts * sizeof *opts);
	memcpy(all + nopts, rtm_common, sizeof rtm_common);

	int check_only = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check-config") == 0)
			check_only = 1;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--env-table") == 0) {
			rtm_usage(actor, opts, nopts, strcmp(argv[i], "--env-table") != 0);
			free(all);
			exit(0);
		}
		if (strcmp(argv[i], "--version") == 0) {
			rt_version_print(actor, stdout);
			free(all);
			exit(0);
		}
	}
	/* Actors are configured by the environment: any other argument is a mistake, said at once
	 * rather than ignored (a flag meant for a tool, a typo of --check-config). */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--check-config") != 0) {
			fprintf(stderr,
			        "%s: unknown %s '%s'\nUsage: %s [--help] [--version] [--env-table] "
			        "[--check-config]; settings are environment variables (see --help)\n",
			        actor, argv[i][0] == '-' ? "option" : "argument", argv[i], actor);
			free(all);
			exit(RT_EXIT_USAGE);
		}

	/* Every problem of the actor's table, its checks and the common options, in one list. */
	char err[8192];
	int rc = rt_config_load(all, nopts + RTM_NCOMMON, err, sizeof err);
	int level = rt_log_parse_level(rtm_log_level);
	free(all);

	char inst[128], host[64] = "localhost";
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	if (rtm_instance_env && *rtm_instance_env)
		snprintf(inst, sizeof inst, "%s", rtm_instance_env);
	else
		snprintf(inst, sizeof inst, "%s-%s", actor, host);
	rt_log_set_identity(actor, inst);
	rt_log_set_level(level < 0 ? RT_INFO : level);

	if (rc != 0) {
		for (char *line = err, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			rt_log(RT_ERROR, "config: %s", line);
		}
		rt_log(RT_ERROR, "invalid configuration; see %s --env-table", actor);
		rt_config_free(opts, nopts);
		exit(RT_EXIT_CONFIG);
	}
	if (check_only) {
		rt_log(RT_INFO, "configuration valid (--check-config)");
		rt_config_free(opts, nopts);
		exit(0);
	}
	rtm_opts = opts;
	rtm_nopts = nopts;

	if (rtm_signals() != 0)
		return -1;
	rt_metrics_process_init();
	rt_build_info_metric();
	rt_http_limits lim = { (unsigned)rtm_http_maxconn, (unsigned)rtm_http_perip,
		               (unsigned)(rtm_http_timeout_ms / 1000) };
	rt_http_set_limits(&lim);
	rt_starting(NULL);        /* before the listener: its first answer is 503 "starting", never a 200 too soon */
	if (rtm_http_port >= 0) { /* HTTP_PORT given: the one-port form */
		if (rtm_http_port > 0)
			rtm_http("HTTP_PORT", rtm_http_port, 0);
	} else {
		if (rtm_health_port > 0)
			rtm_http("HEALTH_PORT", rtm_health_port, 0);
		if (rtm_metrics_port > 0 && rtm_metrics_port != rtm_health_port)
			rtm_http("METRICS_PORT", rtm_metrics_port, 1);
	}
	rt_logkv(RT_INFO, "started", "version", rt_version(), "revision", rt_revision(), NULL);
	return 0;
}

void
rt_shutdown(void)
{
	rt_http_stop();
	rt_log(RT_INFO, "stopped");
	rt_config_free(rtm_opts, rtm_nopts);
	rtm_opts = NULL;
	rtm_nopts = 0;
}

void
rt_no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static size_t
rtm_round_pages(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return n == 0 ? page : (n + page - 1) / page * page;
}

void *
rt_secret_alloc(size_t n)
{
	size_t len = rtm_round_pages(n);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)mlock(p, len); /* may fail without CAP_IPC_LOCK or over RLIMIT_MEMLOCK: best effort */
	(void)madvise(p, len, MADV_DONTDUMP);
	return p;
}

void
rt_secret_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	size_t len = rtm_round_pages(n);
	explicit_bzero(p, len);
	munlock(p, len);
	munmap(p, len);
}
