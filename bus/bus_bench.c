/*
 * bus_bench.c - the bus against raw NNG, in one run, on the same topology:
 *
 *   publisher thread -> forwarder process -> 1 or 4 subscriber threads      (ipc://)
 *
 * baseline: raw pub0/sub0 sockets and a raw recv/send forwarder, 200-byte payloads, no envelope;
 * oraclebus: bus_publish / bus_recv (envelope, per-stream dedupe and gap tracking) through the real
 *            busd binary with its LMDB journal on.
 * Reported: messages per second delivered to every subscriber with at most WINDOW messages in
 * flight (the publisher waits for the slowest subscriber, so nothing is dropped and the number is
 * the pipeline's capacity rather than a race against pub0's queue), p50/p99 latency at a paced
 * 10,000 msg/s, and the ratios oraclebus / raw. Then BIP-340 sign and verify rates on one core,
 * and the signed path end to end: throughput (the publisher signs windows of waiting frames, bus.c)
 * and latency at 1,000 and 10,000 msg/s.
 *
 * Run from the repository root (it starts build/bin/busd). Never fails on numbers: it reports.
 */
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "bus/sig.h"

#define PAYLOAD 200
#define MAXSUB  4
#define WINDOW  256

static int bench_verify_threads = -1; /* -1: the subscriber's default */

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

typedef struct {
	int raw; /* 1 = raw NNG, 0 = oraclebus */
	const char *url;
	const sig_trust *trust;
	atomic_int ready;
	atomic_int stop;
	_Atomic uint64_t got;
	uint64_t first_ns, last_ns;
	uint64_t *lat; /* latency samples (ns), when measuring latency */
	size_t nlat, cap;
} sub_ctx;

static void
sub_record(sub_ctx *c, const uint8_t *payload)
{
	uint64_t sent, t = now_ns();
	memcpy(&sent, payload, 8);
	if (c->got == 0)
		c->first_ns = t;
	c->last_ns = t;
	c->got++;
	if (c->lat && c->nlat < c->cap)
		c->lat[c->nlat++] = t - sent;
}

static void *
sub_main(void *arg)
{
	sub_ctx *c = arg;
	if (c->raw) {
		nng_socket s;
		nng_sub0_open(&s);
		nng_socket_set_int(s, NNG_OPT_RECVBUF, 1024);
		nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "bench.", 6);
		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 200);
		nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 10);
		nng_dial(s, c->url, NULL, NNG_FLAG_NONBLOCK);
		while (!atomic_load(&c->stop)) {
			nng_msg *m;
			if (nng_recvmsg(s, &m, 0) != 0) {
				atomic_store(&c->ready, 1);
				continue;
			}
			atomic_store(&c->ready, 1);
			if (nng_msg_len(m) >= 8 + 8)
				sub_record(c, (uint8_t *)nng_msg_body(m) + 8); /* after "bench.t\0" */
			nng_msg_free(m);
		}
		nng_close(s);
	} else {
		char err[128];
		bus_sub *s = bus_sub_open(c->url, err, sizeof err);
		bus_sub_topic(s, "bench.");
		bus_sub_set_trust(s, c->trust);
		if (bench_verify_threads >= 0)
			bus_sub_verify_threads(s, bench_verify_threads);
		while (!atomic_load(&c->stop)) {
			bus_msg m;
			int rv = bus_recv(s, &m, 200);
			atomic_store(&c->ready, 1);
			if (rv == BUS_OK && m.f.body_len >= 8)
				sub_record(c, m.f.body);
			if (rv == BUS_OK || rv == BUS_EDECODE || rv == BUS_EREJECT)
				bus_msg_free(&m);
		}
		bus_sub_close(s);
	}
	return NULL;
}

/* The baseline forwarder: what busd does, minus decoding and journaling. */
static void
raw_forwarder(const char *in_url, const char *out_url)
{
	nng_socket in, out;
	nng_sub0_open(&in);
	nng_pub0_open(&out);
	nng_socket_set_int(in, NNG_OPT_RECVBUF, 8192);
	nng_socket_set_int(out, NNG_OPT_SENDBUF, 8192);
	nng_socket_set(in, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	if (nng_listen(in, in_url, NULL, 0) || nng_listen(out, out_url, NULL, 0))
		_exit(1);
	for (;;) {
		nng_msg *m;
		if (nng_recvmsg(in, &m, 0) != 0)
			_exit(0);
		if (nng_sendmsg(out, m, 0) != 0)
			nng_msg_free(m);
	}
}

static pid_t
start_forwarder(int raw, const char *in, const char *out, const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* NNG is not fork-safe: the child execs a fresh image before touching a socket. */
		if (raw) {
			execl("/proc/self/exe", "bus_bench", "--raw-forwarder", in, out, (char *)NULL);
			_exit(127);
		}
		setenv("BUSD_INGRESS", in, 1);
		setenv("BUSD_EGRESS", out, 1);
		setenv("JOURNAL_DIR", dir, 1);
		setenv("LOG_LEVEL", "error", 1);
		execl("build/bin/busd", "busd", (char *)NULL);
		perror("exec build/bin/busd");
		_exit(127);
	}
	return pid;
}

