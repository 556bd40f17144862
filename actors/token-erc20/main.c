/*
 * token-erc20 - the direct ERC-20 backend of the Financial Tokenization service: token.requests naming
 * backend "erc20" become tx.requests (mint / burn / transferFrom on the token contract) for the signer ->
 * submitter path; a request is confirmed only on a confirmed tx.status whose receipt (read here over
 * JSON-RPC) carries the matching Transfer log. See README.md beside this file.
 *
 * This file is the process: configuration, and the jobs bus/actor.h's act_run runs after each batch of
 * messages (one LMDB commit per batch through store/tokreq.h; erc20.h holds the state machine): receipt
 * checks, decimals checks, the outboxes' re-publish (tq_resend_tick), metrics, alerts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/err.h"
#include "actors/token-erc20/erc20.h"
#include "bus/actor.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "chain/abi.h"
#include "base/hex.h"
#include "chain/rpc.h"

#define TEM_BACKEND "erc20"

/* ---- configuration -------------------------------------------------------------------------- */

static act_bus_cfg busc;
static const char *cfg_state_dir, *cfg_rpc, *cfg_burn, *cfg_xfer;
static uint64_t cfg_chain_id, cfg_gas_limit, cfg_batch, cfg_retry_ms, cfg_retry_max_ms, cfg_result_attempts;
static uint64_t cfg_receipt_retry_ms, cfg_stall_ms, cfg_map_mb, cfg_rpc_timeout_ms;
static rt_strlist cfg_tokens;
static te_cfg tem_cfg;
static rt_check_fn tem_check;

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "STATE_DIR", RT_STR, "data/token-erc20",
	  "LMDB directory: requests, open requests, result and tx.request "
	  "outboxes",
	  &cfg_state_dir, 0, 0, 0, 0 },
	{ "RPC_URL", RT_HTTP_URL, NULL, "JSON-RPC endpoints for receipts and decimals() (comma list = failover)",
	  &cfg_rpc, 0, 0, 0, RT_REQUIRED },
	{ "RPC_TIMEOUT", RT_DURATION, "5s", "one JSON-RPC call at most", &cfg_rpc_timeout_ms, 100, 120000, 0, 0 },
	{ "CHAIN_ID", RT_U64, "138", "chain of the tokens (tx.request.chain_id; tx.status of other chains ignored)",
	  &cfg_chain_id, 1, INT64_MAX, 0, 0 },
	{ "TOKENS", RT_LIST, NULL,
	  "token contracts this backend acts on (comma list of addresses); empty = any the "
	  "request names (the signer's ALLOWED_CONTRACTS still applies)",
	  &cfg_tokens, 0, 0, TE_MAX_TOKENS, 0 },
	{ "GAS_LIMIT", RT_U64, "150000", "gas limit asked in each tx.request (0 = the signer's GAS_LIMIT)",
	  &cfg_gas_limit, 0, 30000000, 0, 0 },
	{ "BURN_FUNCTION", RT_STR, "burn",
	  "burn call: burn (burn(address,uint256), PaymentToken) or burnFrom "
	  "(burnFrom(address,uint256), ERC20Burnable)",
	  &cfg_burn, 0, 0, 0, 0 },
	{ "TRANSFER_FUNCTION", RT_STR, "transferFrom",
	  "transfer call: transferFrom (transferFrom(address,address,"
	  "uint256)) or transferWithData (PaymentToken's transferWithData(address,address,uint256,bytes))",
	  &cfg_xfer, 0, 0, 0, 0 },
	{ "RECEIPT_RETRY", RT_DURATION, "2s", "next receipt check after the RPC failed", &cfg_receipt_retry_ms, 10,
	  3600000, 0, 0 },
	{ "STALL_ALERT", RT_DURATION, "5m",
	  "a request without any tx.status for this long raises "
	  "tokenization_backend_failing",
	  &cfg_stall_ms, 1000, 0, 0, 0 },
	{ "BATCH_MAX", RT_U64, "256", "messages per LMDB commit (group commit)", &cfg_batch, 1, 65536, 0, 0 },
	{ "OUTBOX_RETRY", RT_DURATION, "2s",
	  "first re-publish of an unacknowledged tx.request or terminal "
	  "token.result",
	  &cfg_retry_ms, 10, 3600000, 0, 0 },
	{ "OUTBOX_RETRY_MAX", RT_DURATION, "60s", "longest re-publish interval", &cfg_retry_max_ms, 10, 3600000, 0, 0 },
	{ "RESULT_ATTEMPTS", RT_U64, "10",
	  "re-publications of a terminal token.result without a token.status "
	  "showing it",
	  &cfg_result_attempts, 1, 1000, 0, 0 },
	{ "MAP_SIZE_MB", RT_U64, "64", "initial LMDB map size (grows when full)", &cfg_map_mb, 1, 1048576, 0, 0 },
	RT_CHECK_ROW("", tem_check),
};

