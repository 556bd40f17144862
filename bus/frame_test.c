/*
 * frame_test.c - frame encoding/decoding and BIP-340 frame signatures.
 *
 * The golden frame below was written out by hand from the msgpack spec (not produced by
 * frame_encode), so encoder and decoder are both checked against an independent expectation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/secp.h"

#include "bus/frame.h"
#include "bus/sig.h"

static const uint8_t ID[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static frame_fields
sample(void)
{
	static const uint8_t body[3] = { 0x81, 0xa1, 0x76 }; /* arbitrary bytes: the bus does not look */
	frame_fields f = {
		.topic = "price.obs.ETH-USD",
		.topic_len = 17,
		.type = "price.obs",
		.type_len = 9,
		.id = ID,
		.origin = "fetcher-1",
		.origin_len = 9,
		.seq = 300,
		.ts_ns = 1700000000000000000ull,
		.body = body,
		.body_len = 3,
	};
	return f;
}

/* topic \0, 0x99, ver 1, fixstr "price.obs", bin8 16 id, fixstr "fetcher-1", uint16 300,
 * uint64 ts, bin8 3 body, nil, nil */
static const uint8_t GOLDEN[] = {
	'p',  'r',  'i',  'c',  'e',  '.',  'o',  'b',  's',  '.',  'E',  'T',  'H',  '-',  'U',  'S',
	'D',  0,    0x99, 0x01, 0xa9, 'p',  'r',  'i',  'c',  'e',  '.',  'o',  'b',  's',  0xc4, 0x10,
	0,    1,    2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,   13,   14,   15,
	0xa9, 'f',  'e',  't',  'c',  'h',  'e',  'r',  '-',  '1',  0xcd, 0x01, 0x2c, 0xcf, 0x17, 0x97,
	0x9c, 0xfe, 0x36, 0x2a, 0x00, 0x00, 0xc4, 0x03, 0x81, 0xa1, 0x76, 0xc0, 0xc0,
};

static void
test_encode_matches_golden(void **state)
{
	(void)state;
	frame_fields f = sample();
	uint8_t buf[512];
	size_t sl;
	size_t n = frame_encode(&f, buf, sizeof buf, &sl, NULL, 0);
	assert_int_equal(n, sizeof GOLDEN);
	assert_memory_equal(buf, GOLDEN, sizeof GOLDEN);
	assert_int_equal(sl, sizeof GOLDEN - 2);
	assert_true(n <= frame_size_bound(&f));
}

static void
test_decode_golden(void **state)
{
	(void)state;
	frame_view v;
	char err[128];
	assert_int_equal(frame_decode(GOLDEN, sizeof GOLDEN, &v, err, sizeof err), 0);
	assert_int_equal(v.topic_len, 17);
	assert_memory_equal(v.topic, "price.obs.ETH-USD", 17);
	assert_memory_equal(v.type, "price.obs", 9);
	assert_memory_equal(v.id, ID, 16);
	assert_memory_equal(v.origin, "fetcher-1", 9);
	assert_int_equal(v.seq, 300);
	assert_true(v.ts_ns == 1700000000000000000ull);
	assert_int_equal(v.body_len, 3);
	assert_null(v.key);
	assert_null(v.sig);
}

