/*
 * bus.c - publishers and subscribers of the oraclebus (see bus.h).
 *
 * Sequence numbers count per stream (origin, topic). A publisher keeps a small table of its topics'
 * counters; a subscriber keeps, per stream, the highest sequence number seen and a 1024-frame
 * window of which lower numbers arrived. That one structure answers three questions: is this a
 * duplicate (the same frame through a second busd), how many frames were skipped (a jump past
 * max + 1), and did the origin restart (seq 1 again with a new timestamp, or a seq already seen
 * carried by a frame newer than every frame seen: the subscriber missed the restart's first frames).
 */
#include "bus/bus.h"

#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/table.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "bus/topicdecl.h"

#define BUS_WINDOW_WORDS 16 /* 1024 frames of duplicate memory per stream */

/* ---- shared -------------------------------------------------------------------------------- */

static struct {
	rt_metric *tx_frames, *tx_errors, *rx_frames, *rx_dups, *rx_gaps, *rx_late, *rx_restarts, *rx_decode,
	        *rx_bad_sig, *rx_missing_sig, *rx_untrusted, *rx_evicted, *rx_streams;
} bus_m;

static void
bus_metrics_init(void)
{
	if (bus_m.tx_frames)
		return;
	bus_m.tx_frames = rt_counter("bus_tx_frames_total", "Frames published.", NULL);
	bus_m.tx_errors = rt_counter("bus_tx_errors_total", "Frames that could not be published.", NULL);
	bus_m.rx_frames = rt_counter("bus_rx_frames_total", "Frames received and accepted.", NULL);
	bus_m.rx_dups = rt_counter("bus_rx_duplicates_total",
	                           "Frames dropped as duplicates (same origin and seq via another busd).", NULL);
	bus_m.rx_gaps = rt_counter("bus_rx_gaps_total", "Frames skipped in an origin's sequence.", NULL);
	bus_m.rx_late = rt_counter("bus_rx_late_total", "Frames that arrived after being counted as skipped.", NULL);
	bus_m.rx_restarts = rt_counter("bus_rx_origin_restarts_total", "Origins seen starting again at seq 1.", NULL);
	bus_m.rx_decode = rt_counter("bus_rx_decode_errors_total", "Malformed frames received.", NULL);
	bus_m.rx_bad_sig =
	        rt_counter("bus_rx_rejected_total", "Frames rejected by the trust check.", "reason=\"bad_signature\"");
	bus_m.rx_missing_sig = rt_counter("bus_rx_rejected_total", "Frames rejected by the trust check.",
	                                  "reason=\"missing_signature\"");
	bus_m.rx_evicted =
	        rt_counter("bus_rx_streams_evicted_total",
	                   "Streams (origin, topic) forgotten because the table was full (BUS_MAX_STREAMS).", NULL);
	bus_m.rx_streams = rt_gauge("bus_rx_streams", "Streams (origin, topic) tracked by this subscriber.", NULL);
	bus_m.rx_untrusted =
	        rt_counter("bus_rx_rejected_total", "Frames rejected by the trust check.", "reason=\"untrusted_key\"");
}

void
bus_socket_defaults(nng_socket s)
{
	/* Redial fast after a busd restart, but back off to 1 s so a dead busd is not hammered. */
	nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 1000);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, FRAME_BODY_MAX + 4096);
}

/* Dials or listens on one tls+tcp URL with a configuration of this process's identity. */
static int
bus_tls_endpoint(nng_socket s, const char *u, int listen, char *err, size_t errlen)
{
	nng_tls_config *c;
	int rv;
	if (bus_tls_config_url(u, listen, &c, err, errlen) != OB_OK)
		return -1;
	if (listen) {
		nng_listener l;
		if ((rv = nng_listener_create(&l, s, u)) == 0 &&
		    (rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, c)) == 0)
			rv = nng_listener_start(l, 0);
	} else {
		nng_dialer d;
		if ((rv = nng_dialer_create(&d, s, u)) == 0 && (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, c)) == 0)
			rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	}
	nng_tls_config_free(c); /* the endpoint holds its own reference */
	if (rv != 0)
		snprintf(err, errlen, "%s %s: %s", listen ? "listen" : "dial", u, nng_strerror(rv));
	return rv ? -1 : 0;
}

int
bus_is_tls_url(const char *u)
{
	return strncmp(u, "tls+", 4) == 0;
}

static int
bus_each_url(nng_socket s, const char *urls, int listen, char *err, size_t errlen)
{
	char *copy = strdup(urls ? urls : ""), *save = NULL;
	int n = 0, rv = 0;
	for (char *u = strtok_r(copy, ",", &save); u && rv == 0; u = strtok_r(NULL, ",", &save)) {
		while (*u == ' ')
			u++;
		for (char *e = u + strlen(u); e > u && e[-1] == ' ';) /* as the RT_BUS_URL check trims */
			*--e = '\0';
		if (*u == 0)
			continue;
		n++;
		if (bus_is_tls_url(u)) {
			rv = bus_tls_endpoint(s, u, listen, err, errlen);
			continue;
		}
		rv = listen ? nng_listen(s, u, NULL, 0) : nng_dial(s, u, NULL, NNG_FLAG_NONBLOCK);
		if (rv != 0)
			snprintf(err, errlen, "%s %s: %s", listen ? "listen" : "dial", u, nng_strerror(rv));
	}
	free(copy);
	if (rv == 0 && n == 0) {
		snprintf(err, errlen, "no bus URL given");
		return -1;
	}
	return rv ? -1 : 0;
}

int
bus_dial_all(nng_socket s, const char *urls, char *err, size_t errlen)
{
	return bus_each_url(s, urls, 0, err, errlen);
}

int
bus_listen_all(nng_socket s, const char *urls, char *err, size_t errlen)
{
	return bus_each_url(s, urls, 1, err, errlen);
}

/* Keeps *n equal to the number of connected pipes (see bus.h). */
static void
bus_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	atomic_int *n = arg;
	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(n, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(n, 1);
}

void
bus_watch_pipes(nng_socket s, atomic_int *n)
{
	nng_pipe_notify(s, NNG_PIPE_EV_ADD_POST, bus_pipe_cb, n);
	nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, bus_pipe_cb, n);
}

static int
bus_wait_pipes(atomic_int *n, int want, int timeout_ms)
{
	for (int waited = 0; atomic_load(n) < want; waited += 5) {
		if (waited >= timeout_ms)
			return -1;
		nng_msleep(5);
	}
	return 0;
}

/* ---- closing ------------------------------------------------------------------------------- */

/*
 * Why a bounded close: NNG 1.5.2 (Debian 12's libnng1) can hang nng_close forever on a socket whose
 * pipe is receiving while it closes. tlstran (and tcptran, with a smaller window) re-arms its
 * stream read from the read callback; when the socket closes the pipe inside that window, the
 * protocol's receive aio is cancelled by aborting the transport's read, which is not in flight, and
 * the transport's read is closed before it is re-armed, so the re-arm fails silently (a stopped aio
 * gets no callback in 1.5.2). The protocol's receive aio then stays queued with no cancel function,
 * the reaper waits for it in sub0's pipe_stop, and nng_close waits for the reaper. Seen with gdb on
 * a hung bus-tap under ASan (which widens the window): main thread in nni_sock_shutdown waiting for
 * the socket's pipe list to empty, nng:reap2 in pipe_destroy -> sub0 pipe_stop -> nni_aio_stop, the
 * sub0 aio linked on the tlstran pipe's recvq with no cancel function, every other NNG thread idle.
 * Nothing outside NNG can close that window (frames keep arriving until the pipe is gone), so the
 * close runs on a thread of its own and the caller stops waiting after timeout_ms: the process
 * stays responsive and exits; a close that does finish late frees what it holds.
 */
typedef struct {
	nng_socket sock;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state; /* 0 closing, 1 closed, 2 the caller gave up (the closer frees this) */
} bus_closer;

static void
bus_closer_free(bus_closer *c)
{
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

static void *
bus_closer_main(void *arg)
{
	bus_closer *c = arg;
	nng_close(c->sock);
	pthread_mutex_lock(&c->mu);
	int abandoned = c->state == 2;
	c->state = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (abandoned)
		bus_closer_free(c);
	return NULL;
}

int
bus_close_socket(nng_socket s, int timeout_ms)
{
	bus_closer *c = calloc(1, sizeof *c);
	pthread_t th;
	if (c == NULL) {
		nng_close(s);
		return 0;
	}
	c->sock = s;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&th, NULL, bus_closer_main, c) != 0) {
		bus_closer_free(c);
		nng_close(s);
		return 0;
	}
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->mu);
	while (c->state == 0)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) != 0)
			break;
	int closed = c->state == 1;
	if (!closed)
		c->state = 2;
	pthread_mutex_unlock(&c->mu);
	if (!closed) {
		pthread_detach(th);
		rt_log(RT_WARN,
		       "bus: socket close still pending after %d ms (NNG 1.5 pipe teardown race); "
		       "leaving it to finish in the background",
		       timeout_ms);
		return -1;
	}
	pthread_join(th, NULL);
	bus_closer_free(c);
	return 0;
}