static void
tem_check(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	te_cfg *c = &tem_cfg;
	memset(c, 0, sizeof *c);
	c->chain_id = cfg_chain_id;
	c->gas_limit = cfg_gas_limit;
	c->stall_ns = cfg_stall_ms * 1000000u;
	if (strcmp(cfg_burn, "burnFrom") == 0)
		c->burn_fn = TE_BURN_BURNFROM;
	else if (strcmp(cfg_burn, "burn") != 0)
		rt_config_error(e, "BURN_FUNCTION", "'%.20s' is neither burn nor burnFrom", cfg_burn);
	if (strcmp(cfg_xfer, "transferWithData") == 0)
		c->transfer_fn = TE_XFER_WITHDATA;
	else if (strcmp(cfg_xfer, "transferFrom") != 0)
		rt_config_error(e, "TRANSFER_FUNCTION", "'%.30s' is neither transferFrom nor transferWithData",
		                cfg_xfer);
	for (size_t i = 0; i < cfg_tokens.n; i++) {
		const char *t = cfg_tokens.v[i];
		uint8_t *a = c->tokens[c->ntokens];
		char why[128];
		if (rt_check_addr(t, a, why, sizeof why) != 0) {
			rt_config_error(e, "TOKENS", "'%.50s' is not an address: %s", t, why);
			continue;
		}
		if (hex_addr_parse(t, strlen(t), a) != HEX_OK) {
			rt_config_error(e, "TOKENS", "'%.50s' has a wrong EIP-55 checksum", t);
			continue;
		}
		int dup = 0;
		for (size_t j = 0; j < c->ntokens; j++)
			dup |= memcmp(c->tokens[j], a, 20) == 0;
		if (dup)
			rt_config_error(e, "TOKENS", "'%.50s' is listed twice", t);
		else
			c->ntokens++;
	}
	rt_config_dir(e, "STATE_DIR", cfg_state_dir, 0);
}

/* ---- state ----------------------------------------------------------------------------------- */

enum {
	TEM_REQ,
	TEM_TXST,
	TEM_TOKST
};
typedef struct {
	int kind;
	union {
		sc_token_request r;
		sc_tx_status s;
		sc_token_result t;
	};
} tem_item;

typedef struct {
	uint8_t token[20];
	uint64_t decimals;
} tem_dec;

static struct {
	act_bus *bus;
	tq *q;
	rpc *rpc;
	te_ctx x;
	tem_item *items;
	size_t n;
	tq_resender rs; /* the outboxes' re-publish job */
	tem_dec dec[64];
	size_t ndec;
	int rpc_down, stalled_alerted;
	int swept;              /* the SUBMITTED records were looked up once since start (tem_receipts) */
	uint64_t next_sweep_ns; /* the next look at stalled SUBMITTED records */
	rt_metric *m_req[4], *m_results[TQ_NSTATES], *m_republished, *m_gave_up, *m_conflicts, *m_ignored,
	        *m_receipts[6], *m_open, *m_oldest, *m_results_pending, *m_calls_pending, *m_store_errors, *m_seconds,
	        *m_stalled, *m_found;
} S;

static const char *const tem_req_names[4] = { "new", "repeat", "conflict", "rejected" };
static const char *const tem_rc_names[6] = { "", "ok", "reverted", "no_transfer", "absent", "bad" };

