/*
 * tokenizer - payment intake of the Financial Tokenization service: ISO 20022 (pacs.008, pain.001) and
 * SWIFT MT103 messages in (HTTP POST /payments, a spool directory, token.submit on the bus), exactly one
 * token.request per payment out (LMDB outbox until a backend's token.result), state and pacs.002 back
 * (GET /payments/<id>, /payments/<id>/pacs002, token.status on the bus). See README.md beside this file.
 *
 * This file is the process. Threads: NNG's HTTP workers parse and prepare (key, mapping, hash) in
 * parallel and hand their batch to the worker; the spool thread does the same for files; the receiver
 * thread reads the bus (sub-only bus handle) and queues token.results and token.submits; the worker
 * (main thread) is the only writer of LMDB and the only publisher: it commits everything queued in ONE
 * transaction (group commit), publishes after the commit, then wakes the waiting HTTP requests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "base/util.h"
#include "actors/tokenizer/config.h"
#include "actors/tokenizer/core.h"
#include "actors/tokenizer/intake.h"
#include "bus/actor.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "base/hex.h"
#include "store/store.h"

#define TKM_TOPIC_SUBMIT "token.submit"
#define TKM_TOPIC_RESULT "token.result"
#define TKM_TOPIC_STATUS "token.status"

/* ---- configuration -------------------------------------------------------------------------- */

static act_bus_cfg busc;
static const char *cfg_state_dir, *cfg_spool_dir, *cfg_token_config;
static uint64_t cfg_body_max, cfg_xml_depth, cfg_xml_elements, cfg_batch, cfg_retry_ms, cfg_retry_max_ms;
static uint64_t cfg_pending_alert_ms, cfg_spool_poll_ms, cfg_map_mb;
static tk_config *cfg_mapping; /* TOKEN_CONFIG, parsed and checked by its check row */
static rt_check_fn tkm_check_mapping, tkm_check_spool, tkm_check_state, tkm_check_intake;

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "TOKEN_CONFIG", RT_STR, NULL,
	  "JSON file: currency -> token (backend, pool/address, decimals), account -> "
	  "chain address, redemption accounts (README)",
	  &cfg_token_config, 0, 0, 0, RT_REQUIRED },
	{ "STATE_DIR", RT_STR, "data/tokenizer", "LMDB directory: payments, open payments, token.request outbox",
	  &cfg_state_dir, 0, 0, 0, 0 },
	{ "BODY_MAX", RT_U64, "4194304",
	  "largest message accepted (bytes; HTTP answers 413 above it, before "
	  "reading)",
	  &cfg_body_max, 1024, 1073741824, 0, 0 },
	{ "XML_MAX_DEPTH", RT_U64, "64", "deepest element nesting of an XML message", &cfg_xml_depth, 8, 256, 0, 0 },
	{ "XML_MAX_ELEMENTS", RT_U64, "100000", "most elements in one XML message", &cfg_xml_elements, 100, 10000000, 0,
	  0 },
	{ "SPOOL_DIR", RT_STR, "",
	  "directory polled for message files (moved to done/ or rejected/ with "
	  "<name>.status.json); empty = off",
	  &cfg_spool_dir, 0, 0, 0, 0 },
	{ "SPOOL_POLL", RT_DURATION, "1s", "spool directory poll interval", &cfg_spool_poll_ms, 10, 3600000, 0, 0 },
	{ "BATCH_MAX", RT_U64, "1024", "payments per LMDB commit (group commit of concurrent requests)", &cfg_batch, 1,
	  65536, 0, 0 },
	{ "OUTBOX_RETRY", RT_DURATION, "2s", "first re-publish of a token.request no backend has taken", &cfg_retry_ms,
	  10, 3600000, 0, 0 },
	{ "OUTBOX_RETRY_MAX", RT_DURATION, "60s", "longest re-publish interval", &cfg_retry_max_ms, 10, 3600000, 0, 0 },
	{ "PENDING_ALERT", RT_DURATION, "10m",
	  "a payment not confirmed or failed after this long raises "
	  "payment_pending_too_long",
	  &cfg_pending_alert_ms, 1000, 0, 0, 0 },
	{ "MAP_SIZE_MB", RT_U64, "256", "initial LMDB map size (grows when full)", &cfg_map_mb, 1, 1048576, 0, 0 },
	RT_CHECK_ROW("TOKEN_CONFIG", tkm_check_mapping),
	RT_CHECK_ROW("SPOOL_DIR", tkm_check_spool),
	RT_CHECK_ROW("STATE_DIR", tkm_check_state),
	RT_CHECK_ROW("", tkm_check_intake),
};

/* The mapping file, every problem in it (with its JSON path) in the one list; kept for main, so
 * what runs is what was checked. */
static void
tkm_check_mapping(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	(void)text;
	tk_config_free(cfg_mapping);
	cfg_mapping = tk_config_load(o->env, e);
}

/* The spool directory must exist and be writable (done/ and rejected/ are made in it at start; if
 * they exist they must be directories we can write). Nothing is created here. */
static void
tkm_check_spool(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	if (text == NULL || !*text || rt_config_dir(e, o->env, text, 1) != 0)
		return;
	char sub[4200];
	struct stat st;
	for (int i = 0; i < 2; i++) {
		snprintf(sub, sizeof sub, "%s/%s", text, i ? "rejected" : "done");
		if (stat(sub, &st) == 0)
			rt_config_dir(e, o->env, sub, 1);
	}
}

