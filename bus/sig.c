/*
 * sig.c - BIP-340 signing and verification of bus frames, and per-topic trust lists.
 *
 * The message signed is tagged_sha256("oraclebus/frame", frame[0 .. signed_len)): the tag keeps a
 * frame signature from ever being valid as a signature of anything else made with the same key.
 * A window's signature signs tagged_sha256("oraclebus/window", count || Merkle top) instead (sig.h):
 * another tag, so neither kind of signature passes for the other.
 * One secp256k1 context serves the process; it is created and randomized once and only read after,
 * which libsecp256k1 allows from several threads.
 */
#include "bus/sig.h"
#include "base/secp.h"
#include "base/hex.h"

#include "base/rt_main.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char SIG_TAG[] = "oraclebus/frame";

struct sig_key {
	secp256k1_keypair kp; /* holds the secret: lives in locked, non-dumpable memory */
	uint8_t pub[32];
};

typedef struct {
	char prefix[64];
	size_t prefix_len;
	size_t nkeys;
	uint8_t keys[SIG_TRUST_MAX_KEYS][32];
	secp256k1_xonly_pubkey parsed[SIG_TRUST_MAX_KEYS];
} sig_rule;

struct sig_trust {
	size_t n;
	sig_rule rules[SIG_TRUST_MAX_RULES];
};

const char *
sig_result_name(sig_result r)
{
	static const char *const names[] = { "ok", "bad_signature", "missing_signature", "untrusted_key" };
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}

/* ---- keys ---------------------------------------------------------------------------------- */

/* Key memory comes from rt_secret_alloc: locked (never swapped), excluded from core dumps, wiped
 * on free. */
static sig_key *
sig_key_alloc(void)
{
	return rt_secret_alloc(sizeof(sig_key));
}

void
sig_key_free(sig_key *k)
{
	rt_secret_free(k, sizeof *k);
}

sig_key *
sig_key_new(const uint8_t secret[32])
{
	secp256k1_context *ctx = ob_secp();
	sig_key *k = sig_key_alloc();
	secp256k1_xonly_pubkey xpub;
	if (k == NULL)
		return NULL;
	if (!secp256k1_keypair_create(ctx, &k->kp, secret) || !secp256k1_keypair_xonly_pub(ctx, &xpub, NULL, &k->kp) ||
	    !secp256k1_xonly_pubkey_serialize(ctx, k->pub, &xpub)) {
		sig_key_free(k);
		return NULL;
	}
	return k;
}

sig_key *
sig_key_from_hex(const char *hex)
{
	uint8_t secret[32];
	sig_key *k = NULL;
	if (hex != NULL && hex_decode_exact(hex, strlen(hex), secret, 32) == HEX_OK)
		k = sig_key_new(secret);
	explicit_bzero(secret, sizeof secret);
	return k;
}

sig_key *
sig_key_generate(void)
{
	uint8_t secret[32];
	sig_key *k = NULL;
	for (int tries = 0; tries < 4 && k == NULL; tries++)
		if (getrandom(secret, sizeof secret, 0) == sizeof secret)
			k = sig_key_new(secret);
	explicit_bzero(secret, sizeof secret);
	return k;
}

const uint8_t *
sig_key_pub(const sig_key *k)
{
	return k->pub;
}

void
sig_key_secret_hex(const sig_key *k, char out[65])
{
	uint8_t secret[32];
	if (!secp256k1_keypair_sec(ob_secp(), secret, &k->kp))
		memset(secret, 0, sizeof secret);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", secret[i]);
	explicit_bzero(secret, sizeof secret);
}

/* ---- sign / verify ------------------------------------------------------------------------- */

static int
sig_digest(const uint8_t *frame, size_t len, uint8_t msg[32])
{
	return secp256k1_tagged_sha256(ob_secp(), msg, (const unsigned char *)SIG_TAG, sizeof SIG_TAG - 1, frame, len)
	               ? 0
	               : -1;
}

int
sig_sign(const sig_key *k, const uint8_t *frame, size_t signed_len, uint8_t sig[64])
{
	uint8_t msg[32], aux[32];
	/* Fresh auxiliary randomness per signature, as BIP-340 recommends against side channels. */
	if (getrandom(aux, sizeof aux, 0) != sizeof aux)
		return -1;
	if (sig_digest(frame, signed_len, msg))
		return -1;
	return secp256k1_schnorrsig_sign32(ob_secp(), sig, msg, &k->kp, aux) ? 0 : -1;
}

