/* erc20_test.c - token-erc20: calldata (vectors from `cast calldata`), the receipt's Transfer match, and the
 * state machine over a temporary LMDB (store/tokreq.h): exactly one tx.request per key, acks, results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actors/token-erc20/erc20.h"
#include "base/hex.h"
#include "schemas/schema.h"
#include "store/store.h"
#include "store/tokreq_testing.h"

#define A_TOKEN        "0x5FbDB2315678afecb367f032d93F642f64180aa3"
#define UETR           "174c245f-2682-4291-ad67-2a41e530cd27"
#define TOPIC_TRANSFER "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

static void
addr(const char *s, uint8_t a[20])
{
	assert_int_equal(hex_addr_parse(s, strlen(s), a), HEX_OK);
}

static void
request(sc_token_request *r, const char *key, int kind, uint64_t amount)
{
	tqt_request(r, "erc20", key, kind, amount);
	snprintf(r->pool, sizeof r->pool, "usd");
	addr(A_TOKEN, r->token);
	snprintf(r->currency, sizeof r->currency, "USD");
	r->decimals = 6;
	if (kind == SC_TOKEN_MINT)
		addr(TQT_HOLDER, r->to);
}

static void
calldata_hex(const te_cfg *c, const sc_token_request *r, char *out)
{
	uint8_t buf[512];
	size_t len;
	char reason[8], why[160];
	assert_int_equal(te_calldata(c, r, buf, sizeof buf, &len, reason, why, sizeof why), 0);
	hex_encode(buf, len, 1, out);
}

static void
test_calldata(void **state)
{
	te_cfg c = { .chain_id = 138 };
	sc_token_request r;
	char hex[1100], reason[8], why[160];
	uint8_t buf[512];
	size_t len;
	request(&r, UETR, SC_TOKEN_MINT, 1234567);
	calldata_hex(&c, &r, hex);
	assert_string_equal(hex, "0x40c10f1900000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
	                         "000000000000000000000000000000000000000000000000000000000012d687");
	request(&r, UETR, SC_TOKEN_BURN, 1234567);
	calldata_hex(&c, &r, hex);
	assert_string_equal(hex, "0x9dc29fac00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
	                         "000000000000000000000000000000000000000000000000000000000012d687");
	c.burn_fn = TE_BURN_BURNFROM;
	calldata_hex(&c, &r, hex);
	assert_string_equal(hex, "0x79cc679000000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
	                         "000000000000000000000000000000000000000000000000000000000012d687");
	request(&r, UETR, SC_TOKEN_TRANSFER, 1234567);
	calldata_hex(&c, &r, hex);
	assert_string_equal(hex, "0x23b872dd00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
	                         "0000000000000000000000003c44cdddb6a900fa2b585dd299e03d12fa4293bc"
	                         "000000000000000000000000000000000000000000000000000000000012d687");
	c.transfer_fn = TE_XFER_WITHDATA;
	calldata_hex(&c, &r, hex);
	assert_string_equal(hex, "0xc0ea7a7a00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
	                         "0000000000000000000000003c44cdddb6a900fa2b585dd299e03d12fa4293bc"
	                         "000000000000000000000000000000000000000000000000000000000012d687"
	                         "0000000000000000000000000000000000000000000000000000000000000080"
	                         "0000000000000000000000000000000000000000000000000000000000000000");
	/* Refusals with their ISO reasons. */
	request(&r, UETR, SC_TOKEN_MINT, 0);
	assert_int_equal(te_calldata(&c, &r, buf, sizeof buf, &len, reason, why, sizeof why), -1);
	assert_string_equal(reason, "AM01");
	request(&r, UETR, SC_TOKEN_TRANSFER, 5);
	memset(r.from, 0, 20);
	assert_int_equal(te_calldata(&c, &r, buf, sizeof buf, &len, reason, why, sizeof why), -1);
	assert_string_equal(reason, "AC01");
	request(&r, UETR, SC_TOKEN_BRIDGE, 5);
	assert_int_equal(te_calldata(&c, &r, buf, sizeof buf, &len, reason, why, sizeof why), -1);
	assert_string_equal(reason, "NARR");
	request(&r, UETR, SC_TOKEN_MINT, 5);
	addr(TQT_OTHER, c.tokens[0]);
	c.ntokens = 1;
	assert_int_equal(te_calldata(&c, &r, buf, sizeof buf, &len, reason, why, sizeof why), -1);
	assert_string_equal(reason, "AG01");
	addr(A_TOKEN, c.tokens[1]);
	c.ntokens = 2;
	assert_int_equal(te_calldata(&c, &r, buf, sizeof buf, &len, reason, why, sizeof why), 0);
}

