/* Unit tests for health and the HTTP server: the /health JSON (ok, degraded with reasons in
 * order, back to ok when cleared), then a real server on an ephemeral port queried with libcurl:
 * /health status codes, /metrics content type and body, an actor route with prefix and query,
 * a POST body, the body size limit, and unknown paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_metrics.h"

static json_t *
health(int *status)
{
	rt_buf b = RT_BUF_INIT;
	*status = rt_health_json(&b);
	json_error_t e;
	json_t *j = json_loadb((const char *)b.data, b.len, 0, &e);
	if (j == NULL)
		fail_msg("health is not JSON: %s", (const char *)b.data);
	rt_buf_free(&b);
	return j;
}

static void
test_health_json(void **state)
{
	rt_log_set_identity("ccip-tail", "ccip-tail-\"a\"");
	int st;
	json_t *j = health(&st);
	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
	assert_string_equal(json_string_value(json_object_get(j, "actor")), "ccip-tail");
	assert_string_equal(json_string_value(json_object_get(j, "instance")), "ccip-tail-\"a\"");
	assert_null(json_object_get(j, "reasons"));
	json_decref(j);

	rt_health_set("rpc", 1, "all 2 endpoints down: \"timeout\"");
	rt_health_set("bus", 1, "no busd");
	rt_health_set("rpc", 1, "1 of 2 down"); /* replaces, keeps its place */
	assert_int_equal(rt_health_degraded(), 2);
	j = health(&st);
	assert_int_equal(st, 503);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "degraded");
	json_t *r = json_object_get(j, "reasons");
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "key")), "rpc");
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "text")), "1 of 2 down");
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 1), "key")), "bus");
	json_decref(j);

	rt_health_set("rpc", 0, NULL);
	rt_health_set("nonexistent", 0, NULL);
	j = health(&st);
	assert_int_equal(st, 503);
	assert_int_equal(json_array_size(json_object_get(j, "reasons")), 1);
	json_decref(j);
	rt_health_set("bus", 0, NULL);
	rt_health_set("late", 1, "x"); /* tail pointer still right after removals */
	rt_health_set("late", 0, NULL);
	j = health(&st);
	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
	json_decref(j);
}

/* ---- a real server ---- */

static size_t
sink(char *p, size_t sz, size_t n, void *arg)
{
	rt_buf_append(arg, p, sz * n);
	return sz * n;
}

/* GET (body NULL) or POST; returns the status (0 when the connection failed), fills out and ctype. */
static long
fetch(const char *path, const char *body, size_t blen, rt_buf *out, char *ctype, size_t clen)
{
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", rt_http_port(), path);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)blen);
	}
	if (curl_easy_perform(c) != CURLE_OK) { /* refused or cut: status 0 */
		curl_easy_cleanup(c);
		return 0;
	}
	long code = 0;
	char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (ctype)
		snprintf(ctype, clen, "%s", ct ? ct : "");
	curl_easy_cleanup(c);
	return code;
}

static int
messages(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen,
         rt_buf *out, const char **ctype)
{
	const char *prefix = "/messages";
	const char *id = path + strlen(prefix);
	if (strncmp(path, prefix, strlen(prefix)) != 0)
		return 500;
	*ctype = "application/json";
	if (*id == '/' && id[1]) {
		rt_buf_printf(out, "{\"id\":");
		rt_buf_json_str(out, id + 1);
		rt_buf_puts(out, "}");
		return 200;
	}
	rt_buf_printf(out, "{\"query\":");
	rt_buf_json_str(out, query);
	rt_buf_puts(out, "}");
	return 200;
}

static int
echo(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen, rt_buf *out,
     const char **ctype)
{
	const char *ct = rt_http_req_header("Content-Type");
	*ctype = "application/octet-stream";
	rt_buf_printf(out, "%s %s %zu:", method, ct ? ct : "-", blen);
	rt_buf_append(out, body, blen);
	++*(int *)arg;
	return 202;
}

