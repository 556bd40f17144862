/*
 * engine_test.c - the engine's outbox bodies over a real LMDB environment: a resolve queued for
 * each sink carries the resolved alert's summary (not the firing one it supersedes), keeps the
 * firing alert's labels (Alertmanager matches on them), and keeps the firing summary when the
 * resolve has none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/alerter/engine.h"
#include "actors/alerter/sinks.h"

#define S 1000000000ull

typedef struct {
	char *dir;
	st_env *env;
	sk_sink sinks[SK_NKINDS];
	al_engine *e;
} fx;

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	st_err err = { { 0 } };
	al_cfg cfg = { .group_ns = 60 * S,
		       .resend_ns = 300 * S,
		       .retention_ns = 3600 * S,
		       .backoff = { .initial_ns = 2 * S, .factor = 2.0, .max_ns = 30 * S },
		       .instance = "alerter-0" };
	f->dir = strdup("/tmp/al_engine_test_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (st_open(&f->env, f->dir, NULL, &err) != 0)
		return -1;
	for (int k = 0; k < SK_NKINDS; k++) {
		sk_sink *s = &f->sinks[k];
		s->kind = (sk_kind)k;
		s->ops = &sk_ops_table[k];
		snprintf(s->name, sizeof s->name, "%s", s->ops->name);
		s->url = strdup("http://127.0.0.1:1/x");
		s->secret = strdup("k");
		s->secret_len = 1;
		s->send_resolved = 1; /* Slack too: its resolve text is what is checked */
	}
	if (al_open(&f->e, f->env, f->sinks, SK_NKINDS, &cfg, &err) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	char cmd[128];
	al_close(f->e);
	st_close(f->env);
	for (int k = 0; k < SK_NKINDS; k++)
		sk_sink_free(&f->sinks[k]);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f->dir);
	free(f);
	return rc;
}

static sc_alert
alert(int status, const char *summary)
{
	sc_alert a;
	memset(&a, 0, sizeof a);
	strcpy(a.kind, "ccip_failure");
	a.severity = SC_SEV_ERROR;
	a.status = status;
	strcpy(a.dedupe_key, "msg:0x01");
	strcpy(a.summary, summary);
	strcpy(a.origin, "ccip-tail-0");
	if (status == SC_ALERT_FIRING) { /* the resolve comes without labels */
		strcpy(a.labels[0].key, "lane");
		strcpy(a.labels[0].value, "138-1");
		a.labels_count = 1;
	}
	return a;
}

static void
ingest(fx *f, uint8_t n, const sc_alert *a, uint64_t now_ns)
{
	uint8_t id[16] = { n };
	unsigned queued;
	st_err err = { { 0 } };
	assert_int_equal(al_ingest(f->e, id, a, now_ns, &queued, &err), 0);
	assert_int_equal(queued, (1u << SK_NKINDS) - 1);
}

/* The one pending body of sink k, NUL-terminated, malloc'd. */
static char *
pending_body(fx *f, sk_kind k, uint64_t now_ns)
{
	al_item it[4];
	st_err err = { { 0 } };
	long n = al_due(f->e, (size_t)k, now_ns, it, 4, &err);
	assert_int_equal(n, 1);
	char *s = malloc(it[0].len + 1);
	memcpy(s, it[0].body, it[0].len);
	s[it[0].len] = '\0';
	al_items_free(it, (size_t)n);
	return s;
}

static void
test_resolve_carries_resolved_summary(void **state)
{
	fx *f = *state;
	sc_alert fire = alert(SC_ALERT_FIRING, "message 0x01 failed on execution");
	sc_alert res = alert(SC_ALERT_RESOLVED, "message 0x01 executed after all");
	ingest(f, 1, &fire, 100 * S);
	ingest(f, 2, &res, 110 * S);
	for (int k = 0; k < SK_NKINDS; k++) {
		char *b = pending_body(f, (sk_kind)k, 111 * S);
		/* the resolve superseded the undelivered firing: nothing of it is left */
		assert_null(strstr(b, "failed on execution"));
		if (k == SK_PAGERDUTY) { /* a PagerDuty resolve is only the dedup_key */
			assert_non_null(strstr(b, "\"event_action\":\"resolve\""));
		} else {
			assert_non_null(strstr(b, "message 0x01 executed after all"));
			assert_non_null(strstr(b, "138-1")); /* the firing alert's labels stay */
		}
		if (k == SK_WEBHOOK)
			assert_non_null(strstr(b, "\"status\":\"resolved\""));
		free(b);
	}
}

static void
test_resolve_without_summary_keeps_firing_one(void **state)
{
	fx *f = *state;
	sc_alert fire = alert(SC_ALERT_FIRING, "message 0x01 failed on execution");
	sc_alert res = alert(SC_ALERT_RESOLVED, "");
	ingest(f, 1, &fire, 100 * S);
	ingest(f, 2, &res, 110 * S);
	char *b = pending_body(f, SK_WEBHOOK, 111 * S);
	assert_non_null(strstr(b, "\"summary\":\"message 0x01 failed on execution\""));
	assert_non_null(strstr(b, "\"status\":\"resolved\""));
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve_carries_resolved_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_without_summary_keeps_firing_one, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
