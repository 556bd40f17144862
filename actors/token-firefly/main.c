/*
 * token-firefly - the Hyperledger FireFly backend of the Financial Tokenization service: token.requests
 * naming backend "firefly" become FireFly v1.3 token calls (POST .../tokens/mint|burn|transfers with
 * idempotencyKey = the payment key), followed by polling FireFly's transaction status with a deadline
 * until Succeeded (token.result confirmed) or Failed. See README.md beside this file.
 *
 * This file is the process: configuration, and the jobs bus/actor.h's act_run runs after each batch of
 * messages (one LMDB commit per batch: store/tokreq.h): the HTTP calls (libcurl, one keep-alive handle,
 * made between transactions), the outboxes' re-publish (tq_resend_tick), metrics, health, alerts.
 * ff.h holds what the answers mean and the state machine.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/util.h"
#include "base/err.h"
#include "actors/token-firefly/ff.h"
#include "bus/actor.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "base/hex.h"

#define TFM_BACKEND  "firefly"
#define TFM_BODY_MAX (1u << 20)

/* ---- configuration -------------------------------------------------------------------------- */

static act_bus_cfg busc;
static const char *cfg_state_dir, *cfg_url, *cfg_ns, *cfg_key;
static uint64_t cfg_timeout_ms, cfg_retry_ms, cfg_retry_max_ms, cfg_max_failures, cfg_poll_ms, cfg_deadline_ms;
static uint64_t cfg_down_after, cfg_batch, cfg_work_max, cfg_ob_retry_ms, cfg_ob_retry_max_ms, cfg_result_attempts;
static uint64_t cfg_map_mb;
static rt_check_fn tfm_check;

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "STATE_DIR", RT_STR, "data/token-firefly", "LMDB directory: requests, open requests, token.result outbox",
	  &cfg_state_dir, 0, 0, 0, 0 },
	{ "FIREFLY_URL", RT_HTTP_URL, NULL, "FireFly API base URL (http(s)://host:port, without /api/v1)", &cfg_url, 0,
	  0, 1, RT_REQUIRED },
	{ "FIREFLY_NAMESPACE", RT_STR, "default", "FireFly namespace", &cfg_ns, 0, 0, 0, 0 },
	{ "FIREFLY_KEY", RT_STR, "",
	  "signing key FireFly uses for the token calls (address or alias); empty = "
	  "FireFly's default",
	  &cfg_key, 0, 0, 0, 0 },
	{ "REQUEST_TIMEOUT", RT_DURATION, "10s", "one HTTP call to FireFly at most", &cfg_timeout_ms, 100, 600000, 0,
	  0 },
	{ "RETRY", RT_DURATION, "1s", "first retry of a POST FireFly did not answer or answered 5xx (doubling)",
	  &cfg_retry_ms, 10, 3600000, 0, 0 },
	{ "RETRY_MAX", RT_DURATION, "2m", "longest retry interval", &cfg_retry_max_ms, 10, 3600000, 0, 0 },
	{ "MAX_FAILURES", RT_U64, "8",
	  "failed POSTs in a row on one payment before it is no longer sent: failed "
	  "(alert tokenization_backend_failing) unless FireFly holds a transaction for its key",
	  &cfg_max_failures, 1, 1000, 0, 0 },
	{ "POLL_INTERVAL", RT_DURATION, "1s", "transaction status polls of a submitted transfer", &cfg_poll_ms, 10,
	  3600000, 0, 0 },
	{ "POLL_DEADLINE", RT_DURATION, "10m",
	  "a transfer not Succeeded/Failed this long after its POST is failed "
	  "(alert)",
	  &cfg_deadline_ms, 1000, 0, 0, 0 },
	{ "DOWN_AFTER", RT_U64, "3",
	  "calls in a row without an answer (or 5xx) before FireFly counts as down "
	  "(alert tokenization_backend_down, health)",
	  &cfg_down_after, 1, 1000, 0, 0 },
	{ "WORK_MAX", RT_U64, "32", "HTTP calls per round between bus reads", &cfg_work_max, 1, 1024, 0, 0 },
	{ "BATCH_MAX", RT_U64, "256", "messages per LMDB commit (group commit)", &cfg_batch, 1, 65536, 0, 0 },
	{ "OUTBOX_RETRY", RT_DURATION, "2s", "first re-publish of an unacknowledged terminal token.result",
	  &cfg_ob_retry_ms, 10, 3600000, 0, 0 },
	{ "OUTBOX_RETRY_MAX", RT_DURATION, "60s", "longest re-publish interval", &cfg_ob_retry_max_ms, 10, 3600000, 0,
	  0 },
	{ "RESULT_ATTEMPTS", RT_U64, "10",
	  "re-publications of a terminal token.result without a token.status "
	  "showing it",
	  &cfg_result_attempts, 1, 1000, 0, 0 },
	{ "MAP_SIZE_MB", RT_U64, "64", "initial LMDB map size (grows when full)", &cfg_map_mb, 1, 1048576, 0, 0 },
	RT_CHECK_ROW("", tfm_check),
};