/* ---- publisher ----------------------------------------------------------------------------- */

typedef struct {
	uint64_t seq;
} bus_topic_seq;

/*
 * The signer: signed frames that are published faster than they can be signed one by one share a
 * signature. A frame published while the previous ones are still waiting to be signed joins them;
 * a signer thread takes every frame waiting (up to BUS_SIGN_WINDOW), signs the Merkle root of their
 * leaves once and sends each with its proof (sig.h, frame.h's 10-element form). Nothing is held
 * back to fill a window: a window is exactly what queued up while the signer was busy, so under
 * load the windows grow by themselves and when frames come one at a time each is signed alone.
 * A frame published after a pause (BUS_SIGN_IDLE_NS since the previous bus_publish returned) with
 * nothing waiting is signed inline by the caller, exactly as before: no hand-off, no added latency
 * for a publisher that is not under load. Once the signer exists, every frame (signed, unsigned,
 * bus_publish_raw) that could overtake a waiting one goes through its queue, so frames leave in
 * the order they were published.
 */
#define BUS_SQ_CAP       1024    /* frames waiting to be signed; bus_publish waits for room past it */
#define BUS_SIGN_WINDOW  64      /* frames under one signature at most (a 6-hash proof, 192 bytes) */
#define BUS_SIGN_IDLE_NS 50000ll /* a publisher this quiet signs inline (cf. ~20 us a signature) */

typedef struct {
	nng_msg *m;
	size_t topic_len, signed_len, len; /* len: encoded, key and sig still nil */
	const sig_key *key;                /* NULL: send as it is */
} bus_sq_ent;

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* frames waiting, or stop */
	pthread_cond_t room_cv; /* the signer took frames */
	bus_sq_ent ring[BUS_SQ_CAP];
	uint64_t head, tail;
	int stop, busy, waiting; /* busy: a batch taken off the ring is being signed or sent */
	pthread_t th;
	bus_sq_ent batch[BUS_SIGN_WINDOW]; /* the signer thread's own */
	sig_tree tree;
} bus_signer;

/*
 * Flushing at close. pub0 has no flush: nng_sendmsg only queues a frame on each pipe (SENDBUF deep),
 * and closing the socket drops what its pipes have not written yet. A process that publishes a
 * burst and exits (bus-tap --repeat, an actor's last frames) lost the tail of it whenever busd was
 * slow to read (a loaded machine: 300 price.updates published, fewer signed). NNG counts per pipe
 * the frames its transport has written (the stats tree's pipe tx_msgs): once written they are in
 * the kernel's socket buffer and survive the close. So each pipe's count at connect is remembered,
 * and bus_pub_drain waits until every pipe has written what was published since it connected.
 */
#define BUS_PUB_PIPES 16 /* pipes tracked for the flush (one per busd dialed) */
/* bus_pub_pace: every BUS_PACE_EVERY frames, a publisher waits while more than BUS_PACE_BACKLOG are
 * unwritten; pub0 queues 1024 per connection, and reading the backlog costs a statistics snapshot */
#define BUS_PACE_EVERY   64
#define BUS_PACE_BACKLOG 256

typedef struct {
	uint32_t id;   /* NNG pipe id, 0 = free slot */
	uint64_t base; /* frames published before it connected */
} bus_pub_pipe;

struct bus_pub {
	nng_socket sock;
	atomic_int pipes;
	pthread_mutex_t pmu; /* guards pipe[]: NNG's pipe callbacks run on its threads */
	bus_pub_pipe pipe[BUS_PUB_PIPES];
	char origin[FRAME_ORIGIN_MAX + 1];
	size_t origin_len;
	_Atomic uint64_t published;
	tbl *topics;          /* topic -> bus_topic_seq; unbounded: the process picks its topics */
	uint8_t id_prefix[8]; /* random per process: ids are prefix || counter */
	uint64_t id_counter;
	const sig_key *key;
	bus_signer *sq;          /* NULL until the first signed frame that had to wait */
	uint64_t last_return_ns; /* when bus_publish last returned (monotonic) */
};

/* 1 when pp's transport counts the frames it wrote (ipc, tcp, tls+tcp); inproc does not (NNG 1.5.2),
 * and hands frames straight to the peer socket's queue anyway. */
static int
bus_pipe_counts_tx(nng_pipe pp)
{
	nng_sockaddr sa;
	if (nng_pipe_get_addr(pp, NNG_OPT_LOCADDR, &sa) != 0)
		return 0;
	return sa.s_family == NNG_AF_IPC || sa.s_family == NNG_AF_ABSTRACT || sa.s_family == NNG_AF_INET ||
	       sa.s_family == NNG_AF_INET6;
}

/* Counts p's pipes (bus_pub_connected) and remembers where each one's frames start (the flush). */
static void
bus_pub_pipe_cb(nng_pipe pp, nng_pipe_ev ev, void *arg)
{
	bus_pub *p = arg;
	uint32_t id = (uint32_t)nng_pipe_id(pp);
	int counts = ev == NNG_PIPE_EV_ADD_POST && bus_pipe_counts_tx(pp);
	pthread_mutex_lock(&p->pmu);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_fetch_add(&p->pipes, 1);
		for (size_t i = 0; counts && i < BUS_PUB_PIPES; i++)
			if (p->pipe[i].id == 0) {
				p->pipe[i] = (bus_pub_pipe){ id, atomic_load(&p->published) };
				break;
			}
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&p->pipes, 1);
		for (size_t i = 0; i < BUS_PUB_PIPES; i++)
			if (p->pipe[i].id == id)
				p->pipe[i].id = 0; /* what it had not written is gone with it */
	}
	pthread_mutex_unlock(&p->pmu);
}

