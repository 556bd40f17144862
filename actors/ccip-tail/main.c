/*
 * ccip-tail - follows CCIP OnRamp/OffRamp/CommitStore/Router logs on one or more chains, keeps each
 * message's lifecycle in LMDB, publishes every state change as ccip.msg.<state> (and failures and
 * overdue messages as alerts), and answers GET /messages/<id> and GET /messages?state=.
 *
 * The loop: every MONITORING_INTERVAL each chain is polled (scan.c: confirmations, reorg check,
 * adaptive ranges, one LMDB transaction per range with its cursor); then the publication queue the
 * transactions filled is sent on the bus and emptied. Nothing is published before it is durable,
 * and a crash re-publishes the queue with the same envelope ids.
 * See README.md beside this file for configuration, metrics, tables and the state machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/ccip-tail/scan.h"
#include "actors/ccip-tail/track.h"
#include "bus/actor.h"
#include "base/rt_config.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "base/hex.h"
#include "store/store.h"

static act_bus_cfg busc;
static const char *cfg_file, *cfg_rpc, *cfg_router, *cfg_contracts, *cfg_dir, *cfg_name;
static uint64_t cfg_interval_ms, cfg_conf, cfg_overdue_ms, cfg_commit_overdue_ms, cfg_max_range, cfg_chain_id,
        cfg_selector, cfg_timeout_ms, cfg_map_size, cfg_list_max, cfg_ranges;
static int64_t cfg_start;

static rt_check_fn ct_check;

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "CCIP_CONFIG", RT_STR, "", "JSON file listing chains (overrides the single-chain variables below; README)",
	  &cfg_file, 0, 0, 0, 0 },
	{ "RPC_URL", RT_HTTP_URL, "", "single chain: JSON-RPC endpoints, comma list (first preferred, failover)",
	  &cfg_rpc, 0, 0, RPC_MAX_ENDPOINTS, 0 },
	{ "CHAIN_ID", RT_U64, "0", "single chain: expected chain id (0 = learn from the node)", &cfg_chain_id, 0, 0, 0,
	  0 },
	{ "CHAIN_SELECTOR", RT_U64, "0",
	  "single chain: its CCIP chain selector (required with CCIP_CONTRACTS; with "
	  "only CCIP_ROUTER_ADDRESS, 0 leaves this chain unlabelled; set it before adding lanes: the cursor is kept "
	  "per "
	  "selector)",
	  &cfg_selector, 0, 0, 0, 0 },
	{ "CHAIN_NAME", RT_STR, "chain", "single chain: name used in metrics and logs", &cfg_name, 0, 0, 0, 0 },
	{ "CCIP_ROUTER_ADDRESS", RT_STR, "", "single chain: the Router (MessageExecuted), 0x + 40 hex digits",
	  &cfg_router, 0, 0, 0, 0 },
	{ "CCIP_CONTRACTS", RT_STR, "",
	  "single chain: OnRamps, OffRamps, CommitStores: 0xADDR[:PEER_SELECTOR],... (PEER for v1.5: an OnRamp's "
	  "destination, an OffRamp's/CommitStore's source)",
	  &cfg_contracts, 0, 0, 0, 0 },
	{ "MONITORING_INTERVAL", RT_DURATION, "30s", "time between polls of each chain", &cfg_interval_ms, 100,
	  86400000, 0, 0 },
	{ "CONFIRMATIONS", RT_U64, "2",
	  "a block is read once this many blocks are on top of it (it is read at head - CONFIRMATIONS; "
	  "unlike the submitter's CONFIRMATIONS the block itself is not counted); 0 = at the head",
	  &cfg_conf, 0, 100000, 0, 0 },
	{ "START_BLOCK", RT_I64, "-1", "first block when no cursor is stored (-1 = the confirmed head)", &cfg_start, -1,
	  INT64_MAX, 0, 0 },
	{ "MAX_BLOCK_RANGE", RT_U64, "2000", "blocks per eth_getLogs at most (halved when the node refuses)",
	  &cfg_max_range, 1, 1000000, 0, 0 },
	{ "MAX_RANGES_PER_POLL", RT_U64, "64",
	  "eth_getLogs ranges one poll of a chain reads at most (then the next chain)", &cfg_ranges, 1, 100000, 0, 0 },
	{ "OVERDUE_AFTER", RT_DURATION, "3h", "sent but not executed within this: overdue (0 = never)", &cfg_overdue_ms,
	  0, 0, 0, 0 },
	{ "COMMIT_OVERDUE_AFTER", RT_DURATION, "1h", "sent but not committed within this: overdue (0 = never)",
	  &cfg_commit_overdue_ms, 0, 0, 0, 0 },
	{ "RPC_TIMEOUT", RT_DURATION, "10s", "per JSON-RPC request", &cfg_timeout_ms, 100, 600000, 0, 0 },
	{ "DATA_DIR", RT_STR, "data/ccip-tail", "LMDB directory", &cfg_dir, 0, 0, 0, 0 },
	{ "LMDB_MAP_SIZE", RT_U64, "268435456", "initial LMDB map size in bytes (grows as needed)", &cfg_map_size,
	  1 << 20, INT64_MAX, 0, 0 },
	{ "LIST_MAX", RT_U64, "1000", "most messages one GET /messages?state= returns", &cfg_list_max, 1, 100000, 0,
	  0 },
	RT_CHECK_ROW("", ct_check),
};

static ct_chain chains[CT_MAX_CHAINS];
static size_t nchains;
static ct_scan scan;
static rt_metric *m_tracked, *m_pending, *m_raw;

/* ---- HTTP ------------------------------------------------------------------------------------ */

