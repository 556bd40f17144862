/*
 * actor.c - the bus wiring shared by every actor (see actor.h).
 */
#include "bus/actor.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"

/* Rejected (forged or unsigned) frames, aggregated per trust rule: the alert's key is the rule's
 * prefix from the configuration, never something the sender chose, and it is raised at most once
 * per ACT_FORGED_EVERY with the count since the last one. */
#define ACT_FORGED_SLOTS    16
#define ACT_FORGED_EVERY_NS (60ull * 1000000000ull)
#define ACT_FORGED_QUIET_NS (300ull * 1000000000ull) /* resolved after this long without one */

typedef struct {
	char prefix[FRAME_TOPIC_MAX + 1]; /* the trust rule's prefix, or "" for topics no rule covers */
	int used, firing;
	uint64_t pending; /* rejections not yet reported in an alert */
	uint64_t total;
	uint64_t last_alert_ns, last_seen_ns;
	char last_err[160];
} act_forged;

/* An alert act_alert could not send yet: the publisher had no busd connection (pub/sub drops a frame
 * with no pipe, silently). Sent, oldest first, once one is up (act_alert_flush). */
#define ACT_HELD_MAX 64

typedef struct {
	char topic[FRAME_TOPIC_MAX + 1];
	sc_alert al;
} act_held;

struct act_bus {
	bus_pub *pub;
	bus_sub *sub;
	sig_key *key;
	sig_trust *trust;
	uint8_t *buf; /* encode buffer, FRAME_BODY_MAX */
	act_forged forged[ACT_FORGED_SLOTS];
	int ready_gate; /* rt_ready_gate id while the start-up waits for busd, else 0 */
	act_held *held; /* alerts made while the publisher had no busd (ACT_HELD_MAX ring), NULL until one */
	size_t held_head, held_n;
};

static rt_metric *
act_alerts_lost(void)
{
	return rt_counter("actor_alerts_lost_total",
	                  "Alerts this actor could not publish (see its log): refused, more than 64 waiting for "
	                  "busd, or still waiting at the stop.",
	                  NULL);
}

static const char *const act_sev_names[] = { "info", "warning", "error", "critical" };

/* The counter of one (type, why). The type label is a message type this build knows, or "unknown":
 * label values never come from a peer's bytes, so the series are bounded by construction (the
 * schema families times the few reasons). */
static rt_metric *
act_bad(const char *type, const char *why)
{
	char labels[160];
	snprintf(labels, sizeof labels, "type=\"%s\",why=\"%s\"", sc_lookup(type) ? type : "unknown", why);
	return rt_counter("actor_bad_messages_total",
	                  "Bus messages this actor dropped: malformed, rejected or of an unexpected type.", labels);
}

void
act_check_trust(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	char err[256];
	sig_trust *t = sig_trust_parse(*(const char **)o->dst, err, sizeof err);
	if (t == NULL)
		rt_config_error(e, o->env, "%s", err);
	sig_trust_free(t);
}

/* Reads a small file of BUS_KEYS_DIR into buf (NUL-terminated, trailing blanks cut). secret: the
 * file must be a regular file of mode 0600 or stricter. 0, 1 when it does not exist, -1 with why. */
static int
act_read_small(const char *path, int secret, char *buf, size_t cap, char *why, size_t wl)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, wl, "%s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t n = -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		snprintf(why, wl, "%s: not a regular file", path);
	else if (secret && (st.st_mode & 077) != 0)
		snprintf(why, wl, "%s: mode %03o; a key file must be 0600 or stricter (chmod 600)", path,
		         (unsigned)(st.st_mode & 0777));
	else if ((n = read(fd, buf, cap - 1)) < 0)
		snprintf(why, wl, "%s: %s", path, strerror(errno));
	else if ((size_t)n == cap - 1)
		snprintf(why, wl, "%s: longer than %zu bytes", path, cap - 2), n = -1;
	close(fd);
	if (n < 0) {
		explicit_bzero(buf, cap);
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	return 0;
}

