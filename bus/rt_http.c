/* rt_http: HTTP server on NNG's supplemental HTTP framework (see rt_http.h).
 *
 * Every route, the built-in /health and /metrics included, is an rt_http_fn in one table, and one
 * NNG callback adapts them: it splits the URI into path and query, runs the function, and copies
 * the rt_buf into an NNG response. The table is fixed-size (no allocation per route beyond NNG's
 * handler) because actors have a handful of routes. */
#include "bus/rt_http.h"
#include "bus/rt_log.h"
#include "bus/rt_metrics.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTH_MAX_ROUTES 32

typedef struct {
	char             *method;
	char             *path;
	int               prefix;
	rt_http_fn        fn;
	void             *arg;
	size_t            body_max;
	nng_http_handler *h; /* owned by the server once added */
} rth_route;

static pthread_mutex_t  rth_mu = PTHREAD_MUTEX_INITIALIZER;
static rth_route        rth_routes[RTH_MAX_ROUTES];
static size_t           rth_nroutes;
static nng_http_server *rth_server;
static int              rth_port;
static size_t           rth_body_max = RT_HTTP_BODY_MAX_DEFAULT;
/* The request being handled on this thread, for rt_http_req_header. */
static __thread nng_http_req *rth_cur_req;

static int rth_metrics(void *arg, const char *method, const char *path, const char *query,
                       const uint8_t *body, size_t blen, rt_buf *out, const char **ctype)
{
	size_t len;
	char *text = rt_metrics_text(&len);
	if (text == NULL)
		return 500;
	*ctype = "text/plain; version=0.0.4; charset=utf-8";
	rt_buf_append(out, text, len);
	free(text);
	return 200;
}

static int rth_health(void *arg, const char *method, const char *path, const char *query,
                      const uint8_t *body, size_t blen, rt_buf *out, const char **ctype)
{
	*ctype = "application/json";
	return rt_health_json(out);
}

/* Reads the request body ourselves (NNG's own collection answers an oversized body with 400 and
 * only after reading it): a Content-Length above the route's limit is answered 413 before one byte
 * of the body is read. Returns 0 with *body (malloc'd, or NULL when empty) or an HTTP status. */
static int rth_read_body(nng_aio *aio, nng_http_req *req, const rth_route *r, void **body, size_t *blen)
{
	const char *cl = nng_http_req_get_header(req, "Content-Length");
	*body = NULL;
	*blen = 0;
	if (nng_http_req_get_header(req, "Transfer-Encoding") != NULL)
		return 411; /* NNG's server does not decode chunked bodies: ask for a length */
	if (cl == NULL)
		return 0;
	unsigned long long n = 0;
	size_t             i = 0;
	for (; cl[i] >= '0' && cl[i] <= '9' && i < 19; i++)
		n = n * 10 + (unsigned)(cl[i] - '0');
	if (i == 0 || cl[i] != '\0')
		return 400;
	pthread_mutex_lock(&rth_mu);
	size_t max = r->body_max;
	pthread_mutex_unlock(&rth_mu);
	if (n > max)
		return 413;
	if (n == 0)
		return 0;
	nng_aio *ra;
	nng_iov  iov;
	if ((iov.iov_buf = malloc((size_t)n)) == NULL)
		return 503;
	iov.iov_len = (size_t)n;
	if (nng_aio_alloc(&ra, NULL, NULL) != 0) {
		free(iov.iov_buf);
		return 503;
	}
	nng_aio_set_timeout(ra, 30000);
	nng_aio_set_iov(ra, 1, &iov);
	nng_http_conn_read_all(nng_aio_get_input(aio, 2), ra);
	nng_aio_wait(ra);
	int rv = nng_aio_result(ra);
	nng_aio_free(ra);
	if (rv != 0) {
		free(iov.iov_buf);
		return -1; /* the connection is gone or stalled: drop it */
	}
	*body = iov.iov_buf;
	*blen = (size_t)n;
	return 0;
}

