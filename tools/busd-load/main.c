/*
 * busd-load - measures busd's memory with stalled subscribers: N raw connections to its egress
 * that do the SP handshake of a sub0 and then never read (a paused bus-tap, a wedged pod), one live
 * subscriber that reads everything, and a publisher of large frames. Samples busd's private memory
 * (RssAnon in /proc/<pid>/status) while it runs and after the stalled subscribers leave.
 *
 *   busd-load --ingress URL --egress tcp://HOST:PORT --pid BUSD_PID [--stalled 80] [--frames 600]
 *             [--body 65000] [--window 4] [--max-private-mib N] [--after-mib N] [--oversize BYTES]
 *
 * The stalled subscribers connect one by one while frames flow, so each holds different frames
 * (the worst case for busd: nothing shared). The publisher keeps at most --window frames ahead of
 * the live subscriber. Prints one line of numbers; exits 1 when the live subscriber missed a
 * frame, when the peak passed --max-private-mib or when, after the stalled ones left, busd did not
 * come back under --after-mib (within 30 s), 2 on bad usage or setup. Used by
 * tests/integration/busd_bounds.sh (with bounds) and tests/bench/busd_memory.sh (report only).
 *
 * --oversize BYTES first publishes one frame with a body of BYTES (over busd's BUSD_MAX_FRAME): busd
 * must refuse it (closing this publisher's connection, which redials), so the live subscriber
 * must see exactly --frames frames.
 *
 * TLS: the live subscriber and the publisher take BUS_TLS_CERT / BUS_TLS_KEY / BUS_TLS_CA like
 * any actor; the stalled connections are plain TCP, so the egress must listen on tcp:// too.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/rt_version.h"
#include "bus/bus.h"
#include "base/rt_main.h"

#include <nng/supplemental/util/platform.h>

#define DEADLINE_NS (60ull * 1000000000ull)

static struct {
	const char *ingress, *egress;
	int pid, stalled, frames, body, window;
	long max_private_mib, after_mib;
	int oversize;
} ld = { .stalled = 80, .frames = 600, .body = 65000, .window = 4, .max_private_mib = -1, .after_mib = -1 };

static atomic_long ld_peak_kib;
static atomic_int ld_stop, ld_got, ld_gaps;

static long
ld_rss_anon_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	snprintf(path, sizeof path, "/proc/%d/status", ld.pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "RssAnon:", 8) == 0)
			kib = atol(line + 8);
	fclose(f);
	return kib;
}

static void *
ld_sampler(void *arg)
{
	(void)arg;
	while (!atomic_load(&ld_stop)) {
		long k = ld_rss_anon_kib();
		if (k > atomic_load(&ld_peak_kib))
			atomic_store(&ld_peak_kib, k);
		nng_msleep(10);
	}
	return NULL;
}

static void *
ld_live(void *arg)
{
	bus_sub *s = arg;
	while (!atomic_load(&ld_stop)) {
		bus_msg m;
		int rv = bus_recv(s, &m, 100);
		if (rv == BUS_OK) {
			atomic_fetch_add(&ld_gaps, (int)m.gap);
			atomic_fetch_add(&ld_got, 1);
		}
		if (rv == BUS_OK || rv == BUS_EDECODE || rv == BUS_EREJECT)
			bus_msg_free(&m);
	}
	return NULL;
}

/* A stalled subscriber: TCP connect, the sub0 header, then nothing is ever read. */
static int
ld_stalled_conn(const char *host, int port)
{
	static const unsigned char hdr[8] = { 0, 'S', 'P', 0, 0x00, 0x21, 0, 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), small = 4096;
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || write(fd, hdr, 8) != 8) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
ld_usage_to(FILE *f)
{
	fprintf(f, "usage: busd-load --ingress URL --egress tcp://HOST:PORT --pid BUSD_PID [--stalled 80] "
	           "[--frames 600] [--body 65000] [--window 4] [--max-private-mib N] [--after-mib N] "
	           "[--oversize BYTES]\n"
	           "       busd-load --help | --version\n");
}

