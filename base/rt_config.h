/* rt_config: an actor's configuration from environment variables, described by a table.
 *
 * Each actor declares a static table of rt_opt; rt_config_load reads every variable, converts
 * it into the destination, and reports every problem at once (one line each, '\n'-separated in
 * err), e.g.  "HEARTBEAT: 'abc' is not a duration (examples: 30, 30s, 2m)"  or
 * "RPC_URL: required". Values of RT_SECRET options are never echoed anywhere.
 *
 * Two passes: first every variable is parsed by its type (the types also validate URLs, EVM
 * addresses and secp256k1 keys); then the RT_CHECK rows run, in table order. A check row is bound
 * to one variable (it runs only when that variable parsed, and sees its row and text) or to none
 * (""; cross-option rules, files the options name). A check adds problems with rt_config_error
 * into the same list, so an actor's own semantic checks are reported with the type errors:
 *
 *     static void gt_check(const rt_opt *o, const char *text, rt_cfg_errs *e)
 *     {
 *         rt_config_require(e, "TRANSMITTER", flux, transmitter != NULL, "with submit(uint256,int256)");
 *     }
 *     static const rt_opt opts[] = { ..., RT_CHECK_ROW("", gt_check) };
 *
 * A check bound to no variable runs even when some failed: their destinations then hold what they
 * held before (NULL for strings), so it tests rt_config_failed or the value before using one.
 *
 * A process exits RT_EXIT_CONFIG (78, EX_CONFIG of sysexits.h) on any configuration error.
 *
 * Money and thresholds stay exact: RT_PPM parses a decimal percent into parts per million
 * ("0.5" -> 5000), never through a double.
 *
 * Memory: RT_STR destinations point into the environment or the table's default (both live
 * until exit; not copied). RT_LIST destinations own one heap block each (the item pointers and their text), released by
 * rt_config_free. RT_HEX writes into the caller's buffer of exactly `size` bytes.
 * rt_config_file returns a new jansson reference the caller must json_decref. */
#ifndef OB_BASE_RT_CONFIG_H
#define OB_BASE_RT_CONFIG_H

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
	RT_BUS_URL,  /* const char **dst; comma list of NNG URLs: tcp[46]://host:port, tls+tcp[46]://host:port,
	                ipc:///path, inproc://name; at most `size` items (0 = any). RT_LISTEN allows the
	                wildcard host of a listener (empty or a star: tcp://:7701) */
	RT_HTTP_URL, /* const char **dst; comma list of http:// or https:// URLs; at most `size` (0 = any) */
	RT_ADDR,     /* uint8_t dst[20]; "0x" + 40 hex digits, not the zero address. A mixed-case value must
	                be a valid EIP-55 checksum: the table adds RT_CHECK_ROW("<VAR>", hex_addr_opt_check)
	                from base/hex.h */
	RT_KEY,      /* uint8_t dst[32]; a secp256k1 secret key in hex (64 digits, 0x optional): not zero and
	                below the curve order. Use with RT_SECRET | RT_SCRUB */
	RT_CHECK,    /* a check row (RT_CHECK_ROW): env = the variable it checks or ""; dst = the rt_check_fn */
} rt_opt_type;

/* sysexits.h EX_CONFIG: the one exit code of every actor and tool for a bad configuration. */
#define RT_EXIT_CONFIG 78

enum {
	RT_REQUIRED = 1u << 0, /* unset or empty is an error */
	RT_SECRET = 1u << 1,   /* never echo the value (errors, usage, logs) */
	RT_SCRUB = 1u << 2,    /* after a successful parse into a copied type (not RT_STR), overwrite the
	                          variable's bytes in place and unset it: the secret then neither stays in
	                          /proc/<pid>/environ nor reaches child processes */
	RT_LISTEN = 1u << 3,   /* RT_BUS_URL: URLs this process listens on (wildcard host allowed) */
};

/* The problems found so far: lines "ENV: what is wrong", '\n'-separated, NUL-terminated within
 * cap (later lines are dropped when it is full, but still counted in n). */