static void
act_keys_dir(const rt_opt *o, rt_cfg_errs *e, int key_required)
{
	act_bus_cfg *c = (act_bus_cfg *)(void *)((char *)o->dst - offsetof(act_bus_cfg, keys_dir));
	const char *dir = c->keys_dir ? c->keys_dir : "";
	char path[4096], why[4200];
	int have_key = 0;
	for (int i = 0; i < 32; i++)
		have_key |= c->key[i] != 0;
	if (rt_config_failed(e, "BUS_SIGNING_KEY"))
		have_key = 1; /* already listed */
	if (*dir && !have_key) {
		char *hex = rt_secret_alloc(256);
		snprintf(path, sizeof path, "%s/%s.key", dir, rt_actor());
		int r = hex ? act_read_small(path, 1, hex, 256, why, sizeof why) : -1;
		have_key = r != 1; /* from here on, a problem is listed once, not again as "required" */
		if (hex == NULL)
			rt_config_error(e, o->env, "cannot allocate locked memory for the key");
		else if (r < 0)
			rt_config_error(e, o->env, "%s", why);
		else if (r == 0 && (rt_parse_hex(hex, c->key, 32) != 0 || rt_check_seckey(c->key) != 0)) {
			explicit_bzero(c->key, sizeof c->key);
			rt_config_error(e, o->env, "%s: not a BIP-340 secret key (64 hex digits)", path);
		} else if (r == 1 && key_required) {
			rt_config_error(e, "BUS_SIGNING_KEY",
			                "required: this actor's readers take only its signed frames; "
			                "no %s either (make it with tools/bus-keys.sh %s)",
			                path, dir);
			have_key = 1;
		}
		rt_secret_free(hex, 256);
	}
	if (key_required && !have_key)
		rt_config_error(e, "BUS_SIGNING_KEY",
		                "required: this actor's readers take only its signed frames "
		                "(or BUS_KEYS_DIR from tools/bus-keys.sh)");
	if (*dir && (c->trust == NULL || c->trust[0] == '\0') && !rt_config_failed(e, "BUS_TRUST")) {
		char buf[4096];
		snprintf(path, sizeof path, "%s/trust", dir);
		int r = act_read_small(path, 0, buf, sizeof buf, why, sizeof why);
		if (r == 1)
			rt_config_error(e, o->env, "%s: no such file (make the directory with tools/bus-keys.sh)",
			                path);
		else if (r < 0)
			rt_config_error(e, o->env, "%s", why);
		else {
			sig_trust *t = sig_trust_parse(buf, why, sizeof why);
			if (t == NULL)
				rt_config_error(e, o->env, "%s: %s", path, why);
			else if (free(c->trust_mem), (c->trust_mem = strdup(buf)) == NULL)
				rt_config_error(e, o->env, "out of memory");
			else
				c->trust = c->trust_mem;
			sig_trust_free(t);
		}
	}
}

void
act_check_keys(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	act_keys_dir(o, e, 0);
}

void
act_check_keys_signed(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	act_keys_dir(o, e, 1);
}

void
act_check_tls(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	char err[256];
	(void)o;
	(void)text;
	if (bus_tls_set(getenv("BUS_TLS_CERT"), getenv("BUS_TLS_KEY"), getenv("BUS_TLS_CA"), err, sizeof err) != 0)
		rt_config_error(e, NULL, "%s", err);
	bus_tls_clear(); /* loaded for real by act_open (or the tool) after the whole table passed */
}

/* The start-up's bus condition (rt_ready_gate): a busd connection up on each side this handle
 * opened (the subscriber's once busd acknowledged its topic list). Called on the HTTP thread: both
 * reads are atomic or under the subscriber's own short lock. */
static int
act_connected(void *arg)
{
	act_bus *a = arg;
	return (a->pub == NULL || bus_pub_connected(a->pub) > 0) && (a->sub == NULL || bus_sub_connected(a->sub) > 0);
}

