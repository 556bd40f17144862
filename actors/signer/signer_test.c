/*
 * Unit tests of the signer's parts: the update call for the three signatures (vectors from
 * `cast calldata`), the policy checks (a table of cases), fee bumps, and the durable core in a
 * temporary LMDB (nonce sync, contiguous nonces, dedupe, reopen, acks, finished txs, gap re-queue,
 * nonce jump, bump replacements), every published tx decoded and its sender recovered.
 * The key is anvil's public dev key #1.
 */
#include <errno.h>
#include <lmdb.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "actors/signer/call.h"
#include "actors/signer/fees.h"
#include "actors/signer/policy.h"
#include "actors/signer/signer.h"
#include "base/rt_config.h"
#include "store/store.h"
#include "base/hex.h"
#include "chain/batch.h"
#include "chain/tx.h"

static const char *KEY_HEX = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
static const char *ADDR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
static const char *CON = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

static void
i256_set(u256 *v, const char *dec)
{
	assert_int_equal(i256_from_dec(v, dec, strlen(dec)), 0);
}

static void
mk_update(sc_price_update *u, const char *feed, const char *answer)
{
	memset(u, 0, sizeof *u);
	snprintf(u->feed, sizeof u->feed, "%s", feed);
	i256_set(&u->answer, answer);
	u->decimals = 8;
	u->chain_id = 138;
	assert_int_equal(hex_addr_parse(CON, strlen(CON), u->contract), 0);
}

static void
expect_hex(const uint8_t *b, size_t n, const char *hex)
{
	char out[2 * 512 + 3];
	assert_true(n <= 512);
	hex_encode(b, n, 1, out);
	assert_string_equal(out, hex);
}

/* ---- the update call ----------------------------------------------------------------------- */

static void
test_call_three_signatures(void **st)
{
	(void)st;
	static const struct {
		const char *sig, *answer, *round, *calldata;
		int rv;
	} cases[] = {
		{ "updateAnswer(int256)", "-123456789", "0",
		  "0xa87a20cefffffffffffffffffffffffffffffffffffffffffffffffffffffffff8a432eb", SGP_OK },
		{ "updateAnswer(uint256)", "300000000000", "0",
		  "0x8e9b00ba00000000000000000000000000000000000000000000000000000045d964b800", SGP_OK },
		{ "updateAnswer(uint256)", "-1", "0", NULL, SGP_NEGATIVE },
		{ "submit(uint256,int256)", "5", "7",
		  "0x202ee0ed0000000000000000000000000000000000000000000000000000000000000007"
		  "0000000000000000000000000000000000000000000000000000000000000005",
		  SGP_OK },
		{ "submit(uint256,int256)", "-5", "7",
		  "0x202ee0ed0000000000000000000000000000000000000000000000000000000000000007"
		  "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffb",
		  SGP_OK },
		/* int128 answer out of range: refused, not truncated */
		{ "updateAnswer(int128)", "340282366920938463463374607431768211456", "0", NULL, SGP_ENCODE },
	};
	for (size_t i = 0; i < OB_COUNT(cases); i++) {
		sgc_call c;
		sc_price_update u;
		uint8_t out[256];
		size_t len = 0;
		char err[200];
		assert_int_equal(sgc_init(&c, cases[i].sig, err, sizeof err), 0);
		mk_update(&u, "ETH-USD", cases[i].answer);
		assert_int_equal(u256_from_dec(&u.round_id, cases[i].round, strlen(cases[i].round)), 0);
		assert_int_equal(sgc_build(&c, &u, out, sizeof out, &len), cases[i].rv);
		if (cases[i].calldata)
			expect_hex(out, len, cases[i].calldata);
	}
	/* shapes the signer cannot fill are refused at start */
	static const char *const bad[] = { "updateAnswer(string)", "f()", "f(uint256,uint256,int256)",
		                           "submit(int256,int256)", "updateAnswer(int256" };
	for (size_t i = 0; i < OB_COUNT(bad); i++) {
		sgc_call c;
		char err[200];
		assert_int_equal(sgc_init(&c, bad[i], err, sizeof err), -1);
		assert_true(strstr(err, "UPDATE_SIGNATURE") != NULL);
	}
}

/* ---- policy ---------------------------------------------------------------------------------- */

static void
base_policy(sgp_policy *p)
{
	char err[200];
	sgp_free(p); /* zeroes it; a policy reused by the next test gives its lists back */
	p->chain_id = 138;
	p->max_gas_limit = 500000;
	assert_int_equal(sgp_add_contract(p, CON, err, sizeof err), 0);
	assert_int_equal(sgp_add_selector(p, "transfer(address,uint256)", err, sizeof err), 0);
	assert_int_equal(sgp_add_selector(p, "0x12345678", err, sizeof err), 0);
	assert_int_equal(sgp_set_bound(p->min_answer, "0.01", "MIN_ANSWER", err, sizeof err), 0);
	assert_int_equal(sgp_set_bound(p->max_answer, "1000000", "MAX_ANSWER", err, sizeof err), 0);
	p->max_change_ppm = 100000; /* 10 % */
	json_error_t je;
	json_t *j = json_loads("[{\"feed\":\"BTC-USD\",\"aggregator\":\"0x00000000000000000000000000000000000000b7\","
	                       "\"min_answer\":\"-50\",\"max_answer\":200000,\"max_change\":\"50\"}]",
	                       0, &je);
	assert_non_null(j);
	assert_int_equal(sgp_load_feeds(p, j, err, sizeof err), 0);
	json_decref(j);
}

/* The lists' bounds: exactly SGP_MAX_* are taken (the arrays grow to them), one more is refused
 * with a message naming the bound; nothing is kept half-added. */
static void
test_policy_bounds(void **st)
{
	(void)st;
	sgp_policy p = { 0 };
	char err[200], a[43], want[80];
	for (int i = 0; i < SGP_MAX_CONTRACTS; i++) {
		snprintf(a, sizeof a, "0x%040x", i + 1);
		assert_int_equal(sgp_add_contract(&p, a, err, sizeof err), 0);
	}
	assert_int_equal(p.ncontracts, SGP_MAX_CONTRACTS);
	assert_int_equal(sgp_add_contract(&p, "0x00000000000000000000000000000000000000b7", err, sizeof err), -1);
	snprintf(want, sizeof want, "more than %d allowed contracts", SGP_MAX_CONTRACTS);
	assert_string_equal(err, want);
	uint8_t last[20] = { 0 };
	last[18] = (uint8_t)(SGP_MAX_CONTRACTS >> 8), last[19] = (uint8_t)SGP_MAX_CONTRACTS;
	assert_memory_equal(p.contracts[SGP_MAX_CONTRACTS - 1], last, 20);
	for (int i = 0; i < SGP_MAX_SELECTORS; i++) {
		snprintf(a, sizeof a, "0x%08x", i);
		assert_int_equal(sgp_add_selector(&p, a, err, sizeof err), 0);
	}
	assert_int_equal(sgp_add_selector(&p, "0xffffffff", err, sizeof err), -1);
	snprintf(want, sizeof want, "more than %d allowed selectors", SGP_MAX_SELECTORS);
	assert_string_equal(err, want);
	assert_int_equal(p.nselectors, SGP_MAX_SELECTORS);
	json_t *feeds = json_array();
	for (int i = 0; i < SGP_MAX_FEEDS + 1; i++) {
		char name[24];
		snprintf(name, sizeof name, "F%d-USD", i);
		json_array_append_new(feeds, json_pack("{s:s}", "feed", name));
	}
	assert_int_equal(sgp_load_feeds(&p, feeds, err, sizeof err), -1);
	snprintf(want, sizeof want, "%d feeds, at most %d", SGP_MAX_FEEDS + 1, SGP_MAX_FEEDS);
	assert_string_equal(err, want);
	assert_int_equal(p.nfeeds, 0);
	json_array_remove(feeds, 0);
	assert_int_equal(sgp_load_feeds(&p, feeds, err, sizeof err), 0);
	assert_int_equal(p.nfeeds, SGP_MAX_FEEDS);
	snprintf(a, sizeof a, "F%d-USD", SGP_MAX_FEEDS);
	assert_non_null(sgp_feed_find(&p, a));
	assert_null(sgp_feed_find(&p, "F0-USD"));
	json_decref(feeds);
	sgp_free(&p);
	assert_null(p.feeds);
	assert_int_equal(p.ncontracts, 0);
}

