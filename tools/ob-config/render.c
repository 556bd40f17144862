/* render: see render.h. One list of instances (rnd_insts); for each, one list of variables
 * (rnd_env) built for a target (Kubernetes, systemd unit, direct run): the env files and the pod
 * specs are written from the same list, so they cannot disagree. */
#include "tools/ob-config/render.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/rt_config.h"
#include "bus/sig.h"

enum {
	A_BUSD,
	A_FETCHER,
	A_MEDIAN,
	A_GATE,
	A_SIGNER,
	A_SUBMITTER,
	A_CCIP,
	A_ALERTER,
	A_TOKENIZER,
	A_TOKEN_FF,
	A_TOKEN_ERC20,
	NACTORS
};
static const char *const rnd_actor[NACTORS] = { "busd",      "fetcher",       "median",     "gate",
	                                        "signer",    "submitter",     "ccip-tail",  "alerter",
	                                        "tokenizer", "token-firefly", "token-erc20" };
/* The seed's three services (kubectl get pods -l app=...). */
static const char *const rnd_app[NACTORS] = {
	"oracle-publisher",       "oracle-publisher",       "oracle-publisher",      "oracle-publisher",
	"oracle-publisher",       "oracle-publisher",       "ccip-monitor",          "ccip-monitor",
	"financial-tokenization", "financial-tokenization", "financial-tokenization"
};

enum {
	T_K8S,
	T_UNIT,
	T_RUN
};

#define K8S_METRICS 8000
#define K8S_HEALTH  8080
#define K8S_ETC     "/etc/oraclebus"
#define K8S_STATE   "/var/lib/oraclebus"
#define K8S_BUSKEY  "/run/secrets/oraclebus/bus-signing-key"
#define K8S_TLS     "/run/secrets/oraclebus-tls"
#define K8S_KEYDIR  "/run/oraclebus-key"
#define K8S_KEY     K8S_KEYDIR "/private-key"
#define K8S_KS      K8S_KEYDIR "/keystore.json"
#define K8S_KSPW    K8S_KEYDIR "/password"

/* Strings of the pool (rnd_fmt): a name is never cut to fit. */
typedef struct {
	int actor, idx;
	const char *k8s;  /* workload name: gate-shard-0 */
	const char *inst; /* host instance: 0, a, main */
	const char *host; /* <actor>-<inst> */
	const char *file; /* its own JSON file name, "" = none */
	int port;         /* host metrics port */
} rnd_inst;

/* every instance rnd_insts can make: busd, a fetcher per group, a median and a gate per shard, a
 * signer and a submitter per key, ccip-tail, alerter, tokenizer and its two backends */
#define RND_MAX_INSTS (1 + OBC_MAX_GROUPS + 2 * OBC_MAX_SHARDS + 2 * OBC_MAX_SIGNERS + 5)

typedef struct {
	const char *k, *v;
	int common; /* Kubernetes: from the ConfigMap oraclebus-common, not the container */
} rnd_kv;

typedef struct {
	rnd_kv a[64];
	int n;
} rnd_env;

/* BUS_TRUST: every actor's (common), and the erc20 signer's, which adds tx.request from the token
 * backend (only that signer signs token calls; the others do not even subscribe to them). */
typedef struct {
	const char *common, *request;
} rnd_tr;

/* strings made while rendering, released at the end */
static char **rnd_pool;
static size_t rnd_npool, rnd_cappool;

static void
rnd_oom(void)
{
	fprintf(stderr, "ob-config: out of memory\n");
	exit(1);
}

/* Takes s (malloc'd) into the pool. */
static const char *
rnd_keep(char *s)
{
	if (!s)
		rnd_oom();
	if (rnd_npool == rnd_cappool) {
		size_t cap = rnd_cappool ? 2 * rnd_cappool : 1024;
		char **p = realloc(rnd_pool, cap * sizeof *p);
		if (!p)
			rnd_oom();
		rnd_pool = p;
		rnd_cappool = cap;
	}
	return rnd_pool[rnd_npool++] = s;
}

static const char *rnd_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *
rnd_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return rnd_keep(s);
}

static void
rnd_pool_free(void)
{
	while (rnd_npool)
		free(rnd_pool[--rnd_npool]);
	free(rnd_pool);
	rnd_pool = NULL;
	rnd_cappool = 0;
}

/* A string of any length, written with fprintf (lists of feeds and keys): open, write, then
 * rnd_str_done for the pool's copy. */
typedef struct {
	FILE *f;
	char *buf;
	size_t len;
} rnd_str;

static FILE *
rnd_str_open(rnd_str *b)
{
	b->buf = NULL;
	b->len = 0;
	if (!(b->f = open_memstream(&b->buf, &b->len)))
		rnd_oom();
	return b->f;
}

static const char *
rnd_str_done(rnd_str *b)
{
	if (fclose(b->f) != 0)
		rnd_oom();
	return rnd_keep(b->buf);
}

static void
rnd_set(rnd_env *e, const char *k, const char *v, int common)
{
	if (!v)
		return;
	if (e->n == (int)(sizeof e->a / sizeof e->a[0])) { /* a fixed set per actor: a bug here, never input */
		fprintf(stderr, "ob-config: internal error: more than %d variables (%s)\n", e->n, k);
		exit(1);
	}
	e->a[e->n++] = (rnd_kv){ k, v, common };
}

static size_t
rnd_insts(const obc_model *m, rnd_inst *v)
{
	size_t n = 0;
	int port = (int)m->first_port;
#define ADD(A, I, K8S, INST, FILE)                                                                                     \
	do {                                                                                                           \
		v[n] = (rnd_inst){ .actor = (A),                                                                       \
			           .idx = (I),                                                                         \
			           .port = port++,                                                                     \
			           .k8s = (K8S),                                                                       \
			           .inst = (INST),                                                                     \
			           .host = rnd_fmt("%s-%s", rnd_actor[A], INST),                                       \
			           .file = (FILE) };                                                                   \
		n++;                                                                                                   \
	} while (0)
	ADD(A_BUSD, 0, "busd", "main", "");
	for (unsigned g = 0; g < m->ngroups; g++)
		ADD(A_FETCHER, (int)g, rnd_fmt("fetcher-group-%s", m->groups[g]), m->groups[g],
		    rnd_fmt("fetcher-%s.json", m->groups[g]));
	for (unsigned s = 0; s < m->nshards; s++)
		ADD(A_MEDIAN, (int)s, rnd_fmt("median-shard-%u", s), rnd_fmt("%u", s), "");
	for (unsigned s = 0; s < m->nshards; s++)
		ADD(A_GATE, (int)s, rnd_fmt("gate-shard-%u", s), rnd_fmt("%u", s), rnd_fmt("gate-%u.json", s));
	for (unsigned i = 0; i < m->nsigners; i++)
		ADD(A_SIGNER, (int)i, m->signers[i].name, m->signers[i].suffix, rnd_fmt("%s.json", m->signers[i].name));
	for (unsigned i = 0; i < m->nsigners; i++)
		ADD(A_SUBMITTER, (int)i, rnd_fmt("submitter-%s", m->signers[i].suffix), m->signers[i].suffix, "");
	if (m->ccip_chains)
		ADD(A_CCIP, 0, "ccip-tail-0", "0", "ccip.json");
	if (m->sinks)
		ADD(A_ALERTER, 0, "alerter-0", "0", "sinks.json");
	if (m->token_config)
		ADD(A_TOKENIZER, 0, "tokenizer-0", "0", "token-config.json");
	if (m->has_firefly)
		ADD(A_TOKEN_FF, 0, "token-firefly-0", "0", "");
	if (m->has_erc20)
		ADD(A_TOKEN_ERC20, 0, "token-erc20-0", "0", "");
#undef ADD
	return n;
}

/* ---- the actors' own files ------------------------------------------------------------------- */

static int
rnd_feed_of(const obc_model *m, const rnd_inst *in, unsigned f)
{
	if (in->actor == A_GATE || in->actor == A_MEDIAN)
		return m->feeds[f].shard == in->idx;
	if (in->actor == A_SIGNER)
		return m->feeds[f].signer == in->idx;
	return 0;
}