bus_pub *
bus_pub_open(const char *urls, const char *origin, char *err, size_t errlen)
{
	bus_pub *p = calloc(1, sizeof *p);
	size_t olen = origin ? strlen(origin) : 0;
	bus_metrics_init();
	if (p == NULL)
		return NULL;
	if (olen == 0 || olen > FRAME_ORIGIN_MAX) {
		snprintf(err, errlen, "origin must be 1..%d bytes", FRAME_ORIGIN_MAX);
		free(p);
		return NULL;
	}
	memcpy(p->origin, origin, olen);
	p->origin_len = olen;
	if (getrandom(p->id_prefix, sizeof p->id_prefix, 0) != sizeof p->id_prefix) {
		snprintf(err, errlen, "getrandom failed");
		free(p);
		return NULL;
	}
	if ((p->topics = tbl_new(FRAME_TOPIC_MAX, sizeof(bus_topic_seq), 0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(p);
		return NULL;
	}
	int rv = nng_pub0_open(&p->sock);
	if (rv != 0) {
		snprintf(err, errlen, "pub socket: %s", nng_strerror(rv));
		tbl_free(p->topics);
		free(p);
		return NULL;
	}
	bus_socket_defaults(p->sock);
	/* Absorb bursts (an aggregate round, an outbox flush) without pub0 dropping the oldest. */
	nng_socket_set_int(p->sock, NNG_OPT_SENDBUF, 1024);
	pthread_mutex_init(&p->pmu, NULL);
	nng_pipe_notify(p->sock, NNG_PIPE_EV_ADD_POST, bus_pub_pipe_cb, p);
	nng_pipe_notify(p->sock, NNG_PIPE_EV_REM_POST, bus_pub_pipe_cb, p);
	if (bus_dial_all(p->sock, urls, err, errlen) != 0) {
		nng_close(p->sock);
		tbl_free(p->topics);
		free(p);
		return NULL;
	}
	return p;
}

void
bus_pub_set_key(bus_pub *p, const sig_key *k)
{
	p->key = k;
}

int
bus_pub_wait(bus_pub *p, int want, int timeout_ms)
{
	return bus_wait_pipes(&p->pipes, want, timeout_ms);
}

int
bus_pub_connected(const bus_pub *p)
{
	return atomic_load(&((bus_pub *)p)->pipes);
}

/* The sequence counter of one topic; NULL only when out of memory. */
static bus_topic_seq *
bus_topic_slot(bus_pub *p, const char *topic, size_t n, int create)
{
	int created;
	return create ? tbl_put(p->topics, topic, n, &created) : tbl_get(p->topics, topic, n);
}

uint64_t
bus_pub_seq(const bus_pub *p, const char *topic)
{
	bus_topic_seq *t = bus_topic_slot((bus_pub *)p, topic, strlen(topic), 0);
	return t ? t->seq : 0;
}

static void
bus_next_id(bus_pub *p, uint8_t id[16])
{
	uint64_t c = ++p->id_counter;
	memcpy(id, p->id_prefix, 8);
	for (int i = 0; i < 8; i++)
		id[15 - i] = (uint8_t)(c >> (8 * i));
}

/* Sends a finished frame of len bytes (m is larger: chopped here). 0, or -1 (m freed, counted). */
static int
bus_send(bus_pub *p, nng_msg *m, size_t len)
{
	nng_msg_chop(m, nng_msg_len(m) - len);
	if (nng_sendmsg(p->sock, m, 0) != 0) {
		nng_msg_free(m);
		rt_inc(bus_m.tx_errors);
		return -1;
	}
	atomic_fetch_add(&p->published, 1);
	rt_inc(bus_m.tx_frames);
	return 0;
}

/* Signs one frame alone (the 9-element form) and sends it. 0, or -1 (freed, counted). */
static int
bus_sign_one(bus_pub *p, const bus_sq_ent *e)
{
	uint8_t sig[64], *buf = nng_msg_body(e->m);
	if (sig_sign(e->key, buf, e->signed_len, sig) != 0) {
		nng_msg_free(e->m);
		rt_inc(bus_m.tx_errors);
		return -1;
	}
	return bus_send(p, e->m, frame_attach_sig(buf, e->signed_len, sig_key_pub(e->key), sig));
}

/* Signs a window of n >= 2 frames with one signature and sends each with its proof. */
static void
bus_sign_window(bus_pub *p, bus_signer *q, bus_sq_ent *b, uint32_t n)
{
	uint8_t sig[64], path[FRAME_PATH_MAX];
	int bad = 0;
	for (uint32_t i = 0; i < n && !bad; i++) {
		uint8_t *buf = nng_msg_body(b[i].m);
		frame_window_begin(buf, b[i].topic_len);
		bad = sig_leaf(buf, b[i].signed_len, q->tree.node[i]);
	}
	if (bad || sig_tree_build(&q->tree, n) != 0 || sig_sign_tree(b[0].key, &q->tree, sig) != 0) {
		for (uint32_t i = 0; i < n; i++)
			nng_msg_free(b[i].m);
		rt_add(bus_m.tx_errors, n);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		size_t plen = sig_tree_proof(&q->tree, i, path);
		size_t len = frame_attach_proof(nng_msg_body(b[i].m), b[i].signed_len, sig_key_pub(b[0].key), sig, i, n,
		                                path, plen);
		(void)bus_send(p, b[i].m, len);
	}
}

/* Takes the frames waiting at the head that go out the same way (one key, or none): a window. */
static uint32_t
bus_sq_take(bus_signer *q)
{
	uint32_t n = 0;
	const sig_key *k = q->ring[q->head % BUS_SQ_CAP].key;
	while (q->head < q->tail && n < BUS_SIGN_WINDOW && q->ring[q->head % BUS_SQ_CAP].key == k)
		q->batch[n++] = q->ring[q->head++ % BUS_SQ_CAP];
	return n;
}

static void *
bus_signer_main(void *arg)
{
	bus_pub *p = arg;
	bus_signer *q = p->sq;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->head == q->tail && !q->stop) {
			q->waiting = 1;
			pthread_cond_wait(&q->work_cv, &q->mu);
			q->waiting = 0;
		}
		if (q->head == q->tail) /* stopping, and everything published has gone out */
			break;
		uint32_t n = bus_sq_take(q);
		q->busy = 1;
		pthread_cond_signal(&q->room_cv);
		pthread_mutex_unlock(&q->mu);
		if (q->batch[0].key == NULL)
			for (uint32_t i = 0; i < n; i++)
				(void)bus_send(p, q->batch[i].m, q->batch[i].len);
		else if (n == 1)
			(void)bus_sign_one(p, &q->batch[0]);
		else
			bus_sign_window(p, q, q->batch, n);
		pthread_mutex_lock(&q->mu);
		q->busy = 0;
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* The signer, started on first need. NULL when it cannot start (the caller then signs inline). */
static bus_signer *
bus_signer_get(bus_pub *p)
{
	if (p->sq != NULL)
		return p->sq;
	bus_signer *q = calloc(1, sizeof *q);
	if (q == NULL)
		return NULL;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work_cv, NULL);
	pthread_cond_init(&q->room_cv, NULL);
	p->sq = q;
	if (pthread_create(&q->th, NULL, bus_signer_main, p) != 0) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->work_cv);
		pthread_cond_destroy(&q->room_cv);
		free(q);
		p->sq = NULL;
	}
	return p->sq;
}

/* Lets the signer send what is waiting, then stops it. */
static void
bus_signer_stop(bus_pub *p)
{
	bus_signer *q = p->sq;
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->th, NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->work_cv);
	pthread_cond_destroy(&q->room_cv);
	free(q);
	p->sq = NULL;
}

/* 1 when nothing published before is still waiting or being sent: a frame may go out directly. */
static int
bus_sq_idle(bus_signer *q)
{
	if (q == NULL)
		return 1;
	pthread_mutex_lock(&q->mu);
	int idle = q->head == q->tail && !q->busy;
	pthread_mutex_unlock(&q->mu);
	return idle;
}

/* Queues e for the signer, waiting for room when BUS_SQ_CAP frames already wait. */
static void
bus_sq_push(bus_signer *q, const bus_sq_ent *e)
{
	pthread_mutex_lock(&q->mu);
	while (q->tail - q->head >= BUS_SQ_CAP)
		pthread_cond_wait(&q->room_cv, &q->mu);
	q->ring[q->tail++ % BUS_SQ_CAP] = *e;
	if (q->waiting)
		pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
}

/*
 * Sends an encoded frame the way bus.c's signer rules say (above): directly (unsigned, nothing
 * waiting), signed inline (a quiet publisher, nothing waiting), or through the signer's queue.
 * BUS_OK once sent or queued.
 */
static int
bus_dispatch(bus_pub *p, bus_sq_ent *e)
{
	int idle = bus_sq_idle(p->sq);
	if (e->key == NULL && idle)
		return bus_send(p, e->m, e->len) == 0 ? BUS_OK : BUS_ESEND;
	if (e->key != NULL && idle && rt_mono_ns() - p->last_return_ns > (uint64_t)BUS_SIGN_IDLE_NS)
		return bus_sign_one(p, e) == 0 ? BUS_OK : BUS_ESEND;
	bus_signer *q = bus_signer_get(p);
	if (q == NULL) { /* no thread: sign inline, as before (nothing can be waiting then) */
		if (e->key == NULL)
			return bus_send(p, e->m, e->len) == 0 ? BUS_OK : BUS_ESEND;
		return bus_sign_one(p, e) == 0 ? BUS_OK : BUS_ESEND;
	}
	bus_sq_push(q, e);
	return BUS_OK;
}

int
bus_publish(bus_pub *p, const char *topic, const char *type, const uint8_t *id, const uint8_t *body, size_t body_len,
            uint8_t id_out[16])
{
	uint8_t fresh[16];
	nng_msg *m;
	size_t signed_len, len, topic_len = strlen(topic);
	bus_topic_seq *ts;
	if (!frame_topic_valid(topic, topic_len)) {
		rt_inc(bus_m.tx_errors);
		return BUS_EINVAL;
	}
	if ((ts = bus_topic_slot(p, topic, topic_len, 1)) == NULL) {
		rt_inc(bus_m.tx_errors);
		return BUS_ESEND;
	}
	frame_fields f = {
		.topic = topic,
		.topic_len = topic_len,
		.type = type,
		.type_len = strlen(type),
		.origin = p->origin,
		.origin_len = p->origin_len,
		.seq = ts->seq + 1,
		.ts_ns = rt_now_ns(),
		.body = body,
		.body_len = body_len,
	};
	if (id == NULL) {
		bus_next_id(p, fresh);
		id = fresh;
	}
	f.id = id;
	size_t bound = frame_size_bound(&f);
	if (nng_msg_alloc(&m, bound) != 0) {
		rt_inc(bus_m.tx_errors);
		return BUS_ESEND;
	}
	len = frame_encode(&f, nng_msg_body(m), bound, &signed_len, NULL, 0);
	if (len == 0) {
		nng_msg_free(m);
		rt_inc(bus_m.tx_errors);
		return BUS_EINVAL;
	}
	bus_sq_ent e = { m, topic_len, signed_len, len, p->key };
	int rc = bus_dispatch(p, &e);
	if (rc == BUS_OK) {
		ts->seq++;
		if (id_out)
			memcpy(id_out, id, 16);
	}
	p->last_return_ns = rt_mono_ns();
	return rc;
}

int
bus_publish_raw(bus_pub *p, const uint8_t *frame, size_t len)
{
	nng_msg *m;
	if (nng_msg_alloc(&m, len) != 0) {
		rt_inc(bus_m.tx_errors);
		return BUS_ESEND;
	}
	memcpy(nng_msg_body(m), frame, len);
	bus_sq_ent e = { m, 0, 0, len, NULL };
	return bus_dispatch(p, &e);
}