static void
expect_error(const uint8_t *b, size_t n, const char *needle)
{
	frame_view v;
	char err[160] = "";
	assert_int_equal(frame_decode(b, n, &v, err, sizeof err), -1);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void
test_decode_rejects(void **state)
{
	(void)state;
	uint8_t b[sizeof GOLDEN + 8];
	/* every truncation is an error, never a crash */
	for (size_t n = 0; n < sizeof GOLDEN; n++) {
		frame_view v;
		char err[160];
		assert_int_equal(frame_decode(GOLDEN, n, &v, err, sizeof err), -1);
	}
	memcpy(b, GOLDEN, sizeof GOLDEN);
	b[sizeof GOLDEN] = 0xc0;
	expect_error(b, sizeof GOLDEN + 1, "trailing");
	memcpy(b, GOLDEN, sizeof GOLDEN);
	b[19] = 0x07; /* version */
	expect_error(b, sizeof GOLDEN, "ver: unsupported version 7");
	memcpy(b, GOLDEN, sizeof GOLDEN);
	b[18] = 0x98; /* array of 8 */
	expect_error(b, sizeof GOLDEN, "envelope");
	memcpy(b, GOLDEN, sizeof GOLDEN);
	b[31] = 0x0f; /* id of 15 bytes */
	expect_error(b, sizeof GOLDEN, "id");
	memcpy(b, GOLDEN, sizeof GOLDEN);
	b[3] = ' '; /* space in topic */
	expect_error(b, sizeof GOLDEN, "topic");
	memcpy(b, GOLDEN, sizeof GOLDEN);
	b[48] = 0xc4; /* origin as bin instead of str */
	expect_error(b, sizeof GOLDEN, "origin: expected str");
	memcpy(b, GOLDEN, sizeof GOLDEN);
	b[49] = 0xff; /* origin not in the topic alphabet (here: not even UTF-8) */
	expect_error(b, sizeof GOLDEN, "origin: empty or not");
	memcpy(b, GOLDEN, sizeof GOLDEN);
	b[25] = '{'; /* type "price{obs" */
	expect_error(b, sizeof GOLDEN, "type: empty or not");
	memcpy(b, GOLDEN, sizeof GOLDEN);
	b[sizeof GOLDEN - 1] = 0xc2; /* sig = false */
	expect_error(b, sizeof GOLDEN, "sig");
	/* a key without a signature */
	uint8_t k[sizeof GOLDEN + 40];
	memcpy(k, GOLDEN, sizeof GOLDEN - 2);
	size_t o = sizeof GOLDEN - 2;
	k[o++] = 0xc4;
	k[o++] = 32;
	memset(k + o, 7, 32);
	o += 32;
	k[o++] = 0xc0;
	expect_error(k, o, "both");
}

static void
test_encode_rejects(void **state)
{
	(void)state;
	uint8_t buf[512];
	char err[128];
	frame_fields f = sample();
	f.topic = "bad topic";
	f.topic_len = 9;
	assert_int_equal(frame_encode(&f, buf, sizeof buf, NULL, err, sizeof err), 0);
	assert_non_null(strstr(err, "topic"));
	f = sample();
	f.origin_len = 0;
	assert_int_equal(frame_encode(&f, buf, sizeof buf, NULL, err, sizeof err), 0);
	assert_non_null(strstr(err, "origin"));
	f = sample();
	assert_int_equal(frame_encode(&f, buf, 40, NULL, err, sizeof err), 0);
	assert_non_null(strstr(err, "buffer"));
}

/* Round trip over many field sizes, crossing every msgpack length-encoding boundary. */
static void
test_roundtrip_sizes(void **state)
{
	(void)state;
	static uint8_t body[70000], buf[72000];
	static const size_t body_lens[] = { 0, 1, 255, 256, 65535, 65536, 69999 };
	static const uint64_t seqs[] = {
		1, 127, 128, 255, 256, 65535, 65536, 4294967295ull, 4294967296ull, UINT64_MAX
	};
	char origin[65];
	memset(origin, 'o', sizeof origin);
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)(i * 31);
	for (size_t bi = 0; bi < sizeof body_lens / sizeof body_lens[0]; bi++)
		for (size_t si = 0; si < sizeof seqs / sizeof seqs[0]; si++)
			for (size_t ol = 1; ol <= 64; ol += 31) {
				frame_fields f = sample();
				f.body = body;
				f.body_len = body_lens[bi];
				f.seq = seqs[si];
				f.origin = origin;
				f.origin_len = ol;
				size_t sl, n = frame_encode(&f, buf, sizeof buf, &sl, NULL, 0);
				assert_true(n > 0);
				frame_view v;
				char err[128];
				assert_int_equal(frame_decode(buf, n, &v, err, sizeof err), 0);
				assert_true(v.seq == seqs[si]);
				assert_int_equal(v.body_len, body_lens[bi]);
				assert_memory_equal(v.body, body, body_lens[bi]);
				assert_int_equal(v.origin_len, ol);
				assert_int_equal(v.signed_len, sl);
			}
}

