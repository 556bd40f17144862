/*
 * sig.h - BIP-340 Schnorr signatures on bus frames (libsecp256k1's schnorrsig module), and the
 * per-topic lists of trusted publisher keys that subscribers enforce.
 *
 * A publisher holds a sig_key (its secret never leaves this module's memory, which is locked and
 * excluded from core dumps). A subscriber holds a sig_trust: for each topic prefix, the x-only
 * public keys allowed to publish under it. A frame whose topic matches a trusted prefix must carry a
 * valid signature by one of that prefix's keys; a signed frame with a bad signature is always
 * rejected, whatever its topic.
 */
#ifndef OB_BUS_SIG_H
#define OB_BUS_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "bus/frame.h"

typedef struct sig_key sig_key;
typedef struct sig_trust sig_trust;

/* Outcome of a check, for metrics and logs. */
typedef enum {
	SIG_OK = 0,    /* valid signature by a trusted key, or no rule for the topic */
	SIG_BAD,       /* a signature is present and does not verify */
	SIG_MISSING,   /* the topic requires a signature and the frame has none */
	SIG_UNTRUSTED, /* valid signature, but by a key not trusted for the topic */
} sig_result;

const char *sig_result_name(sig_result r);

/* Creates a key from 32 secret bytes (copied; the caller should wipe its copy). NULL if invalid. */
sig_key *sig_key_new(const uint8_t secret[32]);
/* Parses hex (64 digits, optional 0x) and wipes nothing of the caller's string. NULL if invalid. */
sig_key *sig_key_from_hex(const char *hex);
/* Generates a fresh key from the OS's randomness. */
sig_key *sig_key_generate(void);
void sig_key_free(sig_key *k);                /* wipes the secret */
const uint8_t *sig_key_pub(const sig_key *k); /* 32-byte x-only public key, owned by k */
/* Writes the 64-digit secret in hex into out (for bus-tap --keygen only). */
void sig_key_secret_hex(const sig_key *k, char out[65]);

/* Signs frame[0 .. signed_len) and writes the signature (64 bytes). 0 on success. */
int sig_sign(const sig_key *k, const uint8_t *frame, size_t signed_len, uint8_t sig[64]);
/* Verifies sig by pub over frame[0 .. signed_len). 1 if valid. */
int sig_verify(const uint8_t pub[32], const uint8_t *frame, size_t signed_len, const uint8_t sig[64]);

/*
 * Trust lists. Spec syntax (env BUS_TRUST): "PREFIX=HEXKEY[,HEXKEY...][;PREFIX=...]", e.g.
 * "price.update.=ab..;tx.=ab..,cd..". The longest matching prefix decides. Returns NULL with a
 * message in err on a malformed spec. An empty or NULL spec gives an empty list (trust everything
 * unsigned, still reject bad signatures).
 */
sig_trust *sig_trust_parse(const char *spec, char *err, size_t errlen);
/* Bounds of one trust list (more is a parse error): keys per prefix and prefixes. A key per
 * publishing instance: alert. alone takes median, gate, every signer and submitter, ccip-tail,
 * alerter, tokenizer and the token backends, and a key rotation lists old and new side by side,
 * so 32 leaves room for several signer pairs. A list is ~100 KiB (allocated once per process);
 * a frame is checked against the keys of one prefix (memcmp of 32 bytes each). */
#define SIG_TRUST_MAX_KEYS  32
#define SIG_TRUST_MAX_RULES 32
/* 0, -1 for a key that is no curve point (or a prefix too long), -2 past the bounds below. */
int sig_trust_add(sig_trust *t, const char *prefix, const uint8_t pub[32]);
void sig_trust_free(sig_trust *t);
/* 1 if some rule covers this topic (its frames must be signed by a listed key). */
int sig_trust_required(const sig_trust *t, const char *topic, size_t topic_len);

/* The prefix of the rule that covers topic (owned by t), or NULL when none does. Used to name what a
 * rejected frame was aimed at with configuration, never with the sender's own bytes. */
const char *sig_trust_rule_prefix(const sig_trust *t, const char *topic, size_t topic_len);

