/* rt_config: an actor's configuration from environment variables, described by a table.
 *
 * Each actor declares a static table of rt_opt; rt_config_load reads every variable, converts
 * it into the destination, and reports every problem at once (one line each, '\n'-separated in
 * err), e.g.  "HEARTBEAT: 'abc' is not a duration (examples: 30, 30s, 2m)"  or
 * "RPC_URL: required". Values of RT_SECRET options are never echoed anywhere.
 *
 * Money and thresholds stay exact: RT_PPM parses a decimal percent into parts per million
 * ("0.5" -> 5000), never through a double.
 *
 * Memory: RT_STR destinations point into the environment or the table's default (both live
 * until exit; not copied). RT_LIST destinations own one heap block each, released by
 * rt_config_free. RT_HEX writes into the caller's buffer of exactly `size` bytes.
 * rt_config_file returns a new jansson reference the caller must json_decref. */
#ifndef RT_CONFIG_H
#define RT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

typedef enum {
	RT_STR,      /* const char **dst */
	RT_I64,      /* int64_t *dst; bounds min..max */
	RT_U64,      /* uint64_t *dst; bounds min..max */
	RT_BOOL,     /* bool *dst; true/false, 1/0, yes/no, on/off */
	RT_DURATION, /* uint64_t *dst milliseconds; "30" = 30 s, "30s", "500ms", "2m", "1h"; bounds in ms */
	RT_PPM,      /* uint64_t *dst parts per million of a percent value: "0.5" or "0.5%" -> 5000 */
	RT_DOUBLE,   /* double *dst; finite; for rates and the like, never money */
	RT_LIST,     /* rt_strlist *dst; comma-separated, items trimmed, at most `size` (<= RT_LIST_MAX) */
	RT_HEX,      /* uint8_t dst[size]; exactly `size` bytes as hex, "0x" optional */
} rt_opt_type;

enum {
	RT_REQUIRED = 1u << 0, /* unset or empty is an error */
	RT_SECRET = 1u << 1,   /* never echo the value (errors, usage, logs) */
	RT_SCRUB = 1u << 2,    /* after a successful parse into a copied type (not RT_STR), overwrite the
	                          variable's bytes in place and unset it: the secret then neither stays in
	                          /proc/<pid>/environ nor reaches child processes */
};

#define RT_LIST_MAX 32
typedef struct {
	size_t      n;
	const char *v[RT_LIST_MAX]; /* point into mem */
	char       *mem;            /* owned; freed by rt_config_free */
} rt_strlist;

typedef struct rt_opt {
	const char *env;   /* variable name */
	rt_opt_type type;
	const char *dflt;  /* text parsed like a value when the variable is unset or empty; NULL = none */
	const char *help;  /* one line for the usage table */
	void       *dst;   /* see rt_opt_type; left untouched when there is neither value nor default */
	int64_t     min, max; /* integer/duration/ppm/double bounds, checked only when max > min */
	size_t      size;  /* RT_HEX: byte count; RT_LIST: max items (0 = RT_LIST_MAX) */
	unsigned    flags; /* RT_REQUIRED | RT_SECRET */
} rt_opt;

/* Reads every option; 0 on success, -1 with every problem in err (lines joined by '\n',
 * truncated to errlen). */
int rt_config_load(const rt_opt *opts, size_t n, char *err, size_t errlen);
/* Releases what RT_LIST destinations own. */
void rt_config_free(const rt_opt *opts, size_t n);
/* Markdown table: | variable | default | meaning |, header included. */
void rt_config_usage(const rt_opt *opts, size_t n, FILE *f);
/* Rows only (no header), to append tables. */
void rt_config_usage_rows(const rt_opt *opts, size_t n, FILE *f);

/* The JSON file named by env var env_name: a new reference, or NULL with err[0] == '\0' when the
 * variable is unset/empty, or NULL with "ENV: path:line:col: message" in err on error. */
json_t *rt_config_file(const char *env_name, char *err, size_t errlen);

/* Parsers used by the loader, exposed for actors' own config files. 0 or -1. */
int rt_parse_duration_ms(const char *s, uint64_t *ms);
int rt_parse_ppm(const char *s, uint64_t *ppm);
int rt_parse_hex(const char *s, uint8_t *out, size_t n);

#endif