static void
test_server(void **state)
{
	static int echo_calls;
	rt_counter("http_test_total", "A counter to find.", NULL);
	assert_int_equal(rt_http_route("GET", "/messages", 1, messages, NULL), 0); /* before start */
	assert_int_equal(rt_http_start("http://127.0.0.1:0"), 0);
	assert_true(rt_http_port() > 0);
	rt_http_set_body_max(16);
	assert_int_equal(rt_http_route("POST", "/intake", 0, echo, &echo_calls), 0); /* after start */
	assert_int_equal(rt_http_route("GET", "no-slash", 0, echo, NULL), -1);

	rt_buf b = RT_BUF_INIT;
	char ct[128];
	assert_int_equal(fetch("/health", NULL, 0, &b, ct, sizeof ct), 200);
	assert_string_equal(ct, "application/json");
	assert_non_null(strstr((char *)b.data, "\"status\":\"ok\""));
	rt_buf_reset(&b);

	rt_health_set("rpc", 1, "down");
	assert_int_equal(fetch("/health", NULL, 0, &b, NULL, 0), 503);
	assert_non_null(strstr((char *)b.data, "\"key\":\"rpc\""));
	rt_health_set("rpc", 0, NULL);
	rt_buf_reset(&b);
	assert_int_equal(fetch("/health", NULL, 0, &b, NULL, 0), 200);
	rt_buf_reset(&b);

	assert_int_equal(fetch("/metrics", NULL, 0, &b, ct, sizeof ct), 200);
	assert_memory_equal(ct, "text/plain; version=0.0.4", 25);
	assert_non_null(strstr((char *)b.data, "# TYPE http_test_total counter\nhttp_test_total 0\n"));
	rt_buf_reset(&b);

	assert_int_equal(fetch("/messages/0xab12", NULL, 0, &b, NULL, 0), 200);
	assert_string_equal((char *)b.data, "{\"id\":\"0xab12\"}");
	rt_buf_reset(&b);
	assert_int_equal(fetch("/messages?state=failed&n=2", NULL, 0, &b, NULL, 0), 200);
	assert_string_equal((char *)b.data, "{\"query\":\"state=failed&n=2\"}");
	rt_buf_reset(&b);

	assert_int_equal(fetch("/intake", "hello\0world", 11, &b, ct, sizeof ct), 202);
	assert_int_equal(b.len, strlen("POST application/x-www-form-urlencoded 11:") + 11);
	assert_memory_equal(b.data, "POST application/x-www-form-urlencoded 11:hello\0world", b.len);
	assert_int_equal(echo_calls, 1);
	rt_buf_reset(&b);
	assert_int_equal(fetch("/intake", "0123456789abcdefX", 17, &b, NULL, 0), 413); /* over the limit */
	assert_int_equal(echo_calls, 1);
	rt_buf_reset(&b);
	assert_int_equal(fetch("/intake", "0123456789abcdef", 16, &b, NULL, 0), 202); /* at the limit */
	assert_int_equal(echo_calls, 2);
	assert_int_equal(rt_http_set_route_body_max("/intake", 8), 0);
	assert_int_equal(rt_http_set_route_body_max("/none", 8), -1);
	assert_int_equal(fetch("/intake", "012345678", 9, &b, NULL, 0), 413);
	assert_int_equal(echo_calls, 2);
	rt_buf_reset(&b);
	assert_int_equal(fetch("/metrics", NULL, 0, &b, NULL, 0), 200);
	assert_non_null(strstr((char *)b.data, "http_refused_total{status=\"413\"} 2\n"));
	rt_buf_reset(&b);

	assert_null(rt_http_req_header("Content-Type")); /* outside a handler */
	rt_buf_reset(&b);
	assert_int_equal(fetch("/nothing-here", NULL, 0, &b, NULL, 0), 404);
	rt_buf_free(&b);

	rt_http_stop();
	assert_int_equal(rt_http_port(), 0);
	/* restartable: the routes are re-attached */
	assert_int_equal(rt_http_start("http://127.0.0.1:0"), 0);
	b = (rt_buf)RT_BUF_INIT;
	assert_int_equal(fetch("/messages/x", NULL, 0, &b, NULL, 0), 200);
	rt_buf_free(&b);
	rt_http_stop();
	assert_int_equal(rt_http_start("http://256.0.0.1:bad"), -1);
}

