/*
 * price-sim - a local price server speaking the real formats of CoinGecko, Binance, Coinbase and
 * Kraken (plus a generic JSON one) at their real paths, with scripted prices and failures, for
 * tests and `make demo`. See README.md beside this file and sim.h for the routes.
 *
 *   price-sim --port 0 --feed ETH-USD=3000.12      prints http://127.0.0.1:<port> on stdout
 *   price-sim --port 9000 --walk                   prices random-walk every second
 *   price-sim --port 9000 --script steps.txt       timed control commands
 *
 * HTTP: base/rt_http (libmicrohttpd), as every actor: connections capped and idle ones closed; a
 * "slow" answer is held with rt_http_hold (the connection is suspended and resumed by a timer, so an
 * answer held for a minute holds no thread), a 429's Retry-After goes out with rt_http_res_header.
 * /metrics has http_connections_total (how many connections clients opened: keep-alive at work).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/rt_config.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_version.h"
#include "base/u256.h"
#include "tools/price-sim/sim.h"

static ps_sim *sim;
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	stop = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the one handler (every path and method but /health and /metrics) ------------------------- */

static int
serve(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen, rt_buf *out,
      const char **ctype)
{
	ps_reply r;
	int status = ps_handle(sim, method, path, query, now_ms(), out, &r);
	if (strncmp(path, "/ctl/", 5) == 0 && strcmp(method, "POST") == 0)
		rt_logkv(status == 200 ? RT_INFO : RT_WARN, "control", "path", path, "query", query, "status",
		         status == 200 ? "ok" : (const char *)out->data, NULL);
	*ctype = "application/json; charset=utf-8";
	if (r.retry_after[0])
		rt_http_res_header("Retry-After", r.retry_after);
	if (r.delay_ms)
		rt_http_hold(r.delay_ms);
	return status;
}

/* ---- script ------------------------------------------------------------------------------------ */

typedef struct {
	uint64_t at_ms;
	char verb[16];
	char query[240];
} step;

/* "5", "2.5s", "500ms", "2m": fractional seconds are kept exact (dec_to_fixed, 3 decimals). */
static int
script_time(const char *t, uint64_t *ms)
{
	size_t n = strlen(t);
	u256 v;
	int inexact;
	if (n > 1 && t[n - 1] == 's' && t[n - 2] != 'm')
		n--;
	else if (n > 0 && (t[n - 1] < '0' || t[n - 1] > '9'))
		return rt_parse_duration_ms(t, ms);
	if (dec_to_fixed(t, n, 3, &v, &inexact) != 0 || inexact || i256_is_neg(&v) || !u256_fits_u64(&v))
		return -1;
	*ms = u256_low64(&v);
	return 0;
}

static int
load_script(const char *path, step **out, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "price-sim: %s: cannot open\n", path);
		return -1;
	}
	char line[512];
	size_t cap = 0, lineno = 0;
	*out = NULL;
	*n = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char at[32], verb[16], query[240];
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		int k = sscanf(line, "%31s %15s %239s", at, verb, query);
		if (k <= 0)
			continue;
		uint64_t ms;
		if (k != 3 || script_time(at, &ms) != 0) {
			fprintf(stderr,
			        "price-sim: %s:%zu: want '<time> set|mode|lie <query>' (time like 5, 2.5s, 500ms)\n",
			        path, lineno);
			fclose(f);
			free(*out);
			return -1;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			step *p = realloc(*out, cap * sizeof *p);
			if (p == NULL) {
				fclose(f);
				free(*out);
				return -1;
			}
			*out = p;
		}
		step *s = &(*out)[(*n)++];
		s->at_ms = ms;
		snprintf(s->verb, sizeof s->verb, "%s", verb);
		snprintf(s->query, sizeof s->query, "%s", query);
	}
	fclose(f);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: price-sim [--port N] [--addr A] [--feed NAME=PRICE]... [--walk] [--walk-interval D]\n"
	           "                 [--walk-ppm N] [--walk-decimals N] [--seed N] [--script FILE [--loop]]\n"
	           "  --port N          listen port (0 = pick one; the URL is printed on stdout)\n"
	           "  --addr A          listen address (default 127.0.0.1)\n"
	           "  --feed F=P        initial feed and price (default ETH-USD=3000.12 and BTC-USD=67123.45)\n"
	           "  --walk            random-walk every feed's price every --walk-interval (default 1s)\n"
	           "  --walk-ppm N      largest step in parts per million (default 2000 = 0.2%%)\n"
	           "  --walk-decimals N prices keep N decimals while walking (default 2)\n"
	           "  --script FILE     lines '<time> set|mode|lie <query>' run at <time> after start;\n"
	           "                    --loop repeats the script\n"
	           "  --help, --version\n"
	           "Exit: 0 stopped (SIGTERM, Ctrl-C), 2 usage, 3 cannot listen.\n");
}

