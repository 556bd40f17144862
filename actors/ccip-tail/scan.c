/* scan.c - one chain's poll: head, reorg check, adaptive ranges, ingest (see scan.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/ccip-tail/scan.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/hex.h"

#define CT_GROW_AFTER  4    /* good ranges before the span doubles back */
#define CT_HASH_WINDOW 4096 /* block hashes kept below the cursor for reorg walk-backs */

/* ---- configuration --------------------------------------------------------------------------- */

static int ct_cerr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int
ct_cerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
ct_add_contract(ct_chain *c, const char *addr, size_t alen, uint64_t peer, char *err, size_t errlen)
{
	char tmp[64];
	uint8_t a[20];
	snprintf(tmp, sizeof tmp, "%.*s", (int)(alen < 60 ? alen : 60), addr);
	if (hex_addr_parse(tmp, strlen(tmp), a) != HEX_OK)
		return ct_cerr(err, errlen, "bad contract address '%s'", tmp);
	/* One address listed twice (a Router that is also an OffRamp in tests): one entry, the lane
	 * peer wins over none. */
	for (size_t i = 0; i < c->nc; i++)
		if (memcmp(c->c[i].addr, a, 20) == 0) {
			if (peer)
				c->c[i].peer = peer;
			return 0;
		}
	if (c->nc == CT_MAX_CONTRACTS)
		return ct_cerr(err, errlen, "%s: too many contracts", c->name);
	memcpy(c->c[c->nc].addr, a, 20);
	c->c[c->nc].peer = peer;
	c->nc++;
	return 0;
}

