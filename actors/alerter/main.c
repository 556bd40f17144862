/*
 * alerter - every actor's alerts (alert.<severity>.<kind> on the bus) delivered to Prometheus
 * Alertmanager, Slack, PagerDuty and signed webhooks, through a durable LMDB outbox per sink.
 *
 * The bus thread ingests alerts into the state table and the outboxes (engine.c), re-sends firing
 * alerts to Alertmanager every RESEND_INTERVAL, and publishes the alerter's own problems
 * (alert.error.sink_failing); one thread per sink delivers (deliver.c). Configuration, topics,
 * metrics and tables: README.md beside this file.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "actors/alerter/config.h"
#include "actors/alerter/deliver.h"
#include "actors/alerter/engine.h"
#include "bus/actor.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"

#define MS       1000000ull /* ns per ms */
#define AL_BATCH 32         /* alerts per write transaction at most */

static act_bus_cfg busc;
static const char *cfg_state_dir, *cfg_config_file, *cfg_am_url, *cfg_slack_url, *cfg_pd_url, *cfg_pd_key,
        *cfg_hook_url, *cfg_hook_secret, *cfg_generator;
static uint64_t cfg_resend_ms, cfg_group_ms, cfg_rate, cfg_timeout_ms, cfg_retry_ms, cfg_retry_max_ms, cfg_max_age_ms,
        cfg_fail_after, cfg_retention_ms, cfg_map_size;

static rt_check_fn al_check_sinks_config;

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "STATE_DIR", RT_STR, "data/alerter", "LMDB directory: alert state, outboxes", &cfg_state_dir, 0, 0, 0, 0 },
	{ "CONFIG_FILE", RT_STR, "", "JSON file of sinks (see README); the shortcuts below add to it", &cfg_config_file,
	  0, 0, 0, 0 },
	{ "ALERTMANAGER_URL", RT_HTTP_URL, "", "Alertmanager base URL (POST /api/v2/alerts is added)", &cfg_am_url, 0,
	  0, 1, 0 },
	{ "SLACK_WEBHOOK_URL", RT_HTTP_URL, "", "Slack incoming webhook URL (holds a token)", &cfg_slack_url, 0, 0, 1,
	  RT_SECRET },
	{ "PAGERDUTY_URL", RT_HTTP_URL, "", "PagerDuty Events v2 URL (default https://events.pagerduty.com/v2/enqueue)",
	  &cfg_pd_url, 0, 0, 1, 0 },
	{ "PAGERDUTY_ROUTING_KEY", RT_STR, "", "PagerDuty integration (routing) key", &cfg_pd_key, 0, 0, 0, RT_SECRET },
	{ "WEBHOOK_URL", RT_HTTP_URL, "", "generic JSON webhook URL", &cfg_hook_url, 0, 0, 1, 0 },
	{ "WEBHOOK_SECRET", RT_STR, "", "HMAC-SHA256 key signing webhook bodies", &cfg_hook_secret, 0, 0, 0,
	  RT_SECRET },
	{ "GENERATOR_URL", RT_HTTP_URL, "", "generatorURL sent to Alertmanager (env shortcut sink)", &cfg_generator, 0,
	  0, 1, 0 },
	{ "RESEND_INTERVAL", RT_DURATION, "60s", "re-send firing alerts to Alertmanager (< its resolve_timeout)",
	  &cfg_resend_ms, 1000, 86400000, 0, 0 },
	{ "GROUP_INTERVAL", RT_DURATION, "5m", "at most one message per alert key and sink in this time", &cfg_group_ms,
	  0, 86400000, 0, 0 },
	{ "SINK_RATE_LIMIT", RT_U64, "30", "messages per minute per sink (0 = unlimited); the rest wait queued",
	  &cfg_rate, 0, 1000000, 0, 0 },
	{ "HTTP_TIMEOUT", RT_DURATION, "10s", "timeout of one delivery request", &cfg_timeout_ms, 100, 300000, 0, 0 },
	{ "RETRY_INITIAL", RT_DURATION, "1s", "first retry delay (doubles per attempt, +-10% jitter)", &cfg_retry_ms,
	  10, 3600000, 0, 0 },
	{ "RETRY_MAX", RT_DURATION, "5m", "longest retry delay", &cfg_retry_max_ms, 10, 86400000, 0, 0 },
	{ "OUTBOX_MAX_AGE", RT_DURATION, "24h", "an event undelivered this long is dropped (0 = never)",
	  &cfg_max_age_ms, 0, 0, 0, 0 },
	{ "SINK_FAILING_AFTER", RT_U64, "3", "consecutive failures that raise alert.error.sink_failing",
	  &cfg_fail_after, 1, 1000, 0, 0 },
	{ "RESOLVED_RETENTION", RT_DURATION, "1h", "resolved alert states kept (history, ordering)", &cfg_retention_ms,
	  0, 0, 0, 0 },
	{ "STATE_MAP_SIZE", RT_U64, "67108864", "initial LMDB map size in bytes (grows as needed)", &cfg_map_size,
	  1 << 20, INT64_MAX, 0, 0 },
	RT_CHECK_ROW("", al_check_sinks_config),
};

