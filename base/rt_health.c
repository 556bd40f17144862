/* rt_health: the set of reasons an actor is degraded, rendered as the /health JSON
 * (see rt_http.h), and the "starting" reason of the start-up (rt_starting / rt_ready, see
 * rt_main.h). A short list under a mutex: health changes rarely and is read per request. */
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rth_reason {
	struct rth_reason *next;
	char *key;
	char *text;
} rth_reason;

static pthread_mutex_t rthl_mu = PTHREAD_MUTEX_INITIALIZER;
static rth_reason *rthl_reasons, **rthl_tail = &rthl_reasons;
static int rthl_count;

/* Sets, replaces or clears key's reason; the caller holds rthl_mu. */
static void
rth_set_locked(const char *key, int degraded, const char *text)
{
	rth_reason **pp, *r = NULL;
	for (pp = &rthl_reasons; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0) {
			r = *pp;
			break;
		}
	if (!degraded) {
		if (r != NULL) {
			*pp = r->next;
			if (rthl_tail == &r->next)
				rthl_tail = pp;
			free(r->key);
			free(r->text);
			free(r);
			rthl_count--;
		}
	} else {
		char *t = strdup(text ? text : "");
		if (t != NULL && r != NULL) {
			free(r->text);
			r->text = t;
		} else if (t != NULL && (r = calloc(1, sizeof *r)) != NULL && (r->key = strdup(key)) != NULL) {
			r->text = t;
			*rthl_tail = r; /* keep insertion order: the oldest reason first */
			rthl_tail = &r->next;
			rthl_count++;
		} else {
			free(r);
			free(t);
		}
	}
}

void
rt_health_set(const char *key, int degraded, const char *text)
{
	if (key == NULL)
		return;
	pthread_mutex_lock(&rthl_mu);
	rth_set_locked(key, degraded, text);
	pthread_mutex_unlock(&rthl_mu);
}

/* ---- the start-up: the "starting" reason ------------------------------------------------------ */

#define RTH_STARTING  "starting"
#define RTH_MAX_GATES 16
#define RTH_TEXT_MAX  200
#define RTH_GATE_WHAT 96

typedef struct {
	int id; /* 0: a free slot */
	char what[RTH_GATE_WHAT];
	rt_ready_fn fn;
	void *arg;
} rth_gate;

/* Under rthl_mu, except rthl_ready (read without it on rt_ready's fast path). */
static int rthl_starting;  /* rt_starting called, rt_ready's conditions not all met yet */
static int rthl_own_ready; /* the actor called rt_ready */
static atomic_int rthl_ready;
static uint64_t rthl_start_mono;
static char rthl_what[RTH_TEXT_MAX]; /* rt_starting's text, "" = none */
static rth_gate rthl_gates[RTH_MAX_GATES];
static int rthl_gate_ids;

/* Re-evaluates the start-up; the caller holds rthl_mu. Returns 1 when it ended just now (the
 * caller logs it, outside the lock). A gate's function runs under the lock: it must be quick and
 * take no lock that is held while calling into this module. */
static int
rth_eval_locked(void)
{
	if (!rthl_starting)
		return 0;
	char text[RTH_TEXT_MAX + RTH_GATE_WHAT + 40];
	if (!rthl_own_ready) {
		snprintf(text, sizeof text, rthl_what[0] ? RTH_STARTING ": %s" : RTH_STARTING, rthl_what);
		rth_set_locked(RTH_STARTING, 1, text);
		return 0;
	}
	for (int i = 0; i < RTH_MAX_GATES; i++)
		if (rthl_gates[i].id != 0 && !rthl_gates[i].fn(rthl_gates[i].arg)) {
			snprintf(text, sizeof text, RTH_STARTING ": waiting for %s", rthl_gates[i].what);
			rth_set_locked(RTH_STARTING, 1, text);
			return 0;
		}
	rth_set_locked(RTH_STARTING, 0, NULL);
	rthl_starting = 0;
	memset(rthl_gates, 0, sizeof rthl_gates); /* never asked again: a later outage is the gate owner's to say */
	atomic_store(&rthl_ready, 1);
	return 1;
}