static void
test_policy_table(void **st)
{
	(void)st;
	sgp_policy p = { 0 };
	base_policy(&p);
	static const struct {
		const char *feed, *answer, *prev, *contract;
		uint64_t chain, decimals;
		int want;
	} cases[] = {
		{ "ETH-USD", "300000000000", NULL, NULL, 138, 8, SGP_OK },
		{ "ETH-USD", "300000000000", NULL, NULL, 1, 8, SGP_CHAIN_ID },
		{ "ETH-USD", "300000000000", NULL, "0x00000000000000000000000000000000000000b7", 138, 8, SGP_CONTRACT },
		{ "ETH-USD", "1000000", NULL, NULL, 138, 8, SGP_OK },       /* 0.01: the minimum itself */
		{ "ETH-USD", "999999", NULL, NULL, 138, 8, SGP_BELOW_MIN }, /* 0.00999999 */
		{ "ETH-USD", "-1", NULL, NULL, 138, 8, SGP_BELOW_MIN },
		{ "ETH-USD", "100000000000000", NULL, NULL, 138, 8, SGP_OK }, /* 1000000.00000000 */
		{ "ETH-USD", "100000000000001", NULL, NULL, 138, 8, SGP_ABOVE_MAX },
		{ "ETH-USD", "1000001", NULL, NULL, 138, 0, SGP_ABOVE_MAX }, /* same bound, 0 decimals */
		{ "ETH-USD", "110", "100", NULL, 138, 0, SGP_OK },           /* +10 %: at the limit */
		{ "ETH-USD", "111", "100", NULL, 138, 0, SGP_MAX_CHANGE },
		{ "ETH-USD", "90", "100", NULL, 138, 0, SGP_OK },
		{ "ETH-USD", "89", "100", NULL, 138, 0, SGP_MAX_CHANGE },
		/* per-feed: its own aggregator, bounds (negative min) and 50 % change */
		{ "BTC-USD", "100", NULL, NULL, 138, 0, SGP_CONTRACT },
		{ "BTC-USD", "-40", "-30", "0x00000000000000000000000000000000000000b7", 138, 0, SGP_OK },
		{ "BTC-USD", "-51", NULL, "0x00000000000000000000000000000000000000b7", 138, 0, SGP_BELOW_MIN },
		{ "BTC-USD", "200001", NULL, "0x00000000000000000000000000000000000000b7", 138, 0, SGP_ABOVE_MAX },
		{ "BTC-USD", "-46", "-30", "0x00000000000000000000000000000000000000b7", 138, 0, SGP_MAX_CHANGE },
	};
	for (size_t i = 0; i < OB_COUNT(cases); i++) {
		sc_price_update u;
		u256 prev;
		char detail[200];
		mk_update(&u, cases[i].feed, cases[i].answer);
		u.chain_id = cases[i].chain;
		u.decimals = cases[i].decimals;
		if (cases[i].contract)
			hex_addr_parse(cases[i].contract, strlen(cases[i].contract), u.contract);
		if (cases[i].prev)
			i256_set(&prev, cases[i].prev);
		int got = sgp_check_update(&p, &u, cases[i].prev ? &prev : NULL, detail, sizeof detail);
		if (got != cases[i].want)
			fail_msg("case %zu: got %s, want %s (%s)", i, sgp_reason_name(got),
			         sgp_reason_name(cases[i].want), detail);
		assert_true(got == SGP_OK || detail[0] != 0);
	}
	/* tx.request */
	static const struct {
		const char *to, *data;
		uint64_t chain, gas, value;
		int want;
	} rq[] = {
		{ NULL, "a9059cbb00", 138, 0, 0, SGP_OK },
		{ NULL, "1234567800", 138, 100000, 0, SGP_OK },
		{ NULL, "1234567800", 5, 0, 0, SGP_CHAIN_ID },
		{ "0x00000000000000000000000000000000000000b7", "a9059cbb", 138, 0, 0, SGP_CONTRACT },
		{ NULL, "deadbeef", 138, 0, 0, SGP_SELECTOR },
		{ NULL, "123456", 138, 0, 0, SGP_SELECTOR },
		{ NULL, "a9059cbb", 138, 0, 1, SGP_VALUE },
		{ NULL, "a9059cbb", 138, 500001, 0, SGP_GAS_LIMIT },
		{ NULL, "a9059cbb", 138, 500000, 0, SGP_OK },
		{ NULL, "a9059cbb", 138, 20999, 0, SGP_GAS_LIMIT }, /* below any tx's intrinsic gas */
	};
	for (size_t i = 0; i < OB_COUNT(rq); i++) {
		sc_tx_request r;
		size_t n;
		memset(&r, 0, sizeof r);
		r.chain_id = rq[i].chain;
		r.gas_limit = rq[i].gas;
		u256_from_u64(&r.value, rq[i].value);
		hex_addr_parse(rq[i].to ? rq[i].to : CON, 42, r.to);
		assert_int_equal(hex_decode(rq[i].data, strlen(rq[i].data), 0, r.data, sizeof r.data, &n, NULL), 0);
		r.data_len = (uint32_t)n;
		int got = sgp_check_request(&p, &r, NULL, 0);
		if (got != rq[i].want)
			fail_msg("request case %zu: got %s, want %s", i, sgp_reason_name(got),
			         sgp_reason_name(rq[i].want));
	}
	/* price.update's gas_limit (the gate's estimate): 0 = the signer's own, else within
	 * [21000, MAX_GAS_LIMIT] */
	static const struct {
		uint64_t gas;
		int want;
	} gl[] = { { 0, SGP_OK },
		   { 207292, SGP_OK },
		   { 500000, SGP_OK },
		   { 500001, SGP_GAS_LIMIT },
		   { 30000000, SGP_GAS_LIMIT },
		   { 20999, SGP_GAS_LIMIT },
		   { 21000, SGP_OK } };
	for (size_t i = 0; i < OB_COUNT(gl); i++) {
		sc_price_update u;
		char detail[200];
		mk_update(&u, "ETH-USD", "300000000000");
		u.gas_limit = gl[i].gas;
		int got = sgp_check_update(&p, &u, NULL, detail, sizeof detail);
		if (got != gl[i].want)
			fail_msg("gas case %zu: got %s, want %s", i, sgp_reason_name(got), sgp_reason_name(gl[i].want));
		if (got != SGP_OK)
			assert_non_null(strstr(detail, "gas limit"));
	}
	/* configuration errors */
	char err[200];
	assert_int_equal(sgp_add_contract(&p, "0x5FbDB2315678afecb367f032d93F642f64180aA3", err, sizeof err), -1);
	assert_int_equal(sgp_add_selector(&p, "0x1234", err, sizeof err), -1);
	assert_int_equal(sgp_set_bound(p.min_answer, "1,5", "MIN_ANSWER", err, sizeof err), -1);
	json_error_t je;
	json_t *j = json_loads("[{\"feed\":\"X\",\"maxx\":1}]", 0, &je);
	assert_int_equal(sgp_load_feeds(&p, j, err, sizeof err), -1);
	assert_true(strstr(err, "maxx") != NULL);
	json_decref(j);
	sgp_free(&p);
}

/* ---- fees ------------------------------------------------------------------------------------ */

