/* rpc.c - Ethereum JSON-RPC over libcurl with endpoint failover and chain-id verification.
 *
 * One curl easy handle per endpoint, reused for every call, so the connection stays alive
 * between calls (a node answers in well under a millisecond on loopback; a new TCP connection
 * per call would dominate). The response body is collected into a growing buffer that refuses
 * to grow past max_response: a misbehaving or hostile endpoint cannot make us allocate more.
 * See rpc.h for the failover rules. */
#include "chain/rpc.h"

#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_metrics.h"
#include "base/hex.h"

#define RPC_URL_CAP 512

typedef struct {
	char url[RPC_URL_CAP];
	char name[128]; /* scheme://host:port */
	CURL *h;
	int verified;         /* answered eth_chainId == expected since last marked down */
	uint64_t verified_at; /* monotonic ns of that answer (periodic re-check) */
	int wrong_chain;
	uint64_t down_until; /* monotonic ns; 0 = not down */
	rt_metric *err_m[RPC_T_NO_ENDPOINT + 1];
} rpc_ep;

struct rpc {
	rpc_ep ep[RPC_MAX_ENDPOINTS];
	size_t n;
	uint64_t chain_id;
	int timeout_ms;
	int recheck_ms;
	int chain_check_ms; /* re-ask eth_chainId of an endpoint in use this often; 0 = never */
	size_t max_response;
	long long next_id;
	int active;
	struct curl_slist *headers;
	char *buf; /* response body of the call in flight */
	size_t len, cap;
	int too_big;
};

/* ---- metrics ------------------------------------------------------------------------------- */
static const char *const rpc_kind_names[] = {
	[RPC_T_NONE] = "node",
	[RPC_T_CONNECT] = "connect",
	[RPC_T_TIMEOUT] = "timeout",
	[RPC_T_HTTP] = "http",
	[RPC_T_TOO_BIG] = "too_big",
	[RPC_T_DECODE] = "decode",
	[RPC_T_WRONG_CHAIN] = "wrong_chain",
	[RPC_T_NO_ENDPOINT] = "no_endpoint",
};

static rt_metric *rpc_latency_m;