static void
tkm_check_state(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	rt_config_dir(e, o->env, text, 0);
}

/* A port variable as the runtime reads it: given (and its value), or not. */
static int
tkm_port_env(const char *name, long *port)
{
	const char *v = getenv(name);
	if (v == NULL || !*v)
		return 0;
	*port = strtol(v, NULL, 10);
	return 1;
}

/* POST /payments is served on HEALTH_PORT (or HTTP_PORT); with neither and no SPOOL_DIR nothing
 * could ever come in. */
static void
tkm_check_intake(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	(void)o;
	(void)text;
	long port = 8080; /* HEALTH_PORT's default */
	if (rt_config_failed(e, "HTTP_PORT") || rt_config_failed(e, "HEALTH_PORT"))
		return; /* already listed; which port serves POST /payments is not known */
	if (!tkm_port_env("HTTP_PORT", &port))
		tkm_port_env("HEALTH_PORT", &port);
	if (port == 0 && (cfg_spool_dir == NULL || !cfg_spool_dir[0]) && !rt_config_failed(e, "SPOOL_DIR"))
		rt_config_error(e, "SPOOL_DIR",
		                "no intake: set SPOOL_DIR and/or a HEALTH_PORT or HTTP_PORT (POST /payments), "
		                "both are off");
}

/* ---- shared state --------------------------------------------------------------------------- */

typedef struct tkm_job {
	tk_batch b;
	int source; /* TKM_SRC_* */
	int done;
	int status; /* HTTP status of the rendered answer */
	rt_buf answer;
	uint64_t recv_mono;
	struct tkm_job *next;
} tkm_job;

enum {
	TKM_SRC_HTTP,
	TKM_SRC_SPOOL,
	TKM_SRC_BUS
};
static const char *const tkm_src_names[] = { "http", "spool", "bus" };

enum {
	TKM_OUT_ACCEPTED,
	TKM_OUT_DUPLICATE,
	TKM_OUT_CONFLICT,
	TKM_OUT_REJECTED,
	TKM_OUT_ERROR,
	TKM_NOUT
};
static const char *const tkm_out_names[] = { "accepted", "duplicate", "conflict", "rejected", "error" };
static const char *const tkm_fmt_names[] = { "unknown", "pacs008", "pain001", "mt103", "json" };
static const char *const tkm_be_names[] = { "none", "firefly", "erc20" };

