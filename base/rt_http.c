/* rt_http: the actor's HTTP server on GNU libmicrohttpd (see rt_http.h).
 *
 * Why libmicrohttpd and not NNG's HTTP server: a server reachable by anyone who can reach the pod
 * needs a cap on connections (in all and per client address) and a deadline for a request to
 * arrive whole; NNG 1.5's server has neither, so a slowloris client could hold every descriptor of
 * the process. libmicrohttpd enforces both itself (HTTP_MAX_CONNECTIONS, HTTP_MAX_PER_IP,
 * HTTP_IDLE_TIMEOUT), answers 503 past the cap, and is a small, well-kept C library (Debian package).
 *
 * Every route, the built-in /health and /metrics included, is an rt_http_fn in one fixed table.
 * One internal thread serves every connection (epoll); handlers run on it, so they must not block
 * for long. A request body is collected up to its route's limit; past it the answer is 413 and the
 * handler never runs. */
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_metrics.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RTH_MAX_ROUTES 32

typedef struct {
	char *method;
	char *path;
	int prefix;
	rt_http_fn fn;
	void *arg;
	size_t body_max;
} rth_route;

#define RTH_MAX_RES_HEADERS 4
#define RTH_HOLD_MAX_MS     3600000u /* an answer is held an hour at most */

/* One request being received: its raw URI (with the query), the route, and the body so far; the
 * handler's extra response headers; a held answer (rt_http_hold) waiting for its time. */
typedef struct rth_req {
	char *uri;
	const rth_route *route;
	int status; /* set when refused before the handler (404, 405, 413) */
	rt_buf body;
	char hdr[RTH_MAX_RES_HEADERS][2][128];
	unsigned nhdr;
	uint64_t hold_ms; /* set by rt_http_hold during the handler */
	int held;         /* 1 suspended until due_ns, 2 resumed: send the kept answer */
	int held_status;  /* the kept answer */
	const char *held_ctype;
	rt_buf held_out;
	uint64_t due_ns; /* monotonic */
	struct MHD_Connection *conn;
	struct rth_req *hnext; /* in rth_held while suspended */
} rth_req;

/* Up to two listeners: the main one (every route; HEALTH_PORT or HTTP_PORT) and a metrics-only one
 * (METRICS_PORT). Each has its own thread, so each keeps its own connection counts. */
typedef struct rth_server rth_server;
enum {
	RTH_MAIN,
	RTH_METRICS,
	RTH_NSERVERS
};

typedef struct {
	struct sockaddr_storage addr;
	unsigned n;
} rth_peer;

struct rth_server {
	struct MHD_Daemon *daemon;
	int port;
	int metrics_only; /* serves GET /metrics and nothing else */
	unsigned open;    /* touched by this server's thread only */
	rth_peer *peers;  /* max_connections slots */
};
static rth_server rth_servers[RTH_NSERVERS] = { { NULL, 0, 0, 0, NULL }, { NULL, 0, 1, 0, NULL } };

static pthread_mutex_t rth_mu = PTHREAD_MUTEX_INITIALIZER;
static rth_route rth_routes[RTH_MAX_ROUTES];
static size_t rth_nroutes;
static size_t rth_body_max = RT_HTTP_BODY_MAX_DEFAULT;
static rt_http_limits rth_limits = { RT_HTTP_MAX_CONNECTIONS_DEFAULT, RT_HTTP_MAX_PER_IP_DEFAULT,
	                             RT_HTTP_TIMEOUT_S_DEFAULT };
static rt_metric *rth_m_refused, *rth_m_open;
static __thread struct MHD_Connection *rth_current; /* the connection whose handler runs */
static __thread rth_req *rth_current_req;
static rt_metric *rth_m_conns;

/* Held answers: suspended connections, resumed by one timer thread when due (libmicrohttpd must
 * not be stopped with a connection still suspended: rt_http_stop resumes every one first). */
static pthread_mutex_t rth_hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rth_hold_cv;
static rth_req *rth_held;
static pthread_t rth_hold_thread;
static int rth_hold_running, rth_hold_quit;
static unsigned rth_held_pending;                              /* held, not yet answered or gone */
static pthread_cond_t rth_drain_cv = PTHREAD_COND_INITIALIZER; /* rth_held_pending went down */

