/* submitter.c - see submitter.h. Every state change is written to LMDB before it is published,
 * so a crash between the two re-publishes at worst (consumers take tx.status as idempotent). */
#include "actors/submitter/submitter.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/submitter/classify.h"
#include "actors/submitter/revert.h"
#include "chain/revert.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "base/hex.h"
#include "chain/tx.h"

#define SUB_DONE_KEEP_NS (24ull * 3600 * 1000000000ull) /* late duplicates of tx.signed are re-acked */
#define SUB_UNASKED      INT_MIN /* a pool check not asked in a batch (sub_rcpt.known): sub_follow asks */
#define SUB_TAKE_MAX     64      /* tx.signed taken as one batch (one commit) */

struct sub {
	sub_cfg c;
	act_bus *a;
	rpc *r;
	st_env *env;
	MDB_dbi pending, done;
	sub_entry **v;
	size_t n, cap;
	uint64_t head;  /* latest block number seen */
	int rpc_state;  /* -1 unknown, 0 down, 1 up */
	int resend_all; /* after a restart: send what is pending again */
	int head_moved;
	int defer;       /* sub_save only marks entries dirty: sub_flush_saves writes them in one commit */
	sub_entry *dels; /* entries forgotten while deferred: removed from LMDB by sub_flush_saves */
	size_t ndels, capdels;
	int head_fresh; /* head was read for this batch of sends: no eth_blockNumber per first send */
	int no_batch;   /* an endpoint refused a batch request: one eth_sendRawTransaction per request */
	sc_gas_quote quote;
	int have_quote;
	uint64_t next_poll, next_quote, next_nonce; /* monotonic ms */
	sc_tx_signed *batch;                        /* sub_take's: SUB_TAKE_MAX decoded tx.signed */
	int in_take;
	int bus_up; /* the publisher's busd connection at the last sub_heard: -1 not asked yet, 0 down, 1 up */
	rt_metric *m_pub_err, *m_batches, *m_rbatches, *m_batch_refused;
	rt_metric *m_sent, *m_pending, *m_bumps, *m_resent, *m_confirm, *m_bad, *m_other, *m_up[RPC_MAX_ENDPOINTS];
};

static int sub_heard(sub *s);

static uint64_t
sub_now_ms(void)
{
	return rt_mono_ns() / 1000000u;
}

static void
sub_hex(const uint8_t *b, size_t n, char *out)
{
	hex_encode(b, n, 1, out);
}

/* Confirmations as Ethereum tools count them (ethers' wait(n), web3): the inclusion block is the
 * first, so head - inclusion + 1; 0 while not included. CONFIRMATIONS=1 means "included". */
static uint64_t
sub_confirmations(const sub *s, const sub_entry *e)
{
	return e->block_number && s->head >= e->block_number ? s->head - e->block_number + 1 : 0;
}

/* ---- metrics ------------------------------------------------------------------------------- */
static rt_metric *
sub_err_metric(const char *cls)
{
	char lab[80];
	snprintf(lab, sizeof lab, "class=\"%s\"", cls);
	return rt_counter("oracle_update_errors_total", "Transactions the node refused or that failed, by error class.",
	                  lab);
}

static void
sub_metrics(sub *s)
{
	static const double b[] = { 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800 };
	s->m_sent = rt_counter("oracle_updates_sent_total", "Price update transactions accepted by the node.", NULL);
	s->m_pending = rt_gauge("submitter_pending", "Transactions tracked until final.", NULL);
	s->m_bumps = rt_counter("submitter_bumps_total", "Fee bumps asked of the signer for stuck transactions.", NULL);
	s->m_resent = rt_counter("submitter_resent_total",
	                         "Sent transactions the node no longer held (not mined), sent again.", NULL);
	s->m_confirm = rt_histogram("submitter_confirm_seconds", "From tx.signed received to confirmed at depth.", NULL,
	                            b, sizeof b / sizeof b[0]);
	s->m_bad = rt_counter("submitter_rejected_total", "tx.signed messages refused (hash, sender, chain).", NULL);
	s->m_pub_err = rt_counter(
	        "submitter_publish_errors_total",
	        "Messages the bus refused to send (tx.status, tx.ack, tx.bump, gas.quote, nonce.sync).", NULL);
	s->m_other = rt_counter("submitter_other_signer_total",
	                        "tx.signed messages of another signer's key, left to that key's submitter.", NULL);
	s->m_batches = rt_counter("submitter_rpc_batches_total",
	                          "JSON-RPC batch requests sent (SEND_BATCH_MAX > 1), by the method of their calls.",
	                          "method=\"eth_sendRawTransaction\"");
	s->m_rbatches = rt_counter("submitter_rpc_batches_total",
	                           "JSON-RPC batch requests sent (SEND_BATCH_MAX > 1), by the method of their calls.",
	                           "method=\"eth_getTransactionReceipt\"");
	s->m_batch_refused = rt_counter(
	        "submitter_send_batch_refused_total",
	        "Batch requests an endpoint answered with one error (no batches): sends go one by one since.", NULL);
	for (const char *const *c = sub_class_names(); *c; c++)
		sub_err_metric(*c);
	for (size_t i = 0; i < rpc_endpoint_count(s->r) && i < RPC_MAX_ENDPOINTS; i++) {
		char esc[160], lab[200];
		rt_label_escape(rpc_endpoint_name(s->r, i), esc, sizeof esc);
		snprintf(lab, sizeof lab, "endpoint=\"%s\"", esc);
		s->m_up[i] = rt_gauge("submitter_rpc_up", "1 while the RPC endpoint answers on the right chain.", lab);
	}
}

static void
sub_gauges(sub *s)
{
	size_t live = 0;
	for (size_t i = 0; i < s->n; i++)
		live += s->v[i]->state != SC_TX_REPLACED;
	rt_gauge_set(s->m_pending, (double)live);
	for (size_t i = 0; i < rpc_endpoint_count(s->r) && i < RPC_MAX_ENDPOINTS; i++)
		rt_gauge_set(s->m_up[i], rpc_endpoint_up(s->r, i));
}

/* ---- storage ------------------------------------------------------------------------------- */
typedef struct {
	sub *s;
	sub_entry *e;
	int del;
} sub_wr;

static int
sub_write_fn(MDB_txn *txn, void *arg, st_err *err)
{
	sub_wr *w = arg;
	if (!w->del)
		return sub_put(txn, w->s->pending, w->e, err);
	uint8_t key[SUB_KEY_LEN], val[8];
	sub_key(w->e, key);
	int rc = st_del(txn, w->s->pending, key, sizeof key, err);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	st_key_u64(val, rt_now_ns());
	return st_put(txn, w->s->done, w->e->tx.tx_hash, 32, val, sizeof val, err);
}

/* Durable first: a failure here is logged and the in-memory state still advances; the next
 * change writes the whole record again. */
static int
sub_save(sub *s, sub_entry *e)
{
	if (s->defer) {
		e->dirty = 1;
		return 0;
	}
	st_err err;
	sub_wr w = { s, e, 0 };
	int rc = st_write(s->env, sub_write_fn, &w, &err);
	if (rc != 0)
		rt_logkv(RT_ERROR, "cannot store pending transaction", "err", err.text, NULL);
	return rc;
}

