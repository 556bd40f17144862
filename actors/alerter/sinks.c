/* sinks.c - body formats, wire finalization and response classification of the four sink
 * kinds; see sinks.h. JSON is written field by field (not through a DOM) so that the order of
 * fields is fixed and the unit tests can compare exact bytes. */
#include "base/hex.h"
#include "actors/alerter/sinks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hash.h"

static const char *const sk_sev_names[] = { "info", "warning", "error", "critical" };

int
sk_severity_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, sk_sev_names[i]) == 0)
			return i;
	return -1;
}

const char *
sk_severity_name(int sev)
{
	return (unsigned)sev < 4 ? sk_sev_names[sev] : "info";
}

void
sk_rfc3339(uint64_t ns, char *out, size_t cap)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ns / 1000000u % 1000u));
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static size_t
sk_utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

void
sk_dedup_key(const sc_alert *a, char *out, size_t cap)
{
	size_t kl = strlen(a->kind);
	if (strncmp(a->dedupe_key, a->kind, kl) == 0 && a->dedupe_key[kl] == ':')
		snprintf(out, cap, "%s", a->dedupe_key);
	else
		snprintf(out, cap, "%s:%s", a->kind, a->dedupe_key);
	out[sk_utf8_cut(out, cap > 256 ? 255 : cap - 1)] = '\0';
}

/* JSON string of the first n bytes of s. */
static int
sk_json_strn(rt_buf *b, const char *s, size_t n)
{
	char tmp[1100];
	if (n >= sizeof tmp)
		n = sizeof tmp - 1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return rt_buf_json_str(b, tmp);
}

static void
sk_kv(rt_buf *b, int first, const char *k, const char *v)
{
	if (!first)
		rt_buf_puts(b, ",");
	rt_buf_json_str(b, k);
	rt_buf_puts(b, ":");
	rt_buf_json_str(b, v);
}

/* ---- Alertmanager: POST /api/v2/alerts ---------------------------------------------------- */

/* Alertmanager rejects the whole post (400) for one label name outside [a-zA-Z_][a-zA-Z0-9_]*,
 * so names from other actors are mapped into that alphabet rather than trusted. */
static void
sk_am_label_name(const char *in, char *out, size_t cap)
{
	size_t j = 0;
	if ((*in >= '0' && *in <= '9') && j + 1 < cap)
		out[j++] = '_';
	for (; *in && j + 1 < cap; in++) {
		char c = *in;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
		out[j++] = ok ? c : '_';
	}
	out[j] = '\0';
}

static int
sk_am_reserved(const char *name)
{
	static const char *const r[] = { "alertname", "severity", "dedupe_key", "origin", NULL };
	for (int i = 0; r[i]; i++)
		if (strcmp(name, r[i]) == 0)
			return 1;
	return 0;
}

static int
sk_am_format(const sk_sink *s, const sk_event *ev, rt_buf *b)
{
	const sc_alert *a = ev->a;
	char ts[40], name[SC_KV_KEY_CAP + 2];
	rt_buf_puts(b, "[{\"labels\":{");
	sk_kv(b, 1, "alertname", a->kind);
	sk_kv(b, 0, "severity", sk_severity_name(a->severity));
	sk_kv(b, 0, "dedupe_key", a->dedupe_key);
	if (a->origin[0])
		sk_kv(b, 0, "origin", a->origin);
	for (uint32_t i = 0; i < a->labels_count && i < 16; i++) {
		sk_am_label_name(a->labels[i].key, name, sizeof name);
		/* empty values mean "no label" to Alertmanager; ours win over colliding names */
		if (name[0] && a->labels[i].value[0] && !sk_am_reserved(name))
			sk_kv(b, 0, name, a->labels[i].value);
	}
	rt_buf_puts(b, "},\"annotations\":{");
	sk_kv(b, 1, "summary", a->summary);
	if (ev->suppressed) {
		char n[32];
		snprintf(n, sizeof n, "%llu", (unsigned long long)ev->count);
		sk_kv(b, 0, "occurrences", n);
	}
	sk_rfc3339(ev->firing_since_ns, ts, sizeof ts);
	rt_buf_puts(b, "},\"startsAt\":");
	rt_buf_json_str(b, ts);
	if (a->status == SC_ALERT_RESOLVED) {
		sk_rfc3339(ev->now_ns, ts, sizeof ts);
		rt_buf_puts(b, ",\"endsAt\":");
		rt_buf_json_str(b, ts);
	}
	if (s->generator_url[0]) {
		rt_buf_puts(b, ",\"generatorURL\":");
		rt_buf_json_str(b, s->generator_url);
	}
	rt_buf_puts(b, "}]");
	return b->oom ? -1 : 0;
}

