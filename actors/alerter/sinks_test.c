/*
 * sinks_test.c - the pure parts of the alerter: each sink's body to the byte (firing, grouped
 * repeat, resolve), PagerDuty's routing key and the webhook's signature added at send time only,
 * the response classification table, grouping and rate-limit decisions, config parsing and
 * matchers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "actors/alerter/config.h"
#include "actors/alerter/group.h"
#include "base/hash.h"
#include "actors/alerter/sinks.h"

#define S 1000000000ull

static sc_alert
alert(int status)
{
	sc_alert a;
	memset(&a, 0, sizeof a);
	strcpy(a.kind, "tx_failed");
	a.severity = SC_SEV_CRITICAL;
	a.status = status;
	strcpy(a.dedupe_key, "tx_failed:0xabc");
	strcpy(a.summary, "tx 0xabc reverted <out of gas> & \"more\"");
	strcpy(a.origin, "submitter-0");
	strcpy(a.labels[0].key, "chain");
	strcpy(a.labels[0].value, "138");
	strcpy(a.labels[1].key, "tx-hash"); /* not an Alertmanager label name */
	strcpy(a.labels[1].value, "0xabc");
	strcpy(a.labels[2].key, "severity"); /* collides with ours: dropped for Alertmanager */
	strcpy(a.labels[2].value, "low");
	a.labels_count = 3;
	a.started_at_ns = 1700000000123000000ull;
	return a;
}

static sk_sink
sink(sk_kind k, const char *secret)
{
	sk_sink s;
	memset(&s, 0, sizeof s);
	s.kind = k;
	s.ops = &sk_ops_table[k];
	strcpy(s.name, s.ops->name);
	s.url = strdup("http://127.0.0.1:1/x");
	if (secret) {
		s.secret = strdup(secret);
		s.secret_len = strlen(secret);
	}
	return s;
}

static char *
fmt(sk_kind k, const char *secret, const sc_alert *a, uint64_t count, uint64_t grouped)
{
	sk_sink s = sink(k, secret);
	sk_event ev = { a, 1700000000123000000ull, 1700000600000000000ull, count, grouped, "00ff", "alerter-0" };
	rt_buf b = RT_BUF_INIT, w = RT_BUF_INIT;
	sk_headers hd = { .n = 0 };
	if (k == SK_ALERTMANAGER)
		strcpy(s.generator_url, "http://alerter:9100/alerts");
	assert_int_equal(s.ops->format(&s, &ev, &b), 0);
	assert_int_equal(s.ops->finalize(&s, b.data, b.len, 1700000700, "00ff", &w, &hd), 0);
	if (k == SK_PAGERDUTY) /* the routing key is not in the stored body */
		assert_null(strstr((char *)b.data, secret));
	rt_buf_free(&b);
	sk_sink_free(&s);
	return (char *)w.data;
}

static void
test_alertmanager(void **state)
{
	sc_alert a = alert(SC_ALERT_FIRING);
	char *j = fmt(SK_ALERTMANAGER, NULL, &a, 1, 0);
	assert_string_equal(
	        j, "[{\"labels\":{\"alertname\":\"tx_failed\",\"severity\":\"critical\",\"dedupe_key\":"
	           "\"tx_failed:0xabc\",\"origin\":\"submitter-0\",\"chain\":\"138\",\"tx_hash\":\"0xabc\"},"
	           "\"annotations\":{\"summary\":\"tx 0xabc reverted <out of gas> & \\\"more\\\"\"},"
	           "\"startsAt\":\"2023-11-14T22:13:20.123Z\",\"generatorURL\":\"http://alerter:9100/alerts\"}]");
	free(j);
	a.status = SC_ALERT_RESOLVED;
	j = fmt(SK_ALERTMANAGER, NULL, &a, 7, 6);
	assert_string_equal(
	        j, "[{\"labels\":{\"alertname\":\"tx_failed\",\"severity\":\"critical\",\"dedupe_key\":"
	           "\"tx_failed:0xabc\",\"origin\":\"submitter-0\",\"chain\":\"138\",\"tx_hash\":\"0xabc\"},"
	           "\"annotations\":{\"summary\":\"tx 0xabc reverted <out of gas> & \\\"more\\\"\","
	           "\"occurrences\":\"7\"},\"startsAt\":\"2023-11-14T22:13:20.123Z\","
	           "\"endsAt\":\"2023-11-14T22:23:20.000Z\",\"generatorURL\":\"http://alerter:9100/alerts\"}]");
	free(j);
}