static int
sub_flush_fn(MDB_txn *txn, void *arg, st_err *err)
{
	sub *s = arg;
	for (size_t i = 0; i < s->n; i++) {
		int rc;
		if (s->v[i]->dirty && (rc = sub_put(txn, s->pending, s->v[i], err)) != 0)
			return rc;
	}
	for (size_t i = 0; i < s->ndels; i++) {
		sub_wr w = { s, &s->dels[i], 1 };
		int rc = sub_write_fn(txn, &w, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
sub_dels_grow(sub *s)
{
	size_t cap = s->capdels ? 2 * s->capdels : 16;
	sub_entry *d = realloc(s->dels, cap * sizeof *d);
	if (!d)
		return -1;
	s->dels = d;
	s->capdels = cap;
	return 0;
}

/* Ends deferred saves: every entry changed since sub_save was deferred, in one commit. What the
 * entries record after a send (sent block, attempts) is re-learned by sending again after a crash,
 * so sends need not wait for it: only the first store of a tx.signed must precede its ack. 0, or
 * -1 when the commit failed (the changes stay marked, written by the next flush). */
static int
sub_flush_saves(sub *s)
{
	st_err err;
	int any = 0;
	s->defer = 0;
	for (size_t i = 0; i < s->n; i++)
		any |= s->v[i]->dirty;
	if (!any && s->ndels == 0)
		return 0;
	if (st_write(s->env, sub_flush_fn, s, &err) != 0) {
		rt_logkv(RT_ERROR, "cannot store pending transactions", "err", err.text, NULL);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++)
		s->v[i]->dirty = 0;
	s->ndels = 0;
	return 0;
}

static void
sub_forget(sub *s, size_t i)
{
	st_err err;
	sub_wr w = { s, s->v[i], 1 };
	if (s->defer && (s->ndels < s->capdels || sub_dels_grow(s) == 0))
		s->dels[s->ndels++] = *s->v[i]; /* removed with the poll's other changes */
	else if (st_write(s->env, sub_write_fn, &w, &err) != 0)
		rt_logkv(RT_ERROR, "cannot remove final transaction", "err", err.text, NULL);
	free(s->v[i]);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof s->v[0]);
	s->n--;
}

static sub_entry *
sub_find(sub *s, const uint8_t hash[32])
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->v[i]->tx.tx_hash, hash, 32) == 0)
			return s->v[i];
	return NULL;
}

static int
sub_index(sub *s, const sub_entry *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == e)
			return (int)i;
	return -1;
}

/* ---- publishing ---------------------------------------------------------------------------- */
/* act_publish, counting a failure (act_publish logs it). What the caller does about it is its
 * own: a lost tx.ack or gas.quote is repeated by the protocol, a lost tx.bump is asked again. */
static int
sub_pub(sub *s, const char *topic, const sc_msgdef *d, const void *rec)
{
	int rv = act_publish(s->a, topic, d, rec, NULL, NULL);
	if (rv != BUS_OK)
		rt_inc(s->m_pub_err);
	return rv;
}

static void
sub_status(sub *s, sub_entry *e, int state, int errcls, const char *text)
{
	sc_tx_status st;
	memset(&st, 0, sizeof st);
	memcpy(st.tx_hash, e->tx.tx_hash, 32);
	memcpy(st.id, e->tx.id, 16);
	st.chain_id = e->tx.chain_id;
	memcpy(st.from, e->tx.from, 20);
	st.nonce = e->tx.nonce;
	st.state = state;
	st.block_number = e->block_number;
	memcpy(st.block_hash, e->block_hash, 32);
	st.confirmations = sub_confirmations(s, e);
	st.gas_used = e->gas_used;
	st.effective_gas_price = e->effective_gas_price;
	st.error = errcls;
	snprintf(st.error_text, sizeof st.error_text, "%s", text ? text : "");
	memcpy(st.replaced_by, e->replaced_by, 32);
	st.attempts = e->attempts;
	memcpy(st.feed, e->tx.feed, sizeof st.feed);
	st.answer = e->tx.answer;
	memcpy(st.ref, e->tx.ref, sizeof st.ref);
	st.observed_at_ns = rt_now_ns();
	e->state = (uint64_t)state;
	/* A lost tx.status is not repeated: the next change publishes the whole state again, and the
	 * gate re-publishes its update until a status arrives. Counted in submitter_publish_errors_total. */
	int pub = sub_pub(s, "tx.status", &SC_TX_STATUS, &st);

	char h[67], bn[24];
	sub_hex(e->tx.tx_hash, 32, h);
	snprintf(bn, sizeof bn, "%llu", (unsigned long long)e->block_number);
	rt_logkv(state == SC_TX_FAILED || state == SC_TX_DROPPED ? RT_WARN : RT_INFO, "tx status", "tx", h, "state",
	         sc_enum_name(&SC_TX_STATUS, "state", state), "block", bn, "error",
	         sc_enum_name(&SC_TX_STATUS, "error", errcls), "text", text ? text : "", "published",
	         pub == BUS_OK ? "yes" : ob_strerror(pub), NULL);
}

/* A failed transaction's alert, keyed by what failed (error class and feed), not by the tx: a feed
 * whose every update reverts raises one alert whose repeats the alerter groups, not one alert per
 * transaction. No per-tx label either (Alertmanager tells alerts apart by their labels); the
 * summary names the latest tx. */
static void
sub_alert_failed(sub *s, const sub_entry *e, const char *cls, const char *why)
{
	char key[96], h[67], summary[400];
	sub_hex(e->tx.tx_hash, 32, h);
	snprintf(key, sizeof key, "tx_failed:%s:%s", cls, e->tx.feed[0] ? e->tx.feed : "call");
	snprintf(summary, sizeof summary, "transaction %s (nonce %llu) failed: %s", h, (unsigned long long)e->tx.nonce,
	         why);
	const char *labels[] = { "class", cls, "feed", e->tx.feed, NULL };
	act_alert(s->a, SC_SEV_ERROR, SC_ALERT_FIRING, "tx_failed", key, summary, labels);
}

static void
sub_alert(sub *s, int sev, int status, const char *kind, const sub_entry *e, const char *summary)
{
	char key[96], h[67] = "", nonce[24] = "";
	if (e) {
		sub_hex(e->tx.tx_hash, 32, h);
		snprintf(nonce, sizeof nonce, "%llu", (unsigned long long)e->tx.nonce);
	}
	snprintf(key, sizeof key, "%s:%s", kind, e ? h : rt_instance());
	const char *labels[] = { "tx", h, "nonce", nonce, "feed", e ? e->tx.feed : "", NULL };
	act_alert(s->a, sev, status, kind, key, summary, e ? labels : NULL);
}

static void
sub_nonce_sync(sub *s)
{
	if (!s->c.have_signer)
		return;
	sc_nonce_sync ns;
	rpc_error e;
	memset(&ns, 0, sizeof ns);
	ns.chain_id = s->c.chain_id;
	memcpy(ns.address, s->c.signer, 20);
	if (rpc_get_tx_count(s->r, s->c.signer, "latest", &ns.latest_nonce, &e) != RPC_OK ||
	    rpc_get_tx_count(s->r, s->c.signer, "pending", &ns.pending_nonce, &e) != RPC_OK) {
		rt_logkv(RT_WARN, "nonce sync failed", "err", e.msg, NULL);
		return;
	}
	ns.block_number = s->head;
	ns.synced_at_ns = rt_now_ns();
	sub_pub(s, "nonce.sync", &SC_NONCE_SYNC, &ns); /* a lost one is repeated every NONCE_SYNC_INTERVAL */
}

static void
sub_gas_quote(sub *s)
{
	sc_gas_quote q;
	rpc_block b;
	rpc_error e;
	memset(&q, 0, sizeof q);
	q.chain_id = s->c.chain_id;
	if (rpc_block_by_number(s->r, RPC_LATEST, &b, &e) != RPC_OK ||
	    rpc_gas_price(s->r, &q.gas_price, &e) != RPC_OK) {
		rt_logkv(RT_WARN, "gas quote failed", "err", e.msg, NULL);
		return;
	}
	q.block_number = b.number;
	if (b.has_base_fee) {
		q.eip1559 = true;
		q.base_fee_per_gas = b.base_fee_per_gas;
		if (rpc_max_priority_fee(s->r, &q.max_priority_fee_per_gas, &e) != RPC_OK) {
			/* Nodes without eth_maxPriorityFeePerGas (Besu before 21.x): what gasPrice adds to
			 * the base fee is the tip it suggests. */
			if (u256_sub(&q.max_priority_fee_per_gas, &q.gas_price, &b.base_fee_per_gas))
				u256_zero(&q.max_priority_fee_per_gas);
		}
		u256_add(&q.max_fee_per_gas, &b.base_fee_per_gas, &b.base_fee_per_gas);
		u256_add(&q.max_fee_per_gas, &q.max_fee_per_gas, &q.max_priority_fee_per_gas);
	}
	q.quoted_at_ns = rt_now_ns();
	s->quote = q;
	s->have_quote = 1;
	sub_pub(s, "gas.quote", &SC_GAS_QUOTE, &q); /* a lost one is repeated at the next block */
}