/* The instance's JSON file (new reference), NULL when it has none. */
static json_t *
rnd_file_json(const obc_model *m, const rnd_inst *in)
{
	json_t *feeds = json_array();
	switch (in->actor) {
	case A_FETCHER: {
		/* the group's sources of each feed, in feeds[] order and sources[] order within a feed (one
		 * pass over the sources, not one per feed: thousands of each) */
		json_t **src = calloc(m->nfeeds ? m->nfeeds : 1, sizeof *src);
		if (!src)
			rnd_oom();
		for (unsigned s = 0; s < m->nsources; s++) {
			const obc_source *o = &m->sources[s];
			if (o->group != in->idx || o->feed < 0)
				continue;
			json_t *c = json_deep_copy(o->obj);
			json_object_del(c, "group");
			json_object_del(c, "feed");
			json_object_del(c, "$comment");
			if (!src[o->feed])
				src[o->feed] = json_array();
			json_array_append_new(src[o->feed], c);
		}
		for (unsigned f = 0; f < m->nfeeds; f++)
			if (src[f])
				json_array_append_new(feeds,
				                      json_pack("{s:s, s:I, s:o}", "feed", m->feeds[f].name, "decimals",
				                                (json_int_t)m->feeds[f].decimals, "sources", src[f]));
		free(src);
		return json_pack("{s:o}", "feeds", feeds);
	}
	case A_GATE:
		for (unsigned f = 0; f < m->nfeeds; f++) {
			const obc_feed *d = &m->feeds[f];
			if (!rnd_feed_of(m, in, f))
				continue;
			json_array_append_new(
			        feeds,
			        json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "feed", d->name, "aggregator",
			                  d->aggregator, "decimals", (json_int_t)d->decimals, "deviation", d->deviation,
			                  "deviation_absolute", d->deviation_absolute ? d->deviation_absolute : "0",
			                  "heartbeat", d->heartbeat, "min_interval", d->min_interval, "transmitter",
			                  m->signers[d->signer].address));
		}
		return json_pack("{s:o}", "feeds", feeds);
	case A_SIGNER:
		for (unsigned f = 0; f < m->nfeeds; f++) {
			const obc_feed *d = &m->feeds[f];
			if (!rnd_feed_of(m, in, f))
				continue;
			json_t *o = json_pack("{s:s, s:s}", "feed", d->name, "aggregator", d->aggregator);
			if (d->min_answer)
				json_object_set_new(o, "min_answer", json_string(d->min_answer));
			if (d->max_answer)
				json_object_set_new(o, "max_answer", json_string(d->max_answer));
			if (d->max_change)
				json_object_set_new(o, "max_change", json_string(d->max_change));
			json_array_append_new(feeds, o);
		}
		return json_pack("{s:o}", "feeds", feeds);
	case A_CCIP:
		json_decref(feeds);
		return json_pack("{s:O}", "chains", m->ccip_chains);
	case A_ALERTER:
		json_decref(feeds);
		return json_pack("{s:O}", "sinks", m->sinks);
	case A_TOKENIZER:
		json_decref(feeds);
		return json_deep_copy(m->token_config);
	}
	json_decref(feeds);
	return NULL;
}

/* ---- variables ------------------------------------------------------------------------------- */

/* FEEDS of a median or signer: at most OBC_MAX_SHARD_FEEDS / OBC_MAX_SIGNER_FEEDS names of at most 31
 * characters (model.c), so 32 KiB, far below an environment string's 128 KiB (MAX_ARG_STRLEN). */
static const char *
rnd_feed_list(const obc_model *m, const rnd_inst *in)
{
	rnd_str b;
	FILE *f = rnd_str_open(&b);
	int any = 0;
	for (unsigned i = 0; i < m->nfeeds; i++)
		if (rnd_feed_of(m, in, i))
			fprintf(f, "%s%s", any++ ? "," : "", m->feeds[i].name);
	return rnd_str_done(&b);
}

/* Who may publish what: every topic a reader takes only signed (actors/README.md). with_request adds
 * tx.request (the token backend's calls) for the erc20 signer. "" after a reported problem. */
static const char *
rnd_trust1(obc_model *m, int with_request)
{
	rnd_str bs, bu, ba, bt;
	const char *const *p = m->role_pub;
	int backends = m->has_firefly || m->has_erc20;
	FILE *fs = rnd_str_open(&bs), *fu = rnd_str_open(&bu);
	for (unsigned i = 0; i < m->nsigners; i++) {
		fprintf(fs, "%s%s", i ? "," : "", m->signers[i].bus_pub ? m->signers[i].bus_pub : "");
		fprintf(fu, "%s%s", i ? "," : "",
		        m->signers[i].submitter_bus_pub ? m->signers[i].submitter_bus_pub : "");
	}
	const char *sig = rnd_str_done(&bs), *sub = rnd_str_done(&bu);
	/* alerts: every actor that raises them (the fetcher reports through its metrics) */
	const char *al[] = { p[OBC_ROLE_MEDIAN],
		             p[OBC_ROLE_GATE],
		             sig,
		             sub,
		             m->ccip_chains ? p[OBC_ROLE_CCIP] : NULL,
		             m->sinks ? p[OBC_ROLE_ALERTER] : NULL,
		             m->token_config ? p[OBC_ROLE_TOKENIZER] : NULL,
		             backends ? p[OBC_ROLE_TOKEN_BACKEND] : NULL };
	FILE *fa = rnd_str_open(&ba);
	int any = 0;
	for (size_t i = 0; i < sizeof al / sizeof al[0]; i++)
		if (al[i] && *al[i])
			fprintf(fa, "%s%s", any++ ? "," : "", al[i]);
	const char *alert = rnd_str_done(&ba);
	FILE *ft = rnd_str_open(&bt);
	fprintf(ft,
	        "price.obs.=%s;price.agg.=%s;price.update.=%s;tx.signed=%s;signer.lease=%s;tx.ack=%s;tx.bump=%s;"
	        "tx.status=%s;gas.quote=%s;nonce.sync=%s",
	        p[OBC_ROLE_FETCHER], p[OBC_ROLE_MEDIAN], p[OBC_ROLE_GATE], sig, sig, sub, sub, sub, sub, sub);
	if (m->ccip_chains)
		fprintf(ft, ";ccip.msg.=%s", p[OBC_ROLE_CCIP]);
	if (m->token_config)
		fprintf(ft, ";token.request=%s;token.status=%s", p[OBC_ROLE_TOKENIZER], p[OBC_ROLE_TOKENIZER]);
	if (backends)
		fprintf(ft, ";token.result=%s", p[OBC_ROLE_TOKEN_BACKEND]);
	if (with_request)
		fprintf(ft, ";tx.request=%s", p[OBC_ROLE_TOKEN_BACKEND]);
	fprintf(ft, ";alert.=%s", alert);
	const char *t = rnd_str_done(&bt);
	/* the bus's own parser decides: more than SIG_TRUST_MAX_KEYS keys on one prefix, a bad key */
	char err[256];
	sig_trust *st = sig_trust_parse(t, err, sizeof err);
	if (!st) {
		obc_err(m, "bus.public_keys", "the trust list these keys make is refused by the bus: %s", err);
		return "";
	}
	sig_trust_free(st);
	return t;
}

static rnd_tr
rnd_trust(obc_model *m)
{
	rnd_tr tr = { rnd_trust1(m, 0), NULL };
	tr.request = m->has_erc20 && !m->nerr ? rnd_trust1(m, 1) : tr.common;
	return tr;
}

static const char *
rnd_bus_urls(const obc_model *m, int t, int port)
{
	if (t != T_K8S)
		return rnd_fmt("tcp://%s:%d", m->bind, port);
	const char *sch = m->tls_secret ? "tls+tcp" : "tcp";
	rnd_str b;
	FILE *f = rnd_str_open(&b);
	for (int r = 0; r < m->bus_replicas; r++)
		fprintf(f, "%s%s://busd-%d.busd:%d", r ? "," : "", sch, r, port);
	return rnd_str_done(&b);
}

static void
rnd_tls(const obc_model *m, int t, rnd_env *e, int common)
{
	const char *d = t == T_K8S ? (m->tls_secret ? K8S_TLS : NULL) : m->tls_dir;
	if (!d)
		return;
	rnd_set(e, "BUS_TLS_CERT", rnd_fmt("%s/tls.crt", d), common);
	rnd_set(e, "BUS_TLS_KEY", rnd_fmt("%s/tls.key", d), common);
	rnd_set(e, "BUS_TLS_CA", rnd_fmt("%s/ca.crt", d), common);
}

