/* rpc_test.c - the JSON-RPC client against tiny JSON-RPC servers run in this process (one poll
 * thread each, HTTP/1.1 keep-alive): failover, chain-id mismatch, node errors, timeouts,
 * oversized and garbage responses, plus the decoder on real node output shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/rt_buf.h"
#include "base/rt_http.h"
#include "bus/bus.h"
#include "chain/rpc.h"
#include "store/store.h"

/* ---- the test server ----------------------------------------------------------------------- */
enum {
	MODE_OK,
	MODE_NODE_ERROR,
	MODE_SLOW,
	MODE_HUGE,
	MODE_HTTP502,
	MODE_GARBAGE,
	MODE_JSONRPC_400,
	MODE_NO_BATCH /* answers an array request with one error object, as servers without batches do */
};

typedef struct {
	int lfd, port;
	pthread_t th;
	atomic_int stop;
	atomic_int mode;
	_Atomic uint64_t chain_id; /* may change while running: a node restarted on another chain */
	atomic_int drop;           /* set: the server closes every client connection, then clears it */
	atomic_int requests;       /* every JSON-RPC request */
	atomic_int connections;    /* accepted TCP connections */
	atomic_int calls_ok;       /* non-eth_chainId requests answered */
} srv;

static void
srv_reply(int fd, int status, const char *body, size_t blen)
{
	char hdr[256];
	int hl = snprintf(hdr, sizeof hdr,
	                  "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", status,
	                  blen);
	if (send(fd, hdr, (size_t)hl, MSG_NOSIGNAL) < 0 || send(fd, body, blen, MSG_NOSIGNAL) < 0)
		return;
}

/* A batch (JSON array): each eth_sendRawTransaction answered with a hash, or "nonce too low" when
 * its data starts with 0xff, in reverse order (JSON-RPC lets a server answer in any order); the
 * call whose data starts with 0xee is left unanswered. */
static void
srv_batch(srv *s, int fd, json_t *j)
{
	atomic_fetch_add(&s->requests, 1);
	if (atomic_load(&s->mode) == MODE_NO_BATCH) {
		const char *no = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"batch not "
		                 "supported\"}}";
		srv_reply(fd, 200, no, strlen(no));
		return;
	}
	json_t *out = json_array();
	for (size_t i = json_array_size(j); i-- > 0;) {
		const json_t *c = json_array_get(j, i);
		json_int_t id = json_integer_value(json_object_get(c, "id"));
		const char *data = json_string_value(json_array_get(json_object_get(c, "params"), 0));
		atomic_fetch_add(&s->calls_ok, 1);
		if (data && strncmp(data, "0xee", 4) == 0)
			continue;
		if (data && strncmp(data, "0xff", 4) == 0)
			json_array_append_new(out, json_pack("{s:s,s:I,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id,
			                                     "error", "code", -32000, "message", "nonce too low"));
		else
			json_array_append_new(
			        out, json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", id, "result",
			                       "0x00000000000000000000000000000000000000000000000000000000000000"
			                       "01"));
	}
	char *b = json_dumps(out, JSON_COMPACT);
	srv_reply(fd, 200, b, strlen(b));
	free(b);
	json_decref(out);
}

/* Answers one request body. */
static void
srv_handle(srv *s, int fd, const char *req, size_t len)
{
	json_t *j = json_loadb(req, len, 0, NULL);
	if (json_is_array(j)) {
		srv_batch(s, fd, j);
		json_decref(j);
		return;
	}
	const char *method = json_string_value(json_object_get(j, "method"));
	json_int_t id = json_integer_value(json_object_get(j, "id"));
	char out[1024];
	atomic_fetch_add(&s->requests, 1);
	int mode = atomic_load(&s->mode);
	if (method && strcmp(method, "eth_chainId") == 0 && mode != MODE_HTTP502 && mode != MODE_SLOW) {
		int n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x%llx\"}",
		                 (long long)id, (unsigned long long)atomic_load(&s->chain_id));
		srv_reply(fd, 200, out, (size_t)n);
		json_decref(j);
		return;
	}
	atomic_fetch_add(&s->calls_ok, 1);
	const json_t *params = json_object_get(j, "params");
	int n = 0;
	switch (mode) {
	case MODE_OK:
		if (strcmp(method, "eth_getTransactionReceipt") == 0)
			n = snprintf(out, sizeof out,
			             "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":{\"transactionHash\":\"%s\","
			             "\"blockNumber\":\"0x2a\",\"blockHash\":\"0x%064x\",\"gasUsed\":\"0x5208\","
			             "\"status\":\"0x0\",\"effectiveGasPrice\":\"0x3b9aca00\",\"contractAddress\":null,"
			             "\"logs\":[]}}",
			             (long long)id, json_string_value(json_array_get(params, 0)), 7);
		else if (strcmp(method, "eth_call") == 0)
			n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"%s\"}",
			             (long long)id,
			             json_string_value(json_object_get(json_array_get(params, 0), "data")));
		else
			n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x%x\"}",
			             (long long)id, s->port);
		srv_reply(fd, 200, out, (size_t)n);
		break;
	case MODE_NODE_ERROR:
		n = snprintf(
		        out, sizeof out,
		        "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-32000,\"message\":\"nonce too low\"}}",
		        (long long)id);
		srv_reply(fd, 200, out, (size_t)n);
		break;
	case MODE_JSONRPC_400:
		n = snprintf(out, sizeof out,
		             "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-32602,\"message\":\"invalid "
		             "argument\"}}",
		             (long long)id);
		srv_reply(fd, 400, out, (size_t)n);
		break;
	case MODE_SLOW:
		usleep(400 * 1000);
		n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x1\"}", (long long)id);
		srv_reply(fd, 200, out, (size_t)n);
		break;
	case MODE_HUGE: {
		size_t big = 3u << 20;
		char *b = malloc(big + 128);
		int h = snprintf(b, 128, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x", (long long)id);
		memset(b + h, 'a', big);
		memcpy(b + h + big, "\"}", 2);
		srv_reply(fd, 200, b, (size_t)h + big + 2);
		free(b);
		break;
	}
	case MODE_NO_BATCH: /* single calls work */
		n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x1\"}", (long long)id);
		srv_reply(fd, 200, out, (size_t)n);
		break;
	case MODE_HTTP502:
		srv_reply(fd, 502, "bad gateway", 11);
		break;
	case MODE_GARBAGE:
		srv_reply(fd, 200, "{\"jsonrpc\":\"2.0\",\"id\":", 22);
		break;
	}
	json_decref(j);
}