/* ---- receipts --------------------------------------------------------------------------------- */

static json_t *
receipt(const char *status, const char *token, const char *t1, const char *t2, const char *data)
{
	char text[2048];
	snprintf(text, sizeof text,
	         "{\"status\":\"%s\",\"blockNumber\":\"0x1b\",\"transactionHash\":\"0x%064d\",\"logs\":["
	         "{\"address\":\"%s\",\"topics\":["
	         "\"0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925\","
	         "\"0x%064d\",\"0x%064d\"],\"data\":\"0x%064d\"},"
	         "{\"address\":\"%s\",\"topics\":[\"" TOPIC_TRANSFER "\",\"0x000000000000000000000000%s\","
	         "\"0x000000000000000000000000%s\"],\"data\":\"%s\"}]}",
	         status, 7, token, 0, 0, 1, token, t1, t2, data);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	return j;
}

#define H_HOLDER "70997970c51812dc3a010c7d01b50e0d17dc79c8"
#define H_OTHER  "3c44cdddb6a900fa2b585dd299e03d12fa4293bc"
#define H_ZERO   "0000000000000000000000000000000000000000"
#define D_AMOUNT "0x000000000000000000000000000000000000000000000000000000000012d687"

static int
match(const sc_token_request *r, json_t *j, uint64_t *block)
{
	te_receipt rc;
	te_match_receipt(j, r, &rc);
	json_decref(j);
	if (block)
		*block = rc.block_number;
	return rc.outcome;
}

static void
test_receipt(void **state)
{
	sc_token_request r;
	uint64_t block = 0;
	request(&r, UETR, SC_TOKEN_MINT, 1234567);
	assert_int_equal(match(&r, receipt("0x1", A_TOKEN, H_ZERO, H_HOLDER, D_AMOUNT), &block), TE_RC_OK);
	assert_int_equal(block, 27);
	/* The address compares as bytes: lower case logs match a mixed-case configuration. */
	assert_int_equal(match(&r,
	                       receipt("0x1", "0x5fbdb2315678afecb367f032d93f642f64180aa3", H_ZERO, H_HOLDER, D_AMOUNT),
	                       NULL),
	                 TE_RC_OK);
	assert_int_equal(match(&r, receipt("0x0", A_TOKEN, H_ZERO, H_HOLDER, D_AMOUNT), NULL), TE_RC_REVERTED);
	/* Another amount, another recipient, another contract, a transfer instead of a mint: not ours. */
	assert_int_equal(match(&r,
	                       receipt("0x1", A_TOKEN, H_ZERO, H_HOLDER,
	                               "0x000000000000000000000000000000000000000000000000000000000012d688"),
	                       NULL),
	                 TE_RC_NO_TRANSFER);
	assert_int_equal(match(&r, receipt("0x1", A_TOKEN, H_ZERO, H_OTHER, D_AMOUNT), NULL), TE_RC_NO_TRANSFER);
	assert_int_equal(match(&r, receipt("0x1", TQT_OTHER, H_ZERO, H_HOLDER, D_AMOUNT), NULL), TE_RC_NO_TRANSFER);
	assert_int_equal(match(&r, receipt("0x1", A_TOKEN, H_OTHER, H_HOLDER, D_AMOUNT), NULL), TE_RC_NO_TRANSFER);
	request(&r, UETR, SC_TOKEN_BURN, 1234567);
	assert_int_equal(match(&r, receipt("0x1", A_TOKEN, H_HOLDER, H_ZERO, D_AMOUNT), NULL), TE_RC_OK);
	request(&r, UETR, SC_TOKEN_TRANSFER, 1234567);
	assert_int_equal(match(&r, receipt("0x1", A_TOKEN, H_HOLDER, H_OTHER, D_AMOUNT), NULL), TE_RC_OK);
	assert_int_equal(match(&r, receipt("0x1", A_TOKEN, H_OTHER, H_HOLDER, D_AMOUNT), NULL), TE_RC_NO_TRANSFER);
	assert_int_equal(match(&r, json_null(), NULL), TE_RC_ABSENT);
	assert_int_equal(match(&r, json_pack("{s:s}", "status", "0x1"), NULL), TE_RC_BAD);
}