static struct {
	tk_config *cfg;
	tk_core *core;
	act_bus *pub; /* worker thread only */
	act_bus *sub; /* receiver thread only */
	pm_xml_limits lim;
	pthread_mutex_t mu;
	pthread_cond_t wake, done;
	tkm_job *head, *tail;
	tk_result_item *res;
	size_t nres, capres;
	/* metrics */
	rt_metric *m_req[5][3][TKM_NOUT], *m_success[5][3], *m_intake_s, *m_backend_s, *m_pending, *m_oldest, *m_outbox,
	        *m_republished, *m_results_ignored, *m_store_errors, *m_overdue, *m_spool[2];
	/* payment_pending_too_long is firing */
	int overdue_alerted;
	int ready;   /* routes exist from the first moment the server listens; 503 until set */
	int closing; /* under mu: no new jobs (shutdown) */
} S = { .mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

/* ---- metrics ---------------------------------------------------------------------------------- */

static int
tkm_fmt_idx(int pm_fmt)
{
	return pm_fmt >= PM_FMT_PACS008 && pm_fmt <= PM_FMT_JSON ? pm_fmt : 0;
}

static rt_metric *
tkm_req_metric(int fmt, int be, int out)
{
	if (S.m_req[fmt][be][out] == NULL) {
		char l[128];
		snprintf(l, sizeof l, "format=\"%s\",backend=\"%s\",outcome=\"%s\"", tkm_fmt_names[fmt],
		         tkm_be_names[be], tkm_out_names[out]);
		S.m_req[fmt][be][out] = rt_counter("tokenization_requests_total",
		                                   "Payments received, by source format, backend and outcome (seed: "
		                                   "tokenization_requests).",
		                                   l);
	}
	return S.m_req[fmt][be][out];
}

static rt_metric *
tkm_labeled(const char *name, const char *help, const char *k1, const char *v1, const char *k2, const char *v2)
{
	char l[160], e1[64], e2[64];
	rt_label_escape(v1, e1, sizeof e1);
	if (k2) {
		rt_label_escape(v2, e2, sizeof e2);
		snprintf(l, sizeof l, "%s=\"%s\",%s=\"%s\"", k1, e1, k2, e2);
	} else {
		snprintf(l, sizeof l, "%s=\"%s\"", k1, e1);
	}
	return rt_counter(name, help, l);
}

static void
tkm_metrics(void)
{
	static const double b_intake[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1 };
	static const double b_backend[] = { 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800 };
	for (int f = 1; f < 5; f++)
		for (int be = 1; be < 3; be++) {
			tkm_req_metric(f, be, TKM_OUT_ACCEPTED);
			char l[96];
			snprintf(l, sizeof l, "format=\"%s\",backend=\"%s\"", tkm_fmt_names[f], tkm_be_names[be]);
			S.m_success[f][be] = rt_counter("tokenization_success_total",
			                                "Payments whose token operation is final on chain (seed: "
			                                "tokenization_success).",
			                                l);
		}
	S.m_intake_s = rt_histogram("tokenization_intake_seconds",
	                            "Message received to its payments durable in LMDB (parse, map, group commit).",
	                            NULL, b_intake, OB_COUNT(b_intake));
	S.m_backend_s = rt_histogram("tokenization_backend_seconds",
	                             "Payment accepted to its final token.result (confirmed or failed).", NULL,
	                             b_backend, OB_COUNT(b_backend));
	S.m_pending = rt_gauge("tokenization_pending", "Payments accepted and not yet confirmed or failed.", NULL);
	S.m_oldest =
	        rt_gauge("tokenization_oldest_pending_age_seconds", "Age of the oldest payment not yet final.", NULL);
	S.m_overdue = rt_gauge("tokenization_pending_overdue", "Payments not final after PENDING_ALERT.", NULL);
	S.m_outbox = rt_gauge("tokenization_outbox_pending", "token.requests no backend has taken yet.", NULL);
	S.m_republished =
	        rt_counter("tokenization_republished_total", "token.requests re-published from the outbox.", NULL);
	S.m_results_ignored = rt_counter("tokenization_results_ignored_total",
	                                 "token.results for unknown keys or with the tokenizer's own states.", NULL);
	S.m_store_errors =
	        rt_counter("tokenization_store_errors_total", "Batches LMDB could not commit (answered 503).", NULL);
	S.m_spool[0] = tkm_labeled("tokenization_spool_files_total", "Spool files processed, by destination.", "result",
	                           "done", NULL, NULL);
	S.m_spool[1] = tkm_labeled("tokenization_spool_files_total", "Spool files processed, by destination.", "result",
	                           "rejected", NULL, NULL);
}

static void
tkm_gauges(void)
{
	tk_stats st;
	char err[256];
	uint64_t now = rt_now_ns();
	act_alert_flush(S.pub); /* alerts raised while busd was away: S.pub has no act_recv to send them */
	if (tk_open_stats(S.core, now - cfg_pending_alert_ms * 1000000u, &st, err, sizeof err) != 0) {
		rt_log(RT_WARN, "stats: %s", err);
		return;
	}
	rt_gauge_set(S.m_pending, (double)st.open);
	rt_gauge_set(S.m_outbox, (double)st.outbox);
	rt_gauge_set(S.m_overdue, (double)st.overdue);
	rt_gauge_set(S.m_oldest, st.oldest_ns && now > st.oldest_ns ? (double)(now - st.oldest_ns) / 1e9 : 0);
	/* One alert for the condition: firing (with the count and the oldest payment's id then) when the first
	 * payment becomes overdue, resolved when none is left; more payments becoming overdue meanwhile raise
	 * no second alert (the count is in tokenization_pending_overdue). */
	if ((st.overdue > 0) != S.overdue_alerted) {
		char hex[33], n[24], sum[200];
		hex_encode(st.oldest_id, 16, 0, hex);
		snprintf(n, sizeof n, "%llu", (unsigned long long)st.overdue);
		snprintf(sum, sizeof sum, "%llu payment(s) not confirmed or failed after %llu s; oldest %s",
		         (unsigned long long)st.overdue, (unsigned long long)(cfg_pending_alert_ms / 1000),
		         st.overdue ? hex : "-");
		const char *labels[] = { "count", n, "oldest_id", st.overdue ? hex : "", NULL };
		act_alert(S.pub, SC_SEV_WARNING, st.overdue ? SC_ALERT_FIRING : SC_ALERT_RESOLVED,
		          "payment_pending_too_long", "payment_pending_too_long", sum, labels);
		S.overdue_alerted = st.overdue > 0;
	}
}

/* ---- publishing (worker thread) ------------------------------------------------------------------ */

static void
tkm_publish(void *arg, const char *topic, const char *type, const uint8_t *id, const uint8_t *body, size_t len)
{
	(void)arg;
	if (bus_publish(act_pub(S.pub), topic, type, id, body, len, NULL) != BUS_OK)
		rt_logkv(RT_WARN, "publish failed", "topic", topic, NULL);
}

/* token.status for a bus-submitted request that did not become a new payment (the sender's answer). */
static void
tkm_publish_refusal(const tk_item *it)
{
	sc_token_result r;
	memset(&r, 0, sizeof r);
	snprintf(r.idempotency_key, sizeof r.idempotency_key, "%s", it->key[0] ? it->key : "-");
	r.state = it->outcome == TK_DUP ? SC_TOKST_DUPLICATE : SC_TOKST_REJECTED;
	r.kind = it->outcome == TK_DUP ? it->rec.kind : it->op.kind;
	if (it->outcome == TK_DUP)
		r.amount = it->rec.units;
	else {
		snprintf(r.reason, sizeof r.reason, "%s", it->err.reason);
		snprintf(r.error, sizeof r.error, "%s: %s", it->err.field, it->err.text);
	}
	r.decided_at_ns = rt_now_ns();
	/* A lost refusal is not repeated: the sender's re-submission of the same key gets it again. */
	if (act_publish(S.pub, TKM_TOPIC_STATUS, &SC_TOKEN_RESULT, &r, NULL, NULL) != BUS_OK)
		rt_logkv(RT_WARN, "refusal not published; a re-submission gets it again", "key", r.idempotency_key,
		         NULL);
}

static void
tkm_conflict_alert(const tk_item *it)
{
	char hex[33], sum[160], dk[64];
	hex_encode(it->id, 16, 0, hex);
	/* Only the key's hash: the key itself holds references the sender chose. */
	snprintf(dk, sizeof dk, "payment_conflict:%s", hex);
	snprintf(sum, sizeof sum, "payment %s re-sent with other content; refused (AM05), the first stays", hex);
	const char *labels[] = { "payment_id", hex, "reason", "AM05", NULL };
	act_alert(S.pub, SC_SEV_WARNING, SC_ALERT_FIRING, "payment_conflict", dk, sum, labels);
}

/* Counts and logs one intake entry after its batch committed. */
static void
tkm_account(const tkm_job *j, const tk_item *it)
{
	int fmt = tkm_fmt_idx(it->p.format), be = it->op.token ? it->op.token->backend : 0, out;
	switch (it->outcome) {
	case TK_NEW:
		out = TKM_OUT_ACCEPTED;
		break;
	case TK_DUP:
		out = TKM_OUT_DUPLICATE;
		be = it->rec.backend;
		break;
	case TK_CONFLICT:
		out = TKM_OUT_CONFLICT;
		break;
	case TK_REFUSED:
		out = TKM_OUT_REJECTED;
		break;
	default:
		out = TKM_OUT_ERROR;
		break;
	}
	if (fmt == 0 && j->b.format == TK_IN_JSON)
		fmt = PM_FMT_JSON;
	rt_inc(tkm_req_metric(fmt, be < 3 ? be : 0, out));
	if (out == TKM_OUT_CONFLICT || out == TKM_OUT_REJECTED)
		rt_inc(tkm_labeled("tokenization_rejections_total",
		                   "Payments refused at intake, by ISO 20022 reason code.", "reason",
		                   it->err.reason[0] ? it->err.reason : "NARR", NULL, NULL));
	if (out == TKM_OUT_CONFLICT)
		tkm_conflict_alert(it);
	if (out == TKM_OUT_ACCEPTED || out == TKM_OUT_DUPLICATE) {
		char hex[33];
		hex_encode(it->id, 16, 0, hex);
		rt_logkv(out == TKM_OUT_ACCEPTED ? RT_INFO : RT_DEBUG, tkm_out_names[out], "id", hex, "source",
		         tkm_src_names[j->source], "format", tkm_fmt_names[fmt], "kind",
		         sc_enum_name(&SC_TOKEN_REQUEST, "kind", it->rec.kind), NULL);
	} else {
		char line[16];
		snprintf(line, sizeof line, "%u", it->err.line);
		rt_logkv(RT_WARN, tkm_out_names[out], "source", tkm_src_names[j->source], "reason", it->err.reason,
		         "field", it->err.field, "line", line, "text", it->err.text, NULL);
	}
	if (j->source == TKM_SRC_BUS && out != TKM_OUT_ACCEPTED)
		tkm_publish_refusal(it);
}

/* ---- the worker: one commit for everything queued -------------------------------------------------- */

/* The outbox re-publish: a failure is counted as a store error, logged and shown in /health "outbox"
 * once per change (the entries stay and go out in a later round). */
static long
tkm_resend(int all, char *err, size_t errlen)
{
	static int failing;
	long k = tk_resend(S.core, rt_now_ns(), all, tkm_publish, NULL, err, errlen);
	if (k < 0)
		rt_inc(S.m_store_errors);
	if ((k < 0) != failing) {
		failing = k < 0;
		rt_health_set("outbox", failing, failing ? "outbox re-publish failing" : NULL);
		if (failing)
			rt_logkv(RT_ERROR, "outbox re-publish failed", "error", err, NULL);
		else
			rt_logkv(RT_INFO, "outbox re-publish works again", NULL);
	}
	return k;
}

static void
tkm_run_jobs(tkm_job *jobs)
{
	size_t n = 0, cap = 0;
	tk_item **items = NULL;
	char err[256];
	for (tkm_job *j = jobs; j; j = j->next)
		cap += j->b.n;
	items = calloc(cap ? cap : 1, sizeof *items);
	for (tkm_job *j = jobs; j && items; j = j->next)
		for (size_t i = 0; i < j->b.n; i++)
			items[n++] = j->b.items[i];
	int rv = items ? tk_commit(S.core, items, n, rt_now_ns(), tkm_publish, NULL, err, sizeof err) : ENOMEM;
	act_store_result(S.m_store_errors, rv, "batch not stored; answered 503, nothing published", items ? err : "");
	if (rv != 0)
		for (size_t i = 0; i < n; i++)
			if (items[i]->outcome != TK_REFUSED)
				items[i]->outcome = TK_STORE_ERROR;
	free(items);
	uint64_t done = rt_mono_ns();
	for (tkm_job *j = jobs; j; j = j->next) {
		for (size_t i = 0; i < j->b.n; i++)
			tkm_account(j, j->b.items[i]);
		if (j->source != TKM_SRC_BUS)
			j->status = tk_render(&j->b, &j->answer);
		rt_observe(S.m_intake_s, (double)(done - j->recv_mono) / 1e9);
	}
}

static void
tkm_run_results(tk_result_item *res, size_t n)
{
	char err[256];
	int rv = tk_results(S.core, res, n, rt_now_ns(), tkm_publish, NULL, err, sizeof err);
	act_store_result(S.m_store_errors, rv, "token.results not stored; the backends re-send", err);
	if (rv != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		tk_result_item *r = &res[i];
		char hex[33];
		hex_encode(r->rec.id, 16, 0, hex);
		if (r->outcome == TK_R_UNKNOWN || r->outcome == TK_R_IGNORED) {
			rt_inc(S.m_results_ignored);
			continue;
		}
		if (r->contradiction) {
			char sum[160], dk[64];
			snprintf(dk, sizeof dk, "result_contradiction:%s", hex);
			snprintf(sum, sizeof sum, "payment %s reported both failed and confirmed by a backend", hex);
			const char *labels[] = { "payment_id", hex, NULL };
			act_alert(S.pub, SC_SEV_ERROR, SC_ALERT_FIRING, "result_contradiction", dk, sum, labels);
		}
		if (r->outcome != TK_R_CHANGED)
			continue;
		int fmt = tkm_fmt_idx(r->rec.format), be = r->rec.backend < 3 ? r->rec.backend : 0;
		if (r->rec.state == SC_TOKST_CONFIRMED || r->rec.state == SC_TOKST_FAILED) {
			uint64_t now = rt_now_ns();
			if (now > r->rec.accepted_ns)
				rt_observe(S.m_backend_s, (double)(now - r->rec.accepted_ns) / 1e9);
		}
		if (r->rec.state == SC_TOKST_CONFIRMED)
			rt_inc(S.m_success[fmt ? fmt : PM_FMT_JSON][be ? be : 1]);
		if (r->rec.state == SC_TOKST_FAILED)
			rt_inc(tkm_labeled("tokenization_failures_total",
			                   "Payments a backend reported failed, by reason.", "backend",
			                   tkm_be_names[be], "reason", r->rec.reason));
		rt_logkv(r->rec.state == SC_TOKST_FAILED ? RT_WARN : RT_INFO, "payment state", "id", hex, "state",
		         tk_state_name(r->rec.state), "reason", r->rec.reason, NULL);
	}
}

/* Waits for work (or the timeout), takes everything queued, runs it. */
static void
tkm_worker_step(int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)timeout_ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&S.mu);
	while (S.head == NULL && S.nres == 0 && !rt_stopping())
		if (pthread_cond_timedwait(&S.wake, &S.mu, &ts) == ETIMEDOUT)
			break;
	/* Whole jobs up to BATCH_MAX payments (at least one job). */
	tkm_job *jobs = S.head, *last = NULL;
	size_t n = 0;
	for (tkm_job *j = S.head; j; j = j->next) {
		if (last && n + j->b.n > cfg_batch)
			break;
		n += j->b.n;
		last = j;
	}
	if (last) {
		S.head = last->next;
		if (S.head == NULL)
			S.tail = NULL;
		last->next = NULL;
	} else {
		jobs = NULL;
	}
	tk_result_item *res = S.res;
	size_t nres = S.nres;
	S.res = NULL;
	S.nres = S.capres = 0;
	pthread_mutex_unlock(&S.mu);

	if (nres) {
		tkm_run_results(res, nres);
		free(res);
	}
	if (jobs == NULL)
		return;
	tkm_run_jobs(jobs);
	pthread_mutex_lock(&S.mu);
	for (tkm_job *j = jobs, *next; j; j = next) {
		next = j->next;
		if (j->source == TKM_SRC_BUS) {
			tk_batch_free(&j->b);
			free(j);
		} else {
			j->done = 1;
		}
	}
	pthread_cond_broadcast(&S.done);
	pthread_mutex_unlock(&S.mu);
}

