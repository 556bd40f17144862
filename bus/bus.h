/*
 * bus.h - publish and subscribe by topic prefix over NNG pub/sub, through one or more busd.
 *
 * Publishers dial busd's ingress, subscribers dial its egress (DESIGN.md). Several busd replicas
 * may run: a publisher dials all of them (pub0 sends each frame to every connected busd) and a
 * subscriber dials all of them and drops the duplicates by (origin, seq). Both redial by themselves
 * (50 ms, backing off to 1 s) when a busd goes away, so callers never reconnect by hand.
 *
 * Subscribers declare their topic prefixes to busd (bus/topicdecl.h), which then sends them only
 * the frames they subscribed to: a subscriber speaks the subscriber side of SP on NNG byte streams
 * itself (tcp://, ipc://, tls+tcp://; NNG's sub0 socket cannot send) and hands the frames to its
 * sub0 socket through an inproc:// bridge, so bus_recv and its accounting are unchanged. It stays
 * correct against a busd that does not filter (older, or a plain pub0): sub0 still filters. The
 * environment variable BUS_SUB_FILTER=0 (read by bus_sub_open) makes subscribers plain NNG sub0s
 * again; inproc:// URLs always are.
 *
 * Pub/sub is best effort (a subscriber that is slow or disconnected misses frames). Sequence
 * numbers make every loss visible. They count per stream, i.e. per (origin, topic), not per origin:
 * a subscriber to price.agg.ETH-USD must not see a "gap" each time the same median publishes
 * price.agg.BTC-USD, which it never subscribed to. Each subscriber counts, per stream, the frames it
 * never saw.
 * Flows that must not lose anything go through an outbox (store/outbox.h).
 *
 * Metrics (every actor exposes them on /metrics): bus_tx_frames_total, bus_tx_errors_total,
 * bus_rx_frames_total, bus_rx_duplicates_total, bus_rx_gaps_total, bus_rx_origin_restarts_total,
 * bus_rx_decode_errors_total, bus_rx_rejected_total{reason}, bus_rx_streams,
 * bus_rx_streams_evicted_total.
 *
 * Threads: a bus_pub or a bus_sub is used by one thread at a time. A signing bus_pub under load
 * signs on a thread of its own (bus_publish), stopped by bus_pub_close once what waits is sent. A
 * bus_sub verifies signed frames on threads of its own (bus_sub_verify_threads), invisible to the
 * caller: frames still come out of bus_recv one at a time, in arrival order. It also runs one
 * reader thread per busd stream URL (above), stopped and joined by bus_sub_close.
 */
#ifndef OB_BUS_BUS_H
#define OB_BUS_BUS_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "bus/frame.h"
#include "bus/sig.h"
#include "bus/tls.h"

typedef struct bus_pub bus_pub;
typedef struct bus_sub bus_sub;

/* Codes of the project's one error space (base/err.h), so a bus code is never read as an errno
 * or a store code. */
enum {
	BUS_OK = OB_OK,
	BUS_TIMEOUT = OB_EBUS_TIMEOUT, /* nothing arrived within the timeout */
	BUS_EDECODE = OB_EBUS_DECODE,  /* a frame arrived but is malformed: msg.err says why, msg.raw has the bytes */
	BUS_EREJECT = OB_EBUS_REJECT,  /* a frame failed the signature / trust check: msg.err says why */
	BUS_ECLOSED = OB_EBUS_CLOSED,  /* the socket was closed */
	BUS_EINVAL = OB_EBUS_INVAL,    /* bad argument (publish: invalid topic, type, origin or body) */
	BUS_ESEND = OB_EBUS_SEND,      /* NNG refused the send */
	BUS_ETLS = OB_EBUS_TLS,        /* TLS identity or configuration unusable (bus/tls.h) */
};

/* ---- publishing ---------------------------------------------------------------------------- */

/*
 * Opens a publisher that dials every URL of a comma-separated list (ipc://..., tcp://host:port).
 * origin names this process in every frame (<= 64 bytes). Returns NULL with err filled on a
 * malformed URL. Dialing is asynchronous: the busd need not be up yet.
 */