static void
test_fees(void **st)
{
	(void)st;
	static const struct {
		uint64_t old, ppm, want;
	} raise[] = { { 0, 125000, 0 },
		      { 1, 125000, 2 },
		      { 8, 125000, 9 },
		      { 1000000000, 125000, 1125000000 },
		      { 1000000001, 125000, 1125000002 },
		      { 100, 0, 100 },
		      { 7, 100000, 8 } };
	for (size_t i = 0; i < OB_COUNT(raise); i++) {
		u256 o, r;
		u256_from_u64(&o, raise[i].old);
		sgf_raise(&r, &o, raise[i].ppm);
		assert_true(u256_fits_u64(&r));
		assert_int_equal(u256_low64(&r), raise[i].want);
	}
	sgf_cfg c;
	memset(&c, 0, sizeof c);
	c.bump_ppm = 125000;
	u256_from_u64(&c.max_gas_price, 100000000000ull);
	u256_from_u64(&c.max_fee_per_gas, 100000000000ull);
	u256_from_u64(&c.gas_price, 0);
	sgf_fees f, nf, old;
	sc_tx_bump b;
	sc_gas_quote q;
	memset(&b, 0, sizeof b);
	memset(&q, 0, sizeof q);
	/* legacy fixed zero: valid; a bump of zero with no minimum cannot raise anything */
	assert_int_equal(sgf_new(&c, NULL, &f), SGF_OK);
	assert_true(u256_is_zero(&f.gas_price));
	assert_int_equal(sgf_bump(&c, &f, &b, NULL, &nf), SGP_BUMP_NO_INCREASE);
	u256_from_u64(&b.min_gas_price, 5);
	assert_int_equal(sgf_bump(&c, &f, &b, NULL, &nf), SGF_OK);
	assert_int_equal(u256_low64(&nf.gas_price), 5);
	/* legacy 10 gwei: +12.5 % unless the minimum asks more; the cap refuses */
	u256_from_u64(&old.gas_price, 10000000000ull);
	old.eip1559 = 0;
	u256_from_u64(&b.min_gas_price, 11000000000ull);
	assert_int_equal(sgf_bump(&c, &old, &b, NULL, &nf), SGF_OK);
	assert_int_equal(u256_low64(&nf.gas_price), 11250000000ull);
	u256_from_u64(&b.min_gas_price, 12000000000ull);
	assert_int_equal(sgf_bump(&c, &old, &b, NULL, &nf), SGF_OK);
	assert_int_equal(u256_low64(&nf.gas_price), 12000000000ull);
	u256_from_u64(&b.min_gas_price, 100000000001ull);
	assert_int_equal(sgf_bump(&c, &old, &b, NULL, &nf), SGP_FEE_CAP);
	/* auto needs a quote */
	c.gas_auto = 1;
	assert_int_equal(sgf_new(&c, NULL, &f), SGF_NO_QUOTE);
	u256_from_u64(&q.gas_price, 3);
	assert_int_equal(sgf_new(&c, &q, &f), SGF_OK);
	assert_int_equal(u256_low64(&f.gas_price), 3);
	u256_from_u64(&q.gas_price, 100000000001ull);
	assert_int_equal(sgf_new(&c, &q, &f), SGP_FEE_CAP);
	/* eip1559: from the quote, max fee at least the tip; bump raises both */
	c.eip1559 = 1;
	u256_from_u64(&q.max_fee_per_gas, 1000);
	u256_from_u64(&q.max_priority_fee_per_gas, 2000);
	assert_int_equal(sgf_new(&c, &q, &f), SGF_OK);
	assert_int_equal(u256_low64(&f.max_fee), 2000);
	assert_int_equal(u256_low64(&f.max_priority), 2000);
	memset(&b, 0, sizeof b);
	u256_from_u64(&b.min_max_fee_per_gas, 2100);
	assert_int_equal(sgf_bump(&c, &f, &b, NULL, &nf), SGF_OK);
	assert_int_equal(u256_low64(&nf.max_fee), 2250);
	assert_int_equal(u256_low64(&nf.max_priority), 2250);
	u256_from_u64(&b.min_max_fee_per_gas, 100000000001ull);
	assert_int_equal(sgf_bump(&c, &f, &b, NULL, &nf), SGP_FEE_CAP);
}

/* ---- the durable core ------------------------------------------------------------------------ */

typedef struct {
	size_t n;
	uint8_t ids[64][16];
	uint8_t bodies[64][8192]; /* a tx.signed: its raw tx is up to SC_RAWTX_CAP */
	size_t lens[64];
} pubs;

static void
capture(void *arg, const uint8_t id[16], const uint8_t *body, size_t len)
{
	pubs *p = arg;
	assert_true(p->n < 64 && len <= sizeof p->bodies[0]);
	memcpy(p->ids[p->n], id, 16);
	memcpy(p->bodies[p->n], body, len);
	p->lens[p->n++] = len;
}

/* Decodes a published tx.signed, checks id = its hash prefix, the raw tx decodes and recovers to
 * the signer; returns the nonce. */
static uint64_t
check_body(const pubs *p, size_t i, sc_tx_signed *rec)
{
	sc_err e;
	tx t;
	uint8_t addr[20], want[20], h[32];
	assert_int_equal(sc_decode(&SC_TX_SIGNED, p->bodies[i], p->lens[i], rec, &e), 0);
	assert_memory_equal(rec->id, p->ids[i], 16);
	assert_int_equal(tx_decode(rec->raw, rec->raw_len, &t, NULL), TX_OK);
	assert_int_equal(tx_recover_sender(&t, addr), TX_OK);
	hex_addr_parse(ADDR, strlen(ADDR), want);
	assert_memory_equal(addr, want, 20);
	assert_memory_equal(rec->from, want, 20);
	tx_hash(rec->raw, rec->raw_len, h);
	assert_memory_equal(h, rec->tx_hash, 32);
	uint8_t be[8];
	st_key_u64(be, rec->nonce);
	assert_memory_equal(rec->id, be, 8);
	assert_memory_equal(rec->id + 8, h, 8);
	assert_int_equal(t.nonce, rec->nonce);
	assert_int_equal(t.chain_id, 138);
	return rec->nonce;
}

static sgp_policy g_pol;
static sgc_call g_call;
static uint8_t g_key[32];

static int g_allow_empty = 1; /* most tests start on a chain where the key already sent txs */
static sg_sign_fn g_sign;     /* set: the core signs through it, with no key (remote signing) */
static int g_pipeline;        /* open with a writer thread (sg_cfg.pipeline) */

/* Removes a test's LMDB directory. */
static void
rm_dir(const char *dir)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static sg *
open_core(const char *dir, uint64_t gas_price)
{
	sg_cfg c;
	char err[256];
	memset(&c, 0, sizeof c);
	base_policy(&g_pol);
	assert_int_equal(sgc_init(&g_call, "updateAnswer(int256)", err, sizeof err), 0);
	assert_int_equal(rt_parse_hex(KEY_HEX, g_key, 32), 0);
	c.chain_id = 138;
	c.gas_limit = 200000;
	c.policy = &g_pol;
	c.call = &g_call;
	c.fees.bump_ppm = 125000;
	u256_from_u64(&c.fees.gas_price, gas_price);
	u256_from_u64(&c.fees.max_gas_price, 100000000000ull);
	u256_from_u64(&c.fees.max_fee_per_gas, 100000000000ull);
	c.retry_ns = 1000000000;
	c.retry_max_ns = 10000000000ull;
	c.gap_grace_ns = 5000000000ull;
	c.allow_empty_state = g_allow_empty;
	c.pipeline = g_pipeline;
	if (g_sign) {
		c.sign = g_sign;
		hex_addr_parse(ADDR, strlen(ADDR), c.address);
	}
	sg *s = sg_open(dir, &c, g_sign ? NULL : g_key, err, sizeof err);
	if (s == NULL)
		fail_msg("sg_open: %s", err);
	return s;
}

static void
item_update(sg_item *it, uint8_t idbyte, const char *answer)
{
	memset(it, 0, sizeof *it);
	it->kind = SG_UPDATE;
	memset(it->msg_id, idbyte, 16);
	mk_update(&it->u, "ETH-USD", answer);
}

static void
item_sync(sg *s, sg_item *it, uint64_t latest, uint64_t pending)
{
	memset(it, 0, sizeof *it);
	it->kind = SG_SYNC;
	it->s.chain_id = 138;
	memcpy(it->s.address, sg_address(s), 20);
	it->s.latest_nonce = latest;
	it->s.pending_nonce = pending;
}

static void
run(sg *s, sg_item *items, size_t n, sg_result *res, uint64_t now, pubs *p)
{
	char err[256];
	memset(p, 0, sizeof *p);
	if (sg_process(s, items, n, res, now, capture, p, err, sizeof err) != 0)
		fail_msg("sg_process: %s", err);
}