static void
test_sign_verify_trust(void **state)
{
	(void)state;
	uint8_t secret[32];
	memset(secret, 0x11, 32);
	sig_key *k = sig_key_new(secret);
	sig_key *other = sig_key_generate();
	assert_non_null(k);
	assert_non_null(other);

	frame_fields f = sample();
	f.topic = "price.update.ETH-USD";
	f.topic_len = strlen(f.topic);
	uint8_t buf[512], sig[64];
	size_t sl, n = frame_encode(&f, buf, sizeof buf, &sl, NULL, 0);
	assert_int_equal(sig_sign(k, buf, sl, sig), 0);
	n = frame_attach_sig(buf, sl, sig_key_pub(k), sig);

	frame_view v;
	char err[128];
	assert_int_equal(frame_decode(buf, n, &v, err, sizeof err), 0);
	assert_non_null(v.key);
	assert_memory_equal(v.key, sig_key_pub(k), 32);
	assert_true(sig_verify(v.key, buf, v.signed_len, v.sig));

	/* trust list: the key is trusted for price.update. only */
	char spec[200], pubhex[65];
	for (int i = 0; i < 32; i++)
		snprintf(pubhex + 2 * i, 3, "%02x", sig_key_pub(k)[i]);
	snprintf(spec, sizeof spec, "price.update.=%s;tx.=%s", pubhex, pubhex);
	sig_trust *t = sig_trust_parse(spec, err, sizeof err);
	assert_non_null(t);
	assert_int_equal(sig_check(t, v.topic, v.topic_len, buf, v.signed_len, v.key, v.sig), SIG_OK);

	/* every single-bit flip in the signed part or the signature is caught */
	for (size_t i = 0; i < n; i++) {
		if (i >= sl && i < sl + 2 + 32 + 2)
			continue; /* headers and the key itself: flipping the key gives "untrusted" instead */
		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (uint8_t)(1 << bit);
			frame_view w;
			if (frame_decode(buf, n, &w, err, sizeof err) == 0)
				assert_int_not_equal(
				        sig_check(t, w.topic, w.topic_len, buf, w.signed_len, w.key, w.sig), SIG_OK);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	}

	/* signed by another key: untrusted on a protected topic, fine elsewhere */
	assert_int_equal(sig_sign(other, buf, sl, sig), 0);
	n = frame_attach_sig(buf, sl, sig_key_pub(other), sig);
	assert_int_equal(frame_decode(buf, n, &v, err, sizeof err), 0);
	assert_int_equal(sig_check(t, v.topic, v.topic_len, buf, v.signed_len, v.key, v.sig), SIG_UNTRUSTED);
	assert_int_equal(sig_check(t, "price.obs.X", 11, buf, v.signed_len, v.key, v.sig), SIG_OK);
	/* unsigned on a protected topic */
	assert_int_equal(sig_check(t, v.topic, v.topic_len, buf, v.signed_len, NULL, NULL), SIG_MISSING);
	assert_int_equal(sig_check(t, "alert.x", 7, buf, v.signed_len, NULL, NULL), SIG_OK);

	/* malformed specs */
	assert_null(sig_trust_parse("price.=zz", err, sizeof err));
	assert_null(sig_trust_parse("=abcd", err, sizeof err));
	sig_trust_free(t);
	sig_key_free(k);
	sig_key_free(other);
}

/* Trust list bounds: SIG_TRUST_MAX_KEYS keys on one prefix are accepted and each one's frames are
 * trusted (the last one too: not silently dropped); one more is refused with a message naming the
 * bound, as is one prefix past SIG_TRUST_MAX_RULES. */