static int
ld_usage(void)
{
	ld_usage_to(stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	char host[64] = "127.0.0.1", err[256];
	int port = 0;
	/* Line by line: a FAIL line must reach the file even when LeakSanitizer ends the process at exit
	 * (it exits before stdio's buffers are flushed, and an early return leaves buffers it reports). */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			ld_usage_to(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			rt_version_print("busd-load", stdout);
			return 0;
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			return ld_usage();
		i++;
		if (!strcmp(a, "--ingress"))
			ld.ingress = v;
		else if (!strcmp(a, "--egress"))
			ld.egress = v;
		else if (!strcmp(a, "--pid"))
			ld.pid = atoi(v);
		else if (!strcmp(a, "--stalled"))
			ld.stalled = atoi(v);
		else if (!strcmp(a, "--frames"))
			ld.frames = atoi(v);
		else if (!strcmp(a, "--body"))
			ld.body = atoi(v);
		else if (!strcmp(a, "--window"))
			ld.window = atoi(v);
		else if (!strcmp(a, "--max-private-mib"))
			ld.max_private_mib = atol(v);
		else if (!strcmp(a, "--after-mib"))
			ld.after_mib = atol(v);
		else if (!strcmp(a, "--oversize"))
			ld.oversize = atoi(v);
		else
			return ld_usage();
	}
	if (!ld.ingress || !ld.egress || ld.pid <= 0 || ld.stalled < 0 || ld.frames <= 0 || ld.body <= 0 ||
	    ld.body > (int)FRAME_BODY_MAX || ld.window <= 0 || ld.oversize < 0 || ld.oversize > (int)FRAME_BODY_MAX ||
	    (ld.stalled > 0 && sscanf(ld.egress, "tcp://%63[^:]:%d", host, &port) != 2))
		return ld_usage();
	if (bus_tls_set(getenv("BUS_TLS_CERT"), getenv("BUS_TLS_KEY"), getenv("BUS_TLS_CA"), err, sizeof err) != 0) {
		fprintf(stderr, "busd-load: %s\n", err);
		return 2;
	}
	const char *live_url = getenv("LOAD_LIVE_URL") ? getenv("LOAD_LIVE_URL") : ld.egress;
	bus_pub *p = bus_pub_open(ld.ingress, "busd-load", err, sizeof err);
	bus_sub *s = p ? bus_sub_open(live_url, err, sizeof err) : NULL;
	if (s == NULL || bus_sub_topic(s, "load.") != 0 || bus_pub_wait(p, 1, 10000) != 0 ||
	    bus_sub_wait(s, 1, 10000) != 0) {
		fprintf(stderr, "busd-load: cannot reach busd: %s\n", s ? "timeout" : err);
		return 2;
	}
	long before = ld_rss_anon_kib();
	if (before < 0) {
		fprintf(stderr, "busd-load: cannot read /proc/%d/status\n", ld.pid);
		return 2;
	}
	atomic_store(&ld_peak_kib, before);
	pthread_t th_s, th_l;
	pthread_create(&th_s, NULL, ld_sampler, NULL);
	pthread_create(&th_l, NULL, ld_live, s);
	nng_msleep(300); /* the subscription reaches busd's side before the first frame */
	if (ld.oversize) {
		uint8_t *big = calloc(1, (size_t)ld.oversize);
		if (big == NULL || bus_publish(p, "load.big", "load", NULL, big, (size_t)ld.oversize, NULL) != BUS_OK) {
			fprintf(stderr, "busd-load: publish of the oversize frame failed\n");
			return 2;
		}
		free(big);
		/* busd closes this connection on reading the length; NNG redials. */
		for (int w = 0; w < 5000 && bus_pub_connected(p) > 0; w += 5)
			nng_msleep(5);
		if (bus_pub_wait(p, 1, 10000) != 0) {
			fprintf(stderr, "busd-load: publisher did not reconnect after the oversize frame\n");
			return 2;
		}
		nng_msleep(200);
	}

	uint8_t *body = malloc((size_t)ld.body);
	int *fds = calloc((size_t)ld.stalled + 1, sizeof *fds);
	int nfds = 0, every = ld.stalled ? (ld.frames / (ld.stalled + 1) ? ld.frames / (ld.stalled + 1) : 1) : 0;
	uint64_t t0 = rt_mono_ns();
	memset(body, 'b', (size_t)ld.body);
	for (int i = 0; i < ld.frames; i++) {
		if (every && i % every == 0 && nfds < ld.stalled) {
			if ((fds[nfds] = ld_stalled_conn(host, port)) < 0) {
				fprintf(stderr, "busd-load: stalled connection %d failed\n", nfds);
				return 2;
			}
			nfds++;
			nng_msleep(5); /* its handshake completes before the next frames */
		}
		/* Paced by the live subscriber; if it stops getting frames (one was lost), stop here. */
		for (uint64_t tw = rt_mono_ns(); i - atomic_load(&ld_got) >= ld.window;) {
			if (rt_mono_ns() - tw > 10000000000ull) {
				printf("FAIL: the live subscriber stopped at %d of the %d frames published\n",
				       atomic_load(&ld_got), i);
				return 1;
			}
			nng_msleep(1);
		}
		memcpy(body, &i, sizeof i);
		if (bus_publish(p, "load.big", "load", NULL, body, (size_t)ld.body, NULL) != BUS_OK) {
			fprintf(stderr, "busd-load: publish failed\n");
			return 2;
		}
	}
	while (nfds < ld.stalled && (fds[nfds] = ld_stalled_conn(host, port)) >= 0)
		nfds++;
	while (atomic_load(&ld_got) < ld.frames && rt_mono_ns() - t0 < DEADLINE_NS)
		nng_msleep(10);
	double secs = (double)(rt_mono_ns() - t0) / 1e9;
	nng_msleep(1500); /* a last sample, and busd's metrics refresh (every second) */
	long peak = atomic_load(&ld_peak_kib), during = ld_rss_anon_kib();

	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	long after = ld_rss_anon_kib();
	for (uint64_t t1 = rt_mono_ns(); rt_mono_ns() - t1 < 30000000000ull; nng_msleep(100)) {
		after = ld_rss_anon_kib();
		if (ld.after_mib < 0 ? after <= before + 2048 : after <= ld.after_mib * 1024)
			break;
	}
	atomic_store(&ld_stop, 1);
	pthread_join(th_s, NULL);
	pthread_join(th_l, NULL);
	int got = atomic_load(&ld_got), gaps = atomic_load(&ld_gaps);
	printf("busd-load: stalled=%d frames=%d body=%d live_got=%d live_gaps=%d secs=%.1f busd_private_kib "
	       "before=%ld peak=%ld with_stalled=%ld after_they_left=%ld\n",
	       nfds, ld.frames, ld.body, got, gaps, secs, before, peak, during, after);
	int rc = 0;
	if (got != ld.frames || gaps != 0) {
		printf("FAIL: the live subscriber got %d of %d frames (%d gaps)\n", got, ld.frames, gaps);
		rc = 1;
	}
	if (ld.max_private_mib >= 0 && peak > ld.max_private_mib * 1024) {
		printf("FAIL: busd private memory peaked at %ld KiB, bound %ld MiB\n", peak, ld.max_private_mib);
		rc = 1;
	}
	if (ld.after_mib >= 0 && after > ld.after_mib * 1024) {
		printf("FAIL: busd private memory %ld KiB after the stalled subscribers left, bound %ld MiB\n", after,
		       ld.after_mib);
		rc = 1;
	}
	bus_sub_close(s);
	bus_pub_close(p);
	free(body);
	free(fds);
	return rc;
}