static void *
srv_main(void *arg)
{
	srv *s = arg;
	struct pollfd p[9];
	char *buf[9] = { 0 };
	size_t len[9] = { 0 };
	int n = 1;
	p[0].fd = s->lfd;
	p[0].events = POLLIN;
	while (!atomic_load(&s->stop)) {
		if (atomic_load(&s->drop)) {
			for (int i = 1; i < n; i++)
				close(p[i].fd), free(buf[i]);
			n = 1;
			atomic_store(&s->drop, 0);
		}
		if (poll(p, (nfds_t)n, 20) <= 0)
			continue;
		if ((p[0].revents & POLLIN) && n < 9) {
			int c = accept(s->lfd, NULL, NULL);
			if (c >= 0) {
				atomic_fetch_add(&s->connections, 1);
				p[n].fd = c, p[n].events = POLLIN, p[n].revents = 0;
				buf[n] = malloc(65536), len[n] = 0;
				n++;
			}
		}
		for (int i = 1; i < n; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			ssize_t r = read(p[i].fd, buf[i] + len[i], 65535 - len[i]);
			if (r <= 0) {
				close(p[i].fd);
				free(buf[i]);
				p[i] = p[n - 1], buf[i] = buf[n - 1], len[i] = len[n - 1];
				n--, i--;
				continue;
			}
			len[i] += (size_t)r;
			buf[i][len[i]] = 0;
			char *eoh = strstr(buf[i], "\r\n\r\n");
			char *cl = strcasestr(buf[i], "Content-Length:");
			if (!eoh || !cl)
				continue;
			size_t blen = strtoul(cl + 15, NULL, 10), hl = (size_t)(eoh + 4 - buf[i]);
			if (len[i] < hl + blen)
				continue;
			srv_handle(s, p[i].fd, buf[i] + hl, blen);
			memmove(buf[i], buf[i] + hl + blen, len[i] - hl - blen);
			len[i] -= hl + blen;
		}
	}
	for (int i = 1; i < n; i++)
		close(p[i].fd), free(buf[i]);
	close(s->lfd);
	return NULL;
}

static srv *
srv_start(uint64_t chain_id, int mode)
{
	srv *s = calloc(1, sizeof *s);
	s->chain_id = chain_id;
	atomic_store(&s->mode, mode);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->th, NULL, srv_main, s);
	return s;
}

static void
srv_stop(srv *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	free(s);
}

/* A port nothing listens on: bind, read the port, close. */
static int
dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	bind(fd, (struct sockaddr *)&a, sizeof a);
	getsockname(fd, (struct sockaddr *)&a, &al);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- tests --------------------------------------------------------------------------------- */