static sk_sink sinks[SK_MAX_SINKS];
static size_t nsinks;
static dl_sink dls[SK_MAX_SINKS];
static al_engine *eng;

/* Names of environment variables that held secrets, wiped once the sinks hold copies. */
static const char *secret_envs[2 * SK_MAX_SINKS + 4];
static size_t nsecret_envs;

static const char *
al_getenv(const char *name)
{
	if (nsecret_envs < OB_COUNT(secret_envs))
		secret_envs[nsecret_envs++] = name; /* url_env and secret_env names, borrowed from the JSON */
	return getenv(name);
}

static void
al_scrub_env(const char *name)
{
	char *v = getenv(name);
	if (v) {
		explicit_bzero(v, strlen(v)); /* out of /proc/<pid>/environ too */
		unsetenv(name);
	}
}

/* The sinks of CONFIG_FILE and of the shortcuts, every problem listed. */
static void
al_check_sinks_config(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	char err[2048] = "";
	json_t *root = rt_config_json(e, "CONFIG_FILE");
	if (root) {
		int rc = ac_parse_sinks(root, al_getenv, sinks, &nsinks, err, sizeof err);
		json_decref(root);
		if (rc != 0)
			for (char *l = strtok(err, "\n"); l; l = strtok(NULL, "\n"))
				rt_config_error(e, "CONFIG_FILE", "%s", l);
	}
	ac_env env = {
		cfg_am_url, cfg_slack_url, cfg_pd_url, cfg_pd_key, cfg_hook_url, cfg_hook_secret, cfg_generator
	};
	err[0] = '\0';
	if (ac_env_sinks(&env, sinks, &nsinks, err, sizeof err) != 0)
		for (char *l = strtok(err, "\n"); l; l = strtok(NULL, "\n"))
			rt_config_error(e, NULL, "%s", l);
}

/* Once the sinks hold copies: the secrets leave the environment. */
static void
al_scrub_secrets(void)
{
	for (size_t i = 0; i < nsecret_envs; i++)
		al_scrub_env(secret_envs[i]);
	al_scrub_env("SLACK_WEBHOOK_URL");
	al_scrub_env("PAGERDUTY_ROUTING_KEY");
	al_scrub_env("WEBHOOK_SECRET");
	if (nsinks == 0)
		rt_log(RT_WARN, "no sinks configured: alerts are tracked but delivered nowhere");
}

/* ---- metrics ------------------------------------------------------------------------------ */

#define AL_KINDS_MAX 64 /* distinct kinds with their own series; others count as kind="other" */
static const char *const known_kinds[] = { "ccip_failure",    "ccip_overdue",   "tx_failed",      "tx_stuck",
	                                   "nonce_gap",       "feed_stale",     "below_quorum",   "sources_disagree",
	                                   "rpc_unreachable", "policy_refusal", "forged_message", "sink_failing" };
static char kinds_seen[AL_KINDS_MAX][48];
static size_t nkinds_seen;
static rt_metric *m_pending[SK_MAX_SINKS];

static int
al_kind_ok(const char *kind)
{
	for (size_t i = 0; i < nkinds_seen; i++)
		if (strcmp(kinds_seen[i], kind) == 0)
			return 1;
	if (nkinds_seen == AL_KINDS_MAX)
		return 0;
	snprintf(kinds_seen[nkinds_seen++], sizeof kinds_seen[0], "%s", kind);
	return 1;
}