static void
test_trust_bounds(void **state)
{
	(void)state;
	enum {
		N = SIG_TRUST_MAX_KEYS + 1
	};
	sig_key *keys[N];
	static char spec[N * 72 + 64];
	char err[160];
	size_t len = (size_t)snprintf(spec, sizeof spec, "alert.=");
	for (int i = 0; i < N; i++) {
		keys[i] = sig_key_generate();
		assert_non_null(keys[i]);
	}
	for (int i = 0; i < SIG_TRUST_MAX_KEYS; i++) {
		len += (size_t)snprintf(spec + len, sizeof spec - len, "%s", i ? "," : "");
		for (int j = 0; j < 32; j++)
			len += (size_t)snprintf(spec + len, sizeof spec - len, "%02x", sig_key_pub(keys[i])[j]);
	}
	sig_trust *t = sig_trust_parse(spec, err, sizeof err);
	assert_non_null(t);

	frame_fields f = sample();
	f.topic = "alert.error.x";
	f.topic_len = strlen(f.topic);
	uint8_t buf[512], sig[64];
	frame_view v;
	for (int i = 0; i < N; i++) {
		size_t sl, n = frame_encode(&f, buf, sizeof buf, &sl, NULL, 0);
		assert_int_equal(sig_sign(keys[i], buf, sl, sig), 0);
		n = frame_attach_sig(buf, sl, sig_key_pub(keys[i]), sig);
		assert_int_equal(frame_decode(buf, n, &v, err, sizeof err), 0);
		assert_int_equal(sig_check(t, v.topic, v.topic_len, buf, v.signed_len, v.key, v.sig),
		                 i < SIG_TRUST_MAX_KEYS ? SIG_OK : SIG_UNTRUSTED);
	}
	sig_trust_free(t);

	/* one key more */
	len += (size_t)snprintf(spec + len, sizeof spec - len, ",");
	for (int j = 0; j < 32; j++)
		len += (size_t)snprintf(spec + len, sizeof spec - len, "%02x", sig_key_pub(keys[N - 1])[j]);
	err[0] = '\0';
	assert_null(sig_trust_parse(spec, err, sizeof err));
	assert_non_null(strstr(err, "more than 32 keys"));

	/* one prefix more */
	char hex[65];
	for (int j = 0; j < 32; j++)
		snprintf(hex + 2 * j, 3, "%02x", sig_key_pub(keys[0])[j]);
	len = 0;
	for (int r = 0; r <= SIG_TRUST_MAX_RULES; r++)
		len += (size_t)snprintf(spec + len, sizeof spec - len, "%sp%d.=%s", r ? ";" : "", r, hex);
	assert_true(len < sizeof spec);
	err[0] = '\0';
	assert_null(sig_trust_parse(spec, err, sizeof err));
	assert_non_null(strstr(err, "prefixes"));
	for (int i = 0; i < N; i++)
		sig_key_free(keys[i]);
}

/* BIP-340 test vector 0 (secret key 3): our key derivation must give the published public key. */
static void
test_bip340_vector_pubkey(void **state)
{
	(void)state;
	sig_key *k = sig_key_from_hex("0000000000000000000000000000000000000000000000000000000000000003");
	static const uint8_t want[32] = {
		0xF9, 0x30, 0x8A, 0x01, 0x92, 0x58, 0xC3, 0x10, 0x49, 0x34, 0x4F, 0x85, 0xF8, 0x9D, 0x52, 0x29,
		0xB5, 0x31, 0xC8, 0x45, 0x83, 0x6F, 0x99, 0xB0, 0x86, 0x01, 0xF1, 0x13, 0xBC, 0xE0, 0x36, 0xF9,
	};
	assert_non_null(k);
	assert_memory_equal(sig_key_pub(k), want, 32);
	sig_key_free(k);
	assert_null(sig_key_from_hex("00"));
	assert_null(sig_key_from_hex("0000000000000000000000000000000000000000000000000000000000000000"));
}

/* ---- windows: one signature over a Merkle tree of frames ----------------------------------- */

#define WCAP 1024

typedef struct {
	uint32_t n;
	uint8_t buf[16][WCAP];
	size_t len[16], sl[16], topic_len[16];
	uint8_t sig[64];
	sig_tree t;
} window;

/* Builds and signs a window of n frames as bus.c's signer does; tag makes windows differ. */
static void
window_make(window *w, const sig_key *k, uint32_t n, unsigned tag)
{
	assert_true(n >= 2 && n <= 16);
	w->n = n;
	for (uint32_t i = 0; i < n; i++) {
		char topic[64], body[32];
		frame_fields f = sample();
		snprintf(topic, sizeof topic, "price.update.T%u", i % 3);
		snprintf(body, sizeof body, "w%u-%u", tag, i);
		f.topic = topic;
		f.topic_len = strlen(topic);
		f.body = (const uint8_t *)body;
		f.body_len = strlen(body);
		f.seq = i + 1;
		assert_true(frame_size_bound(&f) <= WCAP);
		w->len[i] = frame_encode(&f, w->buf[i], WCAP, &w->sl[i], NULL, 0);
		assert_true(w->len[i] > 0);
		w->topic_len[i] = f.topic_len;
		frame_window_begin(w->buf[i], f.topic_len);
		assert_int_equal(sig_leaf(w->buf[i], w->sl[i], w->t.node[i]), 0);
	}
	assert_int_equal(sig_tree_build(&w->t, n), 0);
	assert_int_equal(sig_sign_tree(k, &w->t, w->sig), 0);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t path[FRAME_PATH_MAX];
		size_t plen = sig_tree_proof(&w->t, i, path);
		assert_int_equal(plen, 32 * frame_window_depth(i, n));
		w->len[i] = frame_attach_proof(w->buf[i], w->sl[i], sig_key_pub(k), w->sig, i, n, path, plen);
		assert_true(w->len[i] > 0);
	}
}

