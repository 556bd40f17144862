/* fetch: the multi-source HTTP engine of the fetcher (see fetch.h). */
#include "actors/fetcher/fetch.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"

enum {
	FE_UNKNOWN,
	FE_UP,
	FE_DOWN
};

#define FE_SPLIT_ROUNDS 20   /* rounds a refused batch is fetched symbol by symbol before batching again */
#define FE_SPLIT_MAX    1280 /* ...doubled at each new refusal up to this */
#define FE_URL_MAX      8192

/* One source name: its requests never overlap; its rate limit and its 429 pause. */
typedef struct {
	const char *name;
	uint64_t min_interval_ns;
	uint64_t next_ok_ns;   /* min_interval: the earliest start of the next request */
	uint64_t paused_until; /* after a 429: nothing before this (monotonic) */
	unsigned n429;         /* rate-limit answers in a row */
	int busy;              /* a request of this source is in flight */
	char *body;            /* one response at a time: one buffer per source */
	size_t bcap;
	rt_metric *m_req, *m_rate, *m_pause;
} fe_group;

/* One (source entry, feed): its state and metrics. */
typedef struct {
	const fc_member *m;
	const fc_feed *feed;
	int state;      /* FE_UNKNOWN / FE_UP / FE_DOWN */
	int req_failed; /* down because a whole batch failed (logged per request, not per feed) */
	fx_err why;     /* the last failure's kind */
	rt_metric *m_obs, *m_up, *m_err[FX_NERRS]; /* m_err registered at the first error of a kind */
} fe_member;

typedef struct {
	const fc_source *src;
	fe_group *group;
	fe_member *mem; /* this job's members (a slice of the engine's) */
	size_t nmem;
	fx_item *items; /* nmem */
	int each;       /* one request per member: coinbase, generic with {symbol}, or a refused batch */
	int each_always;
	unsigned split_left; /* rounds left symbol by symbol after a refused batch */
	unsigned split_next; /* the length of the last split (0: the batch last answered) */
	size_t cur, ncur;    /* members of the request in flight: [cur, cur + ncur) */
	char *url;           /* the batch's URL, built once */
	CURL *h;
	struct curl_slist *hdrs;
	size_t blen;
	int too_big;
	int inflight;
	int req_state; /* FE_UP / FE_DOWN of the last whole request (batches: logged per request) */
	fx_err req_why;
	unsigned attempt; /* 0 = first attempt of this request */
	uint64_t interval_ns;
	uint64_t round_ns; /* when this round's first request was due */
	uint64_t due_ns;   /* next start (monotonic) */
	uint64_t start_ns; /* this attempt's start */
	char retry_after[64];
	rt_metric *m_lat;
} fe_job;

struct fe_engine {
	fe_opts o;
	CURLM *multi;
	fe_job *jobs;
	size_t njobs;
	fe_member *mems;
	size_t nmems;
	fe_group *groups;
	size_t ngroups;
	unsigned *feed_total, *feed_down; /* per feed: sources, and how many of them are down */
	const fc_config *cfg;
	fe_obs_fn cb;
	void *arg;
	uint64_t rng;
	rt_metric *m_retries;
};

static uint64_t
fe_rand(fe_engine *e)
{
	e->rng ^= e->rng << 13;
	e->rng ^= e->rng >> 7;
	e->rng ^= e->rng << 17;
	return e->rng;
}

/* Body collector with a hard limit: returning less than given aborts the transfer (WRITE_ERROR). */
static size_t
fe_write(char *p, size_t sz, size_t n, void *arg)
{
	fe_job *j = arg;
	size_t len = sz * n;
	if (j->blen + len > j->group->bcap) {
		j->too_big = 1;
		return 0;
	}
	memcpy(j->group->body + j->blen, p, len);
	j->blen += len;
	return len;
}

/* Keeps the Retry-After header of the answer (bounded copy). */
static size_t
fe_header(char *p, size_t sz, size_t n, void *arg)
{
	fe_job *j = arg;
	size_t len = sz * n;
	static const char name[] = "retry-after:";
	if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
		const char *v = p + sizeof name - 1, *end = p + len;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
			end--;
		size_t vl = (size_t)(end - v) < sizeof j->retry_after ? (size_t)(end - v) : sizeof j->retry_after - 1;
		memcpy(j->retry_after, v, vl);
		j->retry_after[vl] = '\0';
	}
	return len;
}