static void
test_revert_reason(void **state)
{
	char reason[8], text[160];
	uint8_t d[4 + 96];
	size_t len;
	/* OpenZeppelin 5 custom errors (selectors from `cast sig`) */
	assert_int_equal(hex_decode("0xe450d38c0000000000000000000000003c44cdddb6a900fa2b585dd299e03d12fa4293bc"
	                            "0000000000000000000000000000000000000000000000000000000000000005"
	                            "0000000000000000000000000000000000000000000000000000000000000007",
	                            202, HEX_PREFIX_OPTIONAL, d, sizeof d, &len, NULL),
	                 HEX_OK);
	te_revert_reason(d, len, reason, text, sizeof text);
	assert_string_equal(reason, "AM04");
	assert_non_null(strstr(text, "balance"));
	assert_int_equal(hex_decode("0xfb8f41b2", 10, HEX_PREFIX_OPTIONAL, d, sizeof d, &len, NULL), HEX_OK);
	te_revert_reason(d, len, reason, text, sizeof text);
	assert_string_equal(reason, "AG01");
	assert_int_equal(hex_decode("0xe2517d3f", 10, HEX_PREFIX_OPTIONAL, d, sizeof d, &len, NULL), HEX_OK);
	te_revert_reason(d, len, reason, text, sizeof text);
	assert_string_equal(reason, "NARR");
	assert_non_null(strstr(text, "role"));
	/* Error(string) "no" and nothing: NARR with chain/revert.h's reading. */
	assert_int_equal(hex_decode("0x08c379a0"
	                            "0000000000000000000000000000000000000000000000000000000000000020"
	                            "0000000000000000000000000000000000000000000000000000000000000002"
	                            "6e6f000000000000000000000000000000000000000000000000000000000000",
	                            202, HEX_PREFIX_OPTIONAL, d, sizeof d, &len, NULL),
	                 HEX_OK);
	te_revert_reason(d, len, reason, text, sizeof text);
	assert_string_equal(reason, "NARR");
	assert_non_null(strstr(text, "no"));
	te_revert_reason(d, 0, reason, text, sizeof text);
	assert_string_equal(reason, "NARR");
}

/* ---- the state machine ------------------------------------------------------------------------- */

typedef struct {
	tqt_store s;
	te_cfg cfg;
	te_ctx x;
} fx;

static const tq_cfg qcfg = {
	.backend = "erc20", .map_size = 1u << 20, .retry_ns = 1000, .retry_max_ns = 4000, .result_attempts = 3
};

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	f->cfg.chain_id = 138;
	f->cfg.gas_limit = 150000;
	f->cfg.stall_ns = 1000000000ull;
	f->x.cfg = &f->cfg;
	f->x.q = tqt_store_open(&f->s, "erc20_test", &qcfg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	tqt_store_close(&f->s);
	free(f);
	return 0;
}

static int
on_request(fx *f, const sc_token_request *r, const char *refuse, uint64_t now, tq_rec *rec)
{
	char err[256];
	assert_int_equal(tq_begin(f->s.q, err, sizeof err), 0);
	int o = 0;
	assert_int_equal(te_on_request(&f->x, r, refuse, now, rec, &o, err, sizeof err), 0);
	assert_true(o > 0);
	assert_int_equal(tq_commit(f->s.q, tqt_pub, NULL, err, sizeof err), 0);
	return o;
}

