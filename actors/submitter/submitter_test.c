/* submitter_test.c - node error classification (real messages of geth, Besu, Nethermind, reth,
 * anvil), the pending record layout, fee-bump arithmetic, and that nothing is polled before a busd
 * connection is up. The send/follow logic runs against a real anvil in
 * tests/integration/submitter_anvil.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/submitter/classify.h"
#include "actors/submitter/pending.h"
#include "actors/submitter/revert.h"
#include "actors/submitter/submitter.h"
#include "base/hex.h"
#include "base/rt_main.h"
#include "base/util.h"

/* The out-of-gas rule (EIP-150's 63/64) and custom errors with their argument words (vectors from
 * `cast calldata`; chain/revert_test.c covers Error(string) and Panic). */
static void
test_revert(void **st)
{
	(void)st;
	static const struct {
		const char *hex, *want;
	} v[] = {
		{ "0x6e153168"
		  "0000000000000000000000000000000000000000000000000000000000000000"
		  "0000000000000000000000000000000000000000000000000000000000000001"
		  "00000000000000000000000000000000000000000000000000005af3107a4000",
		  "custom error 0x6e153168(0x0,0x1,0x5af3107a4000)" }, /* AnswerOutOfBounds(0, 1, 1e14) */
		{ "0x245aecd300000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8",
		  "custom error 0x245aecd3(0x70997970c51812dc3a010c7d01b50e0d17dc79c8)" },
		{ "0x245aecd3", "custom error 0x245aecd3()" },
		{ "0x245aecd3aabb", NULL }, /* not whole words: left to chain/revert.h */
		{ "0x08c3", NULL },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t b[512];
		size_t n;
		char out[256] = "untouched";
		assert_int_equal(hex_decode(v[i].hex, strlen(v[i].hex), HEX_PREFIX_OPTIONAL, b, sizeof b, &n, NULL),
		                 HEX_OK);
		int got = sub_custom_error_words(b, n, out, sizeof out);
		assert_int_equal(got, v[i].want != NULL);
		assert_string_equal(out, v[i].want ? v[i].want : "untouched");
	}
	/* nine words: the first eight, then "..."; and a small buffer stays terminated */
	uint8_t nine[4 + 9 * 32] = { 0x12, 0x34, 0x56, 0x78 };
	char out[256];
	assert_int_equal(sub_custom_error_words(nine, sizeof nine, out, sizeof out), 1);
	assert_string_equal(out, "custom error 0x12345678(0x0,0x0,0x0,0x0,0x0,0x0,0x0,0x0,...)");
	assert_int_equal(sub_custom_error_words(nine, sizeof nine, out, 20), 1);
	assert_int_equal(strlen(out), 19);
	assert_true(sub_out_of_gas(200000, 200000));
	assert_true(sub_out_of_gas(196875, 200000)); /* 63/64 of it: ran out inside a sub-call */
	assert_false(sub_out_of_gas(196874, 200000));
	assert_false(sub_out_of_gas(30000, 200000));
	assert_false(sub_out_of_gas(0, 0));
	assert_true(sub_out_of_gas(UINT64_MAX, UINT64_MAX));
}

static void
test_classify(void **st)
{
	static const struct {
		const char *msg, *cls;
		int action;
	} v[] = {
		{ "nonce too low", "nonce_too_low", SUB_ACT_NONCE_USED },                           /* geth */
		{ "nonce too low: next nonce 5, tx nonce 3", "nonce_too_low", SUB_ACT_NONCE_USED }, /* geth 1.11+ */
		{ "Nonce too low", "nonce_too_low", SUB_ACT_NONCE_USED },                           /* Besu */
		{ "OldNonce", "nonce_too_low", SUB_ACT_NONCE_USED },                                /* Nethermind */
		{ "nonce too low. allowed nonce range: 4 - 8, actual: 2", "nonce_too_low",
		  SUB_ACT_NONCE_USED },                                            /* anvil */
		{ "already known", "already_known", SUB_ACT_SENT },                /* geth */
		{ "Known transaction", "already_known", SUB_ACT_SENT },            /* Besu */
		{ "transaction already imported", "already_known", SUB_ACT_SENT }, /* reth/Erigon */
		{ "AlreadyKnown", "already_known", SUB_ACT_SENT },                 /* Nethermind */
		{ "replacement transaction underpriced", "replacement_underpriced", SUB_ACT_BUMP },
		{ "Replacement transaction underpriced", "replacement_underpriced", SUB_ACT_BUMP },
		{ "insufficient funds for gas * price + value: balance 0, tx cost 21000", "insufficient_funds",
		  SUB_ACT_RETRY },
		{ "Upfront cost exceeds account balance", "insufficient_funds", SUB_ACT_RETRY },
		{ "UPFRONT_COST_EXCEEDS_BALANCE", "insufficient_funds", SUB_ACT_RETRY },
		{ "intrinsic gas too low", "intrinsic_gas_too_low", SUB_ACT_FATAL },
		{ "exceeds block gas limit", "exceeds_block_gas_limit", SUB_ACT_FATAL },
		{ "transaction underpriced", "underpriced", SUB_ACT_BUMP },
		{ "max fee per gas less than block base fee: address 0x.., maxFeePerGas: 1 baseFee: 7", "fee_too_low",
		  SUB_ACT_BUMP },
		{ "tx fee (1.10 ether) exceeds the configured cap (1.00 ether)", "fee_cap_exceeded", SUB_ACT_FATAL },
		{ "invalid sender", "invalid_signature", SUB_ACT_FATAL },
		{ "execution reverted: only transmitters", "reverted", SUB_ACT_FATAL },
		{ "something new", "other", SUB_ACT_RETRY },
		{ "", "other", SUB_ACT_RETRY },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		const sub_class *c = sub_classify(v[i].msg);
		if (strcmp(c->name, v[i].cls) != 0 || c->action != v[i].action)
			fail_msg("'%s': got %s/%d, want %s/%d", v[i].msg, c->name, c->action, v[i].cls, v[i].action);
	}
	assert_int_equal(sub_classify("nonce too low")->sc_err, SC_TXERR_NONCE_TOO_LOW);
	assert_int_equal(sub_classify(NULL)->action, SUB_ACT_RETRY);
	/* every class the table can return is pre-registered as a metric label */
	const char *const *names = sub_class_names();
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int found = 0;
		for (size_t j = 0; names[j]; j++)
			found |= strcmp(names[j], sub_classify(v[i].msg)->name) == 0;
		assert_true(found);
	}
}