static void
fe_labels(char *out, size_t cap, const char *source, const char *feed, const char *kind)
{
	rt_labels(out, cap, "source", source, "feed", feed, kind ? "kind" : NULL, kind, NULL);
}

static int
fe_setup_job(fe_engine *e, fe_job *j, char *err, size_t errlen)
{
	const fc_source *s = j->src;
	if ((j->h = curl_easy_init()) == NULL || (j->items = calloc(j->nmem, sizeof *j->items)) == NULL ||
	    (j->url = malloc(FE_URL_MAX)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < j->nmem; i++) {
		j->items[i].sym = j->mem[i].m->sym;
		j->items[i].vs = j->mem[i].m->vs;
		j->items[i].decimals = j->mem[i].feed->decimals;
	}
	if (!s->batched)
		snprintf(j->url, FE_URL_MAX, "%s", s->url);
	j->hdrs = curl_slist_append(NULL, "Accept: application/json");
	for (size_t i = 0; i < s->nheaders; i++)
		j->hdrs = curl_slist_append(j->hdrs, s->headers[i]);
	uint64_t cto = e->o.connect_timeout_ms < e->o.timeout_ms ? e->o.connect_timeout_ms : e->o.timeout_ms;
	CURL *h = j->h;
	/* The options that matter: timeouts (total and connect), no signals (threads), only HTTP(S),
	 * no redirects (an API that moves should be reconfigured, not followed), compressed bodies,
	 * TCP keep-alive on pooled connections. */
	if (curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK) {
		snprintf(err, errlen, "source %s: libcurl refuses http,https", s->name);
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)e->o.timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cto);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "oraclebus-fetcher/1");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)e->o.max_body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fe_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fe_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(h, CURLOPT_PRIVATE, j);

	char ls[96], esc[80];
	rt_label_escape(s->name, esc, sizeof esc);
	snprintf(ls, sizeof ls, "source=\"%s\"", esc);
	static const double bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
	j->m_lat = rt_histogram("fetcher_latency_seconds", "Request start to parsed price, successful fetches.", ls,
	                        bounds, sizeof bounds / sizeof bounds[0]);
	return 0;
}

static void
fe_setup_member(fe_member *m, const fc_source *s)
{
	char l[256];
	fe_labels(l, sizeof l, s->name, m->feed->name, NULL);
	m->m_obs = rt_counter("fetcher_observations_total", "Prices fetched, parsed and published.", l);
	m->m_up = rt_gauge("fetcher_up", "1 while the source's last round succeeded, else 0.", l);
}

static void
fe_count_err(fe_job *j, fe_member *m, fx_err k)
{
	if ((unsigned)k >= FX_NERRS)
		return;
	if (m->m_err[k] == NULL) { /* lazily: most (source, feed, kind) series never happen */
		char le[300];
		fe_labels(le, sizeof le, j->src->name, m->feed->name, fx_err_name(k));
		m->m_err[k] = rt_counter("fetcher_errors_total", "Failed fetch attempts by reason.", le);
	}
	rt_inc(m->m_err[k]);
}