/* Decodes bytes and runs the trust check: -1 when they do not even decode. */
static int
window_check(const sig_trust *t, const uint8_t *b, size_t n, sig_wcache *c)
{
	frame_view v;
	char err[160];
	if (frame_decode(b, n, &v, err, sizeof err) != 0)
		return -1;
	sig_proof pr = { v.win_index, v.win_count, v.win_path, v.win_path_len };
	return (int)sig_check_window(t, v.topic, v.topic_len, b, v.signed_len, v.key, v.sig, &pr, c);
}

static sig_trust *
trust_for_key(const sig_key *k)
{
	char spec[200], pubhex[65], err[128];
	for (int i = 0; i < 32; i++)
		snprintf(pubhex + 2 * i, 3, "%02x", sig_key_pub(k)[i]);
	snprintf(spec, sizeof spec, "price.update.=%s", pubhex);
	sig_trust *t = sig_trust_parse(spec, err, sizeof err);
	assert_non_null(t);
	return t;
}

static void
tagged(const char *tag, const uint8_t *p, size_t n, uint8_t out[32])
{
	assert_true(secp256k1_tagged_sha256(ob_secp(), out, (const unsigned char *)tag, strlen(tag), p, n));
}

static void
node_of(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
	uint8_t both[64];
	memcpy(both, l, 32);
	memcpy(both + 32, r, 32);
	tagged("oraclebus/node", both, 64, out);
}

/* Round trip of windows of every size up to 16: each frame decodes to its fields and its place, and
 * checks alone. For 5 frames the signed message is recomputed here by hand from the layout in sig.h
 * (libsecp256k1's own tagged hash, the odd last leaf moving up), so the tree is checked against an
 * independent expectation, not against itself. */
static void
test_window_roundtrip(void **state)
{
	(void)state;
	uint8_t secret[32];
	memset(secret, 0x21, 32);
	sig_key *k = sig_key_new(secret);
	sig_trust *t = trust_for_key(k);
	window *w = calloc(1, sizeof *w);
	for (uint32_t n = 2; n <= 16; n++) {
		window_make(w, k, n, n);
		for (uint32_t i = 0; i < n; i++) {
			frame_view v;
			char err[160];
			assert_int_equal(frame_decode(w->buf[i], w->len[i], &v, err, sizeof err), 0);
			assert_int_equal(v.win_index, i);
			assert_int_equal(v.win_count, n);
			assert_int_equal(v.win_path_len, 32 * frame_window_depth(i, n));
			assert_int_equal(v.signed_len, w->sl[i]);
			assert_int_equal(v.seq, i + 1);
			assert_memory_equal(v.key, sig_key_pub(k), 32);
			assert_memory_equal(v.sig, w->sig, 64);
			assert_int_equal(window_check(t, w->buf[i], w->len[i], NULL), SIG_OK);
		}
	}
	window_make(w, k, 5, 99);
	uint8_t l[5][32], a[32], b[32], c[32], top[32], msg[32], in[36] = { 0, 0, 0, 5 };
	for (int i = 0; i < 5; i++)
		tagged("oraclebus/leaf", w->buf[i], w->sl[i], l[i]);
	assert_memory_equal(l[0], w->t.node[0], 32); /* OpenSSL midstates give BIP-340's tagged hash */
	node_of(l[0], l[1], a);
	node_of(l[2], l[3], b);
	node_of(a, b, c);
	node_of(c, l[4], top);
	memcpy(in + 4, top, 32);
	tagged("oraclebus/window", in, sizeof in, msg);
	secp256k1_xonly_pubkey pk;
	assert_true(secp256k1_xonly_pubkey_parse(ob_secp(), &pk, sig_key_pub(k)));
	assert_true(secp256k1_schnorrsig_verify(ob_secp(), w->sig, msg, 32, &pk));
	/* the depths of that shape: index 4 climbs two levels alone */
	assert_int_equal(frame_window_depth(0, 5), 3);
	assert_int_equal(frame_window_depth(4, 5), 1);
	assert_int_equal(frame_window_depth(5, 5), 0);
	assert_int_equal(frame_window_depth(0, 1), 0);
	assert_int_equal(frame_window_depth(0, FRAME_WINDOW_MAX), 10);
	assert_int_equal(frame_window_depth(0, FRAME_WINDOW_MAX + 1), 0);
	free(w);
	sig_trust_free(t);
	sig_key_free(k);
}

