/* rt_metrics: a process-wide metrics registry rendered in the Prometheus text exposition format
 * (version 0.0.4), served by rt_http at GET /metrics.
 *
 * Registration takes a mutex (do it once, at start); updates are lock-free atomics, safe from
 * any thread, with no allocation. Same (name, labels) returns the same metric. Registration
 * returns NULL on misuse (invalid name or labels, a name reused with another type or other
 * histogram bounds, out of memory), and every update function ignores a NULL metric, so a
 * mistake costs a metric, not the process. For `promtool check metrics` to pass, counter names
 * should end in _total and units be spelled out (_seconds, _bytes), as Prometheus advises.
 *
 * Memory: metrics are owned by the registry and live until exit; callers never free them.
 * name/help/labels/bounds are copied. rt_metrics_text returns a malloc'd string the caller frees. */
#ifndef OB_BASE_RT_METRICS_H
#define OB_BASE_RT_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct rt_metric rt_metric;

/* labels: NULL or pre-rendered `key="v",k2="v2"`, values escaped with rt_label_escape. */
rt_metric *rt_counter(const char *name, const char *help, const char *labels);
rt_metric *rt_gauge(const char *name, const char *help, const char *labels);
/* bounds: n strictly increasing finite upper bounds; +Inf is implicit. */
rt_metric *rt_histogram(const char *name, const char *help, const char *labels, const double *bounds, size_t n);

void rt_inc(rt_metric *m); /* counters */
void rt_add(rt_metric *m, uint64_t n);
void rt_gauge_set(rt_metric *m, double v); /* gauges */
void rt_gauge_add(rt_metric *m, double d);
void rt_observe(rt_metric *m, double v); /* histograms */

uint64_t rt_counter_value(const rt_metric *m); /* for tests; 0 for NULL */
double rt_gauge_value(const rt_metric *m);
uint64_t rt_histogram_count(const rt_metric *m);

/* The whole registry as exposition text: HELP and TYPE once per name, families in registration
 * order. Refreshes the process_* metrics and runs collectors first. Caller frees. NULL on ENOMEM. */
char *rt_metrics_text(size_t *len);

/* Escapes a label value (\\, \", \n) into out (NUL-terminated, truncated to cap). Returns the
 * length the full escaped value needs (excluding the NUL), like snprintf. */
size_t rt_label_escape(const char *in, char *out, size_t cap);
/* A label set from NULL-terminated key, value pairs: rt_labels(buf, sizeof buf, "feed", feed,
 * "reason", "first", NULL) writes feed="ETH-USD",reason="first" with every value escaped. Keys are
 * the caller's constants (never a peer's text). A pair that does not fit is left out whole. Returns buf. */
char *rt_labels(char *out, size_t cap, ...) __attribute__((sentinel));

/* Registers process_resident_memory_bytes, process_cpu_seconds_total,
 * process_start_time_seconds, process_open_fds, process_max_fds (read from /proc at render
 * time). Called by rt_init; idempotent. */
void rt_metrics_process_init(void);

/* A function run just before each render (e.g. to refresh gauges from a store). Up to 16. */
int rt_metrics_collector(void (*fn)(void *arg), void *arg);

#endif
