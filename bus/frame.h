/*
 * frame.h - the bytes of one bus message: topic, NUL, msgpack envelope.
 *
 * NNG's sub0 filters on the leading bytes of a message, so a frame starts with its topic in clear
 * (e.g. "price.obs.ETH-USD"), then one NUL byte (so "price.obs.ETH-USD\0" subscribes to exactly one
 * topic while "price.obs." matches a family), then a msgpack array of 9 elements (10 for a frame
 * signed as part of a window, below):
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
 *   [9] proof   array 3    only in the 10-element form: [index uint, count uint, path bin 32*depth]
 *
 * The signature covers the topic too, so a signed frame cannot be replayed under another topic.
 * A 9-element frame's signature signs that frame alone (the form every stored frame has). In the
 * 10-element form, written by a publisher that signs several waiting frames at once, [8] signs the
 * Merkle root of a window of `count` frames (2..FRAME_WINDOW_MAX) and [9] places this frame in it:
 * its index and the sibling hashes from its leaf up (sig.h defines the hashes and the exact number
 * of siblings for (index, count); a path of any other length is a decode error). The leaf is the hash
 * of frame[0 .. offset of element 7), the same bytes a frame signature covers, array header (0x9a)
 * included, so a frame is still checked alone, whichever other frames of its window a subscriber sees.
 * Key and sig are never nil in this form.
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
#define FRAME_WINDOW_MAX 1024      /* frames under one window signature (sig.h SIG_WINDOW_MAX) */
#define FRAME_PATH_MAX   (10 * 32) /* sibling hashes of a proof: log2(FRAME_WINDOW_MAX) at most */
/* Worst-case bytes of element 9: fixarray, two uint16, bin16 header, the path. */
#define FRAME_PROOF_MAX (1 + 3 + 3 + 3 + FRAME_PATH_MAX)
/* Worst-case envelope overhead beyond topic + body: array, ver, type, id, origin, seq, ts, bin32
 * header, key, sig, proof. Used to size buffers. */
#define FRAME_OVERHEAD                                                                                                 \
	(1 + 1 + 9 + 2 + FRAME_TYPE_MAX + 2 + 16 + 2 + FRAME_ORIGIN_MAX + 9 + 9 + 5 + 34 + 66 + FRAME_PROOF_MAX)

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
	size_t signed_len;  /* the signature (or the window's leaf) covers frame[0 .. signed_len) */
	/* Element 9, in the 10-element form: this frame's place in the window its sig signs. */
	uint32_t win_index, win_count; /* win_count 0: no proof, sig signs this frame alone */
	const uint8_t *win_path;       /* win_path_len bytes of sibling hashes, or NULL */
	size_t win_path_len;
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
 * Windows (see the layout above). frame_window_begin turns a frame made by frame_encode into the
 * 10-element form (its array header is inside what the leaf covers: call it before hashing the
 * leaf). frame_attach_proof then writes key, the window's signature and the proof; buf must have
 * room for signed_len + 100 + FRAME_PROOF_MAX bytes. Returns the new length, or 0 when index, count
 * and path do not fit together (frame_window_depth).
 */
void frame_window_begin(uint8_t *buf, size_t topic_len);
size_t frame_attach_proof(uint8_t *buf, size_t signed_len, const uint8_t key[32], const uint8_t sig[64], uint32_t index,
                          uint32_t count, const uint8_t *path, size_t path_len);
/* Sibling hashes in the proof of frame index of a window of count (the tree's shape, sig.h); 0
 * when count is out of 2..FRAME_WINDOW_MAX or index >= count. */
size_t frame_window_depth(uint32_t index, uint32_t count);

/*
 * Strict decode. Returns 0 and fills v (borrowing from buf), or -1 with a message in err naming the
 * element or the offset ("origin: 70 bytes exceeds 64", "trailing bytes at 120").
 */
int frame_decode(const uint8_t *buf, size_t len, frame_view *v, char *err, size_t errlen);

#endif