/* Checks one frame against t. key/sig may be NULL (unsigned frame). */
sig_result sig_check(const sig_trust *t, const char *topic, size_t topic_len, const uint8_t *frame, size_t signed_len,
                     const uint8_t *key, const uint8_t *sig);

/*
 * Windows: one signature over a Merkle tree of several frames (a publisher under load signs the
 * frames waiting to go out at once, bus.c), each frame carrying its own proof so that a subscriber
 * which sees only some of them still checks each one alone. Hashes (BIP-340 tagged SHA-256, a
 * distinct tag each, so a leaf never passes for an inner node, nor either for a frame digest):
 *
 *   leaf   = H("oraclebus/leaf",   frame[0 .. signed_len))     exactly what a frame signature covers
 *   node   = H("oraclebus/node",   left || right)
 *   signed = H("oraclebus/window", count (4 bytes, big endian) || top)
 *
 * The tree over count >= 2 leaves pairs neighbours level by level; an odd last node moves up
 * unchanged (never paired with itself, so no two windows share a root). The count inside the signed
 * message pins the tree's shape: a proof cannot be replayed into a longer or shorter window.
 */
#define SIG_WINDOW_MAX   FRAME_WINDOW_MAX      /* leaves in one window */
#define SIG_WINDOW_DEPTH (FRAME_PATH_MAX / 32) /* siblings in a proof at most: log2(SIG_WINDOW_MAX) */

/* A frame's place in its window, as carried by the frame (frame.h element 9). */
typedef struct sig_proof {
	uint32_t index, count;
	const uint8_t *path; /* frame_window_depth(index, count) sibling hashes, leaf level first */
	size_t path_len;     /* bytes */
} sig_proof;

/* The leaf hash of a frame. 0 on success. */
int sig_leaf(const uint8_t *frame, size_t signed_len, uint8_t leaf[32]);

/* A whole tree, built by the publisher (caller-owned; ~64 KiB, so not on a small stack). */
typedef struct sig_tree {
	uint32_t n;                                                  /* leaves */
	uint32_t nlevels;                                            /* levels, the leaves' included */
	uint32_t off[SIG_WINDOW_DEPTH + 2];                          /* where each level starts in node[] */
	uint8_t node[2 * SIG_WINDOW_MAX + SIG_WINDOW_DEPTH + 2][32]; /* the leaves first (filled by the caller) */
	uint8_t msg[32];                                             /* the signed message, once built */
} sig_tree;

/* Builds t from its n leaves (t->node[0 .. n), set by the caller), 2 <= n <= SIG_WINDOW_MAX. 0 on success. */
int sig_tree_build(sig_tree *t, uint32_t n);
/* Writes the proof of leaf index into path (SIG_WINDOW_DEPTH * 32 bytes room); returns its bytes. */
size_t sig_tree_proof(const sig_tree *t, uint32_t index, uint8_t *path);
/* Signs a built tree's message. The secret stays in k's locked memory. 0 on success. */
int sig_sign_tree(const sig_key *k, const sig_tree *t, uint8_t sig[64]);

/*
 * Windows a subscriber has verified: (key, signed message, signature) of valid window signatures,
 * so the other frames of a window cost only their hashes. Bounded (SIG_WCACHE_SLOTS, least recently
 * used goes): frames a peer makes up can evict entries, which costs a verification, never memory.
 * Thread-safe (a mutex): the subscriber's verifier threads share one.
 */
#define SIG_WCACHE_SLOTS 32
typedef struct sig_wcache sig_wcache;
sig_wcache *sig_wcache_new(void);
void sig_wcache_free(sig_wcache *c);
size_t sig_wcache_count(const sig_wcache *c);           /* entries held, <= SIG_WCACHE_SLOTS */
uint64_t sig_wcache_verifications(const sig_wcache *c); /* window signatures verified (cache misses) */

/* sig_check for a frame that may carry a window proof (pr NULL or pr->count 0: a frame signature).
 * A proof that does not fold to a root the signature verifies is SIG_BAD. cache may be NULL. */
sig_result sig_check_window(const sig_trust *t, const char *topic, size_t topic_len, const uint8_t *frame,
                            size_t signed_len, const uint8_t *key, const uint8_t *sig, const sig_proof *pr,
                            sig_wcache *cache);

#endif