/* Queues a job; for HTTP and spool jobs waits until the worker has run it. While the process stops, a
 * job is not taken: status 503 (HTTP, spool: the file stays) or, for the bus, dropped (the sender
 * re-publishes until it sees token.status for its key). Returns 0 when queued, -1 when refused. */
static int
tkm_submit(tkm_job *j)
{
	pthread_mutex_lock(&S.mu);
	if (S.closing) {
		pthread_mutex_unlock(&S.mu);
		j->status = 503;
		rt_buf_puts(&j->answer, "{\"error\":\"stopping, retry\"}\n");
		return -1;
	}
	if (S.tail)
		S.tail->next = j;
	else
		S.head = j;
	S.tail = j;
	pthread_cond_signal(&S.wake);
	if (j->source != TKM_SRC_BUS)
		while (!j->done)
			pthread_cond_wait(&S.done, &S.mu);
	pthread_mutex_unlock(&S.mu);
	return 0;
}

/* ---- HTTP ------------------------------------------------------------------------------------------ */

static int
tkm_starting(rt_buf *out)
{
	rt_buf_puts(out, "{\"error\":\"starting, retry\"}\n");
	return 503;
}

static int
tkm_post(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen,
         rt_buf *out, const char **ctype)
{
	if (!__atomic_load_n(&S.ready, __ATOMIC_ACQUIRE))
		return tkm_starting(out);
	tkm_job *j = calloc(1, sizeof *j);
	if (j == NULL)
		return 503;
	j->source = TKM_SRC_HTTP;
	j->recv_mono = rt_mono_ns();
	if (tk_batch_parse(&j->b, S.cfg, body, blen, rt_http_req_header("Content-Type"), &S.lim, rt_now_ns()) < 0) {
		tk_batch_free(&j->b);
		free(j);
		return 503;
	}
	tkm_submit(j);
	*ctype = "application/json";
	int status = j->status;
	rt_buf_append(out, j->answer.data, j->answer.len);
	rt_buf_free(&j->answer);
	tk_batch_free(&j->b);
	free(j);
	return status;
}