/* ---- Slack incoming webhook: {"text": ...} ------------------------------------------------ */

/* Slack's mrkdwn gives & < > meaning; everything else is literal. */
static void
sk_slack_escape(rt_buf *t, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			rt_buf_puts(t, "&amp;");
		else if (*s == '<')
			rt_buf_puts(t, "&lt;");
		else if (*s == '>')
			rt_buf_puts(t, "&gt;");
		else
			rt_buf_append(t, s, 1);
	}
}

static int
sk_slack_format(const sk_sink *s, const sk_event *ev, rt_buf *b)
{
	const sc_alert *a = ev->a;
	rt_buf t = RT_BUF_INIT;
	char up[16], since[40];
	int resolved = a->status == SC_ALERT_RESOLVED;
	snprintf(up, sizeof up, "%s", sk_severity_name(a->severity));
	for (char *p = up; *p; p++)
		*p = (char)(*p - 'a' + 'A');
	rt_buf_printf(&t, "%s *%s* ", resolved ? ":white_check_mark:" : ":rotating_light:", resolved ? "RESOLVED" : up);
	sk_slack_escape(&t, a->kind);
	rt_buf_puts(&t, ": ");
	sk_slack_escape(&t, a->summary);
	rt_buf_puts(&t, "\nkey `");
	sk_slack_escape(&t, a->dedupe_key);
	rt_buf_puts(&t, "` from `");
	sk_slack_escape(&t, a->origin);
	rt_buf_puts(&t, "`");
	for (uint32_t i = 0; i < a->labels_count && i < 16; i++) {
		rt_buf_puts(&t, i ? ", " : " · ");
		sk_slack_escape(&t, a->labels[i].key);
		rt_buf_puts(&t, "=");
		sk_slack_escape(&t, a->labels[i].value);
	}
	sk_rfc3339(ev->firing_since_ns, since, sizeof since);
	if (resolved)
		rt_buf_printf(&t, "\nfiring since %s, %llu occurrence%s", since, (unsigned long long)ev->count,
		              ev->count == 1 ? "" : "s");
	else if (ev->suppressed)
		rt_buf_printf(&t, "\n%llu repeat%s grouped since the last message; %llu occurrences since %s",
		              (unsigned long long)ev->suppressed, ev->suppressed == 1 ? "" : "s",
		              (unsigned long long)ev->count, since);
	rt_buf_puts(b, "{\"text\":");
	rt_buf_json_str(b, t.data ? (const char *)t.data : "");
	rt_buf_puts(b, "}");
	int oom = t.oom;
	rt_buf_free(&t);
	return b->oom || oom ? -1 : 0;
}

/* ---- PagerDuty Events API v2 -------------------------------------------------------------- */

static int
sk_pd_format(const sk_sink *s, const sk_event *ev, rt_buf *b)
{
	const sc_alert *a = ev->a;
	char dk[256], ts[40];
	sk_dedup_key(a, dk, sizeof dk);
	/* routing_key is put in front at send time (sk_pd_finalize): the secret stays off disk */
	if (a->status == SC_ALERT_RESOLVED) {
		rt_buf_puts(b, "{\"event_action\":\"resolve\",\"dedup_key\":");
		rt_buf_json_str(b, dk);
		rt_buf_puts(b, "}");
		return b->oom ? -1 : 0;
	}
	rt_buf_puts(b, "{\"event_action\":\"trigger\",\"dedup_key\":");
	rt_buf_json_str(b, dk);
	rt_buf_puts(b, ",\"payload\":{\"summary\":");
	sk_json_strn(b, a->summary[0] ? a->summary : a->kind, sk_utf8_cut(a->summary[0] ? a->summary : a->kind, 1024));
	rt_buf_puts(b, ",\"source\":");
	rt_buf_json_str(b, a->origin[0] ? a->origin : ev->instance);
	rt_buf_puts(b, ",\"severity\":");
	rt_buf_json_str(b, sk_severity_name(a->severity));
	sk_rfc3339(ev->firing_since_ns, ts, sizeof ts);
	rt_buf_puts(b, ",\"timestamp\":");
	rt_buf_json_str(b, ts);
	rt_buf_puts(b, ",\"class\":");
	rt_buf_json_str(b, a->kind);
	rt_buf_puts(b, ",\"custom_details\":{");
	sk_kv(b, 1, "dedupe_key", a->dedupe_key);
	for (uint32_t i = 0; i < a->labels_count && i < 16; i++)
		sk_kv(b, 0, a->labels[i].key, a->labels[i].value);
	rt_buf_printf(b, ",\"occurrences\":%llu,\"grouped_repeats\":%llu}},\"client\":\"oraclebus alerter\"}",
	              (unsigned long long)ev->count, (unsigned long long)ev->suppressed);
	return b->oom ? -1 : 0;
}

