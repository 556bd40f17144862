/* Cost of the metrics hot path: ns per rt_inc / rt_gauge_add / rt_observe, one thread and four
 * threads on one series (worst case: one contended cache line), against a plain relaxed atomic
 * add as the baseline; plus the time to render a registry of 1000 series. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/rt_metrics.h"

#define OPS 10000000

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Atomic uint64_t raw;
static rt_metric *c, *g, *h;

static void *
run_raw(void *a)
{
	for (int i = 0; i < OPS; i++)
		atomic_fetch_add_explicit(&raw, 1, memory_order_relaxed);
	return a;
}
static void *
run_inc(void *a)
{
	for (int i = 0; i < OPS; i++)
		rt_inc(c);
	return a;
}
static void *
run_gauge(void *a)
{
	for (int i = 0; i < OPS; i++)
		rt_gauge_add(g, 1.0);
	return a;
}
static void *
run_obs(void *a)
{
	for (int i = 0; i < OPS; i++)
		rt_observe(h, (double)(i & 1023) * 1e-4);
	return a;
}

static double
bench(void *(*fn)(void *), int threads)
{
	pthread_t th[8];
	double t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, fn, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return (now_s() - t0) * 1e9 / OPS; /* ns per op per thread */
}

int
main(void)
{
	static const double b[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1 };
	c = rt_counter("bench_ops_total", "ops", NULL);
	g = rt_gauge("bench_level", "level", NULL);
	h = rt_histogram("bench_latency_seconds", "latency", NULL, b, sizeof b / sizeof b[0]);
	static const struct {
		const char *name;
		void *(*fn)(void *);
	} cases[] = { { "raw atomic add (baseline)", run_raw },
		      { "rt_inc", run_inc },
		      { "rt_gauge_add (CAS)", run_gauge },
		      { "rt_observe (7 buckets)", run_obs } };
	printf("%-28s %12s %12s\n", "op", "1 thread ns", "4 threads ns");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		printf("%-28s %12.1f %12.1f\n", cases[i].name, bench(cases[i].fn, 1), bench(cases[i].fn, 4));

	for (int i = 0; i < 1000; i++) {
		char labels[64];
		snprintf(labels, sizeof labels, "feed=\"F%d\",source=\"s%d\"", i / 10, i % 10);
		rt_add(rt_counter("bench_series_total", "series", labels), (uint64_t)i);
	}
	double t0 = now_s();
	size_t len = 0;
	for (int i = 0; i < 100; i++)
		free(rt_metrics_text(&len));
	printf("render 1000 series (%zu bytes): %.1f us\n", len, (now_s() - t0) * 1e6 / 100);
	return 0;
}