act_bus *
act_open(act_bus_cfg *c, int what, const char *const *topics, char *err, size_t errlen)
{
	act_bus *a = calloc(1, sizeof *a);
	if (a == NULL)
		return NULL;
	for (int i = 0; i < 32; i++)
		c->have_key |= c->key[i] != 0;
	/* Only a publishing handle signs, and the key is wiped once taken: a subscribe-only handle opened
	 * after the publishing one (the tokenizer's receiver thread) must not try to take it again. */
	if (c->have_key && (what & ACT_PUB)) {
		a->key = sig_key_new(c->key);
		explicit_bzero(c->key, sizeof c->key);
		if (a->key == NULL) {
			snprintf(err, errlen, "BUS_SIGNING_KEY: not a valid secp256k1 secret key");
			goto fail;
		}
	}
	if (bus_tls_set(c->tls_cert, c->tls_key, c->tls_ca, err, errlen) != 0)
		goto fail;
	if ((a->trust = sig_trust_parse(c->trust, err, errlen)) == NULL)
		goto fail;
	if ((what & ACT_PUB) && (a->pub = bus_pub_open(c->pub_urls, rt_instance(), err, errlen)) == NULL)
		goto fail;
	if (a->pub)
		bus_pub_set_key(a->pub, a->key);
	if (what & ACT_SUB) {
		if ((a->sub = bus_sub_open(c->sub_urls, err, errlen)) == NULL)
			goto fail;
		bus_sub_set_trust(a->sub, a->trust);
		if (c->max_streams && bus_sub_max_streams(a->sub, c->max_streams) != 0) {
			snprintf(err, errlen, "BUS_MAX_STREAMS: out of memory");
			goto fail;
		}
		for (size_t i = 0; topics && topics[i]; i++)
			bus_sub_topic(a->sub, topics[i]);
	}
	if ((a->buf = malloc(FRAME_BODY_MAX)) == NULL)
		goto fail;
	/* An actor that cannot reach busd cannot do its job: its /health stays "starting" until it can. */
	a->ready_gate = rt_ready_gate(a->pub && a->sub ? "busd (BUS_PUB_URL and BUS_SUB_URL)"
	                              : a->pub         ? "busd (BUS_PUB_URL)"
	                                               : "busd (BUS_SUB_URL)",
	                              act_connected, a);
	return a;
fail:
	act_close(a);
	return NULL;
}

void
act_close(act_bus *a)
{
	if (a == NULL)
		return;
	rt_ready_gate_del(a->ready_gate); /* before the handles it reads go */
	act_alert_flush(a);
	if (a->held_n) {
		char n[24];
		snprintf(n, sizeof n, "%zu", a->held_n);
		rt_add(act_alerts_lost(), a->held_n);
		rt_logkv(RT_WARN, "alerts never sent: no busd connection until the stop", "count", n, NULL);
	}
	bus_pub_close(a->pub);
	bus_sub_close(a->sub);
	sig_key_free(a->key);
	sig_trust_free(a->trust);
	free(a->held);
	free(a->buf);
	free(a);
}

bus_pub *
act_pub(act_bus *a)
{
	return a->pub;
}
bus_sub *
act_sub(act_bus *a)
{
	return a->sub;
}

int
act_publish(act_bus *a, const char *topic, const sc_msgdef *d, const void *rec, const uint8_t *id, uint8_t id_out[16])
{
	size_t len;
	sc_err e;
	if (a->held_n && d != &SC_ALERT) /* alerts made while busd was away go first, in order */
		act_alert_flush(a);
	if (sc_encode(d, rec, a->buf, FRAME_BODY_MAX, &len, &e) != 0) {
		rt_log(RT_ERROR, "cannot encode %s for %s: %s", sc_type(d), topic, e.text);
		rt_inc(act_bad(sc_type(d), "encode"));
		return BUS_EINVAL;
	}
	int rv = bus_publish(a->pub, topic, sc_type(d), id, a->buf, len, id_out);
	if (rv != BUS_OK)
		rt_log(RT_ERROR, "publish %s failed: %s", topic, ob_strerror(rv));
	return rv;
}

static void
act_forged_alert(act_bus *a, act_forged *f, int status, uint64_t now)
{
	char key[FRAME_TOPIC_MAX + 40], summary[400];
	snprintf(key, sizeof key, "%s/%s", rt_instance(), f->prefix[0] ? f->prefix : "(unsigned)");
	if (status == SC_ALERT_FIRING)
		snprintf(summary, sizeof summary, "%llu frame(s) rejected on %s%s (%llu in all); latest: %s",
		         (unsigned long long)f->pending, f->prefix[0] ? f->prefix : "topics without a trust rule",
		         f->prefix[0] ? "*" : "", (unsigned long long)f->total, f->last_err);
	else
		snprintf(summary, sizeof summary, "no rejected frame on %s for %llu s (%llu in all)",
		         f->prefix[0] ? f->prefix : "topics without a trust rule",
		         (unsigned long long)(ACT_FORGED_QUIET_NS / 1000000000ull), (unsigned long long)f->total);
	const char *labels[] = { "receiver", rt_instance(), "rule", f->prefix[0] ? f->prefix : "(none)", NULL };
	if (act_alert(a, SC_SEV_WARNING, status, "forged_message", key, summary, labels) != BUS_OK)
		return; /* try again on the next tick */
	f->firing = status == SC_ALERT_FIRING;
	f->pending = 0;
	f->last_alert_ns = now;
}

