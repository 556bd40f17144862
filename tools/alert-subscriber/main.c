/*
 * alert-subscriber - the documented example of an alert subscriber: every actor publishes its
 * alerts on alert.<severity>.<kind>, so anything that wants them subscribes to a prefix of that
 * (here "alert.", or e.g. "alert.critical.") and decodes the body as SC_ALERT. Prints one line
 * per alert:
 *
 *   2026-11-27T17:00:00.123Z FIRING   critical tx_failed tx_failed:0xabc (submitter-0) tx 0xabc reverted  chain=138
 *
 *   BUS_SUB_URL=tcp://127.0.0.1:7702 alert-subscriber [PREFIX] [COUNT]
 *
 * A subscriber on the bus may miss alerts while it is not connected (pub/sub is best effort);
 * the alerter's durable outbox is what guarantees delivery to the sinks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/actor.h"
#include "base/rt_main.h"

static const char *const sev[] = { "info", "warning", "error", "critical" };

int main(int argc, char **argv)
{
	static act_bus_cfg busc;
	static const rt_opt opts[] = { ACT_BUS_OPTS(busc) };
	const char *topics[] = { argc > 1 ? argv[1] : "alert.", NULL };
	long        count = argc > 2 ? atol(argv[2]) : 0, seen = 0;
	char        err[256];
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "usage: alert-subscriber [PREFIX (default alert.)] [COUNT (default: forever)]\n");
		return 2;
	}
	char *fake_argv[] = { argv[0], NULL };
	/* A command-line tool: no listener on the actors' 8000/8080 unless asked (HTTP_PORT=N). */
	if (getenv("METRICS_PORT") == NULL && getenv("HEALTH_PORT") == NULL)
		setenv("HTTP_PORT", "0", 0);
	if (rt_init("alert-subscriber", 1, fake_argv, opts, sizeof opts / sizeof opts[0]) != 0)
		return 1;
	act_bus *a = act_open(&busc, ACT_SUB, topics, err, sizeof err);
	if (!a) {
		fprintf(stderr, "alert-subscriber: %s\n", err);
		return 1;
	}
	static sc_alert al;
	while (!rt_stopping() && (count == 0 || seen < count)) {
		bus_msg m;
		if (act_recv(a, &m, 200) != BUS_OK)
			continue;
		if (act_decode(&m, &SC_ALERT, &al) == 0) {
			char      ts[32];
			time_t    t = (time_t)(m.f.ts_ns / 1000000000u);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
			printf("%s.%03uZ %-8s %-8s %s %s (%s) %s", ts, (unsigned)(m.f.ts_ns / 1000000u % 1000u),
			       al.status == SC_ALERT_RESOLVED ? "RESOLVED" : "FIRING", sev[(unsigned)al.severity < 4 ? al.severity : 0],
			       al.kind, al.dedupe_key, al.origin, al.summary);
			for (uint32_t i = 0; i < al.labels_count; i++)
				printf("%s%s=%s", i ? " " : "  ", al.labels[i].key, al.labels[i].value);
			printf("\n");
			fflush(stdout);
			seen++;
		}
		bus_msg_free(&m);
	}
	act_close(a);
	rt_shutdown();
	return 0;
}