static fe_group *
fe_group_of(fe_engine *e, const fc_source *s, char *err, size_t errlen)
{
	size_t g;
	for (g = 0; g < e->ngroups && strcmp(e->groups[g].name, s->name) != 0; g++)
		;
	fe_group *gr = &e->groups[g];
	if (g == e->ngroups) {
		e->ngroups++;
		gr->name = s->name;
		gr->bcap = e->o.max_body;
		if ((gr->body = malloc(gr->bcap)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		char ls[96], esc[80];
		rt_label_escape(s->name, esc, sizeof esc);
		snprintf(ls, sizeof ls, "source=\"%s\"", esc);
		gr->m_req = rt_counter("fetcher_requests_total", "HTTP requests sent to the source.", ls);
		gr->m_rate = rt_counter("fetcher_rate_limited_total",
		                        "HTTP 429/418 answers: the source asked us to slow down.", ls);
		gr->m_pause = rt_gauge("fetcher_rate_limit_pause_seconds",
		                       "Length of the source's current pause after a 429 (0 = none).", ls);
	}
	uint64_t mi = s->min_interval_ms * 1000000u;
	if (mi > gr->min_interval_ns)
		gr->min_interval_ns = mi;
	return gr;
}

fe_engine *
fe_new(const fc_config *cfg, const fe_opts *o, fe_obs_fn cb, void *arg, char *err, size_t errlen)
{
	/* TLS is initialised only when a source needs it: OpenSSL's setup alone touches ~3 MiB of
	 * libcrypto pages, most of this process's RSS (measured; see README). */
	long flags = CURL_GLOBAL_NOTHING;
	size_t nmems = 0, njobs = 0;
	for (size_t i = 0; i < cfg->nsrcs; i++) {
		const fc_source *s = &cfg->srcs[i];
		if (strncmp(s->url, "https:", 6) == 0)
			flags = CURL_GLOBAL_DEFAULT;
		nmems += s->nmembers;
		unsigned b = s->batch_max ? s->batch_max : 1;
		njobs += !s->batched || fc_source_each(s) ? 1 : (s->nmembers + b - 1) / b;
	}
	if (curl_global_init(flags) != CURLE_OK) {
		snprintf(err, errlen, "libcurl init failed");
		return NULL;
	}
	fe_engine *e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	e->o = *o;
	e->cfg = cfg;
	e->cb = cb;
	e->arg = arg;
	e->rng = rt_now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
	e->jobs = calloc(njobs ? njobs : 1, sizeof *e->jobs);
	e->mems = calloc(nmems ? nmems : 1, sizeof *e->mems);
	e->groups = calloc(cfg->nsrcs ? cfg->nsrcs : 1, sizeof *e->groups);
	e->feed_total = calloc(cfg->nfeeds ? cfg->nfeeds : 1, sizeof *e->feed_total);
	e->feed_down = calloc(cfg->nfeeds ? cfg->nfeeds : 1, sizeof *e->feed_down);
	e->multi = curl_multi_init();
	if (!e->jobs || !e->mems || !e->groups || !e->feed_total || !e->feed_down || !e->multi) {
		snprintf(err, errlen, "out of memory");
		fe_free(e);
		return NULL;
	}
	/* Enough pooled connections for every source to keep its own alive between rounds. */
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)(cfg->nsrcs + 4));
	e->m_retries = rt_counter("fetcher_retries_total", "Attempts retried after a transient failure.", NULL);
	uint64_t now = rt_mono_ns();
	for (size_t i = 0; i < cfg->nsrcs; i++) {
		const fc_source *s = &cfg->srcs[i];
		fe_group *g = fe_group_of(e, s, err, errlen);
		if (g == NULL) {
			fe_free(e);
			return NULL;
		}
		fe_member *first = &e->mems[e->nmems];
		for (size_t k = 0; k < s->nmembers; k++) {
			fe_member *m = &e->mems[e->nmems++];
			m->m = &s->members[k];
			m->feed = &cfg->feeds[s->members[k].feed];
			e->feed_total[s->members[k].feed]++;
			fe_setup_member(m, s);
		}
		int each = s->batched && fc_source_each(s);
		size_t chunk = !s->batched || each ? s->nmembers : (s->batch_max ? s->batch_max : 1);
		for (size_t k = 0; k < s->nmembers; k += chunk) {
			fe_job *j = &e->jobs[e->njobs++];
			j->src = s;
			j->group = g;
			j->mem = first + k;
			j->nmem = s->nmembers - k < chunk ? s->nmembers - k : chunk;
			j->each = j->each_always = each;
			j->interval_ns = (s->interval_ms ? s->interval_ms : o->interval_ms) * 1000000u;
			j->due_ns = j->round_ns = now;
			if (fe_setup_job(e, j, err, errlen) != 0) {
				fe_free(e);
				return NULL;
			}
			/* j->mem[0].m .. + nmem are contiguous in s->members: the batch's URL checked once here */
			if (s->batched && !each && fc_batch_url(s, j->mem[0].m, j->nmem, j->url, FE_URL_MAX) != 0) {
				snprintf(err, errlen, "source %s: request URL longer than %d bytes (lower \"batch\")",
				         s->name, FE_URL_MAX);
				fe_free(e);
				return NULL;
			}
		}
	}
	return e;
}