int
main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *script = NULL;
	unsigned long port = 0, walk_dec = 2;
	uint64_t walk_ms = 1000, walk_ppm = 2000, seed = 0;
	int walk = 0, loop = 0, nfeeds = 0;
	rt_buf err = RT_BUF_INIT;

	rt_log_set_identity("price-sim", "price-sim");
	if ((sim = ps_new()) == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (strcmp(a, "--port") == 0 && v)
			port = strtoul(v, NULL, 10);
		else if (strcmp(a, "--addr") == 0 && v)
			addr = v;
		else if (strcmp(a, "--seed") == 0 && v)
			seed = strtoull(v, NULL, 10);
		else if (strcmp(a, "--walk-interval") == 0 && v) {
			if (rt_parse_duration_ms(v, &walk_ms) != 0 || walk_ms == 0) {
				fprintf(stderr, "price-sim: --walk-interval: '%s' is not a duration\n", v);
				return 2;
			}
		} else if (strcmp(a, "--walk-ppm") == 0 && v) {
			walk_ppm = strtoull(v, NULL, 10);
			if (walk_ppm == 0 || walk_ppm >= 1000000) {
				fprintf(stderr, "price-sim: --walk-ppm must be 1..999999\n");
				return 2;
			}
		} else if (strcmp(a, "--walk-decimals") == 0 && v)
			walk_dec = strtoul(v, NULL, 10) > 18 ? 18 : strtoul(v, NULL, 10);
		else if (strcmp(a, "--script") == 0 && v)
			script = v;
		else if (strcmp(a, "--feed") == 0 && v) {
			char q[200];
			const char *eq = strchr(v, '=');
			snprintf(q, sizeof q, "feed=%.*s&price=%s", eq ? (int)(eq - v) : 0, v, eq ? eq + 1 : "");
			if (ps_command(sim, "set", q, &err) != 200) {
				fprintf(stderr, "price-sim: --feed %s: %s\n", v, err.data);
				return 2;
			}
			nfeeds++;
		} else {
			takes = 0;
			if (strcmp(a, "--walk") == 0)
				walk = 1;
			else if (strcmp(a, "--loop") == 0)
				loop = 1;
			else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
				usage(stdout);
				return RT_EXIT_OK;
			} else if (strcmp(a, "--version") == 0) {
				rt_version_print("price-sim", stdout);
				return RT_EXIT_OK;
			} else {
				fprintf(stderr, "price-sim: unknown option or missing value: %s\n", a);
				usage(stderr);
				return RT_EXIT_USAGE;
			}
		}
		i += takes;
	}
	if (nfeeds == 0) {
		ps_command(sim, "set", "feed=ETH-USD&price=3000.12", &err);
		ps_command(sim, "set", "feed=BTC-USD&price=67123.45", &err);
	}
	step *steps = NULL;
	size_t nsteps = 0;
	if (script && load_script(script, &steps, &nsteps) != 0)
		return 2;

	char url[128];
	snprintf(url, sizeof url, "http://%s:%lu", addr, port);
	/* a test double: many clients, held answers (slow mode) each keep a connection */
	rt_http_limits lim = { 4096, 4096, 120 };
	rt_http_set_limits(&lim);
	rt_http_set_body_max(4096);
	if (rt_http_start(url) != 0 || rt_http_route("GET", "/", 1, serve, NULL) != 0 ||
	    rt_http_route("POST", "/", 1, serve, NULL) != 0) {
		fprintf(stderr, "price-sim: cannot serve %s\n", url);
		return RT_EXIT_UNAVAILABLE;
	}
	port = (unsigned long)rt_http_port();
	printf("http://%s:%lu\n", addr, port);
	fflush(stdout);
	char ports[16];
	snprintf(ports, sizeof ports, "%lu", port);
	rt_logkv(RT_INFO, "price-sim listening", "addr", addr, "port", ports, "walk", walk ? "on" : "off", "script",
	         script ? script : "", NULL);

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	uint64_t rng = seed ? seed : (mono_ms() ^ (uint64_t)getpid() << 20) | 1;
	uint64_t t0 = mono_ms(), next_walk = t0 + walk_ms;
	size_t si = 0;
	while (!stop) {
		uint64_t now = mono_ms();
		while (si < nsteps && now - t0 >= steps[si].at_ms) {
			rt_buf_reset(&err);
			if (ps_command(sim, steps[si].verb, steps[si].query, &err) != 200)
				rt_logkv(RT_WARN, "script step refused", "verb", steps[si].verb, "query",
				         steps[si].query, "err", (const char *)err.data, NULL);
			else
				rt_logkv(RT_INFO, "script step", "verb", steps[si].verb, "query", steps[si].query,
				         NULL);
			if (++si == nsteps && loop) {
				si = 0;
				t0 = now;
			}
		}
		if (walk && now >= next_walk) {
			ps_walk(sim, &rng, walk_ppm, (unsigned)walk_dec);
			next_walk += walk_ms;
		}
		usleep(20000);
	}
	rt_log(RT_INFO, "stopping");
	rt_http_stop();
	free(steps);
	rt_buf_free(&err);
	ps_free(sim);
	return 0;
}