static void
tem_metrics(void)
{
	static const double b[] = { 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600 };
	char l[64];
	for (int i = 0; i < 4; i++) {
		snprintf(l, sizeof l, "outcome=\"%s\"", tem_req_names[i]);
		S.m_req[i] =
		        rt_counter("token_erc20_requests_total", "token.requests for this backend, by outcome.", l);
	}
	for (int s = TQ_CONFIRMED; s < TQ_NSTATES; s++) {
		snprintf(l, sizeof l, "state=\"%s\"", tq_state_name(s));
		S.m_results[s] =
		        rt_counter("token_erc20_results_total", "Terminal token.results decided, by state.", l);
	}
	for (int r = 1; r < 6; r++) {
		snprintf(l, sizeof l, "outcome=\"%s\"", tem_rc_names[r]);
		S.m_receipts[r] = rt_counter("token_erc20_receipts_total", "Receipt checks, by outcome.", l);
	}
	S.m_republished = rt_counter("token_erc20_republished_total",
	                             "tx.requests and token.results re-published "
	                             "from the outboxes.",
	                             NULL);
	S.m_gave_up = rt_counter("token_erc20_results_unacked_total",
	                         "Terminal token.results dropped after "
	                         "RESULT_ATTEMPTS without a token.status showing them.",
	                         NULL);
	S.m_conflicts =
	        rt_counter("token_erc20_conflicts_total", "token.requests re-sent with other content (ignored).", NULL);
	S.m_ignored = rt_counter("token_erc20_ignored_total", "tx.status of other transactions, other chains.", NULL);
	S.m_store_errors = rt_counter("token_erc20_store_errors_total", "Batches LMDB could not commit.", NULL);
	S.m_open = rt_gauge("token_erc20_open", "Requests not yet confirmed or failed.", NULL);
	S.m_oldest = rt_gauge("token_erc20_oldest_open_age_seconds", "Age of the oldest open request.", NULL);
	S.m_stalled = rt_gauge("token_erc20_stalled", "Open requests with no tx.status for STALL_ALERT.", NULL);
	S.m_found = rt_counter("token_erc20_found_by_receipt_total",
	                       "Submitted requests whose transaction was found mined by its receipt: their tx.status "
	                       "messages were missed (published while this process was down).",
	                       NULL);
	S.m_results_pending = rt_gauge("token_erc20_results_unacked",
	                               "Terminal token.results awaiting the "
	                               "tokenizer's token.status.",
	                               NULL);
	S.m_calls_pending = rt_gauge("token_erc20_tx_requests_unacked", "tx.requests without a tx.status yet.", NULL);
	S.m_seconds =
	        rt_histogram("token_erc20_seconds", "Request taken to its terminal result.", NULL, b, OB_COUNT(b));
}

/* ---- publishing ------------------------------------------------------------------------------ */

static void
tem_log_rec(int level, const char *msg, const tq_rec *rec)
{
	char id[33], tx[67];
	hex_encode(rec->id, 16, 0, id);
	hex_encode(rec->tx_hash, 32, 1, tx);
	rt_logkv(level, msg, "payment_id", id, "state", tq_state_name(rec->state), "tx", tx, "reason", rec->reason,
	         "error", rec->error, NULL);
}

static void
tem_terminal(const tq_rec *rec)
{
	rt_inc(S.m_results[rec->state]);
	rt_observe(S.m_seconds, (double)(rec->updated_ns - rec->created_ns) / 1e9);
	tem_log_rec(rec->state == TQ_CONFIRMED ? RT_INFO : RT_WARN, "request final", rec);
}

/* ---- decimals: the request's pinned decimals against the contract's decimals() ------------------ */

/* 1 known (*d), 0 unknown for now (RPC down), -1 the contract gives none (err text). */
static int
tem_decimals(const uint8_t token[20], uint64_t *d, char *why, size_t whylen)
{
	for (size_t i = 0; i < S.ndec; i++)
		if (memcmp(S.dec[i].token, token, 20) == 0) {
			*d = S.dec[i].decimals;
			return 1;
		}
	uint8_t sel[4], *out = NULL;
	size_t outlen = 0;
	rpc_error e;
	abi_selector("decimals()", sel);
	int rv = rpc_eth_call(S.rpc, token, sel, 4, &out, &outlen, &e);
	if (rv == RPC_ETRANSPORT)
		return 0;
	if (rv != RPC_OK || outlen != 32) {
		free(out);
		snprintf(why, whylen, "token contract answers no decimals()");
		return -1;
	}
	u256 v;
	u256_from_be(&v, out, 32);
	free(out);
	if (!u256_fits_u64(&v) || u256_low64(&v) > 255) {
		snprintf(why, whylen, "token decimals() out of range");
		return -1;
	}
	*d = u256_low64(&v);
	if (S.ndec < OB_COUNT(S.dec)) {
		memcpy(S.dec[S.ndec].token, token, 20);
		S.dec[S.ndec++].decimals = *d;
	}
	return 1;
}