bus_pub *bus_pub_open(const char *urls, const char *origin, char *err, size_t errlen);
/* Signs every frame from now on with k (borrowed: must outlive the publisher). NULL turns it off. */
void bus_pub_set_key(bus_pub *p, const sig_key *k);
/* Waits up to timeout_ms until at least `want` busd connections are up. 0 if so, -1 otherwise. */
int bus_pub_wait(bus_pub *p, int want, int timeout_ms);
int bus_pub_connected(const bus_pub *p);

/*
 * Publishes one message. id: 16 bytes, or NULL for a fresh random id (written to id_out if not
 * NULL). The body is copied. Returns BUS_OK, BUS_EINVAL or BUS_ESEND.
 * With a key, a frame published while earlier ones still wait to be signed is handed to the
 * publisher's signer thread, which signs everything waiting as one window (one BIP-340 signature
 * over a Merkle root, a proof in each frame: frame.h, sig.h); BUS_OK then means queued (a later
 * failure counts in bus_tx_errors_total), and bus_publish waits when 1024 frames already wait. A
 * frame published with nothing waiting after a quiet spell (50 us) is signed inline, alone, as
 * before. Frames leave in publish order either way, bus_publish_raw's too.
 */
OB_MUST_CHECK int bus_publish(bus_pub *p, const char *topic, const char *type, const uint8_t *id, const uint8_t *body,
                              size_t body_len, uint8_t id_out[16]);
/* Publishes a frame exactly as given (bus-replay). Returns BUS_OK or BUS_ESEND. */
OB_MUST_CHECK int bus_publish_raw(bus_pub *p, const uint8_t *frame, size_t len);
uint64_t bus_pub_seq(const bus_pub *p, const char *topic); /* last seq published on topic, 0 if none */
/* Frames published but not yet written to the connected busds (summed over them; a frame pub0
 * dropped because a connection's 1024-frame queue was full stays counted), or -1 when NNG keeps no
 * statistics. It reads a snapshot of NNG's statistics (microseconds): a publisher that must not
 * lose frames (bus-replay, bus-tap) checks it every so many frames and waits while it is high,
 * since pub0 itself never blocks. */
int64_t bus_pub_backlog(bus_pub *p);
/* Waits until at most keep frames published so far are unwritten (bus_pub_backlog), at most
 * timeout_ms; keep 0: every frame is in the kernel's socket buffer, where a close no longer loses
 * it (pub0 drops its queues at close). Returns the backlog left (0 when NNG keeps no stats). */
int64_t bus_pub_drain(bus_pub *p, int64_t keep, int timeout_ms);
/* How long bus_pub_close (and a tool's last bus_pub_drain) waits for busd to take queued frames. */
#define BUS_PUB_FLUSH_MS 5000
/* For a publisher that must not lose frames to a slow busd (pub0 never blocks: a full 1024-frame
 * queue drops): called after each frame with the count published so far; every 64 frames it waits
 * (at most BUS_PUB_FLUSH_MS) while more than 256 are unwritten. bus-tap --publish, bus-replay. */
void bus_pub_pace(bus_pub *p, uint64_t published);
/* Drains (bus_pub_drain to 0, at most 5 s; what is left is logged as lost), then closes and frees p. */
void bus_pub_close(bus_pub *p);

/* ---- subscribing --------------------------------------------------------------------------- */

/* One received frame. `raw` owns the bytes; `f` borrows from it. Free with bus_msg_free. */
typedef struct bus_msg {
	nng_msg *raw;
	frame_view f;  /* valid when bus_recv returned BUS_OK */
	char err[160]; /* why, when bus_recv returned BUS_EDECODE or BUS_EREJECT */
	uint64_t gap;  /* frames of this stream missed just before this one */
} bus_msg;

void bus_msg_free(bus_msg *m);
const uint8_t *bus_msg_bytes(const bus_msg *m, size_t *len);

/* Per-stream (origin, topic) accounting, for bus-tap --stats. */
typedef struct bus_stream_stats {
	char origin[FRAME_ORIGIN_MAX + 1];
	char topic[FRAME_TOPIC_MAX + 1];
	uint64_t frames, last_seq, gaps, duplicates, restarts;
} bus_stream_stats;

