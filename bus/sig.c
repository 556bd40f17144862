/*
 * sig.c - BIP-340 signing and verification of bus frames, and per-topic trust lists.
 *
 * The message signed is tagged_sha256("oraclebus/frame", frame[0 .. signed_len)): the tag keeps a
 * frame signature from ever being valid as a signature of anything else made with the same key.
 * One secp256k1 context serves the process; it is created and randomized once and only read after,
 * which libsecp256k1 allows from several threads.
 */
#include "bus/sig.h"
#include "base/secp.h"
#include "base/hex.h"

#include "base/rt_main.h"

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