static void
test_basic_and_keepalive(void **st)
{
	srv *s = srv_start(138, MODE_OK);
	char url[64], err[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/some/path?key=secret", s->port);
	rpc *r = rpc_open(url, 138, 5000, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(rpc_chain_id(r), 138);
	assert_null(strstr(rpc_endpoint_name(r, 0), "secret"));
	uint64_t n = 0;
	rpc_error e;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
		assert_int_equal(n, (uint64_t)s->port);
	}
	assert_int_equal(atomic_load(&s->connections), 1); /* one connection reused */
	assert_int_equal(rpc_endpoint_up(r, 0), 1);

	uint8_t to[20] = { 1 }, data[5] = { 0xfe, 0xed, 0, 1, 2 }, *out;
	size_t ol;
	assert_int_equal(rpc_eth_call(r, to, data, 5, &out, &ol, &e), RPC_OK);
	assert_int_equal(ol, 5);
	assert_memory_equal(out, data, 5);
	free(out);

	uint8_t h[32];
	memset(h, 0xab, 32);
	rpc_receipt rc;
	assert_int_equal(rpc_get_receipt(r, h, &rc, &e), RPC_OK);
	assert_memory_equal(rc.tx_hash, h, 32);
	assert_int_equal(rc.block_number, 42);
	assert_int_equal(rc.status, 0);
	assert_int_equal(rc.gas_used, 21000);
	assert_int_equal(u256_low64(&rc.effective_gas_price), 1000000000);
	assert_int_equal(rc.block_hash[31], 7);
	rpc_close(r);
	srv_stop(s);
}

/* The recheck period of test_failover_and_back, long enough that an idle machine always checks
 * the "still skipped" rule inside it. */
#define RECHECK_MS 1000
static uint64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
test_failover_and_back(void **st)
{
	srv *a = srv_start(138, MODE_OK), *b = srv_start(138, MODE_OK);
	char urls[160], err[256];
	snprintf(urls, sizeof urls, "http://127.0.0.1:%d, http://127.0.0.1:%d,http://127.0.0.1:%d", dead_port(),
	         a->port, b->port);
	rpc *r = rpc_open(urls, 138, 5000, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(rpc_endpoint_count(r), 3);
	rpc_set_recheck_ms(r, RECHECK_MS);
	uint64_t n;
	rpc_error e;
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	assert_int_equal(n, (uint64_t)a->port); /* the dead one skipped */
	assert_int_equal(rpc_active(r), 1);
	assert_int_equal(rpc_endpoint_up(r, 0), 0);

	uint64_t t_down = mono_ms();
	atomic_store(&a->mode, MODE_HTTP502); /* a now fails at the HTTP level: on to b */
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	assert_int_equal(n, (uint64_t)b->port);
	assert_int_equal(rpc_active(r), 2);
	uint64_t t_marked = mono_ms(); /* a was marked down between t_down and now */

	atomic_store(&a->mode, MODE_OK); /* a recovers; after the recheck period it is preferred again */
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	/* within the period a is still skipped; a machine so loaded that the period already ended
	 * cannot show that, and it is not asserted then (timing, not the rule, would fail) */
	if (mono_ms() - t_down < RECHECK_MS)
		assert_int_equal(n, (uint64_t)b->port);
	while (mono_ms() < t_marked + RECHECK_MS + 20)
		usleep(10 * 1000);
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	assert_int_equal(n, (uint64_t)a->port);

	/* Everything down: a transport error with the reason, and recovery noticed at once. */
	atomic_store(&a->mode, MODE_HTTP502);
	atomic_store(&b->mode, MODE_GARBAGE);
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_ETRANSPORT);
	assert_int_not_equal(e.transport, RPC_T_NONE);
	assert_int_equal(rpc_active(r), -1);
	atomic_store(&b->mode, MODE_OK);
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	assert_int_equal(n, (uint64_t)b->port);
	rpc_close(r);
	srv_stop(a);
	srv_stop(b);
}

static void
test_wrong_chain(void **st)
{
	srv *w = srv_start(1, MODE_OK), *g = srv_start(138, MODE_OK);
	char urls[160], err[256];
	snprintf(urls, sizeof urls, "http://127.0.0.1:%d", w->port);
	assert_null(rpc_open(urls, 138, 5000, err, sizeof err)); /* only a wrong-chain endpoint: refused */
	assert_non_null(strstr(err, "another chain"));

	snprintf(urls, sizeof urls, "http://127.0.0.1:%d,http://127.0.0.1:%d", w->port, g->port);
	rpc *r = rpc_open(urls, 138, 5000, err, sizeof err);
	assert_non_null(r);
	rpc_set_recheck_ms(r, 1);
	uint64_t n;
	rpc_error e;
	for (int i = 0; i < 5; i++) {
		usleep(2000);
		assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
		assert_int_equal(n, (uint64_t)g->port);
	}
	assert_int_equal(atomic_load(&w->calls_ok), 0); /* the wrong chain was never asked anything else */
	rpc_close(r);

	/* chain id 0: learned from the first endpoint, then others must match */
	snprintf(urls, sizeof urls, "http://127.0.0.1:%d,http://127.0.0.1:%d", g->port, w->port);
	r = rpc_open(urls, 0, 500, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(rpc_chain_id(r), 138);
	assert_int_equal(rpc_endpoint_up(r, 1), 0);
	rpc_close(r);
	srv_stop(w);
	srv_stop(g);
}

/* Waits (generous deadline) until the server has closed its client connections. */
static void
srv_drop_connections(srv *s)
{
	atomic_store(&s->drop, 1);
	for (int i = 0; i < 5000 && atomic_load(&s->drop); i++)
		usleep(1000);
	assert_int_equal(atomic_load(&s->drop), 0);
}

static int
health_has(const char *what)
{
	rt_buf b = RT_BUF_INIT;
	rt_health_json(&b);
	rt_buf_puts(&b, ""); /* NUL-terminated below */
	int found = rt_buf_append(&b, "", 1) == 0 && strstr((const char *)b.data, what) != NULL;
	rt_buf_free(&b);
	return found;
}

/* An endpoint that moves to another chain while in use: noticed on reconnect and periodically,
 * refused (failover, health), used again once it is back on the expected chain. */
static void
test_chain_switch(void **st)
{
	srv *a = srv_start(138, MODE_OK), *b = srv_start(138, MODE_OK);
	char urls[160], err[256], hkey[64];
	snprintf(urls, sizeof urls, "http://127.0.0.1:%d,http://127.0.0.1:%d", a->port, b->port);
	snprintf(hkey, sizeof hkey, "rpc_chain:http://127.0.0.1:%d", a->port);
	rpc *r = rpc_open(urls, 138, 2000, err, sizeof err);
	assert_non_null(r);
	rpc_set_chain_check_ms(r, 0); /* first: only reconnects trigger the check */
	rpc_set_recheck_ms(r, 100);
	uint64_t n;
	rpc_error e;
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	assert_int_equal(n, (uint64_t)a->port);

	/* the node behind a's URL restarts on chain 1: libcurl reconnects by itself, the answer it
	 * got there is dropped and b answers instead */
	atomic_store(&a->chain_id, 1);
	srv_drop_connections(a);
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	assert_int_equal(n, (uint64_t)b->port);
	assert_int_equal(rpc_endpoint_up(r, 0), 0);
	assert_true(health_has(hkey));
	/* still refused after the recheck period while it stays on the other chain */
	usleep(150 * 1000);
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	assert_int_equal(n, (uint64_t)b->port);

	/* back on the right chain: preferred again, health clear */
	atomic_store(&a->chain_id, 138);
	for (int i = 0; i < 200 && n != (uint64_t)a->port; i++) {
		usleep(10 * 1000);
		assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	}
	assert_int_equal(n, (uint64_t)a->port);
	assert_false(health_has(hkey));

	/* same connection, no error at all: the periodic check finds it */
	rpc_set_chain_check_ms(r, 50);
	atomic_store(&a->chain_id, 5);
	int before = atomic_load(&a->connections);
	for (int i = 0; i < 200 && n == (uint64_t)a->port; i++) {
		usleep(10 * 1000);
		assert_int_equal(rpc_block_number(r, &n, &e), RPC_OK);
	}
	assert_int_equal(n, (uint64_t)b->port);
	assert_int_equal(atomic_load(&a->connections), before); /* no reconnect needed to notice */
	assert_true(health_has(hkey));
	rpc_close(r);
	srv_stop(a);
	srv_stop(b);
}

static void
test_node_errors(void **st)
{
	srv *a = srv_start(138, MODE_NODE_ERROR), *b = srv_start(138, MODE_OK);
	char urls[160], err[256];
	snprintf(urls, sizeof urls, "http://127.0.0.1:%d,http://127.0.0.1:%d", a->port, b->port);
	rpc *r = rpc_open(urls, 138, 500, err, sizeof err);
	uint8_t raw[3] = { 1, 2, 3 }, h[32];
	rpc_error e;
	assert_int_equal(rpc_send_raw(r, raw, 3, h, &e), RPC_ENODE);
	assert_int_equal(e.transport, RPC_T_NONE);
	assert_int_equal(e.code, -32000);
	assert_string_equal(e.msg, "nonce too low");
	assert_int_equal(atomic_load(&b->calls_ok), 0); /* a node error is an answer: no failover */
	assert_int_equal(rpc_active(r), 0);

	atomic_store(&a->mode, MODE_JSONRPC_400); /* JSON-RPC error with HTTP 400: still the node's */
	uint64_t n;
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_ENODE);
	assert_int_equal(e.code, -32602);
	assert_string_equal(e.msg, "invalid argument");
	rpc_close(r);
	srv_stop(a);
	srv_stop(b);
}

static void
test_timeout_and_too_big(void **st)
{
	srv *slow = srv_start(138, MODE_OK), *huge = srv_start(138, MODE_HUGE);
	char urls[160], err[256];
	snprintf(urls, sizeof urls, "http://127.0.0.1:%d", slow->port);
	rpc *r = rpc_open(urls, 138, 150, err, sizeof err);
	assert_non_null(r);
	atomic_store(&slow->mode, MODE_SLOW);
	uint64_t n;
	rpc_error e;
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_ETRANSPORT);
	assert_int_equal(e.transport, RPC_T_TIMEOUT);
	rpc_close(r);

	snprintf(urls, sizeof urls, "http://127.0.0.1:%d", huge->port);
	r = rpc_open(urls, 138, 2000, err, sizeof err);
	assert_non_null(r);
	rpc_set_max_response(r, 1u << 20);
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_ETRANSPORT);
	assert_int_equal(e.transport, RPC_T_TOO_BIG);
	rpc_set_max_response(r, 8u << 20); /* under a bigger limit it arrives, and is not a u64 */
	usleep(1000);
	rpc_set_recheck_ms(r, 0);
	assert_int_equal(rpc_block_number(r, &n, &e), RPC_EDECODE);
	rpc_close(r);
	srv_stop(slow);
	srv_stop(huge);
}