static void
rnd_env_of(obc_model *m, const rnd_inst *in, int t, const rnd_tr *tr, rnd_env *e)
{
	const char *etc = t == T_K8S ? K8S_ETC : m->etc_dir;
	const char *cfg = in->file[0] ? rnd_fmt("%s/%s", etc, in->file) : NULL;
	const char *state = t == T_K8S   ? rnd_fmt("%s/%s", K8S_STATE, rnd_actor[in->actor])
	                    : t == T_RUN ? rnd_fmt("%s/%s", m->state_dir, in->host)
	                                 : NULL;
	const obc_signer *sg = in->actor == A_SIGNER || in->actor == A_SUBMITTER ? &m->signers[in->idx] : NULL;
	e->n = 0;
	if (t == T_RUN)
		rnd_set(e, "INSTANCE", in->host, 0);
	if (in->actor == A_BUSD) {
		int tls = t == T_K8S ? m->tls_secret != NULL : m->tls_dir != NULL;
		const char *host = t == T_K8S ? "0.0.0.0" : m->bind;
		rnd_set(e, "BUSD_INGRESS", rnd_fmt("%s://%s:7701", tls ? "tls+tcp" : "tcp", host), 0);
		rnd_set(e, "BUSD_EGRESS", rnd_fmt("%s://%s:7702", tls ? "tls+tcp" : "tcp", host), 0);
		rnd_tls(m, t, e, 0);
		rnd_set(e, "JOURNAL_DIR", t == T_K8S ? K8S_STATE "/journal" : state, 0);
		rnd_set(e, "JOURNAL_MAX_BYTES", m->journal_max_bytes, 0);
		rnd_set(e, "JOURNAL_MAX_AGE", m->journal_max_age, 0);
		rnd_set(e, "LOG_LEVEL", m->log_level, 0);
	} else {
		rnd_set(e, "BUS_PUB_URL", rnd_bus_urls(m, t, 7701), 1);
		rnd_set(e, "BUS_SUB_URL", rnd_bus_urls(m, t, 7702), 1);
		/* the erc20 signer's own list (a container variable: it overrides the ConfigMap's) */
		if (in->actor == A_SIGNER && m->has_erc20 && in->idx == m->erc20_signer)
			rnd_set(e, "BUS_TRUST", tr->request, 0);
		else
			rnd_set(e, "BUS_TRUST", tr->common, 1);
		rnd_tls(m, t, e, 1);
		rnd_set(e, "LOG_LEVEL", m->log_level, 1);
		if (t == T_K8S)
			rnd_set(e, "BUS_SIGNING_KEY_FILE", K8S_BUSKEY, 0);
		else if (t == T_RUN)
			rnd_set(e, "BUS_SIGNING_KEY_FILE", rnd_fmt("%s/%s.bus", m->keys_dir, in->host), 0);
	}
	if (in->actor == A_GATE || in->actor == A_SUBMITTER || in->actor == A_TOKEN_ERC20)
		rnd_set(e, "RPC_URL", m->rpc_url, 1);
	if (in->actor == A_GATE || in->actor == A_SUBMITTER || in->actor == A_SIGNER || in->actor == A_TOKEN_ERC20)
		rnd_set(e, "CHAIN_ID", rnd_fmt("%lld", (long long)m->chain_id), 1);
	switch (in->actor) {
	case A_FETCHER:
		rnd_set(e, "CONFIG_FILE", cfg, 0);
		rnd_set(e, "FETCH_INTERVAL", m->fetch_interval, 0);
		break;
	case A_MEDIAN:
		rnd_set(e, "FEEDS", rnd_feed_list(m, in), 0);
		rnd_set(e, "WINDOW", m->window, 0);
		rnd_set(e, "QUORUM", rnd_fmt("%lld", (long long)m->quorum), 0);
		break;
	case A_GATE:
		rnd_set(e, "FEEDS_FILE", cfg, 0);
		rnd_set(e, "STATE_DIR", state, 0);
		break;
	case A_SIGNER:
		rnd_set(e, "FEEDS", rnd_feed_list(m, in), 0);
		rnd_set(e, "FEEDS_FILE", cfg, 0);
		rnd_set(e, "TX_TYPE", sg->tx_type, 0);
		rnd_set(e, "GAS_PRICE", sg->gas_price, 0);
		rnd_set(e, "STATE_DIR", state, 0);
		/* the key source, by reference: the unit sets none, so each instance's env file names its own */
		if (sg->remote_url) {
			rnd_set(e, "REMOTE_SIGNER_URL", sg->remote_url, 0);
			rnd_set(e, "REMOTE_SIGNER_ADDRESS", sg->address, 0);
			rnd_set(e, "REMOTE_SIGNER_METHOD", sg->remote_method, 0);
		} else if (sg->keystore_file) {
			rnd_set(e, "KEYSTORE_FILE", t == T_K8S ? K8S_KS : sg->keystore_file, 0);
			rnd_set(e, "KEYSTORE_PASSWORD_FILE", t == T_K8S ? K8S_KSPW : sg->keystore_pw, 0);
		} else
			rnd_set(e, "PRIVATE_KEY_FILE", t == T_K8S ? K8S_KEY : sg->key_file, 0);
		if (m->has_erc20 && in->idx == m->erc20_signer) {
			/* the token backend's calls: its tokens, and the calls it makes (token-erc20's README) */
			rnd_set(e, "ALLOWED_CONTRACTS", m->erc20_tokens, 0);
			rnd_set(e, "ALLOWED_SELECTORS",
			        rnd_fmt("0x40c10f19,%s,%s",
			                strcmp(m->erc20_burn, "burnFrom") == 0 ? "0x79cc6790" : "0x9dc29fac",
			                strcmp(m->erc20_transfer, "transferWithData") == 0 ? "0xc0ea7a7a"
			                                                                   : "0x23b872dd"),
			        0);
		}
		break;
	case A_SUBMITTER:
		rnd_set(e, "SIGNER_ADDRESS", sg->address, 0);
		rnd_set(e, "CONFIRMATIONS", rnd_fmt("%lld", (long long)sg->confirmations), 0);
		rnd_set(e, "FINALITY_DEPTH", rnd_fmt("%lld", (long long)sg->finality_depth), 0);
		rnd_set(e, "STATE_DIR", state, 0);
		break;
	case A_CCIP:
		rnd_set(e, "CCIP_CONFIG", cfg, 0);
		rnd_set(e, "MONITORING_INTERVAL", m->ccip_interval, 0);
		rnd_set(e, "OVERDUE_AFTER", m->ccip_overdue, 0);
		rnd_set(e, "COMMIT_OVERDUE_AFTER", m->ccip_commit_overdue, 0);
		rnd_set(e, "DATA_DIR", state, 0);
		break;
	case A_ALERTER:
		rnd_set(e, "CONFIG_FILE", cfg, 0);
		rnd_set(e, "STATE_DIR", state, 0);
		if (t == T_K8S && m->sinks_secret) {
			rnd_set(e, "PAGERDUTY_ROUTING_KEY_FILE", "/run/secrets/oraclebus-sinks/pagerduty-routing-key",
			        0);
			rnd_set(e, "SLACK_WEBHOOK_URL_FILE", "/run/secrets/oraclebus-sinks/slack-webhook-url", 0);
			rnd_set(e, "WEBHOOK_SECRET_FILE", "/run/secrets/oraclebus-sinks/webhook-secret", 0);
			rnd_set(e, "ORACLEBUS_OPTIONAL_SECRETS",
			        "PAGERDUTY_ROUTING_KEY SLACK_WEBHOOK_URL WEBHOOK_SECRET", 0);
		}
		break;
	case A_TOKENIZER:
		rnd_set(e, "TOKEN_CONFIG", cfg, 0);
		rnd_set(e, "PENDING_ALERT", m->pending_alert, 0);
		rnd_set(e, "STATE_DIR", state, 0);
		break;
	case A_TOKEN_FF:
		rnd_set(e, "FIREFLY_URL", m->ff_url, 0);
		rnd_set(e, "FIREFLY_NAMESPACE", m->ff_namespace, 0);
		rnd_set(e, "FIREFLY_KEY", m->ff_key, 0);
		rnd_set(e, "STATE_DIR", state, 0);
		break;
	case A_TOKEN_ERC20:
		rnd_set(e, "TOKENS", m->erc20_tokens, 0);
		rnd_set(e, "GAS_LIMIT", rnd_fmt("%lld", (long long)m->erc20_gas_limit), 0);
		rnd_set(e, "BURN_FUNCTION", m->erc20_burn, 0);
		rnd_set(e, "TRANSFER_FUNCTION", m->erc20_transfer, 0);
		rnd_set(e, "STATE_DIR", state, 0);
		break;
	}
	if (t == T_K8S) {
		rnd_set(e, "METRICS_PORT", "8000", 0);
		rnd_set(e, "HEALTH_PORT", "8080", 0);
	} else {
		rnd_set(e, "HTTP_ADDR", m->bind, 0);
		rnd_set(e, "METRICS_PORT", rnd_fmt("%d", in->port), 0);
		rnd_set(e, "HEALTH_PORT", rnd_fmt("%d", in->port + 80), 0);
	}
}