static int
http_json(rt_buf *out, const char **ctype, json_t *j, int status)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		return 500;
	rt_buf_puts(out, s);
	rt_buf_puts(out, "\n");
	free(s);
	*ctype = "application/json";
	return status;
}

static int
http_error(rt_buf *out, const char **ctype, int status, const char *msg)
{
	json_t *j = json_object();
	json_object_set_new(j, "error", json_string(msg));
	return http_json(out, ctype, j, status);
}

/* query "state=committed&limit=10&after=0x.." -> value of key (copied into v) or 0 */
static int
query_get(const char *q, const char *key, char *v, size_t vlen)
{
	size_t kl = strlen(key);
	for (const char *p = q; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			snprintf(v, vlen, "%.*s", (int)(len - kl - 1), p + kl + 1);
			return 1;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

static int
http_messages(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen,
              rt_buf *out, const char **ctype)
{
	MDB_txn *txn;
	st_err e;
	uint8_t id[32];
	json_t *j;
	(void)arg;
	if (strncmp(path, "/messages/", 10) == 0) {
		const char *h = path + 10;
		if (hex_decode_exact(h, strlen(h), id, 32) != HEX_OK)
			return http_error(out, ctype, 400, "message id must be 32 bytes of hex");
		if (st_begin(scan.env, 1, &txn, &e) != 0)
			return http_error(out, ctype, 500, e.text);
		j = ct_msg_json(scan.t, txn, id);
		st_abort(txn);
		return j ? http_json(out, ctype, j, 200) : http_error(out, ctype, 404, "unknown message id");
	}
	if (strcmp(path, "/messages") != 0 && strcmp(path, "/messages/") != 0)
		return http_error(out, ctype, 404, "not found");
	char sv[32] = "", lv[16] = "", av[80] = "";
	int state = -1;
	uint64_t limit = 100;
	if (query_get(query, "state", sv, sizeof sv)) {
		for (int s = 0; s < CT_NSTATES; s++)
			if (strcmp(sc_enum_name(&SC_CCIP_MSG, "state", s), sv) == 0)
				state = s;
		if (state < 0 || state == SC_CCIP_REORGED)
			return http_error(out, ctype, 400,
			                  "state: one of sent, committed, executed_success, executed_failure, overdue");
	}
	if (query_get(query, "limit", lv, sizeof lv)) {
		char *q;
		limit = strtoull(lv, &q, 10);
		if (*q || limit == 0)
			return http_error(out, ctype, 400, "limit: a positive integer");
	}
	if (limit > cfg_list_max)
		limit = cfg_list_max;
	int have_after = query_get(query, "after", av, sizeof av);
	if (have_after && hex_decode_exact(av, strlen(av), id, 32) != HEX_OK)
		return http_error(out, ctype, 400, "after: a message id");
	if (st_begin(scan.env, 1, &txn, &e) != 0)
		return http_error(out, ctype, 500, e.text);
	j = ct_list_json(scan.t, txn, state, have_after ? id : NULL, limit);
	st_abort(txn);
	return http_json(out, ctype, j, 200);
}

static void
collect(void *arg)
{
	MDB_txn *txn;
	st_err e;
	uint64_t tracked, pubs, raw;
	(void)arg;
	if (st_begin(scan.env, 1, &txn, &e) != 0)
		return;
	if (ct_counts(scan.t, txn, &tracked, &pubs, &raw, &e) == 0) {
		rt_gauge_set(m_tracked, (double)tracked);
		rt_gauge_set(m_pending, (double)pubs);
		rt_gauge_set(m_raw, (double)raw);
	}
	st_abort(txn);
}

/* ---- publishing the queue ---------------------------------------------------------------------- */

static int
publish_queue(act_bus *a)
{
	static sc_ccip_msg m;
	static sc_alert al;
	int sent = 0;
	/* NNG's pub drops what is sent before a pipe to busd is up, and the queue entry would be deleted
	 * with it: right after a (re)start, what a crash left queued was lost on a slow dial (seen by
	 * ccip_tail.sh's kill -9 case on a loaded machine). Keep the queue until the bus is there. */
	if (!act_pub_up(a))
		return 0;
	act_alert_flush(a); /* rpc_unreachable raised before: a chain that stays down publishes nothing else */
	for (;;) {
		MDB_txn *txn;
		st_err e;
		ct_pub p;
		uint64_t after = 0;
		int n = 0, rc = 0;
		if (st_begin(scan.env, 0, &txn, &e) != 0)
			return -1;
		while (n < 256 && (rc = ct_pub_next(scan.t, txn, after, &p, &e)) == 0) {
			sc_err se;
			const sc_msgdef *d = p.is_alert ? &SC_ALERT : &SC_CCIP_MSG;
			void *rec = p.is_alert ? (void *)&al : (void *)&m;
			if (sc_decode(d, p.body, p.body_len, rec, &se) == 0) {
				if (act_publish(a, p.topic, d, rec, p.id, NULL) != BUS_OK) {
					rc = -1; /* the bus is down: keep the rest for the next round */
					break;
				}
			} else {
				rt_logkv(RT_ERROR, "dropping a corrupt queued publication", "error", se.text, NULL);
			}
			ct_pub_del(scan.t, txn, p.seq, &e);
			after = p.seq;
			n++;
		}
		if (st_commit(txn, &e) != 0)
			return -1;
		sent += n;
		if (rc != 0 || n < 256)
			break;
	}
	return sent;
}

/* ---- configuration ----------------------------------------------------------------------------- */

/* The chains to follow, from CCIP_CONFIG or the single-chain variables; every problem listed. */
static void
ct_check(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	char err[512];
	ct_chain dflt;
	memset(&dflt, 0, sizeof dflt);
	dflt.confirmations = cfg_conf;
	dflt.start_block = cfg_start;
	dflt.max_range = cfg_max_range;
	dflt.chain_id = cfg_chain_id;
	if (cfg_file[0]) {
		json_t *j = rt_config_json(e, "CCIP_CONFIG");
		if (j == NULL)
			return;
		int rc = ct_chains_from_json(j, &dflt, chains, &nchains, err, sizeof err);
		json_decref(j);
		if (rc != 0) {
			rt_config_error(e, "CCIP_CONFIG", "%s", err);
			return;
		}
		/* the file's endpoints get the same check as RPC_URL */
		for (size_t i = 0; i < nchains; i++) {
			char urls[sizeof chains[i].rpc_urls], why[160];
			snprintf(urls, sizeof urls, "%s", chains[i].rpc_urls);
			for (char *u = strtok(urls, ","); u; u = strtok(NULL, ",")) {
				while (*u == ' ')
					u++;
				if (rt_check_http_url(u, why, sizeof why) != 0)
					rt_config_error(e, "CCIP_CONFIG",
					                "chain %s: rpc '%.80s' is not an HTTP(S) URL: %s",
					                chains[i].name, u, why);
			}
		}
		return;
	}
	ct_chain *c = &chains[0];
	*c = dflt;
	snprintf(c->name, sizeof c->name, "%s", cfg_name);
	snprintf(c->rpc_urls, sizeof c->rpc_urls, "%s", cfg_rpc ? cfg_rpc : ""); /* NULL when RPC_URL failed */
	rt_config_require(e, "RPC_URL", 1, cfg_rpc && cfg_rpc[0], "(or CCIP_CONFIG)");
	/* Lanes (CCIP_CONTRACTS) are matched by selector; the seed's Router alone is followed by message id,
	 * so there the selector only labels this chain (0 until set, warned at start). */
	rt_config_require(e, "CHAIN_SELECTOR", cfg_contracts[0] != '\0', cfg_selector != 0,
	                  "with CCIP_CONTRACTS: lanes are matched by selector (or CCIP_CONFIG)");
	c->selector = cfg_selector;
	if (cfg_router[0] && ct_contracts_parse(c, cfg_router, err, sizeof err) != 0)
		rt_config_error(e, "CCIP_ROUTER_ADDRESS", "%s", err);
	if (ct_contracts_parse(c, cfg_contracts, err, sizeof err) != 0)
		rt_config_error(e, "CCIP_CONTRACTS", "%s", err);
	else if (c->nc == 0 && !rt_config_failed(e, "CCIP_ROUTER_ADDRESS"))
		rt_config_error(e, "CCIP_CONTRACTS",
		                "no contracts to follow: set CCIP_ROUTER_ADDRESS and/or CCIP_CONTRACTS");
	nchains = 1;
}

static int
start_chains(void)
{
	char err[512];
	for (size_t i = 0; i < nchains; i++)
		if (ct_chain_start(&chains[i], (int)cfg_timeout_ms, err, sizeof err) != 0) {
			rt_logkv(RT_ERROR, "rpc", "chain", chains[i].name, "error", err, NULL);
			return -1;
		}
	return 0;
}

static void
chain_health(act_bus *a, ct_chain *c, int down, const char *err)
{
	char key[64], dk[96];
	snprintf(key, sizeof key, "rpc:%.31s", c->name);
	snprintf(dk, sizeof dk, "rpc_unreachable:ccip-tail:%.31s", c->name);
	if (down == c->down)
		return;
	c->down = down;
	rt_health_set(key, down, err);
	const char *labels[] = { "chain", c->name, "actor", "ccip-tail", NULL };
	char sum[300];
	snprintf(sum, sizeof sum, "ccip-tail cannot read chain %.31s: %.200s", c->name, down ? err : "recovered");
	act_alert(a, SC_SEV_WARNING, down ? SC_ALERT_FIRING : SC_ALERT_RESOLVED, "rpc_unreachable", dk, sum, labels);
	rt_logkv(down ? RT_WARN : RT_INFO, down ? "chain unreachable" : "chain reachable again", "chain", c->name,
	         "error", down ? err : "", NULL);
}

int
main(int argc, char **argv)
{
	char err[512];
	st_err e;
	if (rt_init("ccip-tail", argc, argv, opts, sizeof opts / sizeof opts[0]) != 0)
		return 1;
	if (!cfg_file[0] && cfg_selector == 0)
		rt_log(RT_WARN,
		       "CHAIN_SELECTOR unset: following the Router by message id, this chain unlabelled (selector 0); "
		       "set it before adding CCIP_CONTRACTS lanes (the cursor is kept per selector)");
	if (start_chains() != 0)
		return 1;
	st_opts so = { .map_size = cfg_map_size, .max_tables = 20 };
	if (st_open(&scan.env, cfg_dir, &so, &e) != 0) {
		rt_log(RT_ERROR, "lmdb %s: %s", cfg_dir, e.text);
		return 1;
	}
	ct_track_cfg tc = { .overdue_after_s = cfg_overdue_ms / 1000,
		            .commit_overdue_after_s = cfg_commit_overdue_ms / 1000 };
	for (int s = 0; s < CT_NSTATES; s++) {
		char lab[64];
		snprintf(lab, sizeof lab, "state=\"%s\"", sc_enum_name(&SC_CCIP_MSG, "state", s));
		tc.m_state[s] =
		        rt_counter("ccip_state_changes_total", "Message state changes published, by state.", lab);
	}
	tc.m_failures = rt_counter("ccip_message_failures_total",
	                           "Messages whose execution failed (seed: ccip_message_failures).", NULL);
	if (ct_track_open(scan.env, &tc, &scan.t, &e) != 0) {
		rt_log(RT_ERROR, "lmdb tables: %s", e.text);
		return 1;
	}
	scan.dec = ct_dec_new();
	m_tracked = rt_gauge("ccip_messages_tracked", "Messages with a send in the store (seed name).", NULL);
	m_pending = rt_gauge("ccip_publish_pending", "State changes and alerts stored but not yet published.", NULL);
	m_raw = rt_gauge("ccip_raw_logs", "Undecodable logs kept raw in the store.", NULL);
	rt_metrics_collector(collect, NULL);
	rt_http_route(NULL, "/messages", 1, http_messages, NULL);

	act_bus *a = act_open(&busc, ACT_PUB, NULL, err, sizeof err);
	if (a == NULL) {
		rt_log(RT_ERROR, "bus: %s", err);
		return 1;
	}
	char nb[16];
	snprintf(nb, sizeof nb, "%zu", nchains);
	rt_logkv(RT_INFO, "ccip-tail following", "chains", nb, "data_dir", cfg_dir, NULL);

	uint64_t next[CT_MAX_CHAINS] = { 0 };
	publish_queue(a); /* what a crash left behind, with the same ids */
	while (!rt_stopping()) {
		uint64_t now = rt_mono_ns();
		for (size_t i = 0; i < nchains && !rt_stopping(); i++) {
			if (now < next[i])
				continue;
			next[i] = now + cfg_interval_ms * 1000000u;
			int rc = ct_poll(&scan, &chains[i], (unsigned)cfg_ranges, err, sizeof err);
			chain_health(a, &chains[i], rc != 0, err);
			if (rc != 0 && rt_log_state_change(chains[i].name, err))
				rt_logkv(RT_WARN, "poll failed", "chain", chains[i].name, "error", err, NULL);
			publish_queue(a);
		}
		rt_ready(); /* every chain polled once: read, or /health says rpc:<chain> */
		rt_sleep_ms(cfg_interval_ms < 200 ? cfg_interval_ms : 200);
	}
	publish_queue(a);
	char l[24], c[24];
	snprintf(l, sizeof l, "%llu", (unsigned long long)scan.logs);
	snprintf(c, sizeof c, "%llu", (unsigned long long)scan.changes);
	rt_logkv(RT_INFO, "stopping", "logs", l, "state_changes", c, NULL);
	act_close(a);
	for (size_t i = 0; i < nchains; i++)
		ct_chain_close(&chains[i]);
	ct_dec_free(scan.dec);
	ct_track_close(scan.t);
	st_close(scan.env);
	rt_shutdown();
	return 0;
}