int64_t
bus_pub_backlog(bus_pub *p)
{
	nng_stat *root;
	bus_pub_pipe pipe[BUS_PUB_PIPES];
	if (nng_stats_get(&root) != 0)
		return -1;
	pthread_mutex_lock(&p->pmu);
	memcpy(pipe, p->pipe, sizeof pipe);
	pthread_mutex_unlock(&p->pmu);
	uint64_t published = atomic_load(&p->published);
	int64_t unwritten = 0;
	int seen = 0;
	for (nng_stat *s = nng_stat_child(root); s != NULL; s = nng_stat_next(s)) {
		nng_stat *id = nng_stat_find(s, "id"), *tx = nng_stat_find(s, "tx_msgs");
		if (strcmp(nng_stat_name(s), "pipe") != 0 || id == NULL || tx == NULL)
			continue;
		seen = 1;
		for (size_t i = 0; i < BUS_PUB_PIPES; i++) {
			if (pipe[i].id == 0 || pipe[i].id != (uint32_t)nng_stat_value(id))
				continue;
			uint64_t want = published - pipe[i].base, done = nng_stat_value(tx);
			unwritten += want > done ? (int64_t)(want - done) : 0;
		}
	}
	nng_stats_free(root);
	return seen || unwritten ? unwritten : (atomic_load(&p->pipes) ? -1 : 0);
}

int64_t
bus_pub_drain(bus_pub *p, int64_t keep, int timeout_ms)
{
	uint64_t end = rt_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		int64_t n = bus_pub_backlog(p);
		if (n < 0) { /* no stats: give the queues a moment, as before */
			nng_msleep(keep ? 1 : 20);
			return 0;
		}
		if (n <= keep || rt_mono_ns() >= end)
			return n;
		nng_msleep(keep ? 1 : 2);
	}
}

void
bus_pub_pace(bus_pub *p, uint64_t published)
{
	if (published % BUS_PACE_EVERY == 0)
		(void)bus_pub_drain(p, BUS_PACE_BACKLOG, BUS_PUB_FLUSH_MS);
}

void
bus_pub_close(bus_pub *p)
{
	if (p == NULL)
		return;
	bus_signer_stop(p); /* sends what waits to be signed */
	int64_t left = atomic_load(&p->published) ? bus_pub_drain(p, 0, BUS_PUB_FLUSH_MS) : 0;
	if (left > 0)
		rt_log(RT_WARN,
		       "bus: %lld frames published were not written to busd (still queued after %d ms at close, or "
		       "dropped earlier by a full queue): lost",
		       (long long)left, BUS_PUB_FLUSH_MS);
	if (bus_close_socket(p->sock, BUS_CLOSE_TIMEOUT_MS) != 0)
		return; /* NNG may still call bus_pub_pipe_cb with p: p stays allocated */
	pthread_mutex_destroy(&p->pmu);
	tbl_free(p->topics);
	free(p);
}

/* ---- subscriber: per-stream sequence tracking ---------------------------------------------- */

typedef struct {
	bus_stream_stats st;
	uint64_t epoch_ts;              /* ts of this incarnation's seq 1: tells a restart from a dup */
	uint64_t last_ts;               /* newest ts of this incarnation: a lower seq that is newer is a restart */
	uint64_t win[BUS_WINDOW_WORDS]; /* bit k: seq (last_seq - k) was seen */
} bus_stream;

/*
 * The verification pipeline. BIP-340 verification (~30 us) costs more than everything else a
 * subscriber does with a frame, so signed frames are verified off the receive loop: bus_recv keeps
 * pulling frames from NNG into a ring while verifier threads (and bus_recv itself, when it has
 * nothing to pull) check them, and frames leave the ring in arrival order, each once its check is
 * done. Dedupe, gap accounting and the reject counters run at delivery, in the caller's thread and
 * in arrival order, exactly as without the pipeline; only verified frames mark a stream's window.
 * Unsigned frames need no crypto: they are checked where they are pulled, and skip the ring when
 * it is empty, so an unsigned subscriber's path is unchanged.
 */
#define BUS_VQ_CAP 256

typedef struct {
	nng_msg *raw;
	frame_view f;
	int rc;        /* BUS_OK (decoded) or BUS_EDECODE */
	sig_result sr; /* when rc is BUS_OK and done */
	int done;      /* under vq.mu */
	char err[160]; /* when rc is BUS_EDECODE */
} bus_ventry;

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* a frame to verify, or stop */
	pthread_cond_t done_cv; /* an entry finished */
	bus_ventry ring[BUS_VQ_CAP];
	uint64_t head, work, tail; /* deliver from head; verifiers claim from work; pull into tail */
	int stop, nthreads;
	pthread_t th[BUS_VERIFY_THREADS_MAX];
} bus_vq;

typedef struct bus_rd bus_rd;

struct bus_sub {
	nng_socket sock;
	atomic_int pipes; /* pipes of sock that it dialed itself (inproc://, or BUS_SUB_FILTER=0) */
	/* Publisher-side filtering (below): stream readers hand frames to bridge, which sock listens to. */
	nng_socket bridge;
	int has_bridge;
	_Atomic uint64_t bridged; /* frames the readers handed to bridge */
	uint64_t pulled;          /* frames taken from sock (bus_recv's thread, then bus_sub_close) */
	bus_rd *rd;
	size_t nrd;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char **topics; /* the prefixes subscribed, under mu */
	size_t ntopics;
	uint32_t decl_seq;
	uint8_t *decl; /* their declaration (TOPICDECL_MAX_BYTES), under mu */
	size_t decl_len;
	const sig_trust *trust;
	int keep_dups;
	int cur_timeout;
	tbl *streams;            /* origin NUL topic -> bus_stream, at most max_streams */
	uint64_t evictions_seen; /* of streams: the metric is advanced by the difference */
	int verify_threads;      /* verifier threads to start at the first signed frame; 0 = inline */
	bus_vq *vq;              /* NULL until the first signed frame (or inline) */
	sig_wcache *wcache;      /* windows verified lately (sig.h): their other frames cost hashes only */
};

static tbl *
bus_stream_table(size_t max)
{
	return tbl_new(FRAME_ORIGIN_MAX + 1 + FRAME_TOPIC_MAX, sizeof(bus_stream), max);
}

int
bus_sub_max_streams(bus_sub *s, size_t max)
{
	tbl *t = bus_stream_table(max);
	if (t == NULL)
		return -1;
	tbl_free(s->streams);
	s->streams = t;
	s->evictions_seen = 0;
	return 0;
}

/* The stream of (origin, topic), created when new. Origins are chosen by whoever publishes, so the
 * table is bounded: when full, a stream not heard from lately is forgotten (counted). A forgotten
 * stream that comes back starts afresh, without gap or duplicate history (outbox consumers still
 * deduplicate by id). */
static bus_stream *
bus_stream_find(bus_sub *s, const char *origin, size_t on, const char *topic, size_t tn)
{
	char key[FRAME_ORIGIN_MAX + 1 + FRAME_TOPIC_MAX];
	int created;
	memcpy(key, origin, on);
	key[on] = 0;
	memcpy(key + on + 1, topic, tn);
	bus_stream *b = tbl_put(s->streams, key, on + 1 + tn, &created);
	if (b && created) {
		memcpy(b->st.origin, origin, on);
		memcpy(b->st.topic, topic, tn);
		uint64_t ev = tbl_evictions(s->streams);
		rt_add(bus_m.rx_evicted, ev - s->evictions_seen);
		s->evictions_seen = ev;
		rt_gauge_set(bus_m.rx_streams, (double)tbl_count(s->streams));
	}
	return b;
}

static void
bus_win_shift(uint64_t *w, uint64_t by)
{
	if (by >= 64 * BUS_WINDOW_WORDS) {
		memset(w, 0, sizeof(uint64_t) * BUS_WINDOW_WORDS);
		return;
	}
	size_t words = by / 64, bits = by % 64;
	for (int i = BUS_WINDOW_WORDS - 1; i >= 0; i--) {
		uint64_t v = 0;
		if ((size_t)i >= words) {
			v = w[i - words] << bits;
			if (bits && (size_t)i > words)
				v |= w[i - words - 1] >> (64 - bits);
		}
		w[i] = v;
	}
}

static int
bus_win_test_set(uint64_t *w, uint64_t k)
{
	uint64_t bit = 1ull << (k % 64);
	int was = (w[k / 64] & bit) != 0;
	w[k / 64] |= bit;
	return was;
}

