/* deliver.c - the per-sink delivery thread; see deliver.h. */
#include "base/hex.h"
#include "actors/alerter/deliver.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"

#define DL_RESP_MAX 4096 /* sinks answer in a few bytes; keep what helps a log line */
#define DL_BATCH    16

static rt_metric *
dl_fail_metric(const dl_sink *d, const char *cls)
{
	char labels[96];
	snprintf(labels, sizeof labels, "sink=\"%s\",class=\"%s\"", d->s->name, cls);
	return rt_counter("alerter_delivery_failures_total", "Failed delivery attempts by sink and class.", labels);
}

int
dl_init(dl_sink *d)
{
	static const double bounds[] = { 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800 };
	static const char *const classes[] = { "network",  "throttled",    "server",  "rejected",
		                               "redirect", "bad_response", "expired", NULL };
	char labels[64];
	snprintf(labels, sizeof labels, "sink=\"%s\"", d->s->name);
	d->m_delivered = rt_counter("alerter_delivered_total", "Events a sink accepted (2xx).", labels);
	d->m_latency = rt_histogram("alerter_delivery_seconds",
	                            "From an event queued to its acceptance by a sink, retries included.", NULL, bounds,
	                            sizeof bounds / sizeof bounds[0]);
	for (int i = 0; classes[i]; i++) /* every series exists from the start: rate() needs a zero */
		dl_fail_metric(d, classes[i]);
	atomic_init(&d->failing, 0);
	if (pthread_mutex_init(&d->mu, NULL) != 0 || pthread_cond_init(&d->cv, NULL) != 0)
		return -1;
	return 0;
}

static size_t
dl_write_cb(char *p, size_t sz, size_t n, void *arg)
{
	rt_buf *b = arg;
	size_t len = sz * n;
	if (b->len < DL_RESP_MAX)
		rt_buf_append(b, p, b->len + len > DL_RESP_MAX ? DL_RESP_MAX - b->len : len);
	return len;
}

