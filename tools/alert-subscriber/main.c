/*
 * alert-subscriber - watch the alerts every actor publishes on alert.<severity>.<kind>, the way
 * mosquitto_sub watches a topic: filters (--severity, --kind, --topic), a human line or JSON per
 * alert, --count and --timeout, and the exit codes every oraclebus tool shares. It is also the
 * documented example of an alert consumer: subscribe to a prefix of alert., decode the body as
 * SC_ALERT (README.md beside this file).
 *
 *   alert-subscriber [--url URL]... [--severity LEVEL] [--kind KIND]... [--topic PREFIX]...
 *                    [--format pretty|json] [--count N] [--timeout S] [--trust SPEC]
 *
 *   2026-11-27T17:00:00.123Z FIRING   critical tx_failed tx_failed:0xabc (submitter-0) tx 0xabc reverted  chain=138
 *
 * A subscriber on the bus may miss alerts while it is not connected (pub/sub is best effort); the
 * alerter's durable outbox is what guarantees delivery to the sinks. Frames on alert topics that do
 * not decode, or fail the trust check, are reported on stderr (never skipped silently) and do not
 * count towards --count.
 *
 * Memory: everything is static or on the stack; the bus message is freed after each line.
 */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hex.h"
#include "base/rt_config.h"
#include "base/rt_version.h"
#include "bus/actor.h"
#include "bus/bus.h"
#include "bus/frame_json.h"
#include "bus/sig.h"
#include "schemas/schema.h"

#define AS_MAX_FILTERS 32

static const char *const as_sev[] = { "info", "warning", "error", "critical" };

typedef struct {
	char urls[1024];
	const char *topics[AS_MAX_FILTERS];
	int ntopics;
	const char *kinds[AS_MAX_FILTERS];
	int nkinds;
	int min_sev; /* -1: any */
	int json;
	long count;
	double timeout_s, connect_s;
	const char *trust_spec;
} as_opts;

static volatile sig_atomic_t as_stop;

static void
as_on_signal(int sig)
{
	(void)sig;
	as_stop = 1;
}

#define AS_SYNOPSIS                                                                                                    \
	"usage: alert-subscriber [--url URL]... [--severity LEVEL] [--kind KIND]... [--topic PREFIX]...\n"             \
	"                        [--format pretty|json] [--count N] [--timeout S] [--trust SPEC]\n"                    \
	"                        [--connect-timeout S]\n"                                                              \
	"       alert-subscriber --help | --version\n"

static void
as_usage(FILE *f)
{
	fputs(AS_SYNOPSIS
	      "Prints the alerts actors publish on alert.<severity>.<kind>, one per line.\n"
	      "  --url URL           busd egress (default $BUS_SUB_URL, else tcp://127.0.0.1:7702); repeat it or\n"
	      "                      give a comma list for several busd (duplicates are dropped)\n"
	      "  --severity LEVEL    only LEVEL and above: info, warning, error, critical\n"
	      "  --kind KIND         only this kind (repeatable), e.g. tx_failed, feed_stale, ccip_failure\n"
	      "  --topic PREFIX      subscribe to this prefix instead (repeatable; default alert.)\n"
	      "  --format F          pretty (default): time, FIRING/RESOLVED, severity, kind, key, origin,\n"
	      "                      summary, labels; json: one object per alert, as bus-tap prints frames\n"
	      "  --count N           exit 0 after N alerts\n"
	      "  --timeout S         stop after S seconds: exit 0, or 1 when --count alerts did not come\n"
	      "  --trust SPEC        PREFIX=PUBHEX[,PUBHEX][;...] (default $BUS_TRUST): alerts on those\n"
	      "                      topics must be signed by a listed key; others are reported on stderr\n"
	      "  --connect-timeout S no busd reachable by then is an error (default 2)\n"
	      "JSON: ids and keys as 0x-hex; integers beyond 2^53 (ts, started_at_ns) as decimal strings.\n"
	      "Exit: 0 count reached, timeout without --count, or interrupted; 1 timeout before --count\n"
	      "alerts; 2 usage; 3 no busd, or a bus error; 78 invalid environment.\n",
	      f);
}

static int
as_usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "alert-subscriber: %s%s%s\n" AS_SYNOPSIS "Try 'alert-subscriber --help'.\n", what,
	        arg ? " " : "", arg ? arg : "");
	return RT_EXIT_USAGE;
}

static void
as_add_url(as_opts *o, const char *u)
{
	size_t n = strlen(o->urls);
	snprintf(o->urls + n, sizeof o->urls - n, "%s%s", n ? "," : "", u);
}

static int
as_nurls(const char *urls)
{
	int n = 1;
	for (const char *c = urls; *c; c++)
		n += *c == ',';
	return n;
}