static void
test_core(void **st)
{
	(void)st;
	char dir[] = "/tmp/signer_test_XXXXXX";
	assert_non_null(mkdtemp(dir));
	sg *s = open_core(dir, 1000000000);
	sg_item it[8];
	sg_result r[8];
	pubs *p = calloc(1, sizeof *p), *q = calloc(1, sizeof *q);
	sc_tx_signed rec;
	const uint64_t T = 1000000000000ull;

	/* before any nonce.sync: nothing is signed */
	assert_false(sg_synced(s));
	item_update(&it[0], 1, "300000000000");
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_DROPPED);
	assert_int_equal(r[0].reason, SG_DROP_NOT_SYNCED);
	assert_int_equal(p->n, 0);

	/* first sync, then a batch: contiguous nonces from the chain's pending nonce, a repeated id
	 * in the same batch returns the same tx, a refusal consumes no nonce */
	item_sync(s, &it[0], 5, 5);
	item_update(&it[1], 1, "300000000000");
	item_update(&it[2], 2, "301000000000");
	item_update(&it[3], 3, "999999999999999999"); /* above MAX_ANSWER */
	item_update(&it[4], 1, "300000000000");       /* same id as it[1] */
	item_update(&it[5], 4, "302000000000");
	run(s, it, 6, r, T, p);
	assert_int_equal(r[0].status, SG_R_DONE);
	assert_int_equal(r[1].status, SG_R_SIGNED);
	assert_int_equal(r[1].nonce, 5);
	assert_int_equal(r[2].nonce, 6);
	assert_int_equal(r[3].status, SG_R_REFUSED);
	assert_int_equal(r[3].reason, SGP_ABOVE_MAX);
	assert_int_equal(r[4].status, SG_R_DUPLICATE);
	assert_int_equal(r[4].nonce, 5);
	assert_int_equal(r[5].nonce, 7);
	assert_int_equal(p->n, 4);
	assert_int_equal(check_body(p, 0, &rec), 5);
	assert_string_equal(rec.ref, "01010101010101010101010101010101");
	assert_string_equal(rec.feed, "ETH-USD");
	assert_int_equal(check_body(p, 1, &rec), 6);
	assert_int_equal(check_body(p, 2, &rec), 5); /* the duplicate: byte-identical */
	assert_int_equal(p->lens[2], p->lens[0]);
	assert_memory_equal(p->bodies[2], p->bodies[0], p->lens[0]);
	assert_int_equal(check_body(p, 3, &rec), 7);
	assert_int_equal(sg_next_nonce(s), 8);
	assert_int_equal(sg_outbox_pending(s), 3);
	uint8_t id5[16], id6[16], id7[16], body6[2048];
	size_t len6 = p->lens[1];
	memcpy(id5, p->ids[0], 16);
	memcpy(id6, p->ids[1], 16);
	memcpy(id7, p->ids[3], 16);
	memcpy(body6, p->bodies[1], len6);

	/* a MAX_CHANGE refusal against the last signed answer (302000000000, +10 % max) */
	item_update(&it[0], 9, "340000000000");
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_REFUSED);
	assert_int_equal(r[0].reason, SGP_MAX_CHANGE);

	/* reopen (as after a crash): the nonce and the outbox survive, all of it is re-published */
	sg_close(s);
	s = open_core(dir, 1000000000);
	assert_true(sg_synced(s));
	assert_int_equal(sg_next_nonce(s), 8);
	char err[256];
	memset(q, 0, sizeof *q);
	assert_int_equal(sg_resend(s, T, 1, capture, q, err, sizeof err), 3);
	memset(q, 0, sizeof *q);
	assert_int_equal(sg_resend(s, T + 1, 0, capture, q, err, sizeof err), 0); /* not due yet */
	assert_int_equal(sg_resend(s, T + 3000000000ull, 0, capture, q, err, sizeof err), 3);

	/* acks empty the outbox; a repeated ack is ignored */
	memset(&it[0], 0, sizeof it[0]);
	it[0].kind = SG_ACK;
	memcpy(it[0].a.id, id5, 16);
	it[1] = it[0];
	memcpy(it[1].a.id, id6, 16);
	it[2] = it[0];
	memcpy(it[2].a.id, id7, 16);
	it[3] = it[0];
	run(s, it, 4, r, T, p);
	assert_int_equal(r[0].status, SG_R_DONE);
	assert_int_equal(r[1].nonce, 6);
	assert_int_equal(r[3].status, SG_R_IGNORED);
	assert_int_equal(sg_outbox_pending(s), 0);

	/* the node mined 5 and lost 6 and 7: 5 is finished; 6, 7 re-queued only after the grace */
	item_sync(s, &it[0], 6, 6);
	run(s, it, 1, r, T + 1000, p);
	assert_int_equal(r[0].finished, 1);
	assert_int_equal(r[0].requeued, 0);
	assert_int_equal(p->n, 0);
	run(s, it, 1, r, T + 6000000000ull, p);
	assert_int_equal(r[0].requeued, 2);
	assert_int_equal(p->n, 2);
	assert_int_equal(p->lens[0], len6);
	assert_memory_equal(p->bodies[0], body6, len6); /* the same signed bytes, not a new tx */
	assert_int_equal(sg_outbox_pending(s), 2);
	assert_false(r[0].jumped);

	/* the account was used elsewhere: jump, never reuse */
	item_sync(s, &it[0], 20, 21);
	item_update(&it[1], 5, "303000000000");
	run(s, it, 2, r, T, p);
	assert_true(r[0].jumped);
	assert_int_equal(r[0].jumped_from, 8);
	assert_int_equal(r[0].jumped_to, 21);
	assert_int_equal(r[0].finished, 2);
	assert_int_equal(sg_outbox_pending(s), 1);
	assert_int_equal(r[1].nonce, 21);
	sc_tx_signed old;
	check_body(p, 0, &old);

	/* bump: same nonce and data, fees +12.5 %, replaces the old hash; the old id leaves the outbox */
	memset(&it[0], 0, sizeof it[0]);
	it[0].kind = SG_BUMP;
	it[0].b.chain_id = 138;
	memcpy(it[0].b.from, sg_address(s), 20);
	it[0].b.nonce = 21;
	memcpy(it[0].b.tx_hash, old.tx_hash, 32);
	memcpy(it[0].b.id, old.id, 16);
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_SIGNED);
	sc_tx_signed nw;
	assert_int_equal(check_body(p, 0, &nw), 21);
	assert_memory_equal(nw.replaces, old.tx_hash, 32);
	assert_int_equal(u256_low64(&nw.gas_price), 1125000000);
	assert_string_equal(nw.ref, old.ref);
	tx t1, t2;
	assert_int_equal(tx_decode(old.raw, old.raw_len, &t1, NULL), 0);
	assert_int_equal(tx_decode(nw.raw, nw.raw_len, &t2, NULL), 0);
	assert_int_equal(t1.data_len, t2.data_len);
	assert_memory_equal(t1.data, t2.data, t1.data_len);
	assert_int_equal(sg_outbox_pending(s), 1);
	/* a bump for the replaced hash hands back the current tx; an unknown nonce is refused */
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_DUPLICATE);
	assert_int_equal(p->n, 1);
	assert_memory_equal(p->ids[0], nw.id, 16);
	it[0].b.nonce = 99;
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].reason, SGP_BUMP_UNKNOWN);
	/* the duplicate of update 5 now returns the bumped tx */
	item_update(&it[0], 5, "303000000000");
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_DUPLICATE);
	assert_memory_equal(p->ids[0], nw.id, 16);
	/* dedupe entries expire after their TTL */
	assert_int_equal(sg_prune(s, T + 1, err, sizeof err), 4);
	assert_int_equal(sg_next_nonce(s), 22);
	sg_close(s);
	free(p);
	free(q);
	rm_dir(dir);
}

/* The gas limit signed: the price.update's (the gate's estimate) when it has one, else GAS_LIMIT;
 * above MAX_GAS_LIMIT refused, consuming no nonce. */
static void
test_gas_limit(void **st)
{
	(void)st;
	char dir[] = "/tmp/signer_gas_XXXXXX";
	assert_non_null(mkdtemp(dir));
	sg *s = open_core(dir, 1000000000);
	sg_item it[4];
	sg_result r[4];
	pubs *p = calloc(1, sizeof *p);
	sc_tx_signed rec;
	tx t;
	const uint64_t T = 1000000000000ull;

	item_sync(s, &it[0], 0, 0);
	item_update(&it[1], 1, "300000000000");
	it[1].u.gas_limit = 248750; /* e.g. FluxAggregator's 207292 first submit + 20 % */
	item_update(&it[2], 2, "300000000000");
	it[2].u.gas_limit = 500001; /* above MAX_GAS_LIMIT (500000 in base_policy) */
	item_update(&it[3], 3, "300000000000");
	run(s, it, 4, r, T, p);
	assert_int_equal(r[1].status, SG_R_SIGNED);
	assert_int_equal(r[2].status, SG_R_REFUSED);
	assert_int_equal(r[2].reason, SGP_GAS_LIMIT);
	assert_non_null(strstr(r[2].detail, "MAX_GAS_LIMIT"));
	assert_int_equal(r[3].status, SG_R_SIGNED);
	assert_int_equal(r[3].nonce, 1); /* the refusal used no nonce */
	assert_int_equal(p->n, 2);
	check_body(p, 0, &rec);
	assert_int_equal(rec.gas_limit, 248750);
	assert_int_equal(tx_decode(rec.raw, rec.raw_len, &t, NULL), TX_OK);
	assert_int_equal(t.gas_limit, 248750); /* in the signed bytes, not only the message */
	check_body(p, 1, &rec);
	assert_int_equal(tx_decode(rec.raw, rec.raw_len, &t, NULL), TX_OK);
	assert_int_equal(t.gas_limit, 200000); /* none asked: the configured GAS_LIMIT */
	sg_close(s);
	free(p);
	rm_dir(dir);
}

/* ---- batches: many feeds in one transaction ----------------------------------------------------- */

static const char *MC = "0xcA11bde05977b3631167028862bE2a173976CA11";
static const char *BTC_AGG = "0x00000000000000000000000000000000000000b7";

