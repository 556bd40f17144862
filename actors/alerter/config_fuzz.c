/* config_fuzz: the config file's sink entries (ac_parse_text: JSON, matchers and regexes, URLs,
 * names) on arbitrary bytes; must never crash or leak, and a parse that fails leaves no sink. The
 * Makefile links the actor's objects into its fuzz target, as into its unit tests. */
#include "actors/alerter/config.h"
#include "actors/alerter/sinks.h"

#include <string.h>

static const char *
fz_env(const char *name)
{
	return strcmp(name, "K") == 0   ? "0123456789abcdef0123456789abcdef"
	       : strcmp(name, "U") == 0 ? "http://h/x"
	                                : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_sink s[SK_MAX_SINKS];
	size_t n = 0;
	char err[1024];
	if (ac_parse_text((const char *)data, size, fz_env, s, &n, err, sizeof err) != 0 && n != 0)
		__builtin_trap();
	sc_alert a;
	memset(&a, 0, sizeof a);
	strcpy(a.kind, "tx_failed");
	strcpy(a.labels[0].key, "chain");
	strcpy(a.labels[0].value, "138");
	a.labels_count = 1;
	for (size_t i = 0; i < n; i++) {
		ac_match(&s[i], &a);
		sk_result r = s[i].ops->classify((long)(size % 700), (const char *)data, size);
		(void)r;
		sk_sink_free(&s[i]);
	}
	return 0;
}