/* <id>: 32 hex digits (the key id), or the key itself, percent-encoded. */
static int
tkm_parse_id(const char *s, size_t n, uint8_t id[16])
{
	if (n == 32 && hex_decode_exact(s, n, id, 16) == 0)
		return 0;
	char key[TK_KEY_CAP];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n + 0 && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
			c = hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]);
			i += 2;
		}
		if (k + 1 >= sizeof key)
			return -1;
		key[k++] = (char)c;
	}
	key[k] = '\0';
	if (k == 0)
		return -1;
	tk_key_id(key, id);
	return 0;
}

static int
tkm_get(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen,
        rt_buf *out, const char **ctype)
{
	const char *p = path + strlen("/payments");
	uint8_t id[16];
	tk_rec r;
	char err[256];
	*ctype = "application/json";
	if (!__atomic_load_n(&S.ready, __ATOMIC_ACQUIRE))
		return tkm_starting(out);
	if (*p != '/' || !p[1]) {
		rt_buf_puts(out,
		            "{\"error\":\"GET /payments/<id> or /payments/<id>/pacs002; <id> = 32 hex digits or the "
		            "payment key, percent-encoded\"}\n");
		return 404;
	}
	p++;
	const char *slash = strchr(p, '/');
	int pacs = 0;
	size_t n = strlen(p);
	if (slash) {
		if (strcmp(slash, "/pacs002") != 0) {
			rt_buf_puts(out, "{\"error\":\"unknown resource\"}\n");
			return 404;
		}
		pacs = 1;
		n = (size_t)(slash - p);
	}
	if (tkm_parse_id(p, n, id) != 0) {
		rt_buf_puts(out, "{\"error\":\"bad payment id\"}\n");
		return 400;
	}
	int rv = tk_get(S.core, id, &r, err, sizeof err);
	if (rv == MDB_NOTFOUND) {
		rt_buf_puts(out, "{\"error\":\"no such payment\"}\n");
		return 404;
	}
	if (rv != 0) {
		rt_buf_printf(out, "{\"error\":");
		rt_buf_json_str(out, err);
		rt_buf_puts(out, "}\n");
		return 500;
	}
	if (!pacs) {
		tk_rec_json(&r, out);
		rt_buf_puts(out, "\n");
		return 200;
	}
	char xml[8192];
	int len = tk_pacs002_rec(&r, xml, sizeof xml, err, sizeof err);
	if (len < 0) {
		rt_buf_printf(out, "{\"error\":");
		rt_buf_json_str(out, err);
		rt_buf_puts(out, "}\n");
		return 500;
	}
	*ctype = "application/xml";
	rt_buf_append(out, xml, (size_t)len);
	return 200;
}