/* One feed's state at one source: fetcher_up, a log line per change (of state or failure kind), and
 * the feed's health (degraded while every source of the feed is down). A feed in a batch is logged
 * on its own only for what concerns it alone (a missing symbol, a stale price) and when it recovers
 * from that; the whole batch failing or recovering is logged once per request (fe_req_state). */
static void
fe_member_state(fe_engine *e, fe_job *j, fe_member *m, int state, int req_level, fx_err why, const char *text)
{
	size_t fi = (size_t)(m->feed - e->cfg->feeds);
	/* a change: of state, of failure kind, or a batch's failure now pinned on this feed alone */
	int changed = m->state != state ||
	              (state == FE_DOWN && (m->why != why || (m->req_failed && (j->ncur <= 1 || !req_level))));
	int log_here = j->ncur <= 1 || (state == FE_DOWN ? !req_level : m->state == FE_DOWN && !m->req_failed);
	if (changed && log_here) {
		if (state == FE_UP)
			rt_logkv(RT_INFO, "source up", "feed", m->feed->name, "source", j->src->name, NULL);
		else
			rt_logkv(RT_WARN, "source failing", "feed", m->feed->name, "source", j->src->name, "symbol",
			         m->m->sym, "kind", fx_err_name(why), "err", text, NULL);
	}
	m->why = why;
	m->req_failed = state == FE_DOWN && req_level && j->ncur > 1; /* failed with a whole batch */
	if (m->state != state) {
		rt_gauge_set(m->m_up, state == FE_UP);
		if (m->state == FE_DOWN)
			e->feed_down[fi]--;
		if (state == FE_DOWN)
			e->feed_down[fi]++;
		m->state = state;
		char hk[48];
		snprintf(hk, sizeof hk, "feed:%s", m->feed->name);
		rt_health_set(hk, e->feed_total[fi] > 0 && e->feed_down[fi] == e->feed_total[fi],
		              "every source of the feed is failing");
	}
}

/* A whole request of several feeds: logged once per change of its state (or failure kind). */
static void
fe_req_state(fe_job *j, int state, fx_err why, const char *text)
{
	if (j->ncur <= 1)
		return;
	if (j->req_state != state || (state == FE_DOWN && j->req_why != why)) {
		char n[24];
		snprintf(n, sizeof n, "%zu", j->ncur);
		if (state == FE_UP)
			rt_logkv(RT_INFO, "source up", "source", j->src->name, "feeds", n, NULL);
		else
			rt_logkv(RT_WARN, "source failing", "source", j->src->name, "feeds", n, "kind",
			         fx_err_name(why), "err", text, NULL);
	}
	j->req_state = state;
	j->req_why = why;
}

/* The request of [cur, cur + ncur) is over: next member (each mode) or next round. */
static void
fe_advance(fe_job *j, uint64_t now)
{
	j->attempt = 0;
	if (j->each && j->cur + 1 < j->nmem) {
		j->cur++;
		j->due_ns = now; /* the next feed in this round, after the source's min_interval */
		return;
	}
	j->cur = 0;
	if (j->split_left && --j->split_left == 0 && !j->each_always)
		j->each = 0; /* try the batch again */
	j->round_ns += j->interval_ns;
	if (j->round_ns < now) /* fell behind (a long outage): restart the cadence from now */
		j->round_ns = now;
	j->due_ns = j->round_ns;
	if (j->due_ns < j->group->paused_until)
		j->due_ns = j->group->paused_until;
}

static int
fe_retryable(fx_err k, long status)
{
	return k == FX_E_CONNECT || k == FX_E_TIMEOUT || k == FX_E_TRANSFER || k == FX_E_RATE ||
	       (k == FX_E_HTTP && status >= 500);
}