static void
act_forged_seen(act_bus *a, const bus_msg *m)
{
	const char *rule = sig_trust_rule_prefix(a->trust, m->f.topic, m->f.topic_len);
	act_forged *f = NULL;
	for (int i = 0; i < ACT_FORGED_SLOTS && f == NULL; i++)
		if (!a->forged[i].used || strcmp(a->forged[i].prefix, rule ? rule : "") == 0)
			f = &a->forged[i];
	if (f == NULL) /* more rules than slots: the last slot takes the rest */
		f = &a->forged[ACT_FORGED_SLOTS - 1];
	if (!f->used) {
		f->used = 1;
		snprintf(f->prefix, sizeof f->prefix, "%s", rule ? rule : "");
	}
	uint64_t now = rt_now_ns();
	f->pending++;
	f->total++;
	f->last_seen_ns = now;
	snprintf(f->last_err, sizeof f->last_err, "%s", m->err);
	if (a->pub && (!f->firing || now - f->last_alert_ns >= ACT_FORGED_EVERY_NS))
		act_forged_alert(a, f, SC_ALERT_FIRING, now);
}

/* Reports rejections held back by the rate limit, and resolves a rule that has been quiet. */
static void
act_forged_tick(act_bus *a)
{
	if (a->pub == NULL)
		return;
	uint64_t now = rt_now_ns();
	for (int i = 0; i < ACT_FORGED_SLOTS && a->forged[i].used; i++) {
		act_forged *f = &a->forged[i];
		if (f->pending && now - f->last_alert_ns >= ACT_FORGED_EVERY_NS)
			act_forged_alert(a, f, SC_ALERT_FIRING, now);
		else if (f->firing && !f->pending && now - f->last_seen_ns >= ACT_FORGED_QUIET_NS)
			act_forged_alert(a, f, SC_ALERT_RESOLVED, now);
	}
}

int
act_recv(act_bus *a, bus_msg *m, int timeout_ms)
{
	if (a->held_n)
		act_alert_flush(a);
	for (;;) {
		int rv = bus_recv(a->sub, m, timeout_ms);
		if (rv == BUS_OK || rv == BUS_TIMEOUT || rv == BUS_ECLOSED) {
			act_forged_tick(a);
			return rv;
		}
		if (rv == BUS_EDECODE) {
			rt_inc(act_bad("(frame)", "malformed"));
			rt_log(RT_WARN, "dropped malformed frame: %s", m->err);
		} else if (rv == BUS_EREJECT) {
			char type[FRAME_TYPE_MAX + 1];
			snprintf(type, sizeof type, "%.*s", (int)m->f.type_len, m->f.type);
			rt_inc(act_bad(type, "rejected"));
			rt_log(RT_WARN, "rejected frame: %s", m->err);
			act_forged_seen(a, m);
		}
		bus_msg_free(m);
		act_forged_tick(a);
	}
}

int
act_decode(const bus_msg *m, const sc_msgdef *d, void *rec)
{
	const char *want = sc_type(d);
	char type[FRAME_TYPE_MAX + 1];
	sc_err e;
	snprintf(type, sizeof type, "%.*s", (int)m->f.type_len, m->f.type);
	if (strcmp(type, want) != 0) {
		rt_inc(act_bad(type, "unexpected_type"));
		rt_log(RT_WARN, "topic %.*s: type %s, expected %s", (int)m->f.topic_len, m->f.topic, type, want);
		return -1;
	}
	if (sc_decode(d, m->f.body, m->f.body_len, rec, &e) != 0) {
		rt_inc(act_bad(type, "invalid_body"));
		rt_logkv(RT_WARN, "invalid message body", "type", type, "error", e.text, NULL);
		return -1;
	}
	return 0;
}