static void
sub_bump(sub *s, sub_entry *e)
{
	sc_tx_bump b;
	memset(&b, 0, sizeof b);
	memcpy(b.id, e->tx.id, 16);
	memcpy(b.tx_hash, e->tx.tx_hash, 32);
	b.chain_id = e->tx.chain_id;
	memcpy(b.from, e->tx.from, 20);
	b.nonce = e->tx.nonce;
	/* The quote of the head the stuck check saw, not of the head before it: a base fee that rose
	 * in the blocks since would make a replacement at the older quote as unsendable as the tx it
	 * replaces. A fresh quote is published before the tx.bump, so the signer has it too. */
	if (!s->have_quote || s->quote.block_number < s->head)
		sub_gas_quote(s);
	const sc_gas_quote *q = s->have_quote ? &s->quote : NULL;
	sub_bump_fee(&b.min_gas_price, &e->tx.gas_price, s->c.bump_percent, q ? &q->gas_price : NULL);
	sub_bump_fee(&b.min_max_fee_per_gas, &e->tx.max_fee_per_gas, s->c.bump_percent,
	             q && q->eip1559 ? &q->max_fee_per_gas : NULL);
	sub_bump_fee(&b.min_max_priority_fee_per_gas, &e->tx.max_priority_fee_per_gas, s->c.bump_percent,
	             q && q->eip1559 ? &q->max_priority_fee_per_gas : NULL);
	b.stuck_blocks = e->sent_block ? s->head - e->sent_block : 0; /* 0: never accepted (its fee refused) */
	b.requested_at_ns = rt_now_ns();
	if (sub_pub(s, "tx.bump", &SC_TX_BUMP, &b) != BUS_OK)
		return; /* bump_block unchanged: asked again at the next poll */
	e->bump_block = s->head;
	sub_save(s, e);
	rt_inc(s->m_bumps);
	char h[67], n[24];
	sub_hex(e->tx.tx_hash, 32, h);
	snprintf(n, sizeof n, "%llu", (unsigned long long)b.stuck_blocks);
	rt_logkv(RT_WARN, "transaction stuck: fee bump asked", "tx", h, "blocks", n, NULL);
	sub_alert(s, SC_SEV_WARNING, SC_ALERT_FIRING, "tx_stuck", e,
	          "transaction not mined; fee bump asked of the signer");
}

/* ---- rpc health ---------------------------------------------------------------------------- */
static void
sub_rpc_state(sub *s, int up, const char *why)
{
	if (up == s->rpc_state)
		return;
	int was = s->rpc_state;
	s->rpc_state = up;
	rt_health_set("rpc", !up, up ? NULL : "no RPC endpoint answers on the expected chain");
	if (!up) {
		rt_logkv(RT_ERROR, "rpc unreachable", "err", why ? why : "", NULL);
		sub_alert(s, SC_SEV_ERROR, SC_ALERT_FIRING, "rpc_unreachable", NULL, "no RPC endpoint answers");
	} else if (was == 0) {
		rt_logkv(RT_INFO, "rpc reachable again", NULL);
		sub_alert(s, SC_SEV_ERROR, SC_ALERT_RESOLVED, "rpc_unreachable", NULL, "an RPC endpoint answers again");
	}
}

/* ---- sending ------------------------------------------------------------------------------- */
static void
sub_remove_entry(sub *s, sub_entry *e)
{
	int i = sub_index(s, e);
	if (i >= 0)
		sub_forget(s, (size_t)i);
}

/* Nonce too low: is this nonce one of ours that got mined (fine: the poll reports it), or did
 * someone else use it? */
static void
sub_nonce_used(sub *s, sub_entry *e, const char *text)
{
	for (size_t i = 0; i < s->n; i++) {
		sub_entry *o = s->v[i];
		if (o->tx.nonce != e->tx.nonce)
			continue;
		rpc_receipt rc;
		rpc_error re;
		int rr = rpc_get_receipt(s->r, o->tx.tx_hash, &rc, &re);
		if (rr == RPC_OK)
			return; /* ours: included, the poll follows it */
		if (rr != RPC_ENOTFOUND)
			return; /* cannot tell now; asked again at the next send */
	}
	int state = e->sent_block ? SC_TX_DROPPED : SC_TX_FAILED;
	rt_inc(sub_err_metric("nonce_too_low"));
	sub_status(s, e, state, SC_TXERR_NONCE_TOO_LOW, text);
	char summary[160];
	snprintf(summary, sizeof summary, "nonce %llu was used by another transaction of the signer's address",
	         (unsigned long long)e->tx.nonce);
	sub_alert(s, SC_SEV_ERROR, SC_ALERT_FIRING, "nonce_gap", e, summary);
	sub_nonce_sync(s);
	sub_remove_entry(s, e);
}

static void
sub_accepted(sub *s, sub_entry *e, int errcls, const char *text)
{
	int first = e->sent_block == 0;
	if (first) {
		uint64_t h = s->head;
		rpc_error re;
		if (!s->head_fresh && rpc_block_number(s->r, &h, &re) == RPC_OK && h > s->head)
			s->head = h;
		e->sent_block = s->head ? s->head : 1;
		if (e->tx.feed[0])
			rt_inc(s->m_sent);
	}
	uint64_t olderr = e->error;
	e->error = SC_TXERR_NONE;
	sub_save(s, e);
	if (first || olderr != SC_TXERR_NONE)
		sub_status(s, e, SC_TX_PENDING, errcls, text);
}

/* Acts on the node's answer to one eth_sendRawTransaction of e (rc and re as rpc_send_raw returns
 * them), sent alone or in a batch. Returns 0 when e is still tracked, -1 when it was removed
 * (failed or dropped). */
static int
sub_sent(sub *s, sub_entry *e, int rc, const rpc_error *re)
{
	if (rc == RPC_OK || rc == RPC_EDECODE) { /* a node that took it but answered oddly still took it */
		if (rt_log_state_change("send_fee_refused", "ok") && e->attempts > 1)
			rt_log(RT_INFO, "send accepted again after fee refusals");
		sub_rpc_state(s, 1, NULL);
		e->fee_refused = 0;
		sub_accepted(s, e, SC_TXERR_NONE, NULL);
		return 0;
	}
	const sub_class *c = rc == RPC_ENODE ? sub_classify(re->msg) : sub_class_rpc();
	if (rc == RPC_ETRANSPORT)
		sub_rpc_state(s, 0, re->msg);
	else
		sub_rpc_state(s, 1, NULL);
	char h[67];
	sub_hex(e->tx.tx_hash, 32, h);
	/* A fee the node refuses is refused again on every re-send (once a second): say it once per change, as
	 * a warning naming the fix, and the repeats at debug. Other refusals are the protocol at work. */
	int fee = strcmp(c->name, "underpriced") == 0 || strcmp(c->name, "fee_too_low") == 0;
	e->fee_refused = c->action == SUB_ACT_BUMP;
	if (!fee)
		rt_logkv(RT_INFO, "send refused", "tx", h, "class", c->name, "node", re->msg, NULL);
	else if (rt_log_state_change("send_fee_refused", "refused"))
		rt_logkv(RT_WARN,
		         "send refused: the fee is below what the node accepts (the signer's GAS_PRICE: auto follows "
		         "the chain); repeats are logged at debug",
		         "tx", h, "class", c->name, "node", re->msg, NULL);
	else
		rt_logkv(RT_DEBUG, "send refused", "tx", h, "class", c->name, "node", re->msg, NULL);
	switch (c->action) {
	case SUB_ACT_SENT:
		sub_accepted(s, e, c->sc_err, re->msg);
		return 0;
	case SUB_ACT_NONCE_USED: {
		size_t before = s->n;
		sub_nonce_used(s, e, re->msg);
		return s->n < before ? -1 : 0;
	}
	case SUB_ACT_FATAL:
		rt_inc(sub_err_metric(c->name));
		e->error = (uint64_t)c->sc_err;
		sub_status(s, e, SC_TX_FAILED, c->sc_err, re->msg);
		sub_alert_failed(s, e, c->name, re->msg);
		sub_remove_entry(s, e);
		return -1;
	default: /* retry / bump: stays pending; tell once per change of error */
		rt_inc(sub_err_metric(c->name));
		if (e->error != (uint64_t)c->sc_err || e->attempts == 1) {
			e->error = (uint64_t)c->sc_err;
			sub_save(s, e);
			sub_status(s, e, SC_TX_PENDING, c->sc_err, re->msg);
		}
		return 0;
	}
}