/* A held request is over (answered, or its connection ended). Caller holds rth_hold_mu. */
static void
rth_held_over(rth_req *q)
{
	if (q->held && rth_held_pending) {
		rth_held_pending--;
		pthread_cond_broadcast(&rth_drain_cv);
	}
	q->held = 0;
}

/* Requests refused before their handler, by status (a fixed set: bounded series). */
static void
rth_count_refusal(int status)
{
	char labels[32];
	snprintf(labels, sizeof labels, "status=\"%d\"", status);
	rt_inc(rt_counter("http_refused_total", "HTTP requests refused before their handler (404, 405, 413).", labels));
}

const char *
rt_http_req_header(const char *name)
{
	return rth_current ? MHD_lookup_connection_value(rth_current, MHD_HEADER_KIND, name) : NULL;
}

int
rt_http_set_route_body_max(const char *path, size_t max)
{
	int found = -1;
	pthread_mutex_lock(&rth_mu);
	for (size_t i = 0; i < rth_nroutes; i++)
		if (strcmp(rth_routes[i].path, path) == 0) {
			rth_routes[i].body_max = max;
			found = 0;
		}
	pthread_mutex_unlock(&rth_mu);
	return found;
}

static int
rth_metrics(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen,
            rt_buf *out, const char **ctype)
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

static int
rth_health(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen,
           rt_buf *out, const char **ctype)
{
	*ctype = "application/json";
	return rt_health_json(out);
}

/* The route for (method, path): exact path, or a prefix route and a path below it. *status is 404
 * when no path matches, 405 when only the method differs. Caller holds rth_mu. */
static const rth_route *
rth_match(const char *method, const char *path, int metrics_only, int *status)
{
	*status = 404;
	if (metrics_only && strcmp(path, "/metrics") != 0)
		return NULL; /* the metrics listener serves nothing else (no intake, no admin routes) */
	for (size_t i = 0; i < rth_nroutes; i++) {
		const rth_route *r = &rth_routes[i];
		size_t n = strlen(r->path);
		int hit = strcmp(path, r->path) == 0 ||
		          (r->prefix && strncmp(path, r->path, n) == 0 && (path[n] == '/' || r->path[n - 1] == '/'));
		if (!hit)
			continue;
		if (strcmp(method, r->method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0))
			return r;
		*status = 405;
	}
	return NULL;
}

/* libmicrohttpd hands over the raw URI before it splits off the query: keep it. */
static void *
rth_uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	rth_req *q = calloc(1, sizeof *q);
	if (q != NULL && (q->uri = strdup(uri)) == NULL) {
		free(q);
		q = NULL;
	}
	return q;
}

static void
rth_done_cb(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode tc)
{
	rth_req *q = *con_cls;
	if (q == NULL)
		return;
	pthread_mutex_lock(&rth_hold_mu);
	rth_held_over(q); /* a resumed answer whose client had gone */
	pthread_mutex_unlock(&rth_hold_mu);
	rt_buf_free(&q->body);
	rt_buf_free(&q->held_out);
	free(q->uri);
	free(q);
	*con_cls = NULL;
}

static enum MHD_Result
rth_reply(struct MHD_Connection *c, int status, const char *ctype, rt_buf *out, const rth_req *q)
{
	struct MHD_Response *res =
	        MHD_create_response_from_buffer(out->len, out->data ? out->data : (void *)"", MHD_RESPMEM_MUST_COPY);
	if (res == NULL)
		return MHD_NO;
	MHD_add_response_header(res, "Content-Type", ctype);
	MHD_add_response_header(res, "Cache-Control", "no-store");
	for (unsigned i = 0; q && i < q->nhdr; i++)
		MHD_add_response_header(res, q->hdr[i][0], q->hdr[i][1]);
	enum MHD_Result rv = MHD_queue_response(c, (unsigned)status, res);
	MHD_destroy_response(res);
	return rv;
}

