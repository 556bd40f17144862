/* tx_bench.c — signed update transactions per second against raw libsecp256k1 signing, and
 * Keccak-256 throughput. Every figure is reported as a ratio against a baseline measured in this
 * same process (never a pass/fail on time): machines differ, ratios travel.
 *
 * full path per transaction: ABI-encode updateAnswer(int256) with a fresh answer, lay out a
 * legacy EIP-155 transaction (chain 138, zero gas price), Keccak its signing payload, sign
 * (RFC 6979, recoverable), RLP-encode the raw bytes and hash them (the tx hash).
 * baseline: secp256k1_ecdsa_sign_recoverable on a precomputed 32-byte hash, nothing else. */
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain/abi.h"
#include "base/keccak.h"
#include "chain/tx.h"

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* anvil's first public development key: never a real secret */
static const uint8_t key[32] = { 0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6,
	                         0xb4, 0xd2, 0x38, 0xff, 0x94, 0x4b, 0xac, 0xb4, 0x78, 0xcb, 0xed,
	                         0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80 };

static volatile uint8_t sink;

static double
bench_raw(int n)
{
	secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
	uint8_t seed[32] = { 1 }, h[32];
	if (!secp256k1_context_randomize(c, seed))
		return 0;
	kec_256("x", 1, h);
	double t0 = now();
	for (int i = 0; i < n; i++) {
		secp256k1_ecdsa_recoverable_signature sig;
		h[0] = (uint8_t)i; /* distinct messages, as real updates are */
		h[1] = (uint8_t)(i >> 8);
		if (!secp256k1_ecdsa_sign_recoverable(c, &sig, h, key, NULL, NULL))
			return 0;
		sink ^= sig.data[0];
	}
	double dt = now() - t0;
	secp256k1_context_destroy(c);
	return n / dt;
}

static double
bench_full(int n)
{
	abi_sig s;
	abi_val v[2];
	uint8_t data[64], raw[256], h[32];
	size_t dn, rn;
	if (abi_parse_sig(&s, "updateAnswer(int256)", NULL) != ABI_OK)
		return 0;
	tx t = { 0 };
	t.type = TX_LEGACY;
	t.chain_id = 138;
	t.gas_limit = 100000;
	t.has_to = 1;
	memset(t.to, 0x5f, 20);
	t.data = data;
	double t0 = now();
	for (int i = 0; i < n; i++) {
		abi_v_list(&v[0], 1, 2);
		abi_v_i64(&v[1], 200000000000LL + i);
		if (abi_encode(&s, v, 2, 1, data, sizeof data, &dn) != ABI_OK)
			return 0;
		t.data_len = dn;
		t.nonce = (uint64_t)i;
		if (tx_sign(&t, key) != TX_OK || tx_encode(&t, raw, sizeof raw, &rn) != TX_OK)
			return 0;
		tx_hash(raw, rn, h);
		sink ^= h[0];
	}
	return n / (now() - t0);
}

static double
bench_keccak(size_t total)
{
	static uint8_t buf[1 << 20];
	uint8_t h[32];
	memset(buf, 0xa5, sizeof buf);
	double t0 = now();
	for (size_t done = 0; done < total; done += sizeof buf) {
		kec_256(buf, sizeof buf, h);
		buf[0] = h[0];
	}
	return (double)total / (now() - t0) / 1e6;
}

/* baseline for keccak: memcpy bandwidth of the same buffer size in this process */
static double
bench_memcpy(size_t total)
{
	static uint8_t a[1 << 20], b[1 << 20];
	double t0 = now();
	for (size_t done = 0; done < total; done += sizeof a) {
		memcpy(b, a, sizeof a);
		a[done % sizeof a] = b[7];
	}
	return (double)total / (now() - t0) / 1e6;
}

int
main(void)
{
	int n = 20000;
	bench_full(200); /* warm up: creates the shared context */
	double raw = bench_raw(n), full = bench_full(n);
	if (raw == 0 || full == 0) {
		printf("bench failed\n");
		return 1;
	}
	printf("raw secp256k1_ecdsa_sign_recoverable   %9.0f sig/s  (baseline)\n", raw);
	printf("updateAnswer(int256) signed legacy tx  %9.0f tx/s   ratio %.2f of raw signing\n", full, full / raw);
	double k = bench_keccak(256u << 20), m = bench_memcpy(2048u << 20);
	printf("keccak-256 (1 MiB blocks)              %9.1f MB/s   ratio %.4f of memcpy (%.0f MB/s)\n", k, k / m, m);
	uint8_t h[32];
	double t0 = now();
	for (int i = 0; i < 1000000; i++) {
		kec_256(h, 32, h);
	}
	double per = (now() - t0) / 1e6 * 1e9;
	printf("keccak-256 of 32 bytes                 %9.0f ns/hash  ratio %.4f of one raw signature\n", per,
	       per / (1e9 / raw));
	sink ^= h[0];
	return 0;
}