static void
test_bad_urls(void **st)
{
	char err[256];
	assert_null(rpc_open("", 138, 100, err, sizeof err));
	assert_null(rpc_open("ftp://x", 138, 100, err, sizeof err));
	assert_null(rpc_open("file:///etc/passwd", 138, 100, err, sizeof err));
}

/* The codes the modules return are those of base/err.h, distinct from each other and from errno. */
static void
test_error_space(void **st)
{
	static const int c[] = { RPC_OK,      RPC_ETRANSPORT, RPC_ENODE,    RPC_EDECODE,  RPC_ENOTFOUND, BUS_TIMEOUT,
		                 BUS_EDECODE, BUS_EREJECT,    BUS_ECLOSED,  BUS_EINVAL,   BUS_ESEND,     BUS_ETLS,
		                 ST_ESCHEMA,  ST_ECORRUPT,    MDB_NOTFOUND, MDB_KEYEXIST, MDB_MAP_FULL };
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		for (size_t j = i + 1; j < sizeof c / sizeof c[0]; j++)
			assert_int_not_equal(c[i], c[j]);
	assert_int_equal(RPC_ETRANSPORT, OB_ERPC_TRANSPORT); /* was -1, the same as ST_ESCHEMA */
	assert_int_equal(ST_ESCHEMA, OB_ESCHEMA);
	assert_int_equal(ST_ECORRUPT, OB_EDAMAGED);
	assert_int_equal(BUS_TIMEOUT, OB_EBUS_TIMEOUT);
	assert_string_equal(ob_err_class(RPC_ENODE), "rpc");
	assert_string_equal(ob_err_class(BUS_ESEND), "bus");
	assert_string_equal(ob_err_class(ST_ESCHEMA), "store");
}