typedef struct {
	double rate;       /* delivered msgs/s per subscriber (mean) */
	double loss;       /* fraction not delivered */
	uint64_t p50, p99; /* ns */
} result;

/*
 * One measurement. pace_per_s = 0: flat out, measure throughput; otherwise paced, measure latency.
 */
static result
run(int raw, int nsub, uint64_t count, uint64_t pace_per_s, const sig_key *key, const sig_trust *trust)
{
	static int run_no;
	char in[64], out[64], dir[64], err[128];
	snprintf(in, sizeof in, "ipc:///tmp/ob-bench-%d-%d-in", getpid(), run_no);
	snprintf(out, sizeof out, "ipc:///tmp/ob-bench-%d-%d-out", getpid(), run_no);
	snprintf(dir, sizeof dir, "/tmp/ob-bench-%d-%d-journal", getpid(), run_no++);
	pid_t fwd = start_forwarder(raw, in, out, dir);
	nng_msleep(200);

	sub_ctx subs[MAXSUB];
	pthread_t th[MAXSUB];
	for (int i = 0; i < nsub; i++) {
		memset(&subs[i], 0, sizeof subs[i]);
		subs[i].raw = raw;
		subs[i].url = out;
		subs[i].trust = trust;
		if (pace_per_s) {
			subs[i].cap = count;
			subs[i].lat = malloc(count * sizeof(uint64_t));
		}
		pthread_create(&th[i], NULL, sub_main, &subs[i]);
	}
	for (int i = 0; i < nsub; i++)
		while (!atomic_load(&subs[i].ready))
			nng_msleep(5);

	uint8_t payload[PAYLOAD];
	memset(payload, 0x5a, sizeof payload);
	nng_socket rp;
	bus_pub *bp = NULL;
	if (raw) {
		nng_pub0_open(&rp);
		nng_socket_set_int(rp, NNG_OPT_SENDBUF, 1024);
		nng_dial(rp, in, NULL, 0);
	} else {
		bp = bus_pub_open(in, "bench-pub", err, sizeof err);
		bus_pub_set_key(bp, key);
		bus_pub_wait(bp, 1, 2000);
	}
	nng_msleep(300); /* subscriptions settle */

	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < count; i++) {
		if (pace_per_s) {
			uint64_t due = t0 + i * 1000000000u / pace_per_s;
			while (now_ns() < due)
				;
		} else {
			/* Bounded in flight: wait for the slowest subscriber (give up after 200 ms of no
			 * progress, which only a lost frame causes, so a loss cannot stall the run). */
			uint64_t waited_since = 0;
			for (;;) {
				uint64_t slowest = UINT64_MAX;
				for (int s = 0; s < nsub; s++)
					if (atomic_load(&subs[s].got) < slowest)
						slowest = atomic_load(&subs[s].got);
				if (i - slowest <= WINDOW)
					break;
				if (waited_since == 0)
					waited_since = now_ns();
				else if (now_ns() - waited_since > 200000000u)
					break;
				usleep(20);
			}
		}
		uint64_t t = now_ns();
		memcpy(payload, &t, 8);
		if (raw) {
			nng_msg *m;
			nng_msg_alloc(&m, 8 + PAYLOAD);
			memcpy(nng_msg_body(m), "bench.t", 8);
			memcpy((uint8_t *)nng_msg_body(m) + 8, payload, PAYLOAD);
			if (nng_sendmsg(rp, m, 0) != 0)
				nng_msg_free(m);
		} else if (bus_publish(bp, "bench.t", "bench", NULL, payload, PAYLOAD, NULL) != BUS_OK) {
			/* as a refused nng_sendmsg above: the receivers' counts show the loss */
		}
	}
	nng_msleep(500); /* drain */
	for (int i = 0; i < nsub; i++) {
		atomic_store(&subs[i].stop, 1);
		pthread_join(th[i], NULL);
	}
	if (raw)
		nng_close(rp);
	else
		bus_pub_close(bp);
	kill(fwd, SIGTERM);
	waitpid(fwd, NULL, 0);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);

	result r = { 0 };
	uint64_t *all = NULL;
	size_t nall = 0;
	for (int i = 0; i < nsub; i++) {
		double secs = subs[i].last_ns > subs[i].first_ns ? (subs[i].last_ns - subs[i].first_ns) / 1e9 : 1e-9;
		r.rate += subs[i].got / secs / nsub;
		r.loss += (1.0 - (double)subs[i].got / count) / nsub;
		if (subs[i].lat) {
			all = realloc(all, (nall + subs[i].nlat) * sizeof *all);
			memcpy(all + nall, subs[i].lat, subs[i].nlat * sizeof *all);
			nall += subs[i].nlat;
			free(subs[i].lat);
		}
	}
	if (nall) {
		qsort(all, nall, sizeof *all, cmp_u64);
		r.p50 = all[nall / 2];
		r.p99 = all[nall * 99 / 100];
	}
	free(all);
	return r;
}