/* Before a new request is taken: its decimals must be the contract's. 1 take it (refuse filled when it
 * must be rejected), 0 leave it (the chain cannot be asked now: the tokenizer re-publishes). */
static int
tem_precheck(const sc_token_request *r, char *refuse, size_t len)
{
	tq_rec rec;
	uint8_t id[16];
	uint64_t d;
	char err[200];
	refuse[0] = '\0';
	tq_key_id(r->idempotency_key, id);
	if (tq_get(S.q, id, &rec, err, sizeof err) == 0)
		return 1; /* known: answered from the store */
	if (te_is_zero(r->token, 20))
		return 1; /* te_calldata rejects it */
	int k = tem_decimals(r->token, &d, refuse, len);
	if (k == 0)
		return 0;
	if (k > 0 && d != r->decimals)
		snprintf(refuse, len, "request says %llu decimals, the token contract %llu",
		         (unsigned long long)r->decimals, (unsigned long long)d);
	return 1;
}

/* ---- batches --------------------------------------------------------------------------------- */

static void
tem_flush(void *ctx)
{
	char err[256], refuse[160];
	if (S.n == 0)
		return;
	uint64_t now = rt_now_ns();
	int take[S.n];
	char(*why)[160] = calloc(S.n, sizeof *why);
	if (why == NULL) {
		S.n = 0;
		return;
	}
	/* RPC before the write transaction: it may take seconds. */
	for (size_t i = 0; i < S.n; i++) {
		take[i] = 1;
		if (S.items[i].kind == TEM_REQ) {
			take[i] = tem_precheck(&S.items[i].r, refuse, sizeof refuse);
			snprintf(why[i], sizeof why[i], "%s", refuse);
		}
	}
	int outcome[S.n];
	tq_rec *recs = calloc(S.n, sizeof *recs);
	int rv = recs == NULL ? ENOMEM : tq_begin(S.q, err, sizeof err);
	if (rv != 0) {
		act_store_result(S.m_store_errors, rv, "batch not stored: no transaction (the producers re-send)",
		                 rv == ENOMEM ? "" : err);
		goto out;
	}
	for (size_t i = 0; i < S.n && rv == 0; i++) {
		tem_item *it = &S.items[i];
		outcome[i] = 0;
		if (!take[i])
			continue;
		switch (it->kind) {
		case TEM_REQ:
			rv = te_on_request(&S.x, &it->r, why[i], now, &recs[i], &outcome[i], err, sizeof err);
			break;
		case TEM_TXST:
			rv = te_on_tx_status(&S.x, &it->s, now, &recs[i], &outcome[i], err, sizeof err);
			break;
		default:
			rv = tq_status_ack(S.q, &it->t, NULL, err, sizeof err);
			break;
		}
	}
	if (rv != 0)
		tq_abort(S.q);
	else
		rv = tq_commit(S.q, act_publish_body, S.bus, err, sizeof err);
	act_store_result(S.m_store_errors, rv, "batch not stored; nothing published (the producers re-send)", err);
	if (rv != 0)
		goto out;
	for (size_t i = 0; i < S.n; i++) {
		tem_item *it = &S.items[i];
		if (it->kind == TEM_REQ && take[i]) {
			int o = outcome[i];
			rt_inc(S.m_req[o == TE_O_NEW ? 0 : o == TE_O_REPEAT ? 1 : o == TE_O_CONFLICT ? 2 : 3]);
			if (o == TE_O_NEW)
				tem_log_rec(RT_INFO, "request taken; tx.request sent", &recs[i]);
			else if (o == TE_O_CONFLICT)
				rt_inc(S.m_conflicts),
				        tem_log_rec(RT_WARN, "request re-sent with other content: ignored", &recs[i]);
			else if (o == TE_O_REJECTED)
				tem_terminal(&recs[i]);
		} else if (it->kind == TEM_TXST) {
			if (outcome[i] == TE_O_UNKNOWN)
				rt_inc(S.m_ignored);
			else if (outcome[i] == TE_O_CHANGED && tq_terminal(recs[i].state))
				tem_terminal(&recs[i]);
		}
	}
out:
	free(recs);
	free(why);
	S.n = 0;
}