/* ---- spool directory ---------------------------------------------------------------------------------- */

static int
tkm_write_file(const char *path, const void *data, size_t len)
{
	char tmp[4400];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	const uint8_t *p = data;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(tmp);
		return -1;
	}
	return rename(tmp, path);
}

/* Reads the whole file when it is at most BODY_MAX bytes: 0, 1 (too large), -1 (error). */
static int
tkm_read_file(int dfd, const char *name, uint8_t **data, size_t *len)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	*data = NULL;
	*len = 0;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > cfg_body_max) {
		close(fd);
		return 1;
	}
	uint8_t *b = malloc((size_t)st.st_size + 1);
	size_t off = 0;
	while (b && off < (size_t)st.st_size) {
		ssize_t r = read(fd, b + off, (size_t)st.st_size - off);
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	if (b == NULL || off != (size_t)st.st_size) {
		free(b);
		return -1;
	}
	*data = b;
	*len = off;
	return 0;
}

static void
tkm_spool_file(const char *dir, int dfd, const char *name)
{
	uint8_t *data;
	size_t len;
	char src[4100], dst[4200], status_path[4300];
	int rr = tkm_read_file(dfd, name, &data, &len);
	if (rr < 0)
		return; /* gone meanwhile, or not a regular file: left alone */
	tkm_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		free(data);
		return;
	}
	j->source = TKM_SRC_SPOOL;
	j->recv_mono = rt_mono_ns();
	if (rr == 1) {
		j->status = 413;
		rt_buf_printf(&j->answer, "{\"error\":\"file larger than BODY_MAX (%llu bytes)\"}\n",
		              (unsigned long long)cfg_body_max);
	} else if (tk_batch_parse(&j->b, S.cfg, data, len, NULL, &S.lim, rt_now_ns()) < 0) {
		free(data);
		tk_batch_free(&j->b);
		free(j);
		return; /* out of memory: try again at the next poll */
	} else {
		tkm_submit(j);
	}
	free(data);
	if (j->status == 503) {
		/* Not stored: leave the file for the next poll. */
		rt_buf_free(&j->answer);
		tk_batch_free(&j->b);
		free(j);
		return;
	}
	int ok = j->status == 200 || j->status == 202, moved = 0;
	/* Status first, then the move: a crash in between re-reads the file, whose payments are then
	 * duplicates with the same answer. */
	if ((size_t)snprintf(src, sizeof src, "%s/%s", dir, name) >= sizeof src ||
	    (size_t)snprintf(dst, sizeof dst, "%s/%s/%s", dir, ok ? "done" : "rejected", name) >= sizeof dst ||
	    (size_t)snprintf(status_path, sizeof status_path, "%s.status.json", dst) >= sizeof status_path)
		errno = ENAMETOOLONG;
	else if (tkm_write_file(status_path, j->answer.data ? (void *)j->answer.data : (void *)"", j->answer.len) ==
	                 0 &&
	         rename(src, dst) == 0)
		moved = 1;
	if (!moved) {
		rt_logkv(RT_ERROR, "spool: cannot move the file", "file", name, "error", strerror(errno), NULL);
	} else {
		char st[8];
		snprintf(st, sizeof st, "%d", j->status);
		rt_logkv(ok ? RT_INFO : RT_WARN, "spool file processed", "file", name, "to", ok ? "done" : "rejected",
		         "status", st, NULL);
		rt_inc(S.m_spool[ok ? 0 : 1]);
	}
	rt_buf_free(&j->answer);
	tk_batch_free(&j->b);
	free(j);
}