static int
sig_verify_parsed(const secp256k1_xonly_pubkey *pk, const uint8_t *frame, size_t len, const uint8_t sig[64])
{
	uint8_t msg[32];
	if (sig_digest(frame, len, msg))
		return 0;
	return secp256k1_schnorrsig_verify(ob_secp(), sig, msg, 32, pk);
}

/*
 * Parsed x-only keys of frames signed by keys no trust rule lists (trusted keys are parsed once, in
 * sig_trust_add): parsing is a field square root, a sizeable share of a verification, and a
 * subscriber sees few distinct publishers. Per thread (verifiers run in parallel, bus.c), direct
 * mapped on the key's first bytes; a collision only costs a parse.
 */
#define SIG_CACHE_SLOTS 16
static __thread struct {
	uint8_t pub[32];
	secp256k1_xonly_pubkey pk;
	int valid; /* 1 parsed, -1 does not parse, 0 empty */
} sig_cache[SIG_CACHE_SLOTS];

static const secp256k1_xonly_pubkey *
sig_parse_cached(const uint8_t pub[32])
{
	unsigned slot = ((unsigned)pub[0] ^ (unsigned)pub[1] << 3 ^ (unsigned)pub[31]) % SIG_CACHE_SLOTS;
	if (sig_cache[slot].valid == 0 || memcmp(sig_cache[slot].pub, pub, 32) != 0) {
		memcpy(sig_cache[slot].pub, pub, 32);
		sig_cache[slot].valid = secp256k1_xonly_pubkey_parse(ob_secp(), &sig_cache[slot].pk, pub) ? 1 : -1;
	}
	return sig_cache[slot].valid == 1 ? &sig_cache[slot].pk : NULL;
}

int
sig_verify(const uint8_t pub[32], const uint8_t *frame, size_t signed_len, const uint8_t sig[64])
{
	const secp256k1_xonly_pubkey *pk = sig_parse_cached(pub);
	return pk != NULL && sig_verify_parsed(pk, frame, signed_len, sig);
}

/* ---- trust lists --------------------------------------------------------------------------- */

static sig_rule *
sig_rule_for(const sig_trust *t, const char *topic, size_t len)
{
	const sig_rule *best = NULL;
	for (size_t i = 0; t != NULL && i < t->n; i++) {
		const sig_rule *r = &t->rules[i];
		if (r->prefix_len <= len && memcmp(r->prefix, topic, r->prefix_len) == 0 &&
		    (best == NULL || r->prefix_len > best->prefix_len))
			best = r;
	}
	return (sig_rule *)best;
}

int
sig_trust_add(sig_trust *t, const char *prefix, const uint8_t pub[32])
{
	size_t plen = strlen(prefix);
	sig_rule *r = NULL;
	if (plen >= sizeof r->prefix)
		return -1;
	for (size_t i = 0; i < t->n; i++)
		if (t->rules[i].prefix_len == plen && memcmp(t->rules[i].prefix, prefix, plen) == 0)
			r = &t->rules[i];
	if (r == NULL) {
		if (t->n == sizeof t->rules / sizeof t->rules[0])
			return -2;
		r = &t->rules[t->n++];
		memset(r, 0, sizeof *r);
		memcpy(r->prefix, prefix, plen);
		r->prefix_len = plen;
	}
	if (r->nkeys == sizeof r->keys / sizeof r->keys[0])
		return -2;
	if (!secp256k1_xonly_pubkey_parse(ob_secp(), &r->parsed[r->nkeys], pub))
		return -1;
	memcpy(r->keys[r->nkeys++], pub, 32);
	return 0;
}

sig_trust *
sig_trust_parse(const char *spec, char *err, size_t errlen)
{
	sig_trust *t = calloc(1, sizeof *t);
	char *copy = NULL, *save = NULL;
	if (t == NULL)
		return NULL;
	if (spec == NULL || *spec == 0)
		return t;
	copy = strdup(spec);
	for (char *rule = strtok_r(copy, ";", &save); rule; rule = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(rule, '='), *save2 = NULL;
		if (eq == NULL || eq == rule) {
			snprintf(err, errlen, "trust rule '%.40s': want PREFIX=HEXKEY[,HEXKEY]", rule);
			goto fail;
		}
		*eq = 0;
		for (char *hk = strtok_r(eq + 1, ",", &save2); hk; hk = strtok_r(NULL, ",", &save2)) {
			uint8_t pub[32];
			int rc = hex_decode_exact(hk, strlen(hk), pub, 32) != HEX_OK ? -1 : sig_trust_add(t, rule, pub);
			if (rc == -2) {
				snprintf(err, errlen,
				         "trust rule '%.40s': more than %d keys (or more than %d prefixes)", rule,
				         SIG_TRUST_MAX_KEYS, SIG_TRUST_MAX_RULES);
				goto fail;
			}
			if (rc) {
				snprintf(err, errlen, "trust rule '%.40s': bad key ('%.20s...')", rule, hk);
				goto fail;
			}
		}
	}
	free(copy);
	return t;
fail:
	free(copy);
	free(t);
	return NULL;
}