static int
sk_pd_finalize(const sk_sink *s, const uint8_t *body, size_t len, uint64_t now_s, const char *event_id, rt_buf *out,
               sk_headers *hd)
{
	if (len < 2 || body[0] != '{')
		return -1;
	rt_buf_puts(out, "{\"routing_key\":");
	rt_buf_json_str(out, s->secret ? s->secret : "");
	rt_buf_puts(out, ",");
	rt_buf_append(out, body + 1, len - 1);
	return out->oom ? -1 : 0;
}

/* ---- generic webhook: our own JSON, signed ------------------------------------------------ */

static int
sk_hook_format(const sk_sink *s, const sk_event *ev, rt_buf *b)
{
	const sc_alert *a = ev->a;
	char ts[40];
	rt_buf_puts(b, "{\"version\":1,");
	sk_kv(b, 1, "event_id", ev->event_id ? ev->event_id : "");
	sk_kv(b, 0, "status", a->status == SC_ALERT_RESOLVED ? "resolved" : "firing");
	sk_kv(b, 0, "kind", a->kind);
	sk_kv(b, 0, "severity", sk_severity_name(a->severity));
	sk_kv(b, 0, "dedupe_key", a->dedupe_key);
	sk_kv(b, 0, "summary", a->summary);
	rt_buf_puts(b, ",\"labels\":{");
	for (uint32_t i = 0; i < a->labels_count && i < 16; i++)
		sk_kv(b, i == 0, a->labels[i].key, a->labels[i].value);
	rt_buf_puts(b, "}");
	sk_kv(b, 0, "origin", a->origin);
	sk_rfc3339(ev->firing_since_ns, ts, sizeof ts);
	sk_kv(b, 0, "starts_at", ts);
	if (a->status == SC_ALERT_RESOLVED) {
		sk_rfc3339(ev->now_ns, ts, sizeof ts);
		sk_kv(b, 0, "ends_at", ts);
	}
	rt_buf_printf(b, ",\"occurrences\":%llu,\"grouped_repeats\":%llu", (unsigned long long)ev->count,
	              (unsigned long long)ev->suppressed);
	sk_kv(b, 0, "alerter", ev->instance);
	rt_buf_puts(b, "}");
	return b->oom ? -1 : 0;
}

/* Signature = HMAC-SHA256(secret, "<timestamp>.<body>"): the timestamp is inside the MAC, so a
 * receiver that refuses old timestamps is safe from replays (the scheme Stripe and Slack use). */
static int
sk_hook_finalize(const sk_sink *s, const uint8_t *body, size_t len, uint64_t now_s, const char *event_id, rt_buf *out,
                 sk_headers *hd)
{
	char t[24], hex[65];
	uint8_t mac[32];
	snprintf(t, sizeof t, "%llu", (unsigned long long)now_s);
	const void *parts[3] = { t, ".", body };
	size_t lens[3] = { strlen(t), 1, len };
	ob_hmac_sha256_v(s->secret ? s->secret : "", s->secret_len, parts, lens, 3, mac);
	hex_encode(mac, 32, 0, hex);
	hd->n = 0;
	snprintf(hd->h[hd->n++], sizeof hd->h[0], "X-Oraclebus-Timestamp: %s", t);
	snprintf(hd->h[hd->n++], sizeof hd->h[0], "X-Oraclebus-Signature: sha256=%s", hex);
	if (event_id)
		snprintf(hd->h[hd->n++], sizeof hd->h[0], "X-Oraclebus-Event-Id: %s", event_id);
	return rt_buf_append(out, body, len);
}