/* Returns 1 if the frame is a duplicate; sets *gap to the frames skipped before it. */
static int
bus_track(bus_sub *s, const frame_view *f, uint64_t *gap)
{
	bus_stream *o = bus_stream_find(s, f->origin, f->origin_len, f->topic, f->topic_len);
	*gap = 0;
	if (o == NULL)
		return 0;
	/* A restart: seq 1 again with another timestamp, or - when this subscriber missed the new
	 * incarnation's first frames (it was not connected yet, or busd dropped them) - a seq at or below
	 * the highest seen that is NEWER than every frame seen: a duplicate or a late frame of this
	 * incarnation was sent before the highest one, so it cannot be newer. Without the second rule
	 * a restarted publisher's frames (its outbox re-sends included) were dropped as duplicates until
	 * its seq passed the old one's: minutes to forever on a quiet stream. */
	if (o->st.frames == 0 || (f->seq == 1 && f->ts_ns != o->epoch_ts) ||
	    (f->seq <= o->st.last_seq && f->ts_ns > o->last_ts)) {
		if (o->st.frames != 0) {
			o->st.restarts++;
			rt_inc(bus_m.rx_restarts);
		}
		memset(o->win, 0, sizeof o->win);
		o->st.last_seq = f->seq;
		o->epoch_ts = f->seq == 1 ? f->ts_ns : 0;
		o->last_ts = f->ts_ns;
		o->win[0] = 1;
		o->st.frames++;
		return 0;
	}
	if (f->ts_ns > o->last_ts)
		o->last_ts = f->ts_ns;
	if (f->seq > o->st.last_seq) {
		uint64_t jump = f->seq - o->st.last_seq;
		bus_win_shift(o->win, jump);
		o->win[0] |= 1;
		o->st.last_seq = f->seq;
		*gap = jump - 1;
		if (*gap) {
			o->st.gaps += *gap;
			rt_add(bus_m.rx_gaps, *gap);
		}
		o->st.frames++;
		return 0;
	}
	uint64_t k = o->st.last_seq - f->seq;
	if (k >= 64 * BUS_WINDOW_WORDS) { /* too old to tell: deliver; outbox consumers dedupe by id */
		o->st.frames++;
		return 0;
	}
	if (bus_win_test_set(o->win, k)) {
		o->st.duplicates++;
		rt_inc(bus_m.rx_dups);
		return 1;
	}
	rt_inc(bus_m.rx_late); /* it was counted as skipped when a later seq arrived first */
	o->st.frames++;
	return 0;
}

/* ---- subscriber: SP over NNG streams, declaring its topics to busd ------------------------- */

/*
 * NNG's sub0 socket cannot send, so a subscriber that wants busd to filter for it speaks the
 * subscriber side of SP itself: one reader thread per busd URL dials the byte stream (tcp, ipc,
 * tls+tcp), does the SP handshake as a sub0, sends the topic declaration (topicdecl.h), and hands
 * every frame it reads to a pub0 "bridge" socket that the subscriber's own sub0 socket listens to
 * over inproc://. bus_recv is therefore unchanged: NNG's sub0 still filters (harmless when busd
 * already did, and exact when a busd is too old to filter), the verify pipeline, the duplicate
 * drop across replicas and the gap accounting see the same frames as before.
 * Locks: s->mu guards the topic list, the current declaration and each reader's ack state; a
 * reader's txmu guards its live stream and serialises declaration sends (txmu before s->mu).
 */
#define BUS_RD_BUF          (64u << 10)
#define BUS_RD_HS_MS        10000 /* dial and SP handshake at most this long */
#define BUS_RD_SEND_MS      5000  /* a declaration send at most this long */
#define BUS_RD_ACK_FIRST_MS 1000  /* no ack within this: an older busd, counted connected anyway */
#define BUS_RD_ACK_WAIT_MS  2000  /* bus_sub_topic waits this long for busd to apply a change */
#define BUS_RD_RECONN_MIN   50    /* as bus_socket_defaults' NNG_OPT_RECONNMINT / MAXT */
#define BUS_RD_RECONN_MAX   1000

enum {
	BUS_OP_DIAL,
	BUS_OP_SEND,
	BUS_OP_RECV
};

struct bus_rd {
	bus_sub *s;
	char url[256];
	int ipc;
	nng_stream_dialer *d;
	pthread_mutex_t txmu;
	nng_stream *st; /* under txmu: the connection from dial to its end, NULL while dialing */
	int live;       /* under txmu: st passed the SP handshake (declarations go to it) */
	int dead;       /* under txmu: st was closed here: nothing more is started on it */
	nng_aio *tx;    /* declaration sends (under txmu) */
	int acks;       /* under s->mu: this busd acknowledged a declaration (it filters) */
	uint32_t acked; /* under s->mu: the last declaration it acknowledged */
	uint64_t up_ms; /* under s->mu: when st went live (bus_ms_now), 0 while down */
	pthread_t th;
	int started;
};

static uint64_t
bus_ms_now(void)
{
	uint64_t ms = rt_mono_ns() / 1000000u;
	return ms ? ms : 1;
}

static void
bus_deadline(struct timespec *dl, int ms)
{
	clock_gettime(CLOCK_REALTIME, dl);
	dl->tv_sec += ms / 1000;
	dl->tv_nsec += (long)(ms % 1000) * 1000000;
	if (dl->tv_nsec >= 1000000000) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000;
	}
}

/*
 * Starts one operation (a dial, or a send or receive on st) and waits for it. Nothing is started
 * once the subscriber is closing or st was closed here, and closes happen under the same lock:
 * NNG 1.5.2's tcp stream queues a receive started after nng_stream_close and never completes it
 * (tcp_recv does not check for the close), so a read started just after bus_sub_close closed the
 * stream would wait forever; one started before the close is completed by it. (Timeouts cannot
 * stand in for this: an expired receive on a tls+tcp stream aborts the TLS connection's own read,
 * which ends the connection.) 0, or an NNG error.
 */
static int
bus_rd_op(bus_rd *r, nng_stream *st, nng_aio *aio, int op, int txlocked)
{
	if (!txlocked)
		pthread_mutex_lock(&r->txmu);
	int go = !atomic_load(&r->s->stop) && !(st != NULL && r->dead);
	if (go && op == BUS_OP_DIAL)
		nng_stream_dialer_dial(r->d, aio);
	else if (go && op == BUS_OP_SEND)
		nng_stream_send(st, aio);
	else if (go)
		nng_stream_recv(st, aio);
	if (!txlocked)
		pthread_mutex_unlock(&r->txmu);
	if (!go)
		return NNG_ECLOSED;
	nng_aio_wait(aio);
	return nng_aio_result(aio);
}