void
sig_trust_free(sig_trust *t)
{
	free(t);
}

int
sig_trust_required(const sig_trust *t, const char *topic, size_t topic_len)
{
	return sig_rule_for(t, topic, topic_len) != NULL;
}

const char *
sig_trust_rule_prefix(const sig_trust *t, const char *topic, size_t topic_len)
{
	const sig_rule *r = sig_rule_for(t, topic, topic_len);
	return r ? r->prefix : NULL;
}

sig_result
sig_check(const sig_trust *t, const char *topic, size_t topic_len, const uint8_t *frame, size_t signed_len,
          const uint8_t *key, const uint8_t *sig)
{
	const sig_rule *r = sig_rule_for(t, topic, topic_len);
	if (key == NULL || sig == NULL)
		return r ? SIG_MISSING : SIG_OK;
	if (r == NULL)
		return sig_verify(key, frame, signed_len, sig) ? SIG_OK : SIG_BAD;
	for (size_t i = 0; i < r->nkeys; i++)
		if (memcmp(r->keys[i], key, 32) == 0)
			return sig_verify_parsed(&r->parsed[i], frame, signed_len, sig) ? SIG_OK : SIG_BAD;
	/* Untrusted key: still tell a forgery from a stranger's valid signature, for the logs. */
	return sig_verify(key, frame, signed_len, sig) ? SIG_UNTRUSTED : SIG_BAD;
}

/* ---- windows: one signature over a Merkle tree of frames (sig.h) ---------------------------- */

/*
 * The tagged hashes are BIP-340's, SHA-256(SHA-256(tag) || SHA-256(tag) || data), computed with
 * OpenSSL from a per-thread midstate of each tag's 64-byte prefix: a subscriber hashes a leaf and
 * up to log2(window) nodes per frame, and libsecp256k1's portable secp256k1_tagged_sha256 (which
 * hashes the tag again each time, without SHA extensions) made that cost ~7x more. frame_test checks
 * both give the same bytes.
 */
enum {
	SIG_H_LEAF,
	SIG_H_NODE,
	SIG_H_WINDOW,
	SIG_H_N
};
static const char *const sig_htags[SIG_H_N] = { "oraclebus/leaf", "oraclebus/node", "oraclebus/window" };

typedef struct {
	EVP_MD_CTX *mid[SIG_H_N]; /* SHA-256 after the tag prefix */
	EVP_MD_CTX *work;
} sig_hctx;

static pthread_key_t sig_hkey;
static pthread_once_t sig_honce = PTHREAD_ONCE_INIT;

static void
sig_hctx_free(void *arg)
{
	sig_hctx *h = arg;
	for (int i = 0; i < SIG_H_N; i++)
		EVP_MD_CTX_free(h->mid[i]);
	EVP_MD_CTX_free(h->work);
	free(h);
}

static void
sig_hkey_init(void)
{
	if (pthread_key_create(&sig_hkey, sig_hctx_free) != 0)
		abort(); /* at start-up only: no key means no thread-safe hashing at all */
}

/* This thread's contexts (freed when it exits), NULL when out of memory. */
static sig_hctx *
sig_hctx_get(void)
{
	pthread_once(&sig_honce, sig_hkey_init);
	sig_hctx *h = pthread_getspecific(sig_hkey);
	if (h != NULL)
		return h;
	int ok = (h = calloc(1, sizeof *h)) != NULL && (h->work = EVP_MD_CTX_new()) != NULL;
	for (int i = 0; ok && i < SIG_H_N; i++) {
		uint8_t th[32];
		unsigned len;
		ok = EVP_Digest(sig_htags[i], strlen(sig_htags[i]), th, &len, EVP_sha256(), NULL) == 1 &&
		     (h->mid[i] = EVP_MD_CTX_new()) != NULL && EVP_DigestInit_ex(h->mid[i], EVP_sha256(), NULL) == 1 &&
		     EVP_DigestUpdate(h->mid[i], th, 32) == 1 && EVP_DigestUpdate(h->mid[i], th, 32) == 1;
	}
	if (!ok || pthread_setspecific(sig_hkey, h) != 0) {
		if (h != NULL)
			sig_hctx_free(h);
		return NULL;
	}
	return h;
}

