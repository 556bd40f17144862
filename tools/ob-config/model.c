/* model: see model.h. Every member is read through one of the obc_get_* helpers, which check its
 * type and value with the validators the actors use (base/rt_config.h, base/hex.h) and report with
 * the member's line; every object is checked for unknown keys against its list. */
#include "tools/ob-config/model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/rt_config.h"
#include "bus/sig.h"

const char *const obc_role_names[OBC_NROLES] = { "fetcher", "median",    "gate",         "ccip-tail",
	                                         "alerter", "tokenizer", "token-backend" };

void
obc_err(obc_model *m, const char *path, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%u: %s%s", m->file, obc_pos_line(&m->pos, path), path, *path ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	m->nerr++;
}

/* A string the model keeps (s: malloc'd, taken; NULL = ""): it lives in m->own until obc_model_free. */
static const char *
obc_keep(obc_model *m, char *s)
{
	json_t *j = json_string(s ? s : "");
	free(s);
	if (!j || json_array_append_new(m->own, j) != 0) {
		fprintf(stderr, "ob-config: out of memory\n");
		exit(1);
	}
	return json_string_value(j);
}

/* Appends item to the comma list *s (malloc'd, grown as needed: a list is never cut short). */
static void
obc_cat(char **s, size_t *len, const char *item)
{
	size_t n = strlen(item);
	char *t = realloc(*s, *len + n + 2);
	if (!t) {
		fprintf(stderr, "ob-config: out of memory\n");
		exit(1);
	}
	if (*len)
		t[(*len)++] = ',';
	memcpy(t + *len, item, n + 1);
	*len += n;
	*s = t;
}

static const char *
obc_path(char *buf, size_t n, const char *parent, const char *key)
{
	snprintf(buf, n, "%s%s%s", parent, *parent ? "." : "", key);
	return buf;
}

static const char *
obc_ipath(char *buf, size_t n, const char *parent, size_t i)
{
	snprintf(buf, n, "%s[%zu]", parent, i);
	return buf;
}

/* Unknown keys of obj (a NULL-terminated list of the allowed ones). */
static void
obc_keys(obc_model *m, json_t *obj, const char *path, const char *const *allowed)
{
	const char *k;
	json_t *v;
	char p[256];
	json_object_foreach(obj, k, v)
	{
		size_t i;
		if (strcmp(k, "$comment") == 0) /* a note for people, anywhere */
			continue;
		for (i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], k) == 0)
				break;
		if (!allowed[i]) {
			char list[512] = "";
			for (size_t j = 0; allowed[j]; j++)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
				         allowed[j]);
			obc_err(m, obc_path(p, sizeof p, path, k), "unknown key (known here: %s)", list);
		}
	}
}

/* One element of a list of objects (signers, feeds, sources, ccip.chains): its path into p, refused
 * unless an object, holding only `keys`, and within the list's bound (max 0: none; count = elements
 * taken so far). 1 = use it, 0 = skip it, -1 = the list is full: stop. */
static int
obc_elem(obc_model *m, json_t *v, const char *list, size_t i, char *p, size_t np, int count, int max, const char *what,
         const char *const *keys)
{
	obc_ipath(p, np, list, i);
	if (!json_is_object(v)) {
		obc_err(m, p, "must be an object");
		return 0;
	}
	if (max && count == max) {
		obc_err(m, p, "at most %d %s", max, what);
		return -1;
	}
	obc_keys(m, v, p, keys);
	return 1;
}

static json_t *
obc_obj(obc_model *m, json_t *parent, const char *path, const char *key, int required)
{
	char p[256];
	json_t *v = json_object_get(parent, key);
	if (!v) {
		if (required)
			obc_err(m, path, "%s: required", key);
		return NULL;
	}
	if (!json_is_object(v)) {
		obc_err(m, obc_path(p, sizeof p, path, key), "must be an object");
		return NULL;
	}
	return v;
}

static json_t *
obc_arr(obc_model *m, json_t *parent, const char *path, const char *key, int required)
{
	char p[256];
	json_t *v = json_object_get(parent, key);
	if (!v) {
		if (required)
			obc_err(m, path, "%s: required", key);
		return NULL;
	}
	if (!json_is_array(v)) {
		obc_err(m, obc_path(p, sizeof p, path, key), "must be an array");
		return NULL;
	}
	return v;
}

/* A string member (numbers are taken as their decimal text for thresholds written as numbers is not
 * allowed: exact values are strings, as in the actors' own files). dflt when absent. */
static const char *
obc_str(obc_model *m, json_t *obj, const char *path, const char *key, int required, const char *dflt)
{
	char p[256];
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			obc_err(m, path, "%s: required", key);
		return dflt;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		obc_err(m, obc_path(p, sizeof p, path, key), "must be a non-empty string");
		return dflt;
	}
	return json_string_value(v);
}

static int64_t
obc_int(obc_model *m, json_t *obj, const char *path, const char *key, int64_t dflt, int64_t min, int64_t max)
{
	char p[256];
	json_t *v = json_object_get(obj, key);
	if (!v)
		return dflt;
	if (!json_is_integer(v)) {
		obc_err(m, obc_path(p, sizeof p, path, key), "must be an integer");
		return dflt;
	}
	int64_t x = json_integer_value(v);
	if (x < min || x > max) {
		obc_err(m, obc_path(p, sizeof p, path, key), "%lld is out of range [%lld, %lld]", (long long)x,
		        (long long)min, (long long)max);
		return dflt;
	}
	return x;
}

