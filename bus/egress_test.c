/*
 * egress_test.c - busd's egress against real NNG sub0 subscribers and raw stream peers: frames
 * reach every subscriber, stalled subscribers (connected, never reading) lose frames within their
 * byte bound while a live one gets every frame, the frames held stay under the total bound, a
 * stalled subscriber is disconnected after BUSD_SUB_STALL, and peers that are not sub0 are refused.
 * Topic declarations (topicdecl.h): a declaring peer gets only its prefixes (and the ack, in order),
 * re-declaring changes them, a plain sub0 beside it still gets every frame, and declarations that
 * are malformed or over the bounds are refused and counted while the egress goes on.
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
#include "bus/topicdecl.h"
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

/* Ticks in a tight loop beside the accepts: a tick that read its clock before waiting for the lock an
 * accept held saw a connection born after "now" (the unsigned age wrapped: refused as a handshake
 * timeout). Every one of many fresh sub0 peers must go live and none be refused. */
typedef struct {
	bus_egress *e;
	atomic_int stop;
} tick_loop;

static void *
tick_main(void *arg)
{
	tick_loop *t = arg;
	while (!atomic_load(&t->stop))
		bus_egress_tick(t->e);
	return NULL;
}

static void
test_fresh_peers_not_aged(void **state)
{
	(void)state;
	enum {
		NPEERS = 400
	};
	char err[200];
	bus_egress_limits lim = { .max_conn_bytes = 1 << 16, .max_total_bytes = 1 << 24, .max_conns = NPEERS + 8 };
	bus_egress_stats st;
	static int fds[NPEERS];
	eg_urls("fresh");
	tick_loop t = { .e = bus_egress_open(eg_url, &lim, err, sizeof err) };
	if (t.e == NULL)
		fail_msg("%s", err);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, tick_main, &t), 0);
	for (int i = 0; i < NPEERS; i++) {
		fds[i] = raw_peer(sub0_hdr);
		assert_true(fds[i] >= 0);
	}
	for (int w = 0; w < DEADLINE_MS; w += 10) {
		bus_egress_get_stats(t.e, &st);
		if (st.conns == NPEERS || st.refused_proto || st.refused_limit)
			break;
		nng_msleep(10);
	}
	atomic_store(&t.stop, 1);
	pthread_join(th, NULL);
	if (st.conns != NPEERS || st.refused_proto || st.refused_limit || st.refused_tls)
		fail_msg("live %d of %d; refused: proto %llu limit %llu tls %llu", st.conns, NPEERS,
		         (unsigned long long)st.refused_proto, (unsigned long long)st.refused_limit,
		         (unsigned long long)st.refused_tls);
	for (int i = 0; i < NPEERS; i++)
		close(fds[i]);
	bus_egress_close(t.e);
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
	if (st.refused_limit != 1 || st.conns != 2) /* every counter: which way a connection went */
		fail_msg("refused: limit %llu (want 1) proto %llu tls %llu; live %d (want 2) open %d",
		         (unsigned long long)st.refused_limit, (unsigned long long)st.refused_proto,
		         (unsigned long long)st.refused_tls, st.conns, st.open);
	close(a);
	close(b);
	close(c1);
	close(c2);
	close(c3);
	bus_egress_close(e);
	unlink(eg_path);
}

/* ---- topic declarations: a raw peer speaking the declaring subscriber's side --------------- */

static int
rd_full(int fd, uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, b, n);
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Connects as a sub0 and reads busd's pub0 header. */
static int
decl_peer(void)
{
	uint8_t hdr[8];
	int fd = raw_peer(sub0_hdr);
	struct timeval tv = { .tv_sec = DEADLINE_MS / 1000 };
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (rd_full(fd, hdr, 8) != 0 || hdr[1] != 'S' || hdr[5] != 0x20) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends one SP message (ipc: type byte, u64 length) upstream. */
static int
send_msg(int fd, const uint8_t *body, uint64_t len, size_t actual)
{
	uint8_t hdr[9] = { 1 };
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)(len >> (56 - 8 * i));
	if (write(fd, hdr, 9) != 9)
		return -1;
	return actual == 0 || write(fd, body, actual) == (ssize_t)actual ? 0 : -1;
}

static int
declare(int fd, uint32_t seq, const char *const *pfx, size_t n)
{
	static uint8_t buf[TOPICDECL_MAX_BYTES];
	size_t len = topicdecl_encode(seq, pfx, n, buf, sizeof buf);
	return len ? send_msg(fd, buf, len, len) : -1;
}

/* Reads one message; its length, or -1 (closed, timeout). */
static long
read_msg(int fd, uint8_t *out, size_t cap)
{
	uint8_t hdr[9];
	uint64_t len = 0;
	if (rd_full(fd, hdr, 9) != 0 || hdr[0] != 1)
		return -1;
	for (int i = 1; i < 9; i++)
		len = len << 8 | hdr[i];
	if (len > cap || rd_full(fd, out, len) != 0)
		return -1;
	return (long)len;
}