static void
sub_send_start(sub_entry *e)
{
	e->attempts++;
	e->last_sent_ns = rt_now_ns();
}

/* Sends e once, alone, and acts on the answer. Returns 0 when e is still tracked, -1 when it was
 * removed (failed or dropped). */
static int
sub_send(sub *s, sub_entry *e)
{
	rpc_error re;
	sub_send_start(e);
	int rc = rpc_send_raw(s->r, e->tx.raw, e->tx.raw_len, NULL, &re);
	return sub_sent(s, e, rc, &re);
}

/* An endpoint answered a batch with one error: it takes no batches. Said once; from then on every
 * send and receipt read goes alone. */
static void
sub_no_batch(sub *s, const rpc_error *be)
{
	if (s->no_batch)
		return;
	s->no_batch = 1;
	rt_inc(s->m_batch_refused);
	char code[24];
	snprintf(code, sizeof code, "%d", be->code);
	rt_logkv(RT_WARN,
	         "the rpc endpoint refused a batch request: one call per request from now on (set SEND_BATCH_MAX=1 "
	         "for this endpoint)",
	         "code", code, "node", be->msg, NULL);
}

/* The calls of one batch for v[0..n): each entry's eth_sendRawTransaction, or with receipts its
 * eth_getTransactionReceipt. NULL when memory ran out (nothing is left to free): the caller then
 * goes one by one, as those requests allocate less. The caller frees the array and each call's
 * result (rpc_call_batch consumes the params). */
static rpc_batch_call *
sub_batch_calls(sub_entry **v, size_t n, int receipts)
{
	rpc_batch_call *calls = calloc(n, sizeof *calls);
	for (size_t k = 0; calls && k < n; k++) {
		int rc = receipts ? rpc_get_receipt_call(&calls[k], v[k]->tx.tx_hash)
		                  : rpc_send_raw_call(&calls[k], v[k]->tx.raw, v[k]->tx.raw_len);
		if (rc != 0) {
			for (size_t i = 0; i < k; i++)
				json_decref(calls[i].params);
			free(calls);
			calls = NULL;
		}
	}
	return calls;
}

/* One batch request for v[0..n) (n <= SEND_BATCH_MAX, nonce order: the array's order; a node may
 * process a batch's calls concurrently, and its pool holds a nonce that arrives before the one
 * below it as it would a gap of a few microseconds). Each call's answer is acted on as sub_send
 * acts on a single one, in nonce order; a call the batch did not answer (absent from the answer,
 * or malformed) is sent again alone, so its error is read exactly as a single send reads it. An
 * endpoint that answers the batch with one error does not take batches: logged once, counted,
 * and every send from then on goes alone. */
static void
sub_send_batch(sub *s, sub_entry **v, size_t n)
{
	rpc_batch_call *calls = sub_batch_calls(v, n, 0);
	if (calls == NULL) { /* out of memory: one by one */
		for (size_t i = 0; i < n; i++)
			if (sub_index(s, v[i]) >= 0)
				sub_send(s, v[i]);
		return;
	}
	for (size_t i = 0; i < n; i++)
		sub_send_start(v[i]);
	rpc_error be;
	int brc = rpc_call_batch(s->r, calls, n, &be);
	rt_inc(s->m_batches);
	if (brc == RPC_ENOBATCH)
		sub_no_batch(s, &be);
	for (size_t i = 0; i < n; i++) {
		if (sub_index(s, v[i]) < 0) /* removed while acting on a lower nonce's answer */
			goto next;
		if (brc == RPC_ENOBATCH || calls[i].rc == RPC_EDECODE) {
			v[i]->attempts--; /* not an attempt the node answered: sub_send counts its own */
			sub_send(s, v[i]);
			goto next;
		}
		int rc = calls[i].rc;
		if (rc == RPC_OK)
			rc = rpc_send_raw_result(calls[i].result, NULL, &calls[i].e);
		sub_sent(s, v[i], rc, &calls[i].e);
	next:
		json_decref(calls[i].result);
	}
	free(calls);
}

/* Sends v[0..n) (nonce order) in batches of SEND_BATCH_MAX, or one by one when it is 1 or an
 * endpoint refused batches. Entries removed meanwhile (a lower nonce's answer) are skipped. */
static void
sub_send_all(sub *s, sub_entry **v, size_t n)
{
	size_t max = s->c.send_batch_max;
	for (size_t i = 0; i < n;) {
		if (max <= 1 || s->no_batch) {
			if (sub_index(s, v[i]) >= 0)
				sub_send(s, v[i]);
			i++;
			continue;
		}
		/* the next chunk of entries still tracked */
		sub_entry *chunk[SUB_SEND_BATCH_MAX];
		size_t k = 0, lim = max < SUB_SEND_BATCH_MAX ? max : SUB_SEND_BATCH_MAX;
		for (; i < n && k < lim; i++)
			if (sub_index(s, v[i]) >= 0)
				chunk[k++] = v[i];
		if (k == 1)
			sub_send(s, chunk[0]);
		else if (k > 1)
			sub_send_batch(s, chunk, k);
	}
}

/* ---- receiving ----------------------------------------------------------------------------- */
static void
sub_ack(sub *s, const sc_tx_signed *t)
{
	sc_tx_ack k;
	memcpy(k.id, t->id, 16);
	memcpy(k.tx_hash, t->tx_hash, 32);
	k.received_at_ns = rt_now_ns();
	/* A lost ack is harmless: the signer re-publishes the tx.signed and it is acked again. */
	if (sub_pub(s, "tx.ack", &SC_TX_ACK, &k) != BUS_OK)
		rt_logkv(RT_WARN, "tx.ack not sent; the signer's re-publish is acked", NULL);
}

static int
sub_refuse(sub *s, const sc_tx_signed *t, const char *why)
{
	char h[67];
	sub_hex(t->tx_hash, 32, h);
	rt_inc(s->m_bad);
	rt_logkv(RT_WARN, "tx.signed refused", "tx", h, "why", why, NULL);
	return -1;
}

/* Everything the message claims is checked against the signed bytes themselves. */
static int
sub_check(sub *s, const sc_tx_signed *t)
{
	uint8_t h[32], from[20];
	tx d;
	if (t->chain_id != s->c.chain_id)
		return sub_refuse(s, t, "chain id is not this submitter's");
	tx_hash(t->raw, t->raw_len, h);
	if (memcmp(h, t->tx_hash, 32) != 0)
		return sub_refuse(s, t, "tx_hash is not keccak256(raw)");
	if (tx_decode(t->raw, t->raw_len, &d, NULL) != TX_OK || tx_recover_sender(&d, from) != TX_OK)
		return sub_refuse(s, t, "raw is not a valid signed transaction");
	/* tx_decode also reads EIP-2930 (type 1), which tx.signed cannot announce */
	if (d.type != (t->tx_type == SC_TXTYPE_EIP1559 ? TX_EIP1559 : TX_LEGACY))
		return sub_refuse(s, t, "tx_type differs from the type of the signed transaction");
	if (memcmp(from, t->from, 20) != 0 || d.nonce != t->nonce || d.chain_id != s->c.chain_id)
		return sub_refuse(s, t, "from, nonce or chain id differ from the signed transaction");
	if (s->c.have_signer && memcmp(from, s->c.signer, 20) != 0)
		return sub_refuse(s, t, "sender is not SIGNER_ADDRESS");
	return 0;
}