static void
report(const char *what, result raw, result ob)
{
	printf("%-34s raw %8.0f msg/s (loss %4.1f%%)   oraclebus %8.0f msg/s (loss %4.1f%%)   ratio %.2f\n", what,
	       raw.rate, raw.loss * 100, ob.rate, ob.loss * 100, ob.rate / raw.rate);
}

static void
report_lat(const char *what, result raw, result ob)
{
	printf("%-34s raw p50 %6.1f us p99 %7.1f us   oraclebus p50 %6.1f us p99 %7.1f us\n", what, raw.p50 / 1e3,
	       raw.p99 / 1e3, ob.p50 / 1e3, ob.p99 / 1e3);
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--raw-forwarder") == 0)
		raw_forwarder(argv[2], argv[3]);
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
	/* bus_bench N signed [THREADS]: only the signed comparison, with THREADS verifier threads */
	int signed_only = argc > 2 && strcmp(argv[2], "signed") == 0;
	if (argc > 3)
		bench_verify_threads = atoi(argv[3]);
	signal(SIGPIPE, SIG_IGN);
	if (access("build/bin/busd", X_OK) != 0) {
		fprintf(stderr, "bus_bench: run from the repository root after make (needs build/bin/busd)\n");
		return 1;
	}
	printf("bus bench: %d-byte payloads, %llu messages per throughput run, ipc://, busd journal on\n", PAYLOAD,
	       (unsigned long long)n);
	for (int nsub = 1; !signed_only && nsub <= MAXSUB; nsub += 3) {
		char what[64];
		result raw = run(1, nsub, n, 0, NULL, NULL);
		result ob = run(0, nsub, n, 0, NULL, NULL);
		snprintf(what, sizeof what, "throughput, %d subscriber%s", nsub, nsub > 1 ? "s" : "");
		report(what, raw, ob);
		raw = run(1, nsub, 20000, 10000, NULL, NULL);
		ob = run(0, nsub, 20000, 10000, NULL, NULL);
		snprintf(what, sizeof what, "latency @10k msg/s, %d sub%s", nsub, nsub > 1 ? "s" : "");
		report_lat(what, raw, ob);
	}

	/* BIP-340 on one core: what a publisher pays to sign, what a subscriber pays to verify. */
	sig_key *k = sig_key_generate();
	uint8_t frame[256], sig[64];
	memset(frame, 7, sizeof frame);
	int iters = 20000;
	uint64_t t0 = now_ns();
	for (int i = 0; i < iters; i++) {
		frame[0] = (uint8_t)i;
		sig_sign(k, frame, sizeof frame, sig);
	}
	double sign_rate = iters / ((now_ns() - t0) / 1e9);
	t0 = now_ns();
	int ok = 0;
	for (int i = 0; i < iters; i++)
		ok += sig_verify(sig_key_pub(k), frame, sizeof frame, sig);
	double verify_rate = iters / ((now_ns() - t0) / 1e9);
	printf("BIP-340 one core: sign %.0f/s, verify %.0f/s (%d/%d verified)\n", sign_rate, verify_rate, ok, iters);

	char spec[128], hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sig_key_pub(k)[i]);
	snprintf(spec, sizeof spec, "bench.=%s", hex);
	char err[128];
	sig_trust *t = sig_trust_parse(spec, err, sizeof err);
	result raw = run(1, 1, n / 4, 0, NULL, NULL);
	result ob = run(0, 1, n / 4, 0, k, t);
	report("signed + verified, 1 subscriber", raw, ob);
	if (bench_verify_threads < 0) { /* the same with verification inside bus_recv, as before */
		bench_verify_threads = 0;
		result inl = run(0, 1, n / 4, 0, k, t);
		report("  verified inline in bus_recv", raw, inl);
		bench_verify_threads = -1;
	}
	/* Paced: at 1k msg/s a signing publisher is idle between frames, so each goes out signed alone,
	 * inline (bus.c's signer rules) with a frame signature's latency; at 10k msg/s frames go out
	 * alone while the signer keeps up and in windows when it does not (a loaded machine). */
	raw = run(1, 1, 2000, 1000, NULL, NULL);
	ob = run(0, 1, 2000, 1000, k, t);
	report_lat("latency @1k msg/s, signed", raw, ob);
	raw = run(1, 1, 20000, 10000, NULL, NULL);
	ob = run(0, 1, 20000, 10000, k, t);
	report_lat("latency @10k msg/s, signed", raw, ob);
	sig_trust_free(t);
	sig_key_free(k);
	return 0;
}