/* ---- files ----------------------------------------------------------------------------------- */

static int
rnd_mkdir(const char *d)
{
	if (mkdir(d, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "ob-config: %s: %s\n", d, strerror(errno));
		return -1;
	}
	return 0;
}

static FILE *
rnd_open(const char *dir, const char *name)
{
	const char *p = rnd_fmt("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (!f)
		fprintf(stderr, "ob-config: %s: %s\n", p, strerror(errno));
	return f;
}

static int
rnd_close(FILE *f)
{
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "ob-config: write error\n");
		return -1;
	}
	return 0;
}

#define RND_BANNER "generated by tools/ob-config from %s: edit that file and render again, not this"

/* A YAML double-quoted scalar (JSON string syntax is valid YAML). */
static void
rnd_q(FILE *f, const char *s)
{
	json_t *j = json_string(s);
	char *d = json_dumps(j, JSON_ENCODE_ANY);
	fputs(d ? d : "\"\"", f);
	free(d);
	json_decref(j);
}

static const char *
rnd_base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int
rnd_env_files(obc_model *m, const rnd_inst *v, size_t n, const char *out, const rnd_tr *tr)
{
	const char *de = rnd_fmt("%s/env", out), *dr = rnd_fmt("%s/run", out), *dc = rnd_fmt("%s/etc", out);
	if (rnd_mkdir(de) || rnd_mkdir(dr) || rnd_mkdir(dc))
		return -1;
	for (size_t i = 0; i < n; i++) {
		for (int t = T_UNIT; t <= T_RUN; t++) {
			rnd_env e;
			rnd_env_of(m, &v[i], t, tr, &e);
			FILE *f = rnd_open(t == T_UNIT ? de : dr, rnd_fmt("%s.env", v[i].host));
			if (!f)
				return -1;
			fprintf(f, "# ");
			fprintf(f, RND_BANNER, rnd_base(m->file));
			if (t == T_UNIT)
				fprintf(f,
				        "\n# %s/%s.env for oraclebus-%s@%s.service (mode 0640, root). No secrets here "
				        "(key "
				        "files by path):\n"
				        "# the unit adds INSTANCE, the state directory and the bus key "
				        "(LoadCredential).\n",
				        m->etc_dir, v[i].host, rnd_actor[v[i].actor], v[i].inst);
			else
				fprintf(f,
				        "\n# A direct run: env $(grep -v '^#' %s.env) oraclebus-run %s (key files by "
				        "path, "
				        "never the keys).\n",
				        v[i].host, rnd_actor[v[i].actor]);
			for (int k = 0; k < e.n; k++)
				fprintf(f, "%s=%s\n", e.a[k].k, e.a[k].v);
			if (rnd_close(f))
				return -1;
		}
		json_t *j = rnd_file_json(m, &v[i]);
		if (j) {
			FILE *f = rnd_open(dc, v[i].file);
			if (!f || json_dumpf(j, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
			    fputc('\n', f) == EOF || rnd_close(f)) {
				json_decref(j);
				return -1;
			}
			json_decref(j);
		}
	}
	return 0;
}

static int
rnd_prometheus(obc_model *m, const rnd_inst *v, size_t n, const char *out)
{
	const char *d = rnd_fmt("%s/prometheus", out);
	if (rnd_mkdir(d))
		return -1;
	FILE *f = rnd_open(d, "prometheus.yml");
	if (!f)
		return -1;
	fprintf(f, "# ");
	fprintf(f, RND_BANNER, rnd_base(m->file));
	fprintf(f,
	        ".\n# One host (systemd): every actor's METRICS_PORT (env/*.env) on %s.\n"
	        "# promtool check config passes with Debian's promtool.\n"
	        "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n\nrule_files:\n  - rules.yml\n"
	        "  - feeds.rules.yml\n\n"
	        "scrape_configs:\n  - job_name: oraclebus\n    static_configs:\n",
	        m->bind);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "      - targets: [\"%s:%d\"]\n        labels: {actor: %s, workload: %s, service: %s}\n",
		        m->bind, v[i].port, rnd_actor[v[i].actor], v[i].host, rnd_app[v[i].actor]);
	if (rnd_close(f))
		return -1;
	/* every feed's heartbeat, which rules.yml's feed rules divide by: from the same feeds[] the gates'
	 * files are made of, so the two cannot drift apart */
	if (!(f = rnd_open(d, "feeds.rules.yml")))
		return -1;
	fprintf(f, "# ");
	fprintf(f, RND_BANNER, rnd_base(m->file));
	fprintf(f, ".\n# The heartbeat of every feed (feeds[].heartbeat, the gates' own), for the feed rules of "
	           "rules.yml\n"
	           "# (OracleFeedStale, OracleFeedHeartbeatLate, oraclebus:feed_onchain_age:heartbeats). Load both.\n"
	           "groups:\n  - name: oraclebus-feed-heartbeats\n    rules:\n");
	for (unsigned i = 0; i < m->nfeeds; i++) {
		uint64_t ms = 0;
		rt_parse_duration_ms(m->feeds[i].heartbeat, &ms); /* checked when the model was read */
		fprintf(f, "      - record: oraclebus:feed_heartbeat_seconds\n        expr: vector(%llu",
		        (unsigned long long)(ms / 1000));
		if (ms % 1000)
			fprintf(f, ".%03llu", (unsigned long long)(ms % 1000));
		fprintf(f, ")\n        labels: {feed: ");
		rnd_q(f, m->feeds[i].name);
		fprintf(f, "}\n");
	}
	return rnd_close(f);
}

/* ---- Kubernetes ------------------------------------------------------------------------------ */

static void
rnd_labels(FILE *f, const rnd_inst *in, int pod)
{
	fprintf(f, "{app.kubernetes.io/name: %s, app.kubernetes.io/instance: %s, app.kubernetes.io/part-of: oraclebus",
	        rnd_actor[in->actor], in->k8s);
	if (pod && in->actor == A_BUSD)
		fprintf(f, ", app.kubernetes.io/component: bus");
	if (pod && in->actor == A_ALERTER)
		fprintf(f, ", app.kubernetes.io/component: alerting");
	if (pod)
		fprintf(f, ", app: %s", rnd_app[in->actor]);
	fprintf(f, "}");
}

static void
rnd_meta(FILE *f, const obc_model *m, const char *kind, const char *api, const char *name, const rnd_inst *in)
{
	fprintf(f, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n  labels: ", api, kind, name,
	        m->namespace_);
	if (in)
		rnd_labels(f, in, 0);
	else
		fprintf(f, "{app.kubernetes.io/part-of: oraclebus}");
	fprintf(f, "\n");
}

static void
rnd_configmap(FILE *f, const obc_model *m, const rnd_inst *in)
{
	json_t *j = rnd_file_json(m, in);
	char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(j);
	rnd_meta(f, m, "ConfigMap", "v1", in->k8s, in);
	fprintf(f, "data:\n  %s: |\n    ", in->file);
	for (const char *c = s; c && *c; c++) {
		fputc(*c, f);
		if (*c == '\n')
			fputs("    ", f);
	}
	fputs("\n---\n", f);
	free(s);
}

static void
rnd_service(FILE *f, const obc_model *m, const rnd_inst *in, const char *name, int headless)
{
	fprintf(f,
	        "apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\n  labels: "
	        "{app.kubernetes.io/name: %s, app.kubernetes.io/part-of: oraclebus}\nspec:\n",
	        name, m->namespace_, rnd_actor[in->actor]);
	if (headless)
		fprintf(f, "  clusterIP: None               # headless: one DNS name per pod (%s-0.%s)\n", in->k8s,
		        name);
	if (in->actor == A_BUSD)
		fprintf(f, "  publishNotReadyAddresses: true  # resolvable from the start; NNG redials until the pod "
		           "listens\n");
	if (headless)
		fprintf(f, "  selector: {app.kubernetes.io/name: %s}\n", rnd_actor[in->actor]);
	else
		fprintf(f, "  selector: {app.kubernetes.io/name: %s, app.kubernetes.io/instance: %s}\n",
		        rnd_actor[in->actor], in->k8s);
	fprintf(f, "  ports:\n");
	if (in->actor == A_BUSD)
		fprintf(f, "    - {name: ingress, port: 7701, targetPort: ingress}\n"
		           "    - {name: egress, port: 7702, targetPort: egress}\n");
	fprintf(f, "    - {name: metrics, port: 8000, targetPort: metrics}\n"
	           "    - {name: health, port: 8080, targetPort: health}\n---\n");
}