static int
on_status(fx *f, const sc_tx_status *s, uint64_t now, tq_rec *rec)
{
	char err[256];
	assert_int_equal(tq_begin(f->s.q, err, sizeof err), 0);
	int o = 0;
	assert_int_equal(te_on_tx_status(&f->x, s, now, rec, &o, err, sizeof err), 0);
	assert_true(o > 0);
	assert_int_equal(tq_commit(f->s.q, tqt_pub, NULL, err, sizeof err), 0);
	return o;
}

static int
on_receipt(fx *f, const uint8_t id[16], const te_receipt *rc, uint64_t now, tq_rec *rec)
{
	char err[256];
	assert_int_equal(tq_begin(f->s.q, err, sizeof err), 0);
	int o = 0;
	assert_int_equal(te_on_receipt(&f->x, id, rc, now, 5000, rec, &o, err, sizeof err), 0);
	assert_true(o > 0);
	assert_int_equal(tq_commit(f->s.q, tqt_pub, NULL, err, sizeof err), 0);
	return o;
}

static void
status(sc_tx_status *s, const uint8_t id[16], int state, uint8_t hash_byte)
{
	memset(s, 0, sizeof *s);
	memset(s->tx_hash, hash_byte, 32);
	s->chain_id = 138;
	s->state = state;
	s->block_number = 27;
	hex_encode(id, 16, 0, s->ref);
}

static tq_stats
stats(fx *f)
{
	tq_stats st;
	char err[256];
	assert_int_equal(tq_get_stats(f->s.q, &st, err, sizeof err), 0);
	return st;
}