static rt_metric *
al_firing_gauge(const char *kind)
{
	char esc[100], labels[120];
	rt_label_escape(kind, esc, sizeof esc);
	snprintf(labels, sizeof labels, "kind=\"%s\"", esc);
	return rt_gauge("alerter_firing", "Alert keys firing now, by kind.", labels);
}

static void
al_count_received(const sc_alert *a)
{
	char esc[100], labels[160];
	rt_label_escape(al_kind_ok(a->kind) ? a->kind : "other", esc, sizeof esc);
	snprintf(labels, sizeof labels, "kind=\"%s\",severity=\"%s\"", esc, sk_severity_name(a->severity));
	rt_inc(rt_counter("alerter_received_total", "Alerts received from the bus.", labels));
}

static void
al_set_firing(void *arg, const char *kind, uint64_t n)
{
	for (size_t i = 0; i < OB_COUNT(known_kinds); i++)
		if (strcmp(known_kinds[i], kind) == 0)
			goto set;
	if (!al_kind_ok(kind))
		return;
set:
	rt_gauge_set(al_firing_gauge(kind), (double)n);
}

/* Runs on the HTTP thread before each /metrics render: LMDB read transactions only. */
static void
al_collect(void *arg)
{
	for (size_t i = 0; i < OB_COUNT(known_kinds); i++)
		rt_gauge_set(al_firing_gauge(known_kinds[i]), 0);
	al_firing_by_kind(eng, al_set_firing, NULL);
	for (size_t i = 0; i < nsinks; i++) {
		uint64_t n, due;
		st_err err;
		if (al_pending(eng, i, &n, &due, &err) == 0)
			rt_gauge_set(m_pending[i], (double)n);
	}
}

/* ---- the alerter's own alerts -------------------------------------------------------------- */

static int published_failing[SK_MAX_SINKS];

static void
al_sink_key(size_t i, char *out, size_t cap)
{
	snprintf(out, cap, "sink_failing:%.63s:%.31s", rt_instance(), sinks[i].name);
}

static void
al_check_sinks(act_bus *a)
{
	for (size_t i = 0; i < nsinks; i++) {
		int f = atomic_load(&dls[i].failing);
		if (f == published_failing[i])
			continue;
		char key[160], summary[400], why[160];
		const char *labels[] = { "sink", sinks[i].name, "sink_type", sinks[i].ops->name, NULL };
		dl_last_error(&dls[i], why, sizeof why);
		al_sink_key(i, key, sizeof key);
		if (f)
			snprintf(summary, sizeof summary, "alert sink %.31s (%.15s) is failing: %.150s", sinks[i].name,
			         sinks[i].ops->name, why);
		else
			snprintf(summary, sizeof summary, "alert sink %.31s (%.15s) delivers again", sinks[i].name,
			         sinks[i].ops->name);
		if (act_alert(a, SC_SEV_ERROR, f ? SC_ALERT_FIRING : SC_ALERT_RESOLVED, "sink_failing", key, summary,
		              labels) == BUS_OK)
			published_failing[i] = f;
	}
}