/* Sends or receives exactly len bytes on st within timeout_ms (-1 = no limit). 0, or an error. */
static int
bus_rd_io(bus_rd *r, nng_stream *st, nng_aio *aio, int op, uint8_t *buf, size_t len, int timeout_ms, int txlocked)
{
	while (len > 0) {
		nng_iov iov = { buf, len };
		nng_aio_set_iov(aio, 1, &iov);
		nng_aio_set_timeout(aio, timeout_ms < 0 ? NNG_DURATION_INFINITE : timeout_ms);
		int rv = bus_rd_op(r, st, aio, op, txlocked);
		if (rv != 0)
			return rv;
		size_t n = nng_aio_count(aio);
		if (n == 0)
			return NNG_ECLOSED;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Closes r's stream here (its reader sees the end and redials). Under r->txmu. */
static void
bus_rd_kill_txlocked(bus_rd *r)
{
	if (r->st != NULL && !r->dead) {
		r->dead = 1;
		nng_stream_close(r->st);
	}
}

/* Sends the subscriber's current declaration on r's live stream; on failure the stream is closed.
 * Under r->txmu, so declarations leave in the order they were built. */
static void
bus_rd_declare_txlocked(bus_rd *r)
{
	bus_sub *s = r->s;
	size_t hdr = r->ipc ? 9 : 8;
	if (r->st == NULL || !r->live || r->dead)
		return;
	pthread_mutex_lock(&s->mu);
	size_t len = s->decl_len;
	uint8_t *buf = malloc(hdr + len);
	if (buf) {
		buf[0] = 1;
		for (int i = 0; i < 8; i++)
			buf[hdr - 8 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		memcpy(buf + hdr, s->decl, len);
	}
	pthread_mutex_unlock(&s->mu);
	if (buf == NULL || bus_rd_io(r, r->st, r->tx, BUS_OP_SEND, buf, hdr + len, BUS_RD_SEND_MS, 1) != 0)
		bus_rd_kill_txlocked(r);
	free(buf);
}

/* One message from busd: a declaration ack, or a frame for the bridge. */
static void
bus_rd_deliver(bus_rd *r, nng_msg *m)
{
	bus_sub *s = r->s;
	uint32_t seq;
	if (topicdecl_is_ack(nng_msg_body(m), nng_msg_len(m), &seq)) {
		nng_msg_free(m);
		pthread_mutex_lock(&s->mu);
		r->acks = 1;
		r->acked = seq;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		return;
	}
	if (nng_sendmsg(s->bridge, m, 0) != 0)
		nng_msg_free(m);
	else
		atomic_fetch_add(&s->bridged, 1);
}

/* Reads frames from a connected busd until the connection ends. */
static void
bus_rd_read(bus_rd *r, nng_stream *st, nng_aio *aio)
{
	size_t hdr = r->ipc ? 9 : 8, have = 0, off = 0;
	uint8_t *buf = malloc(BUS_RD_BUF);
	if (buf == NULL)
		return;
	for (;;) {
		/* every complete message in the buffer */
		while (have - off >= hdr) {
			const uint8_t *h = buf + off;
			uint64_t len = 0;
			for (size_t i = hdr - 8; i < hdr; i++)
				len = len << 8 | h[i];
			if ((r->ipc && h[0] != 1) || len > FRAME_BODY_MAX + 4096) /* as NNG_OPT_RECVMAXSZ */
				goto out;
			nng_msg *m;
			if (have - off - hdr < len && hdr + len <= BUS_RD_BUF)
				break; /* the rest comes with the next read */
			if (nng_msg_alloc(&m, len) != 0)
				goto out;
			size_t part = have - off - hdr < len ? have - off - hdr : len;
			memcpy(nng_msg_body(m), h + hdr, part);
			if (part < len && bus_rd_io(r, st, aio, BUS_OP_RECV, (uint8_t *)nng_msg_body(m) + part,
			                            len - part, -1, 0) != 0) {
				nng_msg_free(m);
				goto out;
			}
			off += hdr + part;
			bus_rd_deliver(r, m);
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		off = 0;
		nng_iov iov = { buf + have, BUS_RD_BUF - have };
		nng_aio_set_iov(aio, 1, &iov);
		nng_aio_set_timeout(aio, NNG_DURATION_INFINITE);
		if (bus_rd_op(r, st, aio, BUS_OP_RECV, 0) != 0 || nng_aio_count(aio) == 0)
			break;
		have += nng_aio_count(aio);
	}
out:
	free(buf);
}

/* Dials, shakes hands, declares, reads; redials with backoff until the subscriber closes. */
static void *
bus_rd_main(void *arg)
{
	bus_rd *r = arg;
	bus_sub *s = r->s;
	nng_aio *aio = NULL;
	int backoff = BUS_RD_RECONN_MIN;
	if (nng_aio_alloc(&aio, NULL, NULL) != 0)
		return NULL;
	while (!atomic_load(&s->stop)) {
		nng_stream *st = NULL;
		nng_aio_set_timeout(aio, BUS_RD_HS_MS);
		if (bus_rd_op(r, NULL, aio, BUS_OP_DIAL, 0) == 0) {
			st = nng_aio_get_output(aio, 0);
			pthread_mutex_lock(&r->txmu); /* from now on bus_sub_close can close it */
			r->st = st;
			r->dead = 0;
			pthread_mutex_unlock(&r->txmu);
		}
		if (st != NULL) {
			uint8_t ours[8] = { 0, 'S', 'P', 0, 0x00, 0x21, 0, 0 }, theirs[8];
			if (bus_rd_io(r, st, aio, BUS_OP_SEND, ours, 8, BUS_RD_HS_MS, 0) == 0 &&
			    bus_rd_io(r, st, aio, BUS_OP_RECV, theirs, 8, BUS_RD_HS_MS, 0) == 0 && theirs[0] == 0 &&
			    theirs[1] == 'S' && theirs[2] == 'P' && theirs[3] == 0 && theirs[4] == 0x00 &&
			    theirs[5] == 0x20) {
				pthread_mutex_lock(&r->txmu);
				r->live = 1;
				bus_rd_declare_txlocked(r);
				pthread_mutex_unlock(&r->txmu);
				pthread_mutex_lock(&s->mu);
				r->up_ms = bus_ms_now();
				pthread_mutex_unlock(&s->mu);
				backoff = BUS_RD_RECONN_MIN;
				bus_rd_read(r, st, aio);
			}
			pthread_mutex_lock(&r->txmu);
			bus_rd_kill_txlocked(r);
			r->st = NULL;
			r->live = 0;
			pthread_mutex_unlock(&r->txmu);
			pthread_mutex_lock(&s->mu);
			r->up_ms = 0;
			r->acks = 0;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
			nng_stream_free(st);
		}
		/* redial: fast after a busd restart, backing off to a second so a dead busd is not hammered */
		struct timespec dl;
		bus_deadline(&dl, backoff);
		pthread_mutex_lock(&s->mu);
		while (!atomic_load(&s->stop))
			if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) != 0)
				break;
		pthread_mutex_unlock(&s->mu);
		backoff = backoff * 2 > BUS_RD_RECONN_MAX ? BUS_RD_RECONN_MAX : backoff * 2;
	}
	nng_aio_free(aio);
	return NULL;
}

static int
bus_rd_streamable(const char *u)
{
	return strncmp(u, "tcp", 3) == 0 || strncmp(u, "ipc://", 6) == 0 || strncmp(u, "abstract://", 11) == 0 ||
	       strncmp(u, "tls+tcp", 7) == 0;
}

/* Prepares r to dial u (its thread starts later). 0 or -1 with err filled. */
static int
bus_rd_init(bus_sub *s, bus_rd *r, const char *u, char *err, size_t errlen)
{
	int rv;
	r->s = s;
	snprintf(r->url, sizeof r->url, "%s", u);
	r->ipc = strncmp(u, "ipc://", 6) == 0 || strncmp(u, "abstract://", 11) == 0;
	pthread_mutex_init(&r->txmu, NULL);
	if ((rv = nng_stream_dialer_alloc(&r->d, u)) != 0 || (rv = nng_aio_alloc(&r->tx, NULL, NULL)) != 0) {
		snprintf(err, errlen, "dial %s: %s", u, nng_strerror(rv));
		return -1;
	}
	if (bus_is_tls_url(u)) {
		nng_tls_config *c;
		if (bus_tls_config_url(u, 0, &c, err, errlen) != OB_OK)
			return -1;
		rv = nng_stream_dialer_set_ptr(r->d, NNG_OPT_TLS_CONFIG, c);
		nng_tls_config_free(c);
		if (rv != 0) {
			snprintf(err, errlen, "dial %s: tls: %s", u, nng_strerror(rv));
			return -1;
		}
	}
	return 0;
}

/* Stops every reader (their connections and dials are aborted) and frees them. */
static void
bus_rd_stop_all(bus_sub *s)
{
	atomic_store(&s->stop, 1);
	for (size_t i = 0; i < s->nrd; i++) {
		bus_rd *r = &s->rd[i];
		pthread_mutex_lock(&r->txmu); /* see bus_rd_op */
		bus_rd_kill_txlocked(r);
		if (r->d)
			nng_stream_dialer_close(r->d);
		pthread_mutex_unlock(&r->txmu);
	}
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < s->nrd; i++) {
		bus_rd *r = &s->rd[i];
		if (r->started)
			pthread_join(r->th, NULL);
		if (r->tx)
			nng_aio_free(r->tx);
		if (r->d)
			nng_stream_dialer_free(r->d);
		pthread_mutex_destroy(&r->txmu);
	}
	free(s->rd);
	s->rd = NULL;
	s->nrd = 0;
}

/* Rebuilds the declaration from the topic list: past the bounds it declares "" (everything),
 * and sub0's own filter still keeps only the subscribed topics. Under s->mu. */
static void
bus_decl_build_locked(bus_sub *s)
{
	static const char *const all[] = { "" };
	int over = s->ntopics > TOPICDECL_MAX_PREFIXES;
	for (size_t i = 0; i < s->ntopics && !over; i++)
		over = strlen(s->topics[i]) > TOPICDECL_PREFIX_MAX;
	s->decl_seq++;
	s->decl_len = over ? topicdecl_encode(s->decl_seq, all, 1, s->decl, TOPICDECL_MAX_BYTES)
	                   : topicdecl_encode(s->decl_seq, (const char *const *)s->topics, s->ntopics, s->decl,
	                                      TOPICDECL_MAX_BYTES);
}

/* ---- subscriber ---------------------------------------------------------------------------- */

/* Counts the pipes sock dialed itself, not the bridge's (which sock listens for). */
static void
bus_sub_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	if (nng_dialer_id(nng_pipe_dialer(p)) > 0)
		bus_pipe_cb(p, ev, arg);
}

static void
bus_sub_free(bus_sub *s)
{
	bus_rd_stop_all(s);
	if (s->has_bridge)
		nng_close(s->bridge);
	for (size_t i = 0; i < s->ntopics; i++)
		free(s->topics[i]);
	free(s->topics);
	free(s->decl);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	tbl_free(s->streams);
	sig_wcache_free(s->wcache);
	free(s);
}