static int
sub_is_done(sub *s, const uint8_t hash[32])
{
	MDB_txn *txn;
	MDB_val v;
	if (st_begin(s->env, 1, &txn, NULL) != 0)
		return 0;
	int found = st_get(txn, s->done, hash, 32, &v, NULL) == 0;
	st_abort(txn);
	return found;
}

/* ---- nonces in flight ---------------------------------------------------------------------- */
/* An entry never sent: stored and acked, waiting for its nonce to come into the window. */
static int
sub_held(const sub_entry *e)
{
	return e->attempts == 0 && e->block_number == 0 && e->state != SC_TX_REPLACED;
}

/* After a burst of sends of held entries v[0..n) (never sent before: sub_held): those the node took
 * record the head read now as their first block (see sub_send_held). Entries removed meanwhile are
 * skipped. */
static void
sub_first_sends_head(sub *s, sub_entry **v, size_t n)
{
	uint64_t h;
	rpc_error re;
	if (n == 0 || rpc_block_number(s->r, &h, &re) != RPC_OK)
		return;
	if (h > s->head)
		s->head = h;
	for (size_t i = 0; i < n; i++)
		if (sub_index(s, v[i]) >= 0 && v[i]->sent_block != 0 && v[i]->sent_block < s->head) {
			v[i]->sent_block = s->head;
			sub_save(s, v[i]);
		}
}

/* Sends the held entries whose nonce is below the lowest unmined nonce + MAX_IN_FLIGHT, in nonce
 * order (s->v is kept sorted by nonce). A node keeps a bounded number of one sender's txs (geth's
 * account slots, Besu's per-sender limit) and a gap stops everything above it, so the key's
 * transactions go out in order and never more than MAX_IN_FLIGHT ahead of what is mined. */
static void
sub_send_held(sub *s)
{
	uint64_t base = UINT64_MAX, max = s->c.max_in_flight ? s->c.max_in_flight : 16;
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++) {
		const sub_entry *e = s->v[i];
		if (e->block_number == 0 && e->state != SC_TX_REPLACED && e->tx.nonce < base)
			base = e->tx.nonce;
		n += sub_held(e);
	}
	if (n == 0 || base == UINT64_MAX)
		return;
	sub_entry **snap = malloc(n * sizeof *snap);
	if (!snap)
		return;
	n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (sub_held(s->v[i]) && s->v[i]->tx.nonce - base < max)
			snap[n++] = s->v[i];
	/* Sent first; the head each first send records (stuck counting, BUMP_AFTER_BLOCKS) is read once
	 * after the burst: reading it before cost every new transaction one more round trip to the node
	 * ahead of its send. The sends record the last poll's head meanwhile; the burst's first sends
	 * then move to the head read after them (never earlier than the send: a bump never comes
	 * early). If that read fails they keep the poll's, at most POLL_INTERVAL old. */
	if (n) {
		s->head_fresh = 1;
		s->defer = 1;
	}
	sub_send_all(s, snap, n);
	s->head_fresh = 0;
	sub_first_sends_head(s, snap, n);
	free(snap);
	sub_flush_saves(s);
}

/* Inserts e after the entries of a lower or equal nonce: s->v stays in nonce order. */
static int
sub_insert(sub *s, sub_entry *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		sub_entry **nv = realloc(s->v, cap * sizeof *nv);
		if (!nv)
			return -1;
		s->v = nv;
		s->cap = cap;
	}
	size_t i = s->n;
	while (i > 0 && s->v[i - 1]->tx.nonce > e->tx.nonce)
		i--;
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
	s->v[i] = e;
	s->n++;
	return 0;
}

void
sub_on_signed(sub *s, const sc_tx_signed *t)
{
	sub_on_signed_batch(s, t, 1);
}

void
sub_on_signed_batch(sub *s, const sc_tx_signed *ts, size_t nt)
{
	sub_entry **fresh = calloc(nt ? nt : 1, sizeof *fresh);
	uint8_t *took = calloc(nt ? nt : 1, 1); /* ts[k] became an entry of this batch */
	size_t nf = 0;
	if (!fresh || !took) {
		free(fresh);
		free(took);
		rt_logkv(RT_ERROR, "out of memory: tx.signed not taken (the signer re-publishes)", NULL);
		return;
	}
	for (size_t k = 0; k < nt; k++) {
		const sc_tx_signed *t = &ts[k];
		/* One signer/submitter pair per key share the bus: another key's transactions are not ours
		 * to send, and not an error. (A message claiming our address is still checked in full.) */
		if (s->c.have_signer && memcmp(t->from, s->c.signer, 20) != 0) {
			rt_inc(s->m_other);
			continue;
		}
		int again = 0;
		for (size_t j = 0; j < nf && !again; j++)
			again = memcmp(fresh[j]->tx.tx_hash, t->tx_hash, 32) == 0;
		if (again)
			continue; /* twice in this batch: the first one's ack answers both (same id) */
		if (sub_find(s, t->tx_hash) || sub_is_done(s, t->tx_hash)) {
			sub_ack(s, t); /* a re-publish: our ack was lost or late */
			continue;
		}
		if (sub_check(s, t) != 0)
			continue;
		if (!s->c.have_signer) {
			memcpy(s->c.signer, t->from, 20);
			s->c.have_signer = 1;
			char a[43];
			hex_addr_format(t->from, a);
			rt_logkv(RT_INFO, "signer address learned", "address", a, NULL);
			s->next_nonce = 0; /* sync now */
		}
		sub_entry *e = calloc(1, sizeof *e);
		if (e) {
			e->tx = *t;
			e->state = SC_TX_PENDING;
			e->first_seen_ns = rt_now_ns();
			/* A replacement continues its nonce's bump count: a refused one asks the next bump at
			 * the next head, not in the same block (sub_follow), and an accepted one's stuck count
			 * starts at its own acceptance, which is never before this. */
			const sub_entry *old = sub_find(s, t->replaces);
			if (old && old->tx.nonce == t->nonce)
				e->bump_block = old->bump_block;
		}
		if (!e || sub_insert(s, e) != 0) {
			rt_logkv(RT_ERROR, "out of memory: tx.signed not taken (the signer re-publishes)", NULL);
			free(e);
			continue;
		}
		fresh[nf++] = e;
		took[k] = 1;
	}
	if (nf) {
		/* Sent first, then stored with what the sends recorded in ONE commit, then acked: only
		 * the ack must follow the store. A crash before the commit loses nothing: the signer
		 * re-publishes what it has not seen acked, and sending it again finds it in the node's
		 * pool ("already known") or mined (sub_nonce_used reads its receipt). Storing first cost
		 * the burst one more fsync before its first send. */
		for (size_t j = 0; j < nf; j++)
			fresh[j]->dirty = 1;
		s->defer = 1;
		sub_send_held(s);
		if (sub_flush_saves(s) != 0) {
			/* Not durable: no ack, the signer re-publishes them (those already removed by a
			 * send's answer were freed there). */
			for (size_t j = 0; j < nf; j++) {
				int i = sub_index(s, fresh[j]);
				if (i < 0)
					continue;
				memmove(&s->v[i], &s->v[i + 1], (s->n - (size_t)i - 1) * sizeof *s->v);
				s->n--;
				free(fresh[j]);
			}
			nf = 0;
		}
		/* (fresh[] may point at freed entries now: the acks come from ts, by `took`) */
		for (size_t k = 0; k < nt && nf; k++)
			if (took[k])
				sub_ack(s, &ts[k]);
	}
	free(took);
	free(fresh);
	sub_gauges(s);
}

