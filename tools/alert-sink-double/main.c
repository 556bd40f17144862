/*
 * alert-sink-double - a test double of the alert sinks that cannot run here (Slack incoming
 * webhooks, PagerDuty Events API v2, a receiver of the alerter's signed webhook), speaking their
 * wire formats, for tests/integration/alerter_*.sh. (Alertmanager is the real one.)
 *
 *   alert-sink-double --port P --record FILE [--secret HMAC_KEY]
 *
 *   POST /slack/...      Slack: 200 "ok" for {"text": non-empty}, else 400 "no_text"/"invalid_payload"
 *   POST /v2/enqueue     PagerDuty: 202 {"status":"success",...,"dedup_key":...} for a valid
 *                        trigger/acknowledge/resolve (routing_key 32 chars, dedup_key <= 255,
 *                        payload.summary <= 1024, source, severity in critical|error|warning|info),
 *                        else 400 {"status":"invalid event","errors":[...]}
 *   POST /hook...        webhook: checks X-Oraclebus-Signature = sha256=HMAC(key, "<ts>.<body>")
 *                        and X-Oraclebus-Timestamp within 5 minutes: 200, else 401
 *   POST /_ctl/script?kind=slack|pagerduty|webhook   body "429 429 500": answer these statuses
 *                        (with the sink's own error bodies) before serving normally again
 *
 * Every request is appended to FILE as one JSON line:
 *   {"kind":"pagerduty","status":202,"verified":true,"body":"<the raw body>","ts":..,"sig":..,"at":unix}
 * The HMAC check uses the alerter's SHA-256 (included below); the integration test re-checks the
 * recorded signatures with Python's hmac module, independently.
 */
#include "base/hash.h"
#include "base/hex.h"
#include "base/rt_version.h"

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	SD_SLACK,
	SD_PD,
	SD_HOOK,
	SD_NKINDS
};
static const char *const sd_kind_names[SD_NKINDS] = { "slack", "pagerduty", "webhook" };

static pthread_mutex_t sd_mu = PTHREAD_MUTEX_INITIALIZER;
static int sd_script[SD_NKINDS][64];
static size_t sd_nscript[SD_NKINDS];
static FILE *sd_rec;
static const char *sd_secret = "";
static volatile sig_atomic_t sd_stop;

static void
sd_on_term(int sig)
{
	sd_stop = 1;
}

static int
sd_next_scripted(int kind)
{
	int st = 0;
	pthread_mutex_lock(&sd_mu);
	if (sd_nscript[kind]) {
		st = sd_script[kind][0];
		memmove(sd_script[kind], sd_script[kind] + 1, --sd_nscript[kind] * sizeof(int));
	}
	pthread_mutex_unlock(&sd_mu);
	return st;
}

static void
sd_record(nng_http_req *req, int kind, int status, int verified, const char *body, size_t len)
{
	const char *ts = nng_http_req_get_header(req, "X-Oraclebus-Timestamp");
	const char *sig = nng_http_req_get_header(req, "X-Oraclebus-Signature");
	json_t *j = json_pack("{s:s,s:i,s:b,s:s%,s:s,s:s,s:f}", "kind", sd_kind_names[kind], "status", status,
	                      "verified", verified, "body", body ? body : "", body ? len : 0, "ts", ts ? ts : "", "sig",
	                      sig ? sig : "", "at", (double)time(NULL));
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	pthread_mutex_lock(&sd_mu);
	if (s) {
		fprintf(sd_rec, "%s\n", s);
		fflush(sd_rec);
	}
	pthread_mutex_unlock(&sd_mu);
	free(s);
	json_decref(j);
}

/* PagerDuty's validation of an event, as documented for /v2/enqueue. */
static const char *
sd_pd_invalid(const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *why = NULL, *act, *rk, *dk;
	if (!j)
		return "Event object is invalid: not JSON";
	rk = json_string_value(json_object_get(j, "routing_key"));
	act = json_string_value(json_object_get(j, "event_action"));
	dk = json_string_value(json_object_get(j, "dedup_key"));
	if (!rk || strlen(rk) != 32)
		why = "'routing_key' must be a 32 character integration key";
	else if (!act || (strcmp(act, "trigger") && strcmp(act, "acknowledge") && strcmp(act, "resolve")))
		why = "'event_action' is invalid";
	else if (dk && strlen(dk) > 255)
		why = "'dedup_key' longer than 255";
	else if (strcmp(act, "trigger") != 0 && !dk)
		why = "'dedup_key' is required for acknowledge and resolve";
	else if (strcmp(act, "trigger") == 0) {
		json_t *p = json_object_get(j, "payload");
		const char *sum = json_string_value(json_object_get(p, "summary"));
		const char *src = json_string_value(json_object_get(p, "source"));
		const char *sev = json_string_value(json_object_get(p, "severity"));
		if (!sum || !*sum || strlen(sum) > 1024)
			why = "'payload.summary' is missing or longer than 1024";
		else if (!src || !*src)
			why = "'payload.source' is missing";
		else if (!sev || (strcmp(sev, "critical") && strcmp(sev, "error") && strcmp(sev, "warning") &&
		                  strcmp(sev, "info")))
			why = "'payload.severity' is invalid";
	}
	json_decref(j);
	return why;
}