static void
test_slack(void **state)
{
	sc_alert a = alert(SC_ALERT_FIRING);
	char *j = fmt(SK_SLACK, NULL, &a, 51, 50);
	assert_string_equal(j,
	                    "{\"text\":\":rotating_light: *CRITICAL* tx_failed: tx 0xabc reverted &lt;out of gas&gt; "
	                    "&amp; \\\"more\\\"\\nkey `tx_failed:0xabc` from `submitter-0` · chain=138, tx-hash=0xabc, "
	                    "severity=low\\n50 repeats grouped since the last message; 51 occurrences since "
	                    "2023-11-14T22:13:20.123Z\"}");
	free(j);
	a.status = SC_ALERT_RESOLVED;
	a.labels_count = 0;
	j = fmt(SK_SLACK, NULL, &a, 1, 0);
	assert_string_equal(j, "{\"text\":\":white_check_mark: *RESOLVED* tx_failed: tx 0xabc reverted &lt;out of "
	                       "gas&gt; &amp; \\\"more\\\"\\nkey `tx_failed:0xabc` from `submitter-0`\\nfiring since "
	                       "2023-11-14T22:13:20.123Z, 1 occurrence\"}");
	free(j);
}

static void
test_pagerduty(void **state)
{
	sc_alert a = alert(SC_ALERT_FIRING);
	char *j = fmt(SK_PAGERDUTY, "R0UT1NGKEY0123456789abcdefabcdef", &a, 3, 2);
	assert_string_equal(j,
	                    "{\"routing_key\":\"R0UT1NGKEY0123456789abcdefabcdef\",\"event_action\":\"trigger\","
	                    "\"dedup_key\":\"tx_failed:0xabc\",\"payload\":{\"summary\":\"tx 0xabc reverted <out of "
	                    "gas> & \\\"more\\\"\",\"source\":\"submitter-0\",\"severity\":\"critical\",\"timestamp\":"
	                    "\"2023-11-14T22:13:20.123Z\",\"class\":\"tx_failed\",\"custom_details\":{\"dedupe_key\":"
	                    "\"tx_failed:0xabc\",\"chain\":\"138\",\"tx-hash\":\"0xabc\",\"severity\":\"low\","
	                    "\"occurrences\":3,\"grouped_repeats\":2}},\"client\":\"oraclebus alerter\"}");
	free(j);
	a.status = SC_ALERT_RESOLVED;
	j = fmt(SK_PAGERDUTY, "K", &a, 3, 0);
	assert_string_equal(j,
	                    "{\"routing_key\":\"K\",\"event_action\":\"resolve\",\"dedup_key\":\"tx_failed:0xabc\"}");
	free(j);
	/* dedup_key: prefixed with the kind unless already; capped at 255 bytes */
	char dk[300];
	strcpy(a.dedupe_key, "ETH-USD");
	sk_dedup_key(&a, dk, sizeof dk);
	assert_string_equal(dk, "tx_failed:ETH-USD");
	memset(a.dedupe_key, 'x', 127);
	a.dedupe_key[127] = '\0';
	memset(a.kind, 'k', 47);
	a.kind[47] = '\0';
	sk_dedup_key(&a, dk, sizeof dk);
	assert_true(strlen(dk) <= 255);
	/* summary capped at 1024 bytes without splitting UTF-8: 511 bytes fit anyway */
}