static void
rnd_pdb(FILE *f, const obc_model *m, const rnd_inst *in, const char *rule)
{
	rnd_meta(f, m, "PodDisruptionBudget", "policy/v1", in->k8s, in);
	fprintf(f, "spec:\n  %s\n  selector:\n    matchLabels: {app.kubernetes.io/name: %s%s%s}\n---\n", rule,
	        rnd_actor[in->actor],
	        in->actor == A_BUSD ? "" : ", app.kubernetes.io/instance: ", in->actor == A_BUSD ? "" : in->k8s);
}

typedef struct {
	const char *mem_req, *mem_lim, *cpu, *storage;
	const char *why_ready;
} rnd_res;

static rnd_res
rnd_res_of(int a)
{
	switch (a) {
	case A_BUSD:
		return (rnd_res){ "32Mi", "128Mi", "50m", "2Gi", "503 while the journal cannot be written" };
	case A_FETCHER:
		return (rnd_res){ "32Mi", "64Mi", "20m", NULL, "503 while every source of a feed is failing" };
	case A_MEDIAN:
		return (rnd_res){ "16Mi", "64Mi", "20m", NULL, "503 while a feed is below its quorum" };
	case A_GATE:
		return (rnd_res){ "32Mi", "64Mi", "20m", "1Gi", "503 while latestRoundData cannot be read" };
	case A_SIGNER:
		return (rnd_res){ "16Mi", "64Mi", "50m", "1Gi", "503 until the submitter's first nonce.sync" };
	case A_SUBMITTER:
		return (rnd_res){ "32Mi", "64Mi", "20m", "1Gi", "503 while no RPC endpoint answers" };
	case A_CCIP:
		return (rnd_res){ "32Mi", "64Mi", "20m", "5Gi", "503 while a chain cannot be read" };
	case A_ALERTER:
		return (rnd_res){ "32Mi", "64Mi", "20m", "1Gi", "503 while a sink is failing" };
	case A_TOKEN_FF:
		return (rnd_res){ "32Mi", "64Mi", "20m", "1Gi", "503 while FireFly does not answer" };
	case A_TOKEN_ERC20:
		return (rnd_res){ "32Mi", "64Mi", "20m", "1Gi", "503 while no RPC endpoint answers" };
	default:
		return (rnd_res){ "32Mi", "256Mi", "50m", "5Gi", "503 while the store cannot be written" };
	}
}

static void
rnd_workload(FILE *f, const obc_model *m, const rnd_inst *in, const rnd_env *e)
{
	int a = in->actor, sts = a != A_FETCHER && a != A_MEDIAN;
	rnd_res r = rnd_res_of(a);
	const obc_signer *sg = a == A_SIGNER ? &m->signers[in->idx] : NULL;
	int keycopy = sg && !sg->remote_url;
	int keystore = keycopy && sg->keystore_file;
	/* scrypt takes 128*r*n bytes once, at start: 256 MiB for geth's n = 2^18 (signer README) */
	if (keystore)
		r.mem_lim = "320Mi";
	rnd_meta(f, m, sts ? "StatefulSet" : "Deployment", "apps/v1", in->k8s, in);
	fprintf(f, "spec:\n");
	if (sts)
		fprintf(f, "  serviceName: %s\n", a == A_BUSD ? "busd" : a == A_CCIP ? in->k8s : rnd_actor[a]);
	if (a == A_BUSD)
		fprintf(f,
		        "  replicas: %d                   # every actor dials each; one can restart while the other "
		        "carries\n",
		        m->bus_replicas);
	else if (a == A_SIGNER)
		fprintf(f,
		        "  replicas: 1                   # NEVER more than 1: two signers on one key reuse nonces\n");
	else if (a == A_GATE)
		fprintf(f, "  replicas: 1                   # exactly one gate per feed: two would both publish "
		           "updates\n");
	else
		fprintf(f, "  replicas: 1\n");
	fprintf(f, "  selector:\n    matchLabels: {app.kubernetes.io/name: %s, app.kubernetes.io/instance: %s}\n",
	        rnd_actor[a], in->k8s);
	fprintf(f, "  template:\n    metadata:\n      labels: ");
	rnd_labels(f, in, 1);
	fprintf(f, "\n      annotations: {prometheus.io/scrape: \"true\", prometheus.io/port: \"8000\", "
	           "prometheus.io/path: "
	           "/metrics}\n    spec:\n      automountServiceAccountToken: false\n      enableServiceLinks: false   "
	           "# no "
	           "injected *_PORT/*_SERVICE_HOST variables\n      terminationGracePeriodSeconds: 30\n      "
	           "securityContext:\n"
	           "        runAsNonRoot: true\n        runAsUser: 10001\n        runAsGroup: 10001\n");
	/* every pod: Secret files are root-owned, so the non-root user reads them through the group */
	fprintf(f, "        fsGroup: 10001\n        fsGroupChangePolicy: OnRootMismatch\n");
	fprintf(f, "        seccompProfile: {type: RuntimeDefault}\n");
	if (a == A_BUSD)
		fprintf(f, "      affinity:\n        podAntiAffinity:          # the replicas on different nodes when "
		           "possible\n"
		           "          preferredDuringSchedulingIgnoredDuringExecution:\n            - weight: 100\n"
		           "              podAffinityTerm:\n                topologyKey: kubernetes.io/hostname\n"
		           "                labelSelector:\n                  matchLabels: {app.kubernetes.io/name: "
		           "busd}\n");
	if (keycopy)
		fprintf(f,
		        "      initContainers:\n        - name: key\n          image: oraclebus\n"
		        "          # the signer refuses symlinks and group-readable files (a Secret volume with "
		        "fsGroup is\n"
		        "          # both): a regular 0400 copy on a memory emptyDir\n"
		        "          command: [\"/bin/sh\", \"-ec\", \"umask 077; %s\"]\n",
		        keystore ? "install -m 0400 /secret/keystore.json /secret/password " K8S_KEYDIR "/"
		                 : "install -m 0400 /secret/private-key " K8S_KEY);
	if (keycopy)
		fprintf(f, "          resources:\n            requests: {cpu: 10m, memory: 16Mi}\n            limits: "
		           "{memory: 64Mi}\n"
		           "          securityContext:\n            allowPrivilegeEscalation: false\n"
		           "            readOnlyRootFilesystem: true\n            capabilities: {drop: [\"ALL\"]}\n"
		           "          volumeMounts:\n            - {name: key-secret, mountPath: /secret, readOnly: "
		           "true}\n"
		           "            - {name: key, mountPath: /run/oraclebus-key}\n");
	fprintf(f, "      containers:\n        - name: %s\n          image: oraclebus\n", rnd_actor[a]);
	if (a == A_BUSD)
		fprintf(f, "          command: [\"/usr/local/bin/busd\"]\n");
	else
		fprintf(f, "          command: [\"/usr/local/bin/oraclebus-run\", \"/usr/local/bin/%s\"]\n",
		        rnd_actor[a]);
	if (a != A_BUSD)
		fprintf(f, "          envFrom:\n            - configMapRef: {name: oraclebus-common}\n");
	fprintf(f, "          env:\n            - name: INSTANCE\n              valueFrom: {fieldRef: {fieldPath: "
	           "metadata.name}}\n");
	for (int k = 0; k < e->n; k++) {
		if (e->a[k].common)
			continue;
		fprintf(f, "            - {name: %s, value: ", e->a[k].k);
		rnd_q(f, e->a[k].v);
		fprintf(f, "}\n");
	}
	fprintf(f, "          ports:\n");
	if (a == A_BUSD)
		fprintf(f, "            - {name: ingress, containerPort: 7701}\n            - {name: egress, "
		           "containerPort: 7702}\n");
	fprintf(f,
	        "            - {name: metrics, containerPort: 8000}\n            - {name: health, containerPort: "
	        "8080}\n"
	        "          readinessProbe:          # %s\n            httpGet: {path: /health, port: health}\n"
	        "            periodSeconds: 10\n            failureThreshold: 3\n"
	        "          livenessProbe:           # answers HTTP at all: degraded is shown, not restarted\n"
	        "            httpGet: {path: /metrics, port: metrics}\n            initialDelaySeconds: 5\n"
	        "            periodSeconds: 20\n            failureThreshold: 3\n"
	        "          resources:\n            requests: {cpu: %s, memory: %s}\n            limits: {memory: %s}\n"
	        "          securityContext:\n            allowPrivilegeEscalation: false\n"
	        "            readOnlyRootFilesystem: true\n            capabilities: {drop: [\"ALL\"]}\n"
	        "          volumeMounts:\n",
	        r.why_ready, r.cpu, r.mem_req, r.mem_lim);
	if (a != A_BUSD)
		fprintf(f, "            - {name: bus-key, mountPath: /run/secrets/oraclebus, readOnly: true}\n");
	if (m->tls_secret)
		fprintf(f, "            - {name: bus-tls, mountPath: %s, readOnly: true}\n", K8S_TLS);
	if (r.storage)
		fprintf(f, "            - {name: %s, mountPath: %s}\n", a == A_BUSD ? "journal" : "state", K8S_STATE);
	if (keycopy)
		fprintf(f, "            - {name: key, mountPath: /run/oraclebus-key, readOnly: true}\n");
	if (in->file[0])
		fprintf(f, "            - {name: config, mountPath: %s, readOnly: true}\n", K8S_ETC);
	if (a == A_ALERTER && m->sinks_secret)
		fprintf(f, "            - {name: sinks, mountPath: /run/secrets/oraclebus-sinks, readOnly: true}\n");
	int nvol = (a != A_BUSD) + (m->tls_secret != NULL) + keycopy + (in->file[0] != 0) +
	           (a == A_ALERTER && m->sinks_secret);
	if (nvol)
		fprintf(f, "      volumes:\n");
	if (a != A_BUSD) {
		const char *item = a == A_SIGNER || a == A_SUBMITTER       ? in->k8s
		                   : a == A_CCIP                           ? "ccip-tail"
		                   : a == A_TOKEN_FF || a == A_TOKEN_ERC20 ? "token-backend"
		                                                           : rnd_actor[a];
		fprintf(f,
		        "        - name: bus-key            # the actor's bus signing key, read by oraclebus-run\n"
		        "          secret: {secretName: %s, defaultMode: 0400, items: [{key: %s, path: "
		        "bus-signing-key}]}\n",
		        m->keys_secret, item);
	}
	if (m->tls_secret)
		fprintf(f,
		        "        - name: bus-tls            # tls.crt, tls.key, ca.crt (cert-manager's layout)\n"
		        "          secret: {secretName: %s, defaultMode: 0400}\n",
		        m->tls_secret);
	if (keycopy)
		fprintf(f,
		        "        - name: key-secret\n          secret: {secretName: %s, defaultMode: 0400, items: "
		        "%s}\n        - name: key\n"
		        "          emptyDir: {medium: Memory, sizeLimit: 1Mi}   # tmpfs: the copy never touches a "
		        "disk\n",
		        sg->key_secret,
		        keystore ? "[{key: keystore.json, path: keystore.json}, {key: password, path: password}]"
		                 : "[{key: private-key, path: private-key}]");
	if (in->file[0])
		fprintf(f,
		        "        - name: config\n          configMap:\n            name: %s\n            items: [{key: "
		        "%s, "
		        "path: %s}]\n",
		        in->k8s, in->file, in->file);
	if (a == A_ALERTER && m->sinks_secret)
		fprintf(f,
		        "        - name: sinks              # optional keys: an absent one adds no sink\n"
		        "          secret: {secretName: %s, defaultMode: 0400, optional: true}\n",
		        m->sinks_secret);
	if (r.storage)
		fprintf(f,
		        "  volumeClaimTemplates:\n    - metadata:\n        name: %s\n        labels: "
		        "{app.kubernetes.io/name: "
		        "%s}\n      spec:\n        accessModes: [\"ReadWriteOnce\"]\n        resources:\n          "
		        "requests: "
		        "{storage: %s}\n",
		        a == A_BUSD ? "journal" : "state", rnd_actor[a], r.storage);
	fprintf(f, "---\n");
}