static double
as_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
as_parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (*end || end == s || !(v >= 0) || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

/* The environment read, checked at once like an actor's (exit RT_EXIT_CONFIG). */
static const char *as_env_sub, *as_env_trust;
static const rt_opt as_env[] = {
	{ "BUS_SUB_URL", RT_BUS_URL, NULL, "busd egress URLs", &as_env_sub, 0, 0, 0, 0 },
	{ "BUS_TRUST", RT_STR, NULL, "trusted keys per topic prefix", &as_env_trust, 0, 0, 0, 0 },
	RT_CHECK_ROW("BUS_TRUST", act_check_trust),
};

static int
as_check_env(void)
{
	char err[2048];
	if (rt_config_load(as_env, sizeof as_env / sizeof as_env[0], err, sizeof err) == 0)
		return 0;
	for (char *l = strtok(err, "\n"); l; l = strtok(NULL, "\n"))
		fprintf(stderr, "alert-subscriber: %s\n", l);
	return -1;
}

static int
as_wanted(const as_opts *o, const sc_alert *al)
{
	if (o->min_sev >= 0 && al->severity < o->min_sev)
		return 0;
	if (o->nkinds == 0)
		return 1;
	for (int i = 0; i < o->nkinds; i++)
		if (strcmp(o->kinds[i], al->kind) == 0)
			return 1;
	return 0;
}

static void
as_print_pretty(const bus_msg *m, const sc_alert *al)
{
	char ts[32];
	time_t t = (time_t)(m->f.ts_ns / 1000000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s.%03uZ %-8s %-8s %s %s (%s) %s", ts, (unsigned)(m->f.ts_ns / 1000000u % 1000u),
	       al->status == SC_ALERT_RESOLVED ? "RESOLVED" : "FIRING",
	       as_sev[(unsigned)al->severity < 4 ? al->severity : 0], al->kind, al->dedupe_key, al->origin,
	       al->summary);
	for (uint32_t i = 0; i < al->labels_count; i++)
		printf("%s%s=%s", i ? " " : "  ", al->labels[i].key, al->labels[i].value);
	printf("\n");
}

static void
as_print_json(const bus_msg *m)
{
	json_t *j = json_object();
	char *s = NULL;
	if (j != NULL && frame_json_add(j, &m->f) == 0)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL) {
		fputs("alert-subscriber: cannot render an alert as JSON (out of memory)\n", stderr);
		return;
	}
	puts(s);
	free(s);
}

/* What a frame that is not a usable alert was: said on stderr with enough to find it. */
static void
as_report_bad(const bus_msg *m, int rv, const char *why)
{
	if (rv == BUS_EDECODE) {
		fprintf(stderr, "alert-subscriber: undecodable frame: %s\n", m->err);
		return;
	}
	char id[35];
	hex_encode(m->f.id, 16, 1, id);
	fprintf(stderr, "alert-subscriber: %s on %.*s from %.*s (id %s): %s\n",
	        rv == BUS_EREJECT ? "rejected" : "not an alert", (int)m->f.topic_len, m->f.topic, (int)m->f.origin_len,
	        m->f.origin, id, why);
}