static void
test_webhook_signature(void **state)
{
	sc_alert a = alert(SC_ALERT_FIRING);
	sk_sink s = sink(SK_WEBHOOK, "topsecret");
	sk_event ev = { &a, a.started_at_ns, a.started_at_ns, 1, 0, "00ff", "alerter-0" };
	rt_buf b = RT_BUF_INIT, w = RT_BUF_INIT;
	sk_headers hd = { .n = 0 };
	a.labels_count = 1;
	assert_int_equal(s.ops->format(&s, &ev, &b), 0);
	assert_string_equal(
	        (char *)b.data,
	        "{\"version\":1,\"event_id\":\"00ff\",\"status\":\"firing\",\"kind\":\"tx_failed\","
	        "\"severity\":\"critical\",\"dedupe_key\":\"tx_failed:0xabc\",\"summary\":\"tx 0xabc reverted "
	        "<out of gas> & \\\"more\\\"\",\"labels\":{\"chain\":\"138\"},\"origin\":\"submitter-0\","
	        "\"starts_at\":\"2023-11-14T22:13:20.123Z\",\"occurrences\":1,\"grouped_repeats\":0,"
	        "\"alerter\":\"alerter-0\"}");
	assert_int_equal(s.ops->finalize(&s, b.data, b.len, 1700000700, "00ff", &w, &hd), 0);
	assert_int_equal(w.len, b.len);
	assert_int_equal(hd.n, 3);
	assert_string_equal(hd.h[0], "X-Oraclebus-Timestamp: 1700000700");
	/* the MAC covers "<timestamp>.<body>", computed here independently of finalize's parts */
	char *msg = NULL;
	assert_true(asprintf(&msg, "1700000700.%s", (char *)b.data) > 0);
	uint8_t mac[32];
	char hex[65], want[100];
	ob_hmac_sha256("topsecret", 9, msg, strlen(msg), mac);
	hex_encode(mac, 32, 0, hex);
	snprintf(want, sizeof want, "X-Oraclebus-Signature: sha256=%s", hex);
	assert_string_equal(hd.h[1], want);
	assert_string_equal(hd.h[2], "X-Oraclebus-Event-Id: 00ff");
	free(msg);
	rt_buf_free(&b);
	rt_buf_free(&w);
	sk_sink_free(&s);
}

