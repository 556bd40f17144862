/*
 * egress.h - busd's egress: the publishing side of the SP pub0 protocol, written on NNG's byte
 * streams (tcp://, ipc://, tls+tcp://) so that every subscriber has its own queue bounded in BYTES.
 *
 * NNG's pub0 queues up to SENDBUF messages per pipe whatever their size, and a subscriber that
 * stops reading (a paused bus-tap, a wedged pod) made busd hold every frame published since: 600
 * frames of 1 MB took it to 589 MiB. Here each connection holds references to shared, refcounted
 * frames; a frame is stored once however many subscribers still have it queued. A frame is queued
 * for a subscriber only while that subscriber's queue stays under its bound (min(max_conn_bytes,
 * max_total_bytes / (subscribers + 1)), always at least one frame when its queue is empty) and the
 * frames held in all stay under max_total_bytes; otherwise that subscriber alone loses the frame
 * (counted, logged with its remote address). A subscriber that has not taken a byte for
 * stall_ms while frames wait is disconnected (its subscriber redials and counts the gap).
 *
 * Unmodified NNG sub0 sockets dial it: the wire is NNG's (SP header 00 'S' 'P' 00, protocol 0x0020
 * (pub0), 00 00; then each message as a big-endian u64 length and the bytes; ipc:// puts a message
 * type byte 0x01 before the length). A peer that is not a sub0 (wrong header) or fails the TLS
 * handshake is refused and counted.
 *
 * Topic filtering at busd (our extension, bus/topicdecl.h): NNG's sub0 filters on the subscriber's
 * side, so pub0 writes every frame to every subscriber. A subscriber of our bus library (bus_sub)
 * sends, after the handshake, SP messages upstream on the same connection, each a complete list of
 * its topic prefixes; from then on a frame is queued for it only when its leading bytes match one of
 * them (as sub0 matches; "" matches all), and each declaration is acknowledged in order with the
 * frames. A connection that never declares (a plain sub0, a third-party tool) gets every frame. A
 * declaration that is malformed or over the bounds (TOPICDECL_MAX_PREFIXES prefixes of at most
 * TOPICDECL_PREFIX_MAX bytes, TOPICDECL_MAX_BYTES in all; checked on the length before reading)
 * disconnects that peer and is counted (refused_decl). Measured with 1,503 price.obs frames a second
 * and 4 bus-taps subscribed to a prefix none matches (tests/bench/sub_filter.sh): each tap spent
 * 8.6 % of a core receiving and dropping them as a plain sub0 (BUS_SUB_FILTER=0) and 0.3 % when it
 * declares; busd 30.4 % and 14.4 % (the frames nobody wanted are no longer written).
 *
 * Memory: bus_egress_send copies the frame (one copy shared by all subscribers); the egress owns
 * its connections, listeners and frames and frees them in bus_egress_close.
 * Threads: bus_egress_send and bus_egress_tick are called by one thread (busd's loop); NNG's
 * callbacks run on its own threads and share one mutex with them.
 */
#ifndef OB_BUS_EGRESS_H
#define OB_BUS_EGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct bus_egress bus_egress;

typedef struct bus_egress_limits {
	uint64_t max_conn_bytes;  /* queued frame bytes per subscriber */
	uint64_t max_total_bytes; /* frame bytes held for all subscribers together */
	uint64_t stall_ms;        /* disconnect a subscriber that took nothing for this long (0 = never) */
	int max_conns;            /* subscribers at most; more are refused */
} bus_egress_limits;

typedef struct bus_egress_stats {
	uint64_t sent_frames, sent_bytes;
	uint64_t dropped_frames, dropped_bytes; /* frames a subscriber lost to its bound */
	uint64_t dropped_total_bound;           /* of those: lost because the total was full */
	uint64_t refused_tls, refused_proto, refused_limit;
	uint64_t disconnected_stalled;
	uint64_t held_bytes, held_peak; /* frame bytes in memory now, and the highest since open */
	uint64_t decl_accepted;         /* topic declarations applied (topicdecl.h) */
	uint64_t refused_decl;          /* subscribers disconnected for a malformed or oversized declaration */
	uint64_t filtered_frames;       /* (frame, subscriber) pairs not queued: no declared prefix matched */
	int conns;                      /* subscribers past the handshake */
	int filtered_conns;             /* of those: subscribers that declared their prefixes */
	int open;                       /* connections in any state, until freed */
} bus_egress_stats;

/* Listens on every URL of the comma list (tls+tcp:// uses bus_tls_set's identity). NULL + err. */
bus_egress *bus_egress_open(const char *urls, const bus_egress_limits *lim, char *err, size_t errlen);
/* Queues one frame for every subscriber whose bound allows it (bytes copied). */
void bus_egress_send(bus_egress *e, const uint8_t *frame, size_t len);
/* Housekeeping, about once a second: stalled and silent connections, freed connections, metrics,
 * and memory given back to the system after a burst. */
void bus_egress_tick(bus_egress *e);
void bus_egress_get_stats(bus_egress *e, bus_egress_stats *st);
void bus_egress_close(bus_egress *e);

#endif