static int
as_run(const as_opts *o)
{
	char err[256];
	sig_trust *trust = sig_trust_parse(o->trust_spec, err, sizeof err);
	if (trust == NULL) {
		fprintf(stderr, "alert-subscriber: --trust: %s\n", err);
		return RT_EXIT_USAGE;
	}
	bus_sub *s = bus_sub_open(o->urls, err, sizeof err);
	if (s == NULL) {
		fprintf(stderr, "alert-subscriber: %s\n", err);
		sig_trust_free(trust);
		return RT_EXIT_UNAVAILABLE;
	}
	bus_sub_set_trust(s, trust);
	char sevtopic[4][24];
	if (o->ntopics > 0) {
		for (int i = 0; i < o->ntopics; i++)
			bus_sub_topic(s, o->topics[i]);
	} else if (o->min_sev > 0) { /* only the severities asked for cross the network */
		for (int v = o->min_sev; v < 4; v++) {
			snprintf(sevtopic[v], sizeof sevtopic[v], "alert.%s.", as_sev[v]);
			bus_sub_topic(s, sevtopic[v]);
		}
	} else {
		bus_sub_topic(s, "alert.");
	}
	int want = as_nurls(o->urls);
	bus_sub_wait(s, want, (int)(o->connect_s * 1000));
	int got = bus_sub_connected(s);
	if (got == 0) {
		fprintf(stderr, "alert-subscriber: no busd at %s after %g s\n", o->urls, o->connect_s);
		bus_sub_close(s);
		sig_trust_free(trust);
		return RT_EXIT_UNAVAILABLE;
	}
	if (got < want)
		fprintf(stderr,
		        "alert-subscriber: %d of the %d busd at %s connected after %g s; redialing the others\n", got,
		        want, o->urls, o->connect_s);

	static sc_alert al;
	double start = as_now();
	long seen = 0;
	int rc = RT_EXIT_OK, up = 1;
	while (!as_stop && (o->count <= 0 || seen < o->count)) {
		int wait = 200;
		int now_up = bus_sub_connected(s) > 0;
		if (now_up != up)
			fprintf(stderr,
			        now_up ? "alert-subscriber: busd at %s reachable again\n"
			               : "alert-subscriber: lost every busd at %s; redialing (alerts meanwhile are "
			                 "missed)\n",
			        o->urls);
		up = now_up;
		if (o->timeout_s > 0) {
			double left = o->timeout_s - (as_now() - start);
			if (left <= 0) {
				rc = o->count > 0 ? RT_EXIT_NORESULT : RT_EXIT_OK;
				if (o->count > 0)
					fprintf(stderr, "alert-subscriber: %ld of %ld alerts after %g s\n", seen,
					        o->count, o->timeout_s);
				break;
			}
			if (left * 1000 < wait)
				wait = (int)(left * 1000) + 1;
		}
		bus_msg m;
		int rv = bus_recv(s, &m, wait);
		if (rv == BUS_TIMEOUT)
			continue;
		if (rv == BUS_ECLOSED) {
			fprintf(stderr, "alert-subscriber: the bus socket closed\n");
			rc = RT_EXIT_UNAVAILABLE;
			break;
		}
		if (rv != BUS_OK) {
			as_report_bad(&m, rv, m.err);
			bus_msg_free(&m);
			continue;
		}
		sc_err e = { "" };
		int is_alert = m.f.type_len == 5 && memcmp(m.f.type, "alert", 5) == 0;
		if (!is_alert || sc_decode(&SC_ALERT, m.f.body, m.f.body_len, &al, &e) != 0) {
			if (!is_alert)
				snprintf(e.text, sizeof e.text, "type %.*s, not alert", (int)m.f.type_len, m.f.type);
			as_report_bad(&m, rv, e.text);
			bus_msg_free(&m);
			continue;
		}
		if (as_wanted(o, &al)) {
			if (o->json)
				as_print_json(&m);
			else
				as_print_pretty(&m, &al);
			fflush(stdout);
			seen++;
		}
		bus_msg_free(&m);
	}
	bus_sub_close(s);
	sig_trust_free(trust);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, 0, 'u' },      { "topic", required_argument, 0, 't' },
		{ "severity", required_argument, 0, 'S' }, { "kind", required_argument, 0, 'K' },
		{ "format", required_argument, 0, 'F' },   { "count", required_argument, 0, 'C' },
		{ "timeout", required_argument, 0, 'W' },  { "connect-timeout", required_argument, 0, 'c' },
		{ "trust", required_argument, 0, 'T' },    { "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },        { 0, 0, 0, 0 },
	};
	as_opts o = { .min_sev = -1, .connect_s = 2, .trust_spec = getenv("BUS_TRUST") };
	int c;
	char *end;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			as_add_url(&o, optarg);
			break;
		case 't':
			if (o.ntopics == AS_MAX_FILTERS)
				return as_usage_error("at most 32 --topic; one too many:", optarg);
			o.topics[o.ntopics++] = optarg;
			break;
		case 'K':
			if (o.nkinds == AS_MAX_FILTERS)
				return as_usage_error("at most 32 --kind; one too many:", optarg);
			o.kinds[o.nkinds++] = optarg;
			break;
		case 'S':
			o.min_sev = -1;
			for (int i = 0; i < 4; i++)
				if (strcmp(optarg, as_sev[i]) == 0)
					o.min_sev = i;
			if (o.min_sev < 0)
				return as_usage_error("--severity is info, warning, error or critical, not", optarg);
			break;
		case 'F':
			if (strcmp(optarg, "json") == 0)
				o.json = 1;
			else if (strcmp(optarg, "pretty") == 0)
				o.json = 0;
			else
				return as_usage_error("--format is pretty or json, not", optarg);
			break;
		case 'C':
			o.count = strtol(optarg, &end, 10);
			if (*end || end == optarg || o.count < 0)
				return as_usage_error("--count wants a number of alerts, not", optarg);
			break;
		case 'W':
			if (as_parse_seconds(optarg, &o.timeout_s))
				return as_usage_error("--timeout wants seconds, not", optarg);
			break;
		case 'c':
			if (as_parse_seconds(optarg, &o.connect_s))
				return as_usage_error("--connect-timeout wants seconds, not", optarg);
			break;
		case 'T':
			o.trust_spec = optarg;
			break;
		case 'h':
			as_usage(stdout);
			return RT_EXIT_OK;
		case 'V':
			rt_version_print("alert-subscriber", stdout);
			return RT_EXIT_OK;
		default:
			return as_usage_error("unknown option or missing value:", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return as_usage_error("unexpected argument", argv[optind]);
	if (o.ntopics > 0 && o.min_sev >= 0)
		return as_usage_error("--severity and --topic exclude each other (--severity picks the topics)", NULL);
	if (as_check_env() != 0)
		return RT_EXIT_CONFIG;
	if (o.urls[0] == 0) {
		const char *env = getenv("BUS_SUB_URL");
		as_add_url(&o, env && *env ? env : "tcp://127.0.0.1:7702");
	}
	struct sigaction sa = { .sa_handler = as_on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return as_run(&o);
}