static const char *const rnd_header[NACTORS] = {
	"# busd: the bus. A StatefulSet behind a headless Service (busd-0.busd, busd-1.busd); every actor\n"
	"# publishes to and subscribes from each replica, so one can restart while the other carries the\n"
	"# traffic. Its journal (LMDB) is on the volume. PDB: one replica at a time.\n",
	"# fetcher: stateless, one Deployment per group of price sources (sources[].group). The median\n"
	"# keeps the freshest value per source name, so replicas of a group are harmless; spread each\n"
	"# feed's sources over groups so one group down keeps the quorum.\n",
	"# median: one Deployment per feed shard (feeds[].shard), FEEDS = the shard's feeds.\n",
	"# gate: one StatefulSet of ONE replica per feed shard with its LMDB volume: two gates on one feed\n"
	"# would both publish updates; a StatefulSet stops the old pod before the new one starts.\n",
	"# signer: the only holder of a transaction key. ONE StatefulSet of ONE replica per key, paired with\n"
	"# one submitter. NEVER run two signers on one key (they would reuse nonces): not two replicas, not\n"
	"# two StatefulSets, not a second cluster; a second one is also detected at run time (signer.lease).\n"
	"# The key: a Secret mounted only in the init container, copied to a memory emptyDir as a regular\n"
	"# 0400 file (the signer refuses symlinks and group-readable files), or a remote signer.\n",
	"# submitter: one StatefulSet of one replica per signer (SIGNER_ADDRESS), with its LMDB volume.\n",
	"# ccip-tail (the seed's CCIP Monitor): one StatefulSet with its LMDB volume (cursor per chain,\n"
	"# every message); Service ccip-tail-0 answers GET /messages on the health port.\n",
	"# alerter: one StatefulSet with its LMDB volume (alert state, a durable outbox per sink). It\n"
	"# delivers every service's alerts; labelled app=ccip-monitor (the seed's alerting system).\n",
	"# tokenizer (the seed's Financial Tokenization): ONE StatefulSet of ONE replica (the duplicate\n"
	"# check is in its LMDB). Intake: Service tokenizer, port 8080 (POST /payments); the NetworkPolicy\n"
	"# tokenizer-intake admits pods labelled oraclebus.io/payment-client: \"true\" and Prometheus.\n",
	"# token-firefly (Financial Tokenization's FireFly backend): ONE StatefulSet of ONE replica with its\n"
	"# LMDB volume (requests by payment key; FireFly's idempotency key guards the far side). It reaches\n"
	"# FireFly's API port only (NetworkPolicy token-firefly-api).\n",
	"# token-erc20 (Financial Tokenization's ERC-20 backend): ONE StatefulSet of ONE replica with its\n"
	"# LMDB volume. Its calls go as tx.request to one signer (the only one whose BUS_TRUST and\n"
	"# ALLOWED_CONTRACTS take them); it reads receipts over the RPC (NetworkPolicy oraclebus-rpc).\n",
};

/* The TCP port of a checked http(s) URL (rt_check_http_url): its own, or the scheme's. */
static int
rnd_url_port(const char *url)
{
	const char *hp = strstr(url, "://") + 3;
	size_t hl = strcspn(hp, "/?#");
	const char *at = memchr(hp, '@', hl); /* user:pass@ */
	if (at) {
		hl -= (size_t)(at + 1 - hp);
		hp = at + 1;
	}
	const char *colon = hp[0] == '[' ? memchr(hp, ']', hl) : hp;
	colon = colon ? memchr(colon, ':', hl - (size_t)(colon - hp)) : NULL;
	return colon ? atoi(colon + 1) : strncmp(url, "https", 5) == 0 ? 443 : 80;
}