static uint64_t
rth_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Resumes every held connection that is due (all of them when all != 0). Caller holds rth_hold_mu. */
static void
rth_resume_due(int all)
{
	uint64_t now = rth_mono_ns();
	for (rth_req **pp = &rth_held; *pp;) {
		rth_req *q = *pp;
		if (all || q->due_ns <= now) {
			*pp = q->hnext;
			q->held = 2;
			MHD_resume_connection(q->conn); /* any thread may; the daemon then calls rth_access_cb */
		} else {
			pp = &q->hnext;
		}
	}
}

static void *
rth_hold_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rth_hold_mu);
	while (!rth_hold_quit) {
		rth_resume_due(0);
		uint64_t next = 0;
		for (rth_req *q = rth_held; q; q = q->hnext)
			if (next == 0 || q->due_ns < next)
				next = q->due_ns;
		if (next == 0) {
			pthread_cond_wait(&rth_hold_cv, &rth_hold_mu);
		} else {
			struct timespec ts = { (time_t)(next / 1000000000u), (long)(next % 1000000000u) };
			pthread_cond_timedwait(&rth_hold_cv, &rth_hold_mu, &ts);
		}
	}
	pthread_mutex_unlock(&rth_hold_mu);
	return NULL;
}

/* Keeps the handler's answer and suspends the connection until it is due. 0, or -1 (answer now). */
static int
rth_hold(struct MHD_Connection *c, rth_req *q, int status, const char *ctype, rt_buf *out)
{
	pthread_mutex_lock(&rth_hold_mu);
	if (rth_hold_quit) {
		pthread_mutex_unlock(&rth_hold_mu);
		return -1;
	}
	if (!rth_hold_running) {
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&rth_hold_cv, &ca);
		pthread_condattr_destroy(&ca);
		if (pthread_create(&rth_hold_thread, NULL, rth_hold_main, NULL) != 0) {
			pthread_mutex_unlock(&rth_hold_mu);
			return -1;
		}
		rth_hold_running = 1;
	}
	uint64_t ms = q->hold_ms > RTH_HOLD_MAX_MS ? RTH_HOLD_MAX_MS : q->hold_ms;
	q->held_out = *out; /* the buffer moves into the request */
	*out = (rt_buf)RT_BUF_INIT;
	q->held_status = status;
	q->held_ctype = ctype;
	q->due_ns = rth_mono_ns() + ms * 1000000u;
	q->conn = c;
	q->held = 1;
	rth_held_pending++;
	MHD_suspend_connection(c);
	q->hnext = rth_held;
	rth_held = q;
	pthread_cond_signal(&rth_hold_cv);
	pthread_mutex_unlock(&rth_hold_mu);
	return 0;
}

void
rt_http_hold(uint64_t ms)
{
	if (rth_current_req)
		rth_current_req->hold_ms = ms ? ms : 1;
}

int
rt_http_res_header(const char *name, const char *value)
{
	rth_req *q = rth_current_req;
	if (q == NULL || q->nhdr == RTH_MAX_RES_HEADERS || !name || !value || strlen(name) >= 128 ||
	    strlen(value) >= 128 || strpbrk(name, ":\r\n ") || strpbrk(value, "\r\n"))
		return -1;
	snprintf(q->hdr[q->nhdr][0], 128, "%s", name);
	snprintf(q->hdr[q->nhdr][1], 128, "%s", value);
	q->nhdr++;
	return 0;
}

