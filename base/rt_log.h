/* rt_log: structured JSON log lines on stderr, one per event, shared by every actor.
 *
 * A line looks like
 *   {"ts":"2026-11-27T17:00:00.123Z","level":"info","actor":"busd","instance":"busd-0","msg":"..."}
 * Every value is JSON-escaped. Each line is written with one write(2) under a process-wide lock,
 * so lines from different threads never interleave. A line that repeats is rate-limited per call
 * site (below). Never pass secrets to these functions.
 *
 * Memory: all functions copy what they need; callers keep ownership of their arguments. */
#ifndef OB_BASE_RT_LOG_H
#define OB_BASE_RT_LOG_H

enum {
	RT_DEBUG,
	RT_INFO,
	RT_WARN,
	RT_ERROR
};

/* printf-style message at a level; dropped when below the current level. */
void rt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Message plus extra string fields given as NULL-terminated key, value pairs:
 *   rt_logkv(RT_WARN, "source down", "source", "kraken", "err", "timeout", NULL); */
void rt_logkv(int level, const char *msg, ...) __attribute__((sentinel));

/* Each call site (format string of rt_log, msg of rt_logkv) writes at most RT_LOG_BURST lines per
 * RT_LOG_WINDOW_S seconds; the rest are dropped and counted, and the site's next written line carries
 * "suppressed":N. rt_log_suppressed() is the process total (metric log_lines_suppressed_total). */
#define RT_LOG_BURST    20
#define RT_LOG_WINDOW_S 10
unsigned long long rt_log_suppressed(void);
/* Changes the limit (burst 0 = no limit) and forgets every site's window; for tests. */
void rt_log_set_rate_limit(unsigned burst, unsigned window_s);

/* Returns 1 when key's state differs from the last state recorded for key (or key is new), and
 * records it; 0 otherwise. Thread-safe. Use it to log once per state change. */
int rt_log_state_change(const char *key, const char *state);

/* Setup, normally done by rt_init. Strings are copied. */
void rt_log_set_identity(const char *actor, const char *instance);
void rt_log_set_level(int level);
int rt_log_get_level(void);
int rt_log_parse_level(const char *s); /* "debug".."error" (any case) -> RT_*, or -1 */
int rt_log_enabled(int level);
void rt_log_set_fd(int fd);     /* default 2 (stderr); tests redirect it */
const char *rt_log_actor(void); /* "" until set; valid until the next set_identity */
const char *rt_log_instance(void);

#endif