static int
wait_stat(bus_egress *e, size_t field, uint64_t want)
{
	bus_egress_stats st;
	for (int waited = 0; waited < DEADLINE_MS; waited += 10) {
		bus_egress_tick(e);
		bus_egress_get_stats(e, &st);
		if (*(uint64_t *)((char *)&st + field) == want)
			return 0;
		nng_msleep(10);
	}
	return -1;
}

/* Reads until the ack of seq; frames before it are counted in *before. 0 or -1. */
static int
read_ack(int fd, uint32_t seq, int *before)
{
	uint8_t b[256];
	uint32_t got;
	for (;;) {
		long n = read_msg(fd, b, sizeof b);
		if (n < 0)
			return -1;
		if (topicdecl_is_ack(b, (size_t)n, &got))
			return got == seq ? 0 : -1;
		(*before)++;
	}
}

/* A plain NNG sub0 that counts frames by first letter. */
typedef struct {
	nng_socket s;
	atomic_int a, b;
	atomic_int stop;
	pthread_t th;
} count_sub;

static void *
count_main(void *arg)
{
	count_sub *c = arg;
	while (!atomic_load(&c->stop)) {
		nng_msg *m;
		if (nng_recvmsg(c->s, &m, 0) != 0)
			continue;
		atomic_fetch_add(((char *)nng_msg_body(m))[0] == 'a' ? &c->a : &c->b, 1);
		nng_msg_free(m);
	}
	return NULL;
}