static void rth_cb(nng_aio *aio)
{
	nng_http_req     *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	const rth_route  *r = nng_http_handler_get_data(h);
	nng_http_res     *res;
	void             *body = NULL;
	size_t            blen = 0;

	int status = rth_read_body(aio, req, r, &body, &blen);
	if (status < 0) {
		nng_aio_finish(aio, NNG_ECLOSED);
		return;
	}
	char *uri = strdup(nng_http_req_get_uri(req));
	if (uri == NULL || nng_http_res_alloc(&res) != 0) {
		free(uri);
		free(body);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	char *query = strchr(uri, '?');
	if (query)
		*query++ = '\0';

	rt_buf      out = RT_BUF_INIT;
	const char *ctype = "application/json";
	if (status == 0) {
		rth_cur_req = req;
		status = r->fn(r->arg, nng_http_req_get_method(req), uri, query ? query : "",
		               blen ? body : NULL, blen, &out, &ctype);
		rth_cur_req = NULL;
	} else {
		/* Refused before reading the body: the unread bytes make the connection unusable. */
		char lab[24];
		snprintf(lab, sizeof lab, "status=\"%d\"", status);
		rt_inc(rt_counter("http_refused_total", "HTTP requests refused before their handler ran (413 body "
		                  "too large, 411 chunked, 400 bad Content-Length).", lab));
		rt_buf_printf(&out, "{\"error\":\"%s\"}", status == 413 ? "request body too large" :
		              status == 411 ? "Content-Length required" : "bad request");
		nng_http_res_set_header(res, "Connection", "close");
	}
	free(body);
	if (out.oom) {
		status = 500;
		rt_buf_reset(&out);
	}
	if (status < 100 || status > 599)
		status = 500;
	nng_http_res_set_status(res, (uint16_t)status);
	nng_http_res_set_header(res, "Content-Type", ctype);
	nng_http_res_set_header(res, "Cache-Control", "no-store");
	if (nng_http_res_copy_data(res, out.data ? (void *)out.data : (void *)"", out.len) != 0) {
		nng_http_res_free(res);
		rt_buf_free(&out);
		free(uri);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	rt_buf_free(&out);
	free(uri);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

/* Creates the NNG handler for r and adds it to the running server. Caller holds rth_mu. */
static int rth_attach(rth_route *r)
{
	nng_http_handler *h;
	int rv = nng_http_handler_alloc(&h, r->path, rth_cb);
	if (rv == 0 && (rv = nng_http_handler_set_method(h, r->method)) == 0 &&
	    (rv = nng_http_handler_collect_body(h, false, 0)) == 0 &&
	    (rv = nng_http_handler_set_data(h, r, NULL)) == 0 &&
	    (!r->prefix || (rv = nng_http_handler_set_tree(h)) == 0) &&
	    (rv = nng_http_server_add_handler(rth_server, h)) == 0) {
		r->h = h;
		return 0;
	}
	if (h && rv != 0)
		nng_http_handler_free(h);
	rt_logkv(RT_ERROR, "http route failed", "path", r->path, "err", nng_strerror(rv), NULL);
	return -1;
}

const char *rt_http_req_header(const char *name)
{
	return rth_cur_req ? nng_http_req_get_header(rth_cur_req, name) : NULL;
}

int rt_http_route(const char *method, const char *path, int prefix, rt_http_fn fn, void *arg)
{
	if (path == NULL || path[0] != '/' || fn == NULL)
		return -1;
	int rc = -1;
	pthread_mutex_lock(&rth_mu);
	if (rth_nroutes < RTH_MAX_ROUTES) {
		rth_route *r = &rth_routes[rth_nroutes];
		r->method = strdup(method ? method : "GET");
		r->path = strdup(path);
		if (r->method && r->path) {
			r->prefix = prefix;
			r->fn = fn;
			r->arg = arg;
			r->body_max = rth_body_max;
			r->h = NULL;
			rc = rth_server ? rth_attach(r) : 0;
		}
		if (rc == 0) {
			rth_nroutes++;
		} else {
			free(r->method);
			free(r->path);
			memset(r, 0, sizeof *r);
		}
	}
	pthread_mutex_unlock(&rth_mu);
	return rc;
}

void rt_http_set_body_max(size_t max)
{
	pthread_mutex_lock(&rth_mu);
	rth_body_max = max;
	pthread_mutex_unlock(&rth_mu);
}

int rt_http_set_route_body_max(const char *path, size_t max)
{
	int n = 0;
	pthread_mutex_lock(&rth_mu);
	for (size_t i = 0; i < rth_nroutes; i++)
		if (strcmp(rth_routes[i].path, path) == 0) {
			rth_routes[i].body_max = max;
			n++;
		}
	pthread_mutex_unlock(&rth_mu);
	return n ? 0 : -1;
}

static int rth_has_route(const char *path)
{
	for (size_t i = 0; i < rth_nroutes; i++)
		if (strcmp(rth_routes[i].path, path) == 0 && strcmp(rth_routes[i].method, "GET") == 0)
			return 1;
	return 0;
}

int rt_http_start(const char *url)
{
	nng_url *u = NULL;
	int      rv;
	pthread_mutex_lock(&rth_mu);
	if (rth_server != NULL) {
		pthread_mutex_unlock(&rth_mu);
		return -1;
	}
	pthread_mutex_unlock(&rth_mu);
	/* The built-ins, unless the actor registered its own first. */
	if (!rth_has_route("/metrics"))
		rt_http_route("GET", "/metrics", 0, rth_metrics, NULL);
	if (!rth_has_route("/health"))
		rt_http_route("GET", "/health", 0, rth_health, NULL);

	pthread_mutex_lock(&rth_mu);
	if ((rv = nng_url_parse(&u, url)) != 0 || (rv = nng_http_server_hold(&rth_server, u)) != 0) {
		rth_server = NULL;
		goto fail;
	}
	for (size_t i = 0; i < rth_nroutes; i++)
		if (rth_routes[i].h == NULL && rth_attach(&rth_routes[i]) != 0) {
			rv = NNG_EINVAL;
			goto fail;
		}
	if ((rv = nng_http_server_start(rth_server)) != 0)
		goto fail;
	nng_sockaddr sa;
	rth_port = 0;
	if (nng_http_server_get_addr(rth_server, &sa) == 0) {
		if (sa.s_family == NNG_AF_INET)
			rth_port = ntohs(sa.s_in.sa_port);
		else if (sa.s_family == NNG_AF_INET6)
			rth_port = ntohs(sa.s_in6.sa_port);
	}
	pthread_mutex_unlock(&rth_mu);
	nng_url_free(u);
	return 0;
fail:
	if (rth_server) {
		nng_http_server_release(rth_server); /* also frees the handlers it holds */
		rth_server = NULL;
		for (size_t i = 0; i < rth_nroutes; i++)
			rth_routes[i].h = NULL;
	}
	pthread_mutex_unlock(&rth_mu);
	rt_logkv(RT_ERROR, "http server failed", "url", url, "err", nng_strerror(rv), NULL);
	if (u)
		nng_url_free(u);
	return -1;
}

int rt_http_port(void)
{
	pthread_mutex_lock(&rth_mu);
	int p = rth_server ? rth_port : 0;
	pthread_mutex_unlock(&rth_mu);
	return p;
}

void rt_http_stop(void)
{
	pthread_mutex_lock(&rth_mu);
	nng_http_server *s = rth_server;
	rth_server = NULL;
	rth_port = 0;
	for (size_t i = 0; i < rth_nroutes; i++)
		rth_routes[i].h = NULL;
	pthread_mutex_unlock(&rth_mu);
	if (s) {
		nng_http_server_stop(s);
		nng_http_server_release(s);
	}
}