static void
test_happy_path(void **state)
{
	fx *f = *state;
	sc_token_request r;
	sc_token_result res;
	sc_tx_request txr;
	sc_tx_status s;
	tq_rec rec;
	sc_err e;
	uint8_t id[16];
	char err[256];
	request(&r, UETR, SC_TOKEN_MINT, 1234567);
	tq_key_id(UETR, id);
	assert_int_equal(on_request(f, &r, NULL, 100, &rec), TE_O_NEW);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	/* One tx.request whose id is the payment's key id, ref its hex, on the token; and pending. */
	assert_int_equal(tqt_count("tx.request"), 1);
	const tqt_frame *tf = tqt_last("tx.request");
	assert_true(tf->has_id && memcmp(tf->id, id, 16) == 0);
	assert_int_equal(sc_decode(&SC_TX_REQUEST, tf->body, tf->len, &txr, &e), 0);
	assert_memory_equal(txr.id, id, 16);
	assert_memory_equal(txr.to, r.token, 20);
	assert_int_equal(txr.chain_id, 138);
	assert_int_equal(txr.gas_limit, 150000);
	assert_int_equal(txr.data_len, 68);
	char ref[33];
	hex_encode(id, 16, 0, ref);
	assert_string_equal(txr.ref, ref);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_PENDING);
	assert_string_equal(res.backend, "erc20");
	assert_string_equal(res.idempotency_key, UETR);
	assert_int_equal(stats(f).calls_pending, 1);

	/* The same request again (the tokenizer re-publishes): pending again, never a second tx.request. */
	r.received_at_ns = 999;
	assert_int_equal(on_request(f, &r, NULL, 200, &rec), TE_O_REPEAT);
	assert_int_equal(tqt_count("tx.request"), 1);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_PENDING);
	/* Same key, other amount: a conflict, nothing new. */
	u256_from_u64(&r.amount, 7);
	assert_int_equal(on_request(f, &r, NULL, 200, &rec), TE_O_CONFLICT);
	assert_int_equal(tqt_count("tx.request"), 1);
	assert_int_equal(stats(f).calls_pending, 1);

	/* Re-publication from the outbox keeps the id. */
	tqt_reset();
	assert_true(tq_resend(f->s.q, 1000000, 0, tqt_pub, NULL, NULL, err, sizeof err) >= 1);
	assert_int_equal(tqt_count("tx.request"), 1);
	assert_memory_equal(tqt_last("tx.request")->id, id, 16);

	/* pending tx.status: the signer has it (outbox acked); the hash is reported. */
	status(&s, id, SC_TX_PENDING, 0xab);
	assert_int_equal(on_status(f, &s, 300, &rec), TE_O_CHANGED);
	assert_int_equal(stats(f).calls_pending, 0);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_PENDING);
	assert_int_equal(res.tx_hash[0], 0xab);
	assert_int_equal(on_status(f, &s, 310, &rec), TE_O_SAME);
	/* A status for someone else's request, or another chain: not ours. */
	uint8_t other[16] = { 1 };
	status(&s, other, SC_TX_CONFIRMED, 0xab);
	assert_int_equal(on_status(f, &s, 320, &rec), TE_O_UNKNOWN);
	status(&s, id, SC_TX_CONFIRMED, 0xab);
	s.chain_id = 1;
	assert_int_equal(on_status(f, &s, 320, &rec), TE_O_UNKNOWN);

	/* confirmed: MINED, listed for the receipt check; nothing final published yet. */
	status(&s, id, SC_TX_CONFIRMED, 0xab);
	tqt_reset();
	assert_int_equal(on_status(f, &s, 400, &rec), TE_O_CHANGED);
	assert_int_equal(rec.state, TQ_MINED);
	assert_int_equal(tqt_count("token.result"), 0);
	uint8_t ids[4][16];
	assert_int_equal(tq_list(f->s.q, TQ_MINED, 400, ids, 4, err, sizeof err), 1);
	assert_memory_equal(ids[0], id, 16);

	/* An RPC failure keeps it MINED, checked again later. */
	te_receipt rc = { .outcome = TE_RC_BAD };
	assert_int_equal(on_receipt(f, id, &rc, 500, &rec), TE_O_SAME);
	assert_int_equal(rec.state, TQ_MINED);
	assert_int_equal(tq_list(f->s.q, TQ_MINED, 500, ids, 4, err, sizeof err), 0);
	assert_int_equal(tq_list(f->s.q, TQ_MINED, 5500, ids, 4, err, sizeof err), 1);

	/* The matching Transfer: confirmed with hash and block; the result waits for the token.status. */
	rc.outcome = TE_RC_OK;
	rc.block_number = 28;
	assert_int_equal(on_receipt(f, id, &rc, 6000, &rec), TE_O_CHANGED);
	assert_int_equal(rec.state, TQ_CONFIRMED);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_CONFIRMED);
	assert_int_equal(res.block_number, 28);
	assert_int_equal(res.tx_hash[31], 0xab);
	assert_int_equal(stats(f).results_pending, 1);
	assert_int_equal(stats(f).open[TQ_MINED], 0);
	/* A late tx.status changes nothing. */
	status(&s, id, SC_TX_FAILED, 0xab);
	assert_int_equal(on_status(f, &s, 6100, &rec), TE_O_SAME);
	assert_int_equal(rec.state, TQ_CONFIRMED);

	/* token.status confirmed from the tokenizer acks the result. */
	sc_token_result st = res;
	st.state = SC_TOKST_FAILED; /* not the state we reported: no ack */
	int acked = 0;
	assert_int_equal(tq_begin(f->s.q, err, sizeof err), 0);
	assert_int_equal(tq_status_ack(f->s.q, &st, &acked, err, sizeof err), 0);
	assert_int_equal(acked, 0);
	st.state = SC_TOKST_CONFIRMED;
	assert_int_equal(tq_status_ack(f->s.q, &st, &acked, err, sizeof err), 0);
	assert_int_equal(acked, 1);
	assert_int_equal(tq_commit(f->s.q, tqt_pub, NULL, err, sizeof err), 0);
	assert_int_equal(stats(f).results_pending, 0);

	/* Durable: after a reopen the record is there and a repeat answers confirmed. */
	tq_close(f->s.q);
	f->x.q = tqt_reopen(&f->s);
	tqt_reset();
	request(&r, UETR, SC_TOKEN_MINT, 1234567);
	assert_int_equal(on_request(f, &r, NULL, 7000, &rec), TE_O_REPEAT);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_CONFIRMED);
	assert_int_equal(tqt_count("tx.request"), 0);
}

