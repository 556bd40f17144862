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
#include <stdio.h>
#include <string.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_matches_golden), cmocka_unit_test(test_decode_golden),
		cmocka_unit_test(test_decode_rejects),        cmocka_unit_test(test_encode_rejects),
		cmocka_unit_test(test_roundtrip_sizes),       cmocka_unit_test(test_sign_verify_trust),
		cmocka_unit_test(test_bip340_vector_pubkey),  cmocka_unit_test(test_trust_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