static void
test_decoder(void **st)
{
	json_t *res;
	rpc_error e;
	const char *ok = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x0\"}";
	assert_int_equal(rpc_parse_response(ok, strlen(ok), 7, &res, &e), RPC_OK);
	uint64_t v = 9;
	assert_int_equal(rpc_parse_u64(res, &v), 0);
	assert_int_equal(v, 0);
	json_decref(res);
	assert_int_equal(rpc_parse_response(ok, strlen(ok), 8, &res, &e), RPC_EDECODE); /* id mismatch */
	const char *dup = "{\"id\":7,\"result\":\"0x1\",\"result\":\"0x2\"}";
	assert_int_equal(rpc_parse_response(dup, strlen(dup), 7, &res, &e), RPC_EDECODE);
	const char *er = "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32003,\"message\":\"insufficient funds "
	                 "for gas * price + value\"}}";
	assert_int_equal(rpc_parse_response(er, strlen(er), -1, &res, &e), RPC_ENODE);
	assert_int_equal(e.code, -32003);
	assert_non_null(strstr(e.msg, "insufficient funds"));
	assert_string_equal(e.data, "");
	const char *rv =
	        "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":3,\"message\":\"execution "
	        "reverted\",\"data\":\"0x4e487b710000000000000000000000000000000000000000000000000000000000000011\"}}";
	assert_int_equal(rpc_parse_response(rv, strlen(rv), -1, &res, &e), RPC_ENODE);
	assert_string_equal(e.data, "0x4e487b710000000000000000000000000000000000000000000000000000000000000011");
	js_val rawv;
	assert_int_equal(rpc_parse_response_raw(rv, strlen(rv), -1, &rawv, &e), RPC_ENODE);
	assert_string_equal(e.data, "0x4e487b710000000000000000000000000000000000000000000000000000000000000011");

	static const struct {
		const char *in;
		int ok;
		uint64_t v;
	} q[] = {
		{ "\"0x1a\"", 0, 26 },
		{ "\"0x0\"", 0, 0 },
		{ "\"0x00ff\"", 0, 255 },
		{ "\"0x\"", -1, 0 },
		{ "\"1a\"", -1, 0 },
		{ "\"0xg\"", -1, 0 },
		{ "26", -1, 0 },
		{ "\"0xffffffffffffffff\"", 0, UINT64_MAX },
		{ "\"0x10000000000000000\"", -1, 0 },
		{ "null", -1, 0 },
	};
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		json_t *j = json_loads(q[i].in, JSON_DECODE_ANY, NULL);
		v = 0;
		assert_int_equal(rpc_parse_u64(j, &v), q[i].ok);
		if (q[i].ok == 0)
			assert_int_equal(v, q[i].v);
		json_decref(j);
	}
	/* a 256-bit quantity, exactly */
	json_t *j = json_string("0x8000000000000000000000000000000000000000000000000000000000000001");
	u256 big;
	assert_int_equal(rpc_parse_u256(j, &big), 0);
	uint8_t be[32];
	u256_to_be(&big, be);
	assert_int_equal(be[0], 0x80);
	assert_int_equal(be[31], 1);
	json_decref(j);
	j = json_string("0x18000000000000000000000000000000000000000000000000000000000000001");
	assert_int_equal(rpc_parse_u256(j, &big), -1);
	json_decref(j);

	/* A block as anvil returns it (trimmed): base fee present. */
	const char *blk = "{\"number\":\"0x5\",\"hash\":\"0x"
	                  "1111111111111111111111111111111111111111111111111111111111111111\","
	                  "\"parentHash\":\"0x2222222222222222222222222222222222222222222222222222222222222222\","
	                  "\"timestamp\":\"0x65\",\"gasLimit\":\"0x1c9c380\",\"baseFeePerGas\":\"0x3b9aca00\"}";
	j = json_loads(blk, 0, NULL);
	rpc_block b;
	assert_int_equal(rpc_parse_block(j, &b), 0);
	assert_int_equal(b.number, 5);
	assert_int_equal(b.has_base_fee, 1);
	assert_int_equal(u256_low64(&b.base_fee_per_gas), 1000000000);
	assert_int_equal(b.gas_limit, 30000000);
	json_object_del(j, "baseFeePerGas");
	assert_int_equal(rpc_parse_block(j, &b), 0);
	assert_int_equal(b.has_base_fee, 0);
	json_object_set_new(j, "hash", json_string("0x11"));
	assert_int_equal(rpc_parse_block(j, &b), -1);
	json_decref(j);
}

