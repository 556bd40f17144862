/* rt_log: JSON log lines (see rt_log.h). Lines are built in a heap buffer (logging is not a
 * fast path) and written with a single write(2) under a mutex, so they stay whole even when
 * longer than PIPE_BUF and several threads log at once. */
#include "base/rt_log.h"
#include "base/rt_buf.h"
#include "base/table.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *const rtl_names[] = { "debug", "info", "warn", "error" };

static pthread_mutex_t rtl_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int rtl_level = RT_INFO;
static int rtl_fd = 2;
static char rtl_actor[64];
static char rtl_instance[128];

void
rt_log_set_identity(const char *actor, const char *instance)
{
	pthread_mutex_lock(&rtl_mu);
	snprintf(rtl_actor, sizeof rtl_actor, "%s", actor ? actor : "");
	snprintf(rtl_instance, sizeof rtl_instance, "%s", instance ? instance : "");
	pthread_mutex_unlock(&rtl_mu);
}

const char *
rt_log_actor(void)
{
	return rtl_actor;
}
const char *
rt_log_instance(void)
{
	return rtl_instance;
}

void
rt_log_set_level(int level)
{
	if (level >= RT_DEBUG && level <= RT_ERROR)
		atomic_store(&rtl_level, level);
}

int
rt_log_get_level(void)
{
	return atomic_load(&rtl_level);
}

int
rt_log_enabled(int level)
{
	return level >= atomic_load(&rtl_level);
}

void
rt_log_set_fd(int fd)
{
	pthread_mutex_lock(&rtl_mu);
	rtl_fd = fd;
	pthread_mutex_unlock(&rtl_mu);
}

int
rt_log_parse_level(const char *s)
{
	if (s == NULL)
		return -1;
	for (int i = RT_DEBUG; i <= RT_ERROR; i++)
		if (strcasecmp(s, rtl_names[i]) == 0)
			return i;
	if (strcasecmp(s, "warning") == 0)
		return RT_WARN;
	return -1;
}

/* Opens a line: {"ts":...,"level":...,"actor":...,"instance":...,"msg":<msg> */
static void
rtl_begin(rt_buf *b, int level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	rt_buf_printf(
	        b, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"actor\":", tm.tm_year + 1900,
	        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, rtl_names[level]);
	pthread_mutex_lock(&rtl_mu);
	rt_buf_json_str(b, rtl_actor);
	rt_buf_puts(b, ",\"instance\":");
	rt_buf_json_str(b, rtl_instance);
	pthread_mutex_unlock(&rtl_mu);
	rt_buf_puts(b, ",\"msg\":");
	rt_buf_json_str(b, msg);
}

static void
rtl_emit(rt_buf *b)
{
	rt_buf_puts(b, "}\n");
	if (b->oom)
		return;
	pthread_mutex_lock(&rtl_mu);
	const uint8_t *p = b->data;
	size_t left = b->len;
	while (left > 0) { /* one write(2) normally; loop only on a partial write */
		ssize_t w = write(rtl_fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		left -= (size_t)w;
	}
	pthread_mutex_unlock(&rtl_mu);
}

/* ---- rate limit per call site ----
 * A line that repeats (a malformed frame a second from a broken peer, a source down) must not fill
 * the disk or drown the other lines: each call site (its format string, by address) may write
 * RT_LOG_BURST lines per RT_LOG_WINDOW_S seconds; the rest are counted, and the site's next line
 * after the window says how many were suppressed. Sites are tracked in a fixed table; a site that
 * finds the table full shares its last slot, so memory stays bounded whatever is logged. */
#define RTL_SITES 128

typedef struct {
	const void *site;
	uint64_t window; /* RT_LOG_WINDOW_S-long window number (monotonic seconds / window) */
	uint32_t lines;  /* written in this window */
	uint64_t held;   /* suppressed since the last line written */
} rtl_site;

static pthread_mutex_t rtl_rl_mu = PTHREAD_MUTEX_INITIALIZER;
static rtl_site rtl_sites[RTL_SITES];
static atomic_ullong rtl_suppressed;
static uint32_t rtl_burst = RT_LOG_BURST, rtl_window_s = RT_LOG_WINDOW_S;

void
rt_log_set_rate_limit(unsigned burst, unsigned window_s)
{
	pthread_mutex_lock(&rtl_rl_mu);
	rtl_burst = burst;
	rtl_window_s = window_s ? window_s : 1;
	memset(rtl_sites, 0, sizeof rtl_sites);
	pthread_mutex_unlock(&rtl_rl_mu);
}

/* 1 when the line may be written; *held is then the number suppressed before it (to report). */
static int
rtl_allow(const void *site, uint64_t *held)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	size_t i = ((uintptr_t)site >> 3) % RTL_SITES, probes = 0;
	int ok;
	pthread_mutex_lock(&rtl_rl_mu);
	uint64_t window = (uint64_t)ts.tv_sec / rtl_window_s;
	while (rtl_sites[i].site != NULL && rtl_sites[i].site != site && probes++ < RTL_SITES - 1)
		i = (i + 1) % RTL_SITES;
	rtl_site *s = &rtl_sites[i];
	if (s->site == NULL)
		s->site = site;
	if (s->window != window) {
		s->window = window;
		s->lines = 0;
	}
	ok = rtl_burst == 0 || s->lines < rtl_burst;
	if (ok) {
		s->lines++;
		*held = s->held;
		s->held = 0;
	} else {
		s->held++;
		atomic_fetch_add(&rtl_suppressed, 1);
	}
	pthread_mutex_unlock(&rtl_rl_mu);
	return ok;
}