/*
 * Takes every frame still on its way from the bridge to sock, then closes the bridge. NNG 1.5.2
 * loses, without freeing, a message that reaches a sub0 pipe while its socket closes (nanomsg/nng
 * #1713; LeakSanitizer failed a signer stopped while frames were queued on a loaded machine). The
 * readers are stopped, so nothing enters the bridge any more: once sock gave out as many frames as
 * the readers handed in, none is in flight. Frames a full queue dropped (pub0 or sub0 drop, never
 * block) keep the counts apart: then the bridge closes after it stayed quiet for
 * BUS_BRIDGE_QUIET_MS, and after BUS_CLOSE_TIMEOUT_MS in any case.
 */
#define BUS_BRIDGE_QUIET_MS 50

static void
bus_sub_drain_bridge(bus_sub *s)
{
	uint64_t end = rt_mono_ns() + (uint64_t)BUS_CLOSE_TIMEOUT_MS * 1000000u;
	nng_msg *m;
	for (int quiet = 0;
	     s->pulled < atomic_load(&s->bridged) && quiet < BUS_BRIDGE_QUIET_MS && rt_mono_ns() < end;) {
		if (nng_recvmsg(s->sock, &m, NNG_FLAG_NONBLOCK) == 0) {
			nng_msg_free(m);
			s->pulled++;
			quiet = 0;
		} else {
			quiet++;
			nng_msleep(1);
		}
	}
	nng_close(s->bridge);
}

/* Opens the bridge: sock listens on a private inproc:// URL, the bridge pub0 dials it. */
static int
bus_sub_bridge(bus_sub *s, char *err, size_t errlen)
{
	static atomic_uint serial;
	char url[96];
	int rv;
	snprintf(url, sizeof url, "inproc://ob-bus-sub-%d-%u", (int)getpid(), atomic_fetch_add(&serial, 1));
	if ((rv = nng_listen(s->sock, url, NULL, 0)) != 0 || (rv = nng_pub0_open(&s->bridge)) != 0) {
		snprintf(err, errlen, "sub bridge: %s", nng_strerror(rv));
		return -1;
	}
	s->has_bridge = 1;
	nng_socket_set_int(s->bridge, NNG_OPT_SENDBUF, 1024);
	if ((rv = nng_dial(s->bridge, url, NULL, 0)) != 0) {
		snprintf(err, errlen, "sub bridge: %s", nng_strerror(rv));
		return -1;
	}
	return 0;
}

/* 1 unless BUS_SUB_FILTER turns publisher-side filtering off ("0", "off", "no", "false"). */
static int
bus_sub_filter_on(void)
{
	const char *v = getenv("BUS_SUB_FILTER");
	return !(v && (!strcmp(v, "0") || !strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcasecmp(v, "false")));
}

bus_sub *
bus_sub_open(const char *urls, char *err, size_t errlen)
{
	bus_sub *s = calloc(1, sizeof *s);
	char *copy = strdup(urls ? urls : ""), *direct = NULL, *save = NULL;
	size_t dlen = 0, nurls = 0;
	int filter = bus_sub_filter_on(), rv = -1;
	bus_metrics_init();
	if (s == NULL || copy == NULL || (direct = calloc(1, strlen(copy) + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(s);
		free(copy);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->cur_timeout = -2;
	s->verify_threads = BUS_VERIFY_THREADS_DEFAULT;
	if ((s->streams = bus_stream_table(BUS_MAX_STREAMS_DEFAULT)) == NULL ||
	    (s->wcache = sig_wcache_new()) == NULL || (s->rd = calloc(strlen(copy) / 6 + 1, sizeof *s->rd)) == NULL ||
	    (s->decl = malloc(TOPICDECL_MAX_BYTES)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	bus_decl_build_locked(s); /* no topics yet: nothing */
	if ((rv = nng_sub0_open(&s->sock)) != 0) {
		snprintf(err, errlen, "sub socket: %s", nng_strerror(rv));
		rv = -1;
		goto out;
	}
	bus_socket_defaults(s->sock);
	nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, 1024);
	nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_POST, bus_sub_pipe_cb, &s->pipes);
	nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, bus_sub_pipe_cb, &s->pipes);
	rv = 0;
	/* stream URLs get a reader each; the rest (inproc://) are dialed by sock as before */
	for (char *u = strtok_r(copy, ",", &save); u && rv == 0; u = strtok_r(NULL, ",", &save)) {
		while (*u == ' ')
			u++;
		for (char *e = u + strlen(u); e > u && e[-1] == ' ';)
			*--e = '\0';
		if (*u == 0)
			continue;
		nurls++;
		if (filter && bus_rd_streamable(u)) {
			rv = bus_rd_init(s, &s->rd[s->nrd++], u, err, errlen);
		} else {
			dlen += (size_t)sprintf(direct + dlen, "%s%s", dlen ? "," : "", u);
		}
	}
	if (rv == 0 && nurls == 0) {
		snprintf(err, errlen, "no bus URL given");
		rv = -1;
	}
	if (rv == 0 && s->nrd > 0)
		rv = bus_sub_bridge(s, err, errlen);
	if (rv == 0 && dlen > 0)
		rv = bus_dial_all(s->sock, direct, err, errlen);
	for (size_t i = 0; rv == 0 && i < s->nrd; i++) {
		if (pthread_create(&s->rd[i].th, NULL, bus_rd_main, &s->rd[i]) != 0) {
			snprintf(err, errlen, "out of threads");
			rv = -1;
		} else {
			s->rd[i].started = 1;
		}
	}
out:
	free(copy);
	free(direct);
	if (rv != 0) {
		bus_rd_stop_all(s);
		if (s->sock.id)
			nng_close(s->sock);
		bus_sub_free(s);
		return NULL;
	}
	return s;
}

int
bus_sub_topic(bus_sub *s, const char *prefix)
{
	if (nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, prefix, strlen(prefix)) != 0)
		return -1;
	if (s->nrd == 0)
		return 0;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->ntopics; i++)
		if (strcmp(s->topics[i], prefix) == 0) {
			pthread_mutex_unlock(&s->mu);
			return 0;
		}
	char **nt = realloc(s->topics, (s->ntopics + 1) * sizeof *nt);
	char *copy = strdup(prefix);
	if (nt == NULL || copy == NULL) {
		pthread_mutex_unlock(&s->mu);
		free(copy);
		if (nt)
			s->topics = nt;
		return -1;
	}
	s->topics = nt;
	s->topics[s->ntopics++] = copy;
	bus_decl_build_locked(s);
	uint32_t seq = s->decl_seq;
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < s->nrd; i++) {
		pthread_mutex_lock(&s->rd[i].txmu);
		bus_rd_declare_txlocked(&s->rd[i]);
		pthread_mutex_unlock(&s->rd[i].txmu);
	}
	/* Frames published after this returns must reach us: wait (bounded) until every busd that
	 * filters for us has applied the new list (its ack comes in order with the frames). */
	struct timespec dl;
	bus_deadline(&dl, BUS_RD_ACK_WAIT_MS);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		int behind = 0;
		for (size_t i = 0; i < s->nrd; i++)
			behind |= s->rd[i].acks && (int32_t)(s->rd[i].acked - seq) < 0;
		if (!behind || pthread_cond_timedwait(&s->cv, &s->mu, &dl) != 0)
			break;
	}
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void
bus_sub_set_trust(bus_sub *s, const sig_trust *t)
{
	s->trust = t;
}

void
bus_sub_keep_duplicates(bus_sub *s, int keep)
{
	s->keep_dups = keep;
}

int
bus_sub_connected(const bus_sub *s)
{
	bus_sub *m = (bus_sub *)s;
	int n = atomic_load(&m->pipes);
	if (m->nrd == 0)
		return n;
	pthread_mutex_lock(&m->mu);
	uint64_t now = bus_ms_now(); /* under the lock: a dialer's up_ms stamped after it would be "in the future" */
	for (size_t i = 0; i < m->nrd; i++) /* a busd that filters: once it acked; an older one: after 1 s */
		n += m->rd[i].up_ms && (m->rd[i].acks || now - m->rd[i].up_ms >= BUS_RD_ACK_FIRST_MS);
	pthread_mutex_unlock(&m->mu);
	return n;
}

int
bus_sub_wait(bus_sub *s, int want, int timeout_ms)
{
	for (int waited = 0; bus_sub_connected(s) < want; waited += 5) {
		if (waited >= timeout_ms)
			return -1;
		nng_msleep(5);
	}
	return 0;
}

void
bus_msg_free(bus_msg *m)
{
	if (m->raw)
		nng_msg_free(m->raw);
	m->raw = NULL;
}

const uint8_t *
bus_msg_bytes(const bus_msg *m, size_t *len)
{
	*len = m->raw ? nng_msg_len(m->raw) : 0;
	return m->raw ? nng_msg_body(m->raw) : NULL;
}

int
bus_sub_verify_threads(bus_sub *s, int n)
{
	if (n < 0 || n > BUS_VERIFY_THREADS_MAX || s->vq != NULL)
		return -1;
	s->verify_threads = n;
	return 0;
}

/* Verifies one claimed entry outside the lock: the entry is not touched by anyone else until
 * done is set (the caller delivers only done entries; no other verifier claims it). */