int
act_alert(act_bus *a, int severity, int status, const char *kind, const char *dedupe_key, const char *summary,
          const char *const *labels)
{
	sc_alert al;
	char topic[FRAME_TOPIC_MAX + 1];
	memset(&al, 0, sizeof al);
	snprintf(al.kind, sizeof al.kind, "%s", kind);
	al.severity = severity;
	al.status = status;
	snprintf(al.dedupe_key, sizeof al.dedupe_key, "%s", dedupe_key);
	snprintf(al.summary, sizeof al.summary, "%s", summary);
	snprintf(al.origin, sizeof al.origin, "%s", rt_instance());
	al.started_at_ns = rt_now_ns();
	if (status == SC_ALERT_RESOLVED)
		al.resolved_at_ns = al.started_at_ns;
	for (size_t i = 0; labels && labels[i] && labels[i + 1] && al.labels_count < 16; i += 2) {
		snprintf(al.labels[al.labels_count].key, sizeof al.labels[0].key, "%s", labels[i]);
		snprintf(al.labels[al.labels_count].value, sizeof al.labels[0].value, "%s", labels[i + 1]);
		al.labels_count++;
	}
	snprintf(topic, sizeof topic, "alert.%s.%s", act_sev_names[(unsigned)severity < 4 ? severity : 0], kind);
	if (!act_alert_flush(a)) { /* no busd, or older alerts still wait: this one waits behind them */
		if (a->held == NULL && (a->held = calloc(ACT_HELD_MAX, sizeof *a->held)) == NULL) {
			rt_inc(act_alerts_lost());
			rt_logkv(RT_ERROR, "alert lost: no busd connection and no memory to keep it", "kind", kind,
			         NULL);
			return BUS_ESEND;
		}
		if (a->held_n == ACT_HELD_MAX) { /* the oldest goes: a newer alert says more about now */
			rt_inc(act_alerts_lost());
			rt_logkv(RT_WARN, "alert lost: too many waiting for busd", "kind",
			         a->held[a->held_head].al.kind, "key", a->held[a->held_head].al.dedupe_key, NULL);
			a->held_head = (a->held_head + 1) % ACT_HELD_MAX;
			a->held_n--;
		}
		act_held *h = &a->held[(a->held_head + a->held_n++) % ACT_HELD_MAX];
		snprintf(h->topic, sizeof h->topic, "%s", topic);
		h->al = al;
		if (a->held_n == 1)
			rt_logkv(RT_WARN, "no busd connection: alerts wait for it", "kind", kind, NULL);
		return BUS_OK;
	}
	int rv = act_publish(a, topic, &SC_ALERT, &al, NULL, NULL);
	if (rv != BUS_OK)
		rt_inc(act_alerts_lost());
	return rv;
}

int
act_pub_up(const act_bus *a)
{
	return a->pub == NULL || bus_pub_connected(a->pub) > 0;
}

int
act_alert_flush(act_bus *a)
{
	if (a->pub == NULL)
		return 1;
	while (a->held_n && act_pub_up(a)) {
		act_held *h = &a->held[a->held_head];
		if (act_publish(a, h->topic, &SC_ALERT, &h->al, NULL, NULL) != BUS_OK)
			rt_inc(act_alerts_lost()); /* encode or send refused: trying again would not help */
		a->held_head = (a->held_head + 1) % ACT_HELD_MAX;
		a->held_n--;
	}
	return a->held_n == 0 && act_pub_up(a);
}

void
act_publish_body(void *arg, const char *topic, const char *type, const uint8_t *id, const uint8_t *body, size_t len)
{
	if (bus_publish(act_pub(arg), topic, type, id, body, len, NULL) != BUS_OK)
		rt_logkv(RT_WARN, "publish failed; the outbox or the sender re-sends", "topic", topic, NULL);
}

void
act_store_result(rt_metric *store_errors, int rv, const char *what, const char *err)
{
	if (rv == 0) {
		rt_health_set("store", 0, NULL);
		return;
	}
	char text[200];
	snprintf(text, sizeof text, "store: %s", ob_strerror(rv));
	rt_inc(store_errors);
	rt_health_set("store", 1, text);
	rt_logkv(RT_ERROR, what, "error", ob_strerror(rv), "class", ob_err_class(rv), "detail", err, NULL);
}

int
act_run(act_bus *a, const act_loop *l)
{
	size_t nt = l->nticks < ACT_MAX_TICKS ? l->nticks : ACT_MAX_TICKS;
	uint64_t last[ACT_MAX_TICKS], start = rt_mono_ns();
	for (size_t i = 0; i < nt; i++)
		last[i] = start;
	for (int first = 1; !rt_stopping(); first = 0) {
		bus_msg m;
		int rv = act_recv(a, &m, l->recv_ms);
		/* Drain what is queued into one batch: one commit (fsync) for all of it. */
		while (rv == BUS_OK) {
			l->on_frame(l->ctx, &m);
			bus_msg_free(&m);
			if (*l->n >= l->batch)
				break;
			rv = act_recv(a, &m, 0);
		}
		if (rv == BUS_ECLOSED)
			return -1;
		for (size_t i = 0; i < nt; i++) {
			uint64_t now = rt_mono_ns(); /* the jobs before may have taken a while (RPC, HTTP) */
			if ((first && l->ticks[i].at_start) || now - last[i] >= l->ticks[i].every_ns) {
				last[i] = now;
				l->ticks[i].fn(l->ticks[i].ctx ? l->ticks[i].ctx : l->ctx);
			}
		}
	}
	return 0;
}