unsigned long long
rt_log_suppressed(void)
{
	return atomic_load(&rtl_suppressed);
}

static void
rtl_add_held(rt_buf *b, uint64_t held)
{
	if (held)
		rt_buf_printf(b, ",\"suppressed\":%llu", (unsigned long long)held);
}

static int
rtl_clamp(int level)
{
	return level < RT_DEBUG ? RT_DEBUG : level > RT_ERROR ? RT_ERROR : level;
}

void
rt_log(int level, const char *fmt, ...)
{
	level = rtl_clamp(level);
	uint64_t held;
	if (!rt_log_enabled(level) || !rtl_allow(fmt, &held))
		return;
	va_list ap;
	char small[512];
	char *msg = small;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof small && (msg = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	if (msg == NULL)
		msg = small; /* truncated rather than lost */
	rt_buf b = RT_BUF_INIT;
	rtl_begin(&b, level, msg);
	rtl_add_held(&b, held);
	rtl_emit(&b);
	rt_buf_free(&b);
	if (msg != small)
		free(msg);
}

void
rt_logkv(int level, const char *msg, ...)
{
	level = rtl_clamp(level);
	uint64_t held;
	if (!rt_log_enabled(level) || !rtl_allow(msg, &held))
		return;
	rt_buf b = RT_BUF_INIT;
	rtl_begin(&b, level, msg);
	rtl_add_held(&b, held);
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (k == NULL)
			break;
		const char *v = va_arg(ap, const char *);
		rt_buf_puts(&b, ",");
		rt_buf_json_str(&b, k);
		rt_buf_puts(&b, ":");
		rt_buf_json_str(&b, v ? v : "");
	}
	va_end(ap);
	rtl_emit(&b);
	rt_buf_free(&b);
}

/* ---- state-change memory: key -> the state last said, in a hash table (base/table.h). An
 * actor with hundreds of feeds keeps thousands of keys (the median: one per feed and source, said
 * at every evaluation); the list this was before, scanned per call, took ~17 % of the median's CPU
 * at 500 feeds (perf: strcmp). ---- */
static tbl *rtl_states;     /* key -> char * (malloc'd state), created at the first call */
#define RTL_KEY_MAX    256  /* longer keys are not remembered (and so always logged) */
#define RTL_STATES_MAX 4096 /* past it, new keys are not remembered (and so always logged) */

int
rt_log_state_change(const char *key, const char *state)
{
	int changed = 1, created;
	if (key == NULL || state == NULL)
		return 0;
	size_t klen = strlen(key);
	pthread_mutex_lock(&rtl_mu);
	if (rtl_states == NULL)
		rtl_states = tbl_new(RTL_KEY_MAX, sizeof(char *), 0);
	int keep = rtl_states != NULL && klen <= RTL_KEY_MAX;
	char **s = keep ? tbl_get(rtl_states, key, klen) : NULL;
	if (s != NULL && strcmp(*s, state) == 0) {
		changed = 0;
	} else if (s != NULL || (keep && tbl_count(rtl_states) < RTL_STATES_MAX)) {
		char *copy = strdup(state); /* none: cannot remember, err on the side of logging */
		if (s == NULL && copy != NULL && (s = tbl_put(rtl_states, key, klen, &created)) == NULL) {
			free(copy);
		} else if (copy != NULL) {
			free(*s);
			*s = copy;
		}
	}
	pthread_mutex_unlock(&rtl_mu);
	return changed;
}