/* rpc_parse_response_raw agrees with rpc_parse_response (return value, code, message) on every
 * envelope shape; the result is the member's exact text. */
static void
test_raw_decoder(void **st)
{
	char longmsg[700];
	int lm = snprintf(longmsg, sizeof longmsg, "{\"id\":3,\"error\":{\"code\":5,\"message\":\"");
	memset(longmsg + lm, 'm', 400);
	snprintf(longmsg + lm + 400, sizeof longmsg - (size_t)lm - 400, "\"}}");
	const struct {
		const char *body;
		long long id;
		const char *result;
	} c[] = {
		{ "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x0\"}", 7, "\"0x0\"" },
		{ " {\"result\" : [ {\"a\":1} , 2 ] ,\"id\":7} \n", 7, "[ {\"a\":1} , 2 ]" },
		{ "{\"id\":7,\"result\":null,\"error\":null}", 7, "null" },
		{ "{\"id\":7,\"result\":\"0x0\"}", 8, NULL },     /* id mismatch */
		{ "{\"id\":\"7\",\"result\":\"0x0\"}", 7, NULL }, /* id not an integer */
		{ "{\"id\":7.0,\"result\":\"0x0\"}", 7, NULL },
		{ "{\"id\":7e0,\"result\":\"0x0\"}", 7, NULL },
		/* jansson refuses an integer past 2^63 anywhere; the raw reader converts only the id and
		 * the error code (a big number inside a result is the caller's text to read) */
		{ "{\"id\":99999999999999999999,\"result\":1}", 7, NULL },
		{ "{\"result\":1}", 7, NULL },
		{ "{\"result\":1}", -1, "1" },
		{ "{\"id\":7,\"result\":\"0x1\",\"result\":\"0x2\"}", 7, NULL }, /* duplicate */
		{ "{\"id\":7,\"id\":7,\"result\":1}", 7, NULL },
		{ "{\"id\":7}", 7, NULL },
		{ "[1]", -1, NULL },
		{ "\"x\"", -1, NULL },
		{ "{\"id\":7,\"result\":1", 7, NULL },
		{ "{\"id\":7,\"result\":1}x", 7, NULL },
		{ "", -1, NULL },
		{ "{\"id\":1,\"error\":{\"code\":-32003,\"message\":\"insufficient funds\"}}", -1, NULL },
		{ "{\"id\":1,\"error\":{\"code\":-32003,\"message\":\"a\\u00e9\\\"b\"},\"result\":1}", 1, NULL },
		{ "{\"id\":1,\"error\":{\"code\":3}}", 1, NULL },
		{ "{\"id\":1,\"error\":{\"code\":3,\"message\":\"execution reverted\",\"data\":\"0x4e487b71\"}}", 1,
		  NULL },
		{ "{\"id\":1,\"error\":{\"code\":3,\"message\":\"m\",\"data\":{\"x\":1}}}", 1, NULL },
		{ "{\"id\":1,\"error\":{\"code\":3,\"message\":7}}", 1, NULL },
		{ "{\"id\":1,\"error\":{\"code\":\"3\",\"message\":\"m\"}}", 1, NULL }, /* malformed */
		{ "{\"id\":1,\"error\":{\"code\":3.5}}", 1, NULL },
		{ "{\"id\":1,\"error\":\"boom\"}", 1, NULL },
		{ "{\"id\":1,\"error\":{\"code\":1,\"code\":2}}", 1, NULL },
		{ "{\"id\":-9223372036854775808,\"result\":1}", -1, "1" },
		{ longmsg, 3, NULL },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		json_t *res = NULL;
		js_val raw;
		rpc_error e1, e2;
		memset(&e1, 0, sizeof e1);
		memset(&e2, 0, sizeof e2);
		int r1 = rpc_parse_response(c[i].body, strlen(c[i].body), c[i].id, &res, &e1);
		int r2 = rpc_parse_response_raw(c[i].body, strlen(c[i].body), c[i].id, &raw, &e2);
		if (r1 != r2)
			fail_msg("case %zu: jansson %d, raw %d (%s / %s)", i, r1, r2, e1.msg, e2.msg);
		json_decref(res);
		if (r1 == RPC_ENODE) {
			assert_int_equal(e1.code, e2.code);
			assert_string_equal(e1.msg, e2.msg);
			assert_string_equal(e1.data, e2.data);
			assert_int_equal(e2.transport, RPC_T_NONE);
		} else if (r1 != RPC_OK)
			assert_int_equal(e2.transport, RPC_T_DECODE);
		if (c[i].result) {
			assert_int_equal(r2, RPC_OK);
			assert_int_equal(raw.n, strlen(c[i].result));
			assert_memory_equal(raw.p, c[i].result, raw.n);
		}
	}
}