static void
rnd_netpol(FILE *f, const obc_model *m)
{
	const char *ns = m->namespace_, *mon = m->monitoring_ns;
	static const char priv[] = "[10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, 100.64.0.0/10]";
	fprintf(f,
	        "# They select only oraclebus pods (the namespace is shared with Besu). The default deny closes\n"
	        "# every oraclebus pod; each other policy opens one path (deploy/README.md has the table).\n"
	        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: oraclebus-default-deny\n"
	        "  namespace: %s\n  labels: {app.kubernetes.io/part-of: oraclebus}\nspec:\n  podSelector:\n"
	        "    matchLabels: {app.kubernetes.io/part-of: oraclebus}\n  policyTypes: [Ingress, Egress]\n---\n"
	        "# the bus ports: from the stack's pods only\n"
	        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: busd-bus\n  namespace: %s\n"
	        "  labels: {app.kubernetes.io/name: busd, app.kubernetes.io/part-of: oraclebus}\nspec:\n  "
	        "podSelector:\n"
	        "    matchLabels: {app.kubernetes.io/name: busd, app.kubernetes.io/part-of: oraclebus}\n"
	        "  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - podSelector:\n"
	        "            matchLabels: {app.kubernetes.io/part-of: oraclebus}\n      ports:\n"
	        "        - {protocol: TCP, port: 7701}\n        - {protocol: TCP, port: 7702}\n---\n"
	        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: oraclebus-to-busd\n  "
	        "namespace: %s\n"
	        "  labels: {app.kubernetes.io/part-of: oraclebus}\nspec:\n  podSelector:\n"
	        "    matchLabels: {app.kubernetes.io/part-of: oraclebus}\n    matchExpressions:\n"
	        "      - {key: app.kubernetes.io/name, operator: NotIn, values: [busd]}\n  policyTypes: [Egress]\n"
	        "  egress:\n    - to:\n        - podSelector:\n"
	        "            matchLabels: {app.kubernetes.io/name: busd, app.kubernetes.io/part-of: oraclebus}\n"
	        "      ports:\n        - {protocol: TCP, port: 7701}\n        - {protocol: TCP, port: 7702}\n"
	        "    - to:\n        - namespaceSelector:\n            matchLabels: {kubernetes.io/metadata.name: "
	        "kube-system}\n"
	        "          podSelector:\n            matchLabels: {k8s-app: kube-dns}\n      ports:\n"
	        "        - {protocol: UDP, port: 53}\n        - {protocol: TCP, port: 53}\n---\n"
	        "# /metrics (8000) from Prometheus's namespace; probes come from the kubelet and are not filtered\n"
	        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: oraclebus-metrics\n  "
	        "namespace: %s\n"
	        "  labels: {app.kubernetes.io/part-of: oraclebus}\nspec:\n  podSelector:\n"
	        "    matchLabels: {app.kubernetes.io/part-of: oraclebus}\n  policyTypes: [Ingress]\n  ingress:\n"
	        "    - from:\n        - namespaceSelector:\n            matchLabels: {kubernetes.io/metadata.name: "
	        "%s}\n"
	        "      ports:\n        - {protocol: TCP, port: 8000}\n---\n"
	        "# JSON-RPC: Besu pods of the namespace, and 443/8545/8546 outside (narrow the ipBlock to your nodes)\n"
	        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: oraclebus-rpc\n  namespace: "
	        "%s\n"
	        "  labels: {app.kubernetes.io/part-of: oraclebus}\nspec:\n  podSelector:\n"
	        "    matchLabels: {app.kubernetes.io/part-of: oraclebus}\n    matchExpressions:\n"
	        "      - {key: app.kubernetes.io/name, operator: In, values: [gate, submitter, ccip-tail, "
	        "token-erc20]}\n"
	        "  policyTypes: [Egress]\n  egress:\n    - to:\n        - podSelector:\n            matchExpressions:\n"
	        "              - {key: app.kubernetes.io/part-of, operator: NotIn, values: [oraclebus]}\n      ports:\n"
	        "        - {protocol: TCP, port: 8545}\n        - {protocol: TCP, port: 8546}\n    - to:\n"
	        "        - ipBlock:\n            cidr: 0.0.0.0/0\n            except: [169.254.0.0/16]\n      ports:\n"
	        "        - {protocol: TCP, port: 443}\n        - {protocol: TCP, port: 8545}\n"
	        "        - {protocol: TCP, port: 8546}\n---\n"
	        "# price APIs: 443 on public addresses only\n"
	        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: fetcher-sources\n  "
	        "namespace: %s\n"
	        "  labels: {app.kubernetes.io/name: fetcher, app.kubernetes.io/part-of: oraclebus}\nspec:\n  "
	        "podSelector:\n"
	        "    matchLabels: {app.kubernetes.io/name: fetcher, app.kubernetes.io/part-of: oraclebus}\n"
	        "  policyTypes: [Egress]\n  egress:\n    - to:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n"
	        "            except: %s\n      ports:\n        - {protocol: TCP, port: 443}\n---\n",
	        ns, ns, ns, ns, mon, ns, ns, priv);
	if (m->sinks)
		fprintf(f,
		        "# sinks: Alertmanager in %s, PagerDuty and Slack on public addresses\n"
		        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: alerter-sinks\n  "
		        "namespace: %s\n"
		        "  labels: {app.kubernetes.io/name: alerter, app.kubernetes.io/part-of: oraclebus}\nspec:\n  "
		        "podSelector:\n"
		        "    matchLabels: {app.kubernetes.io/name: alerter, app.kubernetes.io/part-of: oraclebus}\n"
		        "  policyTypes: [Egress]\n  egress:\n    - to:\n        - namespaceSelector:\n"
		        "            matchLabels: {kubernetes.io/metadata.name: %s}\n      ports:\n"
		        "        - {protocol: TCP, port: 9093}\n    - to:\n        - ipBlock:\n            cidr: "
		        "0.0.0.0/0\n"
		        "            except: %s\n      ports:\n        - {protocol: TCP, port: 443}\n---\n",
		        mon, ns, mon, priv);
	if (m->token_config)
		fprintf(f,
		        "# payment intake (8080): pods labelled oraclebus.io/payment-client: \"true\", any namespace\n"
		        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: tokenizer-intake\n  "
		        "namespace: %s\n"
		        "  labels: {app.kubernetes.io/name: tokenizer, app.kubernetes.io/part-of: oraclebus}\nspec:\n  "
		        "podSelector:\n"
		        "    matchLabels: {app.kubernetes.io/name: tokenizer, app.kubernetes.io/part-of: oraclebus}\n"
		        "  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - namespaceSelector: {}\n          "
		        "podSelector:\n"
		        "            matchLabels: {oraclebus.io/payment-client: \"true\"}\n      ports:\n"
		        "        - {protocol: TCP, port: 8080}\n---\n",
		        ns);
	if (m->has_firefly)
		fprintf(f,
		        "# token-firefly calls FireFly's API (port %d): in the namespace or outside\n"
		        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: token-firefly-api\n"
		        "  namespace: %s\n  labels: {app.kubernetes.io/name: token-firefly, app.kubernetes.io/part-of: "
		        "oraclebus}\n"
		        "spec:\n  podSelector:\n    matchLabels: {app.kubernetes.io/name: token-firefly, "
		        "app.kubernetes.io/part-of: oraclebus}\n"
		        "  policyTypes: [Egress]\n  egress:\n    - to:\n        - podSelector: {}\n        - ipBlock:\n"
		        "            cidr: 0.0.0.0/0\n            except: [169.254.0.0/16]\n      ports:\n"
		        "        - {protocol: TCP, port: %d}\n---\n",
		        rnd_url_port(m->ff_url), ns, rnd_url_port(m->ff_url));
	for (unsigned i = 0; i < m->nsigners; i++) {
		const obc_signer *s = &m->signers[i];
		if (!s->remote_url)
			continue;
		int port = rnd_url_port(s->remote_url);
		fprintf(f,
		        "# %s signs through its remote signer (port %d): in the namespace or outside\n"
		        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: %s-remote-signer\n"
		        "  namespace: %s\n  labels: {app.kubernetes.io/name: signer, app.kubernetes.io/part-of: "
		        "oraclebus}\n"
		        "spec:\n  podSelector:\n    matchLabels: {app.kubernetes.io/name: signer, "
		        "app.kubernetes.io/instance: %s}\n"
		        "  policyTypes: [Egress]\n  egress:\n    - to:\n        - podSelector: {}\n        - ipBlock:\n"
		        "            cidr: 0.0.0.0/0\n            except: [169.254.0.0/16]\n      ports:\n"
		        "        - {protocol: TCP, port: %d}\n---\n",
		        s->name, port, s->name, ns, s->name, port);
	}
}