static const char *
obc_addr(obc_model *m, json_t *obj, const char *path, const char *key, int required)
{
	char p[256], why[128];
	uint8_t a[20];
	const char *s = obc_str(m, obj, path, key, required, NULL);
	if (!s)
		return NULL;
	obc_path(p, sizeof p, path, key);
	if (rt_check_addr(s, a, why, sizeof why) != 0) {
		obc_err(m, p, "'%s' is not an address: %s", s, why);
		return NULL;
	}
	if (hex_addr_parse(s, strlen(s), a) != 0) {
		obc_err(m, p, "'%s': bad EIP-55 checksum (write it all lowercase or with the right case)", s);
		return NULL;
	}
	static const uint8_t zero[20];
	if (memcmp(a, zero, 20) == 0) {
		obc_err(m, p, "the zero address");
		return NULL;
	}
	return s;
}

static const char *
obc_dur(obc_model *m, json_t *obj, const char *path, const char *key, const char *dflt, uint64_t min_ms,
        uint64_t max_ms)
{
	char p[256];
	uint64_t ms;
	const char *s = obc_str(m, obj, path, key, 0, NULL);
	if (!s)
		return dflt;
	obc_path(p, sizeof p, path, key);
	if (rt_parse_duration_ms(s, &ms) != 0) {
		obc_err(m, p, "'%s' is not a duration (examples: 30s, 500ms, 2m, 1h)", s);
		return dflt;
	}
	if (ms < min_ms || ms > max_ms) {
		obc_err(m, p, "'%s' is out of range [%llu ms, %llu ms]", s, (unsigned long long)min_ms,
		        (unsigned long long)max_ms);
		return dflt;
	}
	return s;
}

/* A percent, exact ("0.5" = 0.5 %), as rt_parse_ppm reads it (1 % = 10000), within [min_ppm, max_ppm]
 * ((min_ppm, ...] when excl). */
static const char *
obc_pct(obc_model *m, json_t *obj, const char *path, const char *key, const char *dflt, uint64_t min_ppm, int excl,
        uint64_t max_ppm)
{
	char p[256];
	uint64_t ppm;
	const char *s = obc_str(m, obj, path, key, 0, NULL);
	if (!s)
		return dflt;
	obc_path(p, sizeof p, path, key);
	if (rt_parse_ppm(s, &ppm) != 0) {
		obc_err(m, p, "'%s' is not a percent (a decimal string: \"0.5\")", s);
		return dflt;
	}
	if ((excl ? ppm <= min_ppm : ppm < min_ppm) || ppm > max_ppm) {
		obc_err(m, p, "'%s' %% is out of range %s%g, %g]", s, excl ? "(" : "[", min_ppm / 1e4, max_ppm / 1e4);
		return dflt;
	}
	return s;
}

/* An exact non-negative decimal ("0.01", "1000000"). */
static const char *
obc_dec(obc_model *m, json_t *obj, const char *path, const char *key)
{
	char p[256];
	const char *s = obc_str(m, obj, path, key, 0, NULL);
	if (!s)
		return NULL;
	size_t i = 0, digits = 0, dots = 0;
	for (; s[i]; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.' && !dots)
			dots++;
		else
			break;
	}
	if (s[i] || !digits) {
		obc_err(m, obc_path(p, sizeof p, path, key), "'%s' is not a non-negative decimal string", s);
		return NULL;
	}
	return s;
}

/* A BIP-340 x-only public key: 64 hex digits of a point on the curve (the bus's own parser). */
static const char *
obc_pub(obc_model *m, json_t *obj, const char *path, const char *key, int required)
{
	char p[256], spec[160], err[160];
	const char *s = obc_str(m, obj, path, key, required, NULL);
	if (!s)
		return NULL;
	obc_path(p, sizeof p, path, key);
	const char *h = strncmp(s, "0x", 2) == 0 ? s + 2 : s;
	if (strlen(h) != 64) {
		obc_err(m, p,
		        "a public key is 64 hex digits (bus-tap --keygen prints it); a secret key never goes here");
		return NULL;
	}
	snprintf(spec, sizeof spec, "x=%s", h);
	sig_trust *t = sig_trust_parse(spec, err, sizeof err);
	if (!t) {
		obc_err(m, p, "not a BIP-340 public key: %s", err);
		return NULL;
	}
	sig_trust_free(t);
	return h;
}

/* A feed or source name: a topic segment the bus messages carry (SC_NAME_CAP, the fetcher's too). */
static int
obc_name_ok(const char *s)
{
	if (!*s || strlen(s) > 31)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return 0;
	return 1;
}

/* A DNS-1123 label (Kubernetes object names, host instance names without '-'). */
static int
obc_label_ok(const char *s, int allow_dash)
{
	if (!*s || strlen(s) > 40)
		return 0;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || (allow_dash && *c == '-' && c != s)))
			return 0;
	return s[strlen(s) - 1] != '-';
}

static const char *
obc_k8sname(obc_model *m, json_t *obj, const char *path, const char *key, int required, const char *dflt)
{
	char p[256];
	const char *s = obc_str(m, obj, path, key, required, dflt);
	if (s && s != dflt && !obc_label_ok(s, 1)) {
		obc_err(m, obc_path(p, sizeof p, path, key), "'%s' is not a Kubernetes name (a-z, 0-9, '-')", s);
		return dflt;
	}
	return s;
}

static int
obc_find_feed(const obc_model *m, const char *name)
{
	json_t *i = json_object_get(m->feed_ix, name);
	return i ? (int)json_integer_value(i) : -1;
}