static void
test_call_raw(void **st)
{
	srv *a = srv_start(138, MODE_OK);
	char url[64], err[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", a->port);
	rpc *r = rpc_open(url, 138, 5000, err, sizeof err);
	assert_non_null(r);
	rpc_error e;
	char *body;
	size_t len;
	js_val res;
	char want[32];
	snprintf(want, sizeof want, "\"0x%x\"", a->port);
	for (int i = 0; i < 3; i++) { /* the buffer is handed over each time; the next call makes a new one */
		assert_int_equal(rpc_call_raw(r, "eth_blockNumber", NULL, &body, &len, &res, &e), RPC_OK);
		assert_non_null(body);
		assert_int_equal(strlen(body), len);
		assert_int_equal(res.type, JS_STRING);
		assert_true(res.p > body && res.p + res.n <= body + len);
		assert_int_equal(res.n, strlen(want));
		assert_memory_equal(res.p, want, res.n);
		free(body);
	}
	atomic_store(&a->mode, MODE_NODE_ERROR);
	assert_int_equal(rpc_call_raw(r, "eth_getLogs", NULL, &body, &len, &res, &e), RPC_ENODE);
	assert_null(body);
	assert_int_equal(res.type, JS_NONE);
	assert_int_equal(e.code, -32000);
	assert_string_equal(e.msg, "nonce too low");
	atomic_store(&a->mode, MODE_GARBAGE);
	assert_int_equal(rpc_call_raw(r, "eth_getLogs", NULL, &body, &len, &res, &e), RPC_ETRANSPORT);
	assert_null(body);
	assert_int_equal(e.transport, RPC_T_DECODE);
	rpc_close(r);
	srv_stop(a);
}

/* ---- batches ------------------------------------------------------------------------------- */
static void
calls_init(rpc_batch_call *c, size_t n)
{
	memset(c, 0, n * sizeof *c);
}

static void
calls_free(rpc_batch_call *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_decref(c[i].result);
		c[i].result = NULL;
	}
}

static int
batch_parse(const char *body, rpc_batch_call *c, size_t n, rpc_error *e)
{
	calls_free(c, n);
	return rpc_parse_batch(body, strlen(body), 10, c, n, e);
}