/* Why a mined call reverted: the same call replayed with eth_call from the same sender on the state of
 * the block before (close enough: the state the call met may include earlier txs of its block). The
 * reason stays NARR when the replay does not revert (state changed) or the node gives no data. */
static void
tem_replay(const tq_rec *rec, te_receipt *rc)
{
	uint8_t data[SC_CALLDATA_CAP];
	size_t len;
	char reason[8], why[160], from[43], to[43], block[24], text[160];
	rpc_error e;
	json_t *res = NULL;
	if (te_calldata(&tem_cfg, &rec->req, data, sizeof data, &len, reason, why, sizeof why) != 0 ||
	    rc->block_number == 0)
		return;
	char *hex = malloc(2 * len + 3);
	if (hex == NULL)
		return;
	hex_encode(data, len, 1, hex);
	hex_addr_format(rc->from, from);
	hex_addr_format(rec->req.token, to);
	snprintf(block, sizeof block, "0x%llx", (unsigned long long)(rc->block_number - 1));
	json_t *params = json_pack("[{s:s, s:s, s:s}, s]", "from", from, "to", to, "data", hex, block);
	free(hex);
	int rv = rpc_call(S.rpc, "eth_call", params, &res, &e);
	json_decref(res);
	if (rv != RPC_ENODE || e.data[0] == '\0')
		return;
	uint8_t rd[512];
	size_t rdlen = 0;
	if (hex_decode(e.data, strlen(e.data), HEX_PREFIX_OPTIONAL, rd, sizeof rd, &rdlen, NULL) != HEX_OK)
		return;
	te_revert_reason(rd, rdlen, rc->reason, text, sizeof text);
	snprintf(rc->text, sizeof rc->text, "%.100s (block %llu)", text, (unsigned long long)rc->block_number);
}

/* Reads the receipts of MINED records and applies them (one commit per batch of checks). */
static void
tem_receipts(void *ctx)
{
	uint8_t ids[64][16];
	char err[256];
	uint64_t t0 = rt_now_ns();
	long n = tq_list(S.q, TQ_MINED, t0, ids, OB_COUNT(ids), err, sizeof err), nmined;
	n = n < 0 ? 0 : n;
	nmined = n;
	/* SUBMITTED records with a hash whose statuses may have been missed (published while this
	 * process was down: pub/sub keeps nothing for it): every one once at start, then the stalled
	 * ones (no status for STALL_ALERT) every RECEIPT_RETRY. A receipt that is there moves them
	 * (te_on_receipt); the others wait for their statuses as before. */
	if (n < (long)OB_COUNT(ids) && (!S.swept || t0 >= S.next_sweep_ns)) {
		long k = tq_list(S.q, TQ_SUBMITTED, S.swept ? t0 : UINT64_MAX, ids + n, OB_COUNT(ids) - (size_t)n, err,
		                 sizeof err);
		n += k > 0 ? k : 0;
		S.swept = 1;
		S.next_sweep_ns = t0 + cfg_receipt_retry_ms * 1000000u;
	}
	if (n <= 0)
		return;
	te_receipt rc[64];
	tq_rec recs[64];
	for (long i = 0; i < n; i++) {
		char hash[67];
		rpc_error e;
		json_t *res = NULL;
		memset(&rc[i], 0, sizeof rc[i]);
		if (tq_get(S.q, ids[i], &recs[i], err, sizeof err) != 0) {
			rc[i].outcome = TE_RC_BAD;
			continue;
		}
		if (i >= nmined && te_is_zero(recs[i].tx_hash, 32)) {
			rc[i].outcome = TE_RC_BAD; /* no transaction yet (the tx.request is re-sent): nothing to read */
			continue;
		}
		hex_encode(recs[i].tx_hash, 32, 1, hash);
		int rv = rpc_call(S.rpc, "eth_getTransactionReceipt", json_pack("[s]", hash), &res, &e);
		if (rv != RPC_OK) {
			rc[i].outcome = TE_RC_BAD;
			snprintf(rc[i].text, sizeof rc[i].text, "rpc: %.120s", e.msg);
		} else {
			te_match_receipt(res, &recs[i].req, &rc[i]);
			json_decref(res);
			if (rc[i].outcome == TE_RC_OK && memcmp(rc[i].tx_hash, recs[i].tx_hash, 32) != 0) {
				rc[i].outcome = TE_RC_BAD;
				snprintf(rc[i].text, sizeof rc[i].text, "receipt of another transaction");
			}
		}
		if (rc[i].outcome == TE_RC_REVERTED)
			tem_replay(&recs[i], &rc[i]);
		rt_inc(S.m_receipts[rc[i].outcome]);
		if (rc[i].outcome == TE_RC_BAD && rt_log_state_change("erc20.receipt", rc[i].text))
			rt_logkv(RT_WARN, "receipt check failed; retried", "error", rc[i].text, NULL);
	}
	uint64_t now = rt_now_ns();
	int out[64];
	int rv = tq_begin(S.q, err, sizeof err);
	for (long i = 0; i < n && rv == 0; i++)
		rv = te_on_receipt(&S.x, ids[i], &rc[i], now, cfg_receipt_retry_ms * 1000000u, &recs[i], &out[i], err,
		                   sizeof err);
	if (rv != 0)
		tq_abort(S.q);
	else
		rv = tq_commit(S.q, act_publish_body, S.bus, err, sizeof err);
	/* The records stay MINED: the receipts are read again next round. */
	act_store_result(S.m_store_errors, rv, "receipt results not stored (checked again)", err);
	if (rv != 0)
		return;
	for (long i = 0; i < n; i++) {
		if (i >= nmined && out[i] == TE_O_CHANGED) { /* its statuses were missed */
			char id[33];
			hex_encode(ids[i], 16, 0, id);
			rt_inc(S.m_found);
			rt_logkv(RT_WARN,
			         "a submitted request's transaction found mined by its receipt (its tx.status "
			         "messages were missed)",
			         "payment_id", id, NULL);
		}
		if (out[i] == TE_O_CHANGED && tq_terminal(recs[i].state))
			tem_terminal(&recs[i]);
	}
}