static int
sk_plain_finalize(const sk_sink *s, const uint8_t *body, size_t len, uint64_t now_s, const char *event_id, rt_buf *out,
                  sk_headers *hd)
{
	return rt_buf_append(out, body, len);
}

/* ---- classification ----------------------------------------------------------------------- */

/* First matching row wins. Shared by every kind; Slack adds its body check on top. */
static const struct {
	long lo, hi;
	sk_verdict v;
	const char *cls;
} sk_rules
        [] = {
	        { 0, 0, SK_RETRY, "network" }, /* no answer: connect refused, timeout, reset */
	        { 200, 299, SK_OK, "ok" },
	        { 300, 399, SK_PERMANENT, "redirect" }, /* not followed: a moved webhook is a config error */
	        { 408, 408, SK_RETRY, "server" },       /* request timeout */
	        { 429, 429, SK_RETRY, "throttled" },
	        { 400, 499, SK_PERMANENT, "rejected" },
	        { 500, 599, SK_RETRY, "server" },
        };

static sk_result
sk_classify_status(long status, const char *body, size_t len)
{
	for (size_t i = 0; i < sizeof sk_rules / sizeof sk_rules[0]; i++)
		if (status >= sk_rules[i].lo && status <= sk_rules[i].hi)
			return (sk_result){ sk_rules[i].v, sk_rules[i].cls };
	return (sk_result){ SK_RETRY, "bad_response" };
}

/* Slack answers 200 with the body "ok"; a 200 with anything else is not a delivery we can trust
 * (a captive proxy, a wrong URL behind a catch-all), so it is retried. */
static sk_result
sk_classify_slack(long status, const char *body, size_t len)
{
	sk_result r = sk_classify_status(status, body, len);
	if (r.verdict == SK_OK && !(status == 200 && len == 2 && memcmp(body, "ok", 2) == 0))
		return (sk_result){ SK_RETRY, "bad_response" };
	return r;
}

/* Every rule of a sink kind lives in its row: the config reader and the engine only read the table. */
const sk_ops sk_ops_table[SK_NKINDS] = {
	[SK_ALERTMANAGER] = { .name = "alertmanager",
	                      .resends = 1,
	                      .resolves = 1,
	                      .always_resolves = 1,
	                      .min_severity = SC_SEV_INFO,
	                      .url_path = "/api/v2/alerts",
	                      .format = sk_am_format,
	                      .finalize = sk_plain_finalize,
	                      .classify = sk_classify_status },
	[SK_SLACK] = { .name = "slack",
	               .min_severity = SC_SEV_INFO,
	               .format = sk_slack_format,
	               .finalize = sk_plain_finalize,
	               .classify = sk_classify_slack },
	[SK_PAGERDUTY] = { .name = "pagerduty",
	                   .resolves = 1,
	                   .secret = "the routing key",
	                   .secret_max = 64,
	                   .min_severity = SC_SEV_ERROR,
	                   .format = sk_pd_format,
	                   .finalize = sk_pd_finalize,
	                   .classify = sk_classify_status },
	[SK_WEBHOOK] = { .name = "webhook",
	                 .resolves = 1,
	                 .secret = "the HMAC key",
	                 .min_severity = SC_SEV_INFO,
	                 .format = sk_hook_format,
	                 .finalize = sk_hook_finalize,
	                 .classify = sk_classify_status },
};

const sk_ops *
sk_ops_by_name(const char *name)
{
	for (int i = 0; i < SK_NKINDS; i++)
		if (strcmp(sk_ops_table[i].name, name) == 0)
			return &sk_ops_table[i];
	return NULL;
}

void
sk_sink_free(sk_sink *s)
{
	if (s->secret) {
		explicit_bzero(s->secret, s->secret_len);
		free(s->secret);
	}
	free(s->url);
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i].op == SK_RE || s->m[i].op == SK_NRE)
			regfree(&s->m[i].re);
	s->secret = s->url = NULL;
	s->secret_len = s->nm = 0;
}