static long
dl_curl_post(dl_sink *d, const char *url, const sk_headers *hd, const uint8_t *body, size_t len, rt_buf *resp,
             char *why, size_t whylen)
{
	CURL *c = d->curl;
	struct curl_slist *h = NULL;
	long status = 0;
	if (!c && !(c = d->curl = curl_easy_init())) {
		snprintf(why, whylen, "curl_easy_init failed");
		return 0;
	}
	curl_easy_reset(c); /* keeps the connection cache: keep-alive to the same sink */
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	for (size_t i = 0; i < hd->n; i++)
		h = curl_slist_append(h, hd->h[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "oraclebus-alerter/1");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)d->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(d->timeout_ms < 5000 ? d->timeout_ms : 5000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(why, whylen, "%s", curl_easy_strerror(rc)); /* never the URL: Slack's holds a token */
	curl_slist_free_all(h);
	return status;
}

static void
dl_set_failing(dl_sink *d, int failing, const char *why)
{
	char key[48];
	pthread_mutex_lock(&d->mu);
	if (why)
		snprintf(d->last_error, sizeof d->last_error, "%s", why);
	pthread_mutex_unlock(&d->mu);
	if (atomic_load(&d->failing) == failing)
		return;
	atomic_store(&d->failing, failing);
	snprintf(key, sizeof key, "sink:%s", d->s->name);
	rt_health_set(key, failing, failing ? why : NULL);
	rt_logkv(failing ? RT_ERROR : RT_INFO, failing ? "sink failing" : "sink recovered", "sink", d->s->name, "error",
	         failing && why ? why : "", NULL);
}

void
dl_last_error(dl_sink *d, char *out, size_t cap)
{
	pthread_mutex_lock(&d->mu);
	snprintf(out, cap, "%s", d->last_error);
	pthread_mutex_unlock(&d->mu);
}

/* A short, printable excerpt of a sink's answer for logs. */
static void
dl_excerpt(const rt_buf *b, char *out, size_t cap)
{
	size_t j = 0;
	for (size_t i = 0; i < b->len && j + 1 < cap && i < 120; i++)
		out[j++] = b->data[i] >= 0x20 && b->data[i] < 0x7f ? (char)b->data[i] : '.';
	out[j] = '\0';
}

int
dl_step(dl_sink *d, uint64_t now_ns, uint64_t *next_ns)
{
	al_item items[DL_BATCH];
	st_err err;
	int delivered = 0;
	uint64_t pending, due, not_before = 0;
	*next_ns = now_ns + 1000000000ull;
	if (now_ns < d->pause_until_ns) {
		*next_ns = d->pause_until_ns;
		return 0;
	}
	long n = al_due(d->e, d->i, now_ns, items, DL_BATCH, &err);
	if (n < 0) {
		rt_logkv(RT_ERROR, "outbox read failed", "sink", d->s->name, "error", err.text, NULL);
		return 0;
	}
	for (long j = 0; j < n; j++) {
		al_item *it = &items[j];
		char hex[2 * OB_ID_LEN + 1], why[200] = "", ex[128];
		uint64_t wait, backoff;
		rt_buf wire = RT_BUF_INIT, resp = RT_BUF_INIT;
		sk_headers hd = { .n = 0 };
		hex_encode(it->id, OB_ID_LEN, 0, hex);
		if (d->max_age_ns && now_ns > it->created_ns && now_ns - it->created_ns > d->max_age_ns) {
			rt_inc(dl_fail_metric(d, "expired"));
			rt_logkv(RT_ERROR, "event expired undelivered", "sink", d->s->name, "key", it->key, "event",
			         hex, NULL);
			al_done(d->e, d->i, it->id, SK_PERMANENT, "expired", now_ns, NULL, &err);
			continue;
		}
		if (!gp_take(&d->bucket, now_ns, d->rate_per_min, &wait)) {
			/* SINK_RATE_LIMIT: the rest waits in the outbox until the next token, whatever is due */
			*next_ns = not_before = now_ns + wait;
			break;
		}
		if (d->s->ops->finalize(d->s, it->body, it->len, now_ns / 1000000000u, hex, &wire, &hd) != 0) {
			rt_buf_free(&wire);
			break;
		}
		long status = d->post ? d->post(d->ctx, d->s->url, &hd, wire.data, wire.len, &resp, why, sizeof why)
		                      : dl_curl_post(d, d->s->url, &hd, wire.data, wire.len, &resp, why, sizeof why);
		explicit_bzero(wire.data, wire.len); /* PagerDuty's holds the routing key */
		rt_buf_free(&wire);
		sk_result r = d->s->ops->classify(status, resp.data ? (const char *)resp.data : "", resp.len);
		uint64_t done_ns = rt_now_ns() > now_ns ? rt_now_ns() : now_ns;
		dl_excerpt(&resp, ex, sizeof ex);
		rt_buf_free(&resp);
		if (status)
			snprintf(why, sizeof why, "HTTP %ld %s", status, ex);
		if (r.verdict == SK_OK) {
			if (al_done(d->e, d->i, it->id, SK_OK, NULL, done_ns, NULL, &err) != 0)
				rt_logkv(RT_ERROR, "outbox ack failed", "sink", d->s->name, "error", err.text, NULL);
			rt_inc(d->m_delivered);
			rt_observe(d->m_latency,
			           (double)(done_ns - (it->created_ns < done_ns ? it->created_ns : done_ns)) / 1e9);
			rt_logkv(RT_DEBUG, "delivered", "sink", d->s->name, "key", it->key, "event", hex, NULL);
			d->consecutive = 0;
			dl_set_failing(d, 0, NULL);
			delivered++;
			continue;
		}
		rt_inc(dl_fail_metric(d, r.cls));
		d->consecutive++;
		if (r.verdict == SK_PERMANENT) {
			/* the sink refused this event for good (a bad payload or key): retrying cannot help */
			rt_logkv(RT_ERROR, "sink refused event, dropped", "sink", d->s->name, "key", it->key, "event",
			         hex, "class", r.cls, "answer", why, NULL);
			al_done(d->e, d->i, it->id, SK_PERMANENT, why, done_ns, NULL, &err);
		} else {
			al_done(d->e, d->i, it->id, SK_RETRY, why, done_ns, &backoff, &err);
			if (rt_log_state_change(d->s->name, r.cls))
				rt_logkv(RT_WARN, "delivery failed, will retry", "sink", d->s->name, "key", it->key,
				         "class", r.cls, "error", why, NULL);
			d->pause_until_ns = done_ns + (backoff ? backoff : 1000000000ull);
		}
		if (d->consecutive >= d->fail_after)
			dl_set_failing(d, 1, why);
		if (r.verdict == SK_RETRY) {
			*next_ns = d->pause_until_ns;
			break;
		}
	}
	al_items_free(items, (size_t)n);
	if (now_ns >= d->pause_until_ns && al_pending(d->e, d->i, &pending, &due, &err) == 0 && due < *next_ns)
		*next_ns = due;
	if (*next_ns < d->pause_until_ns)
		*next_ns = d->pause_until_ns;
	/* entries due but held by the rate limit must not pull the next pass before the token: the
	 * thread would spin on al_due (a full core) for as long as the outbox is over the limit */
	if (*next_ns < not_before)
		*next_ns = not_before;
	return delivered;
}

static void *
dl_main(void *arg)
{
	dl_sink *d = arg;
	pthread_mutex_lock(&d->mu);
	while (!d->stop) {
		d->kick = 0;
		pthread_mutex_unlock(&d->mu);
		uint64_t next, now = rt_now_ns();
		dl_step(d, now, &next);
		pthread_mutex_lock(&d->mu);
		if (d->kick || d->stop)
			continue;
		now = rt_now_ns();
		if (next > now + 1000000000ull)
			next = now + 1000000000ull; /* also re-check for clock steps and removed entries */
		if (next > now) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			uint64_t abs = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + (next - now);
			ts.tv_sec = (time_t)(abs / 1000000000ull);
			ts.tv_nsec = (long)(abs % 1000000000ull);
			while (!d->kick && !d->stop && pthread_cond_timedwait(&d->cv, &d->mu, &ts) == 0)
				;
		}
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

int
dl_start(dl_sink *d)
{
	if (pthread_create(&d->th, NULL, dl_main, d) != 0)
		return -1;
	d->started = 1;
	return 0;
}

void
dl_kick(dl_sink *d)
{
	pthread_mutex_lock(&d->mu);
	d->kick = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void
dl_stop(dl_sink *d)
{
	if (!d->started)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->th, NULL);
	d->started = 0;
}

void
dl_fini(dl_sink *d)
{
	dl_stop(d);
	if (d->curl)
		curl_easy_cleanup(d->curl);
	d->curl = NULL;
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
}