/* The statuses of a submitted request's transaction missed (published while the backend was down):
 * the SUBMITTED record with its hash is moved by a receipt that is there, as a MINED one would be
 * (main.c looks such records up at start and when stalled); an absent or unreadable receipt leaves
 * it waiting for its statuses; a SUBMITTED record without a hash is never moved by a receipt. */
static void
test_missed_statuses(void **state)
{
	fx *f = *state;
	sc_token_request r;
	sc_token_result res;
	sc_tx_status s;
	tq_rec rec;
	uint8_t id[16];
	request(&r, UETR, SC_TOKEN_MINT, 1234567);
	tq_key_id(UETR, id);
	assert_int_equal(on_request(f, &r, NULL, 100, &rec), TE_O_NEW);
	/* no hash yet: a receipt cannot move it */
	te_receipt rc = { .outcome = TE_RC_OK, .block_number = 28 };
	memset(rc.tx_hash, 0xab, 32);
	assert_int_equal(on_receipt(f, id, &rc, 150, &rec), TE_O_SAME);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	status(&s, id, SC_TX_PENDING, 0xab);
	assert_int_equal(on_status(f, &s, 200, &rec), TE_O_CHANGED);
	/* not mined yet, or the RPC failed: it waits as it was */
	rc.outcome = TE_RC_ABSENT;
	assert_int_equal(on_receipt(f, id, &rc, 300, &rec), TE_O_SAME);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	rc.outcome = TE_RC_BAD;
	assert_int_equal(on_receipt(f, id, &rc, 300, &rec), TE_O_SAME);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	/* mined with the Transfer: confirmed, though no confirmed tx.status ever came */
	rc.outcome = TE_RC_OK;
	assert_int_equal(on_receipt(f, id, &rc, 400, &rec), TE_O_CHANGED);
	assert_int_equal(rec.state, TQ_CONFIRMED);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_CONFIRMED);
	assert_int_equal(res.block_number, 28);
	assert_int_equal(stats(f).open[TQ_SUBMITTED], 0);
}