static void
batch_entry(sc_price_update *u, const char *feed, const char *agg, const char *answer)
{
	sc_batch_entry *b = &u->batch[u->batch_count++];
	snprintf(b->feed, sizeof b->feed, "%s", feed);
	i256_set(&b->answer, answer);
	b->decimals = 8;
	assert_int_equal(hex_addr_parse(agg, strlen(agg), b->contract), 0);
}

static void
item_batch(sg_item *it, uint8_t idbyte, int call, const char *to)
{
	memset(it, 0, sizeof *it);
	it->kind = SG_UPDATE;
	memset(it->msg_id, idbyte, 16);
	mk_update(&it->u, "batch", "0");
	it->u.batch_call = call;
	it->u.gas_limit = 300000;
	assert_int_equal(hex_addr_parse(to, strlen(to), it->u.contract), 0);
}

/* The calldata the batch must carry: the same calls encoded by chain/batch.c (itself checked
 * against cast in chain/batch_test.c). */
static void
expect_batch_data(const sc_tx_signed *rec, int kind, const char *const *aggs, const char *const *answers, size_t n)
{
	tx t;
	cb_call c[4];
	uint8_t a[4][20], in[4][36], want[2048];
	size_t wl;
	memset(c, 0, sizeof c);
	for (size_t i = 0; i < n; i++) {
		sc_price_update u;
		assert_int_equal(hex_addr_parse(aggs[i], strlen(aggs[i]), a[i]), 0);
		mk_update(&u, "x", answers[i]);
		assert_int_equal(sgc_build(&g_call, &u, in[i], sizeof in[i], &c[i].len), SGP_OK);
		c[i].target = a[i];
		c[i].data = in[i];
		c[i].answer = u.answer;
	}
	assert_int_equal(cb_encode(kind, c, n, want, sizeof want, &wl), 0);
	assert_int_equal(tx_decode(rec->raw, rec->raw_len, &t, NULL), TX_OK);
	assert_int_equal(t.data_len, wl);
	assert_memory_equal(t.data, want, wl);
	uint8_t mc[20];
	hex_addr_parse(MC, strlen(MC), mc);
	assert_memory_equal(t.to, mc, 20);
	assert_int_equal(t.gas_limit, 300000);
}

static void
test_batch(void **st)
{
	(void)st;
	char dir[] = "/tmp/signer_batch_XXXXXX", err[200];
	assert_non_null(mkdtemp(dir));
	sg *s = open_core(dir, 1000000000);
	sg_item it[6];
	sg_result r[6];
	pubs *p = calloc(1, sizeof *p);
	sc_tx_signed rec;
	const uint64_t T = 1000000000000ull;

	/* Multicall3 is not allowed yet: the batch is refused as a whole, no nonce used */
	item_sync(s, &it[0], 3, 3);
	item_batch(&it[1], 1, SC_BATCH_AGGREGATE3, MC);
	batch_entry(&it[1].u, "ETH-USD", CON, "300000000000");
	run(s, it, 2, r, T, p);
	assert_int_equal(r[1].status, SG_R_REFUSED);
	assert_int_equal(r[1].reason, SGP_CONTRACT);
	assert_int_equal(p->n, 0);

	assert_int_equal(sgp_add_contract(&g_pol, MC, err, sizeof err), 0);
	/* ETH-USD signed; LTC-USD above MAX_ANSWER left out; BTC-USD to its own aggregator signed;
	 * an entry whose target is not the feed's aggregator is left out too (the policy per entry) */
	item_batch(&it[0], 2, SC_BATCH_AGGREGATE3, MC);
	batch_entry(&it[0].u, "ETH-USD", CON, "300000000000");
	batch_entry(&it[0].u, "LTC-USD", CON, "999999999999999999");
	batch_entry(&it[0].u, "BTC-USD", BTC_AGG, "10000000000");
	batch_entry(&it[0].u, "XRP-USD", BTC_AGG, "100000000");
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_SIGNED);
	assert_int_equal(r[0].nonce, 3);
	assert_int_equal(r[0].left_out, 2);
	assert_int_equal(r[0].left_reason, SGP_ABOVE_MAX);
	assert_non_null(strstr(r[0].detail, "LTC-USD"));
	assert_int_equal(p->n, 1);
	check_body(p, 0, &rec);
	assert_string_equal(rec.feed, "batch");
	{
		const char *aggs[] = { CON, BTC_AGG }, *ans[] = { "300000000000", "10000000000" };
		expect_batch_data(&rec, CB_AGGREGATE3, aggs, ans, 2);
	}
	/* the same id again: the stored tx, not a second one */
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_DUPLICATE);
	assert_int_equal(r[0].nonce, 3);

	/* the batch recorded each feed's answer: MAX_CHANGE (10 %) now applies from 3000 */
	item_update(&it[0], 3, "400000000000");
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_REFUSED);
	assert_int_equal(r[0].reason, SGP_MAX_CHANGE);

	/* updateAnswers: the answers, not calldata; every entry refused: refused, no nonce */
	item_batch(&it[0], 4, SC_BATCH_UPDATE_ANSWERS, MC);
	batch_entry(&it[0].u, "ETH-USD", CON, "310000000000");
	batch_entry(&it[0].u, "BTC-USD", BTC_AGG, "10100000000");
	item_batch(&it[1], 5, SC_BATCH_UPDATE_ANSWERS, MC);
	batch_entry(&it[1].u, "ETH-USD", CON, "1");
	item_batch(&it[2], 6, SC_BATCH_UPDATE_ANSWERS, MC); /* the same feed twice */
	batch_entry(&it[2].u, "ETH-USD", CON, "311000000000");
	batch_entry(&it[2].u, "ETH-USD", CON, "312000000000");
	item_batch(&it[3], 7, SC_BATCH_AGGREGATE3, MC); /* gas limit above MAX_GAS_LIMIT */
	batch_entry(&it[3].u, "ETH-USD", CON, "311000000000");
	it[3].u.gas_limit = 500001;
	run(s, it, 4, r, T, p);
	assert_int_equal(r[0].status, SG_R_SIGNED);
	assert_int_equal(r[0].nonce, 4);
	assert_int_equal(r[0].left_out, 0);
	check_body(p, 0, &rec);
	{
		const char *aggs[] = { CON, BTC_AGG }, *ans[] = { "310000000000", "10100000000" };
		expect_batch_data(&rec, CB_UPDATE_ANSWERS, aggs, ans, 2);
	}
	assert_int_equal(r[1].status, SG_R_REFUSED);
	assert_int_equal(r[1].reason, SGP_BELOW_MIN);
	assert_non_null(strstr(r[1].detail, "every entry refused"));
	assert_int_equal(r[2].status, SG_R_SIGNED);
	assert_int_equal(r[2].nonce, 5);
	assert_int_equal(r[2].left_out, 1);
	assert_non_null(strstr(r[2].detail, "twice"));
	assert_int_equal(r[3].status, SG_R_REFUSED);
	assert_int_equal(r[3].reason, SGP_GAS_LIMIT);

	/* A batch whose calldata is longer than a single call's cap (40 feeds: 2,692 bytes) is signed,
	 * and a bump of it (a stuck batch: the base fee rose) replaces it with the same calldata. The
	 * bump once read the stored calldata into a SC_CALLDATA_CAP buffer and refused it as "does not
	 * decode": a stuck batch could never be replaced, and its nonce held every later one. */
	item_batch(&it[0], 9, SC_BATCH_UPDATE_ANSWERS, MC);
	for (int i = 0; i < 40; i++) {
		char feed[24];
		snprintf(feed, sizeof feed, "F%02d-USD", i);
		batch_entry(&it[0].u, feed, CON, "300000000000");
	}
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_SIGNED);
	assert_int_equal(r[0].left_out, 0);
	check_body(p, 0, &rec);
	tx big, bumped;
	assert_int_equal(tx_decode(rec.raw, rec.raw_len, &big, NULL), TX_OK);
	assert_true(big.data_len > SC_CALLDATA_CAP);
	memset(&it[0], 0, sizeof it[0]);
	it[0].kind = SG_BUMP;
	it[0].b.chain_id = 138;
	memcpy(it[0].b.from, sg_address(s), 20);
	it[0].b.nonce = r[0].nonce;
	memcpy(it[0].b.tx_hash, rec.tx_hash, 32);
	memcpy(it[0].b.id, rec.id, 16);
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_SIGNED);
	sc_tx_signed nw;
	check_body(p, 0, &nw);
	assert_memory_equal(nw.replaces, rec.tx_hash, 32);
	assert_int_equal(tx_decode(nw.raw, nw.raw_len, &bumped, NULL), TX_OK);
	assert_int_equal(bumped.data_len, big.data_len);
	assert_memory_equal(bumped.data, big.data, big.data_len);

	/* updateAnswers cannot carry a round: refused with submit(uint256,int256) */
	assert_int_equal(sgc_init(&g_call, "submit(uint256,int256)", err, sizeof err), 0);
	item_batch(&it[0], 8, SC_BATCH_UPDATE_ANSWERS, MC);
	batch_entry(&it[0].u, "ETH-USD", CON, "311000000000");
	run(s, it, 1, r, T, p);
	assert_int_equal(r[0].status, SG_R_REFUSED);
	assert_int_equal(r[0].reason, SGP_ENCODE);
	sg_close(s);
	free(p);
	rm_dir(dir);
}

