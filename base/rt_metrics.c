/* rt_metrics: registry and Prometheus text rendering (see rt_metrics.h).
 *
 * Layout: a list of families (one per metric name: help, type, histogram bounds), each with a
 * list of series (one per label set). Registration and rendering hold one mutex; updates touch
 * only the series' atomics. Gauges store the bits of a double in a uint64 and update with CAS.
 * Histogram buckets are stored non-cumulative (one atomic add per observation) and summed at
 * render time; _count is derived from the same bucket reads so +Inf always equals _count. */
#include "base/rt_metrics.h"
#include "base/rt_log.h"
#include "base/rt_buf.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum {
	RTM_COUNTER,
	RTM_GAUGE,
	RTM_HISTOGRAM
};
static const char *const rtm_type_names[] = { "counter", "gauge", "histogram" };

typedef struct rtm_family rtm_family;

struct rt_metric {
	rt_metric *next;
	rtm_family *fam;
	char *labels;              /* "" when none */
	_Atomic uint64_t v;        /* counter value, or double bits (gauge, float counter, hist sum) */
	_Atomic uint64_t *buckets; /* histogram: nb + 1 non-cumulative counts, last is +Inf */
};

struct rtm_family {
	rtm_family *next;
	char *name;
	char *help;
	int type;
	int dbl; /* value stored as double bits (gauges, process CPU seconds) */
	double *bounds;
	size_t nb;
	rt_metric *head, **tail;
};

static pthread_mutex_t rtm_mu = PTHREAD_MUTEX_INITIALIZER;
static rtm_family *rtm_families, **rtm_ftail = &rtm_families;

typedef struct {
	void (*fn)(void *);
	void *arg;
} rtm_collector;
static rtm_collector rtm_collectors[16];
static size_t rtm_ncollectors;

static uint64_t
rtm_dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static double
rtm_bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* ---- validation ---------------------------------------------------------------------------- */

static int
rtm_name_ok(const char *s)
{
	if (s == NULL || !*s)
		return 0;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return 0;
	}
	return 1;
}

/* `k="v",k2="v2"` with label names [a-zA-Z_][a-zA-Z0-9_]*, values escaped (\\ \" \n only). */
static int
rtm_labels_ok(const char *s, int forbid_le)
{
	if (s == NULL || !*s)
		return 1;
	for (;;) {
		const char *k = s;
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
			return 0;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || (*s >= '0' && *s <= '9'))
			s++;
		if ((s - k == 2 && k[0] == 'l' && k[1] == 'e' && forbid_le) || (k[0] == '_' && k[1] == '_'))
			return 0;
		if (s[0] != '=' || s[1] != '"')
			return 0;
		s += 2;
		while (*s != '"') {
			if (*s == '\0' || *s == '\n')
				return 0;
			if (*s == '\\') {
				if (s[1] != '\\' && s[1] != '"' && s[1] != 'n')
					return 0;
				s++;
			}
			s++;
		}
		s++;
		if (*s == '\0')
			return 1;
		if (*s++ != ',')
			return 0;
	}
}

size_t
rt_label_escape(const char *in, char *out, size_t cap)
{
	size_t n = 0, w = 0; /* n: bytes needed; w: bytes written, always < cap */
	int full = cap == 0;
	for (const char *p = in ? in : ""; *p; p++) {
		char e = *p == '\\' ? '\\' : *p == '"' ? '"' : *p == '\n' ? 'n' : 0;
		size_t k = e ? 2 : 1;
		if (!full && w + k < cap) { /* never split an escape */
			if (e) {
				out[w] = '\\';
				out[w + 1] = e;
			} else {
				out[w] = *p;
			}
			w += k;
		} else {
			full = 1;
		}
		n += k;
	}
	if (cap > 0)
		out[w] = '\0';
	return n;
}

/* ---- registration -------------------------------------------------------------------------- */