static int
rnd_k8s(obc_model *m, const rnd_inst *v, size_t n, const char *out, const rnd_tr *tr)
{
	const char *d = rnd_fmt("%s/k8s", out);
	if (rnd_mkdir(d))
		return -1;
	const char *files[3 + NACTORS];
	size_t nf = 0;
	FILE *f;
	/* the ConfigMap every actor but busd reads (envFrom) */
	if (!(f = rnd_open(d, "common-config.yaml")))
		return -1;
	fprintf(f, "# ");
	fprintf(f, RND_BANNER, rnd_base(m->file));
	fprintf(f, ".\n# Environment every actor but busd reads (envFrom); an actor ignores the variables it does not "
	           "know.\n"
	           "# BUS_TRUST: which bus key may publish under which topic prefix (bus.public_keys, signers[]).\n");
	rnd_meta(f, m, "ConfigMap", "v1", "oraclebus-common", NULL);
	fprintf(f, "data:\n");
	rnd_inst any = { .actor = A_GATE, .k8s = "", .inst = "", .host = "", .file = "" };
	rnd_env e;
	rnd_env_of(m, &any, T_K8S, tr, &e);
	for (int k = 0; k < e.n; k++)
		if (e.a[k].common) {
			fprintf(f, "  %s: ", e.a[k].k);
			rnd_q(f, e.a[k].v);
			fputc('\n', f);
		}
	if (rnd_close(f))
		return -1;
	files[nf++] = "common-config.yaml";
	if (!(f = rnd_open(d, "networkpolicy.yaml")))
		return -1;
	fprintf(f, "# ");
	fprintf(f, RND_BANNER, rnd_base(m->file));
	fprintf(f, ".\n");
	rnd_netpol(f, m);
	if (rnd_close(f))
		return -1;
	files[nf++] = "networkpolicy.yaml";
	for (int a = 0; a < NACTORS; a++) {
		size_t first = n;
		for (size_t i = 0; i < n; i++)
			if (v[i].actor == a) {
				first = i;
				break;
			}
		if (first == n)
			continue;
		const char *name = rnd_fmt("%s.yaml", rnd_actor[a]);
		if (!(f = rnd_open(d, name)))
			return -1;
		files[nf++] = name;
		fprintf(f, "# ");
		fprintf(f, RND_BANNER, rnd_base(m->file));
		fprintf(f, ".\n%s", rnd_header[a]);
		/* governing Services: one headless per actor (pod DNS names), ccip-tail and tokenizer a plain one */
		if (a == A_BUSD || a == A_GATE || a == A_SIGNER || a == A_SUBMITTER || a == A_ALERTER ||
		    a == A_TOKEN_FF || a == A_TOKEN_ERC20)
			rnd_service(f, m, &v[first], rnd_actor[a], 1);
		for (size_t i = first; i < n && v[i].actor == a; i++) {
			if (v[i].file[0])
				rnd_configmap(f, m, &v[i]);
			if (a == A_CCIP)
				rnd_service(f, m, &v[i], v[i].k8s, 0);
			if (a == A_TOKENIZER)
				rnd_service(f, m, &v[i], "tokenizer", 0);
			rnd_env_of(m, &v[i], T_K8S, tr, &e);
			rnd_workload(f, m, &v[i], &e);
			if (a == A_BUSD && m->bus_replicas > 1)
				rnd_pdb(f, m, &v[i], "minAvailable: 1           # a drain moves one busd at a time");
			if (a == A_SIGNER || a == A_SUBMITTER || a == A_TOKEN_FF || a == A_TOKEN_ERC20)
				rnd_pdb(f, m, &v[i],
				        "maxUnavailable: 1         # its one replica may move; never two at once");
		}
		if (rnd_close(f))
			return -1;
	}
	/* the Secrets referenced (never their values): their shape, not applied */
	if (!(f = rnd_open(d, "secrets.example.yaml")))
		return -1;
	fprintf(f, "# ");
	fprintf(f, RND_BANNER, rnd_base(m->file));
	fprintf(f,
	        ".\n# The Secrets the manifests mount (as files, defaultMode 0400), NOT in kustomization.yaml: create\n"
	        "# them from files (deploy/README.md, \"Secrets\"); the values here only name what goes in.\n");
	rnd_meta(f, m, "Secret", "v1", m->keys_secret, NULL);
	fprintf(f, "type: Opaque\nstringData:   # BIP-340 secret keys (bus-tap --keygen); the public halves are in the "
	           "config\n");
	for (int r = 0; r < OBC_NROLES; r++)
		if (m->role_pub[r] && (r != OBC_ROLE_TOKEN_BACKEND || m->has_firefly || m->has_erc20))
			fprintf(f, "  %s: \"hex\"\n", obc_role_names[r]);
	for (unsigned i = 0; i < m->nsigners; i++)
		fprintf(f, "  %s: \"hex\"\n  submitter-%s: \"hex\"\n", m->signers[i].name, m->signers[i].suffix);
	for (unsigned i = 0; i < m->nsigners; i++)
		if (m->signers[i].key_secret && !m->signers[i].remote_url) {
			fprintf(f, "---\n");
			rnd_meta(f, m, "Secret", "v1", m->signers[i].key_secret, NULL);
			if (m->signers[i].keystore_file)
				fprintf(f,
				        "type: Opaque\nstringData:   # the keystore of %s (kubectl create secret "
				        "generic "
				        "--from-file)\n  keystore.json: \"Web3 Secret Storage v3 JSON of address %s\"\n"
				        "  password: \"its password (the first line is used)\"\n",
				        m->signers[i].name, m->signers[i].address);
			else
				fprintf(f,
				        "type: Opaque\nstringData:\n  private-key: \"64 hex digits: the key of %s "
				        "(address %s)\"\n",
				        m->signers[i].name, m->signers[i].address);
		}
	if (m->tls_secret) {
		fprintf(f, "---\n");
		rnd_meta(f, m, "Secret", "v1", m->tls_secret, NULL);
		fprintf(f,
		        "type: kubernetes.io/tls\nstringData:   # busd's certificate must name busd-N.busd; every "
		        "actor shows its own or a shared client certificate\n  tls.crt: \"PEM\"\n  tls.key: \"PEM\"\n"
		        "  ca.crt: \"PEM\"\n");
	}
	if (m->sinks_secret) {
		fprintf(f, "---\n");
		rnd_meta(f, m, "Secret", "v1", m->sinks_secret, NULL);
		fprintf(f, "type: Opaque\nstringData:   # optional: each key present adds a sink\n"
		           "  pagerduty-routing-key: \"PagerDuty Events v2 routing key\"\n"
		           "  slack-webhook-url: \"https://hooks.slack.com/services/...\"\n");
	}
	if (rnd_close(f))
		return -1;
	if (!(f = rnd_open(d, "kustomization.yaml")))
		return -1;
	fprintf(f, "# ");
	fprintf(f, RND_BANNER, rnd_base(m->file));
	fprintf(f,
	        ".\n# kubectl apply -k: the namespace is shared and not a resource here (a delete -k must never "
	        "delete\n"
	        "# it); Secrets are created from files (secrets.example.yaml shows their shape).\n"
	        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: %s\nresources:\n",
	        m->namespace_);
	for (size_t i = 0; i < nf; i++)
		fprintf(f, "  - %s\n", files[i]);
	const char *img = m->image, *colon = strrchr(img, ':'), *slash = strrchr(img, '/');
	if (colon && (!slash || colon > slash))
		fprintf(f, "images:\n  - name: oraclebus\n    newName: %.*s\n    newTag: \"%s\"\n", (int)(colon - img),
		        img, colon + 1);
	else
		fprintf(f, "images:\n  - name: oraclebus\n    newName: %s\n", img);
	return rnd_close(f);
}

/* Kubernetes keeps a ConfigMap's data to 1 MiB (etcd's object limit): a file above it would render
 * manifests the API server refuses, so it is a problem of the configuration, reported here. */
#define RND_CONFIGMAP_MAX (1u << 20)

static void
rnd_check_sizes(obc_model *m, const rnd_inst *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i].file[0])
			continue;
		json_t *j = rnd_file_json(m, &v[i]);
		char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		size_t len = s ? strlen(s) : 0;
		json_decref(j);
		free(s);
		if (len <= RND_CONFIGMAP_MAX)
			continue;
		int a = v[i].actor;
		obc_err(m,
		        a == A_FETCHER     ? "sources"
		        : a == A_CCIP      ? "ccip.chains"
		        : a == A_ALERTER   ? "alerter.sinks"
		        : a == A_TOKENIZER ? "tokenizer.config"
		                           : "feeds",
		        "%s would be %zu bytes, above the %u a Kubernetes ConfigMap holds (%s)%s", v[i].file, len,
		        RND_CONFIGMAP_MAX, v[i].k8s, a == A_FETCHER ? ": spread the sources over more groups" : "");
	}
}

int
obc_render(obc_model *m, const char *out)
{
	rnd_inst v[RND_MAX_INSTS];
	size_t n = rnd_insts(m, v);
	int rc = -1;
	rnd_tr tr = rnd_trust(m);
	rnd_check_sizes(m, v, n);
	if (m->nerr)
		goto done;
	if (rnd_mkdir(out) || rnd_env_files(m, v, n, out, &tr) || rnd_prometheus(m, v, n, out) ||
	    rnd_k8s(m, v, n, out, &tr))
		goto done;
	rc = 0;
done:
	rnd_pool_free();
	return rc;
}

void
obc_list_instances(obc_model *m, FILE *f)
{
	rnd_inst v[RND_MAX_INSTS];
	size_t n = rnd_insts(m, v);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %s\n", rnd_actor[v[i].actor], v[i].host);
	rnd_pool_free();
}

void
obc_check(obc_model *m)
{
	rnd_inst v[RND_MAX_INSTS];
	size_t n = rnd_insts(m, v);
	rnd_trust(m);
	rnd_check_sizes(m, v, n);
	rnd_pool_free();
}