int
main(int argc, char **argv)
{
	static const char *const topics[] = { "alert.", NULL };
	char err[512];
	st_err se;
	st_env *env = NULL;
	act_bus *a = NULL;
	int code = 1;

	if (rt_init("alerter", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	al_scrub_secrets();
	st_opts so = { .map_size = cfg_map_size, .max_tables = 8 + 2 * SK_MAX_SINKS + 4 };
	if (st_open(&env, cfg_state_dir, &so, &se) != 0) {
		rt_logkv(RT_ERROR, "cannot open state", "dir", cfg_state_dir, "error", se.text, NULL);
		goto out;
	}
	al_cfg ac = { .group_ns = cfg_group_ms * MS,
		      .resend_ns = cfg_resend_ms * MS,
		      .retention_ns = cfg_retention_ms * MS,
		      .backoff = { cfg_retry_ms * MS, 2.0, cfg_retry_max_ms * MS, 0.1 },
		      .instance = rt_instance() };
	if (al_open(&eng, env, sinks, nsinks, &ac, &se) != 0) {
		rt_logkv(RT_ERROR, "cannot open tables", "error", se.text, NULL);
		goto out;
	}
	for (size_t i = 0; i < nsinks; i++) {
		char labels[64], key[160];
		dls[i] = (dl_sink){ .e = eng,
			            .i = i,
			            .s = &sinks[i],
			            .rate_per_min = sinks[i].rate_per_min ? sinks[i].rate_per_min : cfg_rate,
			            .max_age_ns = cfg_max_age_ms * MS,
			            .timeout_ms = cfg_timeout_ms,
			            .fail_after = (unsigned)cfg_fail_after };
		snprintf(labels, sizeof labels, "sink=\"%.31s\"", sinks[i].name);
		m_pending[i] =
		        rt_gauge("alerter_outbox_pending", "Events queued for a sink, not yet accepted.", labels);
		/* a sink_failing we published before a restart is still open: the next success resolves it */
		al_sink_key(i, key, sizeof key);
		published_failing[i] = al_is_firing(eng, "sink_failing", key) == 1;
		atomic_store(&dls[i].failing, published_failing[i]);
		if (dl_init(&dls[i]) != 0 || dl_start(&dls[i]) != 0) {
			rt_log(RT_ERROR, "cannot start the delivery thread of %s", sinks[i].name);
			goto out;
		}
		rt_logkv(RT_INFO, "sink", "name", sinks[i].name, "type", sinks[i].ops->name, "min_severity",
		         sk_severity_name(sinks[i].min_severity), NULL);
	}
	for (size_t i = 0; i < OB_COUNT(known_kinds); i++)
		al_firing_gauge(known_kinds[i]);
	rt_metrics_collector(al_collect, NULL);
	if (!(a = act_open(&busc, ACT_PUB | ACT_SUB, topics, err, sizeof err))) {
		rt_log(RT_ERROR, "bus: %s", err);
		goto out;
	}
	rt_logkv(RT_INFO, "ready", "state_dir", cfg_state_dir, NULL);
	rt_ready(); /* state open, sinks' threads started, bus opened (/health ok once busd is connected) */

	uint64_t last_tick = 0;
	while (!rt_stopping()) {
		bus_msg m;
		unsigned queued = 0, tq = 0;
		/* what arrived meanwhile is ingested in one write transaction (one fsync): a storm costs
		 * a commit per batch, not per alert, so the subscriber's queue keeps up */
		static sc_alert al[AL_BATCH]; /* 20 KB each: off the stack */
		static uint8_t ids[AL_BATCH][16];
		size_t n = 0;
		int rc = act_recv(a, &m, 200);
		while (rc == BUS_OK) {
			if (act_decode(&m, &SC_ALERT, &al[n]) == 0) {
				al_count_received(&al[n]);
				memcpy(ids[n++], m.f.id, 16);
			}
			bus_msg_free(&m);
			if (n == AL_BATCH)
				break;
			rc = act_recv(a, &m, 0);
		}
		if (n && al_ingest_batch(eng, n, (const uint8_t(*)[16])ids, al, rt_now_ns(), &queued, &se) != 0)
			/* not acked to anyone: the producer's outbox or the next repeat brings them back */
			rt_logkv(RT_ERROR, "cannot store alerts", "kind", al[0].kind, "error", se.text, NULL);
		if (rc == BUS_ECLOSED)
			break;
		uint64_t now = rt_now_ns();
		if (now - last_tick >= 1000 * MS) {
			last_tick = now;
			if (al_tick(eng, now, &tq, &se) != 0)
				rt_logkv(RT_ERROR, "periodic work failed", "error", se.text, NULL);
			al_check_sinks(a);
		}
		queued |= tq;
		for (size_t i = 0; i < nsinks; i++)
			if (queued & (1u << i))
				dl_kick(&dls[i]);
	}
	rt_logkv(RT_INFO, "draining", "reason", "stop requested", NULL);
	code = 0;
out:
	/* entries in flight stay in the outboxes: the next start sends them */
	for (size_t i = 0; i < nsinks; i++)
		if (dls[i].e)
			dl_fini(&dls[i]);
	act_close(a);
	al_close(eng);
	st_close(env);
	for (size_t i = 0; i < nsinks; i++)
		sk_sink_free(&sinks[i]);
	curl_global_cleanup();
	rt_shutdown();
	return code;
}