static enum MHD_Result
rth_access_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
              const char *upload, size_t *upload_size, void **con_cls)
{
	rth_req *q = *con_cls;
	const rth_server *srv = cls;
	if (q == NULL)
		return MHD_NO;                    /* out of memory in rth_uri_cb: drop the connection */
	if (q->route == NULL && q->status == 0) { /* first call: headers are in */
		char *qs = strchr(q->uri, '?');
		if (qs)
			*qs = '\0';
		pthread_mutex_lock(&rth_mu);
		q->route = rth_match(method, q->uri, srv->metrics_only, &q->status);
		pthread_mutex_unlock(&rth_mu);
		if (qs)
			*qs = '?';
		if (q->route) {
			q->status = 0;
			/* a declared body past the limit: answer now, before reading it */
			const char *cl =
			        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (cl && strtoull(cl, NULL, 10) > q->route->body_max)
				q->status = 413;
		}
		if (q->status == 413) {
			rt_buf out = RT_BUF_INIT;
			rth_count_refusal(413);
			rt_buf_puts(&out, "{\"error\":\"request body too large\"}");
			enum MHD_Result rv = rth_reply(c, 413, "application/json", &out, NULL);
			rt_buf_free(&out);
			q->status = -1; /* answered: ignore the rest */
			return rv;
		}
		return MHD_YES;
	}
	if (q->status == -1) { /* already answered; swallow what still arrives */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) { /* a piece of the body */
		if (q->status == 0 && q->route && q->body.len + *upload_size > q->route->body_max)
			q->status = 413;
		if (q->status == 0)
			rt_buf_append(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->held == 2) { /* a held answer whose time has come (or the server is stopping) */
		enum MHD_Result rv = rth_reply(c, q->held_status, q->held_ctype, &q->held_out, q);
		pthread_mutex_lock(&rth_hold_mu);
		rth_held_over(q);
		pthread_mutex_unlock(&rth_hold_mu);
		return rv;
	}
	if (q->held == 1) /* not due yet: nothing to do until resumed */
		return MHD_YES;
	rt_buf out = RT_BUF_INIT;
	const char *ctype = "application/json";
	int status = q->status;
	if (status == 0 && q->body.oom)
		status = 500;
	if (status == 0) {
		char *query = strchr(q->uri, '?');
		if (query)
			*query++ = '\0';
		rth_current = c;
		rth_current_req = q;
		q->nhdr = 0;
		q->hold_ms = 0;
		status = q->route->fn(q->route->arg, method, q->uri, query ? query : "",
		                      q->body.len ? q->body.data : NULL, q->body.len, &out, &ctype);
		rth_current = NULL;
		rth_current_req = NULL;
		if (out.oom) {
			status = 500;
			rt_buf_reset(&out);
		}
		if (status < 100 || status > 599)
			status = 500;
	} else {
		rth_count_refusal(status);
		rt_buf_printf(&out, "{\"error\":\"%s\"}",
		              status == 404   ? "not found"
		              : status == 405 ? "method not allowed"
		              : status == 413 ? "request body too large"
		                              : "internal error");
	}
	if (q->hold_ms && q->status == 0 && rth_hold(c, q, status, ctype, &out) == 0)
		return MHD_YES; /* suspended: the timer thread resumes it, and the answer goes out then */
	enum MHD_Result rv = rth_reply(c, status, ctype, &out, q);
	rt_buf_free(&out);
	return rv;
}

/* The caps, enforced here rather than by libmicrohttpd's own limits so that each refusal is counted
 * (they close the socket silently): open connections in all and per client address. The address
 * table has one slot per allowed connection, so it is bounded by the cap itself. Both callbacks run
 * on the server's one thread. */

static int
rth_same_host(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

static rth_peer *
rth_peer_of(rth_server *srv, const struct sockaddr *a, int create)
{
	rth_peer *free_slot = NULL, *peers = srv->peers;
	for (unsigned i = 0; i < rth_limits.max_connections; i++) {
		if (peers[i].n && rth_same_host(a, &peers[i].addr))
			return &peers[i];
		if (!peers[i].n && free_slot == NULL)
			free_slot = &peers[i];
	}
	if (create && free_slot) {
		memset(&free_slot->addr, 0, sizeof free_slot->addr);
		memcpy(&free_slot->addr, a,
		       a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	}
	return create ? free_slot : NULL;
}

static enum MHD_Result
rth_accept_cb(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	rth_server *srv = cls;
	rth_peer *p = rth_peer_of(srv, addr, 0);
	if (srv->open >= rth_limits.max_connections || (p && p->n >= rth_limits.max_per_ip)) {
		rt_inc(rth_m_refused);
		rt_log(RT_WARN,
		       "http: refusing a connection (%u open in all, %u from that address; "
		       "HTTP_MAX_CONNECTIONS %u, HTTP_MAX_PER_IP %u)",
		       srv->open, p ? p->n : 0, rth_limits.max_connections, rth_limits.max_per_ip);
		return MHD_NO;
	}
	return MHD_YES;
}

static void
rth_conn_cb(void *cls, struct MHD_Connection *c, void **socket_ctx, enum MHD_ConnectionNotificationCode code)
{
	rth_server *srv = cls;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	rth_peer *p =
	        ci && ci->client_addr ? rth_peer_of(srv, ci->client_addr, code == MHD_CONNECTION_NOTIFY_STARTED) : NULL;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		rt_inc(rth_m_conns);
		srv->open++;
		if (p)
			p->n++;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (srv->open)
			srv->open--;
		if (p && p->n)
			p->n--;
	}
	/* one gauge for both listeners: the sum (each thread reads the other's count unlocked; a
	 * momentarily stale sum is harmless for a gauge) */
	rt_gauge_set(rth_m_open, (double)(rth_servers[RTH_MAIN].open + rth_servers[RTH_METRICS].open));
}

/* Set while this thread is in MHD_start_daemon: the daemon's own start-up errors are debug only,
 * since rth_start reports the failure itself, naming the URL; libmicrohttpd, given the address as
 * a sockaddr, would say "Failed to bind to port 0" whatever the real port is. */
static __thread int rth_starting;

static void rth_log_cb(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void
rth_log_cb(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	rt_logkv(rth_starting ? RT_DEBUG : RT_WARN, "http", "detail", msg, NULL);
}

int
rt_http_route(const char *method, const char *path, int prefix, rt_http_fn fn, void *arg)
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
			rth_nroutes++;
			rc = 0;
		} else {
			free(r->method);
			free(r->path);
			memset(r, 0, sizeof *r);
		}
	}
	pthread_mutex_unlock(&rth_mu);
	return rc;
}