/* The whole request failed: retried within the interval, else every feed it carried is down. */
static void
fe_failed(fe_engine *e, fe_job *j, fx_err k, long status, const char *text, uint64_t now)
{
	for (size_t i = 0; i < j->ncur; i++)
		fe_count_err(j, &j->mem[j->cur + i], k);
	if (fe_retryable(k, status) && j->attempt < e->o.retries) {
		/* Full-range jitter over [d/2, d] keeps replicas from retrying in lockstep. */
		uint64_t d = e->o.backoff_ms * 1000000u << (j->attempt < 20 ? j->attempt : 20);
		d = d / 2 + fe_rand(e) % (d / 2 + 1);
		uint64_t at = now + d < j->group->paused_until ? j->group->paused_until : now + d;
		if (at < j->round_ns + j->interval_ns) {
			j->attempt++;
			j->due_ns = at;
			rt_inc(e->m_retries);
			rt_logkv(RT_DEBUG, "retrying", "source", j->src->name, "err", text, NULL);
			return;
		}
	}
	fe_req_state(j, FE_DOWN, k, text);
	for (size_t i = 0; i < j->ncur; i++)
		fe_member_state(e, j, &j->mem[j->cur + i], FE_DOWN, 1, k, text);
	fe_advance(j, now);
}

/* A 429 (or 418): the whole source pauses for Retry-After, or a doubling backoff. */
static void
fe_rate_limited(fe_engine *e, fe_job *j, long status, uint64_t now, char *err, size_t errlen)
{
	fe_group *g = j->group;
	int64_t ra = j->retry_after[0] ? fx_retry_after_s(j->retry_after, (int64_t)(rt_now_ns() / 1000000000u)) : -1;
	uint64_t base = e->o.backoff_ms > 1000 ? e->o.backoff_ms : 1000;
	uint64_t ms = fx_backoff_ms(ra, ++g->n429, base, e->o.rate_wait_max_ms);
	g->paused_until = now + ms * 1000000u;
	rt_inc(g->m_rate);
	rt_gauge_set(g->m_pause, (double)ms / 1000.0);
	char rs[24];
	snprintf(rs, sizeof rs, "%.3f", (double)ms / 1000.0);
	rt_logkv(RT_WARN, "source rate limited", "source", g->name, "retry_after", ra >= 0 ? j->retry_after : "",
	         "pause_s", rs, NULL);
	snprintf(err, errlen, "HTTP %ld: rate limited, pausing %s s", status, rs);
}

static void
fe_publish(fe_engine *e, fe_job *j, fe_member *m, const fx_item *it, uint64_t end)
{
	sc_price_obs obs = { 0 };
	snprintf(obs.feed, sizeof obs.feed, "%s", m->feed->name);
	snprintf(obs.source, sizeof obs.source, "%s", j->src->name);
	obs.value = it->value;
	obs.source_ts_ms = it->ts_ms;
	obs.decimals = m->feed->decimals;
	obs.fetch_latency_us = (end - j->start_ns) / 1000u;
	obs.observed_at_ns = rt_now_ns();
	if (it->inexact)
		rt_logkv(RT_DEBUG, "price rounded to the feed's decimals", "feed", obs.feed, "source", obs.source,
		         NULL);
	rt_inc(m->m_obs);
	e->cb(e->arg, &obs);
}

/* The API refused the request in its body. Binance and Kraken refuse a whole batch for one unknown
 * symbol: its symbols are then asked one by one for FE_SPLIT_ROUNDS rounds (doubled each time the
 * batch is refused again, up to FE_SPLIT_MAX), so the others go on and the failing one is named in
 * the log. Not retried: the same question gets the same answer. */
static void
fe_refused(fe_engine *e, fe_job *j, const char *err, long status, uint64_t now)
{
	if (j->ncur > 1 && !j->each) {
		char n[24];
		j->split_next = j->split_next ? (j->split_next * 2 > FE_SPLIT_MAX ? FE_SPLIT_MAX : j->split_next * 2)
		                              : FE_SPLIT_ROUNDS;
		snprintf(n, sizeof n, "%zu", j->ncur);
		rt_logkv(RT_WARN, "batch refused: fetching its symbols one by one", "source", j->src->name, "feeds", n,
		         "err", err, NULL);
		j->each = 1;
		j->split_left = j->split_next;
	}
	j->attempt = e->o.retries;
	fe_failed(e, j, FX_E_SOURCE, status, err, now);
}