static void
test_record(void **st)
{
	static sub_entry a, b;
	static uint8_t buf[SUB_REC_MAX];
	memset(&a, 0, sizeof a);
	a.tx.chain_id = 138;
	a.tx.nonce = 0x0102030405060708ull;
	a.tx.raw_len = 300;
	for (int i = 0; i < 300; i++)
		a.tx.raw[i] = (uint8_t)i;
	memset(a.tx.tx_hash, 0xcd, 32);
	snprintf(a.tx.feed, sizeof a.tx.feed, "ETH-USD");
	snprintf(a.tx.ref, sizeof a.tx.ref, "price.update:gate-0:17");
	u256_from_u64(&a.tx.answer, 123456789);
	a.state = SC_TX_INCLUDED;
	a.first_seen_ns = 1, a.last_sent_ns = 2, a.sent_block = 3, a.bump_block = 4, a.attempts = 5;
	a.block_number = 6, a.gas_used = 7, a.receipt_status = 1, a.error = 2, a.confirmed_ns = 9, a.checked_block = 10;
	memset(a.block_hash, 0xbb, 32);
	memset(a.replaced_by, 0xee, 32);
	u256_from_u64(&a.effective_gas_price, 1000000007);
	size_t n = sub_encode(&a, buf, sizeof buf);
	assert_true(n > 300);
	assert_int_equal(sub_decode(buf, n, &b), 0);
	assert_memory_equal(&a.tx, &b.tx, sizeof a.tx);
	assert_int_equal(b.state, SC_TX_INCLUDED);
	assert_int_equal(b.first_seen_ns + b.last_sent_ns + b.sent_block + b.bump_block + b.attempts, 15);
	assert_int_equal(b.block_number, 6);
	assert_int_equal(b.gas_used, 7);
	assert_int_equal(b.receipt_status, 1);
	assert_int_equal(b.error, 2);
	assert_int_equal(b.confirmed_ns, 9);
	assert_int_equal(b.checked_block, 10);
	assert_memory_equal(b.block_hash, a.block_hash, 32);
	assert_memory_equal(b.replaced_by, a.replaced_by, 32);
	assert_int_equal(u256_cmp(&a.effective_gas_price, &b.effective_gas_price), 0);
	assert_int_equal(sub_decode(buf, n - 1, &b), -1); /* truncated */
	assert_int_equal(sub_decode(buf, 60, &b), -1);
	buf[0] = 'X';
	assert_int_equal(sub_decode(buf, n, &b), -1); /* not our layout */
	buf[0] = 'S';
	uint8_t key[SUB_KEY_LEN];
	sub_key(&a, key);
	assert_int_equal(key[0], 1);
	assert_int_equal(key[7], 8);
	assert_int_equal(key[8], 0xcd);
	assert_int_equal(sub_encode(&a, buf, 100), 0); /* too small a buffer */
}

static uint64_t
bump(uint64_t old, uint64_t pct, int64_t quote)
{
	u256 o, q, r;
	u256_from_u64(&o, old);
	u256_from_u64(&q, (uint64_t)quote);
	sub_bump_fee(&r, &o, pct, quote >= 0 ? &q : NULL);
	assert_true(u256_fits_u64(&r));
	return u256_low64(&r);
}