static void
test_classify(void **state)
{
	static const struct {
		sk_kind k;
		long status;
		const char *body;
		sk_verdict v;
		const char *cls;
	} t[] = {
		{ SK_PAGERDUTY, 202, "{\"status\":\"success\"}", SK_OK, "ok" },
		{ SK_PAGERDUTY, 400, "{\"status\":\"invalid event\"}", SK_PERMANENT, "rejected" },
		{ SK_PAGERDUTY, 429, "", SK_RETRY, "throttled" },
		{ SK_PAGERDUTY, 500, "", SK_RETRY, "server" },
		{ SK_PAGERDUTY, 503, "", SK_RETRY, "server" },
		{ SK_PAGERDUTY, 0, "", SK_RETRY, "network" },
		{ SK_SLACK, 200, "ok", SK_OK, "ok" },
		{ SK_SLACK, 200, "<html>login</html>", SK_RETRY, "bad_response" },
		{ SK_SLACK, 404, "no_team", SK_PERMANENT, "rejected" },
		{ SK_SLACK, 400, "invalid_payload", SK_PERMANENT, "rejected" },
		{ SK_SLACK, 429, "", SK_RETRY, "throttled" },
		{ SK_ALERTMANAGER, 200, "", SK_OK, "ok" },
		{ SK_ALERTMANAGER, 400, "bad labels", SK_PERMANENT, "rejected" },
		{ SK_ALERTMANAGER, 500, "", SK_RETRY, "server" },
		{ SK_WEBHOOK, 204, "", SK_OK, "ok" },
		{ SK_WEBHOOK, 301, "", SK_PERMANENT, "redirect" },
		{ SK_WEBHOOK, 401, "bad signature", SK_PERMANENT, "rejected" },
		{ SK_WEBHOOK, 408, "", SK_RETRY, "server" },
		{ SK_WEBHOOK, 100, "", SK_RETRY, "bad_response" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		sk_result r = sk_ops_table[t[i].k].classify(t[i].status, t[i].body, strlen(t[i].body));
		assert_int_equal(r.verdict, t[i].v);
		assert_string_equal(r.cls, t[i].cls);
	}
}

static void
test_grouping(void **state)
{
	gp_slot g = { 0, 0 };
	uint64_t grouped;
	assert_true(gp_decide(&g, 100 * S, 300 * S, &grouped));
	assert_int_equal(grouped, 0);
	for (int i = 1; i <= 49; i++) /* a storm inside the interval */
		assert_false(gp_decide(&g, (100 + (uint64_t)i) * S, 300 * S, &grouped));
	assert_int_equal(g.suppressed, 49);
	assert_true(gp_decide(&g, 400 * S, 300 * S, &grouped)); /* interval over: one message, with the count */
	assert_int_equal(grouped, 49);
	assert_int_equal(g.suppressed, 0);
	assert_false(gp_decide(&g, 401 * S, 300 * S, &grouped));
	assert_true(gp_decide(&g, 10 * S, 300 * S, &grouped)); /* clock stepped back: not silenced */
	gp_slot z = { 0, 0 };
	assert_true(gp_decide(&z, 5, 0, &grouped)); /* interval 0: every repeat goes */
	assert_true(gp_decide(&z, 5, 0, &grouped));
}

static void
test_rate_limit(void **state)
{
	gp_bucket b = { 0 };
	uint64_t wait;
	int sent = 0;
	for (int i = 0; i < 100; i++)
		sent += gp_take(&b, 1000 * S, 30, &wait);
	assert_int_equal(sent, 30); /* a full bucket: one minute's worth */
	assert_false(gp_take(&b, 1000 * S, 30, &wait));
	assert_int_equal(wait, 2 * S); /* 30/min = one every 2 s */
	assert_false(gp_take(&b, 1000 * S + 1999999999ull, 30, &wait));
	assert_true(gp_take(&b, 1002 * S, 30, &wait));
	/* over ten minutes at one attempt per 100 ms: 30 (burst) + 300 refilled */
	sent = 0;
	for (uint64_t t = 1002 * S + S / 10; t <= 1602 * S; t += S / 10)
		sent += gp_take(&b, t, 30, &wait);
	assert_in_range(sent, 299, 301);
	assert_true(gp_take(&b, 0, 0, &wait)); /* 0 = unlimited */
}

static const char *
fake_env(const char *name)
{
	if (strcmp(name, "PD_KEY") == 0)
		return "abcdef0123456789abcdef0123456789";
	if (strcmp(name, "SLACK_URL") == 0)
		return "https://hooks.slack.com/services/T0/B0/XXXX";
	return NULL;
}

static void
test_config(void **state)
{
	sk_sink s[SK_MAX_SINKS];
	size_t n = 0;
	char err[1024];
	const char *good =
	        "{\"sinks\":[{\"name\":\"am\",\"type\":\"alertmanager\",\"url\":\"http://127.0.0.1:9093/\"},"
	        "{\"type\":\"pagerduty\",\"url\":\"http://127.0.0.1:1/v2/enqueue\",\"secret_env\":\"PD_KEY\","
	        "\"min_severity\":\"error\",\"match\":[\"kind=~tx_.*|ccip_.*\",\"chain!=1337\"]},"
	        "{\"name\":\"chat\",\"type\":\"slack\",\"url_env\":\"SLACK_URL\",\"send_resolved\":true,"
	        "\"rate_limit\":5}]}";
	assert_int_equal(ac_parse_text(good, strlen(good), fake_env, s, &n, err, sizeof err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(s[0].url, "http://127.0.0.1:9093/api/v2/alerts");
	assert_string_equal(s[1].name, "pagerduty");
	assert_int_equal(s[1].secret_len, 32);
	assert_int_equal(s[2].send_resolved, 1);
	assert_int_equal(s[2].rate_per_min, 5);
	sc_alert a = alert(SC_ALERT_FIRING);
	assert_true(ac_match(&s[1], &a));
	a.severity = SC_SEV_WARNING;
	assert_false(ac_match(&s[1], &a)); /* below min_severity */
	a.severity = SC_SEV_ERROR;
	strcpy(a.labels[0].value, "1337");
	assert_false(ac_match(&s[1], &a)); /* chain!=1337 */
	strcpy(a.labels[0].value, "1");
	strcpy(a.kind, "feed_stale");
	assert_false(ac_match(&s[1], &a)); /* regex anchored */
	strcpy(a.kind, "ccip_failure");
	assert_true(ac_match(&s[1], &a));
	for (size_t i = 0; i < n; i++)
		sk_sink_free(&s[i]);

	/* every problem is named, and nothing stays allocated */
	n = 0;
	const char *bad = "{\"sinks\":[{\"type\":\"pagerduty\",\"url\":\"http://x\",\"routing_key\":\"k\"},"
	                  "{\"type\":\"telegram\"},{\"type\":\"webhook\",\"url\":\"ftp://x\",\"secret_env\":\"NOPE\"},"
	                  "{\"type\":\"slack\",\"url\":\"http://x\",\"match\":[\"a=~(\"],\"min_severity\":\"loud\"}]}";
	assert_int_equal(ac_parse_text(bad, strlen(bad), fake_env, s, &n, err, sizeof err), -1);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, "sinks[0].routing_key: secrets do not belong"));
	assert_non_null(strstr(err, "sinks[1].type"));
	assert_non_null(strstr(err, "sinks[2].secret_env: NOPE is not set"));
	assert_non_null(strstr(err, "sinks[3].min_severity"));
	assert_non_null(strstr(err, "sinks[3].match[0]: 'a=~(': bad regex"));
	const char *dup =
	        "{\"sinks\":[{\"type\":\"slack\",\"url\":\"http://x\"},{\"type\":\"slack\",\"url\":\"http://y\"}]}";
	assert_int_equal(ac_parse_text(dup, strlen(dup), fake_env, s, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "used twice"));

	/* environment shortcuts */
	ac_env e = { .alertmanager_url = "http://127.0.0.1:9093", .pagerduty_key = "k", .webhook_url = "http://h/x" };
	n = 0;
	assert_int_equal(ac_env_sinks(&e, s, &n, err, sizeof err), -1); /* webhook without a secret */
	assert_non_null(strstr(err, "webhook needs a secret"));
	for (size_t i = 0; i < n; i++)
		sk_sink_free(&s[i]);
	e.webhook_secret = "w";
	n = 0;
	err[0] = '\0';
	assert_int_equal(ac_env_sinks(&e, s, &n, err, sizeof err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(s[1].url, "https://events.pagerduty.com/v2/enqueue");
	assert_int_equal(s[1].min_severity, SC_SEV_ERROR);
	for (size_t i = 0; i < n; i++)
		sk_sink_free(&s[i]);
}

static void
test_matchers(void **state)
{
	sk_matcher m;
	char err[200];
	assert_int_equal(ac_matcher_parse("chain!=1", &m, err, sizeof err), 0);
	assert_int_equal(m.op, SK_NE);
	assert_string_equal(m.label, "chain");
	assert_string_equal(m.value, "1");
	assert_int_equal(ac_matcher_parse("kind =~ \"tx_.*\"", &m, err, sizeof err), 0);
	assert_int_equal(m.op, SK_RE);
	assert_string_equal(m.label, "kind");
	assert_string_equal(m.value, "tx_.*");
	regfree(&m.re);
	assert_int_equal(ac_matcher_parse("a=b!=c", &m, err, sizeof err), 0);
	assert_int_equal(m.op, SK_EQ);
	assert_string_equal(m.value, "b!=c");
	assert_int_equal(ac_matcher_parse("=x", &m, err, sizeof err), -1);
	assert_int_equal(ac_matcher_parse("novalue", &m, err, sizeof err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alertmanager), cmocka_unit_test(test_slack),
		cmocka_unit_test(test_pagerduty),    cmocka_unit_test(test_webhook_signature),
		cmocka_unit_test(test_classify),     cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_rate_limit),   cmocka_unit_test(test_config),
		cmocka_unit_test(test_matchers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
