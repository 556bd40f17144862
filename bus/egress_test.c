/*
 * egress_test.c - busd's egress against real NNG sub0 subscribers and raw stream peers: frames
 * reach every subscriber, stalled subscribers (connected, never reading) lose frames within their
 * byte bound while a live one gets every frame, the frames held stay under the total bound, a
 * stalled subscriber is disconnected after BUSD_SUB_STALL, and peers that are not sub0 are refused.
 */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "bus/egress.h"
#include "base/rt_main.h"

#define NSTALLED    80
#define NFRAMES     600
#define FRAME_LEN   (64 * 1024 - 64)
#define DEADLINE_MS 60000 /* generous: the machine may be loaded by other work */

static char eg_path[108], eg_url[160];

static void
eg_urls(const char *tag)
{
	snprintf(eg_path, sizeof eg_path, "/tmp/ob-egress-%d-%s.ipc", (int)getpid(), tag);
	snprintf(eg_url, sizeof eg_url, "ipc://%s", eg_path);
	unlink(eg_path);
}

/* A raw peer: connects over the unix socket and sends hdr (8 bytes), then never reads. */
static int
raw_peer(const uint8_t hdr[8])
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), small = 4096;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", eg_path);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || write(fd, hdr, 8) != 8) {
		close(fd);
		return -1;
	}
	return fd;
}

static const uint8_t sub0_hdr[8] = { 0, 'S', 'P', 0, 0x00, 0x21, 0, 0 };

typedef struct {
	atomic_int stop;
	atomic_int got;
	atomic_int bad;
	nng_socket s;
	pthread_t th;
} live_sub;

static void *
live_main(void *arg)
{
	live_sub *l = arg;
	while (!atomic_load(&l->stop)) {
		nng_msg *m;
		if (nng_recvmsg(l->s, &m, 0) != 0)
			continue;
		const uint8_t *b = nng_msg_body(m);
		if (nng_msg_len(m) == FRAME_LEN && b[0] == 't' &&
		    b[FRAME_LEN - 1] == (uint8_t)(atomic_load(&l->got) & 0xff))
			atomic_fetch_add(&l->got, 1);
		else
			atomic_fetch_add(&l->bad, 1);
		nng_msg_free(m);
	}
	return NULL;
}