size_t
sub_take(sub *s, int wait_ms)
{
	bus_msg m;
	size_t nb = 0;
	if (!sub_heard(s)) { /* its tx.status and tx.ack would be lost: left queued until busd is there */
		rt_sleep_ms((uint64_t)(wait_ms > 0 ? wait_ms : 0));
		return 0;
	}
	int rc = act_recv(s->a, &m, wait_ms);
	while (rc == BUS_OK) {
		if (act_decode(&m, &SC_TX_SIGNED, &s->batch[nb]) == 0) /* a bad one is counted and logged there */
			nb++;
		bus_msg_free(&m);
		if (nb == SUB_TAKE_MAX)
			break;
		rc = act_recv(s->a, &m, 0);
	}
	if (nb)
		sub_on_signed_batch(s, s->batch, nb);
	return nb;
}

/* The tx.signed that came in while a poll waited on the node go out between its round trips, not
 * after the whole poll, its commit, the gas quote and the nonce sync: at hundreds of feeds a new
 * transaction waited behind those tens of ms once a second (the tail of signed -> pending). Their
 * own commit ends the poll's deferred saves early (written sooner, never later); the poll defers
 * again for the rest. */
static void
sub_intake(sub *s)
{
	if (s->in_take || s->a == NULL)
		return;
	int defer = s->defer;
	s->in_take = 1;
	sub_take(s, 0);
	s->in_take = 0;
	s->defer = defer;
}

/* ---- following ----------------------------------------------------------------------------- */
/* Why a mined transaction reverted (receipt status 0), in one line: out of gas when it used (63/64
 * of) its signed gas limit, else the revert reason of a replay with eth_call on the state its
 * block started from (block - 1: the same as the transaction's unless a transaction before it in
 * that block changed what it reads). */
static void
sub_why_reverted(sub *s, const sub_entry *e, char *out, size_t cap)
{
	tx t;
	if (tx_decode(e->tx.raw, e->tx.raw_len, &t, NULL) != TX_OK || !t.has_to) { /* calls only: checked on receipt */
		snprintf(out, cap, "execution reverted (receipt status 0)");
		return;
	}
	if (sub_out_of_gas(e->gas_used, t.gas_limit)) {
		snprintf(out, cap, "out of gas (used %llu of limit %llu)", (unsigned long long)e->gas_used,
		         (unsigned long long)t.gas_limit);
		return;
	}
	rpc_callmsg m = { .from = e->tx.from,
		          .to = t.to,
		          .data = t.data,
		          .len = t.data_len,
		          .gas = t.gas_limit,
		          .value = &t.value,
		          .block = e->block_number ? e->block_number - 1 : RPC_LATEST };
	uint8_t *ret = NULL;
	size_t rlen = 0;
	rpc_error re;
	int rc = rpc_eth_call_at(s->r, &m, &ret, &rlen, &re);
	free(ret);
	char why[300];
	uint8_t rd[RPC_ERR_DATA_MAX / 2];
	size_t rdl = 0;
	if (rc == RPC_ENODE && re.data[0] &&
	    hex_decode(re.data, strlen(re.data), HEX_PREFIX_OPTIONAL, rd, sizeof rd, &rdl, NULL) == HEX_OK &&
	    rv_describe(rd, rdl, why, sizeof why) == RV_CUSTOM)
		sub_custom_error_words(rd, rdl, why, sizeof why); /* the selector and its arguments */
	else if (rc == RPC_ENODE && re.data[0])
		rv_describe_hex(re.data, why, sizeof why);
	else if (rc == RPC_ENODE)
		snprintf(why, sizeof why, "reverted: %s", re.msg[0] ? re.msg : "(the node gave no reason)");
	else if (rc == RPC_OK)
		snprintf(why, sizeof why,
		         "reverted, but a replay on the state before block %llu succeeds (a transaction "
		         "before it in the block changed the state)",
		         (unsigned long long)e->block_number);
	else
		snprintf(why, sizeof why, "reverted (reason unknown: replay failed: %s)", re.msg);
	snprintf(out, cap, "%.200s (gas used %llu of %llu)", why, (unsigned long long)e->gas_used,
	         (unsigned long long)t.gas_limit);
}

static void
sub_included(sub *s, sub_entry *e, const rpc_receipt *rc)
{
	if (rc->block_number > s->head) /* the receipt shows the block exists: the head is at least there */
		s->head = rc->block_number;
	e->block_number = rc->block_number;
	memcpy(e->block_hash, rc->block_hash, 32);
	e->gas_used = rc->gas_used;
	e->receipt_status = rc->status == 0 ? 0 : 1;
	e->effective_gas_price = rc->effective_gas_price;
	memset(e->replaced_by, 0, 32);
	if (e->bump_block)
		sub_alert(s, SC_SEV_WARNING, SC_ALERT_RESOLVED, "tx_stuck", e, "transaction mined");
	if (e->receipt_status) {
		e->error = SC_TXERR_NONE;
		e->state = SC_TX_INCLUDED;
		sub_save(s, e);
		sub_status(s, e, SC_TX_INCLUDED, SC_TXERR_NONE, NULL);
	} else {
		e->error = SC_TXERR_REVERTED;
		e->state = SC_TX_FAILED;
		sub_save(s, e);
		rt_inc(sub_err_metric("reverted"));
		char why[256];
		sub_why_reverted(s, e, why, sizeof why);
		sub_status(s, e, SC_TX_FAILED, SC_TXERR_REVERTED, why);
		sub_alert_failed(s, e, "reverted", why);
	}
	for (size_t i = 0; i < s->n; i++) { /* same nonce: the others lost */
		sub_entry *o = s->v[i];
		if (o == e || o->tx.nonce != e->tx.nonce || o->block_number || o->state == SC_TX_REPLACED)
			continue;
		memcpy(o->replaced_by, e->tx.tx_hash, 32);
		o->state = SC_TX_REPLACED;
		sub_save(s, o);
		sub_status(s, o, SC_TX_REPLACED, SC_TXERR_NONE, NULL);
	}
}

static void
sub_reorged(sub *s, sub_entry *e)
{
	sub_status(s, e, SC_TX_REORGED, SC_TXERR_NONE, "receipt gone or moved to another block");
	e->block_number = 0;
	memset(e->block_hash, 0, 32);
	e->confirmed_ns = 0;
	e->state = SC_TX_PENDING;
	e->sent_block = 0; /* stuck counting starts again */
	e->bump_block = 0;
	for (size_t i = 0; i < s->n; i++) { /* the ones it replaced compete again */
		sub_entry *o = s->v[i];
		if (o != e && o->state == SC_TX_REPLACED && memcmp(o->replaced_by, e->tx.tx_hash, 32) == 0) {
			memset(o->replaced_by, 0, 32);
			o->state = SC_TX_PENDING;
			sub_save(s, o);
			sub_send(s, o);
		}
	}
	sub_save(s, e);
	sub_send(s, e);
}

/* The newest of the txs sharing e's nonce (only it is bumped). */
static int
sub_is_newest(sub *s, const sub_entry *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i]->tx.nonce == e->tx.nonce && s->v[i]->first_seen_ns > e->first_seen_ns &&
		    s->v[i]->state != SC_TX_REPLACED)
			return 0;
	return 1;
}

static int sub_follow_depth(sub *s, sub_entry *e);

/* Follows one entry, given its receipt as read (r: rpc_get_receipt's return, why: a transport
 * failure's text). Returns -1 when it was removed, 1 on a transport failure (stop polling). */