/* Re-attaches frame i's key, signature and a given proof (the bytes before them unchanged). */
static size_t
window_reproof(const window *w, uint32_t i, const sig_key *k, const uint8_t sig[64], uint32_t index, uint32_t count,
               const uint8_t *path, size_t plen, uint8_t *out)
{
	memcpy(out, w->buf[i], w->sl[i]);
	return frame_attach_proof(out, w->sl[i], sig_key_pub(k), sig, index, count, path, plen);
}

/* Every way of tampering with a windowed frame is rejected. */
static void
test_window_tamper(void **state)
{
	(void)state;
	uint8_t secret[32], out[WCAP], path[FRAME_PATH_MAX];
	memset(secret, 0x22, 32);
	sig_key *k = sig_key_new(secret), *other = sig_key_generate();
	sig_trust *t = trust_for_key(k);
	window *w = calloc(1, sizeof *w), *w2 = calloc(1, sizeof *w2);
	window_make(w, k, 4, 1);
	window_make(w2, k, 4, 2);
	frame_view v;
	char err[160];
	assert_int_equal(frame_decode(w->buf[0], w->len[0], &v, err, sizeof err), 0);
	assert_int_equal(v.win_path_len, 64);
	const uint8_t *p0 = v.win_path;

	/* a flipped bit anywhere in what the leaf covers, or in the signature or the path */
	for (size_t i = 0; i < w->len[0]; i++) {
		if (i >= w->sl[0] && i < w->sl[0] + 2 + 32 + 2)
			continue; /* the key: another key is "untrusted", checked below */
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(out, w->buf[0], w->len[0]);
			out[i] ^= (uint8_t)(1 << bit);
			int r = window_check(t, out, w->len[0], NULL);
			if (r == SIG_OK)
				fail_msg("flipping bit %d of byte %zu still verifies", bit, i);
		}
	}
	/* the right proof still verifies through the same helper (so the rejections above mean something) */
	size_t n = window_reproof(w, 0, k, w->sig, 0, 4, p0, 64, out);
	assert_int_equal(window_check(t, out, n, NULL), SIG_OK);
	/* wrong index, same path length */
	n = window_reproof(w, 0, k, w->sig, 1, 4, p0, 64, out);
	assert_int_equal(window_check(t, out, n, NULL), SIG_BAD);
	n = window_reproof(w, 0, k, w->sig, 2, 4, p0, 64, out);
	assert_int_equal(window_check(t, out, n, NULL), SIG_BAD);
	/* wrong count: a truncated window (3: the same depth for index 0) */
	n = window_reproof(w, 0, k, w->sig, 0, 3, p0, 64, out);
	assert_int_equal(window_check(t, out, n, NULL), SIG_BAD);
	/* an extended one (5: depth 3) cannot even be written with this path, nor decoded */
	assert_int_equal(window_reproof(w, 0, k, w->sig, 0, 5, p0, 64, out), 0);
	sig_proof pr = { 0, 5, p0, 64 };
	assert_int_equal(sig_check_window(t, v.topic, v.topic_len, w->buf[0], w->sl[0], v.key, v.sig, &pr, NULL),
	                 SIG_BAD);
	/* swapped siblings */
	memcpy(path, p0 + 32, 32);
	memcpy(path + 32, p0, 32);
	n = window_reproof(w, 0, k, w->sig, 0, 4, path, 64, out);
	assert_int_equal(window_check(t, out, n, NULL), SIG_BAD);
	/* the proof and signature of another window, at the same place */
	assert_int_equal(frame_decode(w2->buf[0], w2->len[0], &v, err, sizeof err), 0);
	n = window_reproof(w, 0, k, w2->sig, 0, 4, v.win_path, 64, out);
	assert_int_equal(window_check(t, out, n, NULL), SIG_BAD);
	/* a frame of window 2 with window 1's signature (its own proof) */
	n = window_reproof(w2, 1, k, w->sig, 1, 4, v.win_path, 64, out); /* w2 frame 1's path differs: any */
	assert_int_equal(window_check(t, out, n, NULL), SIG_BAD);
	/* truncated proof: one sibling short does not decode; the checker refuses it too */
	assert_int_equal(frame_decode(w->buf[0], w->len[0], &v, err, sizeof err), 0);
	memcpy(out, w->buf[0], w->len[0]);
	n = w->len[0];
	out[n - 64 - 2] = 0;
	out[n - 64 - 1] = 32; /* bin16 length 64 -> 32 */
	expect_error(out, n - 32, "proof path");
	pr = (sig_proof){ 0, 4, v.win_path, 32 };
	assert_int_equal(sig_check_window(t, v.topic, v.topic_len, w->buf[0], w->sl[0], v.key, v.sig, &pr, NULL),
	                 SIG_BAD);
	/* every truncation of the whole frame is a decode error */
	for (size_t i = 0; i < w->len[0]; i++)
		assert_int_equal(frame_decode(w->buf[0], i, &v, err, sizeof err), -1);
	/* the window's signature is no frame signature: strip the proof, back to 9 elements */
	memcpy(out, w->buf[0], w->sl[0] + 100);
	out[w->topic_len[0] + 1] = 0x99;
	assert_int_equal(window_check(t, out, w->sl[0] + 100, NULL), SIG_BAD);
	/* nor is a frame signature a window's: a frame signed alone, given a proof */
	uint8_t fsig[64];
	memcpy(out, w->buf[0], w->sl[0]);
	assert_int_equal(sig_sign(k, out, w->sl[0], fsig), 0);
	n = window_reproof(w, 0, k, fsig, 0, 4, p0, 64, out);
	assert_int_equal(window_check(t, out, n, NULL), SIG_BAD);
	/* a valid window by a key the topic does not trust */
	window_make(w2, other, 4, 3);
	assert_int_equal(window_check(t, w2->buf[2], w2->len[2], NULL), SIG_UNTRUSTED);
	free(w);
	free(w2);
	sig_trust_free(t);
	sig_key_free(k);
	sig_key_free(other);
}