static void
test_failures(void **state)
{
	fx *f = *state;
	sc_token_request r;
	sc_token_result res;
	sc_tx_status s;
	tq_rec rec;
	uint8_t id[16];
	char err[256];

	/* Refused up front (the caller's decimals check): rejected, stored, never a tx.request. */
	request(&r, "key-decimals", SC_TOKEN_MINT, 10);
	assert_int_equal(on_request(f, &r, "request says 6 decimals, the token contract 18", 100, &rec), TE_O_REJECTED);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_REJECTED);
	assert_string_equal(res.reason, "NARR");
	assert_non_null(strstr(res.error, "18"));
	assert_int_equal(tqt_count("tx.request"), 0);
	assert_int_equal(on_request(f, &r, NULL, 110, &rec), TE_O_REPEAT);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_REJECTED);

	/* Reverted in a block: the receipt check confirms it, with the replayed reason (AM04). */
	request(&r, "key-revert", SC_TOKEN_BURN, 10);
	tq_key_id("key-revert", id);
	assert_int_equal(on_request(f, &r, NULL, 200, &rec), TE_O_NEW);
	status(&s, id, SC_TX_FAILED, 0xcd);
	s.error = SC_TXERR_REVERTED;
	snprintf(s.error_text, sizeof s.error_text, "execution reverted");
	size_t before = tqt_nframes;
	assert_int_equal(on_status(f, &s, 300, &rec), TE_O_CHANGED);
	assert_int_equal(rec.state, TQ_MINED);
	assert_int_equal(tqt_nframes, before); /* nothing final yet */
	assert_int_equal(stats(f).calls_pending, 0);
	te_receipt rv = { .outcome = TE_RC_REVERTED, .block_number = 27 };
	snprintf(rv.reason, sizeof rv.reason, "AM04");
	snprintf(rv.text, sizeof rv.text, "reverted: insufficient token balance (block 27)");
	assert_int_equal(on_receipt(f, id, &rv, 310, &rec), TE_O_CHANGED);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_FAILED);
	assert_string_equal(res.reason, "AM04");
	assert_non_null(strstr(res.error, "insufficient"));
	/* Failed before any block (the node refused it): failed at once with the node's text. */
	request(&r, "key-refused", SC_TOKEN_MINT, 10);
	tq_key_id("key-refused", id);
	assert_int_equal(on_request(f, &r, NULL, 320, &rec), TE_O_NEW);
	status(&s, id, SC_TX_FAILED, 0xce);
	s.block_number = 0;
	s.error = SC_TXERR_INSUFFICIENT_FUNDS;
	snprintf(s.error_text, sizeof s.error_text, "insufficient funds for gas * price + value");
	assert_int_equal(on_status(f, &s, 330, &rec), TE_O_CHANGED);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_FAILED);
	assert_non_null(strstr(res.error, "gas"));

	/* Replaced: the new hash is followed; a failure of the old one is ignored; the receipt says
	 * reverted -> failed. */
	request(&r, "key-replaced", SC_TOKEN_TRANSFER, 10);
	tq_key_id("key-replaced", id);
	assert_int_equal(on_request(f, &r, NULL, 400, &rec), TE_O_NEW);
	status(&s, id, SC_TX_PENDING, 0x01);
	assert_int_equal(on_status(f, &s, 410, &rec), TE_O_CHANGED);
	status(&s, id, SC_TX_REPLACED, 0x01);
	memset(s.replaced_by, 0x02, 32);
	assert_int_equal(on_status(f, &s, 420, &rec), TE_O_CHANGED);
	assert_int_equal(rec.tx_hash[0], 0x02);
	status(&s, id, SC_TX_FAILED, 0x01);
	assert_int_equal(on_status(f, &s, 430, &rec), TE_O_SAME);
	status(&s, id, SC_TX_CONFIRMED, 0x02);
	assert_int_equal(on_status(f, &s, 440, &rec), TE_O_CHANGED);
	/* reorged out before the check: back to following it */
	status(&s, id, SC_TX_REORGED, 0x02);
	assert_int_equal(on_status(f, &s, 450, &rec), TE_O_CHANGED);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	status(&s, id, SC_TX_CONFIRMED, 0x02);
	assert_int_equal(on_status(f, &s, 460, &rec), TE_O_CHANGED);
	te_receipt rc = { .outcome = TE_RC_NO_TRANSFER, .block_number = 30 };
	snprintf(rc.text, sizeof rc.text, "succeeded but no Transfer");
	assert_int_equal(on_receipt(f, id, &rc, 470, &rec), TE_O_CHANGED);
	assert_int_equal(tqt_last_result(&res), SC_TOKST_FAILED);
	assert_string_equal(res.reason, "NARR");

	/* Unacknowledged terminal results are re-published at most result_attempts (3) times. */
	assert_int_equal(stats(f).results_pending, 4);
	uint64_t gave = 0, now = 1000000;
	for (int i = 0; i < 6; i++, now += 1000000)
		assert_true(tq_resend(f->s.q, now, 0, tqt_pub, NULL, &gave, err, sizeof err) >= 0);
	assert_int_equal(gave, 4);
	assert_int_equal(stats(f).results_pending, 0);

	/* Stall: a SUBMITTED record with no tx.status is listed once its deadline passed. */
	request(&r, "key-stall", SC_TOKEN_MINT, 10);
	assert_int_equal(on_request(f, &r, NULL, 2000000000ull, &rec), TE_O_NEW);
	uint8_t ids[8][16];
	assert_int_equal(tq_list(f->s.q, TQ_SUBMITTED, 2000000000ull, ids, 8, err, sizeof err), 0);
	assert_int_equal(tq_list(f->s.q, TQ_SUBMITTED, 3000000000ull, ids, 8, err, sizeof err), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calldata),
		cmocka_unit_test(test_receipt),
		cmocka_unit_test(test_revert_reason),
		cmocka_unit_test_setup_teardown(test_happy_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missed_statuses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