void
rt_http_set_body_max(size_t max)
{
	pthread_mutex_lock(&rth_mu);
	rth_body_max = max;
	pthread_mutex_unlock(&rth_mu);
}

void
rt_http_set_limits(const rt_http_limits *l)
{
	pthread_mutex_lock(&rth_mu);
	rth_limits = *l;
	pthread_mutex_unlock(&rth_mu);
}

static int
rth_has_route(const char *path)
{
	pthread_mutex_lock(&rth_mu);
	int found = 0;
	for (size_t i = 0; i < rth_nroutes && !found; i++)
		found = strcmp(rth_routes[i].path, path) == 0 && strcmp(rth_routes[i].method, "GET") == 0;
	pthread_mutex_unlock(&rth_mu);
	return found;
}

/* "http://HOST:PORT" with HOST an IPv4 address, "[IPv6]", or "localhost". 0 or -1. */
static int
rth_parse_url(const char *url, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[128];
	const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : NULL, *colon;
	if (p == NULL)
		return -1;
	if (*p == '[') {
		const char *e = strchr(p, ']');
		if (e == NULL || e[1] != ':' || (size_t)(e - p - 1) >= sizeof host)
			return -1;
		memcpy(host, p + 1, (size_t)(e - p - 1));
		host[e - p - 1] = '\0';
		colon = e + 1;
	} else {
		if ((colon = strrchr(p, ':')) == NULL || (size_t)(colon - p) >= sizeof host)
			return -1;
		memcpy(host, p, (size_t)(colon - p));
		host[colon - p] = '\0';
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' && *end != '/')
		return -1;
	if (port < 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof *ss);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof *s4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof *s6;
		return 0;
	}
	return -1;
}

