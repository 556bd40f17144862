/* config.c - sinks from the config file and the environment, and alert routing; see config.h. */
#include "actors/alerter/config.h"
#include "base/rt_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AC_SECRET_MAX 4096

static void __attribute__((format(printf, 3, 4))) ac_err(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strnlen(err, errlen);
	va_list ap;
	if (used + 2 >= errlen)
		return;
	if (used)
		err[used++] = '\n';
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

int
ac_matcher_parse(const char *text, sk_matcher *m, char *err, size_t errlen)
{
	static const struct {
		const char *tok;
		int op;
	} ops[] = { { "!=", SK_NE }, { "=~", SK_RE }, { "!~", SK_NRE }, { "=", SK_EQ } };
	const char *best = NULL;
	int op = -1;
	size_t toklen = 0;
	memset(m, 0, sizeof *m);
	/* the operator is the first one found; at a tie the two-character form wins ("=~" over "=") */
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		const char *p = strstr(text, ops[i].tok);
		if (p && (!best || p < best)) {
			best = p;
			op = ops[i].op;
			toklen = strlen(ops[i].tok);
		}
	}
	if (!best || best == text) {
		snprintf(err, errlen, "'%.64s' is not label=value, label!=value, label=~regex or label!~regex", text);
		return -1;
	}
	size_t ll = (size_t)(best - text);
	while (ll && text[ll - 1] == ' ')
		ll--;
	const char *v = best + toklen;
	while (*v == ' ')
		v++;
	if (ll > SC_KV_KEY_CAP || strlen(v) > SC_KV_VALUE_CAP) {
		snprintf(err, errlen, "'%.64s': label or value too long", text);
		return -1;
	}
	memcpy(m->label, text, ll);
	m->label[ll] = '\0';
	snprintf(m->value, sizeof m->value, "%s", v);
	size_t vl = strlen(m->value);
	if (vl >= 2 && m->value[0] == '"' && m->value[vl - 1] == '"') { /* label="value" as in PromQL */
		memmove(m->value, m->value + 1, vl - 2);
		m->value[vl - 2] = '\0';
	}
	m->op = op;
	if (op == SK_RE || op == SK_NRE) {
		char pat[SC_KV_VALUE_CAP + 8];
		/* glibc's regcomp copies the tree per stacked quantifier ("a++++..."): memory grows
		 * exponentially. Stacked quantifiers add nothing a matcher needs, so they are refused. */
		for (const char *q = m->value; *q && q[1]; q++)
			if (strchr("*+?}", q[0]) && strchr("*+?{", q[1]) && (q == m->value || q[-1] != '\\')) {
				snprintf(err, errlen, "'%.64s': stacked quantifiers are not allowed", text);
				return -1;
			}
		if (strchr(m->value, '{') && strchr(strchr(m->value, '{') + 1, '{')) { /* (a{99}){99} nests too */
			snprintf(err, errlen, "'%.64s': at most one {m,n} repetition", text);
			return -1;
		}
		snprintf(pat, sizeof pat, "^(%s)$", m->value);
		int rc = regcomp(&m->re, pat, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char why[128];
			regerror(rc, &m->re, why, sizeof why);
			snprintf(err, errlen, "'%.64s': bad regex: %s", text, why);
			return -1;
		}
	}
	return 0;
}

static const char *
ac_field(const sc_alert *a, const char *label)
{
	if (strcmp(label, "kind") == 0 || strcmp(label, "alertname") == 0)
		return a->kind;
	if (strcmp(label, "severity") == 0)
		return sk_severity_name(a->severity);
	if (strcmp(label, "origin") == 0)
		return a->origin;
	if (strcmp(label, "dedupe_key") == 0)
		return a->dedupe_key;
	for (uint32_t i = 0; i < a->labels_count && i < 16; i++)
		if (strcmp(a->labels[i].key, label) == 0)
			return a->labels[i].value;
	return ""; /* an absent label matches "" as in Prometheus */
}

int
ac_match(const sk_sink *s, const sc_alert *a)
{
	if (a->severity < s->min_severity)
		return 0;
	for (size_t i = 0; i < s->nm; i++) {
		const sk_matcher *m = &s->m[i];
		const char *v = ac_field(a, m->label);
		int hit;
		if (m->op == SK_EQ || m->op == SK_NE)
			hit = strcmp(v, m->value) == 0;
		else
			hit = regexec(&m->re, v, 0, NULL, 0) == 0;
		if (hit != (m->op == SK_EQ || m->op == SK_RE))
			return 0;
	}
	return 1;
}