/* Opens a subscriber that dials every URL of a comma-separated list. No topics yet. */
bus_sub *bus_sub_open(const char *urls, char *err, size_t errlen);
/* Subscribes to a topic prefix ("" = everything). The new list is sent to every connected busd,
 * and the call waits (at most 2 s) until each that filters has applied it, so frames published
 * after it returns are not filtered away. More than 256 prefixes, or one over 128 bytes, declare
 * everything to busd (sub0 still filters). 0, or -1 (out of memory). */
int bus_sub_topic(bus_sub *s, const char *prefix);
/* Enforces trust lists from now on (borrowed: must outlive the subscriber). */
void bus_sub_set_trust(bus_sub *s, const sig_trust *t);
/* Streams (origin, topic) tracked at most; past it the least recently heard one is forgotten and
 * counted in bus_rx_streams_evicted_total. Call before the first bus_recv (it starts afresh).
 * 0 or -1 (out of memory). */
#define BUS_MAX_STREAMS_DEFAULT 4096
int bus_sub_max_streams(bus_sub *s, size_t max);
/* Keeps duplicates instead of dropping them (bus-tap --all). */
void bus_sub_keep_duplicates(bus_sub *s, int keep);
/*
 * Signed frames are verified by this many threads of the subscriber's own (started at the first
 * signed frame), while bus_recv keeps pulling frames and delivers them in arrival order; bus_recv
 * verifies too when it has nothing else to do. 0 verifies each frame inside bus_recv, as it
 * arrives. Call before the first bus_recv. 0, or -1 (n out of 0..BUS_VERIFY_THREADS_MAX, or
 * too late).
 */
#define BUS_VERIFY_THREADS_DEFAULT 1
#define BUS_VERIFY_THREADS_MAX     8
int bus_sub_verify_threads(bus_sub *s, int n);
/* busd connections up (a declaring connection once busd acknowledged its first list, or 1 s). */
int bus_sub_connected(const bus_sub *s);
int bus_sub_wait(bus_sub *s, int want, int timeout_ms);

/*
 * Receives the next frame, waiting up to timeout_ms (-1 = forever). Duplicates are dropped and
 * counted silently. On BUS_OK, BUS_EDECODE and BUS_EREJECT the caller owns m->raw and must call
 * bus_msg_free; on BUS_TIMEOUT and BUS_ECLOSED there is nothing to free.
 */
int bus_recv(bus_sub *s, bus_msg *m, int timeout_ms);

/* Copies up to max per-stream records into out; returns how many streams there are. */
size_t bus_sub_streams(const bus_sub *s, bus_stream_stats *out, size_t max);
void bus_sub_close(bus_sub *s);

/* ---- shared -------------------------------------------------------------------------------- */

/* TLS for tls+tcp:// URLs: bus_tls_set and the rest are in bus/tls.h (included above). */

/* Keeps *n equal to the number of connected pipes of s (NNG pipe callbacks; n must outlive s). */
void bus_watch_pipes(nng_socket s, atomic_int *n);
/* Applies the reconnect and buffer options every oraclebus socket uses. */
void bus_socket_defaults(nng_socket s);
/* Dials (asynchronously) or listens on each URL of a comma list. 0 or -1 with err filled. */
int bus_dial_all(nng_socket s, const char *urls, char *err, size_t errlen);
int bus_listen_all(nng_socket s, const char *urls, char *err, size_t errlen);
/*
 * Closes s on a thread of its own and waits at most timeout_ms for it: NNG 1.5.2 can hang nng_close
 * forever when a pipe is receiving as it closes (bus.c says how). 0 closed, -1 still closing (the
 * caller must then keep alive whatever NNG's callbacks for s point to). bus_pub_close, bus_sub_close
 * and busd's bus_fwd_close use it with BUS_CLOSE_TIMEOUT_MS.
 */
#define BUS_CLOSE_TIMEOUT_MS 3000
int bus_close_socket(nng_socket s, int timeout_ms);
/* 1 when u is a tls+tcp URL (TLS identity needed). */
int bus_is_tls_url(const char *u);

#endif
