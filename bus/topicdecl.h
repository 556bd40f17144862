/*
 * topicdecl.h - the topic declaration a subscriber sends busd upstream, so busd queues for it only
 * the frames whose topic starts with one of its prefixes (publisher-side filtering).
 *
 * Why: NNG's sub0 filters on the subscriber side (its socket cannot send), so busd would write
 * every frame to every subscriber and each would drop the ones it did not ask for. A bus_sub
 * (bus.c) therefore speaks the subscriber side of SP itself and, after the SP handshake, sends SP
 * messages upstream on the same connection carrying its full prefix list. This is our extension
 * of pub0/sub0: a plain sub0 never sends anything and still gets every frame.
 *
 * Wire (version 1), the body of one SP message from subscriber to busd:
 *   "OBTF"          4 bytes magic
 *   version         1 byte, 1
 *   seq             u32 big-endian: the subscriber's declaration counter, echoed by the ack
 *   count           u16 big-endian, 0..TOPICDECL_MAX_PREFIXES
 *   count times:    len (1 byte, 0..TOPICDECL_PREFIX_MAX), then len bytes of prefix
 * with no trailing bytes. The list is complete (re-sent whole on every change); a prefix matches a
 * frame whose first bytes equal it, exactly as sub0 matches; "" matches every frame; count 0
 * matches none. busd answers each accepted declaration with an ack message on the frame stream,
 * in order with the frames: 0x00 "OBTA" version seq (10 bytes). No frame starts with 0x00 (a
 * topic is never empty), so the ack cannot be mistaken for a frame by a declaring subscriber, and
 * only a declaring subscriber ever gets one.
 *
 * Memory: topicdecl_parse borrows: the prefixes point into the buffer it was given.
 * topicdecl_encode writes into the caller's buffer.
 */
#ifndef OB_BUS_TOPICDECL_H
#define OB_BUS_TOPICDECL_H

#include <stddef.h>
#include <stdint.h>

#define TOPICDECL_VERSION      1
#define TOPICDECL_MAX_PREFIXES 256
#define TOPICDECL_PREFIX_MAX   128 /* FRAME_TOPIC_MAX: a longer prefix matches no topic's bytes */
#define TOPICDECL_HDR          11
#define TOPICDECL_MAX_BYTES    (TOPICDECL_HDR + TOPICDECL_MAX_PREFIXES * (1 + TOPICDECL_PREFIX_MAX))
#define TOPICDECL_ACK_LEN      10

typedef struct topicdecl {
	uint32_t seq;
	size_t n;
	int all; /* one prefix is "": every frame matches */
	const uint8_t *pfx[TOPICDECL_MAX_PREFIXES];
	uint8_t len[TOPICDECL_MAX_PREFIXES];
} topicdecl;

/* Parses one declaration message. 0, or -1 with err filled (bad magic or version, count or a
 * prefix over the bound, truncated, trailing bytes). */
int topicdecl_parse(const uint8_t *buf, size_t len, topicdecl *d, char *err, size_t errlen);
/* 1 when a frame (its leading bytes) matches one of d's prefixes. */
int topicdecl_match(const topicdecl *d, const uint8_t *frame, size_t len);
/* Writes the declaration of n prefixes into out (cap bytes). Its length, or 0 when n or a prefix
 * is over the bound or it does not fit. */
size_t topicdecl_encode(uint32_t seq, const char *const *pfx, size_t n, uint8_t *out, size_t cap);
/* The ack of declaration seq (TOPICDECL_ACK_LEN bytes). */
void topicdecl_ack(uint32_t seq, uint8_t out[TOPICDECL_ACK_LEN]);
/* 1 and *seq when msg is an ack. */
int topicdecl_is_ack(const uint8_t *msg, size_t len, uint32_t *seq);

#endif