static void
rth_log_ready(int ended)
{
	if (!ended)
		return;
	char ms[24];
	snprintf(ms, sizeof ms, "%llu", (unsigned long long)((rt_mono_ns() - rthl_start_mono) / 1000000u));
	rt_logkv(RT_INFO, "start-up done: /health no longer says starting", "after_ms", ms, NULL);
}

void
rt_starting(const char *what)
{
	pthread_mutex_lock(&rthl_mu);
	if (!atomic_load(&rthl_ready)) {
		if (!rthl_starting)
			rthl_start_mono = rt_mono_ns();
		rthl_starting = 1;
		snprintf(rthl_what, sizeof rthl_what, "%s", what ? what : "");
		rth_eval_locked();
	}
	pthread_mutex_unlock(&rthl_mu);
}

void
rt_ready(void)
{
	if (atomic_load(&rthl_ready))
		return;
	pthread_mutex_lock(&rthl_mu);
	rthl_own_ready = 1;
	int ended = rth_eval_locked();
	pthread_mutex_unlock(&rthl_mu);
	rth_log_ready(ended);
}

int
rt_is_ready(void)
{
	if (atomic_load(&rthl_ready))
		return 1;
	pthread_mutex_lock(&rthl_mu);
	int ended = rth_eval_locked();
	int ready = !rthl_starting;
	pthread_mutex_unlock(&rthl_mu);
	rth_log_ready(ended);
	return ready;
}

int
rt_ready_gate(const char *what, rt_ready_fn fn, void *arg)
{
	int id = 0, full = 0;
	if (fn == NULL)
		return 0;
	pthread_mutex_lock(&rthl_mu);
	if (rthl_starting) {
		for (int i = 0; i < RTH_MAX_GATES && id == 0; i++)
			if (rthl_gates[i].id == 0) {
				id = ++rthl_gate_ids;
				rthl_gates[i] = (rth_gate){ .id = id, .fn = fn, .arg = arg };
				snprintf(rthl_gates[i].what, sizeof rthl_gates[i].what, "%s", what ? what : "?");
			}
		full = id == 0;
	}
	pthread_mutex_unlock(&rthl_mu);
	if (full) /* a program bug (RTH_MAX_GATES too small): say it rather than wait on nothing */
		rt_logkv(RT_WARN, "readiness condition not registered: too many", "what", what ? what : "?", NULL);
	return id;
}

void
rt_ready_gate_del(int id)
{
	if (id <= 0)
		return;
	pthread_mutex_lock(&rthl_mu);
	for (int i = 0; i < RTH_MAX_GATES; i++)
		if (rthl_gates[i].id == id)
			memset(&rthl_gates[i], 0, sizeof rthl_gates[i]);
	/* Not re-evaluated here: a handle closed on the way out must not end a start-up that never was
	 * (the next /health or rt_ready does it). */
	pthread_mutex_unlock(&rthl_mu);
}

int
rt_health_degraded(void)
{
	pthread_mutex_lock(&rthl_mu);
	int ended = rth_eval_locked();
	int n = rthl_count;
	pthread_mutex_unlock(&rthl_mu);
	rth_log_ready(ended);
	return n;
}

int
rt_health_json(rt_buf *out)
{
	pthread_mutex_lock(&rthl_mu);
	int ended = rth_eval_locked();
	int degraded = rthl_reasons != NULL;
	rt_buf_puts(out, degraded ? "{\"status\":\"degraded\",\"actor\":" : "{\"status\":\"ok\",\"actor\":");
	rt_buf_json_str(out, rt_log_actor());
	rt_buf_puts(out, ",\"instance\":");
	rt_buf_json_str(out, rt_log_instance());
	if (degraded) {
		rt_buf_puts(out, ",\"reasons\":[");
		for (rth_reason *r = rthl_reasons; r != NULL; r = r->next) {
			rt_buf_puts(out, r == rthl_reasons ? "{\"key\":" : ",{\"key\":");
			rt_buf_json_str(out, r->key);
			rt_buf_puts(out, ",\"text\":");
			rt_buf_json_str(out, r->text);
			rt_buf_puts(out, "}");
		}
		rt_buf_puts(out, "]");
	}
	rt_buf_puts(out, "}\n");
	pthread_mutex_unlock(&rthl_mu);
	rth_log_ready(ended);
	return degraded ? 503 : 200;
}