/* A sink with a url_path (Alertmanager) is configured by its base URL; the API path is ours to add. */
static char *
ac_url(sk_kind kind, const char *url)
{
	const char *path = sk_ops_table[kind].url_path;
	size_t n = strlen(url), pl = path ? strlen(path) : 0;
	while (n && url[n - 1] == '/')
		n--;
	if (!path || (n >= pl && memcmp(url + n - pl, path, pl) == 0))
		return strdup(url);
	char *u = malloc(n + pl + 1);
	if (u) {
		memcpy(u, url, n);
		memcpy(u + n, path, pl + 1);
	}
	return u;
}

static int
ac_url_ok(const char *u)
{
	char why[160];
	return rt_check_http_url(u, why, sizeof why) == 0; /* host and port checked too (base/rt_config.h) */
}

static int
ac_name_ok(const char *n)
{
	if (!*n || strlen(n) > SK_NAME_MAX)
		return 0;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_' || *n == '-'))
			return 0;
	return 1;
}

/* A secret file must not be readable by others: the same rule as the signer's key file. */
static char *
ac_read_secret_file(const char *path, size_t *len, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0 || st.st_size > AC_SECRET_MAX) {
		snprintf(why, whylen, "%s: must be a file of mode 0600 (or stricter) under %d bytes", path,
		         AC_SECRET_MAX);
		close(fd);
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	ssize_t r = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (r < 0) {
		free(buf);
		snprintf(why, whylen, "%s: read failed", path);
		return NULL;
	}
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == '\r' || buf[r - 1] == ' '))
		r--;
	buf[r] = '\0';
	*len = (size_t)r;
	return buf;
}

static int
ac_set_secret(sk_sink *s, const char *v, size_t n)
{
	s->secret = malloc(n + 1);
	if (!s->secret)
		return -1;
	memcpy(s->secret, v, n);
	s->secret[n] = '\0';
	s->secret_len = n;
	return 0;
}

/* Checks what every sink needs, whatever its source. */
static int
ac_finish(sk_sink *s, const char *where, char *err, size_t errlen)
{
	int bad = 0;
	if (!s->url || !ac_url_ok(s->url))
		ac_err(err, errlen, "%s: url must be http:// or https://", where), bad = 1;
	if (s->ops->secret && s->secret_len == 0)
		ac_err(err, errlen, "%s: %s needs a secret (%s)", where, s->ops->name, s->ops->secret), bad = 1;
	if (s->ops->secret && s->ops->secret_max && s->secret_len > s->ops->secret_max)
		ac_err(err, errlen, "%s: %s is longer than %zu characters", where, s->ops->secret, s->ops->secret_max),
		        bad = 1;
	return bad ? -1 : 0;
}

static const char *const ac_keys[] = { "name",          "type",        "url",           "url_env",
	                               "secret_env",    "secret_file", "min_severity",  "match",
	                               "send_resolved", "rate_limit",  "generator_url", NULL };