static int
obc_find_signer(const obc_model *m, const char *name)
{
	for (unsigned i = 0; i < m->nsigners; i++)
		if (strcmp(m->signers[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void
obc_load_deployment(obc_model *m, json_t *root)
{
	static const char *const k[] = { "namespace", "image", "log_level", "monitoring_namespace", NULL };
	json_t *d = obc_obj(m, root, "", "deployment", 1);
	m->namespace_ = "besu-network";
	m->image = "oraclebus:latest";
	m->log_level = "info";
	m->monitoring_ns = "monitoring";
	if (!d)
		return;
	obc_keys(m, d, "deployment", k);
	m->namespace_ = obc_k8sname(m, d, "deployment", "namespace", 0, m->namespace_);
	m->image = obc_str(m, d, "deployment", "image", 1, m->image);
	m->log_level = obc_str(m, d, "deployment", "log_level", 0, m->log_level);
	if (strcmp(m->log_level, "debug") && strcmp(m->log_level, "info") && strcmp(m->log_level, "warn") &&
	    strcmp(m->log_level, "error"))
		obc_err(m, "deployment.log_level", "'%s': debug, info, warn or error", m->log_level);
	m->monitoring_ns = obc_k8sname(m, d, "deployment", "monitoring_namespace", 0, m->monitoring_ns);
}

static void
obc_load_chain(obc_model *m, json_t *root)
{
	static const char *const k[] = { "chain_id", "rpc_url", NULL };
	char *rpc = NULL;
	size_t rpclen = 0;
	json_t *c = obc_obj(m, root, "", "chain", 1);
	if (!c)
		return;
	obc_keys(m, c, "chain", k);
	m->chain_id = obc_int(m, c, "chain", "chain_id", 0, 1, INT64_MAX);
	if (!json_object_get(c, "chain_id"))
		obc_err(m, "chain", "chain_id: required");
	json_t *u = obc_arr(m, c, "chain", "rpc_url", 1);
	size_t i;
	json_t *v;
	char p[64], why[160];
	if (u && json_array_size(u) == 0)
		obc_err(m, "chain.rpc_url", "at least one URL");
	json_array_foreach(u, i, v)
	{
		obc_ipath(p, sizeof p, "chain.rpc_url", i);
		if (!json_is_string(v) || rt_check_http_url(json_string_value(v), why, sizeof why) != 0) {
			obc_err(m, p, "not an http(s) URL%s%s", json_is_string(v) ? ": " : "",
			        json_is_string(v) ? why : "");
			continue;
		}
		obc_cat(&rpc, &rpclen, json_string_value(v));
	}
	if (u && json_array_size(u) > 8)
		obc_err(m, "chain.rpc_url", "at most 8 endpoints (the actors' limit)");
	m->rpc_url = obc_keep(m, rpc);
}

static void
obc_load_bus(obc_model *m, json_t *root)
{
	static const char *const k[] = { "replicas", "journal_max_bytes", "journal_max_age",
		                         "tls",      "keys_secret",       "public_keys",
		                         NULL };
	static const char *const kt[] = { "k8s_secret", "host_dir", NULL };
	json_t *b = obc_obj(m, root, "", "bus", 1);
	m->bus_replicas = 2;
	m->journal_max_bytes = "1073741824";
	m->journal_max_age = "168h";
	m->keys_secret = "oraclebus-bus-keys";
	if (!b)
		return;
	obc_keys(m, b, "bus", k);
	m->bus_replicas = (int)obc_int(m, b, "bus", "replicas", 2, 1, 2);
	int64_t jb = obc_int(m, b, "bus", "journal_max_bytes", 1073741824, 1 << 20, INT64_MAX);
	static char jbs[24];
	snprintf(jbs, sizeof jbs, "%lld", (long long)jb);
	m->journal_max_bytes = jbs;
	m->journal_max_age = obc_dur(m, b, "bus", "journal_max_age", m->journal_max_age, 0, UINT64_MAX);
	m->keys_secret = obc_k8sname(m, b, "bus", "keys_secret", 0, m->keys_secret);
	json_t *t = obc_obj(m, b, "bus", "tls", 0);
	if (t) {
		obc_keys(m, t, "bus.tls", kt);
		m->tls_secret = obc_k8sname(m, t, "bus.tls", "k8s_secret", 1, NULL);
		m->tls_dir = obc_str(m, t, "bus.tls", "host_dir", 0, NULL);
	}
	json_t *pk = obc_obj(m, b, "bus", "public_keys", 1);
	if (!pk)
		return;
	obc_keys(m, pk, "bus.public_keys", obc_role_names);
	for (int r = 0; r < OBC_NROLES; r++)
		m->role_pub[r] = obc_pub(m, pk, "bus.public_keys", obc_role_names[r], 0);
}

static void
obc_load_host(obc_model *m, json_t *root)
{
	static const char *const k[] = { "etc_dir", "keys_dir", "state_dir", "bind", "first_port", NULL };
	json_t *h = obc_obj(m, root, "", "host", 0);
	m->etc_dir = "/etc/oraclebus";
	m->keys_dir = "/etc/oraclebus/keys";
	m->state_dir = "/var/lib/oraclebus";
	m->bind = "127.0.0.1";
	m->first_port = 8000;
	if (!h)
		return;
	obc_keys(m, h, "host", k);
	m->etc_dir = obc_str(m, h, "host", "etc_dir", 0, m->etc_dir);
	m->keys_dir = obc_str(m, h, "host", "keys_dir", 0, m->keys_dir);
	m->state_dir = obc_str(m, h, "host", "state_dir", 0, m->state_dir);
	m->bind = obc_str(m, h, "host", "bind", 0, m->bind);
	m->first_port = obc_int(m, h, "host", "first_port", 8000, 1024, 65000);
}

static void
obc_load_signers(obc_model *m, json_t *root)
{
	static const char *const k[] = { "name",    "address",   "bus_public_key", "submitter_bus_public_key", "key",
		                         "tx_type", "gas_price", "confirmations",  "finality_depth",           NULL };
	static const char *const kk[] = { "file",       "keystore_file",     "keystore_password_file",
		                          "k8s_secret", "remote_signer_url", "remote_signer_method",
		                          NULL };
	json_t *a = obc_arr(m, root, "", "signers", 1), *s;
	size_t i;
	char p[64], q[96], why[160];
	if (a && json_array_size(a) == 0)
		obc_err(m, "signers", "at least one signer (one per key)");
	json_array_foreach(a, i, s)
	{
		int use = obc_elem(m, s, "signers", i, p, sizeof p, m->nsigners, OBC_MAX_SIGNERS, "signers", k);
		if (use < 0)
			break;
		if (use == 0)
			continue;
		obc_signer *g = &m->signers[m->nsigners];
		g->name = obc_str(m, s, p, "name", 1, "signer-?");
		if (strncmp(g->name, "signer-", 7) != 0 || !obc_label_ok(g->name + 7, 0))
			obc_err(m, obc_path(q, sizeof q, p, "name"),
			        "'%s': signer-<a-z0-9> (its submitter is submitter-<same>)", g->name);
		else if (obc_find_signer(m, g->name) >= 0)
			obc_err(m, obc_path(q, sizeof q, p, "name"), "duplicate signer '%s'", g->name);
		g->suffix = strlen(g->name) > 7 ? g->name + 7 : "?";
		g->address = obc_addr(m, s, p, "address", 1);
		g->bus_pub = obc_pub(m, s, p, "bus_public_key", 1);
		g->submitter_bus_pub = obc_pub(m, s, p, "submitter_bus_public_key", 1);
		g->tx_type = obc_str(m, s, p, "tx_type", 0, "legacy");
		if (strcmp(g->tx_type, "legacy") && strcmp(g->tx_type, "eip1559"))
			obc_err(m, obc_path(q, sizeof q, p, "tx_type"), "'%s': legacy or eip1559", g->tx_type);
		g->gas_price = obc_str(m, s, p, "gas_price", 0, "auto");
		if (strcmp(g->gas_price, "auto") && strspn(g->gas_price, "0123456789") != strlen(g->gas_price))
			obc_err(m, obc_path(q, sizeof q, p, "gas_price"), "'%s': auto or a price in wei", g->gas_price);
		g->confirmations = obc_int(m, s, p, "confirmations", 3, 0, 10000);
		g->finality_depth = obc_int(m, s, p, "finality_depth", 12, 1, 100000);
		json_t *key = obc_obj(m, s, p, "key", 1);
		if (key) {
			obc_path(q, sizeof q, p, "key");
			obc_keys(m, key, q, kk);
			g->key_file = obc_str(m, key, q, "file", 0, NULL);
			g->keystore_file = obc_str(m, key, q, "keystore_file", 0, NULL);
			g->keystore_pw = obc_str(m, key, q, "keystore_password_file", 0, NULL);
			g->key_secret = obc_k8sname(m, key, q, "k8s_secret", 0, NULL);
			g->remote_url = obc_str(m, key, q, "remote_signer_url", 0, NULL);
			g->remote_method = obc_str(m, key, q, "remote_signer_method", 0, NULL);
			int local = (g->key_file != NULL) + (g->keystore_file != NULL);
			if (g->remote_url && rt_check_http_url(g->remote_url, why, sizeof why) != 0)
				obc_err(m, q, "remote_signer_url: %s", why);
			/* exactly one source, as the signer insists (it refuses two at start) */
			if (g->remote_url && (local || g->key_secret || g->keystore_pw))
				obc_err(m, q, "a remote signer or a key (file, keystore_file, k8s_secret), not both");
			else if (local > 1)
				obc_err(m, q,
				        "file or keystore_file, not both (the signer takes exactly one key source)");
			else if (!g->remote_url && !(local && g->key_secret))
				obc_err(m, q,
				        "file or keystore_file + keystore_password_file (hosts) and k8s_secret "
				        "(Kubernetes), or remote_signer_url");
			if (!g->keystore_file != !g->keystore_pw)
				obc_err(m, q, "keystore_file and keystore_password_file go together");
			const char *paths[] = { g->key_file, g->keystore_file, g->keystore_pw };
			static const char *const pn[] = { "file", "keystore_file", "keystore_password_file" };
			for (int j = 0; j < 3; j++)
				if (paths[j] && paths[j][0] != '/')
					obc_err(m, q, "%s: an absolute path", pn[j]);
		}
		m->nsigners++;
	}
}

/* The path an error over a limit names: "feeds[i].field" where feed i sets the field, else
 * "feeds[i]" (its default put it there). Returns p. */
static const char *
obc_feed_field(char *p, size_t cap, json_t *feeds, size_t i, const char *field)
{
	snprintf(p, cap, "feeds[%zu]", i);
	if (json_object_get(json_array_get(feeds, i), field))
		snprintf(p + strlen(p), cap - strlen(p), ".%s", field);
	return p;
}

static void
obc_load_feeds(obc_model *m, json_t *root)
{
	static const char *const k[] = { "name",       "decimals",     "aggregator", "deviation", "deviation_absolute",
		                         "heartbeat",  "min_interval", "shard",      "signer",    "min_answer",
		                         "max_answer", "max_change",   NULL };
	json_t *a = obc_arr(m, root, "", "feeds", 1), *f;
	size_t i;
	char p[64], q[96];
	/* per shard and per signer: how many feeds, and the first one over the actors' limit */
	unsigned nshard[OBC_MAX_SHARDS] = { 0 }, nsigner[OBC_MAX_SIGNERS] = { 0 };
	size_t over_shard[OBC_MAX_SHARDS], over_signer[OBC_MAX_SIGNERS];
	if (a && json_array_size(a) == 0)
		obc_err(m, "feeds", "at least one feed");
	size_t cap = a ? json_array_size(a) : 0;
	m->feeds = calloc(cap < OBC_MAX_FEEDS ? cap + 1 : OBC_MAX_FEEDS, sizeof *m->feeds);
	if (!m->feeds) {
		fprintf(stderr, "ob-config: out of memory\n");
		exit(1);
	}
	json_array_foreach(a, i, f)
	{
		int use = obc_elem(m, f, "feeds", i, p, sizeof p, m->nfeeds, OBC_MAX_FEEDS, "feeds", k);
		if (use < 0)
			break;
		if (use == 0)
			continue;
		obc_feed *d = &m->feeds[m->nfeeds];
		d->name = obc_str(m, f, p, "name", 1, "?");
		if (!obc_name_ok(d->name))
			obc_err(m, obc_path(q, sizeof q, p, "name"),
			        "'%s': 1 to 31 letters, digits, '-' and '_' (a topic segment)", d->name);
		else if (obc_find_feed(m, d->name) >= 0)
			obc_err(m, obc_path(q, sizeof q, p, "name"), "duplicate feed '%s' (feeds[%d] has it)", d->name,
			        obc_find_feed(m, d->name));
		else if (json_object_set_new(m->feed_ix, d->name, json_integer(m->nfeeds)) != 0) {
			fprintf(stderr, "ob-config: out of memory\n");
			exit(1);
		}
		d->decimals = obc_int(m, f, p, "decimals", 8, 0, 77);
		d->aggregator = obc_addr(m, f, p, "aggregator", 1);
		d->deviation = obc_pct(m, f, p, "deviation", "0.5", 0, 1, 1000000); /* (0, 100] % */
		d->deviation_absolute = obc_dec(m, f, p, "deviation_absolute");
		d->heartbeat = obc_dur(m, f, p, "heartbeat", "1h", 1000, 7 * 86400000ull);
		d->min_interval = obc_dur(m, f, p, "min_interval", "5s", 0, 86400000);
		d->min_answer = obc_dec(m, f, p, "min_answer");
		d->max_answer = obc_dec(m, f, p, "max_answer");
		d->max_change = obc_pct(m, f, p, "max_change", NULL, 0, 0, 1000000);
		d->shard = (int)obc_int(m, f, p, "shard", 0, 0, OBC_MAX_SHARDS - 1);
		if ((unsigned)d->shard + 1 > m->nshards)
			m->nshards = (unsigned)d->shard + 1;
		const char *sg = obc_str(m, f, p, "signer", 0, NULL);
		d->signer = 0;
		if (sg) {
			d->signer = obc_find_signer(m, sg);
			if (d->signer < 0) {
				obc_err(m, obc_path(q, sizeof q, p, "signer"), "signer '%s' is not defined in signers",
				        sg);
				d->signer = 0;
			}
		} else if (m->nsigners > 1)
			obc_err(m, p, "signer: required when there are several signers");
		if (nshard[d->shard]++ == OBC_MAX_SHARD_FEEDS)
			over_shard[d->shard] = i;
		if (nsigner[d->signer]++ == OBC_MAX_SIGNER_FEEDS)
			over_signer[d->signer] = i;
		m->nfeeds++;
	}
	/* once per shard or signer, at the first feed over the limit */
	for (unsigned s = 0; s < OBC_MAX_SHARDS; s++)
		if (nshard[s] > OBC_MAX_SHARD_FEEDS)
			obc_err(m, obc_feed_field(p, sizeof p, a, over_shard[s], "shard"),
			        "shard %u has %u feeds, at most %d (one median's FEEDS, one gate's FEEDS_FILE): put "
			        "the rest in another shard",
			        s, nshard[s], OBC_MAX_SHARD_FEEDS);
	for (unsigned g = 0; g < m->nsigners; g++)
		if (nsigner[g] > OBC_MAX_SIGNER_FEEDS)
			obc_err(m, obc_feed_field(p, sizeof p, a, over_signer[g], "signer"),
			        "%s signs %u feeds, at most %d (the signer's FEEDS and aggregators): give the rest "
			        "another signer",
			        m->signers[g].name, nsigner[g], OBC_MAX_SIGNER_FEEDS);
	for (unsigned s = 0; s < m->nshards; s++) {
		unsigned n = 0;
		for (unsigned j = 0; j < m->nfeeds; j++)
			n += m->feeds[j].shard == (int)s;
		if (!n)
			obc_err(m, "feeds", "shard %u has no feed (shards are numbered 0.. without gaps)", s);
	}
}

/* Across actors, which neither can check alone: the gate uses an aggregate until its oldest
 * observation is min(AGG_MAX_AGE, the median's WINDOW) old, and AGG_MAX_AGE is not rendered (0:
 * the window alone). A window longer than a feed's heartbeat would let a heartbeat round carry a
 * price older than the round before it - the gate refuses AGG_MAX_AGE > HEARTBEAT for the same
 * reason, but learns the window only from the aggregates. */
static void
obc_check_window(obc_model *m)
{
	uint64_t win, hb;
	char p[64];
	if (rt_parse_duration_ms(m->window, &win) != 0)
		return; /* reported where it was read */
	for (unsigned j = 0; j < m->nfeeds; j++) {
		const obc_feed *d = &m->feeds[j];
		if (rt_parse_duration_ms(d->heartbeat, &hb) != 0 || win <= hb)
			continue;
		snprintf(p, sizeof p, "feeds[%u].heartbeat", j);
		obc_err(m, p,
		        "feed %s: heartbeat '%s' is shorter than median.window '%s': the gate uses an aggregate until "
		        "its oldest observation is one window old, so a heartbeat round could carry a price older "
		        "than the round before it (make the window at most the heartbeat)",
		        d->name, d->heartbeat, m->window);
	}
}

static void
obc_load_sources(obc_model *m, json_t *root)
{
	static const char *const k[] = { "group",   "feed",    "name",    "kind",     "url",          "path",
		                         "ts_path", "ts_unit", "headers", "interval", "min_interval", NULL };
	json_t *fe = obc_obj(m, root, "", "fetcher", 0);
	static const char *const kf[] = { "interval", NULL };
	m->fetch_interval = "10s";
	if (fe) {
		obc_keys(m, fe, "fetcher", kf);
		m->fetch_interval = obc_dur(m, fe, "fetcher", "interval", "10s", 10, 86400000);
	}
	json_t *a = obc_arr(m, root, "", "sources", 1), *s;
	size_t i;
	char p[64], q[96], why[160];
	/* "<feed index>/<source name>" -> the source's index: one name per feed */
	json_t *names = json_object();
	size_t cap = a ? json_array_size(a) : 0;
	m->sources = calloc(cap < OBC_MAX_SOURCES ? cap + 1 : OBC_MAX_SOURCES, sizeof *m->sources);
	if (!m->sources || !names) {
		fprintf(stderr, "ob-config: out of memory\n");
		exit(1);
	}
	json_array_foreach(a, i, s)
	{
		int use = obc_elem(m, s, "sources", i, p, sizeof p, m->nsources, OBC_MAX_SOURCES, "sources", k);
		if (use < 0)
			break;
		if (use == 0)
			continue;
		obc_source *o = &m->sources[m->nsources];
		o->obj = s;
		const char *g = obc_str(m, s, p, "group", 1, "a");
		if (!obc_label_ok(g, 0))
			obc_err(m, obc_path(q, sizeof q, p, "group"), "'%s': a-z and 0-9 only", g);
		unsigned gi;
		for (gi = 0; gi < m->ngroups; gi++)
			if (strcmp(m->groups[gi], g) == 0)
				break;
		if (gi == m->ngroups) {
			if (m->ngroups == OBC_MAX_GROUPS) {
				obc_err(m, p, "at most %d source groups", OBC_MAX_GROUPS);
				continue;
			}
			m->groups[m->ngroups++] = g;
		}
		o->group = (int)gi;
		const char *fn = obc_str(m, s, p, "feed", 1, NULL);
		o->feed = fn ? obc_find_feed(m, fn) : -1;
		if (fn && o->feed < 0) {
			obc_err(m, obc_path(q, sizeof q, p, "feed"), "feed '%s' is not defined in feeds", fn);
			continue;
		}
		const char *nm = obc_str(m, s, p, "name", 1, NULL);
		if (nm && !obc_name_ok(nm))
			obc_err(m, obc_path(q, sizeof q, p, "name"), "'%s': letters, digits, '-' and '_'", nm);
		const char *url = obc_str(m, s, p, "url", 1, NULL);
		if (url && rt_check_http_url(url, why, sizeof why) != 0)
			obc_err(m, obc_path(q, sizeof q, p, "url"), "%s", why);
		obc_dur(m, s, p, "interval", NULL, 10, 86400000);
		obc_dur(m, s, p, "min_interval", NULL, 0, 86400000);
		if (o->feed < 0)
			continue;
		char *key = NULL;
		if (nm && asprintf(&key, "%d/%s", o->feed, nm) < 0) {
			fprintf(stderr, "ob-config: out of memory\n");
			exit(1);
		}
		json_t *dup = key ? json_object_get(names, key) : NULL;
		if (dup)
			obc_err(m, obc_path(q, sizeof q, p, "name"),
			        "feed %s already has a source '%s' (sources[%lld]): the median counts one value "
			        "per name",
			        fn, nm, (long long)json_integer_value(dup));
		else if (key)
			json_object_set_new(names, key, json_integer((json_int_t)i));
		free(key);
		m->feeds[o->feed].nsources++;
		m->nsources++;
	}
	json_decref(names);
	json_t *md = obc_obj(m, root, "", "median", 0);
	static const char *const km[] = { "quorum", "window", NULL };
	m->quorum = 2;
	m->window = "60s";
	if (md) {
		obc_keys(m, md, "median", km);
		m->quorum = obc_int(m, md, "median", "quorum", 2, 1, 16);
		m->window = obc_dur(m, md, "median", "window", "60s", 1, 86400000);
	}
	obc_check_window(m);
	for (unsigned j = 0; j < m->nfeeds; j++) {
		char fp[32];
		snprintf(fp, sizeof fp, "feeds[%u]", j);
		if (m->feeds[j].nsources < (unsigned)m->quorum)
			obc_err(m, fp, "feed %s has %u source(s), below the median's quorum %lld", m->feeds[j].name,
			        m->feeds[j].nsources, (long long)m->quorum);
		else if (m->feeds[j].nsources > OBC_MAX_FEED_SOURCES)
			obc_err(m, fp, "feed %s has %u sources, at most %d (the median holds no more of one feed)",
			        m->feeds[j].name, m->feeds[j].nsources, OBC_MAX_FEED_SOURCES);
	}
}

/* The token backends: a workload for each backend a token names (tokenizer.config.tokens), with
 * its own settings (tokenizer.firefly, tokenizer.erc20); the erc20 tokens' contracts are read from
 * the tokens, so a token is named once. The tokenizer itself judges the rest of its file. */
static void
obc_load_backends(obc_model *m, json_t *tk)
{
	static const char *const kf[] = { "url", "namespace", "key", NULL };
	static const char *const ke[] = { "signer", "gas_limit", "burn_function", "transfer_function", NULL };
	char *tokens = NULL;
	size_t toklen = 0;
	char p[160], why[200];
	const char *cur;
	json_t *t;
	unsigned ntok = 0;
	json_object_foreach(json_object_get(m->token_config, "tokens"), cur, t)
	{
		const char *b = json_string_value(json_object_get(t, "backend"));
		snprintf(p, sizeof p, "tokenizer.config.tokens.%s", cur);
		if (!json_is_object(t) || !b)
			continue; /* the tokenizer's --check-config names it */
		if (strcmp(b, "firefly") == 0)
			m->has_firefly = 1;
		else if (strcmp(b, "erc20") == 0) {
			m->has_erc20 = 1;
			const char *a = obc_addr(m, t, p, "address", 1);
			if (a && ntok++ < 32)
				obc_cat(&tokens, &toklen, a);
		} else
			obc_err(m, obc_path(why, sizeof why, p, "backend"), "'%s': firefly or erc20", b);
	}
	if (ntok > 32)
		obc_err(m, "tokenizer.config.tokens", "at most 32 erc20 tokens (token-erc20's TOKENS)");
	m->erc20_tokens = obc_keep(m, tokens);
	json_t *ff = obc_obj(m, tk, "tokenizer", "firefly", m->has_firefly);
	if (ff) {
		obc_keys(m, ff, "tokenizer.firefly", kf);
		m->ff_url = obc_str(m, ff, "tokenizer.firefly", "url", 1, NULL);
		if (m->ff_url && rt_check_http_url(m->ff_url, why, sizeof why) != 0)
			obc_err(m, "tokenizer.firefly.url", "%s", why);
		m->ff_namespace = obc_str(m, ff, "tokenizer.firefly", "namespace", 0, "default");
		m->ff_key = obc_str(m, ff, "tokenizer.firefly", "key", 0, NULL);
		if (!m->has_firefly)
			obc_err(m, "tokenizer.firefly", "no token has backend firefly");
	} else if (m->has_firefly)
		m->ff_namespace = "default";
	json_t *e = obc_obj(m, tk, "tokenizer", "erc20", 0);
	m->erc20_gas_limit = 150000;
	m->erc20_burn = "burn";
	m->erc20_transfer = "transferFrom";
	m->erc20_signer = 0;
	if (e) {
		obc_keys(m, e, "tokenizer.erc20", ke);
		const char *sg = obc_str(m, e, "tokenizer.erc20", "signer", 0, NULL);
		if (sg && (m->erc20_signer = obc_find_signer(m, sg)) < 0) {
			obc_err(m, "tokenizer.erc20.signer", "signer '%s' is not defined in signers", sg);
			m->erc20_signer = 0;
		}
		m->erc20_gas_limit = obc_int(m, e, "tokenizer.erc20", "gas_limit", 150000, 21000, 2000000);
		m->erc20_burn = obc_str(m, e, "tokenizer.erc20", "burn_function", 0, m->erc20_burn);
		if (strcmp(m->erc20_burn, "burn") && strcmp(m->erc20_burn, "burnFrom"))
			obc_err(m, "tokenizer.erc20.burn_function", "'%s': burn or burnFrom", m->erc20_burn);
		m->erc20_transfer = obc_str(m, e, "tokenizer.erc20", "transfer_function", 0, m->erc20_transfer);
		if (strcmp(m->erc20_transfer, "transferFrom") && strcmp(m->erc20_transfer, "transferWithData"))
			obc_err(m, "tokenizer.erc20.transfer_function", "'%s': transferFrom or transferWithData",
			        m->erc20_transfer);
		if (!m->has_erc20)
			obc_err(m, "tokenizer.erc20", "no token has backend erc20");
		else if (!sg && m->nsigners > 1)
			obc_err(m, "tokenizer.erc20", "signer: required when there are several signers");
	} else if (m->has_erc20 && m->nsigners > 1)
		obc_err(m, "tokenizer", "erc20: {\"signer\": ...} required when there are several signers");
}

static void
obc_load_rest(obc_model *m, json_t *root)
{
	static const char *const kc[] = { "chains", "monitoring_interval", "overdue_after", "commit_overdue_after",
		                          NULL };
	static const char *const kch[] = { "name",    "selector",      "chain_id",
		                           "rpc_url", "confirmations", "max_block_range",
		                           "router",  "contracts",     "start_block",
		                           NULL };
	static const char *const ka[] = { "sinks", "k8s_secret", NULL };
	static const char *const kt[] = { "config", "pending_alert", "firefly", "erc20", NULL };
	char p[64], q[96], why[160];
	json_t *c = obc_obj(m, root, "", "ccip", 0);
	if (c) {
		obc_keys(m, c, "ccip", kc);
		m->ccip_chains = obc_arr(m, c, "ccip", "chains", 1);
		m->ccip_interval = obc_dur(m, c, "ccip", "monitoring_interval", "30s", 100, 86400000);
		m->ccip_overdue = obc_dur(m, c, "ccip", "overdue_after", "3h", 0, UINT64_MAX);
		m->ccip_commit_overdue = obc_dur(m, c, "ccip", "commit_overdue_after", "1h", 0, UINT64_MAX);
		size_t i;
		json_t *ch;
		json_array_foreach(m->ccip_chains, i, ch)
		{
			if (obc_elem(m, ch, "ccip.chains", i, p, sizeof p, 0, 0, "chains", kch) == 0)
				continue;
			obc_str(m, ch, p, "name", 1, NULL);
			const char *sel = obc_str(m, ch, p, "selector", 1, NULL);
			if (sel && strspn(sel, "0123456789") != strlen(sel))
				obc_err(m, obc_path(q, sizeof q, p, "selector"),
				        "'%s': a decimal string (selectors exceed 2^53)", sel);
			obc_addr(m, ch, p, "router", 0);
			json_t *u = json_object_get(ch, "rpc_url");
			if (!u)
				obc_err(m, p, "rpc_url: required");
			else if (json_is_string(u) ? rt_check_http_url(json_string_value(u), why, sizeof why) != 0
			                           : !json_is_array(u))
				obc_err(m, obc_path(q, sizeof q, p, "rpc_url"), "an http(s) URL or a list of them");
			json_t *ct = json_object_get(ch, "contracts"), *x;
			size_t j;
			json_array_foreach(ct, j, x)
			{
				char r[128], a[20];
				snprintf(r, sizeof r, "%s.contracts[%zu]", p, j);
				const char *s = json_string_value(x);
				char addr[64] = "";
				if (s)
					snprintf(addr, sizeof addr, "%.*s", (int)strcspn(s, ":"), s);
				if (!s || rt_check_addr(addr, (uint8_t *)a, why, sizeof why) != 0)
					obc_err(m, r, "not 0xADDRESS[:PEER_SELECTOR]");
			}
		}
	}
	json_t *al = obc_obj(m, root, "", "alerter", 0);
	if (al) {
		obc_keys(m, al, "alerter", ka);
		m->sinks = obc_arr(m, al, "alerter", "sinks", 1);
		m->sinks_secret = obc_k8sname(m, al, "alerter", "k8s_secret", 0, NULL);
	}
	json_t *tk = obc_obj(m, root, "", "tokenizer", 0);
	if (tk) {
		obc_keys(m, tk, "tokenizer", kt);
		m->token_config = obc_obj(m, tk, "tokenizer", "config", 1);
		m->pending_alert = obc_dur(m, tk, "tokenizer", "pending_alert", "10m", 0, UINT64_MAX);
		obc_load_backends(m, tk);
	}
	/* every role with a workload needs its public key (the others trust it by that key) */
	struct {
		int role, needed;
	} need[] = { { OBC_ROLE_FETCHER, 1 },
		     { OBC_ROLE_MEDIAN, 1 },
		     { OBC_ROLE_GATE, 1 },
		     { OBC_ROLE_CCIP, m->ccip_chains != NULL },
		     { OBC_ROLE_ALERTER, m->sinks != NULL },
		     { OBC_ROLE_TOKENIZER, m->token_config != NULL },
		     { OBC_ROLE_TOKEN_BACKEND, m->has_firefly || m->has_erc20 } };
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (need[i].needed && !m->role_pub[need[i].role] &&
		    !json_object_get(json_object_get(json_object_get(root, "bus"), "public_keys"),
		                     obc_role_names[need[i].role]))
			obc_err(m, "bus.public_keys", "%s: required (its frames are trusted only by this key)",
			        obc_role_names[need[i].role]);
}

int
obc_model_load(obc_model *m, const char *file)
{
	FILE *f = fopen(file, "rb");
	m->file = file;
	m->own = json_array();
	m->feed_ix = json_object();
	if (!m->own || !m->feed_ix) {
		fprintf(stderr, "ob-config: out of memory\n");
		exit(1);
	}
	if (!f) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return -1;
	}
	char *text = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			char *t = realloc(text, cap);
			if (!t) {
				free(text);
				fclose(f);
				return -1;
			}
			text = t;
		}
		size_t r = fread(text + len, 1, cap - len, f);
		if (r == 0)
			break;
		len += r;
	}
	fclose(f);
	json_error_t je;
	m->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!m->root) {
		fprintf(stderr, "%s:%d: column %d: %s\n", file, je.line, je.column, je.text);
		free(text);
		m->nerr++;
		return -1;
	}
	if (obc_pos_scan(&m->pos, text, len) != 0) {
		fprintf(stderr, "%s: nested too deep or out of memory\n", file);
		free(text);
		m->nerr++;
		return -1;
	}
	free(text);
	if (!json_is_object(m->root)) {
		obc_err(m, "", "the configuration is a JSON object");
		return 0;
	}
	static const char *const k[] = { "deployment", "chain",   "bus",  "host",    "median",    "fetcher", "feeds",
		                         "sources",    "signers", "ccip", "alerter", "tokenizer", NULL };
	obc_keys(m, m->root, "", k);
	obc_load_deployment(m, m->root);
	obc_load_chain(m, m->root);
	obc_load_bus(m, m->root);
	obc_load_host(m, m->root);
	obc_load_signers(m, m->root);
	obc_load_feeds(m, m->root);
	obc_load_sources(m, m->root);
	obc_load_rest(m, m->root);
	return 0;
}

void
obc_model_free(obc_model *m)
{
	json_decref(m->root);
	json_decref(m->own);
	json_decref(m->feed_ix);
	free(m->feeds);
	free(m->sources);
	obc_pos_free(&m->pos);
}