static int
rth_start(rth_server *srv, const char *url)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (rth_parse_url(url, &ss, &sl) != 0) {
		rt_logkv(RT_ERROR, "http server failed", "url", url, "err", "not http://ADDRESS:PORT", NULL);
		return -1;
	}
	pthread_mutex_lock(&rth_mu);
	int running = srv->daemon != NULL;
	rt_http_limits lim = rth_limits;
	pthread_mutex_unlock(&rth_mu);
	if (running)
		return -1;
	pthread_mutex_lock(&rth_hold_mu);
	rth_hold_quit = 0; /* a restarted server holds answers again */
	pthread_mutex_unlock(&rth_hold_mu);
	/* The built-ins, unless the actor registered its own first. */
	if (!rth_has_route("/metrics"))
		rt_http_route("GET", "/metrics", 0, rth_metrics, NULL);
	if (!rth_has_route("/health"))
		rt_http_route("GET", "/health", 0, rth_health, NULL);
	rth_m_refused =
	        rt_counter("http_connections_refused_total",
	                   "HTTP connections refused by the caps (HTTP_MAX_CONNECTIONS, HTTP_MAX_PER_IP).", NULL);
	rth_m_open = rt_gauge("http_connections_open", "HTTP connections open now.", NULL);
	rth_m_conns = rt_counter("http_connections_total", "HTTP connections accepted.", NULL);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->open = 0;
	free(srv->peers);
	if ((srv->peers = calloc(lim.max_connections ? lim.max_connections : 1, sizeof *srv->peers)) == NULL)
		return -1;
	rth_starting = 1;
	struct MHD_Daemon *d = MHD_start_daemon(
	        flags, 0, rth_accept_cb, srv, rth_access_cb, srv, MHD_OPTION_EXTERNAL_LOGGER, rth_log_cb, NULL,
	        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_CONNECTION, rth_conn_cb, srv,
	        MHD_OPTION_URI_LOG_CALLBACK, rth_uri_cb, NULL, MHD_OPTION_NOTIFY_COMPLETED, rth_done_cb, NULL,
	        /* a backstop only: the caps are rth_accept_cb's, which counts what it refuses */
	        MHD_OPTION_CONNECTION_LIMIT, (unsigned)lim.max_connections * 2 + 4, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)lim.timeout_s, MHD_OPTION_END);
	rth_starting = 0;
	(void)sl;
	if (d == NULL) {
		rt_logkv(RT_ERROR, "http server failed", "url", url, "err", "cannot listen (address in use?)", NULL);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	pthread_mutex_lock(&rth_mu);
	srv->daemon = d;
	srv->port = info ? info->port : 0;
	pthread_mutex_unlock(&rth_mu);
	return 0;
}

int
rt_http_start(const char *url)
{
	return rth_start(&rth_servers[RTH_MAIN], url);
}
int
rt_http_start_metrics(const char *url)
{
	return rth_start(&rth_servers[RTH_METRICS], url);
}

static int
rth_port_of(const rth_server *srv)
{
	pthread_mutex_lock(&rth_mu);
	int p = srv->daemon ? srv->port : 0;
	pthread_mutex_unlock(&rth_mu);
	return p;
}

int
rt_http_port(void)
{
	return rth_port_of(&rth_servers[RTH_MAIN]);
}
int
rt_http_metrics_port(void)
{
	return rth_port_of(&rth_servers[RTH_METRICS]);
}

void
rt_http_stop(void)
{
	/* every held answer resumed first (libmicrohttpd must not stop with one suspended) */
	pthread_mutex_lock(&rth_hold_mu);
	rth_hold_quit = 1;
	rth_resume_due(1);
	int joined = rth_hold_running;
	if (rth_hold_running)
		pthread_cond_signal(&rth_hold_cv);
	pthread_mutex_unlock(&rth_hold_mu);
	if (joined) {
		pthread_join(rth_hold_thread, NULL);
		pthread_mutex_lock(&rth_hold_mu);
		rth_hold_running = 0;
		pthread_cond_destroy(&rth_hold_cv);
		pthread_mutex_unlock(&rth_hold_mu);
	}
	/* the daemon answers the resumed ones on its thread: give it a moment (2 s at most) */
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 2;
	pthread_mutex_lock(&rth_hold_mu);
	while (rth_held_pending > 0 && pthread_cond_timedwait(&rth_drain_cv, &rth_hold_mu, &dl) == 0)
		;
	rth_held_pending = 0;
	pthread_mutex_unlock(&rth_hold_mu);
	for (int i = 0; i < RTH_NSERVERS; i++) {
		pthread_mutex_lock(&rth_mu);
		struct MHD_Daemon *d = rth_servers[i].daemon;
		rth_servers[i].daemon = NULL;
		rth_servers[i].port = 0;
		pthread_mutex_unlock(&rth_mu);
		if (d)
			MHD_stop_daemon(d);
	}
}