static void
test_declared_prefixes_only(void **state)
{
	(void)state;
	char err[200];
	uint8_t b[256];
	bus_egress_limits lim = { .max_conn_bytes = 1 << 20, .max_total_bytes = 8 << 20, .max_conns = 10 };
	bus_egress_stats st;
	count_sub plain = { 0 };
	eg_urls("decl");
	bus_egress *e = bus_egress_open(eg_url, &lim, err, sizeof err);
	if (e == NULL)
		fail_msg("%s", err);
	int fd = decl_peer();
	assert_true(fd >= 0);
	/* an unmodified NNG sub0 beside it: never declares, gets everything */
	assert_int_equal(nng_sub0_open(&plain.s), 0);
	nng_socket_set_ms(plain.s, NNG_OPT_RECVTIMEO, 100);
	nng_socket_set(plain.s, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	assert_int_equal(nng_dial(plain.s, eg_url, NULL, 0), 0);
	pthread_create(&plain.th, NULL, count_main, &plain);
	assert_int_equal(wait_conns(e, 2), 0);

	const char *a[] = { "a.", "zz" };
	int before = 0;
	assert_int_equal(declare(fd, 7, a, 2), 0);
	assert_int_equal(read_ack(fd, 7, &before), 0);
	assert_int_equal(before, 0);
	bus_egress_get_stats(e, &st);
	assert_int_equal(st.decl_accepted, 1);
	assert_int_equal(st.filtered_conns, 1);
	for (int i = 0; i < 100; i++) {
		char f[32];
		int n = snprintf(f, sizeof f, "%s.%d", i % 2 ? "b" : "a", i);
		bus_egress_send(e, (uint8_t *)f, (size_t)n);
	}
	/* the declaring peer: the 50 "a." frames, in order, nothing else */
	for (int i = 0; i < 50; i++) {
		char want[32];
		long n = read_msg(fd, b, sizeof b - 1);
		assert_true(n > 0);
		b[n] = 0;
		snprintf(want, sizeof want, "a.%d", 2 * i);
		assert_string_equal((char *)b, want);
	}
	for (int w = 0; (atomic_load(&plain.a) < 50 || atomic_load(&plain.b) < 50) && w < DEADLINE_MS; w += 10)
		nng_msleep(10);
	assert_int_equal(atomic_load(&plain.a), 50);
	assert_int_equal(atomic_load(&plain.b), 50);
	bus_egress_get_stats(e, &st);
	assert_int_equal(st.filtered_frames, 50);

	/* re-declared: from the ack on, only "b." */
	const char *bb[] = { "b." };
	before = 0;
	assert_int_equal(declare(fd, 8, bb, 1), 0);
	assert_int_equal(read_ack(fd, 8, &before), 0);
	bus_egress_send(e, (const uint8_t *)"a.x", 3);
	bus_egress_send(e, (const uint8_t *)"b.x", 3);
	assert_int_equal(read_msg(fd, b, sizeof b), 3);
	assert_memory_equal(b, "b.x", 3);
	/* "" is everything, an empty list nothing */
	const char *all[] = { "" };
	assert_int_equal(declare(fd, 9, all, 1), 0);
	assert_int_equal(read_ack(fd, 9, &before), 0);
	bus_egress_send(e, (const uint8_t *)"a.y", 3);
	assert_int_equal(read_msg(fd, b, sizeof b), 3);
	assert_memory_equal(b, "a.y", 3);
	assert_int_equal(declare(fd, 10, NULL, 0), 0);
	assert_int_equal(read_ack(fd, 10, &before), 0);
	bus_egress_send(e, (const uint8_t *)"a.z", 3);
	bus_egress_send(e, (const uint8_t *)"b.z", 3);
	assert_int_equal(declare(fd, 11, all, 1), 0);
	assert_int_equal(read_ack(fd, 11, &before), 0); /* nothing came between */
	bus_egress_get_stats(e, &st);
	assert_int_equal(st.decl_accepted, 5);
	assert_int_equal(st.refused_decl, 0);

	atomic_store(&plain.stop, 1);
	pthread_join(plain.th, NULL);
	nng_close(plain.s);
	close(fd);
	bus_egress_close(e);
	unlink(eg_path);
}

static void
test_declaration_bounds(void **state)
{
	(void)state;
	char err[200];
	uint8_t b[64];
	bus_egress_limits lim = { .max_conn_bytes = 1 << 20, .max_total_bytes = 8 << 20, .max_conns = 10 };
	eg_urls("bounds");
	bus_egress *e = bus_egress_open(eg_url, &lim, err, sizeof err);
	if (e == NULL)
		fail_msg("%s", err);
	size_t refused = offsetof(bus_egress_stats, refused_decl);
	/* 1. a message longer than the largest declaration: refused on its header */
	int fd = decl_peer();
	assert_true(fd >= 0);
	assert_int_equal(send_msg(fd, NULL, TOPICDECL_MAX_BYTES + 1, 0), 0);
	assert_int_equal(wait_stat(e, refused, 1), 0);
	assert_true(read_msg(fd, b, sizeof b) < 0); /* disconnected */
	close(fd);
	/* 2. bad magic */
	fd = decl_peer();
	assert_true(fd >= 0);
	assert_int_equal(send_msg(fd, (const uint8_t *)"HELLO WORLD!", 12, 12), 0);
	assert_int_equal(wait_stat(e, refused, 2), 0);
	close(fd);
	/* 3. more prefixes than allowed (count 257, each empty) */
	uint8_t over[TOPICDECL_HDR + 257];
	const char *one[] = { "x" };
	assert_int_equal(topicdecl_encode(1, one, 1, over, sizeof over), TOPICDECL_HDR + 2);
	over[9] = 257 >> 8;
	over[10] = 257 & 0xff;
	memset(over + TOPICDECL_HDR, 0, 257);
	fd = decl_peer();
	assert_true(fd >= 0);
	assert_int_equal(send_msg(fd, over, sizeof over, sizeof over), 0);
	assert_int_equal(wait_stat(e, refused, 3), 0);
	close(fd);
	/* 4. a prefix over the bound, 5. trailing bytes, 6. an ipc message type that is not 1 */
	uint8_t longp[TOPICDECL_HDR + 1 + 200] = { 0 };
	topicdecl_encode(1, NULL, 0, longp, sizeof longp);
	longp[10] = 1;
	longp[TOPICDECL_HDR] = 200;
	fd = decl_peer();
	assert_true(fd >= 0);
	assert_int_equal(send_msg(fd, longp, sizeof longp, sizeof longp), 0);
	assert_int_equal(wait_stat(e, refused, 4), 0);
	close(fd);
	uint8_t trail[TOPICDECL_HDR + 3];
	assert_int_equal(topicdecl_encode(1, one, 1, trail, sizeof trail), TOPICDECL_HDR + 2);
	fd = decl_peer();
	assert_true(fd >= 0);
	assert_int_equal(send_msg(fd, trail, sizeof trail, sizeof trail), 0);
	assert_int_equal(wait_stat(e, refused, 5), 0);
	close(fd);
	fd = decl_peer();
	assert_true(fd >= 0);
	uint8_t badtype[9] = { 2, 0, 0, 0, 0, 0, 0, 0, 12 };
	assert_int_equal(write(fd, badtype, 9), 9);
	assert_int_equal(wait_stat(e, refused, 6), 0);
	close(fd);
	/* the egress goes on: a peer at the bound (256 prefixes of 128 bytes) is accepted */
	static char big[TOPICDECL_MAX_PREFIXES][TOPICDECL_PREFIX_MAX + 1];
	const char *ptrs[TOPICDECL_MAX_PREFIXES];
	for (int i = 0; i < TOPICDECL_MAX_PREFIXES; i++) {
		memset(big[i], 'p', TOPICDECL_PREFIX_MAX);
		big[i][0] = (char)('0' + i / 100); /* each prefix distinct */
		big[i][1] = (char)('0' + i / 10 % 10);
		big[i][2] = (char)('0' + i % 10);
		ptrs[i] = big[i];
	}
	fd = decl_peer();
	assert_true(fd >= 0);
	int before = 0;
	assert_int_equal(declare(fd, 3, ptrs, TOPICDECL_MAX_PREFIXES), 0);
	assert_int_equal(read_ack(fd, 3, &before), 0);
	bus_egress_send(e, (const uint8_t *)big[255], TOPICDECL_PREFIX_MAX);
	assert_int_equal(read_msg(fd, b, sizeof b), -1); /* longer than b: read_msg refuses, but it came */
	bus_egress_stats st;
	bus_egress_get_stats(e, &st);
	assert_int_equal(st.refused_decl, 6);
	assert_int_equal(st.decl_accepted, 1);
	close(fd);
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
		cmocka_unit_test(test_fresh_peers_not_aged),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_declared_prefixes_only),
		cmocka_unit_test(test_declaration_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