typedef struct rt_cfg_errs {
	char *buf;
	size_t cap;
	unsigned n;
} rt_cfg_errs;

struct rt_opt;
/* A semantic check. o: the row of the variable it is bound to (or the check row itself when bound
 * to none); text: that variable's parsed value (the variable or the default), NULL when there was
 * none or it was scrubbed (secrets). Reports with rt_config_error. */
typedef void rt_check_fn(const struct rt_opt *o, const char *text, rt_cfg_errs *e);

/* Items of one comma list at most (a row's `size` may lower it): the feeds of one median, gate
 * or signer. The list is allocated to its item count, so the bound costs nothing until used. */
#define RT_LIST_MAX 1024
typedef struct {
	size_t n;
	const char **v; /* n items, pointing into mem */
	char *mem;      /* owned (v and the items in one block); freed by rt_config_free */
} rt_strlist;

typedef struct rt_opt {
	const char *env; /* variable name */
	rt_opt_type type;
	const char *dflt; /* text parsed like a value when the variable is unset or empty; NULL = none */
	const char *help; /* one line for the usage table */
	void *dst;        /* see rt_opt_type; left untouched when there is neither value nor default */
	int64_t min, max; /* integer/duration/ppm/double bounds, checked only when max > min */
	size_t size;      /* RT_HEX: byte count; RT_LIST: max items (0 = RT_LIST_MAX) */
	unsigned flags;   /* RT_REQUIRED | RT_SECRET | RT_SCRUB | RT_LISTEN */
} rt_opt;

/* A check row: env = the variable it checks (it runs only when that one parsed), or "" for a check
 * of several. The function travels in dst (POSIX guarantees the conversion, as for dlsym). */
#define RT_CHECK_ROW(env, fn)                                                                                          \
	{                                                                                                              \
		(env), RT_CHECK, NULL, NULL, (void *)(rt_check_fn *)(fn), 0, 0, 0, 0                                   \
	}

/* Reads every option, then runs the checks; 0 on success, -1 with every problem in err (lines
 * joined by '\n', truncated to errlen). */
int rt_config_load(const rt_opt *opts, size_t n, char *err, size_t errlen);

/* For checks: adds "ENV: <message>" (just the message when env is NULL or ""). Never pass a secret. */
void rt_config_error(rt_cfg_errs *e, const char *env, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 1 when a problem of variable env is already listed (a check of something that depends on it
 * then says nothing more). */
int rt_config_failed(const rt_cfg_errs *e, const char *env);
/* A required-when rule: when `when` holds and the variable is not given (given == 0) and not already
 * failed, adds "ENV: required <because>", e.g.
 *     rt_config_require(e, "TRANSMITTER", flux, cfg_transmitter != NULL, "with UPDATE_SIGNATURE=submit(...)") */
void rt_config_require(rt_cfg_errs *e, const char *env, int when, int given, const char *because);
/* rt_config_file for checks: the JSON (caller json_decref's), or NULL when unset (nothing added) or
 * unreadable (the problem added to e). */
json_t *rt_config_json(rt_cfg_errs *e, const char *env_name);
/* For checks of a directory option (creates nothing, so --check-config stays side-free): adds
 * "ENV: <why>" when path is empty, names something that is not a directory, or a directory this
 * process cannot write into; when must_exist, also when it does not exist. (A directory the actor
 * makes at start, such as STATE_DIR, may be absent.) 0 when fine, -1 when a problem was added. */
int rt_config_dir(rt_cfg_errs *e, const char *env, const char *path, int must_exist);
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

/* Validators behind the types, for actors' own files and lists: 0, or -1 with why ("port 99999 is
 * not in 1..65535"; the value itself is not quoted, so callers decide whether it may be shown). */
int rt_check_bus_url(const char *url, int listen, char *why, size_t wl);
int rt_check_http_url(const char *url, char *why, size_t wl);
int rt_check_addr(const char *s, uint8_t out[20], char *why, size_t wl); /* syntax only, see RT_ADDR */
int rt_check_seckey(const uint8_t key[32]);                              /* 0 = valid secp256k1 secret */

#endif