static int
sub_follow(sub *s, sub_entry *e, int r, const rpc_receipt *prc, int known, const char *why)
{
	rpc_receipt rc = *prc;
	rpc_error re;
	if (r == RPC_ETRANSPORT) {
		sub_rpc_state(s, 0, why);
		return 1;
	}
	if (e->block_number == 0) {
		if (r == RPC_OK) {
			sub_included(s, e, &rc);
			return sub_follow_depth(s, e); /* CONFIRMATIONS=1 is confirmed in this same poll */
		}
		if (sub_held(e)) /* never sent: sub_send_held sends it when its nonce is in the window */
			return 0;
		if (e->sent_block == 0) { /* never accepted yet: try again */
			if (sub_send(s, e) != 0)
				return -1;
			/* Refused for its fee (the base fee rose between quote and send, or a replacement
			 * priced from an older quote): sending the same bytes again passes only if the base
			 * fee falls back, so a bump is asked at once and again at each new head while it
			 * stays refused. The stuck check below counts from acceptance and never sees it. */
			if (e->sent_block == 0 && e->fee_refused && s->c.bump_after_blocks && s->head > e->bump_block &&
			    sub_is_newest(s, e))
				sub_bump(s, e);
			return 0;
		}
		if (s->head != e->checked_block) { /* once per block: does the node still hold it? */
			uint64_t bn;
			e->checked_block = s->head;
			if (known == SUB_UNASKED) /* (not asked in the receipts' batch) */
				known = rpc_get_tx(s->r, e->tx.tx_hash, &bn, &re);
			if (known == RPC_ENOTFOUND) {
				char h[67];
				sub_hex(e->tx.tx_hash, 32, h);
				rt_inc(s->m_resent);
				rt_logkv(RT_WARN, "the node no longer holds the transaction: sending it again", "tx", h,
				         NULL);
				if (sub_send(s, e) != 0)
					return -1;
			}
		}
		if (s->c.bump_after_blocks && s->head >= e->sent_block + s->c.bump_after_blocks &&
		    (e->bump_block == 0 || s->head >= e->bump_block + s->c.bump_after_blocks) && sub_is_newest(s, e))
			sub_bump(s, e);
		return 0;
	}
	if (r == RPC_ENOTFOUND || (r == RPC_OK && memcmp(rc.block_hash, e->block_hash, 32) != 0)) {
		sub_reorged(s, e);
		return 0;
	}
	if (r != RPC_OK)
		return 0;
	return sub_follow_depth(s, e);
}

typedef struct {
	int r; /* rpc_get_receipt's return for the entry */
	rpc_receipt rc;
	int known; /* rpc_get_tx's return (the pool check, asked in the same batch), or SUB_UNASKED */
} sub_rcpt;

/* Whether sub_follow asks the node if it still holds e (sent, not mined, once per block). */
static int
sub_pool_check_due(const sub *s, const sub_entry *e)
{
	return e->block_number == 0 && !sub_held(e) && e->sent_block != 0 && s->head != e->checked_block;
}

/* The pool checks of v[0..n) that are due, appended to a receipts batch of n calls (array grown to
 * n + their count; at[i] = the call of v[i]'s check, or 0). Returns the calls in all; n when none
 * or when memory ran out (sub_follow then asks alone). */
static size_t
sub_pool_checks(sub *s, sub_entry **v, size_t n, rpc_batch_call **calls, size_t *at)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += sub_pool_check_due(s, v[i]);
	rpc_batch_call *more = m ? realloc(*calls, (n + m) * sizeof **calls) : NULL;
	memset(at, 0, n * sizeof *at);
	if (more == NULL)
		return n;
	*calls = more;
	size_t k = n;
	for (size_t i = 0; i < n; i++)
		if (sub_pool_check_due(s, v[i]) && rpc_get_tx_call(&more[k], v[i]->tx.tx_hash) == 0)
			at[i] = k++;
	return k;
}

/* The receipts of v[0..n) into out: one batch request when SEND_BATCH_MAX > 1 and the endpoint
 * takes batches, else one request each. The batch also asks whether the node still holds each
 * entry that is sent and not mined (eth_getTransactionByHash, once per block: sub_follow), which
 * it otherwise asked one request each, in turn, while new tx.signed waited: at 500 feeds the
 * poll's longest part. A call the batch did not answer is asked again alone; after a transport
 * failure the rest are not asked (RPC_ETRANSPORT, why = its text). */
static void
sub_receipts(sub *s, sub_entry **v, size_t n, sub_rcpt *out, char *why, size_t wl)
{
	rpc_batch_call *calls = NULL;
	int brc = RPC_EDECODE;
	rpc_error be;
	size_t at[SUB_SEND_BATCH_MAX], total = n;
	for (size_t i = 0; i < n; i++)
		out[i].known = SUB_UNASKED;
	if (n > 1 && s->c.send_batch_max > 1 && !s->no_batch && (calls = sub_batch_calls(v, n, 1)) != NULL) {
		total = sub_pool_checks(s, v, n, &calls, at);
		brc = rpc_call_batch(s->r, calls, total, &be);
		rt_inc(s->m_rbatches);
		if (brc == RPC_ENOBATCH)
			sub_no_batch(s, &be);
	}
	for (size_t i = 0; brc == RPC_OK && i < n; i++)
		if (at[i]) {
			uint64_t bn;
			rpc_error re;
			int rc = calls[at[i]].rc;
			if (rc == RPC_OK)
				rc = rpc_get_tx_result(calls[at[i]].result, &bn, &re);
			out[i].known = rc == RPC_OK || rc == RPC_ENOTFOUND ? rc : SUB_UNASKED; /* else alone */
		}
	for (size_t k = n; calls && k < total; k++)
		json_decref(calls[k].result);
	int down = 0;
	for (size_t i = 0; i < n; i++) {
		rpc_error re;
		memset(&out[i].rc, 0, sizeof out[i].rc);
		if (brc == RPC_ETRANSPORT || down) {
			out[i].r = RPC_ETRANSPORT;
			if (!down)
				snprintf(why, wl, "%s", be.msg);
			down = 1;
		} else if (brc == RPC_OK && calls[i].rc == RPC_OK) {
			out[i].r = rpc_get_receipt_result(calls[i].result, &out[i].rc, &re);
		} else if (brc == RPC_OK && calls[i].rc != RPC_EDECODE) {
			out[i].r = calls[i].rc; /* the node's error for this call */
		} else {                        /* no batch, or no answer for this call in it */
			out[i].r = rpc_get_receipt(s->r, v[i]->tx.tx_hash, &out[i].rc, &re);
			if (out[i].r == RPC_ETRANSPORT) {
				snprintf(why, wl, "%s", re.msg);
				down = 1;
			}
		}
		if (calls)
			json_decref(calls[i].result);
	}
	free(calls);
}

/* An included tx: confirmed at CONFIRMATIONS, final (and forgotten) at FINALITY_DEPTH, both counted
 * as sub_confirmations does. Returns -1 when it was removed. */
static int
sub_follow_depth(sub *s, sub_entry *e)
{
	uint64_t conf = sub_confirmations(s, e);
	if (e->receipt_status && conf >= s->c.confirmations && e->state == SC_TX_INCLUDED) {
		e->confirmed_ns = rt_now_ns();
		e->state = SC_TX_CONFIRMED;
		sub_save(s, e);
		rt_observe(s->m_confirm, (double)(e->confirmed_ns - e->first_seen_ns) / 1e9);
		sub_status(s, e, SC_TX_CONFIRMED, SC_TXERR_NONE, NULL);
	}
	if (conf >= s->c.finality_depth) {
		if (e->receipt_status)
			sub_status(s, e, SC_TX_FINAL, SC_TXERR_NONE, NULL);
		for (size_t i = s->n; i-- > 0;)
			if (s->v[i] != e && s->v[i]->tx.nonce == e->tx.nonce)
				sub_forget(s, i);
		sub_remove_entry(s, e);
		return -1;
	}
	return 0;
}