static void
fe_done(fe_engine *e, fe_job *j, CURLcode rc)
{
	uint64_t now = rt_mono_ns();
	char err[256];
	long status = 0;
	j->inflight = 0;
	j->group->busy = 0;
	curl_multi_remove_handle(e->multi, j->h);
	if (rc != CURLE_OK) {
		fx_err k = rc == CURLE_OPERATION_TIMEDOUT ? FX_E_TIMEOUT
		           : (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
		              rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR ||
		              rc == CURLE_PEER_FAILED_VERIFICATION)
		                   ? FX_E_CONNECT
		                   : FX_E_TRANSFER;
		snprintf(err, sizeof err, "%s",
		         j->too_big || rc == CURLE_FILESIZE_EXCEEDED ? "body over MAX_BODY" : curl_easy_strerror(rc));
		fe_failed(e, j, k, 0, err, now);
		return;
	}
	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &status);
	if (status == 429 || status == 418) {
		fe_rate_limited(e, j, status, now, err, sizeof err);
		fe_failed(e, j, FX_E_RATE, status, err, now);
		return;
	}
	if (j->group->n429) { /* answered normally again: the pause is over */
		j->group->n429 = 0;
		rt_gauge_set(j->group->m_pause, 0);
	}
	fx_item *items = j->items + j->cur;
	fx_err k;
	if (status < 200 || status > 299) {
		/* a 4xx whose body is the API's own error report (Binance's 400 {"code":-1121,"msg":"Invalid
		 * symbol."}, Coinbase's 404 {"errors":[..]}) says more than the status: a source error */
		char api[256];
		if (status < 400 || status > 499 ||
		    fx_parse_batch(&j->src->spec, j->group->body, j->blen, items, j->ncur, api, sizeof api) !=
		            FX_E_SOURCE) {
			snprintf(err, sizeof err, "HTTP %ld", status);
			fe_failed(e, j, FX_E_HTTP, status, err, now);
			return;
		}
		snprintf(err, sizeof err, "HTTP %ld: %.200s", status, api);
		fe_refused(e, j, err, status, now);
		return;
	}
	if (!j->src->batched) { /* the one-URL form: the entry's own paths */
		k = fx_parse(&j->src->spec, j->group->body, j->blen, &items[0].value, &items[0].ts_ms,
		             &items[0].inexact, err, sizeof err);
		items[0].err = k;
		snprintf(items[0].why, sizeof items[0].why, "%.95s", k == FX_OK ? "" : err);
	} else {
		k = fx_parse_batch(&j->src->spec, j->group->body, j->blen, items, j->ncur, err, sizeof err);
	}
	if (k == FX_E_SOURCE) {
		fe_refused(e, j, err, status, now);
		return;
	}
	if (k != FX_OK) {
		j->attempt = e->o.retries; /* not retried: the same question gets the same answer */
		fe_failed(e, j, k, status, err, now);
		return;
	}
	j->split_next = 0; /* a batch answered: the next refusal starts the split afresh */
	uint64_t end = rt_mono_ns(), wall_ms = rt_now_ns() / 1000000u;
	fe_req_state(j, FE_UP, FX_OK, NULL);
	rt_observe(j->m_lat, (double)(end - j->start_ns) / 1e9);
	for (size_t i = 0; i < j->ncur; i++) {
		fe_member *m = &j->mem[j->cur + i];
		fx_item *it = &items[i];
		if (it->err == FX_OK && fx_check_fresh(it->ts_ms, wall_ms, e->o.max_staleness_ms) != FX_OK) {
			it->err = FX_E_STALE;
			snprintf(it->why, sizeof it->why, "source time %llu ms is more than MAX_STALENESS from now",
			         (unsigned long long)it->ts_ms);
		}
		if (it->err != FX_OK) {
			fe_count_err(j, m, it->err);
			fe_member_state(e, j, m, FE_DOWN, 0, it->err, it->why);
			continue;
		}
		fe_member_state(e, j, m, FE_UP, 0, FX_OK, NULL);
		fe_publish(e, j, m, it, end);
	}
	fe_advance(j, now);
}