static int
sig_tagged(int which, const uint8_t *p, size_t n, uint8_t out[32])
{
	sig_hctx *h = sig_hctx_get();
	unsigned len;
	if (h == NULL || EVP_MD_CTX_copy_ex(h->work, h->mid[which]) != 1 || EVP_DigestUpdate(h->work, p, n) != 1 ||
	    EVP_DigestFinal_ex(h->work, out, &len) != 1)
		return -1;
	return 0;
}

int
sig_leaf(const uint8_t *frame, size_t signed_len, uint8_t leaf[32])
{
	return sig_tagged(SIG_H_LEAF, frame, signed_len, leaf);
}

static int
sig_node(const uint8_t left[32], const uint8_t right[32], uint8_t out[32])
{
	uint8_t both[64];
	memcpy(both, left, 32);
	memcpy(both + 32, right, 32);
	return sig_tagged(SIG_H_NODE, both, 64, out);
}

/* The message a window's signature signs: the count pins the tree's shape. */
static int
sig_window_msg(uint32_t count, const uint8_t top[32], uint8_t msg[32])
{
	uint8_t in[36] = { (uint8_t)(count >> 24), (uint8_t)(count >> 16), (uint8_t)(count >> 8), (uint8_t)count };
	memcpy(in + 4, top, 32);
	return sig_tagged(SIG_H_WINDOW, in, sizeof in, msg);
}

int
sig_tree_build(sig_tree *t, uint32_t n)
{
	if (n < 2 || n > SIG_WINDOW_MAX)
		return -1;
	t->n = n;
	t->off[0] = 0;
	t->nlevels = 1;
	for (uint32_t m = n; m > 1; m = (m + 1) / 2) {
		uint32_t at = t->off[t->nlevels - 1], next = at + m;
		for (uint32_t j = 0; j < m; j += 2) {
			if (j + 1 == m)
				memcpy(t->node[next + j / 2], t->node[at + j], 32);
			else if (sig_node(t->node[at + j], t->node[at + j + 1], t->node[next + j / 2]))
				return -1;
		}
		t->off[t->nlevels++] = next;
	}
	return sig_window_msg(n, t->node[t->off[t->nlevels - 1]], t->msg);
}

size_t
sig_tree_proof(const sig_tree *t, uint32_t index, uint8_t *path)
{
	size_t k = 0;
	uint32_t l = 0;
	for (uint32_t i = index, m = t->n; m > 1; i >>= 1, m = (m + 1) / 2, l++)
		if ((i ^ 1) < m)
			memcpy(path + 32 * k++, t->node[t->off[l] + (i ^ 1)], 32);
	return 32 * k;
}

int
sig_sign_tree(const sig_key *k, const sig_tree *t, uint8_t sig[64])
{
	uint8_t aux[32];
	if (getrandom(aux, sizeof aux, 0) != sizeof aux)
		return -1;
	return secp256k1_schnorrsig_sign32(ob_secp(), sig, t->msg, &k->kp, aux) ? 0 : -1;
}

/* Folds a frame's proof up to the window's signed message. -1 when the proof's shape is wrong. */
static int
sig_fold(const uint8_t *frame, size_t signed_len, const sig_proof *pr, uint8_t msg[32])
{
	uint8_t h[32];
	size_t depth = frame_window_depth(pr->index, pr->count), k = 0;
	if (depth == 0 || pr->path == NULL || pr->path_len != 32 * depth || sig_leaf(frame, signed_len, h))
		return -1;
	for (uint32_t i = pr->index, m = pr->count; m > 1; i >>= 1, m = (m + 1) / 2) {
		if ((i ^ 1) >= m)
			continue;
		const uint8_t *sib = pr->path + 32 * k++;
		if ((i & 1) ? sig_node(sib, h, h) : sig_node(h, sib, h))
			return -1;
	}
	return sig_window_msg(pr->count, h, msg);
}