static rt_metric *
rtm_register(const char *name, const char *help, const char *labels, int type, int dbl, const double *bounds, size_t nb)
{
	if (!rtm_name_ok(name) || !rtm_labels_ok(labels, type == RTM_HISTOGRAM))
		return NULL;
	if (type == RTM_HISTOGRAM) {
		if (nb > 0 && bounds == NULL)
			return NULL;
		for (size_t i = 0; i < nb; i++)
			if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
				return NULL;
	}
	if (labels == NULL)
		labels = "";
	rt_metric *m = NULL;
	pthread_mutex_lock(&rtm_mu);
	rtm_family *f;
	for (f = rtm_families; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			break;
	if (f != NULL) {
		if (f->type != type || f->dbl != dbl || f->nb != nb ||
		    (nb && memcmp(f->bounds, bounds, nb * sizeof *bounds) != 0))
			goto out; /* same name, different shape: refuse */
		for (m = f->head; m != NULL; m = m->next)
			if (strcmp(m->labels, labels) == 0)
				goto out;
	} else {
		f = calloc(1, sizeof *f);
		if (f == NULL)
			goto out;
		f->name = strdup(name);
		f->help = strdup(help ? help : "");
		f->bounds = nb ? malloc(nb * sizeof *bounds) : NULL;
		if (f->name == NULL || f->help == NULL || (nb && f->bounds == NULL)) {
			free(f->name);
			free(f->help);
			free(f->bounds);
			free(f);
			f = NULL;
			goto out;
		}
		if (nb)
			memcpy(f->bounds, bounds, nb * sizeof *bounds);
		f->type = type;
		f->dbl = dbl;
		f->nb = nb;
		f->tail = &f->head;
		*rtm_ftail = f;
		rtm_ftail = &f->next;
	}
	m = calloc(1, sizeof *m);
	if (m == NULL)
		goto out;
	m->fam = f;
	m->labels = strdup(labels);
	if (type == RTM_HISTOGRAM)
		m->buckets = calloc(nb + 1, sizeof *m->buckets);
	if (m->labels == NULL || (type == RTM_HISTOGRAM && m->buckets == NULL)) {
		free(m->labels);
		free(m);
		m = NULL;
		goto out;
	}
	atomic_init(&m->v, dbl || type == RTM_HISTOGRAM ? rtm_dbits(0.0) : 0);
	*f->tail = m;
	f->tail = &m->next;
out:
	pthread_mutex_unlock(&rtm_mu);
	return m;
}

rt_metric *
rt_counter(const char *name, const char *help, const char *labels)
{
	return rtm_register(name, help, labels, RTM_COUNTER, 0, NULL, 0);
}

rt_metric *
rt_gauge(const char *name, const char *help, const char *labels)
{
	return rtm_register(name, help, labels, RTM_GAUGE, 1, NULL, 0);
}

rt_metric *
rt_histogram(const char *name, const char *help, const char *labels, const double *bounds, size_t n)
{
	return rtm_register(name, help, labels, RTM_HISTOGRAM, 0, bounds, n);
}

/* ---- updates: lock-free -------------------------------------------------------------------- */

void
rt_inc(rt_metric *m)
{
	if (m)
		atomic_fetch_add_explicit(&m->v, 1, memory_order_relaxed);
}

void
rt_add(rt_metric *m, uint64_t n)
{
	if (m)
		atomic_fetch_add_explicit(&m->v, n, memory_order_relaxed);
}

void
rt_gauge_set(rt_metric *m, double v)
{
	if (m)
		atomic_store_explicit(&m->v, rtm_dbits(v), memory_order_relaxed);
}

static void
rtm_dbl_add(_Atomic uint64_t *p, double d)
{
	uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(p, &old, rtm_dbits(rtm_bitsd(old) + d), memory_order_relaxed,
	                                              memory_order_relaxed))
		;
}

void
rt_gauge_add(rt_metric *m, double d)
{
	if (m)
		rtm_dbl_add(&m->v, d);
}

