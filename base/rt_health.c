/* rt_health: the set of reasons an actor is degraded, rendered as the /health JSON
 * (see rt_http.h). A short list under a mutex: health changes rarely and is read per request. */
#include "base/rt_http.h"
#include "base/rt_log.h"

#include <pthread.h>
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

void
rt_health_set(const char *key, int degraded, const char *text)
{
	if (key == NULL)
		return;
	pthread_mutex_lock(&rthl_mu);
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
	pthread_mutex_unlock(&rthl_mu);
}

int
rt_health_degraded(void)
{
	pthread_mutex_lock(&rthl_mu);
	int n = rthl_count;
	pthread_mutex_unlock(&rthl_mu);
	return n;
}

int
rt_health_json(rt_buf *out)
{
	pthread_mutex_lock(&rthl_mu);
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
	return degraded ? 503 : 200;
}