/* Overwrites one entry of the signer's LMDB while the signer is closed, as a disk or a bug would. */
static void
corrupt_entry(const char *dir, const char *table, const void *key, size_t klen, const void *val, size_t vlen)
{
	st_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	st_err e;
	assert_int_equal(st_open(&env, dir, NULL, &e), 0);
	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	assert_int_equal(st_table(txn, table, &dbi, &e), 0);
	assert_int_equal(st_put(txn, dbi, key, klen, val, vlen, &e), 0);
	assert_int_equal(st_commit(txn, &e), 0);
	st_close(env);
}

/* A corrupt stored entry is an error that stops the item (nothing signed, nothing published),
 * never "already signed" nor "no previous answer"; the other items of the batch still go. */
static void
test_corrupt_store(void **st)
{
	(void)st;
	char dir[] = "/tmp/signer_corrupt_XXXXXX";
	assert_non_null(mkdtemp(dir));
	sg *s = open_core(dir, 1000000000);
	sg_item it[4];
	sg_result r[4];
	pubs *p = calloc(1, sizeof *p);
	sc_tx_signed rec;
	char err[256];
	const uint64_t T = 1000000000000ull;

	item_sync(s, &it[0], 5, 5);
	item_update(&it[1], 1, "300000000000");
	run(s, it, 2, r, T, p);
	assert_int_equal(r[1].nonce, 5);
	check_body(p, 0, &rec);
	sg_close(s);

	/* the signed tx of nonce 5, truncated */
	uint8_t k5[8];
	st_key_u64(k5, 5);
	corrupt_entry(dir, "txs", k5, 8, p->bodies[0], p->lens[0] / 2);
	s = open_core(dir, 1000000000);
	item_update(&it[0], 1, "300000000000"); /* the gate re-publishes update 1 */
	item_update(&it[1], 2, "301000000000"); /* and another feed's update is in the same batch */
	memset(p, 0, sizeof *p);
	int rv = sg_process(s, it, 2, r, T, capture, p, err, sizeof err);
	assert_int_equal(rv, OB_ESCHEMA);
	assert_non_null(strstr(err, "txs"));
	assert_int_equal(r[0].status, SG_R_DROPPED);
	assert_int_equal(r[0].reason, SG_DROP_STORE);
	assert_int_equal(r[0].err, OB_ESCHEMA);
	assert_true(ob_err_integrity(r[0].err));
	assert_int_equal(r[1].status, SG_R_SIGNED); /* ran alone: not held up by the corrupt entry */
	assert_int_equal(r[1].nonce, 6);
	assert_int_equal(p->n, 1);
	assert_int_equal(check_body(p, 0, &rec), 6);
	assert_int_equal(sg_next_nonce(s), 7);
	/* again: still refused, nothing published for it, no nonce consumed */
	memset(p, 0, sizeof *p);
	assert_int_equal(sg_process(s, it, 1, r, T, capture, p, err, sizeof err), OB_ESCHEMA);
	assert_int_equal(r[0].status, SG_R_DROPPED);
	assert_int_equal(p->n, 0);
	assert_int_equal(sg_next_nonce(s), 7);
	sg_close(s);

	/* a dedupe entry of the wrong size: an error, not "already signed" */
	uint8_t id3[16], junk[5] = { 1, 2, 3, 4, 5 };
	memset(id3, 3, 16);
	corrupt_entry(dir, "dedupe", id3, 16, junk, sizeof junk);
	/* the feed's last answer of the wrong size: an error, not "no previous answer" (which would
	 * skip MAX_CHANGE) */
	corrupt_entry(dir, "last", "BTC-USD", 7, junk, sizeof junk);
	s = open_core(dir, 1000000000);
	item_update(&it[0], 3, "300000000000");
	item_update(&it[1], 4, "100"); /* within BTC-USD's bounds: only the corrupt entry stops it */
	snprintf(it[1].u.feed, sizeof it[1].u.feed, "BTC-USD");
	hex_addr_parse("0x00000000000000000000000000000000000000b7", 42, it[1].u.contract);
	it[1].u.decimals = 0;
	memset(p, 0, sizeof *p);
	assert_int_equal(sg_process(s, it, 2, r, T, capture, p, err, sizeof err), OB_ECORRUPT);
	assert_int_equal(r[0].status, SG_R_DROPPED);
	assert_int_equal(r[0].err, OB_ECORRUPT);
	assert_int_equal(r[1].status, SG_R_DROPPED);
	assert_int_equal(r[1].err, OB_ECORRUPT);
	assert_non_null(strstr(r[1].detail, "last"));
	assert_int_equal(p->n, 0);
	assert_int_equal(sg_next_nonce(s), 7);
	sg_close(s);

	/* a corrupt nonce: the signer refuses to open rather than guess */
	uint8_t nk[28], bad[3] = { 0 };
	st_key_u64(nk, 138);
	hex_addr_parse(ADDR, strlen(ADDR), nk + 8);
	corrupt_entry(dir, "nonce", nk, sizeof nk, bad, sizeof bad);
	sg_cfg c;
	memset(&c, 0, sizeof c);
	c.chain_id = 138;
	c.gas_limit = 200000;
	c.policy = &g_pol;
	c.call = &g_call;
	assert_null(sg_open(dir, &c, g_key, err, sizeof err));
	assert_non_null(strstr(err, "nonce"));
	free(p);
	rm_dir(dir);
}

/* An empty store on a key the chain says has sent transactions: a lost or replaced store. Nothing is
 * signed (the record of what was signed is gone) until ALLOW_EMPTY_STATE; a brand-new key (chain
 * nonce 0) starts normally, and a store that already held a nonce is not "empty". */
static void
test_empty_state_refused(void **st)
{
	(void)st;
	char dir[] = "/tmp/signer_empty_XXXXXX", dir2[] = "/tmp/signer_empty2_XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(dir2));
	sg_item it[2];
	sg_result r[2];
	pubs *p = calloc(1, sizeof *p);
	g_allow_empty = 0;
	sg *s = open_core(dir, 1000000000);
	item_sync(s, &it[0], 7, 7);
	item_update(&it[1], 1, "300000000000");
	run(s, it, 2, r, 1000000000000ull, p);
	assert_int_equal(r[0].status, SG_R_DROPPED);
	assert_int_equal(r[0].reason, SG_DROP_STATE_MISSING);
	assert_non_null(strstr(r[0].detail, "ALLOW_EMPTY_STATE"));
	assert_int_equal(r[1].status, SG_R_DROPPED);
	assert_int_equal(r[1].reason, SG_DROP_STATE_MISSING);
	assert_int_equal(p->n, 0);
	assert_false(sg_synced(s));
	sg_close(s);
	/* told to start afresh: it adopts the chain's nonce */
	g_allow_empty = 1;
	s = open_core(dir, 1000000000);
	run(s, it, 2, r, 1000000000000ull, p);
	assert_int_equal(r[0].status, SG_R_DONE);
	assert_int_equal(r[1].status, SG_R_SIGNED);
	assert_int_equal(r[1].nonce, 7);
	sg_close(s);
	/* reopened without the flag: the store is no longer empty, signing goes on */
	g_allow_empty = 0;
	s = open_core(dir, 1000000000);
	item_sync(s, &it[0], 8, 8);
	item_update(&it[1], 2, "301000000000");
	run(s, it, 2, r, 1000000000000ull, p);
	assert_int_equal(r[1].status, SG_R_SIGNED);
	sg_close(s);
	/* a new key (chain nonce 0) on an empty store: normal */
	s = open_core(dir2, 1000000000);
	item_sync(s, &it[0], 0, 0);
	item_update(&it[1], 3, "300000000000");
	run(s, it, 2, r, 1000000000000ull, p);
	assert_int_equal(r[0].status, SG_R_DONE);
	assert_int_equal(r[1].status, SG_R_SIGNED);
	sg_close(s);
	g_allow_empty = 1;
	free(p);
	rm_dir(dir);
	rm_dir(dir2);
}

/* ---- signing through sg_cfg.sign (the remote signer's hook) ------------------------------- */