static void
sub_poll(sub *s)
{
	uint64_t head;
	rpc_error re;
	if (rpc_block_number(s->r, &head, &re) != RPC_OK) {
		sub_rpc_state(s, 0, re.msg);
		return;
	}
	sub_rpc_state(s, 1, NULL);
	if (head != s->head)
		s->head_moved = 1;
	s->head = head;
	sub_intake(s);
	if (s->resend_all) {
		/* Again what was sent before the restart, in nonce order; what was held stays held. */
		s->resend_all = 0;
		sub_entry **snap = s->n ? malloc(s->n * sizeof *snap) : NULL;
		size_t n = 0;
		for (size_t i = 0; snap && i < s->n; i++)
			if (s->v[i]->block_number == 0 && s->v[i]->state != SC_TX_REPLACED && !sub_held(s->v[i]))
				snap[n++] = s->v[i];
		sub_send_all(s, snap, n);
		free(snap);
	}
	/* Walk a snapshot of the list: following one entry may remove it and its siblings. */
	size_t n = s->n;
	sub_entry **snap = n ? malloc(n * sizeof *snap) : NULL;
	if (n && !snap)
		return;
	if (n)
		memcpy(snap, s->v, n * sizeof *snap);
	/* The poll's state changes go to LMDB in one commit at its end, not one fsync each: a crash
	 * before it re-reads the receipts after the restart and says the same again (tx.status is
	 * taken as idempotent), as a crash between a save and its publish always could. */
	s->defer = 1;
	/* In chunks of SEND_BATCH_MAX: the chunk's receipts in one batch request, then each followed. */
	size_t lim = s->c.send_batch_max > 1 && !s->no_batch ? s->c.send_batch_max : 1;
	lim = lim < SUB_SEND_BATCH_MAX ? lim : SUB_SEND_BATCH_MAX;
	sub_rcpt *rr = n ? malloc(lim * sizeof *rr) : NULL;
	sub_entry *chunk[SUB_SEND_BATCH_MAX];
	char why[sizeof re.msg] = "";
	for (size_t i = 0; rr && i < n;) {
		size_t k = 0;
		if (i > 0)
			sub_intake(s); /* between the chunks' round trips */
		for (; i < n && k < lim; i++)
			if (sub_index(s, snap[i]) >= 0 && snap[i]->state != SC_TX_REPLACED)
				chunk[k++] = snap[i];
		sub_receipts(s, chunk, k, rr, why, sizeof why);
		int stop = 0;
		for (size_t j = 0; j < k && !stop; j++)
			if (sub_index(s, chunk[j]) >= 0 && chunk[j]->state != SC_TX_REPLACED)
				stop = sub_follow(s, chunk[j], rr[j].r, &rr[j].rc, rr[j].known, why) == 1;
		if (stop)
			break;
	}
	free(rr);
	free(snap);
	sub_flush_saves(s);
	if (s->rpc_state == 1)
		sub_send_held(s); /* what was mined made room */
}

/* Whether what the submitter publishes can be heard: a busd connection of its publisher is up (or
 * it has no bus: tests). pub/sub drops what is published with none up, and a state change is
 * published once, when it happens (sub_status: a lost tx.status is not repeated), so nothing is
 * taken, polled or quoted without one. A restarted submitter whose transactions were mined while it
 * was down says included and confirmed in its first poll; that poll ran before its connection was up
 * (dialing is asynchronous), lost them, and with no later block nothing was said again. Logged once
 * per change (the start-up's wait is also /health's "starting: waiting for busd"). */
static int
sub_heard(sub *s)
{
	int up = s->a == NULL || act_pub_up(s->a);
	if (up != s->bus_up) {
		if (!up && s->bus_up < 0)
			rt_log(RT_INFO, "waiting for a busd connection before the first poll");
		else if (!up)
			rt_log(RT_WARN, "no busd connection: following paused until one is up (what it published "
			                "would be lost)");
		else if (s->bus_up == 0)
			rt_log(RT_INFO, "busd connection up: following");
		s->bus_up = up;
	}
	return up;
}

uint64_t
sub_tick(sub *s)
{
	if (!sub_heard(s))
		return 10; /* asked again after a short wait (main: sub_take waits at most this) */
	uint64_t now = sub_now_ms();
	if (now >= s->next_poll) {
		sub_poll(s);
		s->next_poll = now + s->c.poll_ms;
	}
	if (s->rpc_state == 1 && (now >= s->next_quote || s->head_moved)) {
		sub_intake(s);
		s->head_moved = 0;
		sub_gas_quote(s);
		s->next_quote = now + s->c.quote_ms;
	}
	if (s->rpc_state == 1 && now >= s->next_nonce) {
		sub_intake(s);
		sub_nonce_sync(s);
		s->next_nonce = now + s->c.nonce_sync_ms;
	}
	sub_gauges(s);
	now = sub_now_ms();
	uint64_t next = s->next_poll;
	return next > now ? next - now : 0;
}

size_t
sub_pending_count(const sub *s)
{
	return s->n;
}

int
sub_polled(const sub *s)
{
	return s->rpc_state >= 0;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */
static int
sub_load(sub *s, char *err, size_t errlen)
{
	MDB_txn *txn;
	st_err e;
	st_iter it;
	MDB_val k, v;
	if (st_begin(s->env, 0, &txn, &e) != 0 || st_table(txn, "pending", &s->pending, &e) != 0 ||
	    st_table(txn, "done", &s->done, &e) != 0) {
		st_abort(txn);
		snprintf(err, errlen, "state: %s", e.text);
		return -1;
	}
	int rc = st_iter_open(&it, txn, s->pending, NULL, 0, NULL, 0, &e);
	while (rc == 0 && (rc = st_iter_next(&it, &k, &v, &e)) == 0) {
		sub_entry *x = malloc(sizeof *x);
		if (!x || sub_decode(v.mv_data, v.mv_size, x) != 0) {
			free(x);
			rt_logkv(RT_ERROR, "pending: unreadable record skipped", NULL);
			continue;
		}
		if (s->n == s->cap) {
			sub_entry **nv = realloc(s->v, (s->cap = s->cap ? 2 * s->cap : 8) * sizeof *s->v);
			if (!nv) {
				free(x);
				break;
			}
			s->v = nv;
		}
		s->v[s->n++] = x;
	}
	st_iter_close(&it);
	/* Forget done hashes past their retention. Collected first: no writes while iterating. */
	uint64_t cut = rt_now_ns() > SUB_DONE_KEEP_NS ? rt_now_ns() - SUB_DONE_KEEP_NS : 0;
	uint8_t(*old)[32] = NULL;
	size_t nold = 0;
	if (st_iter_open(&it, txn, s->done, NULL, 0, NULL, 0, &e) == 0) {
		while (st_iter_next(&it, &k, &v, &e) == 0 && nold < 4096)
			if (v.mv_size == 8 && k.mv_size == 32 && st_u64_at(v.mv_data) < cut) {
				uint8_t(*no)[32] = realloc(old, (nold + 1) * 32);
				if (!no)
					break;
				old = no;
				memcpy(old[nold++], k.mv_data, 32);
			}
		st_iter_close(&it);
	}
	for (size_t i = 0; i < nold; i++) {
		int rc2 = st_del(txn, s->done, old[i], 32, &e);
		if (rc2 != 0 && rc2 != MDB_NOTFOUND) {
			free(old);
			st_abort(txn);
			snprintf(err, errlen, "state: %s", e.text);
			return -1;
		}
	}
	free(old);
	if (st_commit(txn, &e) != 0) {
		snprintf(err, errlen, "state: %s", e.text);
		return -1;
	}
	return 0;
}

sub *
sub_open(const sub_cfg *c, act_bus *a, rpc *r, st_env *env, char *err, size_t errlen)
{
	sub *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->c = *c;
	if (s->c.send_batch_max == 0)
		s->c.send_batch_max = 16;
	s->a = a;
	s->r = r;
	s->env = env;
	s->rpc_state = -1;
	s->bus_up = -1;
	if ((s->batch = malloc(SUB_TAKE_MAX * sizeof *s->batch)) == NULL) {
		snprintf(err, errlen, "out of memory");
		sub_close(s);
		return NULL;
	}
	if (sub_load(s, err, errlen) != 0) {
		sub_close(s);
		return NULL;
	}
	s->resend_all = s->n > 0;
	if (!s->c.have_signer && s->n) { /* learned before the restart: the pending txs say whose */
		memcpy(s->c.signer, s->v[0]->tx.from, 20);
		s->c.have_signer = 1;
	}
	sub_metrics(s);
	sub_gauges(s);
	if (s->n) {
		char n[24];
		snprintf(n, sizeof n, "%zu", s->n);
		rt_logkv(RT_INFO, "pending transactions restored", "count", n, NULL);
	}
	return s;
}

void
sub_close(sub *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	free(s->dels);
	free(s->batch);
	free(s);
}