int
ct_contracts_parse(ct_chain *c, const char *list, char *err, size_t errlen)
{
	const char *p = list;
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		uint64_t peer = 0;
		if (colon) {
			char num[32], *q;
			size_t nl = len - (size_t)(colon + 1 - p);
			snprintf(num, sizeof num, "%.*s", (int)(nl < 31 ? nl : 31), colon + 1);
			peer = strtoull(num, &q, 10);
			if (q == num || *q)
				return ct_cerr(err, errlen, "bad lane peer selector '%s'", num);
		}
		if (ct_add_contract(c, p, colon ? (size_t)(colon - p) : len, peer, err, errlen) != 0)
			return -1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int
ct_ju64(const json_t *o, const char *k, uint64_t *v)
{
	const json_t *x = json_object_get(o, k);
	if (x == NULL)
		return 0;
	if (json_is_integer(x) && json_integer_value(x) >= 0) {
		*v = (uint64_t)json_integer_value(x);
		return 0;
	}
	if (json_is_string(x)) { /* selectors exceed 2^53: strings are accepted */
		char *q;
		*v = strtoull(json_string_value(x), &q, 10);
		return *q == '\0' && q != json_string_value(x) ? 0 : -1;
	}
	return -1;
}

int
ct_chains_from_json(const json_t *j, const ct_chain *defaults, ct_chain *out, size_t *n, char *err, size_t errlen)
{
	const json_t *arr = json_object_get(j, "chains");
	size_t i;
	const json_t *cj;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return ct_cerr(err, errlen, "%s", "config: \"chains\" must be a non-empty array");
	if (json_array_size(arr) > CT_MAX_CHAINS)
		return ct_cerr(err, errlen, "%s", "config: too many chains");
	json_array_foreach(arr, i, cj)
	{
		ct_chain *c = &out[i];
		*c = *defaults;
		c->nc = 0;
		const char *name = json_string_value(json_object_get(cj, "name"));
		snprintf(c->name, sizeof c->name, "%s", name ? name : "chain");
		uint64_t sb = (uint64_t)-1;
		if (ct_ju64(cj, "selector", &c->selector) != 0 || c->selector == 0)
			return ct_cerr(err, errlen, "config: chain %s: \"selector\" is required", c->name);
		if (ct_ju64(cj, "chain_id", &c->chain_id) != 0 ||
		    ct_ju64(cj, "confirmations", &c->confirmations) != 0 ||
		    ct_ju64(cj, "max_block_range", &c->max_range) != 0 || ct_ju64(cj, "start_block", &sb) != 0)
			return ct_cerr(err, errlen, "config: chain %s: a number field is malformed", c->name);
		if (json_object_get(cj, "start_block"))
			c->start_block = (int64_t)sb;
		const json_t *u = json_object_get(cj, "rpc_url");
		if (json_is_string(u))
			snprintf(c->rpc_urls, sizeof c->rpc_urls, "%s", json_string_value(u));
		else if (json_is_array(u)) {
			size_t k;
			const json_t *x;
			c->rpc_urls[0] = '\0';
			json_array_foreach(u, k, x)
			{
				size_t l = strlen(c->rpc_urls);
				snprintf(c->rpc_urls + l, sizeof c->rpc_urls - l, "%s%s", k ? "," : "",
				         json_string_value(x) ? json_string_value(x) : "");
			}
		} else
			return ct_cerr(err, errlen, "config: chain %s: \"rpc_url\" is required", c->name);
		const char *router = json_string_value(json_object_get(cj, "router"));
		if (router && ct_add_contract(c, router, strlen(router), 0, err, errlen) != 0)
			return -1;
		const json_t *cs = json_object_get(cj, "contracts");
		size_t k;
		const json_t *x;
		json_array_foreach(cs, k, x)
		{
			const char *a = json_is_string(x) ? json_string_value(x)
			                                  : json_string_value(json_object_get(x, "address"));
			uint64_t peer = 0;
			if (a == NULL || (json_is_object(x) && ct_ju64(x, "peer_selector", &peer) != 0))
				return ct_cerr(err, errlen, "config: chain %s: bad contract entry", c->name);
			if (ct_add_contract(c, a, strlen(a), peer, err, errlen) != 0)
				return -1;
		}
		if (c->nc == 0)
			return ct_cerr(err, errlen, "config: chain %s: no contracts to follow", c->name);
		if (c->max_range == 0)
			c->max_range = 1;
	}
	*n = json_array_size(arr);
	return 0;
}

/* ---- RPC --------------------------------------------------------------------------------------- */

int
ct_range_refused(int rc, const rpc_error *e)
{
	static const char *const hints[] = { "more than",      "too large", "too many",      "range",
		                             "limit exceeded", "exceed",    "response size", "query timeout" };
	if (rc == RPC_ETRANSPORT)
		return e->transport == RPC_T_TOO_BIG; /* our own response size limit: a smaller range fits */
	if (rc != RPC_ENODE)
		return 0;
	if (e->code == -32005) /* EIP-1474 "limit exceeded" */
		return 1;
	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
		if (strcasestr(e->msg, hints[i]))
			return 1;
	return 0;
}

int
ct_chain_start(ct_chain *c, int timeout_ms, char *err, size_t errlen)
{
	char lab[96], esc[64];
	c->r = rpc_open(c->rpc_urls, c->chain_id, timeout_ms, err, errlen);
	if (c->r == NULL)
		return -1;
	c->span = c->max_range;
	rt_label_escape(c->name, esc, sizeof esc);
	snprintf(lab, sizeof lab, "chain=\"%s\"", esc);
	c->m_cursor = rt_gauge("ccip_cursor_block", "Last block processed (cursor), per chain.", lab);
	c->m_head = rt_gauge("ccip_head_block", "Chain head seen at the last poll, per chain.", lab);
	c->m_reorgs = rt_counter("ccip_reorgs_total", "Reorgs detected (cursor hash mismatch), per chain.", lab);
	c->m_rpc_err = rt_counter("ccip_rpc_errors_total", "Polls that failed on an RPC error, per chain.", lab);
	c->m_splits =
	        rt_counter("ccip_range_splits_total", "eth_getLogs ranges halved after the node refused them.", lab);
	return 0;
}

void
ct_chain_close(ct_chain *c)
{
	rpc_close(c->r);
	c->r = NULL;
}

static int
ct_rpc_fail(ct_chain *c, const char *what, int rc, const rpc_error *e, char *err, size_t errlen)
{
	rt_inc(c->m_rpc_err);
	snprintf(err, errlen, "%s: %s%s (code %d)", what, rc == RPC_ETRANSPORT ? "transport: " : "", e->msg, e->code);
	return -1;
}

static json_t *
ct_hexq(uint64_t v)
{
	char s[24];
	snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
	return json_string(s);
}

/* eth_getLogs for [from, to]: on RPC_OK *body is the raw response (the caller frees it) and *res its
 * "result" member, in a document that passed js_validate (rpc_call_raw). */
static int
ct_get_logs(ct_chain *c, uint64_t from, uint64_t to, char **body, js_val *res, rpc_error *e)
{
	const uint8_t(*t0)[32];
	size_t nt = ct_topics(&t0, NULL), len;
	json_t *f = json_object(), *addrs = json_array(), *tops = json_array(), * or = json_array();
	char h[67];
	for (size_t i = 0; i < c->nc; i++) {
		hex_encode(c->c[i].addr, 20, 1, h);
		json_array_append_new(addrs, json_string(h));
	}
	for (size_t i = 0; i < nt; i++) {
		hex_encode(t0[i], 32, 1, h);
		json_array_append_new(or, json_string(h));
	}
	json_array_append_new(tops, or);
	json_object_set_new(f, "fromBlock", ct_hexq(from));
	json_object_set_new(f, "toBlock", ct_hexq(to));
	json_object_set_new(f, "address", addrs);
	json_object_set_new(f, "topics", tops);
	json_t *params = json_array();
	json_array_append_new(params, f);
	return rpc_call_raw(c->r, "eth_getLogs", params, body, &len, res, e);
}

/* ---- ingest ------------------------------------------------------------------------------------ */

static const ct_contract *
ct_find_contract(const ct_chain *c, const uint8_t a[20])
{
	for (size_t i = 0; i < c->nc; i++)
		if (memcmp(c->c[i].addr, a, 20) == 0)
			return &c->c[i];
	return NULL;
}

static rt_metric *
ct_m_decoded(const char *event)
{
	static rt_metric *cache[16];
	static const char *names[16];
	for (size_t i = 0; i < 16; i++) {
		if (names[i] == event)
			return cache[i];
		if (names[i] == NULL) {
			char lab[96];
			snprintf(lab, sizeof lab, "event=\"%s\"", event);
			names[i] = event;
			return cache[i] = rt_counter("ccip_logs_decoded_total", "CCIP logs decoded, by event.", lab);
		}
	}
	return NULL;
}

/* The time of block n from times (in the order ct_range_check met the blocks; *hint follows it). */
static int
ct_time_of(const ct_btime *times, size_t ntimes, size_t *hint, uint64_t n, uint64_t *t)
{
	for (size_t k = 0; k < ntimes; k++) {
		size_t i = (*hint + k) % ntimes;
		if (times[i].block == n) {
			*hint = i;
			*t = times[i].time_s;
			return 0;
		}
	}
	return -1;
}

int
ct_ingest(ct_scan *s, MDB_txn *txn, ct_chain *c, const js_val *logs, const ct_btime *times, size_t ntimes,
          uint64_t now_ns, st_err *e)
{
	static ct_event ev;
	js_iter it;
	js_val j;
	char why[160];
	int rc;
	size_t hint = 0;
	js_iter_init(&it, logs);
	while (js_iter_next(&it, NULL, &j)) {
		ct_log lg;
		s->logs++;
		if (ct_log_from_js(s->dec, &j, &lg, why, sizeof why) != 0) {
			/* not even a log: nothing to keep but the count */
			rt_inc(rt_counter("ccip_undecodable_logs_total", "Logs that did not decode (kept raw).",
			                  "contract=\"?\",topic0=\"?\""));
			rt_logkv(RT_WARN, "malformed log from node", "chain", c->name, "field", why, NULL);
			s->undecodable++;
			continue;
		}
		if (!lg.has_block_time)
			ct_time_of(times, ntimes, &hint, lg.block_number, &lg.block_time_s);
		const ct_contract *k = ct_find_contract(c, lg.address);
		rc = ct_decode(s->dec, &lg, c->selector, k ? k->peer : 0, &ev, why, sizeof why);
		if (rc == CT_OK) {
			ev.msg.observed_at_ns = now_ns;
			rt_inc(ct_m_decoded(ev.name));
			if ((rc = ct_apply(s->t, txn, c->selector, &ev, e)) != 0)
				return rc;
			continue;
		}
		/* Counted and kept raw: never dropped silently. */
		char addr[43], t0[67], lab[192];
		hex_addr_format(lg.address, addr);
		if (lg.ntopics)
			hex_encode(lg.topics[0], 32, 1, t0);
		else
			snprintf(t0, sizeof t0, "none");
		snprintf(lab, sizeof lab, "contract=\"%s\",topic0=\"%s\"", addr, t0);
		rt_inc(rt_counter("ccip_undecodable_logs_total", "Logs that did not decode (kept raw).", lab));
		rt_logkv(RT_WARN, "undecodable log kept raw", "chain", c->name, "contract", addr, "topic0", t0, "why",
		         rc == CT_EUNKNOWN ? "unknown topic0" : why, NULL);
		s->undecodable++;
		if ((rc = ct_keep_raw(s->t, txn, c->selector, &lg, rc == CT_EUNKNOWN ? "unknown topic0" : why, e)) != 0)
			return rc;
	}
	return 0;
}

int
ct_range_check(ct_chain *c, const js_val *logs, uint64_t to, const uint8_t to_hash[32], ct_btime **times,
               size_t *ntimes, int *moved, char *err, size_t errlen)
{
	js_iter it;
	js_val j;
	uint64_t last_n = UINT64_MAX;
	size_t cap = 0;
	*times = NULL;
	*ntimes = 0;
	*moved = 0;
	js_iter_init(&it, logs);
	while (js_iter_next(&it, NULL, &j)) {
		uint64_t n;
		uint8_t bh[32];
		int has_time, got = ct_log_block_from_js(&j, &n, bh, &has_time);
		/* a log of block `to` from another branch: the chain moved under us */
		if ((got & 3) == 3 && n == to && memcmp(bh, to_hash, 32) != 0)
			*moved = 1;
		if (has_time || !(got & 1) || n == last_n)
			continue; /* a malformed log is ingest's to report */
		rpc_block b;
		rpc_error e;
		int rc = rpc_block_by_number(c->r, n, &b, &e);
		if (rc == RPC_OK && *ntimes == cap) {
			size_t nc = cap ? 2 * cap : 64;
			ct_btime *nt = realloc(*times, nc * sizeof *nt);
			if (nt == NULL) {
				free(*times);
				*times = NULL;
				*ntimes = 0;
				return ct_cerr(err, errlen, "%s", "out of memory");
			}
			*times = nt;
			cap = nc;
		}
		if (rc != RPC_OK) {
			free(*times);
			*times = NULL;
			*ntimes = 0;
			return ct_rpc_fail(c, "eth_getBlockByNumber", rc, &e, err, errlen);
		}
		last_n = n;
		(*times)[(*ntimes)++] = (ct_btime){ n, b.timestamp };
	}
	return 0;
}

/* ---- poll -------------------------------------------------------------------------------------- */

static int
ct_rewind(ct_scan *s, ct_chain *c, uint64_t cur, char *err, size_t errlen)
{
	uint64_t below = cur, keep = 0, n;
	uint8_t h[32];
	rpc_block b;
	rpc_error re;
	int rc, found = 0;
	MDB_txn *txn;
	st_err e;
	/* Walk back through the hashes we stored until the chain agrees with one. */
	for (;;) {
		if ((rc = st_begin(s->env, 1, &txn, &e)) != 0)
			return ct_cerr(err, errlen, "lmdb: %s", e.text);
		rc = ct_block_below(s->t, txn, c->selector, below, &n, h, &e);
		st_abort(txn);
		if (rc == MDB_NOTFOUND)
			break;
		if ((rc = rpc_block_by_number(c->r, n, &b, &re)) != RPC_OK)
			return ct_rpc_fail(c, "eth_getBlockByNumber", rc, &re, err, errlen);
		if (memcmp(b.hash, h, 32) == 0) {
			keep = n;
			found = 1;
			break;
		}
		below = n;
	}
	if (!found) {
		/* deeper than every hash we kept: start over from the oldest point we know */
		keep = below > 0 ? below - 1 : 0;
		rt_logkv(RT_ERROR, "reorg deeper than the stored hash window; rewinding to its start", "chain", c->name,
		         NULL);
	}
	if ((rc = rpc_block_by_number(c->r, keep, &b, &re)) != RPC_OK)
		return ct_rpc_fail(c, "eth_getBlockByNumber", rc, &re, err, errlen);
	uint64_t touched = 0, changes = 0;
	if ((rc = st_begin(s->env, 0, &txn, &e)) != 0 ||
	    (rc = ct_rollback(s->t, txn, c->selector, keep, &touched, &e)) != 0 ||
	    (rc = ct_settle(s->t, txn, rt_now_ns(), &changes, &e)) != 0 ||
	    (rc = ct_cursor_put(s->t, txn, c->selector, keep, b.hash, &e)) != 0) {
		st_abort(txn);
		return ct_cerr(err, errlen, "lmdb: %s", e.text);
	}
	if ((rc = st_commit(txn, &e)) != 0)
		return ct_cerr(err, errlen, "lmdb: %s", e.text);
	rt_inc(c->m_reorgs);
	s->reorgs++;
	s->changes += changes;
	char a[24], b2[24], t[24];
	snprintf(a, sizeof a, "%llu", (unsigned long long)cur);
	snprintf(b2, sizeof b2, "%llu", (unsigned long long)keep);
	snprintf(t, sizeof t, "%llu", (unsigned long long)touched);
	rt_logkv(RT_WARN, "reorg: rewound", "chain", c->name, "cursor", a, "to", b2, "facts_undone", t, NULL);
	return 0;
}

int
ct_poll(ct_scan *s, ct_chain *c, unsigned max_ranges, char *err, size_t errlen)
{
	uint64_t head, cur = 0;
	uint8_t cur_hash[32];
	rpc_error re;
	rpc_block b;
	MDB_txn *txn;
	st_err e;
	int rc, have;

	if ((rc = rpc_block_number(c->r, &head, &re)) != RPC_OK)
		return ct_rpc_fail(c, "eth_blockNumber", rc, &re, err, errlen);
	c->head = head;
	rt_gauge_set(c->m_head, (double)head);
	if (head < c->confirmations)
		return 0;
	uint64_t target = head - c->confirmations;

	if ((rc = st_begin(s->env, 1, &txn, &e)) != 0)
		return ct_cerr(err, errlen, "lmdb: %s", e.text);
	have = ct_cursor_get(s->t, txn, c->selector, &cur, cur_hash, &e) == 0;
	st_abort(txn);

	if (have) {
		if ((rc = rpc_block_by_number(c->r, cur, &b, &re)) == RPC_ENOTFOUND)
			memset(b.hash, 0, 32); /* the chain is now shorter than our cursor: a reorg too */
		else if (rc != RPC_OK)
			return ct_rpc_fail(c, "eth_getBlockByNumber", rc, &re, err, errlen);
		if (memcmp(b.hash, cur_hash, 32) != 0) {
			if (ct_rewind(s, c, cur, err, errlen) != 0)
				return -1;
			if ((rc = st_begin(s->env, 1, &txn, &e)) != 0)
				return ct_cerr(err, errlen, "lmdb: %s", e.text);
			ct_cursor_get(s->t, txn, c->selector, &cur, cur_hash, &e);
			st_abort(txn);
		}
	} else {
		/* first run: START_BLOCK, or the confirmed head */
		uint64_t first = c->start_block < 0 ? target + 1 : (uint64_t)c->start_block;
		cur = first > 0 ? first - 1 : 0;
		if (first == 0)
			cur = UINT64_MAX; /* "before block 0": the first range starts at 0 */
	}
	rt_gauge_set(c->m_cursor, (double)(cur == UINT64_MAX ? 0 : cur));

	for (unsigned k = 0; k < max_ranges && !rt_stopping(); k++) {
		uint64_t from = cur == UINT64_MAX ? 0 : cur + 1;
		if (from > target)
			break;
		uint64_t to = target - from + 1 > c->span ? from + c->span - 1 : target;
		char *body = NULL;
		js_val logs;
		ct_btime *times = NULL;
		size_t ntimes = 0;
		int moved = 0;
		rc = ct_get_logs(c, from, to, &body, &logs, &re);
		if (rc != RPC_OK) {
			if (ct_range_refused(rc, &re) && to > from) {
				c->span = (to - from + 1) / 2;
				c->ok_streak = 0;
				rt_inc(c->m_splits);
				k--; /* a refused range does not use up the poll's budget */
				continue;
			}
			return ct_rpc_fail(c, "eth_getLogs", rc, &re, err, errlen);
		}
		if (logs.type != JS_ARRAY) {
			free(body);
			return ct_cerr(err, errlen, "eth_getLogs: %s", "result is not an array");
		}
		/* The hash of `to`, read after the logs: a log of block `to` from another branch means
		 * the chain moved under us; the range is read again at the next poll. Block times for
		 * logs without one are read here too, before the write transaction. */
		if ((rc = rpc_block_by_number(c->r, to, &b, &re)) != RPC_OK ||
		    ct_range_check(c, &logs, to, b.hash, &times, &ntimes, &moved, err, errlen) != 0) {
			free(body);
			return rc != RPC_OK ? ct_rpc_fail(c, "eth_getBlockByNumber", rc, &re, err, errlen) : -1;
		}
		if (moved) {
			free(body);
			free(times);
			rt_logkv(RT_INFO, "chain moved during a range; re-reading next poll", "chain", c->name, NULL);
			break;
		}
		uint64_t changes = 0, now = rt_now_ns();
		if ((rc = st_begin(s->env, 0, &txn, &e)) != 0 ||
		    (rc = ct_ingest(s, txn, c, &logs, times, ntimes, now, &e)) != 0 ||
		    (rc = ct_cursor_put(s->t, txn, c->selector, to, b.hash, &e)) != 0 ||
		    (rc = ct_overdue(s->t, txn, now / 1000000000u, &e)) != 0 ||
		    (rc = ct_settle(s->t, txn, now, &changes, &e)) != 0 ||
		    (to > CT_HASH_WINDOW &&
		     (rc = ct_blocks_prune(s->t, txn, c->selector, to - CT_HASH_WINDOW, &e)) != 0)) {
			st_abort(txn);
			free(body);
			free(times);
			return ct_cerr(err, errlen, "lmdb: %s", e.text);
		}
		free(body);
		free(times);
		if ((rc = st_commit(txn, &e)) != 0)
			return ct_cerr(err, errlen, "lmdb: %s", e.text);
		s->changes += changes;
		cur = to;
		rt_gauge_set(c->m_cursor, (double)cur);
		if (++c->ok_streak >= CT_GROW_AFTER && c->span < c->max_range) {
			c->span = c->span * 2 < c->max_range ? c->span * 2 : c->max_range;
			c->ok_streak = 0;
		}
	}
	/* Deadlines also fire while no new block arrives. */
	uint64_t changes = 0, now = rt_now_ns();
	if ((rc = st_begin(s->env, 0, &txn, &e)) != 0 || (rc = ct_overdue(s->t, txn, now / 1000000000u, &e)) != 0 ||
	    (rc = ct_settle(s->t, txn, now, &changes, &e)) != 0) {
		st_abort(txn);
		return ct_cerr(err, errlen, "lmdb: %s", e.text);
	}
	if ((rc = st_commit(txn, &e)) != 0)
		return ct_cerr(err, errlen, "lmdb: %s", e.text);
	s->changes += changes;
	return 0;
}