struct sig_wcache {
	pthread_mutex_t mu;
	uint64_t tick, verifications;
	size_t n;
	struct {
		uint8_t key[32], msg[32], sig[64];
		uint64_t used;
	} e[SIG_WCACHE_SLOTS];
};

sig_wcache *
sig_wcache_new(void)
{
	sig_wcache *c = calloc(1, sizeof *c);
	if (c != NULL)
		pthread_mutex_init(&c->mu, NULL);
	return c;
}

void
sig_wcache_free(sig_wcache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c);
}

size_t
sig_wcache_count(const sig_wcache *c)
{
	sig_wcache *m = (sig_wcache *)c;
	pthread_mutex_lock(&m->mu);
	size_t n = m->n;
	pthread_mutex_unlock(&m->mu);
	return n;
}

uint64_t
sig_wcache_verifications(const sig_wcache *c)
{
	sig_wcache *m = (sig_wcache *)c;
	pthread_mutex_lock(&m->mu);
	uint64_t n = m->verifications;
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* 1 if (key, msg, sig) was verified before. All 128 bytes must match: a frame whose signature bytes
 * were changed is checked (and rejected) even when its window is known. */
static int
sig_wcache_hit(sig_wcache *c, const uint8_t key[32], const uint8_t msg[32], const uint8_t sig[64])
{
	int hit = 0;
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n && !hit; i++)
		if (memcmp(c->e[i].msg, msg, 32) == 0 && memcmp(c->e[i].key, key, 32) == 0 &&
		    memcmp(c->e[i].sig, sig, 64) == 0) {
			c->e[i].used = ++c->tick;
			hit = 1;
		}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

/* Remembers a verified window, in place of the least recently used one when full. */
static void
sig_wcache_put(sig_wcache *c, const uint8_t key[32], const uint8_t msg[32], const uint8_t sig[64])
{
	pthread_mutex_lock(&c->mu);
	size_t at = c->n;
	if (c->n == SIG_WCACHE_SLOTS) {
		at = 0;
		for (size_t i = 1; i < c->n; i++)
			if (c->e[i].used < c->e[at].used)
				at = i;
	} else {
		c->n++;
	}
	memcpy(c->e[at].key, key, 32);
	memcpy(c->e[at].msg, msg, 32);
	memcpy(c->e[at].sig, sig, 64);
	c->e[at].used = ++c->tick;
	pthread_mutex_unlock(&c->mu);
}

/* Verifies a window signature, through the cache. pk NULL: the key does not parse. */
static int
sig_verify_window(const secp256k1_xonly_pubkey *pk, const uint8_t key[32], const uint8_t msg[32], const uint8_t sig[64],
                  sig_wcache *c)
{
	if (pk == NULL)
		return 0;
	if (c != NULL && sig_wcache_hit(c, key, msg, sig))
		return 1;
	if (c != NULL) {
		pthread_mutex_lock(&c->mu);
		c->verifications++;
		pthread_mutex_unlock(&c->mu);
	}
	if (!secp256k1_schnorrsig_verify(ob_secp(), sig, msg, 32, pk))
		return 0;
	if (c != NULL)
		sig_wcache_put(c, key, msg, sig);
	return 1;
}

sig_result
sig_check_window(const sig_trust *t, const char *topic, size_t topic_len, const uint8_t *frame, size_t signed_len,
                 const uint8_t *key, const uint8_t *sig, const sig_proof *pr, sig_wcache *cache)
{
	if (pr == NULL || pr->count == 0)
		return sig_check(t, topic, topic_len, frame, signed_len, key, sig);
	const sig_rule *r = sig_rule_for(t, topic, topic_len);
	uint8_t msg[32];
	if (key == NULL || sig == NULL)
		return r ? SIG_MISSING : SIG_OK; /* frame_decode refuses a proof without them; be safe */
	if (sig_fold(frame, signed_len, pr, msg))
		return SIG_BAD;
	if (r == NULL)
		return sig_verify_window(sig_parse_cached(key), key, msg, sig, cache) ? SIG_OK : SIG_BAD;
	for (size_t i = 0; i < r->nkeys; i++)
		if (memcmp(r->keys[i], key, 32) == 0)
			return sig_verify_window(&r->parsed[i], key, msg, sig, cache) ? SIG_OK : SIG_BAD;
	return sig_verify_window(sig_parse_cached(key), key, msg, sig, cache) ? SIG_UNTRUSTED : SIG_BAD;
}