/* Gauges, the RPC health, and the grouped stall alert (state changes only). */
static void
tem_watch(void *ctx)
{
	tq_stats st;
	char err[256];
	if (tq_get_stats(S.q, &st, err, sizeof err) == 0) {
		uint64_t open = st.open[TQ_QUEUED] + st.open[TQ_SUBMITTED] + st.open[TQ_MINED];
		rt_gauge_set(S.m_open, (double)open);
		rt_gauge_set(S.m_oldest, st.oldest_open_ns ? (double)(rt_now_ns() - st.oldest_open_ns) / 1e9 : 0);
		rt_gauge_set(S.m_results_pending, (double)st.results_pending);
		rt_gauge_set(S.m_calls_pending, (double)st.calls_pending);
	}
	/* SUBMITTED records are listed once their stall deadline (next_ns) passed. */
	uint8_t many[256][16];
	long stalled = tq_list(S.q, TQ_SUBMITTED, rt_now_ns(), many, OB_COUNT(many), err, sizeof err);
	if (stalled >= 0) {
		rt_gauge_set(S.m_stalled, (double)stalled);
		if ((stalled > 0) != S.stalled_alerted) {
			char sum[200], cnt[24], first[33] = "";
			snprintf(cnt, sizeof cnt, "%ld", stalled);
			if (stalled > 0)
				hex_encode(many[0], 16, 0, first);
			snprintf(sum, sizeof sum,
			         "%ld erc20 token requests without any tx.status for %llu s (signer or submitter "
			         "not taking them)",
			         stalled, (unsigned long long)(cfg_stall_ms / 1000));
			const char *labels[] = { "backend", TEM_BACKEND, "count", cnt, "payment_id", first, NULL };
			act_alert(S.bus, SC_SEV_ERROR, stalled > 0 ? SC_ALERT_FIRING : SC_ALERT_RESOLVED,
			          "tokenization_backend_failing", "tokenization_backend_failing:" TEM_BACKEND, sum,
			          labels);
			S.stalled_alerted = stalled > 0;
		}
	}
	/* Down when no endpoint is verified and up (rpc.h marks an endpoint down on a transport failure). */
	int up = 0;
	for (size_t i = 0; i < rpc_endpoint_count(S.rpc); i++)
		up |= rpc_endpoint_up(S.rpc, i);
	rt_health_set("rpc", !up, "rpc: no endpoint answers");
	/* Its first run (at start, act_run's first round) said whether rpc_open's eth_chainId was
	 * answered: only now may /health drop "starting" (once busd is connected). */
	rt_ready();
}