static int
tkm_spool_wanted(const char *name)
{
	size_t n = strlen(name);
	if (name[0] == '.' || n > 255)
		return 0; /* hidden: writers create ".name" and rename it in when complete */
	static const char *const skip[] = { ".part", ".tmp", ".status.json" };
	for (size_t i = 0; i < OB_COUNT(skip); i++) {
		size_t k = strlen(skip[i]);
		if (n >= k && strcmp(name + n - k, skip[i]) == 0)
			return 0;
	}
	return 1;
}

static void *
tkm_spool_thread(void *arg)
{
	const char *dir = cfg_spool_dir;
	while (!rt_stopping()) {
		DIR *d = opendir(dir);
		if (d == NULL) {
			if (rt_log_state_change("spool", "missing"))
				rt_logkv(RT_ERROR, "spool directory unreadable", "dir", dir, "error", strerror(errno),
				         NULL);
		} else {
			struct dirent *e;
			rt_log_state_change("spool", "ok");
			while (!rt_stopping() && (e = readdir(d)) != NULL)
				if ((e->d_type == DT_REG || e->d_type == DT_UNKNOWN) && tkm_spool_wanted(e->d_name))
					tkm_spool_file(dir, dirfd(d), e->d_name);
			closedir(d);
		}
		rt_sleep_ms(cfg_spool_poll_ms);
	}
	return NULL;
}

/* ---- the bus receiver ----------------------------------------------------------------------------------- */

static int
tkm_topic_is(const bus_msg *m, const char *topic)
{
	return m->f.topic_len == strlen(topic) && memcmp(m->f.topic, topic, m->f.topic_len) == 0;
}

static void *
tkm_recv_thread(void *arg)
{
	while (!rt_stopping()) {
		bus_msg m;
		int rv = act_recv(S.sub, &m, 200);
		if (rv == BUS_ECLOSED)
			break;
		if (rv != BUS_OK)
			continue;
		if (tkm_topic_is(&m, TKM_TOPIC_RESULT)) {
			sc_token_result r;
			if (act_decode(&m, &SC_TOKEN_RESULT, &r) == 0) {
				pthread_mutex_lock(&S.mu);
				if (S.nres == S.capres) {
					size_t cap = S.capres ? S.capres * 2 : 64;
					tk_result_item *v = realloc(S.res, cap * sizeof *v);
					if (v) {
						S.res = v;
						S.capres = cap;
					}
				}
				if (S.nres < S.capres) {
					memset(&S.res[S.nres], 0, sizeof S.res[0]);
					S.res[S.nres++].r = r;
					pthread_cond_signal(&S.wake);
				}
				pthread_mutex_unlock(&S.mu);
			}
		} else if (tkm_topic_is(&m, TKM_TOPIC_SUBMIT)) {
			sc_token_request q;
			tkm_job *j;
			if (act_decode(&m, &SC_TOKEN_REQUEST, &q) == 0 && (j = calloc(1, sizeof *j)) != NULL) {
				j->source = TKM_SRC_BUS;
				j->recv_mono = rt_mono_ns();
				j->b.format = TK_IN_JSON;
				if (tk_batch_add_request(&j->b, S.cfg, &q, rt_now_ns()) < 0 || tkm_submit(j) != 0) {
					rt_buf_free(&j->answer);
					tk_batch_free(&j->b);
					free(j);
				}
			}
		} else {
			rt_logkv(RT_DEBUG, "frame on an unexpected topic ignored", NULL);
		}
		bus_msg_free(&m);
	}
	return NULL;
}

