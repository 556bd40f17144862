/*
 * frame.h - the bytes of one bus message: topic, NUL, msgpack envelope.
 *
 * NNG's sub0 filters on the leading bytes of a message, so a frame starts with its topic in clear
 * (e.g. "price.obs.ETH-USD"), then one NUL byte (so "price.obs.ETH-USD\0" subscribes to exactly one
 * topic while "price.obs." matches a family), then a msgpack array of 9 elements:
 *
 *   [0] ver     uint       envelope version, FRAME_VERSION
 *   [1] type    str  <=32  message family, e.g. "price.obs" (see schemas/README.md)
 *                          (type and origin use the topic alphabet [A-Za-z0-9._:-], so every view of
 *                          a frame - JSON, logs, metric labels - can show them without escaping)
 *   [2] id      bin  16    unique message id (random; outboxes re-publish with the same id)
 *   [3] origin  str  <=64  publishing actor instance, e.g. "fetcher-coinbase-0"
 *   [4] seq     uint       sequence number per (origin, topic): 1 after each start, +1 per frame
 *   [5] ts      uint       publish time, ns since the Unix epoch
 *   [6] body    bin  <=1M  the message body (schema-encoded msgpack; the bus does not look inside)
 *   [7] key     bin 32|nil BIP-340 x-only public key of the signer, or nil
 *   [8] sig     bin 64|nil BIP-340 signature over frame[0 .. offset of element 7), or nil
 *
 * The signature covers the topic too, so a signed frame cannot be replayed under another topic.
 * Decoding is strict (exact element count and types, size limits, no trailing bytes) and never
 * allocates: a frame_view borrows every field from the caller's buffer.
 */
#ifndef OB_BUS_FRAME_H
#define OB_BUS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_VERSION    1u
#define FRAME_TOPIC_MAX  128
#define FRAME_TYPE_MAX   32
#define FRAME_ORIGIN_MAX 64
#define FRAME_BODY_MAX   (1u << 20)
/* Worst-case envelope overhead beyond topic + body: array, ver, type, id, origin, seq, ts, bin32
 * header, key, sig. Used to size buffers. */
#define FRAME_OVERHEAD (1 + 1 + 9 + 2 + FRAME_TYPE_MAX + 2 + 16 + 2 + FRAME_ORIGIN_MAX + 9 + 9 + 5 + 34 + 66)

/* A decoded frame. Every pointer borrows from the buffer given to frame_decode. */
typedef struct frame_view {
	const char *topic;
	size_t topic_len;
	uint32_t ver;
	const char *type;
	size_t type_len;
	const uint8_t *id; /* 16 bytes */
	const char *origin;
	size_t origin_len;
	uint64_t seq;
	uint64_t ts_ns;
	const uint8_t *body;
	size_t body_len;
	const uint8_t *key; /* 32 bytes, or NULL when unsigned */
	const uint8_t *sig; /* 64 bytes, or NULL when unsigned */
	size_t signed_len;  /* the signature covers frame[0 .. signed_len) */
} frame_view;

/* What to encode. Strings need not be NUL-terminated. */
typedef struct frame_fields {
	const char *topic;
	size_t topic_len;
	const char *type;
	size_t type_len;
	const uint8_t *id; /* 16 bytes */
	const char *origin;
	size_t origin_len;
	uint64_t seq;
	uint64_t ts_ns;
	const uint8_t *body;
	size_t body_len;
} frame_fields;

/* 1 if every byte is in [A-Za-z0-9._:-] and 1 <= len <= FRAME_TOPIC_MAX. */
int frame_topic_valid(const char *topic, size_t len);

/* Upper bound of the encoded size of f. */
size_t frame_size_bound(const frame_fields *f);

/*
 * Encodes f into buf (caller-owned, cap bytes) with key and sig as nil; *signed_len receives the
 * offset at which the key element starts (what a signature covers). Returns the frame length, or 0
 * when a field is invalid or cap is too small (err, if not NULL, says which).
 */
size_t frame_encode(const frame_fields *f, uint8_t *buf, size_t cap, size_t *signed_len, char *err, size_t errlen);

/*
 * Replaces the trailing nil,nil of a frame made by frame_encode with key and signature. buf must
 * have room for signed_len + 100 bytes. Returns the new length.
 */
size_t frame_attach_sig(uint8_t *buf, size_t signed_len, const uint8_t key[32], const uint8_t sig[64]);

/*
 * Strict decode. Returns 0 and fills v (borrowing from buf), or -1 with a message in err naming the
 * element or the offset ("origin: 70 bytes exceeds 64", "trailing bytes at 120").
 */
int frame_decode(const uint8_t *buf, size_t len, frame_view *v, char *err, size_t errlen);

#endif