static void
test_batch_decoder(void **st)
{
	(void)st;
	rpc_batch_call c[4];
	rpc_error e;
	calls_init(c, 4);
	/* out of order, one partial error, one id missing (call 13), one answer with a null id */
	const char *b = "[{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":\"0xc\"},"
	                "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"invalid request\"}},"
	                "{\"jsonrpc\":\"2.0\",\"id\":11,\"error\":{\"code\":-32000,\"message\":\"already known\"}},"
	                "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":\"0xa\"}]";
	assert_int_equal(batch_parse(b, c, 4, &e), RPC_OK);
	uint64_t v;
	assert_int_equal(c[0].rc, RPC_OK);
	assert_int_equal(rpc_parse_u64(c[0].result, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(c[1].rc, RPC_ENODE);
	assert_null(c[1].result);
	assert_int_equal(c[1].e.code, -32000);
	assert_int_equal(c[1].e.transport, RPC_T_NONE);
	assert_string_equal(c[1].e.msg, "already known");
	assert_int_equal(c[2].rc, RPC_OK);
	assert_int_equal(rpc_parse_u64(c[2].result, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(c[3].rc, RPC_EDECODE); /* no answer: the caller must find out otherwise */
	assert_null(c[3].result);
	assert_int_equal(c[3].e.transport, RPC_T_DECODE);

	/* an element with a malformed envelope fails that call only */
	assert_int_equal(
	        batch_parse("[{\"jsonrpc\":\"2.0\",\"id\":11},{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":null}]", c, 2,
	                    &e),
	        RPC_OK);
	assert_int_equal(c[0].rc, RPC_OK);
	assert_true(json_is_null(c[0].result));
	assert_int_equal(c[1].rc, RPC_EDECODE);
	assert_int_equal(batch_parse("[{\"id\":10,\"error\":{\"code\":\"x\"}}]", c, 1, &e), RPC_OK);
	assert_int_equal(c[0].rc, RPC_EDECODE);
	/* an empty array answers nothing */
	assert_int_equal(batch_parse("[]", c, 2, &e), RPC_OK);
	assert_int_equal(c[0].rc, RPC_EDECODE);
	assert_int_equal(c[1].rc, RPC_EDECODE);

	/* the answer as a whole is refused: nothing kept */
	static const char *const bad[] = {
		"[{\"id\":10,\"result\":\"0x1\"},{\"id\":10,\"result\":\"0x2\"}]", /* one id twice */
		"[{\"id\":9,\"result\":\"0x1\"}]",                                 /* not one of ours */
		"[{\"id\":12,\"result\":\"0x1\"}]",                                /* past the last */
		"[{\"id\":\"10\",\"result\":\"0x1\"}]",                            /* a string id */
		"[{\"id\":10,\"result\":\"0x1\"},{\"id\":11,\"result\":\"0x1\"},{\"id\":null,"
		"\"result\":1}]",                                      /* too many */
		"[{\"id\":10,\"result\":\"0x1\"},5]",                  /* not an object */
		"[{\"id\":10,\"result\":\"0x1\",\"result\":\"0x2\"}]", /* duplicate key */
		"{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":\"0x1\"}",  /* one result */
		"\"x\"",
		"[",
		"",
		"[{\"id\":10,\"result\":\"0x1\"}] x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(batch_parse(bad[i], c, 2, &e), RPC_EDECODE);
		assert_int_equal(e.transport, RPC_T_DECODE);
		for (size_t k = 0; k < 2; k++) {
			assert_int_equal(c[k].rc, RPC_EDECODE);
			assert_null(c[k].result);
		}
	}
	/* one error object for the whole batch: the server takes no batches */
	assert_int_equal(batch_parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"batch "
	                             "requests are not supported\"}}",
	                             c, 2, &e),
	                 RPC_ENOBATCH);
	assert_int_equal(e.code, -32600);
	assert_string_equal(e.msg, "batch requests are not supported");
	assert_null(c[0].result);
	/* bounds of n */
	assert_int_equal(rpc_parse_batch("[]", 2, 10, c, 0, &e), RPC_EDECODE);
	rpc_batch_call *big = calloc(RPC_BATCH_MAX + 1, sizeof *big);
	assert_int_equal(rpc_parse_batch("[]", 2, 10, big, RPC_BATCH_MAX + 1, &e), RPC_EDECODE);
	assert_int_equal(rpc_parse_batch("[]", 2, 10, big, RPC_BATCH_MAX, &e), RPC_OK);
	free(big);
	calls_free(c, 4);
}

/* rpc_call_batch against a server: one request for the calls, answers matched by id whatever
 * their order, per-call errors, an unanswered call, and the fallback signal of a server without
 * batches. */
static void
test_call_batch(void **st)
{
	(void)st;
	srv *s = srv_start(138, MODE_OK);
	char url[64], err[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
	rpc *r = rpc_open(url, 138, 2000, err, sizeof err);
	assert_non_null(r);
	uint8_t raw[4][3] = { { 1, 2, 3 }, { 0xff, 1, 1 }, { 0xee, 2, 2 }, { 4, 5, 6 } };
	rpc_batch_call c[4];
	rpc_error e;
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(rpc_send_raw_call(&c[i], raw[i], 3), 0);
	int req0 = atomic_load(&s->requests);
	assert_int_equal(rpc_call_batch(r, c, 4, &e), RPC_OK);
	assert_int_equal(atomic_load(&s->requests) - req0, 1); /* one HTTP request for four calls */
	uint8_t h[32];
	assert_int_equal(c[0].rc, RPC_OK);
	assert_int_equal(rpc_send_raw_result(c[0].result, h, &e), RPC_OK);
	assert_int_equal(h[31], 1);
	assert_int_equal(c[1].rc, RPC_ENODE);
	assert_string_equal(c[1].e.msg, "nonce too low");
	assert_int_equal(c[2].rc, RPC_EDECODE);
	assert_int_equal(c[3].rc, RPC_OK);
	for (size_t i = 0; i < 4; i++)
		assert_null(c[i].params); /* stolen */
	calls_free(c, 4);

	atomic_store(&s->mode, MODE_NO_BATCH);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(rpc_send_raw_call(&c[i], raw[i], 3), 0);
	assert_int_equal(rpc_call_batch(r, c, 2, &e), RPC_ENOBATCH);
	assert_int_equal(e.code, -32600);
	assert_int_equal(c[0].rc, RPC_ENOBATCH);
	assert_null(c[0].result);
	assert_int_equal(rpc_active(r), 0); /* the node spoke: the endpoint stays in use */
	calls_free(c, 2);
	assert_int_equal(rpc_call_batch(r, c, 0, &e), RPC_EDECODE);
	rpc_close(r);
	srv_stop(s);

	/* nothing answers: every call is a transport failure */
	snprintf(url, sizeof url, "http://127.0.0.1:%d", dead_port());
	r = rpc_open(url, 138, 500, err, sizeof err);
	assert_non_null(r);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(rpc_send_raw_call(&c[i], raw[i], 3), 0);
	assert_int_equal(rpc_call_batch(r, c, 2, &e), RPC_ETRANSPORT);
	assert_int_equal(c[1].rc, RPC_ETRANSPORT);
	assert_int_equal(c[1].e.transport, RPC_T_CONNECT);
	calls_free(c, 2);
	rpc_close(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_and_keepalive),
		cmocka_unit_test(test_failover_and_back),
		cmocka_unit_test(test_wrong_chain),
		cmocka_unit_test(test_node_errors),
		cmocka_unit_test(test_timeout_and_too_big),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_decoder),
		cmocka_unit_test(test_raw_decoder),
		cmocka_unit_test(test_call_raw),
		cmocka_unit_test(test_batch_decoder),
		cmocka_unit_test(test_call_batch),
		cmocka_unit_test(test_chain_switch),
		cmocka_unit_test(test_error_space),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