void
rt_observe(rt_metric *m, double v)
{
	if (m == NULL || m->buckets == NULL || isnan(v))
		return;
	const double *b = m->fam->bounds;
	size_t lo = 0, hi = m->fam->nb; /* first bound >= v (le semantics), or nb for +Inf */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v <= b[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	atomic_fetch_add_explicit(&m->buckets[lo], 1, memory_order_relaxed);
	rtm_dbl_add(&m->v, v);
}

uint64_t
rt_counter_value(const rt_metric *m)
{
	return m ? atomic_load_explicit(&((rt_metric *)m)->v, memory_order_relaxed) : 0;
}

double
rt_gauge_value(const rt_metric *m)
{
	return m ? rtm_bitsd(atomic_load_explicit(&((rt_metric *)m)->v, memory_order_relaxed)) : 0.0;
}

uint64_t
rt_histogram_count(const rt_metric *m)
{
	uint64_t n = 0;
	if (m && m->buckets)
		for (size_t i = 0; i <= m->fam->nb; i++)
			n += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
	return n;
}

/* ---- process metrics ----------------------------------------------------------------------- */

static rt_metric *rtm_p_rss, *rtm_p_cpu, *rtm_p_start, *rtm_p_fds, *rtm_p_maxfds, *rtm_p_logsup;

void
rt_metrics_process_init(void)
{
	if (rtm_p_rss)
		return;
	rtm_p_cpu = rtm_register("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", NULL,
	                         RTM_COUNTER, 1, NULL, 0);
	rtm_p_logsup = rtm_register("log_lines_suppressed_total",
	                            "Log lines dropped by the per-call-site rate limit (rt_log.h).", NULL, RTM_COUNTER,
	                            1, NULL, 0);
	rtm_p_fds = rt_gauge("process_open_fds", "Number of open file descriptors.", NULL);
	rtm_p_maxfds = rt_gauge("process_max_fds", "Maximum number of open file descriptors.", NULL);
	rtm_p_start =
	        rt_gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", NULL);
	rtm_p_rss = rt_gauge("process_resident_memory_bytes", "Resident memory size in bytes.", NULL);
}

static void
rtm_process_refresh(void)
{
	char buf[1024];
	rt_gauge_set(rtm_p_logsup, (double)rt_log_suppressed());
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/stat", "re");
	if (f) {
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* Fields after the parenthesised command name (which may contain spaces). */
		char *p = strrchr(buf, ')');
		unsigned long long ut = 0, st = 0, start = 0;
		if (p &&
		    sscanf(p + 2,
		           "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
		           "%*d %*d %llu",
		           &ut, &st, &start) == 3 &&
		    tck > 0) {
			rt_gauge_set(rtm_p_cpu, (double)(ut + st) / (double)tck);
			if (rt_gauge_value(rtm_p_start) == 0.0 && (f = fopen("/proc/stat", "re")) != NULL) {
				unsigned long long btime = 0;
				while (fgets(buf, sizeof buf, f))
					if (sscanf(buf, "btime %llu", &btime) == 1)
						break;
				fclose(f);
				rt_gauge_set(rtm_p_start, (double)btime + (double)start / (double)tck);
			}
		}
	}
	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		unsigned long long size, res;
		if (fscanf(f, "%llu %llu", &size, &res) == 2)
			rt_gauge_set(rtm_p_rss, (double)res * (double)page);
		fclose(f);
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		long n = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		rt_gauge_set(rtm_p_fds, (double)(n - 1)); /* minus the directory's own fd */
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		rt_gauge_set(rtm_p_maxfds, rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
}

int
rt_metrics_collector(void (*fn)(void *arg), void *arg)
{
	int rc = -1;
	pthread_mutex_lock(&rtm_mu);
	if (rtm_ncollectors < sizeof rtm_collectors / sizeof rtm_collectors[0]) {
		rtm_collectors[rtm_ncollectors].fn = fn;
		rtm_collectors[rtm_ncollectors].arg = arg;
		rtm_ncollectors++;
		rc = 0;
	}
	pthread_mutex_unlock(&rtm_mu);
	return rc;
}

/* ---- rendering ----------------------------------------------------------------------------- */

/* Shortest decimal that reads back as the same double; Prometheus spellings for the specials. */
static void
rtm_fmt(char *out, size_t cap, double v)
{
	if (isnan(v)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static void
rtm_help(rt_buf *b, const rtm_family *f)
{
	rt_buf_printf(b, "# HELP %s ", f->name);
	for (const char *p = f->help; *p; p++) {
		if (*p == '\\')
			rt_buf_puts(b, "\\\\");
		else if (*p == '\n')
			rt_buf_puts(b, "\\n");
		else
			rt_buf_append(b, p, 1);
	}
	rt_buf_printf(b, "\n# TYPE %s %s\n", f->name, rtm_type_names[f->type]);
}

/* name{labels} or name{labels,extra} or name; extra is e.g. le="0.5" */
static void
rtm_series(rt_buf *b, const char *name, const char *suffix, const char *labels, const char *extra)
{
	rt_buf_printf(b, "%s%s", name, suffix);
	if (*labels || extra) {
		rt_buf_printf(b, "{%s%s%s}", labels, *labels && extra ? "," : "", extra ? extra : "");
	}
}

static void
rtm_render_hist(rt_buf *b, const rtm_family *f, const rt_metric *m)
{
	char num[40], le[64];
	uint64_t cum = 0;
	for (size_t i = 0; i <= f->nb; i++) {
		cum += atomic_load_explicit(&((rt_metric *)m)->buckets[i], memory_order_relaxed);
		rtm_fmt(num, sizeof num, i < f->nb ? f->bounds[i] : INFINITY);
		snprintf(le, sizeof le, "le=\"%s\"", num);
		rtm_series(b, f->name, "_bucket", m->labels, le);
		rt_buf_printf(b, " %llu\n", (unsigned long long)cum);
	}
	rtm_fmt(num, sizeof num, rt_gauge_value(m));
	rtm_series(b, f->name, "_sum", m->labels, NULL);
	rt_buf_printf(b, " %s\n", num);
	rtm_series(b, f->name, "_count", m->labels, NULL);
	rt_buf_printf(b, " %llu\n", (unsigned long long)cum);
}

char *
rt_metrics_text(size_t *len)
{
	if (rtm_p_rss)
		rtm_process_refresh();
	pthread_mutex_lock(&rtm_mu);
	size_t nc = rtm_ncollectors;
	rtm_collector cs[sizeof rtm_collectors / sizeof rtm_collectors[0]];
	memcpy(cs, rtm_collectors, sizeof cs);
	pthread_mutex_unlock(&rtm_mu);
	for (size_t i = 0; i < nc; i++) /* outside the lock: collectors may register metrics */
		cs[i].fn(cs[i].arg);

	rt_buf b = RT_BUF_INIT;
	char num[40];
	pthread_mutex_lock(&rtm_mu);
	for (const rtm_family *f = rtm_families; f != NULL; f = f->next) {
		rtm_help(&b, f);
		for (const rt_metric *m = f->head; m != NULL; m = m->next) {
			if (f->type == RTM_HISTOGRAM) {
				rtm_render_hist(&b, f, m);
				continue;
			}
			rtm_series(&b, f->name, "", m->labels, NULL);
			if (f->dbl) {
				rtm_fmt(num, sizeof num, rt_gauge_value(m));
				rt_buf_printf(&b, " %s\n", num);
			} else {
				rt_buf_printf(&b, " %llu\n", (unsigned long long)rt_counter_value(m));
			}
		}
	}
	pthread_mutex_unlock(&rtm_mu);
	if (b.oom) {
		rt_buf_free(&b);
		return NULL;
	}
	return rt_buf_take(&b, len);
}

char *
rt_labels(char *out, size_t cap, ...)
{
	va_list ap;
	size_t n = 0;
	if (cap == 0)
		return out;
	out[0] = '\0';
	va_start(ap, cap);
	for (const char *k; (k = va_arg(ap, const char *)) != NULL;) {
		const char *v = va_arg(ap, const char *);
		char esc[256];
		rt_label_escape(v ? v : "", esc, sizeof esc);
		int w = snprintf(out + n, cap - n, "%s%s=\"%s\"", n ? "," : "", k, esc);
		if (w < 0 || (size_t)w >= cap - n) {
			out[n] = '\0'; /* only whole pairs: the caller's buffer is too small for its constants */
			break;
		}
		n += (size_t)w;
	}
	va_end(ap);
	return out;
}