static void
fe_start(fe_engine *e, fe_job *j, uint64_t now)
{
	j->blen = 0;
	j->too_big = 0;
	j->retry_after[0] = '\0';
	j->start_ns = now;
	if (j->each || !j->src->batched) {
		j->ncur = 1;
		if (j->src->batched && fc_batch_url(j->src, j->mem[j->cur].m, 1, j->url, FE_URL_MAX) != 0) {
			fe_failed(e, j, FX_E_TRANSFER, 0, "request URL too long", now);
			return;
		}
	} else {
		j->cur = 0;
		j->ncur = j->nmem;
		if (fc_batch_url(j->src, j->mem[0].m, j->nmem, j->url, FE_URL_MAX) != 0) {
			fe_failed(e, j, FX_E_TRANSFER, 0, "request URL too long", now);
			return;
		}
	}
	curl_easy_setopt(j->h, CURLOPT_URL, j->url);
	CURLMcode mc = curl_multi_add_handle(e->multi, j->h);
	if (mc != CURLM_OK) {
		fe_failed(e, j, FX_E_TRANSFER, 0, curl_multi_strerror(mc), now);
		return;
	}
	j->inflight = 1;
	j->group->busy = 1;
	rt_inc(j->group->m_req);
}

/* Completes every finished transfer; returns how many. */
static int
fe_drain(fe_engine *e)
{
	CURLMsg *m;
	int left, n = 0;
	while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		fe_job *j = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (j) {
			fe_done(e, j, m->data.result);
			n++;
		}
	}
	return n;
}

int
fe_step(fe_engine *e, int max_wait_ms)
{
	uint64_t now = rt_mono_ns(), wake = now + (uint64_t)max_wait_ms * 1000000u;
	for (size_t i = 0; i < e->njobs; i++) {
		fe_job *j = &e->jobs[i];
		fe_group *g = j->group;
		if (j->inflight)
			continue;
		if (j->due_ns <= now && !g->busy) { /* a busy source: its request's end wakes the poll */
			uint64_t ok = g->next_ok_ns > g->paused_until ? g->next_ok_ns : g->paused_until;
			if (ok > now) {
				j->due_ns = ok; /* rate limited or paused: wait for the source's slot */
			} else {
				g->next_ok_ns = now + g->min_interval_ns;
				fe_start(e, j, now);
				continue;
			}
		}
		if (j->due_ns < wake && !(j->due_ns <= now && g->busy))
			wake = j->due_ns;
	}
	int running = 0;
	CURLMcode mc = curl_multi_perform(e->multi, &running);
	/* A local answer may be complete already: handle it now, without polling (a source's next
	 * request, e.g. Coinbase's next product, then starts on the next step instead of a timeout later). */
	if (mc == CURLM_OK && fe_drain(e) == 0) {
		long ct = -1;
		curl_multi_timeout(e->multi, &ct);
		uint64_t wait_ms = wake > now ? (wake - now + 999999u) / 1000000u : 0;
		if (ct >= 0 && (uint64_t)ct < wait_ms)
			wait_ms = (uint64_t)ct;
		struct curl_waitfd stop = { .fd = rt_stop_fd(), .events = CURL_WAIT_POLLIN };
		mc = curl_multi_poll(e->multi, stop.fd >= 0 ? &stop : NULL, stop.fd >= 0 ? 1 : 0, (int)wait_ms, NULL);
		if (mc == CURLM_OK)
			mc = curl_multi_perform(e->multi, &running);
		if (mc == CURLM_OK)
			fe_drain(e);
	}
	if (mc != CURLM_OK) {
		rt_logkv(RT_ERROR, "curl multi failed", "err", curl_multi_strerror(mc), NULL);
		return -1;
	}
	return 0;
}

void
fe_free(fe_engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->njobs; i++) {
		fe_job *j = &e->jobs[i];
		if (j->h) {
			if (j->inflight)
				curl_multi_remove_handle(e->multi, j->h);
			curl_easy_cleanup(j->h);
		}
		curl_slist_free_all(j->hdrs);
		free(j->items);
		free(j->url);
	}
	for (size_t g = 0; g < e->ngroups; g++)
		free(e->groups[g].body);
	if (e->multi)
		curl_multi_cleanup(e->multi);
	free(e->jobs);
	free(e->mems);
	free(e->feed_total);
	free(e->feed_down);
	free(e->groups);
	free(e);
	curl_global_cleanup();
}