/* The proof element's decoder: shapes that are no proof are decode errors, each named. */
static void
test_window_decode_rejects(void **state)
{
	(void)state;
	uint8_t secret[32], out[WCAP + 16];
	memset(secret, 0x23, 32);
	sig_key *k = sig_key_new(secret);
	window *w = calloc(1, sizeof *w);
	window_make(w, k, 2, 7);
	size_t n = w->len[0], p = w->sl[0] + 100; /* offset of the proof */
	frame_view v;
	char err[160];
	assert_int_equal(frame_decode(w->buf[0], n, &v, err, sizeof err), 0);
	/* bytes 0x93, index 0, count 2, 0xc5 0x00 0x20, 32 bytes */
	assert_int_equal(n, p + 1 + 1 + 1 + 3 + 32);
	memcpy(out, w->buf[0], n);
	out[p] = 0x92;
	expect_error(out, n, "proof: expected array of 3");
	memcpy(out, w->buf[0], n);
	out[p + 2] = 1; /* count 1 */
	expect_error(out, n, "want index < count");
	memcpy(out, w->buf[0], n);
	out[p + 1] = 2; /* index 2 of 2 */
	expect_error(out, n, "want index < count");
	memcpy(out, w->buf[0], n);
	out[n] = 0xc0;
	expect_error(out, n + 1, "trailing");
	/* count past FRAME_WINDOW_MAX (uint16 1025): the rest shifts by two bytes */
	memcpy(out, w->buf[0], p + 2);
	out[p + 2] = 0xcd;
	out[p + 3] = 0x04;
	out[p + 4] = 0x01;
	memcpy(out + p + 5, w->buf[0] + p + 3, n - p - 3);
	expect_error(out, n + 2, "count 1025");
	/* a proof without key and sig */
	memcpy(out, w->buf[0], w->sl[0]);
	out[w->sl[0]] = 0xc0;
	out[w->sl[0] + 1] = 0xc0;
	memcpy(out + w->sl[0] + 2, w->buf[0] + p, n - p);
	expect_error(out, w->sl[0] + 2 + (n - p), "needs key and sig");
	/* a 9-element frame followed by a proof: trailing bytes, not a proof */
	memcpy(out, w->buf[0], n);
	out[w->topic_len[0] + 1] = 0x99;
	expect_error(out, n, "trailing");
	free(w);
	sig_key_free(k);
}