/* ---- main ------------------------------------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	char err[512];
	/* Before rt_init starts the server: a request during start-up gets 503 (retry), never 404. */
	if (rt_http_route("POST", "/payments", 0, tkm_post, NULL) != 0 ||
	    rt_http_route("GET", "/payments", 1, tkm_get, NULL) != 0)
		return 1;
	if (rt_init("tokenizer", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;
	rt_starting("opening the state, re-publishing the outbox"); /* rt_init's reason, saying what */
	xmlInitParser();
	S.cfg = cfg_mapping; /* checked by rt_init, with everything else */
	S.lim.max_bytes = cfg_body_max;
	S.lim.max_depth = (unsigned)cfg_xml_depth;
	S.lim.max_elements = (unsigned)cfg_xml_elements;
	if (cfg_spool_dir[0]) {
		char sub[4200];
		for (int i = 0; i < 2; i++) {
			snprintf(sub, sizeof sub, "%s/%s", cfg_spool_dir, i ? "rejected" : "done");
			if (mkdir(sub, 0750) != 0 && errno != EEXIST) {
				rt_log(RT_ERROR, "SPOOL_DIR: cannot create %s: %s", sub, strerror(errno));
				return 1;
			}
		}
	}
	sig_trust *t = sig_trust_parse(busc.trust, err, sizeof err);
	if (t == NULL) { /* act_check_trust accepted it: only memory can fail here */
		rt_log(RT_ERROR, "BUS_TRUST: %s", err);
		return 1;
	}
	int trust_submit = sig_trust_required(t, TKM_TOPIC_SUBMIT, strlen(TKM_TOPIC_SUBMIT));
	int trust_result = sig_trust_required(t, TKM_TOPIC_RESULT, strlen(TKM_TOPIC_RESULT));
	sig_trust_free(t);
	const char *topics[3] = { TKM_TOPIC_RESULT, NULL, NULL };
	if (trust_submit)
		topics[1] = TKM_TOPIC_SUBMIT;
	else
		rt_log(RT_WARN, "token.submit ignored: BUS_TRUST does not list its publishers");
	if (!trust_result)
		rt_log(RT_WARN, "BUS_TRUST does not list the backends' keys for token.result: any publisher can move a "
		                "payment's state (never its token effect)");

	tkm_metrics();
	tk_core_cfg kc = { .map_size = cfg_map_mb << 20,
		           .retry_ns = cfg_retry_ms * 1000000u,
		           .retry_max_ns = cfg_retry_max_ms * 1000000u };
	if ((S.core = tk_open(cfg_state_dir, &kc, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "%s", err);
		return 1;
	}
	if ((S.pub = act_open(&busc, ACT_PUB, NULL, err, sizeof err)) == NULL ||
	    (S.sub = act_open(&busc, ACT_SUB, topics, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "bus: %s", err);
		return 1;
	}
	rt_http_set_route_body_max("/payments", cfg_body_max);
	char ntok[16], nacc[16];
	snprintf(ntok, sizeof ntok, "%zu", S.cfg->ntokens);
	snprintf(nacc, sizeof nacc, "%zu", S.cfg->naccounts);
	rt_logkv(RT_INFO, "tokenizer ready", "state", cfg_state_dir, "tokens", ntok, "accounts", nacc, "spool",
	         cfg_spool_dir, NULL);

	/* What a previous run accepted but no backend has taken: send it all once the bus is up. */
	bus_pub_wait(act_pub(S.pub), 1, 2000);
	long k = tkm_resend(1, err, sizeof err);
	if (k > 0) {
		rt_log(RT_INFO, "re-published %ld token.requests from the outbox", k);
		rt_add(S.m_republished, (uint64_t)k);
	}
	tkm_gauges();
	__atomic_store_n(&S.ready, 1, __ATOMIC_RELEASE);
	rt_ready(); /* state open, outbox re-published: /health ok once both bus handles reach busd */

	pthread_t rx, sp;
	int have_sp = 0;
	if (pthread_create(&rx, NULL, tkm_recv_thread, NULL) != 0) {
		rt_log(RT_ERROR, "cannot start the bus receiver");
		return 1;
	}
	if (cfg_spool_dir[0])
		have_sp = pthread_create(&sp, NULL, tkm_spool_thread, NULL) == 0;

	uint64_t last_resend = rt_mono_ns(), last_gauges = last_resend;
	while (!rt_stopping()) {
		tkm_worker_step(100);
		uint64_t now = rt_mono_ns();
		if (now - last_resend >= 200000000u) {
			last_resend = now;
			k = tkm_resend(0, err, sizeof err);
			if (k > 0)
				rt_add(S.m_republished, (uint64_t)k);
		}
		if (now - last_gauges >= 1000000000u) {
			last_gauges = now;
			tkm_gauges();
		}
	}
	/* Stop taking work, then finish what is queued so no waiting request is left without an answer (the
	 * HTTP server's stop waits for its handlers, which wait for this thread). */
	pthread_mutex_lock(&S.mu);
	S.closing = 1;
	pthread_mutex_unlock(&S.mu);
	while (S.head || S.nres)
		tkm_worker_step(0);
	rt_http_stop();
	if (have_sp)
		pthread_join(sp, NULL);
	pthread_join(rx, NULL);
	while (S.nres)
		tkm_worker_step(0);
	rt_logkv(RT_INFO, "stopping", NULL);
	act_close(S.sub);
	act_close(S.pub);
	tk_close(S.core);
	tk_config_free(S.cfg);
	xmlCleanupParser();
	rt_shutdown();
	return 0;
}