static void
live_start(live_sub *l)
{
	memset(l, 0, sizeof *l);
	assert_int_equal(nng_sub0_open(&l->s), 0);
	nng_socket_set_int(l->s, NNG_OPT_RECVBUF, 1024);
	nng_socket_set_size(l->s, NNG_OPT_RECVMAXSZ, 1 << 20);
	nng_socket_set_ms(l->s, NNG_OPT_RECVTIMEO, 100);
	nng_socket_set(l->s, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	assert_int_equal(nng_dial(l->s, eg_url, NULL, 0), 0);
	pthread_create(&l->th, NULL, live_main, l);
}

static void
live_stop(live_sub *l)
{
	atomic_store(&l->stop, 1);
	pthread_join(l->th, NULL);
	nng_close(l->s);
}

/* Polls until the egress has `want` subscribers past the handshake (ticking it meanwhile). */
static int
wait_conns(bus_egress *e, int want)
{
	bus_egress_stats st;
	for (int waited = 0; waited < DEADLINE_MS; waited += 10) {
		bus_egress_tick(e);
		bus_egress_get_stats(e, &st);
		if (st.conns == want)
			return 0;
		nng_msleep(10);
	}
	return -1;
}

static void
test_stalled_subscribers_bounded(void **state)
{
	(void)state;
	char err[200];
	uint8_t *frame = malloc(FRAME_LEN);
	int fds[NSTALLED];
	/* busd's defaults for the total; each subscriber's share is then 64 MiB / 81 = 12 frames. */
	bus_egress_limits lim = {
		.max_conn_bytes = 8 << 20, .max_total_bytes = 64 << 20, .stall_ms = 0, .max_conns = 200
	};
	bus_egress_stats st;
	live_sub live;
	eg_urls("stall");
	bus_egress *e = bus_egress_open(eg_url, &lim, err, sizeof err);
	if (e == NULL)
		fail_msg("%s", err);
	for (int i = 0; i < NSTALLED; i++)
		assert_true((fds[i] = raw_peer(sub0_hdr)) >= 0);
	live_start(&live);
	assert_int_equal(wait_conns(e, NSTALLED + 1), 0);

	memset(frame, 'x', FRAME_LEN);
	frame[0] = 't';
	uint64_t max_held = 0, t0 = rt_mono_ns();
	for (int i = 0; i < NFRAMES && atomic_load(&live.bad) == 0; i++) {
		frame[FRAME_LEN - 1] = (uint8_t)(i & 0xff);
		/* Pace to the live subscriber, as a publisher at the rate its readers keep up with: at most
		 * 4 frames ahead of it (its share is 12). The other 80 never read. */
		while (i - atomic_load(&live.got) > 4 && rt_mono_ns() - t0 < DEADLINE_MS * 1000000ull)
			nng_msleep(1);
		bus_egress_send(e, frame, FRAME_LEN);
		bus_egress_get_stats(e, &st);
		if (st.held_bytes > max_held)
			max_held = st.held_bytes;
	}
	for (int w = 0; atomic_load(&live.got) < NFRAMES && atomic_load(&live.bad) == 0 && w < DEADLINE_MS; w += 10)
		nng_msleep(10);
	bus_egress_tick(e);
	bus_egress_get_stats(e, &st);
	/* The live subscriber got every frame, in order, intact. */
	assert_int_equal(atomic_load(&live.got), NFRAMES);
	assert_int_equal(atomic_load(&live.bad), 0);
	/* The stalled ones lost frames, and only they: every frame not sent to a stalled subscriber is
	 * counted as its drop (81 subscribers x 600 frames = sent + dropped + what is still queued). */
	assert_true(st.dropped_frames >= (uint64_t)NSTALLED * (NFRAMES - 200));
	assert_true(st.sent_frames >= NFRAMES);
	/* Held frame memory never passed the total bound, nor each stalled subscriber's share. */
	assert_true(max_held <= lim.max_total_bytes);
	assert_true(st.held_peak <= lim.max_total_bytes);
	assert_true(st.held_peak > 0);
	/* The stalled subscribers leave: everything they held is freed. */
	for (int i = 0; i < NSTALLED; i++)
		close(fds[i]);
	assert_int_equal(wait_conns(e, 1), 0);
	for (int w = 0; w < DEADLINE_MS; w += 10) {
		bus_egress_tick(e);
		bus_egress_get_stats(e, &st);
		if (st.held_bytes == 0)
			break;
		nng_msleep(10);
	}
	assert_int_equal(st.held_bytes, 0);
	live_stop(&live);
	bus_egress_close(e);
	unlink(eg_path);
	free(frame);
}

static void
test_stalled_subscriber_disconnected(void **state)
{
	(void)state;
	char err[200];
	uint8_t frame[4096];
	bus_egress_limits lim = {
		.max_conn_bytes = 1 << 16, .max_total_bytes = 1 << 20, .stall_ms = 300, .max_conns = 10
	};
	bus_egress_stats st;
	eg_urls("disc");
	bus_egress *e = bus_egress_open(eg_url, &lim, err, sizeof err);
	if (e == NULL)
		fail_msg("%s", err);
	int fd = raw_peer(sub0_hdr);
	assert_true(fd >= 0);
	assert_int_equal(wait_conns(e, 1), 0);
	memset(frame, 'y', sizeof frame);
	/* Enough to fill the socket buffers and the queue: the peer never reads. */
	for (int i = 0; i < 2000; i++)
		bus_egress_send(e, frame, sizeof frame);
	for (int w = 0; w < DEADLINE_MS; w += 20) {
		bus_egress_send(e, frame, sizeof frame); /* frames keep coming: some wait, none is taken */
		bus_egress_tick(e);
		bus_egress_get_stats(e, &st);
		if (st.disconnected_stalled == 1 && st.conns == 0 && st.held_bytes == 0)
			break;
		nng_msleep(20);
	}
	if (st.disconnected_stalled != 1 || st.conns != 0 || st.held_bytes != 0)
		fail_msg("stalled %llu conns %d open %d held %llu sent %llu dropped %llu",
		         (unsigned long long)st.disconnected_stalled, st.conns, st.open,
		         (unsigned long long)st.held_bytes, (unsigned long long)st.sent_frames,
		         (unsigned long long)st.dropped_frames);
	close(fd);
	bus_egress_close(e);
	unlink(eg_path);
}

static void
test_refuses_non_sub0(void **state)
{
	(void)state;
	char err[200];
	bus_egress_limits lim = { .max_conn_bytes = 1 << 16, .max_total_bytes = 1 << 20, .max_conns = 2 };
	bus_egress_stats st;
	const uint8_t pub0_hdr[8] = { 0, 'S', 'P', 0, 0x00, 0x20, 0, 0 };
	const uint8_t http[8] = { 'G', 'E', 'T', ' ', '/', ' ', 'H', 'T' };
	eg_urls("refuse");
	bus_egress *e = bus_egress_open(eg_url, &lim, err, sizeof err);
	if (e == NULL)
		fail_msg("%s", err);
	int a = raw_peer(pub0_hdr), b = raw_peer(http);
	assert_true(a >= 0 && b >= 0);
	for (int w = 0; w < DEADLINE_MS; w += 10) {
		bus_egress_tick(e);
		bus_egress_get_stats(e, &st);
		if (st.refused_proto == 2 && st.open == 0)
			break;
		nng_msleep(10);
	}
	assert_int_equal(st.refused_proto, 2);
	assert_int_equal(st.open, 0);
	/* Past max_conns, connections are refused before any handshake. */
	int c1 = raw_peer(sub0_hdr), c2 = raw_peer(sub0_hdr), c3 = raw_peer(sub0_hdr);
	for (int w = 0; w < DEADLINE_MS; w += 10) {
		bus_egress_tick(e);
		bus_egress_get_stats(e, &st);
		if (st.refused_limit >= 1 && st.conns == 2)
			break;
		nng_msleep(10);
	}
	assert_int_equal(st.refused_limit, 1);
	assert_int_equal(st.conns, 2);
	close(a);
	close(b);
	close(c1);
	close(c2);
	close(c3);
	bus_egress_close(e);
	unlink(eg_path);
}

static void
test_bad_url(void **state)
{
	(void)state;
	char err[200];
	bus_egress_limits lim = { .max_conn_bytes = 1 << 16, .max_total_bytes = 1 << 20 };
	assert_null(bus_egress_open("tls+tcp://127.0.0.1:0", &lim, err, sizeof err));
	assert_non_null(strstr(err, "BUS_TLS_CERT"));
	assert_null(bus_egress_open("", &lim, err, sizeof err));
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN); /* a peer the egress closes on: EPIPE, not death (busd ignores it too, rt_main) */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalled_subscribers_bounded),
		cmocka_unit_test(test_stalled_subscriber_disconnected),
		cmocka_unit_test(test_refuses_non_sub0),
		cmocka_unit_test(test_bad_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