/* FireFly's name rule (namespaces, pools): 1..64 of [0-9a-zA-Z._-], starting and ending alphanumeric. */
static int
tfm_ff_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* What the types cannot say, in the same list: the URL is the base (the actor adds /api/v1/...),
 * the namespace is a FireFly name, a key written as an address is one, the state directory. */
static void
tfm_check(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	(void)o;
	(void)text;
	if (cfg_url && !rt_config_failed(e, "FIREFLY_URL")) {
		size_t n = strlen(cfg_url);
		while (n > 0 && cfg_url[n - 1] == '/')
			n--;
		if (n >= 7 && strncmp(cfg_url + n - 7, "/api/v1", 7) == 0)
			rt_config_error(e, "FIREFLY_URL",
			                "ends in /api/v1: give the base URL (the actor adds /api/v1)");
		else if (n > 300)
			rt_config_error(e, "FIREFLY_URL", "longer than 300 characters");
	}
	if (cfg_ns && !tfm_ff_name(cfg_ns))
		rt_config_error(e, "FIREFLY_NAMESPACE",
		                "'%.70s' is not a FireFly name (1..64 of a-z A-Z 0-9 . _ -, starting and ending with "
		                "a letter or digit)",
		                cfg_ns);
	if (cfg_key && strncmp(cfg_key, "0x", 2) == 0) {
		uint8_t a[20];
		char why[128];
		if (rt_check_addr(cfg_key, a, why, sizeof why) != 0)
			rt_config_error(e, "FIREFLY_KEY", "'%.50s' is not an address: %s", cfg_key, why);
		else if (hex_addr_parse(cfg_key, strlen(cfg_key), a) != HEX_OK)
			rt_config_error(e, "FIREFLY_KEY", "'%.50s' has a wrong EIP-55 checksum", cfg_key);
	} else if (cfg_key) {
		for (const char *c = cfg_key; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				rt_config_error(e, "FIREFLY_KEY", "an alias has no control characters");
				break;
			}
		if (strlen(cfg_key) > 256)
			rt_config_error(e, "FIREFLY_KEY", "longer than 256 characters");
	}
	rt_config_dir(e, "STATE_DIR", cfg_state_dir, 0);
}

/* ---- state ----------------------------------------------------------------------------------- */

enum {
	TFM_REQ,
	TFM_TOKST
};
typedef struct {
	int kind;
	union {
		sc_token_request r;
		sc_token_result t;
	};
} tfm_item;

static struct {
	act_bus *bus;
	tq *q;
	tf_cfg cfg;
	tf_ctx x;
	tfm_item *items;
	size_t n;
	tq_resender rs; /* the outboxes' re-publish job */
	CURL *h;
	struct curl_slist *hdrs;
	char *buf;
	size_t len;
	int too_big;
	char base[512];    /* <FIREFLY_URL>/api/v1/namespaces/<ns> */
	uint64_t down_run; /* calls in a row without a usable answer */
	int down, failing_alerted;
	uint64_t gave_up; /* payments failed because FireFly failed, since start */
	rt_metric *m_req[4], *m_results[TQ_NSTATES], *m_http[6], *m_republished, *m_unacked, *m_conflicts, *m_open,
	        *m_oldest, *m_results_pending, *m_store_errors, *m_seconds, *m_http_s, *m_gave_up;
} S;

static const char *const tfm_req_names[4] = { "new", "repeat", "conflict", "rejected" };
/* HTTP outcome classes of every call, for tokenization_firefly_http_total{class} */
enum {
	TFM_H_2XX,
	TFM_H_408,
	TFM_H_409,
	TFM_H_4XX,
	TFM_H_5XX,
	TFM_H_NONE
};
static const char *const tfm_http_names[6] = { "2xx", "408", "409", "4xx", "5xx", "no_answer" };