static int g_sign_mode, g_sign_calls; /* 0 signs, 1 unreachable, 2 wrong answer */

static int
fake_remote(void *arg, tx *t, char *detail, size_t len)
{
	g_sign_calls++;
	if (g_sign_mode == 1) {
		snprintf(detail, len, "remote signer http://127.0.0.1:1: Couldn't connect to server");
		return OB_ERS_TRANSPORT;
	}
	if (g_sign_mode == 2) {
		snprintf(detail, len, "remote signer returned another nonce than asked");
		return OB_ERS_MISMATCH;
	}
	return tx_sign(t, g_key) == TX_OK ? 0 : OB_ERS_REFUSED; /* the key is the remote signer's here */
}

static void
test_sign_hook(void **st)
{
	(void)st;
	char dir[] = "/tmp/signer_hook_XXXXXX";
	assert_non_null(mkdtemp(dir));
	sg_item it[3];
	sg_result r[3];
	pubs *p = calloc(1, sizeof *p);
	sc_tx_signed rec;
	g_sign = fake_remote;
	sg *s = open_core(dir, 1000000000);
	uint8_t want[20];
	hex_addr_parse(ADDR, strlen(ADDR), want);
	assert_memory_equal(sg_address(s), want, 20); /* the configured address: no key in this process */
	/* unreachable: dropped (not a store error), no nonce used, nothing published */
	g_sign_mode = 1;
	item_sync(s, &it[0], 4, 4);
	item_update(&it[1], 1, "300000000000");
	run(s, it, 2, r, 1000000000000ull, p);
	assert_int_equal(r[1].status, SG_R_DROPPED);
	assert_int_equal(r[1].reason, SG_DROP_REMOTE);
	assert_non_null(strstr(r[1].detail, "connect"));
	assert_int_equal(p->n, 0);
	assert_int_equal(sg_next_nonce(s), 4);
	/* a wrong answer: its own reason (the process alerts) */
	g_sign_mode = 2;
	item_update(&it[0], 1, "300000000000");
	run(s, it, 1, r, 1000000000000ull, p);
	assert_int_equal(r[0].reason, SG_DROP_REMOTE_BAD);
	assert_int_equal(p->n, 0);
	/* back: the same request is signed with the nonce the failures did not use */
	g_sign_mode = 0;
	g_sign_calls = 0;
	run(s, it, 1, r, 1000000000000ull, p);
	assert_int_equal(r[0].status, SG_R_SIGNED);
	assert_int_equal(r[0].nonce, 4);
	assert_int_equal(p->n, 1);
	assert_int_equal(check_body(p, 0, &rec), 4);
	assert_int_equal(g_sign_calls, 1);
	/* a repeat of the id is a duplicate: the signer is not asked again */
	run(s, it, 1, r, 1000000000000ull, p);
	assert_int_equal(r[0].status, SG_R_DUPLICATE);
	assert_int_equal(g_sign_calls, 1);
	sg_close(s);
	g_sign = NULL;
	free(p);
	rm_dir(dir);
}

static int
sg_want(int k, size_t i)
{
	if ((k == 0 || k == 4) && i == 0)
		return SG_R_DONE;
	if (k == 3 && i == 1)
		return SG_R_DUPLICATE;
	if (k == 3 && i == 2)
		return SG_R_REFUSED;
	return SG_R_SIGNED;
}

/* The two cores a pipeline test compares, in fresh directories made from the templates d1 and d2:
 * plain signs inline, pipe with the pipeline. */
static void
open_pair(char *d1, char *d2, sg **plain, sg **pipe)
{
	assert_non_null(mkdtemp(d1));
	assert_non_null(mkdtemp(d2));
	*plain = open_core(d1, 1000000000);
	g_pipeline = 1;
	*pipe = open_core(d2, 1000000000);
	g_pipeline = 0;
}

/* The pipeline (writer thread, signatures made ahead) publishes byte for byte what the plain path
 * publishes for the same batches, including batches where the guess made ahead is wrong (a
 * duplicate id, a refusal, a nonce jump): those sign inline. Nothing is published before
 * sg_complete, and nothing may start while a batch is in flight. */
static void
test_pipeline(void **st)
{
	(void)st;
	char d1[] = "/tmp/signer_test_XXXXXX", d2[] = "/tmp/signer_test_XXXXXX", err[256];
	sg *plain, *pipe;
	open_pair(d1, d2, &plain, &pipe);
	enum {
		NB = 8,
		BN = 8
	};
	static sg_item b[NB][BN];
	static sg_result rp[BN], r1[BN], r2[BN];
	size_t nb[NB];
	const uint64_t T = 1000000000000ull;
	uint8_t id = 1;
	/* batch 0: the first sync and updates; 1, 2: plain updates; 3: a duplicate of batch 1's first id
	 * and an answer above MAX_ANSWER early (the guesses after the duplicate are wrong); 4: a nonce
	 * jump; 5, 6, 7: plain */
	for (int k = 0; k < NB; k++) {
		size_t n = 0;
		if (k == 0)
			item_sync(plain, &b[k][n++], 7, 7);
		if (k == 4)
			item_sync(plain, &b[k][n++], 60, 60);
		while (n < BN) {
			char ans[32];
			snprintf(ans, sizeof ans, "30%04u00000", (unsigned)(id * 7 % 1000));
			item_update(&b[k][n], id++, ans);
			if (k == 3 && n == 1)
				memset(b[k][n].msg_id, b[1][0].msg_id[0], 16);
			if (k == 3 && n == 2)
				i256_set(&b[k][n].u.answer, "999999999999999999");
			n++;
		}
		nb[k] = n;
	}
	pubs *p1 = calloc(1, sizeof *p1), *p2 = calloc(1, sizeof *p2), *all1 = calloc(NB, sizeof *all1),
	     *all2 = calloc(NB, sizeof *all2);
	for (int k = 0; k < NB; k++) {
		run(plain, b[k], nb[k], r1, T + (uint64_t)k, p1);
		all1[k] = *p1;
	}
	/* the pipeline, driven as the bus loop drives it: sign ahead, complete the one in flight, submit */
	for (int k = 0; k <= NB; k++) {
		if (k < NB && k > 0)
			sg_presign(pipe, b[k], nb[k]);
		memset(p2, 0, sizeof *p2);
		assert_int_equal(sg_complete(pipe, capture, p2, err, sizeof err), 0);
		if (k > 0) {
			all2[k - 1] = *p2;
			for (size_t i = 0; i < nb[k - 1]; i++)
				assert_int_equal(rp[i].status, sg_want(k - 1, i));
		}
		if (k == NB)
			break;
		assert_false(sg_busy(pipe));
		assert_int_equal(sg_submit(pipe, b[k], nb[k], rp, T + (uint64_t)k), 0);
		assert_true(sg_busy(pipe));
		assert_int_equal(sg_submit(pipe, b[k], nb[k], r2, T), EBUSY);
		assert_int_equal(sg_process(pipe, b[k], nb[k], r2, T, capture, p2, err, sizeof err), EBUSY);
	}
	for (int k = 0; k < NB; k++) {
		assert_int_equal(all1[k].n, all2[k].n);
		for (size_t i = 0; i < all1[k].n; i++) {
			assert_int_equal(all1[k].lens[i], all2[k].lens[i]);
			assert_memory_equal(all1[k].ids[i], all2[k].ids[i], 16);
			assert_memory_equal(all1[k].bodies[i], all2[k].bodies[i], all1[k].lens[i]);
		}
	}
	assert_int_equal(sg_next_nonce(plain), sg_next_nonce(pipe));
	assert_int_equal(sg_next_nonce(pipe), 60 + (BN - 1) + 3 * BN);
	uint64_t hits, misses;
	sg_memo_stats(pipe, &hits, &misses);
	/* Signed ahead and used: batch 2 (8), batch 3 up to its duplicate (1), batches 6 and 7 (16).
	 * Made inline: batch 0 (7, nothing ahead), 1 (8: guessed before the first sync was known),
	 * batch 3 after the duplicate (5), 4 (7: the jump) and 5 (8: guessed before the jump). */
	assert_int_equal(hits, 8 + 1 + 16);
	assert_int_equal(misses, 7 + 8 + 5 + 7 + 8);
	sg_memo_stats(plain, &hits, &misses);
	assert_int_equal(hits, 0);
	/* reopened: the pipeline's store holds what it published */
	sg_close(pipe);
	g_pipeline = 1;
	pipe = open_core(d2, 1000000000);
	g_pipeline = 0;
	assert_int_equal(sg_next_nonce(pipe), sg_next_nonce(plain));
	sg_close(pipe);
	sg_close(plain);
	free(p1);
	free(p2);
	free(all1);
	free(all2);
	rm_dir(d1);
	rm_dir(d2);
}