static int
ac_one(const json_t *j, size_t idx, ac_getenv_fn getenv_fn, sk_sink *s, const sk_sink *prev, size_t nprev, char *err,
       size_t errlen)
{
	char where[32];
	const char *key;
	json_t *v;
	int bad = 0;
	snprintf(where, sizeof where, "sinks[%zu]", idx);
	memset(s, 0, sizeof *s);
	if (!json_is_object(j)) {
		ac_err(err, errlen, "%s: not an object", where);
		return -1;
	}
	json_object_foreach((json_t *)j, key, v)
	{
		int known = 0;
		for (int i = 0; ac_keys[i]; i++)
			known |= strcmp(key, ac_keys[i]) == 0;
		if (!known) {
			if (strcmp(key, "secret") == 0 || strcmp(key, "routing_key") == 0)
				ac_err(err, errlen,
				       "%s.%s: secrets do not belong in the config file: use secret_env or secret_file",
				       where, key);
			else
				ac_err(err, errlen, "%s: unknown key '%.40s'", where, key);
			bad = 1;
		}
	}
	const char *type = json_string_value(json_object_get(j, "type"));
	s->ops = type ? sk_ops_by_name(type) : NULL;
	if (!s->ops) {
		ac_err(err, errlen, "%s.type: one of alertmanager, slack, pagerduty, webhook", where);
		return -1;
	}
	s->kind = (sk_kind)(s->ops - sk_ops_table);
	s->send_resolved = s->ops->resolves;
	s->min_severity = SC_SEV_INFO;
	const char *name = json_string_value(json_object_get(j, "name"));
	if (json_object_get(j, "name") && !name)
		ac_err(err, errlen, "%s.name: not a string", where), bad = 1;
	snprintf(s->name, sizeof s->name, "%s", name ? name : type);
	if (!ac_name_ok(name ? name : type))
		ac_err(err, errlen, "%s.name: 1 to %d of [a-z0-9_-]", where, SK_NAME_MAX), bad = 1;
	for (size_t i = 0; i < nprev; i++)
		if (strcmp(prev[i].name, s->name) == 0)
			ac_err(err, errlen, "%s.name: '%s' used twice", where, s->name), bad = 1;

	const char *url = json_string_value(json_object_get(j, "url"));
	const char *url_env = json_string_value(json_object_get(j, "url_env"));
	if ((json_object_get(j, "url") && !url) || (json_object_get(j, "url_env") && !url_env))
		ac_err(err, errlen, "%s: url and url_env are strings", where), bad = 1;
	if (url && url_env)
		ac_err(err, errlen, "%s: url or url_env, not both", where), bad = 1;
	else if (url_env) {
		url = getenv_fn(url_env);
		if (!url || !*url)
			ac_err(err, errlen, "%s.url_env: %.64s is not set", where, url_env), bad = 1;
	}
	if (url && *url && !(s->url = ac_url(s->kind, url)))
		return -1;

	const char *senv = json_string_value(json_object_get(j, "secret_env"));
	const char *sfile = json_string_value(json_object_get(j, "secret_file"));
	if ((json_object_get(j, "secret_env") && !senv) || (json_object_get(j, "secret_file") && !sfile))
		ac_err(err, errlen, "%s: secret_env and secret_file are strings", where), bad = 1;
	if (senv && sfile)
		ac_err(err, errlen, "%s: secret_env or secret_file, not both", where), bad = 1;
	else if (senv) {
		const char *sv = getenv_fn(senv);
		if (!sv || !*sv)
			ac_err(err, errlen, "%s.secret_env: %.64s is not set", where, senv), bad = 1;
		else if (ac_set_secret(s, sv, strlen(sv)) != 0)
			bad = 1;
	} else if (sfile) {
		char why[200];
		s->secret = ac_read_secret_file(sfile, &s->secret_len, why, sizeof why);
		if (!s->secret)
			ac_err(err, errlen, "%s.secret_file: %s", where, why), bad = 1;
	}

	if ((v = json_object_get(j, "min_severity"))) {
		const char *sv = json_string_value(v);
		if (!sv || (s->min_severity = sk_severity_parse(sv)) < 0)
			ac_err(err, errlen, "%s.min_severity: info, warning, error or critical", where), bad = 1;
	}
	if ((v = json_object_get(j, "send_resolved"))) {
		if (!json_is_boolean(v))
			ac_err(err, errlen, "%s.send_resolved: true or false", where), bad = 1;
		else
			s->send_resolved = json_is_true(v) || s->ops->always_resolves;
	}
	if ((v = json_object_get(j, "rate_limit"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100000)
			ac_err(err, errlen, "%s.rate_limit: messages per minute, 1..100000", where), bad = 1;
		else
			s->rate_per_min = (uint64_t)json_integer_value(v);
	}
	if ((v = json_object_get(j, "generator_url"))) {
		const char *g = json_string_value(v);
		if (!g || strlen(g) >= sizeof s->generator_url || (*g && !ac_url_ok(g)))
			ac_err(err, errlen, "%s.generator_url: an http(s) URL under 256 bytes", where), bad = 1;
		else
			snprintf(s->generator_url, sizeof s->generator_url, "%s", g);
	}
	if ((v = json_object_get(j, "match"))) {
		size_t i;
		json_t *mj;
		if (!json_is_array(v) || json_array_size(v) > SK_MAX_MATCHERS)
			ac_err(err, errlen, "%s.match: a list of at most %d matchers", where, SK_MAX_MATCHERS), bad = 1;
		else
			json_array_foreach(v, i, mj)
			{
				char why[160];
				if (!json_is_string(mj) ||
				    ac_matcher_parse(json_string_value(mj), &s->m[s->nm], why, sizeof why) != 0) {
					ac_err(err, errlen, "%s.match[%zu]: %s", where, i,
					       json_is_string(mj) ? why : "not a string");
					bad = 1;
					continue;
				}
				s->nm++;
			}
	}
	if (!bad && ac_finish(s, where, err, errlen) != 0)
		bad = 1;
	if (bad) {
		sk_sink_free(s);
		return -1;
	}
	return 0;
}

int
ac_parse_sinks(const json_t *root, ac_getenv_fn getenv_fn, sk_sink *out, size_t *n, char *err, size_t errlen)
{
	size_t start = *n, i;
	json_t *sj, *arr = json_object_get(root, "sinks");
	const char *key;
	json_t *v;
	int bad = 0;
	err[0] = '\0';
	if (!json_is_object(root) || !json_is_array(arr)) {
		ac_err(err, errlen, "want {\"sinks\": [...]}");
		return -1;
	}
	json_object_foreach((json_t *)root, key, v) if (strcmp(key, "sinks") != 0)
	        ac_err(err, errlen, "unknown key '%.40s'", key),
	        bad = 1;
	json_array_foreach(arr, i, sj)
	{
		if (*n >= SK_MAX_SINKS) {
			ac_err(err, errlen, "at most %d sinks", SK_MAX_SINKS);
			bad = 1;
			break;
		}
		if (ac_one(sj, i, getenv_fn, &out[*n], out, *n, err, errlen) == 0)
			(*n)++;
		else
			bad = 1;
	}
	if (bad) {
		while (*n > start)
			sk_sink_free(&out[--*n]);
		return -1;
	}
	return 0;
}

int
ac_parse_text(const char *text, size_t len, ac_getenv_fn getenv_fn, sk_sink *out, size_t *n, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "line %d column %d: %s", je.line, je.column, je.text);
		return -1;
	}
	int rc = ac_parse_sinks(root, getenv_fn, out, n, err, errlen);
	json_decref(root);
	return rc;
}