static int
sd_hook_verified(nng_http_req *req, const char *body, size_t len)
{
	const char *ts = nng_http_req_get_header(req, "X-Oraclebus-Timestamp");
	const char *sig = nng_http_req_get_header(req, "X-Oraclebus-Signature");
	uint8_t mac[32];
	char hex[65], want[72];
	if (!ts || !sig)
		return 0;
	long long t = atoll(ts);
	if (llabs((long long)time(NULL) - t) > 300) /* replay window */
		return 0;
	const void *parts[3] = { ts, ".", body };
	size_t lens[3] = { strlen(ts), 1, len };
	ob_hmac_sha256_v(sd_secret, strlen(sd_secret), parts, lens, 3, mac);
	hex_encode(mac, 32, 0, hex);
	snprintf(want, sizeof want, "sha256=%s", hex);
	return strcmp(want, sig) == 0;
}

static void
sd_reply(nng_aio *aio, int status, const char *ctype, const char *body)
{
	nng_http_res *res;
	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_http_res_set_status(res, (uint16_t)status);
	nng_http_res_set_header(res, "Content-Type", ctype);
	nng_http_res_copy_data(res, body, strlen(body));
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static void
sd_ctl(nng_aio *aio, const char *uri, const char *body, size_t len)
{
	int kind = -1;
	for (int k = 0; k < SD_NKINDS; k++) {
		char q[40];
		snprintf(q, sizeof q, "kind=%s", sd_kind_names[k]);
		if (strstr(uri, q))
			kind = k;
	}
	if (kind < 0) {
		sd_reply(aio, 400, "text/plain", "kind=slack|pagerduty|webhook\n");
		return;
	}
	char buf[512];
	snprintf(buf, sizeof buf, "%.*s", (int)(len < 511 ? len : 511), body ? body : "");
	pthread_mutex_lock(&sd_mu);
	sd_nscript[kind] = 0;
	for (char *t = strtok(buf, " ,\n"); t && sd_nscript[kind] < 64; t = strtok(NULL, " ,\n"))
		sd_script[kind][sd_nscript[kind]++] = atoi(t);
	pthread_mutex_unlock(&sd_mu);
	sd_reply(aio, 200, "text/plain", "scripted\n");
}

/* The error bodies each service sends with a scripted status. */
static const char *
sd_error_body(int kind, int status)
{
	if (kind == SD_SLACK)
		return status == 429   ? "rate_limited"
		       : status >= 500 ? "internal_error"
		       : status == 404 ? "no_team"
		                       : "invalid_payload";
	if (kind == SD_PD)
		return status == 429   ? "{\"status\":\"throttle event\",\"message\":\"Requests for this service are "
		                         "arriving too quickly. Please retry later.\"}"
		       : status >= 500 ? "{\"status\":\"error\",\"message\":\"Internal Server Error\"}"
		                       : "{\"status\":\"invalid event\",\"message\":\"Event object is "
		                         "invalid\",\"errors\":[\"scripted\"]}";
	return status >= 500 ? "internal error" : "scripted";
}

static void
sd_cb(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	const char *uri = nng_http_req_get_uri(req);
	void *data;
	size_t len;
	nng_http_req_get_data(req, &data, &len);
	const char *body = data;
	int kind;
	if (strncmp(uri, "/_ctl/script", 12) == 0) {
		sd_ctl(aio, uri, body, len);
		return;
	}
	if (strncmp(uri, "/slack/", 7) == 0)
		kind = SD_SLACK;
	else if (strncmp(uri, "/v2/enqueue", 11) == 0)
		kind = SD_PD;
	else if (strncmp(uri, "/hook", 5) == 0)
		kind = SD_HOOK;
	else {
		sd_reply(aio, 404, "text/plain", "not found\n");
		return;
	}
	int verified = kind == SD_HOOK ? sd_hook_verified(req, body, len) : 1;
	int status = sd_next_scripted(kind);
	if (status) {
		sd_record(req, kind, status, verified, body, len);
		sd_reply(aio, status, kind == SD_PD ? "application/json" : "text/plain", sd_error_body(kind, status));
		return;
	}
	if (kind == SD_SLACK) {
		json_t *j = json_loadb(body ? body : "", len, 0, NULL);
		const char *text = json_string_value(json_object_get(j, "text"));
		status = !j ? 400 : (!text || !*text) ? 400 : 200;
		sd_record(req, kind, status, 1, body, len);
		sd_reply(aio, status, "text/plain", !j ? "invalid_payload" : status == 400 ? "no_text" : "ok");
		json_decref(j);
	} else if (kind == SD_PD) {
		const char *why = sd_pd_invalid(body ? body : "", len);
		char out[600];
		json_t *j = json_loadb(body ? body : "", len, 0, NULL);
		const char *dk = json_string_value(json_object_get(j, "dedup_key"));
		if (why)
			snprintf(out, sizeof out,
			         "{\"status\":\"invalid event\",\"message\":\"Event object is "
			         "invalid\",\"errors\":[\"%s\"]}",
			         why);
		else
			snprintf(out, sizeof out,
			         "{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":\"%.255s\"}",
			         dk ? dk : "generated");
		json_decref(j);
		sd_record(req, kind, why ? 400 : 202, 1, body, len);
		sd_reply(aio, why ? 400 : 202, "application/json", out);
	} else {
		sd_record(req, kind, verified ? 200 : 401, verified, body, len);
		sd_reply(aio, verified ? 200 : 401, "application/json",
		         verified ? "{\"ok\":true}" : "{\"error\":\"bad signature\"}");
	}
}

#define SD_USAGE                                                                                                       \
	"usage: alert-sink-double --port P --record FILE [--secret HMAC_KEY]\n"                                        \
	"       alert-sink-double --help | --version\n"

int
main(int argc, char **argv)
{
	const char *port = NULL, *rec = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(SD_USAGE "A test double of Slack, PagerDuty and the alerter's webhook (see main.c).\n",
			      stdout);
			return RT_EXIT_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			rt_version_print("alert-sink-double", stdout);
			return RT_EXIT_OK;
		}
		const char **dst = !strcmp(argv[i], "--port")     ? &port
		                   : !strcmp(argv[i], "--record") ? &rec
		                   : !strcmp(argv[i], "--secret") ? &sd_secret
		                                                  : NULL;
		if (dst == NULL || i + 1 == argc) {
			fprintf(stderr, "alert-sink-double: unknown option or missing value: %s\n" SD_USAGE, argv[i]);
			return RT_EXIT_USAGE;
		}
		*dst = argv[++i];
	}
	if (!port || !rec) {
		fprintf(stderr, "alert-sink-double: --port and --record are required\n" SD_USAGE);
		return RT_EXIT_USAGE;
	}
	if (!(sd_rec = fopen(rec, "a"))) {
		perror(rec);
		return 1;
	}
	char url[64];
	nng_url *u;
	nng_http_server *srv;
	nng_http_handler *h;
	snprintf(url, sizeof url, "http://127.0.0.1:%s", port);
	int rv;
	if ((rv = nng_url_parse(&u, url)) != 0 || (rv = nng_http_server_hold(&srv, u)) != 0 ||
	    (rv = nng_http_handler_alloc(&h, "/", sd_cb)) != 0 || (rv = nng_http_handler_set_method(h, NULL)) != 0 ||
	    (rv = nng_http_handler_set_tree(h)) != 0 || (rv = nng_http_handler_collect_body(h, true, 1 << 20)) != 0 ||
	    (rv = nng_http_server_add_handler(srv, h)) != 0 || (rv = nng_http_server_start(srv)) != 0) {
		fprintf(stderr, "alert-sink-double: %s: %s\n", url, nng_strerror(rv));
		return RT_EXIT_UNAVAILABLE;
	}
	signal(SIGTERM, sd_on_term);
	signal(SIGINT, sd_on_term);
	fprintf(stderr, "alert-sink-double listening on %s\n", url);
	while (!sd_stop)
		usleep(50000);
	nng_http_server_stop(srv);
	nng_http_server_release(srv);
	nng_url_free(u);
	fclose(sd_rec);
	return 0;
}