/* A connection to the server from the loopback address 127.0.0.<from>. */
static int
connect_from(int port, int from)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in src = { .sin_family = AF_INET };
	src.sin_addr.s_addr = htonl(0x7f000000u | (unsigned)from);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

static int
connect_port(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

/* 1 when the server closed fd (read returns 0 or an error) within deadline_ms. */
static int
closed_within(int fd, int deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, deadline_ms) <= 0)
		return 0;
	char c;
	return read(fd, &c, 1) <= 0;
}

static int
wait_gauge(rt_metric *g, double want)
{
	for (int i = 0; i < 3000; i++) { /* 30 s for a busy machine */
		if (rt_gauge_value(g) == want)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* A slowloris client (a header that never ends) is cut after the timeout; past the connection cap
 * new connections are refused and counted while the server keeps answering once they go; a port
 * already taken is an error, not a silent server-less actor. */
static void
test_abuse_bounds(void **state)
{
	rt_log_set_rate_limit(0, 1);
	rt_http_limits lim = { .max_connections = 8, .max_per_ip = 4, .timeout_s = 1 };
	rt_http_set_limits(&lim);
	assert_int_equal(rt_http_start("http://127.0.0.1:0"), 0);
	int port = rt_http_port();
	rt_metric *refused = rt_counter("http_connections_refused_total", "", NULL);
	uint64_t r0 = rt_counter_value(refused);

	int slow = connect_port(port);
	assert_int_equal(write(slow, "GET /health HTTP/1.1\r\nHost: x\r\nX-A: ", 37), 37);
	assert_true(closed_within(slow, 30000)); /* 1 s timeout; the deadline is for a busy machine */
	close(slow);

	/* a server without the idle timeout for the caps: four connections from 127.0.0.1 are held open
	 * (unfinished requests); a fifth from there is one too many for one address; four from 127.0.0.2
	 * fill the server; one from 127.0.0.3 is one too many. Each step waits until the server has
	 * taken the connections (http_connections_open), not for a time. */
	rt_http_stop();
	lim.timeout_s = 3600;
	rt_http_set_limits(&lim);
	assert_int_equal(rt_http_start("http://127.0.0.1:0"), 0);
	port = rt_http_port();
	rt_metric *open_now = rt_gauge("http_connections_open", "", NULL);
	int fds[10], n = 0;
	for (int i = 0; i < 4; i++) {
		fds[n] = connect_from(port, 1);
		assert_int_equal(write(fds[n++], "GET /health HTTP/1.1\r\n", 23), 23);
	}
	assert_true(wait_gauge(open_now, 4));
	fds[n] = connect_from(port, 1);
	assert_true(closed_within(fds[n++], 30000));
	for (int i = 0; i < 4; i++) {
		fds[n] = connect_from(port, 2);
		assert_int_equal(write(fds[n++], "GET /health HTTP/1.1\r\n", 23), 23);
	}
	assert_true(wait_gauge(open_now, 8));
	fds[n] = connect_from(port, 3);
	assert_true(closed_within(fds[n++], 30000));
	for (int i = 0; i < n; i++)
		close(fds[i]);
	assert_int_equal(rt_counter_value(refused) - r0, 2);
	/* once they are gone the server answers again (the closes reach it asynchronously) */
	rt_buf b = RT_BUF_INIT;
	int code = 0;
	for (int tries = 0; tries < 300 && code != 200; tries++) {
		rt_buf_reset(&b);
		if ((code = (int)fetch("/health", NULL, 0, &b, NULL, 0)) != 200)
			usleep(50000);
	}
	assert_int_equal(code, 200);
	rt_buf_free(&b);

	/* the same port again: taken */
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	rt_http_stop();
	int keep = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	setsockopt(keep, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	assert_int_equal(bind(keep, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(keep, 1), 0);
	char tmpl[] = "/tmp/rt_http_test_XXXXXX";
	int lfd = mkstemp(tmpl);
	assert_true(lfd >= 0);
	unlink(tmpl);
	rt_log_set_fd(lfd);
	assert_int_equal(rt_http_start(url), -1);
	rt_log_set_fd(2);
	/* one clear line naming the URL; not libmicrohttpd's own "Failed to bind to port 0" (it is
	 * given the address as a sockaddr, so it names port 0 whatever the real one is) */
	off_t ln = lseek(lfd, 0, SEEK_END);
	char *logged = calloc(1, (size_t)ln + 1);
	assert_int_equal(pread(lfd, logged, (size_t)ln, 0), ln);
	close(lfd);
	assert_non_null(strstr(logged, "http server failed"));
	assert_non_null(strstr(logged, url));
	assert_null(strstr(logged, "port 0"));
	assert_int_equal(strchr(logged, '\n') - logged, ln - 1); /* one line */
	free(logged);
	close(keep);
	rt_http_limits def = { RT_HTTP_MAX_CONNECTIONS_DEFAULT, RT_HTTP_MAX_PER_IP_DEFAULT, RT_HTTP_TIMEOUT_S_DEFAULT };
	rt_http_set_limits(&def);
}

/* A held answer (rt_http_hold) with a header of the handler's own (rt_http_res_header): */
static int
held(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen, rt_buf *out,
     const char **ctype)
{
	assert_int_equal(rt_http_res_header("Retry-After", "7"), 0);
	assert_int_equal(rt_http_res_header("Bad", "a\r\nb"), -1); /* no header injection */
	rt_http_hold(strtoull(query, NULL, 10));
	rt_buf_puts(out, "{\"held\":true}");
	return 429;
}

static size_t
hdr_sink(char *p, size_t sz, size_t n, void *arg)
{
	if (strncasecmp(p, "Retry-After: ", 13) == 0)
		snprintf(arg, 16, "%.*s", (int)(sz * n - 13 > 15 ? 15 : sz * n - 13), p + 13);
	return sz * n;
}

/* ...comes after its time with its status and header; meanwhile the server answers others (the
 * server thread is not blocked); a client that left is no trouble; stop sends what is still held. */
static void
test_held(void **state)
{
	assert_int_equal(rt_http_route("GET", "/held", 0, held, NULL), 0);
	assert_int_equal(rt_http_start("http://127.0.0.1:0"), 0);
	assert_int_equal(rt_http_res_header("X", "y"), -1); /* outside a handler: refused */
	char url[128], ra[16] = "";
	snprintf(url, sizeof url, "http://127.0.0.1:%d/held?300", rt_http_port());
	CURL *c = curl_easy_init();
	rt_buf b = RT_BUF_INIT;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hdr_sink);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, ra);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	long code = 0;
	double total = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
	curl_easy_cleanup(c);
	assert_int_equal(code, 429);
	assert_true(total >= 0.3);
	assert_memory_equal(ra, "7", 1);
	assert_string_equal((char *)b.data, "{\"held\":true}");
	rt_buf_free(&b);

	/* a raw request held an hour: /health answers meanwhile, and the held one has not come */
	int fd = connect_port(rt_http_port());
	const char req[] = "GET /held?3600000 HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
	int gone = connect_port(rt_http_port()); /* and one whose client leaves */
	const char req2[] = "GET /held?50 HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(write(gone, req2, sizeof req2 - 1), (ssize_t)(sizeof req2 - 1));
	close(gone);
	b = (rt_buf)RT_BUF_INIT;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fetch("/health", NULL, 0, &b, NULL, 0), 200);
		rt_buf_reset(&b);
	}
	rt_buf_free(&b);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);
	/* stopping sends it now (libmicrohttpd must not stop with a suspended connection) */
	rt_http_stop();
	char got[256] = "";
	assert_int_equal(poll(&p, 1, 30000), 1);
	assert_true(read(fd, got, sizeof got - 1) > 0);
	assert_non_null(strstr(got, "429"));
	close(fd);
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_json),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_abuse_bounds),
		cmocka_unit_test(test_held),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