static void
tfm_metrics(void)
{
	static const double b[] = { 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600 };
	static const double hb[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10 };
	char l[64];
	for (int i = 0; i < 4; i++) {
		snprintf(l, sizeof l, "outcome=\"%s\"", tfm_req_names[i]);
		S.m_req[i] =
		        rt_counter("token_firefly_requests_total", "token.requests for this backend, by outcome.", l);
	}
	for (int s = TQ_CONFIRMED; s < TQ_NSTATES; s++) {
		snprintf(l, sizeof l, "state=\"%s\"", tq_state_name(s));
		S.m_results[s] =
		        rt_counter("token_firefly_results_total", "Terminal token.results decided, by state.", l);
	}
	for (int c = 0; c < 6; c++) {
		snprintf(l, sizeof l, "class=\"%s\"", tfm_http_names[c]);
		S.m_http[c] = rt_counter("token_firefly_http_total", "HTTP calls to FireFly, by answer class.", l);
	}
	S.m_republished =
	        rt_counter("token_firefly_republished_total", "token.results re-published from the outbox.", NULL);
	S.m_unacked = rt_counter("token_firefly_results_unacked_total",
	                         "Terminal token.results dropped after "
	                         "RESULT_ATTEMPTS without a token.status showing them.",
	                         NULL);
	S.m_conflicts = rt_counter("token_firefly_conflicts_total",
	                           "token.requests re-sent with other content "
	                           "(ignored).",
	                           NULL);
	S.m_gave_up = rt_counter("token_firefly_gave_up_total",
	                         "Payments failed because FireFly kept failing or "
	                         "missed POLL_DEADLINE.",
	                         NULL);
	S.m_store_errors = rt_counter("token_firefly_store_errors_total", "Batches LMDB could not commit.", NULL);
	S.m_open = rt_gauge("token_firefly_open", "Requests not yet confirmed or failed.", NULL);
	S.m_oldest = rt_gauge("token_firefly_oldest_open_age_seconds", "Age of the oldest open request.", NULL);
	S.m_results_pending = rt_gauge("token_firefly_results_unacked",
	                               "Terminal token.results awaiting the "
	                               "tokenizer's token.status.",
	                               NULL);
	S.m_seconds =
	        rt_histogram("token_firefly_seconds", "Request taken to its terminal result.", NULL, b, OB_COUNT(b));
	S.m_http_s = rt_histogram("token_firefly_http_seconds", "One HTTP call to FireFly.", NULL, hb, OB_COUNT(hb));
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

static size_t
tfm_write(char *p, size_t sz, size_t n, void *arg)
{
	(void)arg;
	size_t k = sz * n;
	if (S.len + k > TFM_BODY_MAX) {
		S.too_big = 1;
		return 0;
	}
	memcpy(S.buf + S.len, p, k);
	S.len += k;
	S.buf[S.len] = '\0';
	return k;
}

static int
tfm_http_init(char *err, size_t errlen)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((S.h = curl_easy_init()) == NULL || (S.buf = malloc(TFM_BODY_MAX + 1)) == NULL) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	S.hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	S.hdrs = curl_slist_append(S.hdrs, "Accept: application/json");
	curl_easy_setopt(S.h, CURLOPT_HTTPHEADER, S.hdrs);
	curl_easy_setopt(S.h, CURLOPT_WRITEFUNCTION, tfm_write);
	curl_easy_setopt(S.h, CURLOPT_TIMEOUT_MS, (long)cfg_timeout_ms);
	curl_easy_setopt(S.h, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg_timeout_ms < 5000 ? cfg_timeout_ms : 5000));
	curl_easy_setopt(S.h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(S.h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(S.h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(S.h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(S.h, CURLOPT_USERAGENT, "oraclebus-token-firefly/1");
	size_t n = strlen(cfg_url);
	while (n > 0 && cfg_url[n - 1] == '/')
		n--;
	char ns[200];
	if (tf_urlenc(cfg_ns, ns, sizeof ns) != 0) {
		snprintf(err, errlen, "FIREFLY_NAMESPACE too long");
		return -1;
	}
	snprintf(S.base, sizeof S.base, "%.*s/api/v1/namespaces/%s", (int)n, cfg_url, ns);
	return 0;
}

/* Backend up/down: a state change is logged, alerted and shown in /health once. */
static void
tfm_health(int answered)
{
	S.down_run = answered ? 0 : S.down_run + 1;
	int down = S.down_run >= cfg_down_after;
	if (down == S.down)
		return;
	S.down = down;
	rt_health_set("firefly", down, "firefly: not answering");
	rt_logkv(down ? RT_ERROR : RT_INFO, down ? "FireFly down" : "FireFly answers again", NULL);
	const char *labels[] = { "backend", TFM_BACKEND, NULL };
	act_alert(S.bus, SC_SEV_ERROR, down ? SC_ALERT_FIRING : SC_ALERT_RESOLVED, "tokenization_backend_down",
	          "tokenization_backend_down:" TFM_BACKEND,
	          down ? "FireFly does not answer the firefly token backend" : "FireFly answers again", labels);
}

/* One call: path below S.base (or absolute when it starts with '/': from the base URL). */
static void
tfm_call(const char *method, const char *path, const char *body, tf_http *out)
{
	static char errbuf[CURL_ERROR_SIZE];
	char url[1024];
	long status = 0;
	snprintf(url, sizeof url, "%s%s", S.base, path);
	S.len = 0;
	S.buf[0] = '\0';
	S.too_big = 0;
	errbuf[0] = '\0';
	curl_easy_setopt(S.h, CURLOPT_URL, url);
	curl_easy_setopt(S.h, CURLOPT_ERRORBUFFER, errbuf);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(S.h, CURLOPT_POST, 1L);
		curl_easy_setopt(S.h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(S.h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(S.h, CURLOPT_HTTPGET, 1L);
	}
	uint64_t t0 = rt_mono_ns();
	CURLcode cc = curl_easy_perform(S.h);
	rt_observe(S.m_http_s, (double)(rt_mono_ns() - t0) / 1e9);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(S.h, CURLOPT_POSTFIELDS, NULL);
	if (cc == CURLE_OK)
		curl_easy_getinfo(S.h, CURLINFO_RESPONSE_CODE, &status);
	memset(out, 0, sizeof *out);
	out->status = cc == CURLE_OK && !S.too_big ? status : 0;
	out->body = S.buf;
	out->len = S.len;
	out->err = S.too_big ? "answer over 1 MiB" : errbuf[0] ? errbuf : curl_easy_strerror(cc);
	int c = out->status == 0     ? TFM_H_NONE
	        : out->status < 300  ? TFM_H_2XX
	        : out->status == 408 ? TFM_H_408
	        : out->status == 409 ? TFM_H_409
	        : out->status < 500  ? TFM_H_4XX
	                             : TFM_H_5XX;
	rt_inc(S.m_http[c]);
	tfm_health(c != TFM_H_NONE && c != TFM_H_5XX);
}

/* ---- publishing, accounting -------------------------------------------------------------------- */

static void
tfm_log_rec(int level, const char *msg, const tq_rec *rec)
{
	char id[33], tx[67] = "";
	static const uint8_t zero[32];
	hex_encode(rec->id, 16, 0, id);
	if (memcmp(rec->tx_hash, zero, 32) != 0)
		hex_encode(rec->tx_hash, 32, 1, tx);
	rt_logkv(level, msg, "payment_id", id, "state", tq_state_name(rec->state), "firefly_tx", rec->ff_tx_id, "tx",
	         tx, "error", rec->error, NULL);
}

static void
tfm_terminal(const tq_rec *rec)
{
	rt_inc(S.m_results[rec->state]);
	rt_observe(S.m_seconds, (double)(rec->updated_ns - rec->created_ns) / 1e9);
	tfm_log_rec(rec->state == TQ_CONFIRMED ? RT_INFO : RT_WARN, "request final", rec);
}

/* A payment failed because FireFly failed: one grouped alert (the key is ours, never a sender's text),
 * fired by the first such payment while it is not firing (with the count since start and that payment);
 * more payments failing meanwhile only count (token_firefly_gave_up_total), and tfm_watch resolves it. */
static void
tfm_gave_up(const tq_rec *rec)
{
	char sum[400], cnt[24], id[33];
	rt_inc(S.m_gave_up);
	S.gave_up++;
	if (S.failing_alerted)
		return;
	hex_encode(rec->id, 16, 0, id);
	snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)S.gave_up);
	snprintf(sum, sizeof sum, "FireFly backend failed %s payment(s) since start; last %s: %.200s", cnt, id,
	         rec->error);
	const char *labels[] = { "backend", TFM_BACKEND, "count", cnt, "payment_id", id, NULL };
	act_alert(S.bus, SC_SEV_ERROR, SC_ALERT_FIRING, "tokenization_backend_failing",
	          "tokenization_backend_failing:" TFM_BACKEND, sum, labels);
	S.failing_alerted = 1;
}

/* ---- bus batches ----------------------------------------------------------------------------- */

static void
tfm_flush(void *ctx)
{
	char err[256];
	if (S.n == 0)
		return;
	uint64_t now = rt_now_ns();
	int *out = calloc(S.n, sizeof *out);
	tq_rec *recs = calloc(S.n, sizeof *recs);
	int rv = out == NULL || recs == NULL ? ENOMEM : tq_begin(S.q, err, sizeof err);
	if (rv != 0) {
		act_store_result(S.m_store_errors, rv, "batch not stored: no transaction (the tokenizer re-sends)",
		                 rv == ENOMEM ? "" : err);
		goto done;
	}
	for (size_t i = 0; i < S.n && rv == 0; i++)
		rv = S.items[i].kind == TFM_REQ
		             ? tf_on_request(&S.x, &S.items[i].r, now, &recs[i], &out[i], err, sizeof err)
		             : tq_status_ack(S.q, &S.items[i].t, NULL, err, sizeof err);
	if (rv != 0)
		tq_abort(S.q);
	else
		rv = tq_commit(S.q, act_publish_body, S.bus, err, sizeof err);
	act_store_result(S.m_store_errors, rv, "batch not stored; nothing published (the tokenizer re-sends)", err);
	if (rv != 0)
		goto done;
	for (size_t i = 0; i < S.n; i++) {
		if (S.items[i].kind != TFM_REQ)
			continue;
		int o = out[i];
		rt_inc(S.m_req[o == TF_O_NEW ? 0 : o == TF_O_REPEAT ? 1 : o == TF_O_CONFLICT ? 2 : 3]);
		if (o == TF_O_NEW)
			tfm_log_rec(RT_INFO, "request taken", &recs[i]);
		else if (o == TF_O_CONFLICT)
			rt_inc(S.m_conflicts),
			        tfm_log_rec(RT_WARN, "request re-sent with other content: ignored", &recs[i]);
		else if (o == TF_O_REJECTED)
			tfm_terminal(&recs[i]);
	}
done:
	free(out);
	free(recs);
	S.n = 0;
}

/* ---- FireFly work: POST the queued, poll the submitted ------------------------------------------ */

typedef struct {
	uint8_t id[16];
	int post; /* 1: p, 0: s */
	tf_post p;
	tf_poll s;
} tfm_done;

static int
tfm_post_one(const tq_rec *rec, tfm_done *d)
{
	const char *path;
	char *body, reason[8], why[160], url[32];
	tf_http h;
	if (tf_body(&S.cfg, &rec->req, &path, &body, reason, why, sizeof why) != 0) {
		d->p.kind = TF_P_REJECT; /* cannot happen: checked when taken */
		snprintf(d->p.text, sizeof d->p.text, "%s", why);
		return 0;
	}
	snprintf(url, sizeof url, "/tokens/%s", path);
	tfm_call("POST", url, body, &h);
	free(body);
	tf_classify_post(&h, &d->p);
	return h.status == 0;
}

static int
tfm_poll_one(const tq_rec *rec, tfm_done *d)
{
	tf_http h;
	char path[400], key[300], bevent[64];
	if (rec->ff_tx_id[0] == '\0') {
		if (tf_urlenc(rec->req.idempotency_key, key, sizeof key) != 0) {
			d->s.kind = TF_S_ERROR;
			return 0;
		}
		snprintf(path, sizeof path, "/transactions?idempotencykey=%s&limit=1", key);
		tfm_call("GET", path, NULL, &h);
		tf_parse_lookup(&h, &d->s);
		return h.status == 0;
	}
	snprintf(path, sizeof path, "/transactions/%s/status", rec->ff_tx_id);
	tfm_call("GET", path, NULL, &h);
	tf_parse_status(&h, &d->s, bevent);
	if (d->s.kind != TF_S_SUCCEEDED)
		return h.status == 0;
	/* The chain transaction and block: from the blockchain event, else the transaction's blockchainIds. */
	if (bevent[0]) {
		snprintf(path, sizeof path, "/blockchainevents/%s", bevent);
		tfm_call("GET", path, NULL, &h);
		tf_parse_bevent(&h, &d->s);
	}
	if (!d->s.has_hash) {
		snprintf(path, sizeof path, "/transactions/%s", rec->ff_tx_id);
		tfm_call("GET", path, NULL, &h);
		tf_parse_tx(&h, &d->s);
	}
	return 0;
}

static void
tfm_work(void *ctx)
{
	uint8_t ids[256][16];
	char err[256];
	tfm_done *d = calloc(cfg_work_max, sizeof *d);
	size_t nd = 0;
	uint64_t now = rt_now_ns();
	int unreachable = 0;
	if (d == NULL)
		return;
	size_t max = cfg_work_max < OB_COUNT(ids) ? cfg_work_max : OB_COUNT(ids);
	for (int pass = 0; pass < 2 && !unreachable && nd < cfg_work_max; pass++) {
		long n = tq_list(S.q, pass == 0 ? TQ_QUEUED : TQ_SUBMITTED, now, ids, max - nd, err, sizeof err);
		for (long i = 0; i < n && !unreachable && !rt_stopping(); i++) {
			tq_rec rec;
			if (tq_get(S.q, ids[i], &rec, err, sizeof err) != 0)
				continue;
			tfm_done *x = &d[nd++];
			memcpy(x->id, ids[i], 16);
			x->post = pass == 0;
			/* FireFly not answering at all: stop this round (each call would wait for its timeout). */
			unreachable = x->post ? tfm_post_one(&rec, x) : tfm_poll_one(&rec, x);
		}
	}
	if (nd == 0)
		goto out;
	now = rt_now_ns();
	int *o = calloc(nd, sizeof *o);
	tq_rec *recs = calloc(nd, sizeof *recs);
	int rv = o == NULL || recs == NULL ? ENOMEM : tq_begin(S.q, err, sizeof err);
	for (size_t i = 0; i < nd && rv == 0; i++)
		rv = d[i].post ? tf_on_post(&S.x, d[i].id, &d[i].p, now, &recs[i], &o[i], err, sizeof err)
		               : tf_on_poll(&S.x, d[i].id, &d[i].s, now, &recs[i], &o[i], err, sizeof err);
	if (rv != 0 && o && recs)
		tq_abort(S.q);
	else if (rv == 0)
		rv = tq_commit(S.q, act_publish_body, S.bus, err, sizeof err);
	act_store_result(S.m_store_errors, rv, "FireFly outcomes not stored (the calls are repeated, idempotently)",
	                 rv == ENOMEM ? "" : err);
	if (rv == 0) {
		for (size_t i = 0; i < nd; i++) {
			if (o[i] == TF_O_GAVE_UP)
				tfm_gave_up(&recs[i]);
			if ((o[i] == TF_O_CHANGED || o[i] == TF_O_GAVE_UP || o[i] == TF_O_REJECTED) &&
			    tq_terminal(recs[i].state))
				tfm_terminal(&recs[i]);
			else if (o[i] == TF_O_CHANGED && d[i].post && recs[i].error[0])
				tfm_log_rec(RT_WARN, "FireFly kept failing: no more POSTs, the key is looked up",
				            &recs[i]);
			else if (o[i] == TF_O_CHANGED)
				tfm_log_rec(RT_INFO,
				            recs[i].state == TQ_SUBMITTED ? "submitted to FireFly" : "queued again",
				            &recs[i]);
			else if (o[i] == TF_O_SAME && recs[i].failures == 1 && d[i].post)
				tfm_log_rec(RT_WARN, "FireFly call failed; retrying", &recs[i]);
		}
	}
	free(o);
	free(recs);
out:
	free(d);
}

static void
tfm_watch(void *ctx)
{
	tq_stats st;
	char err[256];
	if (tq_get_stats(S.q, &st, err, sizeof err) != 0)
		return;
	uint64_t open = st.open[TQ_QUEUED] + st.open[TQ_SUBMITTED] + st.open[TQ_MINED];
	rt_gauge_set(S.m_open, (double)open);
	rt_gauge_set(S.m_oldest, st.oldest_open_ns ? (double)(rt_now_ns() - st.oldest_open_ns) / 1e9 : 0);
	rt_gauge_set(S.m_results_pending, (double)st.results_pending);
	/* The failing alert resolves once nothing is open and FireFly answers. */
	if (S.failing_alerted && open == 0 && !S.down) {
		const char *labels[] = { "backend", TFM_BACKEND, NULL };
		act_alert(S.bus, SC_SEV_ERROR, SC_ALERT_RESOLVED, "tokenization_backend_failing",
		          "tokenization_backend_failing:" TFM_BACKEND, "FireFly backend: nothing failing now", labels);
		S.failing_alerted = 0;
	}
}

static void
tfm_on_frame(void *ctx, const bus_msg *m)
{
	char type[FRAME_TYPE_MAX + 1], topic[FRAME_TOPIC_MAX + 1];
	tfm_item *it = &S.items[S.n];
	snprintf(type, sizeof type, "%.*s", (int)m->f.type_len, m->f.type);
	snprintf(topic, sizeof topic, "%.*s", (int)m->f.topic_len, m->f.topic);
	if (strcmp(topic, "token.request") == 0 && strcmp(type, "token.request") == 0) {
		if (act_decode(m, &SC_TOKEN_REQUEST, &it->r) != 0 || strcmp(it->r.backend, TFM_BACKEND) != 0)
			return;
		it->kind = TFM_REQ;
	} else if (strcmp(topic, "token.status") == 0 && strcmp(type, "token.result") == 0) {
		if (act_decode(m, &SC_TOKEN_RESULT, &it->t) != 0)
			return;
		it->kind = TFM_TOKST;
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
	if (rt_init("token-firefly", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;
	tfm_metrics();
	S.cfg = (tf_cfg){ .key = cfg_key,
		          .retry_ns = cfg_retry_ms * 1000000u,
		          .retry_max_ns = cfg_retry_max_ms * 1000000u,
		          .poll_ns = cfg_poll_ms * 1000000u,
		          .deadline_ns = cfg_deadline_ms * 1000000u,
		          .max_failures = (uint32_t)cfg_max_failures };
	if ((S.items = calloc(cfg_batch, sizeof *S.items)) == NULL || tfm_http_init(err, sizeof err) != 0) {
		rt_log(RT_ERROR, "%s", S.items ? err : "out of memory");
		return 1;
	}
	tq_cfg qc = { .backend = TFM_BACKEND,
		      .map_size = cfg_map_mb << 20,
		      .retry_ns = cfg_ob_retry_ms * 1000000u,
		      .retry_max_ns = cfg_ob_retry_max_ms * 1000000u,
		      .result_attempts = (uint32_t)cfg_result_attempts };
	if ((S.q = tq_open(cfg_state_dir, &qc, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "%s", err);
		return 1;
	}
	S.x.cfg = &S.cfg;
	S.x.q = S.q;
	static const char *const topics[] = { "token.request", "token.status", NULL };
	if ((S.bus = act_open(&busc, ACT_PUB | ACT_SUB, topics, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "bus: %s", err);
		return 1;
	}
	rt_logkv(RT_INFO, "token-firefly ready", "firefly", S.base, "state", cfg_state_dir, NULL);

	/* Whatever a previous run queued but may not have published. */
	bus_pub_wait(act_pub(S.bus), 1, 2000);
	S.rs = (tq_resender){ .q = S.q,
		              .pub = act_publish_body,
		              .arg = S.bus,
		              .republished = S.m_republished,
		              .gave_up = S.m_unacked,
		              .store_errors = S.m_store_errors };
	tq_resend_tick(&S.rs);
	/* State open, the outbox re-sent, bus opened: ready once busd is connected. FireFly is asked only
	 * when there is work; a FireFly that stops answering is the reason firefly (DOWN_AFTER). */
	rt_ready();
	static const act_tick ticks[] = {
		{ 0, 0, tfm_flush, NULL },
		{ 0, 0, tfm_work, NULL },
		{ 200000000u, 0, tq_resend_tick, &S.rs },
		{ 1000000000u, 1, tfm_watch, NULL },
	};
	act_loop loop = { .recv_ms = 50,
		          .on_frame = tfm_on_frame,
		          .n = &S.n,
		          .batch = cfg_batch,
		          .ticks = ticks,
		          .nticks = OB_COUNT(ticks) };
	act_run(S.bus, &loop);
	tfm_flush(NULL);
	rt_logkv(RT_INFO, "stopping", NULL);
	act_close(S.bus);
	tq_close(S.q);
	curl_easy_cleanup(S.h);
	curl_slist_free_all(S.hdrs);
	free(S.buf);
	free(S.items);
	rt_shutdown();
	return 0;
}