static void
test_bump(void **st)
{
	assert_int_equal(bump(1000000000, 20, -1), 1200000000);
	assert_int_equal(bump(1000000000, 5, -1), 1100000000);  /* never below the nodes' 10% */
	assert_int_equal(bump(1000000001, 10, -1), 1100000002); /* rounded up: 10% of ...01 is ...00.1 */
	assert_int_equal(bump(7, 10, -1), 8);
	assert_int_equal(bump(0, 20, -1), 0); /* zero-gas networks stay at zero */
	assert_int_equal(bump(0, 20, 5), 5);  /* unless the quote is higher */
	assert_int_equal(bump(100, 20, 119), 120);
	assert_int_equal(bump(100, 20, 121), 121);
	u256 big, r;
	memset(&big, 0xff, sizeof big); /* saturates, never wraps */
	sub_bump_fee(&r, &big, 20, NULL);
	assert_int_equal(u256_cmp(&r, &big), 0);
}

/* 1 when a connection waits in the backlog of the listening socket fd (accepted and closed). */
static int
connected_to(int fd)
{
	int c = accept(fd, NULL, NULL);
	if (c < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		return 0;
	}
	close(c);
	return 1;
}

/* A submitter whose bus publisher has no busd connection (dialing is asynchronous: right after a
 * start, or busd away) polls nothing: what a poll finds is published once (a restarted submitter
 * whose transactions were mined while it was down says included and confirmed in its first poll),
 * and pub/sub drops what is published with no busd connected. The node is a listening socket that
 * never answers: a poll's first request is a connection in its backlog, made before sub_tick
 * returns. Once a busd (a sub0 on the ingress) is there, the next tick polls, and what it says
 * (the node does not answer: alert rpc_unreachable) reaches that busd. */
static void
test_no_poll_before_busd(void **st)
{
	(void)st;
	char err[256], url[64], dir[] = "/tmp/submitter_test.XXXXXX";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
	rpc *r = rpc_open(url, 138, 100, err, sizeof err);
	assert_non_null(r);
	assert_non_null(mkdtemp(dir));
	st_env *env = NULL;
	st_err se;
	assert_int_equal(st_open(&env, dir, NULL, &se), 0);
	act_bus_cfg bc = { .pub_urls = "inproc://sub-test-in", .sub_urls = "inproc://sub-test-out", .trust = "" };
	static const char *const topics[] = { "tx.signed", NULL };
	act_bus *a = act_open(&bc, ACT_PUB | ACT_SUB, topics, err, sizeof err);
	assert_non_null(a);
	sub_cfg c = { .chain_id = 138,
		      .confirmations = 2,
		      .finality_depth = 4,
		      .bump_percent = 20,
		      .poll_ms = 10,
		      .quote_ms = 100,
		      .nonce_sync_ms = 100,
		      .have_signer = 1 };
	c.signer[19] = 1;
	sub *s = sub_open(&c, a, r, env, err, sizeof err);
	assert_non_null(s);
	while (connected_to(lfd)) /* rpc_open's own check of the endpoint */
		;
	for (int i = 0; i < 3; i++) {
		sub_tick(s);
		assert_int_equal(sub_take(s, 0), 0);
	}
	assert_int_equal(bus_pub_connected(act_pub(a)), 0);
	assert_false(connected_to(lfd)); /* no poll, quote or nonce sync reached the node */
	assert_false(sub_polled(s));     /* (main: /health stays starting) */

	nng_socket in;
	assert_int_equal(nng_sub0_open(&in), 0);
	assert_int_equal(nng_socket_set(in, NNG_OPT_SUB_SUBSCRIBE, "", 0), 0);
	assert_int_equal(nng_socket_set_ms(in, NNG_OPT_RECVTIMEO, 10000), 0);
	assert_int_equal(nng_listen(in, "inproc://sub-test-in", NULL, 0), 0);
	assert_int_equal(bus_pub_wait(act_pub(a), 1, 10000), 0);
	sub_tick(s);
	assert_true(connected_to(lfd)); /* polled */
	assert_true(sub_polled(s));
	char *msg = NULL;
	size_t len = 0;
	assert_int_equal(nng_recv(in, &msg, &len, NNG_FLAG_ALLOC), 0); /* and was heard */
	assert_non_null(memmem(msg, len, "rpc_unreachable", strlen("rpc_unreachable")));
	nng_free(msg, len);

	sub_close(s);
	act_close(a);
	nng_close(in);
	rpc_close(r);
	st_close(env);
	close(lfd);
	char cmd[sizeof dir + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(int argc, char **argv)
{
	setenv("INSTANCE", "submitter-test-0", 1);
	setenv("HTTP_PORT", "0", 1); /* no listener */
	rt_init("submitter-test", argc, argv, NULL, 0);
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_classify), cmocka_unit_test(test_revert),
		                            cmocka_unit_test(test_record), cmocka_unit_test(test_bump),
		                            cmocka_unit_test(test_no_poll_before_busd) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