static void
rpc_metrics_once(void)
{
	static const double b[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
	rpc_latency_m = rt_histogram("rpc_latency_seconds", "JSON-RPC round trip time of successful calls.", NULL, b,
	                             sizeof b / sizeof b[0]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static pthread_once_t rpc_once = PTHREAD_ONCE_INIT;

/* Small cache of per-method counters: a handful of methods, looked up by pointer then name. */
static struct {
	char name[48];
	rt_metric *m;
} rpc_method_m[32];
static pthread_mutex_t rpc_method_mu = PTHREAD_MUTEX_INITIALIZER;

static void
rpc_count_method(const char *method)
{
	rt_metric *m = NULL;
	pthread_mutex_lock(&rpc_method_mu);
	for (size_t i = 0; i < sizeof rpc_method_m / sizeof rpc_method_m[0]; i++) {
		if (rpc_method_m[i].m && strcmp(rpc_method_m[i].name, method) == 0) {
			m = rpc_method_m[i].m;
			break;
		}
		if (!rpc_method_m[i].m) {
			char esc[96], lab[128];
			rt_label_escape(method, esc, sizeof esc);
			snprintf(lab, sizeof lab, "method=\"%s\"", esc);
			m = rt_counter("rpc_requests_total", "JSON-RPC requests sent, by method.", lab);
			snprintf(rpc_method_m[i].name, sizeof rpc_method_m[i].name, "%s", method);
			rpc_method_m[i].m = m;
			break;
		}
	}
	pthread_mutex_unlock(&rpc_method_mu);
	rt_inc(m);
}

static void
rpc_count_error(rpc_ep *ep, int kind)
{
	if (!ep->err_m[kind]) {
		char esc[160], lab[256];
		rt_label_escape(ep->name, esc, sizeof esc);
		snprintf(lab, sizeof lab, "endpoint=\"%s\",kind=\"%s\"", esc, rpc_kind_names[kind]);
		ep->err_m[kind] = rt_counter("rpc_errors_total", "JSON-RPC failures by endpoint and kind.", lab);
	}
	rt_inc(ep->err_m[kind]);
}

static uint64_t
rpc_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
rpc_seterr(rpc_error *e, int transport, int code, const char *fmt, ...)
{
	if (!e)
		return;
	e->transport = transport;
	e->code = code;
	e->data[0] = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

/* ---- transport ----------------------------------------------------------------------------- */
static size_t
rpc_write_cb(char *p, size_t sz, size_t nm, void *arg)
{
	rpc *r = arg;
	size_t n = sz * nm;
	if (r->len + n > r->max_response) {
		r->too_big = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (r->len + n + 1 > r->cap) {
		size_t nc = r->cap ? r->cap : 4096;
		while (nc < r->len + n + 1)
			nc *= 2;
		char *nb = realloc(r->buf, nc);
		if (!nb)
			return 0;
		r->buf = nb, r->cap = nc;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = 0;
	return n;
}

/* scheme://host[:port] from a URL, dropping userinfo, path and query. */
static void
rpc_url_name(const char *url, char *out, size_t cap)
{
	const char *s = strstr(url, "://");
	const char *h = s ? s + 3 : url;
	const char *end = h + strcspn(h, "/?#");
	const char *at = memchr(h, '@', (size_t)(end - h));
	if (at)
		h = at + 1;
	char tmp[RPC_URL_CAP];
	snprintf(tmp, sizeof tmp, "%.*s%.*s", s ? (int)(s + 3 - url) : 0, url, (int)(end - h), h);
	size_t n = strnlen(tmp, cap - 1);
	memcpy(out, tmp, n);
	out[n] = 0;
}

/* One HTTP exchange with one endpoint. RPC_OK / RPC_ENODE / RPC_ETRANSPORT (e->transport set). */
/* Where a call's answer goes: a jansson tree (result), or the raw body (body/len/raw). */
/* A batch: calls (each answer in its own rc/result/e). */
typedef struct {
	json_t **result;
	char **body;
	size_t *len;
	js_val *raw;
	rpc_batch_call *calls;
	size_t ncalls;
} rpc_out;

static json_t *
rpc_request(long long id, const char *method, json_t *params)
{
	return json_pack("{s:s, s:I, s:s, s:O}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method, "params",
	                 params);
}

/* The request body: one object, or for a batch an array of them with the ids id..id+n-1 in the
 * calls' order. NULL when out of memory. */
static char *
rpc_encode(long long id, const char *method, json_t *params, const rpc_out *o)
{
	json_t *req;
	if (!o->calls) {
		req = rpc_request(id, method, params);
		rpc_count_method(method);
	} else {
		req = json_array();
		for (size_t i = 0; req && i < o->ncalls; i++) {
			json_t *c = rpc_request(id + (long long)i, o->calls[i].method, o->calls[i].params);
			if (!c || json_array_append_new(req, c) != 0) {
				json_decref(req);
				req = NULL;
			}
		}
		for (size_t i = 0; req && i < o->ncalls; i++)
			rpc_count_method(o->calls[i].method);
	}
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	return body;
}

static void rpc_discard(const rpc_out *o);

static int
rpc_exchange(rpc *r, rpc_ep *ep, const char *method, json_t *params, const rpc_out *o, rpc_error *e)
{
	long long id = r->next_id + 1;
	r->next_id += o->calls ? (long long)o->ncalls : 1;
	char *body = rpc_encode(id, method, params, o);
	if (!body) {
		rpc_seterr(e, RPC_T_DECODE, 0, "cannot encode request");
		return RPC_ETRANSPORT;
	}
	r->len = 0;
	r->too_big = 0;
	curl_easy_setopt(ep->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(ep->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	uint64_t t0 = rpc_mono_ns();
	CURLcode cc = curl_easy_perform(ep->h);
	free(body);
	curl_easy_setopt(ep->h, CURLOPT_POSTFIELDS, NULL);
	if (cc != CURLE_OK) {
		int kind = r->too_big || cc == CURLE_FILESIZE_EXCEEDED                       ? RPC_T_TOO_BIG
		           : cc == CURLE_OPERATION_TIMEDOUT                                  ? RPC_T_TIMEOUT
		           : cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ? RPC_T_CONNECT
		                                                                             : RPC_T_HTTP;
		if (kind == RPC_T_TOO_BIG)
			rpc_seterr(e, kind, 0, "%s: response larger than %zu bytes", ep->name, r->max_response);
		else
			rpc_seterr(e, kind, 0, "%s: %s", ep->name, curl_easy_strerror(cc));
		rpc_count_error(ep, kind);
		return RPC_ETRANSPORT;
	}
	long status = 0;
	curl_easy_getinfo(ep->h, CURLINFO_RESPONSE_CODE, &status);
	/* Some nodes and proxies answer JSON-RPC errors with a 4xx/5xx status and a JSON-RPC body:
	 * that is the node speaking. A non-2xx without one (429, 502 from a proxy) is a transport
	 * failure of this endpoint. */
	int rc = o->calls    ? rpc_parse_batch(r->buf ? r->buf : "", r->len, id, o->calls, o->ncalls, e)
	         : o->result ? rpc_parse_response(r->buf ? r->buf : "", r->len, id, o->result, e)
	                     : rpc_parse_response_raw(r->buf ? r->buf : "", r->len, id, o->raw, e);
	if (rc == RPC_ENODE || rc == RPC_ENOBATCH) {
		rpc_count_error(ep, RPC_T_NONE);
		return rc;
	}
	if (rc == RPC_OK && o->calls)
		for (size_t i = 0; i < o->ncalls; i++)
			if (o->calls[i].rc == RPC_ENODE)
				rpc_count_error(ep, RPC_T_NONE);
	if (rc == RPC_OK && status >= 200 && status < 300) {
		rt_observe(rpc_latency_m, (double)(rpc_mono_ns() - t0) / 1e9);
		if (o->body) { /* hand the buffer over: no copy of a large answer */
			*o->body = r->buf;
			*o->len = r->len;
			r->buf = NULL;
			r->len = r->cap = 0;
		}
		return RPC_OK;
	}
	if (rc == RPC_OK)
		rpc_discard(o);
	int kind = status >= 200 && status < 300 ? RPC_T_DECODE : RPC_T_HTTP;
	if (kind == RPC_T_HTTP)
		rpc_seterr(e, kind, (int)status, "%s: HTTP status %ld", ep->name, status);
	else {
		char m[sizeof e->msg];
		snprintf(m, sizeof m, "%s", e ? e->msg : "");
		rpc_seterr(e, kind, 0, "%s: %s", ep->name, m);
	}
	rpc_count_error(ep, kind);
	return RPC_ETRANSPORT;
}

static void
rpc_mark_down(rpc *r, rpc_ep *ep, const rpc_error *e)
{
	ep->down_until = rpc_mono_ns() + (uint64_t)r->recheck_ms * 1000000u;
	ep->verified = 0;
	char key[160];
	snprintf(key, sizeof key, "rpc:%s", ep->name);
	if (rt_log_state_change(key, "down"))
		rt_logkv(RT_WARN, "rpc endpoint down", "endpoint", ep->name, "err", e ? e->msg : "", NULL);
}

/* eth_chainId against the expected (or learned) chain. RPC_OK, or RPC_ETRANSPORT with e set. */
static int
rpc_verify(rpc *r, rpc_ep *ep, rpc_error *e)
{
	json_t *res = NULL, *params = json_array();
	rpc_out o = { &res, NULL, NULL, NULL, NULL, 0 };
	int rc = rpc_exchange(r, ep, "eth_chainId", params, &o, e);
	json_decref(params);
	if (rc == RPC_ENODE) {
		/* A node that cannot tell its chain id cannot be trusted with transactions. */
		rpc_seterr(e, RPC_T_WRONG_CHAIN, e ? e->code : 0, "%s: eth_chainId failed", ep->name);
		rpc_count_error(ep, RPC_T_WRONG_CHAIN);
		return RPC_ETRANSPORT;
	}
	if (rc != RPC_OK)
		return rc;
	uint64_t id;
	int ok = rpc_parse_u64(res, &id) == 0;
	json_decref(res);
	if (!ok) {
		rpc_seterr(e, RPC_T_DECODE, 0, "%s: eth_chainId answer is not a quantity", ep->name);
		rpc_count_error(ep, RPC_T_DECODE);
		return RPC_ETRANSPORT;
	}
	if (r->chain_id == 0)
		r->chain_id = id;
	if (id != r->chain_id) {
		char want[24], got[24], key[160];
		snprintf(want, sizeof want, "%llu", (unsigned long long)r->chain_id);
		snprintf(got, sizeof got, "%llu", (unsigned long long)id);
		snprintf(key, sizeof key, "rpc:%s", ep->name);
		if (rt_log_state_change(key, "wrong_chain"))
			rt_logkv(RT_ERROR, "rpc endpoint is on another chain; not used", "endpoint", ep->name,
			         "expected", want, "got", got, NULL);
		rpc_seterr(e, RPC_T_WRONG_CHAIN, 0, "%s: chain id %s, expected %s", ep->name, got, want);
		rpc_count_error(ep, RPC_T_WRONG_CHAIN);
		ep->wrong_chain = 1;
		ep->verified = 0;
		char hkey[160], text[300];
		snprintf(hkey, sizeof hkey, "rpc_chain:%s", ep->name);
		snprintf(text, sizeof text, "rpc endpoint %s is on chain %s, expected %s: not used", ep->name, got,
		         want);
		rt_health_set(hkey, 1, text);
		return RPC_ETRANSPORT;
	}
	if (ep->wrong_chain) {
		char hkey[160];
		snprintf(hkey, sizeof hkey, "rpc_chain:%s", ep->name);
		rt_health_set(hkey, 0, NULL);
	}
	ep->wrong_chain = 0;
	ep->verified = 1;
	ep->verified_at = rpc_mono_ns();
	char key[160];
	snprintf(key, sizeof key, "rpc:%s", ep->name);
	if (rt_log_state_change(key, "up"))
		rt_logkv(RT_INFO, "rpc endpoint up", "endpoint", ep->name, NULL);
	return RPC_OK;
}

/* Drops the answer of a call whose endpoint turned out to be on another chain. */
static void
rpc_discard(const rpc_out *o)
{
	if (o->result) {
		json_decref(*o->result);
		*o->result = NULL;
	}
	if (o->body) {
		free(*o->body);
		*o->body = NULL;
		*o->len = 0;
	}
	if (o->raw) {
		o->raw->type = JS_NONE;
		o->raw->p = NULL;
		o->raw->n = 0;
	}
	for (size_t i = 0; o->calls && i < o->ncalls; i++) {
		json_decref(o->calls[i].result);
		o->calls[i].result = NULL;
		o->calls[i].rc = RPC_EDECODE;
	}
}

/* Did the last transfer on ep open a new TCP connection? Behind the same URL there may now be
 * another node (a restarted one, a load balancer's other backend): its chain is checked again. */
static int
rpc_new_connection(rpc_ep *ep)
{
	long n = 0;
	return curl_easy_getinfo(ep->h, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK && n > 0;
}

/* Verify if needed, then call. Transport failures mark the endpoint down.
 * The chain id is asked before an endpoint's first use and again after it was marked down (a
 * transport error, a failover), every chain_check_ms while in use, and after any call that
 * libcurl had to make over a new connection: there the answer is kept only if the endpoint is
 * still on the expected chain. An endpoint on another chain is refused (failover to the next). */
static int
rpc_try(rpc *r, size_t i, const char *method, json_t *params, const rpc_out *o, rpc_error *e)
{
	rpc_ep *ep = &r->ep[i];
	int rc = RPC_OK;
	if (!ep->verified ||
	    (r->chain_check_ms && rpc_mono_ns() - ep->verified_at >= (uint64_t)r->chain_check_ms * 1000000u))
		rc = rpc_verify(r, ep, e);
	if (rc == RPC_OK) {
		rc = rpc_exchange(r, ep, method, params, o, e);
		if (rc != RPC_ETRANSPORT && rpc_new_connection(ep)) {
			rpc_error ve;
			if (rpc_verify(r, ep, &ve) != RPC_OK) {
				if (rc == RPC_OK)
					rpc_discard(o);
				if (e)
					*e = ve;
				rc = RPC_ETRANSPORT;
			}
		}
	}
	if (rc == RPC_ETRANSPORT)
		rpc_mark_down(r, ep, e);
	else {
		ep->down_until = 0;
		r->active = (int)i;
	}
	return rc;
}

static int
rpc_call_out(rpc *r, const char *method, json_t *params, const rpc_out *o, rpc_error *e)
{
	rpc_error tmp;
	if (!e)
		e = &tmp;
	if (!params)
		params = json_array();
	if (!params) {
		rpc_seterr(e, RPC_T_DECODE, 0, "out of memory");
		return RPC_ETRANSPORT;
	}
	int rc = RPC_ETRANSPORT, tried = 0;
	uint64_t now = rpc_mono_ns();
	rpc_seterr(e, RPC_T_NO_ENDPOINT, 0, "no usable rpc endpoint");
	for (size_t i = 0; i < r->n && rc == RPC_ETRANSPORT; i++) {
		if (r->ep[i].down_until > now)
			continue;
		tried = 1;
		rc = rpc_try(r, i, method, params, o, e);
	}
	/* Everything is marked down: try each once anyway, so a recovery is seen now. */
	for (size_t i = 0; !tried && i < r->n && rc == RPC_ETRANSPORT; i++)
		rc = rpc_try(r, i, method, params, o, e);
	if (rc == RPC_ETRANSPORT)
		r->active = -1;
	json_decref(params);
	return rc;
}

int
rpc_call(rpc *r, const char *method, json_t *params, json_t **result, rpc_error *e)
{
	rpc_out o = { result, NULL, NULL, NULL, NULL, 0 };
	*result = NULL;
	return rpc_call_out(r, method, params, &o, e);
}

int
rpc_call_batch(rpc *r, rpc_batch_call *calls, size_t n, rpc_error *e)
{
	rpc_error tmp;
	if (!e)
		e = &tmp;
	for (size_t i = 0; i < n; i++) {
		calls[i].result = NULL;
		calls[i].rc = RPC_EDECODE;
	}
	int rc;
	if (n == 0 || n > RPC_BATCH_MAX) {
		rpc_seterr(e, RPC_T_DECODE, 0, "batch of %zu calls: outside 1..%d", n, RPC_BATCH_MAX);
		rc = RPC_EDECODE;
	} else {
		for (size_t i = 0; i < n; i++)
			if (!calls[i].params)
				calls[i].params = json_array();
		rpc_out o = { NULL, NULL, NULL, NULL, calls, n };
		/* the method passed down only names the batch in failover logs; params is unused */
		rc = rpc_call_out(r, "batch", json_array(), &o, e);
	}
	if (rc != RPC_OK)
		for (size_t i = 0; i < n; i++) {
			calls[i].rc = rc;
			calls[i].e = *e;
		}
	for (size_t i = 0; i < n; i++) {
		json_decref(calls[i].params);
		calls[i].params = NULL;
	}
	return rc;
}

int
rpc_call_raw(rpc *r, const char *method, json_t *params, char **body, size_t *len, js_val *result, rpc_error *e)
{
	rpc_out o = { NULL, body, len, result, NULL, 0 };
	*body = NULL;
	*len = 0;
	int rc = rpc_call_out(r, method, params, &o, e);
	if (rc != RPC_OK) {
		result->type = JS_NONE;
		result->p = NULL;
		result->n = 0;
	}
	return rc;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */
rpc *
rpc_open(const char *urls, uint64_t expect_chain_id, int timeout_ms, char *err, size_t errlen)
{
	pthread_once(&rpc_once, rpc_metrics_once);
	rpc *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->chain_id = expect_chain_id;
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	r->recheck_ms = 10000;
	r->chain_check_ms = RPC_CHAIN_CHECK_MS_DEFAULT;
	r->max_response = RPC_MAX_RESPONSE_DEFAULT;
	r->active = -1;
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	const char *p = urls ? urls : "";
	while (*p) {
		size_t l = strcspn(p, ",");
		const char *s = p;
		size_t sl = l;
		while (sl && (*s == ' ' || *s == '\t'))
			s++, sl--;
		while (sl && (s[sl - 1] == ' ' || s[sl - 1] == '\t'))
			sl--;
		p += l + (p[l] == ',');
		if (!sl)
			continue;
		if (r->n == RPC_MAX_ENDPOINTS || sl >= RPC_URL_CAP ||
		    (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)) {
			snprintf(err, errlen,
			         "rpc url %zu: must be http:// or https://, at most %d of them, each under %d bytes",
			         r->n + 1, RPC_MAX_ENDPOINTS, RPC_URL_CAP);
			rpc_close(r);
			return NULL;
		}
		rpc_ep *ep = &r->ep[r->n++];
		memcpy(ep->url, s, sl);
		ep->url[sl] = 0;
		rpc_url_name(ep->url, ep->name, sizeof ep->name);
		ep->h = curl_easy_init();
		if (!ep->h || !r->headers) {
			snprintf(err, errlen, "cannot initialise libcurl");
			rpc_close(r);
			return NULL;
		}
		CURL *h = ep->h;
		curl_easy_setopt(h, CURLOPT_URL, ep->url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, rpc_write_cb);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)r->timeout_ms);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_response);
	}
	if (r->n == 0) {
		snprintf(err, errlen, "no rpc url given");
		rpc_close(r);
		return NULL;
	}
	size_t wrong = 0;
	for (size_t i = 0; i < r->n; i++) {
		rpc_error e;
		if (rpc_verify(r, &r->ep[i], &e) != RPC_OK) {
			wrong += r->ep[i].wrong_chain;
			rpc_mark_down(r, &r->ep[i], &e);
		}
	}
	if (wrong == r->n) {
		snprintf(err, errlen, "every rpc endpoint is on another chain than %llu",
		         (unsigned long long)r->chain_id);
		rpc_close(r);
		return NULL;
	}
	return r;
}

void
rpc_close(rpc *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->ep[i].h)
			curl_easy_cleanup(r->ep[i].h);
	curl_slist_free_all(r->headers);
	free(r->buf);
	free(r);
}

void
rpc_set_recheck_ms(rpc *r, int ms)
{
	r->recheck_ms = ms > 0 ? ms : 0;
}
void
rpc_set_chain_check_ms(rpc *r, int ms)
{
	r->chain_check_ms = ms > 0 ? ms : 0;
}

void
rpc_set_max_response(rpc *r, size_t bytes)
{
	r->max_response = bytes;
	for (size_t i = 0; i < r->n; i++)
		curl_easy_setopt(r->ep[i].h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)bytes);
}

uint64_t
rpc_chain_id(const rpc *r)
{
	return r->chain_id;
}
size_t
rpc_endpoint_count(const rpc *r)
{
	return r->n;
}
const char *
rpc_endpoint_name(const rpc *r, size_t i)
{
	return i < r->n ? r->ep[i].name : "";
}
int
rpc_active(const rpc *r)
{
	return r->active;
}

int
rpc_endpoint_up(const rpc *r, size_t i)
{
	return i < r->n && r->ep[i].verified && r->ep[i].down_until <= rpc_mono_ns();
}