static int
ac_env_one(sk_kind kind, const char *url, const char *secret, const char *gen, sk_sink *out, size_t *n, char *err,
           size_t errlen)
{
	if (!url || !*url)
		return 0;
	sk_sink *s = &out[*n];
	if (*n >= SK_MAX_SINKS) {
		ac_err(err, errlen, "at most %d sinks", SK_MAX_SINKS);
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		if (strcmp(out[i].name, sk_ops_table[kind].name) == 0) {
			ac_err(err, errlen, "a sink named %s is configured twice (file and environment)", out[i].name);
			return -1;
		}
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->ops = &sk_ops_table[kind];
	snprintf(s->name, sizeof s->name, "%s", s->ops->name);
	s->send_resolved = s->ops->resolves;
	s->min_severity = s->ops->min_severity;
	if (kind == SK_ALERTMANAGER && gen)
		snprintf(s->generator_url, sizeof s->generator_url, "%s", gen);
	if (!(s->url = ac_url(kind, url)) || (secret && *secret && ac_set_secret(s, secret, strlen(secret)) != 0) ||
	    ac_finish(s, s->name, err, errlen) != 0) {
		sk_sink_free(s);
		return -1;
	}
	(*n)++;
	return 0;
}

int
ac_env_sinks(const ac_env *e, sk_sink *out, size_t *n, char *err, size_t errlen)
{
	int bad = 0;
	/* PagerDuty's one public endpoint is the default once a routing key is given */
	const char *pd_url = e->pagerduty_url && *e->pagerduty_url   ? e->pagerduty_url
	                     : e->pagerduty_key && *e->pagerduty_key ? "https://events.pagerduty.com/v2/enqueue"
	                                                             : NULL;
	bad |= ac_env_one(SK_ALERTMANAGER, e->alertmanager_url, NULL, e->generator_url, out, n, err, errlen);
	bad |= ac_env_one(SK_SLACK, e->slack_url, NULL, NULL, out, n, err, errlen);
	bad |= ac_env_one(SK_PAGERDUTY, pd_url, e->pagerduty_key, NULL, out, n, err, errlen);
	bad |= ac_env_one(SK_WEBHOOK, e->webhook_url, e->webhook_secret, NULL, out, n, err, errlen);
	if (e->webhook_secret && *e->webhook_secret && !(e->webhook_url && *e->webhook_url))
		ac_err(err, errlen, "WEBHOOK_SECRET is set but WEBHOOK_URL is not"), bad = 1;
	return bad ? -1 : 0;
}