static void
tem_on_frame(void *ctx, const bus_msg *m)
{
	char type[FRAME_TYPE_MAX + 1], topic[FRAME_TOPIC_MAX + 1];
	tem_item *it = &S.items[S.n];
	snprintf(type, sizeof type, "%.*s", (int)m->f.type_len, m->f.type);
	snprintf(topic, sizeof topic, "%.*s", (int)m->f.topic_len, m->f.topic);
	if (strcmp(topic, "token.request") == 0 && strcmp(type, "token.request") == 0) {
		if (act_decode(m, &SC_TOKEN_REQUEST, &it->r) != 0)
			return;
		if (strcmp(it->r.backend, TEM_BACKEND) != 0)
			return; /* another backend's */
		it->kind = TEM_REQ;
	} else if (strcmp(topic, "tx.status") == 0 && strcmp(type, "tx.status") == 0) {
		if (act_decode(m, &SC_TX_STATUS, &it->s) != 0)
			return;
		if (it->s.ref[0] == '\0' || it->s.feed[0] != '\0')
			return; /* price updates */
		it->kind = TEM_TXST;
	} else if (strcmp(topic, "token.status") == 0 && strcmp(type, "token.result") == 0) {
		if (act_decode(m, &SC_TOKEN_RESULT, &it->t) != 0)
			return;
		it->kind = TEM_TOKST;
	} else {
		rt_logkv(RT_WARN, "unexpected message dropped", "type", type, "topic", topic, NULL);
		return;
	}
	S.n++;
}

int
main(int argc, char **argv)
{
	char err[512];
	if (rt_init("token-erc20", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;
	tem_metrics();
	S.items = calloc(cfg_batch, sizeof *S.items);
	if (S.items == NULL) {
		rt_log(RT_ERROR, "out of memory");
		return 1;
	}
	tq_cfg qc = { .backend = TEM_BACKEND,
		      .map_size = cfg_map_mb << 20,
		      .retry_ns = cfg_retry_ms * 1000000u,
		      .retry_max_ns = cfg_retry_max_ms * 1000000u,
		      .result_attempts = (uint32_t)cfg_result_attempts };
	if ((S.q = tq_open(cfg_state_dir, &qc, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "%s", err);
		return 1;
	}
	S.x.cfg = &tem_cfg;
	S.x.q = S.q;
	if ((S.rpc = rpc_open(cfg_rpc, cfg_chain_id, (int)cfg_rpc_timeout_ms, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "RPC_URL: %s", err);
		return 1;
	}
	static const char *const topics[] = { "token.request", "tx.status", "token.status", NULL };
	if ((S.bus = act_open(&busc, ACT_PUB | ACT_SUB, topics, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "bus: %s", err);
		return 1;
	}
	if (tem_cfg.ntokens == 0)
		rt_log(RT_WARN, "TOKENS is empty: any token contract a request names is called (the signer's "
		                "ALLOWED_CONTRACTS still applies)");
	rt_logkv(RT_INFO, "token-erc20 ready", "state", cfg_state_dir, "burn", cfg_burn, "transfer", cfg_xfer, NULL);

	/* Whatever a previous run queued but may not have published. */
	bus_pub_wait(act_pub(S.bus), 1, 2000);
	S.rs = (tq_resender){ .q = S.q,
		              .pub = act_publish_body,
		              .arg = S.bus,
		              .republished = S.m_republished,
		              .gave_up = S.m_gave_up,
		              .store_errors = S.m_store_errors };
	tq_resend_tick(&S.rs);
	static const act_tick ticks[] = {
		{ 0, 0, tem_flush, NULL },
		{ 0, 0, tem_receipts, NULL },
		{ 200000000u, 0, tq_resend_tick, &S.rs },
		{ 1000000000u, 1, tem_watch, NULL },
	};
	act_loop loop = { .recv_ms = 100,
		          .on_frame = tem_on_frame,
		          .n = &S.n,
		          .batch = cfg_batch,
		          .ticks = ticks,
		          .nticks = OB_COUNT(ticks) };
	act_run(S.bus, &loop);
	tem_flush(NULL);
	rt_logkv(RT_INFO, "stopping", NULL);
	act_close(S.bus);
	rpc_close(S.rpc);
	tq_close(S.q);
	free(S.items);
	rt_shutdown();
	return 0;
}
