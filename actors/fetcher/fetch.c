/* fetch: the multi-source HTTP engine of the fetcher (see fetch.h). */
#include "actors/fetcher/fetch.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

typedef struct {
	char *name;
	uint64_t min_interval_ns;
	uint64_t next_ok_ns; /* rate limit: the earliest start of the next request */
} fe_group;

typedef struct {
	const fc_source *src;
	const fc_feed *feed;
	fe_group *group;
	CURL *h;
	struct curl_slist *hdrs;
	char *body;
	size_t blen, bcap;
	int too_big;
	int inflight;
	int state;        /* FE_UNKNOWN / FE_UP / FE_DOWN after the last round */
	unsigned attempt; /* 0 = first attempt of this round */
	uint64_t interval_ns;
	uint64_t round_ns; /* when this round's first attempt was due */
	uint64_t due_ns;   /* next start (monotonic) */
	uint64_t start_ns; /* this attempt's start */
	rt_metric *m_obs, *m_up, *m_lat, *m_err[FX_NERRS];
} fe_job;

struct fe_engine {
	fe_opts o;
	CURLM *multi;
	fe_job *jobs;
	size_t njobs;
	fe_group *groups;
	size_t ngroups;
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
	if (j->blen + len > j->bcap) {
		j->too_big = 1;
		return 0;
	}
	memcpy(j->body + j->blen, p, len);
	j->blen += len;
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
	if ((j->h = curl_easy_init()) == NULL || (j->body = malloc(e->o.max_body)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	j->bcap = e->o.max_body;
	j->hdrs = curl_slist_append(NULL, "Accept: application/json");
	for (size_t i = 0; i < s->nheaders; i++)
		j->hdrs = curl_slist_append(j->hdrs, s->headers[i]);
	uint64_t cto = e->o.connect_timeout_ms < e->o.timeout_ms ? e->o.connect_timeout_ms : e->o.timeout_ms;
	CURL *h = j->h;
	/* The options that matter: timeouts (total and connect), no signals (threads), only HTTP(S),
	 * no redirects (an API that moves should be reconfigured, not followed), compressed bodies,
	 * TCP keep-alive on pooled connections. */
	if (curl_easy_setopt(h, CURLOPT_URL, s->url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK) {
		snprintf(err, errlen, "source %s: url rejected by libcurl", s->name);
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
	curl_easy_setopt(h, CURLOPT_PRIVATE, j);

	char l[256];
	fe_labels(l, sizeof l, s->name, j->feed->name, NULL);
	j->m_obs = rt_counter("fetcher_observations_total", "Prices fetched, parsed and published.", l);
	j->m_up = rt_gauge("fetcher_up", "1 while the source's last round succeeded, else 0.", l);
	for (int k = FX_E_CONNECT; k < FX_NERRS; k++) {
		char le[300];
		fe_labels(le, sizeof le, s->name, j->feed->name, fx_err_name((fx_err)k));
		j->m_err[k] = rt_counter("fetcher_errors_total", "Failed fetch attempts by reason.", le);
	}
	char ls[96], esc[80];
	rt_label_escape(s->name, esc, sizeof esc);
	snprintf(ls, sizeof ls, "source=\"%s\"", esc);
	static const double bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
	j->m_lat = rt_histogram("fetcher_latency_seconds", "Request start to parsed price, successful fetches.", ls,
	                        bounds, sizeof bounds / sizeof bounds[0]);
	return 0;
}

fe_engine *
fe_new(const fc_config *cfg, const fe_opts *o, fe_obs_fn cb, void *arg, char *err, size_t errlen)
{
	/* TLS is initialised only when a source needs it: OpenSSL's setup alone touches ~3 MiB of
	 * libcrypto pages, most of this process's RSS (measured; see README). */
	long flags = CURL_GLOBAL_NOTHING;
	for (size_t i = 0; i < cfg->nsrcs; i++)
		if (strncmp(cfg->srcs[i].url, "https:", 6) == 0)
			flags = CURL_GLOBAL_DEFAULT;
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
	e->jobs = calloc(cfg->nsrcs, sizeof *e->jobs);
	e->groups = calloc(cfg->nsrcs, sizeof *e->groups);
	e->multi = curl_multi_init();
	if (!e->jobs || !e->groups || !e->multi) {
		snprintf(err, errlen, "out of memory");
		fe_free(e);
		return NULL;
	}
	/* Enough pooled connections for every job to keep its own alive between rounds. */
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)(cfg->nsrcs + 4));
	e->m_retries = rt_counter("fetcher_retries_total", "Attempts retried after a transient failure.", NULL);
	uint64_t now = rt_mono_ns();
	for (size_t i = 0; i < cfg->nsrcs; i++) {
		fe_job *j = &e->jobs[e->njobs++];
		j->src = &cfg->srcs[i];
		j->feed = &cfg->feeds[j->src->feed];
		j->interval_ns = (j->src->interval_ms ? j->src->interval_ms : o->interval_ms) * 1000000u;
		j->due_ns = j->round_ns = now;
		size_t g;
		for (g = 0; g < e->ngroups && strcmp(e->groups[g].name, j->src->name) != 0; g++)
			;
		if (g == e->ngroups)
			e->groups[e->ngroups++].name = (char *)j->src->name;
		uint64_t mi = j->src->min_interval_ms * 1000000u;
		if (mi > e->groups[g].min_interval_ns)
			e->groups[g].min_interval_ns = mi;
		j->group = &e->groups[g];
		if (fe_setup_job(e, j, err, errlen) != 0) {
			fe_free(e);
			return NULL;
		}
	}
	return e;
}

/* Feed health: degraded while every source of the feed is down. */
static void
fe_feed_health(fe_engine *e, const fc_feed *f)
{
	size_t total = 0, down = 0;
	for (size_t i = 0; i < e->njobs; i++)
		if (e->jobs[i].feed == f) {
			total++;
			down += e->jobs[i].state == FE_DOWN;
		}
	char key[48];
	snprintf(key, sizeof key, "feed:%s", f->name);
	rt_health_set(key, total > 0 && down == total, "every source of the feed is failing");
}

static void
fe_set_state(fe_engine *e, fe_job *j, int state, fx_err why, const char *text)
{
	char key[80];
	snprintf(key, sizeof key, "src:%s/%s", j->feed->name, j->src->name);
	rt_gauge_set(j->m_up, state == FE_UP);
	if (rt_log_state_change(key, state == FE_UP ? "up" : fx_err_name(why))) {
		if (state == FE_UP)
			rt_logkv(RT_INFO, "source up", "feed", j->feed->name, "source", j->src->name, NULL);
		else
			rt_logkv(RT_WARN, "source failing", "feed", j->feed->name, "source", j->src->name, "kind",
			         fx_err_name(why), "err", text, NULL);
	}
	int changed = j->state != state;
	j->state = state;
	if (changed)
		fe_feed_health(e, j->feed);
}

static void
fe_next_round(fe_job *j, uint64_t now)
{
	j->attempt = 0;
	j->round_ns += j->interval_ns;
	if (j->round_ns < now) /* fell behind (a long outage): restart the cadence from now */
		j->round_ns = now;
	j->due_ns = j->round_ns;
}

static int
fe_retryable(fx_err k, long status)
{
	return k == FX_E_CONNECT || k == FX_E_TIMEOUT || k == FX_E_TRANSFER ||
	       (k == FX_E_HTTP && (status >= 500 || status == 429));
}

static void
fe_failed(fe_engine *e, fe_job *j, fx_err k, long status, const char *text, uint64_t now)
{
	rt_inc(j->m_err[k]);
	if (fe_retryable(k, status) && j->attempt < e->o.retries) {
		/* Full-range jitter over [d/2, d] keeps replicas from retrying in lockstep. */
		uint64_t d = e->o.backoff_ms * 1000000u << (j->attempt < 20 ? j->attempt : 20);
		d = d / 2 + fe_rand(e) % (d / 2 + 1);
		if (now + d < j->round_ns + j->interval_ns) {
			j->attempt++;
			j->due_ns = now + d;
			rt_inc(e->m_retries);
			rt_logkv(RT_DEBUG, "retrying", "feed", j->feed->name, "source", j->src->name, "err", text,
			         NULL);
			return;
		}
	}
	fe_set_state(e, j, FE_DOWN, k, text);
	fe_next_round(j, now);
}

static void
fe_done(fe_engine *e, fe_job *j, CURLcode rc)
{
	uint64_t now = rt_mono_ns();
	char err[256];
	long status = 0;
	j->inflight = 0;
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
	if (status < 200 || status > 299) {
		snprintf(err, sizeof err, "HTTP %ld", status);
		fe_failed(e, j, FX_E_HTTP, status, err, now);
		return;
	}
	sc_price_obs obs = { 0 };
	int inexact = 0;
	fx_err k = fx_parse(&j->src->spec, j->body, j->blen, &obs.value, &obs.source_ts_ms, &inexact, err, sizeof err);
	if (k == FX_OK &&
	    (k = fx_check_fresh(obs.source_ts_ms, rt_now_ns() / 1000000u, e->o.max_staleness_ms)) != FX_OK)
		snprintf(err, sizeof err, "source time %llu ms is more than MAX_STALENESS from now",
		         (unsigned long long)obs.source_ts_ms);
	if (k != FX_OK) {
		fe_failed(e, j, k, status, err, now);
		return;
	}
	uint64_t end = rt_mono_ns();
	snprintf(obs.feed, sizeof obs.feed, "%s", j->feed->name);
	snprintf(obs.source, sizeof obs.source, "%s", j->src->name);
	obs.decimals = j->feed->decimals;
	obs.fetch_latency_us = (end - j->start_ns) / 1000u;
	obs.observed_at_ns = rt_now_ns();
	if (inexact)
		rt_logkv(RT_DEBUG, "price rounded to the feed's decimals", "feed", obs.feed, "source", obs.source,
		         NULL);
	rt_inc(j->m_obs);
	rt_observe(j->m_lat, (double)(end - j->start_ns) / 1e9);
	fe_set_state(e, j, FE_UP, FX_OK, NULL);
	fe_next_round(j, now);
	e->cb(e->arg, &obs);
}

static void
fe_start(fe_engine *e, fe_job *j, uint64_t now)
{
	j->blen = 0;
	j->too_big = 0;
	j->start_ns = now;
	CURLMcode mc = curl_multi_add_handle(e->multi, j->h);
	if (mc != CURLM_OK) {
		fe_failed(e, j, FX_E_TRANSFER, 0, curl_multi_strerror(mc), now);
		return;
	}
	j->inflight = 1;
}

int
fe_step(fe_engine *e, int max_wait_ms)
{
	uint64_t now = rt_mono_ns(), wake = now + (uint64_t)max_wait_ms * 1000000u;
	for (size_t i = 0; i < e->njobs; i++) {
		fe_job *j = &e->jobs[i];
		if (j->inflight)
			continue;
		if (j->due_ns <= now) {
			if (j->group->next_ok_ns > now) {
				j->due_ns = j->group->next_ok_ns; /* rate limited: wait for the source's slot */
			} else {
				j->group->next_ok_ns = now + j->group->min_interval_ns;
				fe_start(e, j, now);
				continue;
			}
		}
		if (j->due_ns < wake)
			wake = j->due_ns;
	}
	int running = 0;
	CURLMcode mc = curl_multi_perform(e->multi, &running);
	if (mc == CURLM_OK) {
		long ct = -1;
		curl_multi_timeout(e->multi, &ct);
		uint64_t wait_ms = wake > now ? (wake - now + 999999u) / 1000000u : 0;
		if (ct >= 0 && (uint64_t)ct < wait_ms)
			wait_ms = (uint64_t)ct;
		struct curl_waitfd stop = { .fd = rt_stop_fd(), .events = CURL_WAIT_POLLIN };
		mc = curl_multi_poll(e->multi, stop.fd >= 0 ? &stop : NULL, stop.fd >= 0 ? 1 : 0, (int)wait_ms, NULL);
	}
	if (mc == CURLM_OK)
		mc = curl_multi_perform(e->multi, &running);
	if (mc != CURLM_OK) {
		rt_logkv(RT_ERROR, "curl multi failed", "err", curl_multi_strerror(mc), NULL);
		return -1;
	}
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		fe_job *j = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (j)
			fe_done(e, j, m->data.result);
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
		free(j->body);
	}
	if (e->multi)
		curl_multi_cleanup(e->multi);
	free(e->jobs);
	free(e->groups);
	free(e);
	curl_global_cleanup();
}
