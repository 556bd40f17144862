/* rt-example: the smallest actor, a skeleton to copy. It shows the runtime's pieces: an option
 * table, rt_init, metrics updated from the main loop, a health reason, an extra HTTP route, and
 * a graceful stop. SIGUSR1 toggles a "demo" health reason (the runtime integration test uses it
 * to see /health flip to 503).
 *
 *   HTTP_PORT=9100 build/bin/rt-example      then  curl localhost:9100/metrics */
#include "base/util.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"

#include <signal.h>
#include <string.h>

static const char *greeting = "hello";
static uint64_t tick_ms = 100;
static uint64_t threshold_ppm;
static rt_strlist feeds;

static const rt_opt opts[] = {
	{ .env = "EXAMPLE_GREETING",
	  .type = RT_STR,
	  .dflt = "hello",
	  .help = "text served at GET /hello",
	  .dst = &greeting },
	{ .env = "EXAMPLE_TICK",
	  .type = RT_DURATION,
	  .dflt = "100ms",
	  .help = "main loop period",
	  .dst = &tick_ms,
	  .min = 1,
	  .max = 3600000 },
	{ .env = "EXAMPLE_THRESHOLD",
	  .type = RT_PPM,
	  .dflt = "0.5",
	  .help = "a percent, kept exact in ppm",
	  .dst = &threshold_ppm },
	{ .env = "EXAMPLE_FEEDS",
	  .type = RT_LIST,
	  .dflt = "ETH-USD,BTC-USD",
	  .help = "feed names",
	  .dst = &feeds,
	  .size = 8 },
};

static volatile sig_atomic_t toggle_health;

static void
on_usr1(int sig)
{
	toggle_health = 1;
}

static int
hello(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen, rt_buf *out,
      const char **ctype)
{
	*ctype = "text/plain; charset=utf-8";
	rt_buf_printf(out, "%s from %s\n", greeting, rt_instance());
	return 200;
}

int
main(int argc, char **argv)
{
	/* Routes added before rt_init are attached when the server starts. */
	rt_http_route("GET", "/hello", 0, hello, NULL);
	if (rt_init("rt-example", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;
	signal(SIGUSR1, on_usr1);

	static const double bounds[] = { 0.001, 0.01, 0.1, 1 };
	rt_metric *ticks = rt_counter("example_ticks_total", "Main loop iterations.", NULL);
	rt_metric *degraded = rt_gauge("example_degraded", "1 while the demo health reason is set.", NULL);
	rt_metric *lat = rt_histogram("example_tick_seconds", "Time spent per tick.", NULL, bounds, OB_COUNT(bounds));
	for (size_t i = 0; i < feeds.n; i++) {
		char esc[64], labels[80];
		rt_label_escape(feeds.v[i], esc, sizeof esc);
		snprintf(labels, sizeof labels, "feed=\"%s\"", esc);
		rt_gauge_set(rt_gauge("example_feed_threshold_ppm", "Configured threshold per feed.", labels),
		             (double)threshold_ppm);
	}
	rt_logkv(RT_INFO, "ready", "greeting", greeting, NULL);
	rt_ready(); /* every actor says where its start-up ends: /health is 503 "starting" until then */

	int bad = 0;
	while (!rt_sleep_ms(tick_ms)) {
		uint64_t t0 = rt_mono_ns();
		rt_inc(ticks);
		if (toggle_health) {
			toggle_health = 0;
			bad = !bad;
			rt_health_set("demo", bad, "toggled by SIGUSR1");
			rt_gauge_set(degraded, bad);
			if (rt_log_state_change("demo", bad ? "degraded" : "ok"))
				rt_logkv(RT_WARN, "health changed", "state", bad ? "degraded" : "ok", NULL);
		}
		rt_observe(lat, (double)(rt_mono_ns() - t0) / 1e9);
	}
	rt_logkv(RT_INFO, "draining", "reason", "stop requested", NULL);
	rt_shutdown();
	return 0;
}
