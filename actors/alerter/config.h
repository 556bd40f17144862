/* config.h - the alerter's sinks, from the JSON file CONFIG_FILE and from the environment
 * shortcuts (ALERTMANAGER_URL, SLACK_WEBHOOK_URL, PAGERDUTY_URL + PAGERDUTY_ROUTING_KEY,
 * WEBHOOK_URL + WEBHOOK_SECRET), and the routing decision "does this alert go to that sink".
 *
 *   {"sinks": [
 *     {"name": "am", "type": "alertmanager", "url": "http://127.0.0.1:9093"},
 *     {"name": "oncall", "type": "pagerduty", "secret_env": "PAGERDUTY_ROUTING_KEY",
 *      "min_severity": "error", "match": ["kind=~tx_.*|ccip_.*", "chain!=1337"]},
 *     {"name": "chat", "type": "slack", "url_env": "SLACK_WEBHOOK_URL", "send_resolved": true},
 *     {"name": "hook", "type": "webhook", "url": "https://ops.example/hook", "secret_file": "/run/hook.key"}]}
 *
 * Keys of a sink: name, type (alertmanager|slack|pagerduty|webhook), url or url_env, secret_env
 * or secret_file (mode 0600; never an inline secret), min_severity, match (Alertmanager-style
 * matchers on labels and on kind/severity/origin/dedupe_key: =, !=, =~, !~, regexes anchored),
 * send_resolved, rate_limit (messages per minute), generator_url. Unknown keys are errors.
 *
 * Memory: filled sk_sink entries own their strings (sk_sink_free each); nothing else is kept.
 * The getenv function is injectable so tests and the fuzz target need no environment. */
#ifndef OB_ACTORS_ALERTER_CONFIG_H
#define OB_ACTORS_ALERTER_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "actors/alerter/sinks.h"

typedef const char *(*ac_getenv_fn)(const char *name);

/* The environment shortcuts (NULL or "" = not set). */
typedef struct {
	const char *alertmanager_url, *slack_url, *pagerduty_url, *pagerduty_key, *webhook_url, *webhook_secret;
	const char *generator_url;
} ac_env;

/* Appends the sinks of root ({"sinks": [...]}) to out[*n..]. 0, or -1 with every problem named
 * ("sinks[1].match[0]: ...") in err; on failure nothing is left allocated past the initial *n. */
int ac_parse_sinks(const json_t *root, ac_getenv_fn getenv_fn, sk_sink *out, size_t *n, char *err, size_t errlen);
/* The same from JSON text (the fuzz target's entry). */
int ac_parse_text(const char *text, size_t len, ac_getenv_fn getenv_fn, sk_sink *out, size_t *n, char *err,
                  size_t errlen);
/* Appends one sink per shortcut set (names: alertmanager, slack, pagerduty, webhook). */
int ac_env_sinks(const ac_env *e, sk_sink *out, size_t *n, char *err, size_t errlen);

/* "label=value", "label!=value", "label=~regex", "label!~regex". 0 or -1 with err. */
int ac_matcher_parse(const char *text, sk_matcher *m, char *err, size_t errlen);
/* 1 when a's severity reaches s's minimum and every matcher holds. */
int ac_match(const sk_sink *s, const sc_alert *a);

#endif