static void
bus_verify_entry(const sig_trust *t, sig_wcache *c, bus_ventry *e)
{
	const uint8_t *b = nng_msg_body(e->raw);
	sig_proof pr = { e->f.win_index, e->f.win_count, e->f.win_path, e->f.win_path_len };
	e->sr = sig_check_window(t, e->f.topic, e->f.topic_len, b, e->f.signed_len, e->f.key, e->f.sig, &pr, c);
}

/* Claims the oldest unverified entry, or returns NULL. Under vq->mu. */
static bus_ventry *
bus_vq_claim(bus_vq *q)
{
	while (q->work < q->tail) {
		bus_ventry *e = &q->ring[q->work++ % BUS_VQ_CAP];
		if (!e->done)
			return e;
	}
	return NULL;
}

static void *
bus_vworker(void *arg)
{
	bus_sub *s = arg;
	bus_vq *q = s->vq;
	pthread_mutex_lock(&q->mu);
	while (!q->stop) {
		bus_ventry *e = bus_vq_claim(q);
		if (e == NULL) {
			pthread_cond_wait(&q->work_cv, &q->mu);
			continue;
		}
		const sig_trust *t = s->trust;
		pthread_mutex_unlock(&q->mu);
		bus_verify_entry(t, s->wcache, e);
		pthread_mutex_lock(&q->mu);
		e->done = 1;
		pthread_cond_broadcast(&q->done_cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* The ring, created with its verifier threads at the first signed frame. NULL: verify inline
 * (no threads wanted, or none could start). */
static bus_vq *
bus_vq_get(bus_sub *s)
{
	if (s->vq != NULL || s->verify_threads == 0)
		return s->vq;
	bus_vq *q = calloc(1, sizeof *q);
	if (q == NULL) {
		s->verify_threads = 0;
		return NULL;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work_cv, NULL);
	pthread_cond_init(&q->done_cv, NULL);
	s->vq = q;
	for (int i = 0; i < s->verify_threads; i++)
		if (pthread_create(&q->th[q->nthreads], NULL, bus_vworker, s) == 0)
			q->nthreads++;
	/* with no thread at all, bus_recv still verifies the ring's frames itself */
	return q;
}

static void
bus_vq_free(bus_vq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < q->nthreads; i++)
		pthread_join(q->th[i], NULL);
	for (uint64_t i = q->head; i < q->tail; i++)
		nng_msg_free(q->ring[i % BUS_VQ_CAP].raw);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->work_cv);
	pthread_cond_destroy(&q->done_cv);
	free(q);
}

/* Decodes a pulled frame into e. Frames that need no crypto (undecodable, unsigned) are done. */
static void
bus_pull_entry(bus_sub *s, nng_msg *raw, bus_ventry *e)
{
	const uint8_t *b = nng_msg_body(raw);
	e->raw = raw;
	e->done = 0;
	if (frame_decode(b, nng_msg_len(raw), &e->f, e->err, sizeof e->err) != 0) {
		e->rc = BUS_EDECODE;
		e->done = 1;
		return;
	}
	e->rc = BUS_OK;
	if (e->f.key == NULL || e->f.sig == NULL) {
		e->sr = sig_check(s->trust, e->f.topic, e->f.topic_len, b, e->f.signed_len, NULL, NULL);
		e->done = 1;
	}
}

/*
 * What bus_recv returns for one checked frame, in arrival order: the counters, the reject
 * message, dedupe and gap accounting. 1 when m holds a frame for the caller, 0 when it was a
 * duplicate (dropped and freed).
 */
static int
bus_deliver(bus_sub *s, bus_ventry *e, bus_msg *m, int *rc)
{
	m->raw = e->raw;
	m->f = e->f;
	if (e->rc == BUS_EDECODE) {
		memcpy(m->err, e->err, sizeof m->err);
		rt_inc(bus_m.rx_decode);
		*rc = BUS_EDECODE;
		return 1;
	}
	if (e->sr != SIG_OK) {
		rt_metric *const by_reason[] = { NULL, bus_m.rx_bad_sig, bus_m.rx_missing_sig, bus_m.rx_untrusted };
		rt_inc(by_reason[e->sr]);
		snprintf(m->err, sizeof m->err, "%s: topic %.*s from origin %.*s", sig_result_name(e->sr),
		         (int)m->f.topic_len, m->f.topic, (int)m->f.origin_len, m->f.origin);
		*rc = BUS_EREJECT;
		return 1;
	}
	if (bus_track(s, &m->f, &m->gap) && !s->keep_dups) {
		bus_msg_free(m);
		return 0;
	}
	rt_inc(bus_m.rx_frames);
	*rc = BUS_OK;
	return 1;
}

static void
bus_set_timeout(bus_sub *s, int timeout_ms)
{
	if (timeout_ms != s->cur_timeout) {
		nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, timeout_ms < 0 ? NNG_DURATION_INFINITE : timeout_ms);
		s->cur_timeout = timeout_ms;
	}
}

int
bus_recv(bus_sub *s, bus_msg *m, int timeout_ms)
{
	memset(m, 0, sizeof *m);
	for (;;) {
		bus_vq *q = s->vq;
		int rc;
		/* 1. the oldest frame in the ring, once checked */
		if (q != NULL && q->head < q->tail) {
			pthread_mutex_lock(&q->mu);
			bus_ventry *h = &q->ring[q->head % BUS_VQ_CAP];
			int done = h->done;
			pthread_mutex_unlock(&q->mu);
			if (done) {
				bus_ventry e = *h;
				pthread_mutex_lock(&q->mu);
				q->head++;
				if (q->work < q->head)
					q->work = q->head;
				pthread_mutex_unlock(&q->mu);
				if (bus_deliver(s, &e, m, &rc))
					return rc;
				continue;
			}
		}
		/* 2. pull: without waiting while frames are in the ring (they will be done soon), with
		 * the caller's timeout when it is empty */
		int pending = q != NULL && q->head < q->tail;
		if (!pending || q->tail - q->head < BUS_VQ_CAP) {
			nng_msg *raw;
			int rv;
			if (pending) {
				rv = nng_recvmsg(s->sock, &raw, NNG_FLAG_NONBLOCK);
			} else {
				bus_set_timeout(s, timeout_ms);
				rv = nng_recvmsg(s->sock, &raw, 0);
			}
			if (rv == 0) {
				s->pulled++;
				bus_ventry tmp, *e = &tmp;
				bus_pull_entry(s, raw, &tmp);
				if (!tmp.done && (q = bus_vq_get(s)) == NULL) { /* verify inline */
					bus_verify_entry(s->trust, s->wcache, &tmp);
					tmp.done = 1;
				}
				if (tmp.done && !pending) { /* nothing ahead of it: no need to queue */
					if (bus_deliver(s, e, m, &rc))
						return rc;
					continue;
				}
				pthread_mutex_lock(&q->mu);
				q->ring[q->tail++ % BUS_VQ_CAP] = tmp;
				if (!tmp.done)
					pthread_cond_signal(&q->work_cv);
				pthread_mutex_unlock(&q->mu);
				continue;
			}
			if (!pending)
				return rv == NNG_ETIMEDOUT ? BUS_TIMEOUT : BUS_ECLOSED;
			if (rv != NNG_EAGAIN && rv != NNG_ETIMEDOUT)
				return BUS_ECLOSED;
		}
		/* 3. nothing to pull and the oldest frame is being checked: check the next one here
		 * rather than wait idle, or wait for the verifiers */
		pthread_mutex_lock(&q->mu);
		bus_ventry *e = bus_vq_claim(q);
		if (e != NULL) {
			pthread_mutex_unlock(&q->mu);
			bus_verify_entry(s->trust, s->wcache, e);
			pthread_mutex_lock(&q->mu);
			e->done = 1;
		} else if (!q->ring[q->head % BUS_VQ_CAP].done) {
			pthread_cond_wait(&q->done_cv, &q->mu);
		}
		pthread_mutex_unlock(&q->mu);
	}
}

size_t
bus_sub_streams(const bus_sub *s, bus_stream_stats *out, size_t max)
{
	size_t n = 0;
	size_t it = 0, klen;
	const void *key;
	for (const bus_stream *b; (b = tbl_next(s->streams, &it, &key, &klen)) != NULL; n++)
		if (n < max)
			out[n] = b->st;
	return n;
}

void
bus_sub_close(bus_sub *s)
{
	if (s == NULL)
		return;
	bus_vq_free(s->vq);
	s->vq = NULL;
	bus_rd_stop_all(s);
	if (s->has_bridge)
		bus_sub_drain_bridge(s);
	s->has_bridge = 0;
	if (bus_close_socket(s->sock, BUS_CLOSE_TIMEOUT_MS) != 0)
		return; /* NNG may still call bus_pipe_cb with &s->pipes: s stays allocated */
	bus_sub_free(s);
}