/* A tx.request of dlen calldata bytes (selector 0x12345678), id idbyte repeated. */
static void
item_request(sg_item *it, uint8_t idbyte, size_t dlen)
{
	memset(it, 0, sizeof *it);
	it->kind = SG_REQUEST;
	memset(it->r.id, idbyte, 16);
	it->r.chain_id = 138;
	hex_addr_parse(CON, strlen(CON), it->r.to);
	memcpy(it->r.data, "\x12\x34\x56\x78", 4);
	for (size_t i = 4; i < dlen; i++)
		it->r.data[i] = (uint8_t)(idbyte + i);
	it->r.data_len = (uint32_t)dlen;
}

/* Signing ahead a batch whose signing payloads outgrow the memo's first buffer (48 requests of
 * 1.4 KB: 70 KB of payloads): every one is still taken from the memo, and the frames are byte for
 * byte those of the plain path. */
static void
test_pipeline_large_requests(void **st)
{
	(void)st;
	char d1[] = "/tmp/signer_test_XXXXXX", d2[] = "/tmp/signer_test_XXXXXX", err[256];
	sg *plain, *pipe;
	open_pair(d1, d2, &plain, &pipe);
	enum {
		N = 48
	};
	static sg_item sync1[1], first[1], big[N];
	static sg_result res[N];
	pubs *p1 = calloc(1, sizeof *p1), *p2 = calloc(1, sizeof *p2);
	const uint64_t T = 1000000000000ull;
	item_sync(plain, &sync1[0], 3, 3);
	item_request(&first[0], 200, 100);
	for (int i = 0; i < N; i++)
		item_request(&big[i], (uint8_t)(i + 1), 1400);
	run(plain, sync1, 1, res, T, p1);
	run(plain, first, 1, res, T, p1);
	run(plain, big, N, res, T + 1, p1);
	for (int i = 0; i < N; i++)
		assert_int_equal(res[i].status, SG_R_SIGNED);
	/* the pipeline: the sync, then the big batch signed ahead while the first request commits */
	assert_int_equal(sg_submit(pipe, sync1, 1, res, T), 0);
	assert_int_equal(sg_complete(pipe, capture, p2, err, sizeof err), 0);
	assert_int_equal(sg_submit(pipe, first, 1, res, T), 0);
	assert_int_equal(sg_presign(pipe, big, N), N);
	assert_int_equal(sg_complete(pipe, capture, p2, err, sizeof err), 0);
	memset(p2, 0, sizeof *p2);
	assert_int_equal(sg_submit(pipe, big, N, res, T + 1), 0);
	assert_int_equal(sg_complete(pipe, capture, p2, err, sizeof err), 0);
	uint64_t hits, misses;
	sg_memo_stats(pipe, &hits, &misses);
	assert_int_equal(hits, N);
	assert_int_equal(misses, 1);
	assert_int_equal(p1->n, N);
	assert_int_equal(p2->n, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(res[i].status, SG_R_SIGNED);
		assert_int_equal(p1->lens[i], p2->lens[i]);
		assert_memory_equal(p1->bodies[i], p2->bodies[i], p1->lens[i]);
	}
	assert_int_equal(sg_next_nonce(pipe), 3 + 1 + N);
	sg_close(pipe);
	sg_close(plain);
	free(p1);
	free(p2);
	rm_dir(d1);
	rm_dir(d2);
}

/* The child of test_group_grows: when told ('h'), takes the store's LMDB write lock, as a second
 * process writing the same environment would, says so, and holds it until told again. */
static void
hold_writer(const char *dir, int in, int out)
{
	MDB_env *env;
	MDB_txn *txn;
	char c;
	if (read(in, &c, 1) != 1 || mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 16) != 0 ||
	    mdb_env_open(env, dir, MDB_NOTLS, 0600) != 0 || mdb_txn_begin(env, NULL, 0, &txn) != 0)
		_exit(1);
	if (write(out, "l", 1) != 1 || read(in, &c, 1) != 1)
		_exit(1);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	_exit(0);
}

/* The grouping rule (sg_group_more): with nothing in flight a group closes at BATCH_MAX; while the
 * commit in flight cannot finish (another process holds the store's write lock) it grows up to
 * BATCH_GROW_MAX, each item signed ahead as it comes (sg_presign_add), and closes once that commit
 * is done. The grown group then signs every transaction from the memo. */
static void
test_group_grows(void **st)
{
	(void)st;
	char d[] = "/tmp/signer_test_XXXXXX", err[256], c;
	int go[2], ack[2], status;
	enum {
		N = 40
	};
	static sg_item sync1[1], first[1], group[N];
	static sg_result res[N];
	pubs *p = calloc(1, sizeof *p);
	const uint64_t T = 1000000000000ull;
	assert_non_null(mkdtemp(d));
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ack), 0);
	pid_t pid = fork(); /* before the writer thread exists */
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]); /* a parent that fails and exits ends the child too: its read sees EOF */
		close(ack[0]);
		hold_writer(d, go[0], ack[1]);
	}
	close(go[0]);
	close(ack[1]);
	g_pipeline = 1;
	sg *s = open_core(d, 1000000000);
	g_pipeline = 0;
	item_sync(s, &sync1[0], 3, 3);
	assert_int_equal(sg_submit(s, sync1, 1, res, T), 0);
	assert_int_equal(sg_complete(s, capture, p, err, sizeof err), 0);
	/* nothing in flight: up to BATCH_MAX */
	assert_false(sg_committing(s));
	assert_true(sg_group_more(s, 0, 128, 1024));
	assert_true(sg_group_more(s, 127, 128, 1024));
	assert_false(sg_group_more(s, 128, 128, 1024));
	/* a commit that cannot finish */
	assert_int_equal(write(go[1], "h", 1), 1);
	assert_int_equal(read(ack[0], &c, 1), 1);
	item_request(&first[0], 200, 100);
	assert_int_equal(sg_submit(s, first, 1, res, T), 0);
	assert_true(sg_committing(s));
	assert_true(sg_group_more(s, 0, 128, 1024));
	assert_true(sg_group_more(s, 128, 128, 1024));
	assert_true(sg_group_more(s, 1023, 128, 1024));
	assert_false(sg_group_more(s, 1024, 128, 1024));
	assert_false(sg_group_more(s, 128, 128, 128)); /* BATCH_GROW_MAX = BATCH_MAX: fixed groups */
	assert_false(sg_group_more(s, 128, 128, 64));
	/* the group, N items past a BATCH_MAX of 8, each signed ahead as it comes */
	sg_presign(s, group, 0);
	for (int i = 0; i < N; i++) {
		assert_true(sg_group_more(s, (size_t)i, 8, 1024));
		item_request(&group[i], (uint8_t)(i + 1), 68);
		assert_int_equal(sg_presign_add(s, &group[i], 1), 1);
	}
	assert_true(sg_committing(s));
	assert_int_equal(write(go[1], "r", 1), 1); /* the lock is released: the commit finishes */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(sg_complete(s, capture, p, err, sizeof err), 0);
	assert_int_equal(res[0].status, SG_R_SIGNED);
	assert_false(sg_committing(s));
	assert_false(sg_group_more(s, N, 8, 1024)); /* the commit is done: the group closes */
	memset(p, 0, sizeof *p);
	assert_int_equal(sg_submit(s, group, N, res, T + 1), 0);
	assert_int_equal(sg_complete(s, capture, p, err, sizeof err), 0);
	uint64_t hits, misses;
	sg_memo_stats(s, &hits, &misses);
	assert_int_equal(hits, N);   /* the whole grown group signed ahead */
	assert_int_equal(misses, 1); /* the first request, not signed ahead */
	assert_int_equal(p->n, N);
	for (int i = 0; i < N; i++) {
		sc_tx_signed rec;
		assert_int_equal(res[i].status, SG_R_SIGNED);
		assert_int_equal(check_body(p, (size_t)i, &rec), 3 + 1 + (uint64_t)i);
	}
	assert_int_equal(sg_next_nonce(s), 3 + 1 + N);
	sg_close(s);
	close(go[1]);
	close(ack[0]);
	free(p);
	rm_dir(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_three_signatures),
		cmocka_unit_test(test_policy_bounds),
		cmocka_unit_test(test_policy_table),
		cmocka_unit_test(test_fees),
		cmocka_unit_test(test_core),
		cmocka_unit_test(test_gas_limit),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_corrupt_store),
		cmocka_unit_test(test_empty_state_refused),
		cmocka_unit_test(test_sign_hook),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_pipeline_large_requests),
		cmocka_unit_test(test_group_grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