/* The cache of verified windows: one verification per window for all its frames, a bound that
 * frames from a peer cannot push past, and no shortcut for a frame whose signature bytes differ. */
static void
test_window_cache(void **state)
{
	(void)state;
	uint8_t secret[32], out[WCAP];
	memset(secret, 0x24, 32);
	sig_key *k = sig_key_new(secret);
	sig_trust *t = trust_for_key(k);
	sig_wcache *c = sig_wcache_new();
	window *w = calloc(1, sizeof *w), *first = calloc(1, sizeof *first);
	window_make(w, k, 16, 1000);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(window_check(t, w->buf[i], w->len[i], c), SIG_OK);
	assert_int_equal(sig_wcache_verifications(c), 1);
	assert_int_equal(sig_wcache_count(c), 1);
	/* a cached window, a frame of it with another (invalid) signature: verified, and rejected */
	memcpy(out, w->buf[3], w->len[3]);
	out[w->sl[3] + 2 + 32 + 2 + 5] ^= 1;
	assert_int_equal(window_check(t, out, w->len[3], c), SIG_BAD);
	assert_int_equal(sig_wcache_verifications(c), 2);
	/* a tampered leaf of a cached window: the fold gives another root, rejected */
	memcpy(out, w->buf[3], w->len[3]);
	out[w->sl[3] - 1] ^= 1; /* last body byte */
	assert_int_equal(window_check(t, out, w->len[3], c), SIG_BAD);
	/* forged windows fill nothing: each is verified and refused */
	for (unsigned i = 0; i < 3 * SIG_WCACHE_SLOTS; i++) {
		window_make(w, k, 2, 2000 + i);
		memcpy(out, w->buf[0], w->len[0]);
		out[w->sl[0] + 2 + 32 + 2 + 7] ^= 0x10;
		assert_int_equal(window_check(t, out, w->len[0], c), SIG_BAD);
	}
	assert_int_equal(sig_wcache_count(c), 1);
	/* many valid windows: the cache keeps SIG_WCACHE_SLOTS, the least recently used go */
	window_make(first, k, 2, 3000);
	assert_int_equal(window_check(t, first->buf[0], first->len[0], c), SIG_OK);
	uint64_t v0 = sig_wcache_verifications(c);
	for (unsigned i = 1; i <= 4 * SIG_WCACHE_SLOTS; i++) {
		window_make(w, k, 2, 3000 + i);
		assert_int_equal(window_check(t, w->buf[0], w->len[0], c), SIG_OK);
		assert_true(sig_wcache_count(c) <= SIG_WCACHE_SLOTS);
	}
	assert_int_equal(sig_wcache_count(c), SIG_WCACHE_SLOTS);
	assert_int_equal(sig_wcache_verifications(c) - v0, 4 * SIG_WCACHE_SLOTS);
	assert_int_equal(window_check(t, w->buf[1], w->len[1], c), SIG_OK); /* the last: cached */
	assert_int_equal(sig_wcache_verifications(c) - v0, 4 * SIG_WCACHE_SLOTS);
	assert_int_equal(window_check(t, first->buf[1], first->len[1], c), SIG_OK); /* the first: evicted */
	assert_int_equal(sig_wcache_verifications(c) - v0, 4 * SIG_WCACHE_SLOTS + 1);
	free(w);
	free(first);
	sig_wcache_free(c);
	sig_trust_free(t);
	sig_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_matches_golden), cmocka_unit_test(test_decode_golden),
		cmocka_unit_test(test_decode_rejects),        cmocka_unit_test(test_encode_rejects),
		cmocka_unit_test(test_roundtrip_sizes),       cmocka_unit_test(test_sign_verify_trust),
		cmocka_unit_test(test_bip340_vector_pubkey),  cmocka_unit_test(test_trust_bounds),
		cmocka_unit_test(test_window_roundtrip),      cmocka_unit_test(test_window_tamper),
		cmocka_unit_test(test_window_decode_rejects), cmocka_unit_test(test_window_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
