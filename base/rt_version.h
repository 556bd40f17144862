/* rt_version: what this binary is (version, git revision, build date), shown the same way by every
 * actor and tool, and the conventions every oraclebus program shares on its command line.
 *
 * The values come from the Makefile (tools/version.sh writes $(BUILD)/gen/ob_version.h: version
 * from the VERSION file or `make OB_VERSION=...`, revision from `git describe --always --dirty`,
 * "unknown" outside git). A compile without that header gets "0.0.0" / "unknown".
 *
 * Exit codes, the same for every tool (README.md "Exit codes"); actors use 0, 1, 2 and 78:
 *   0  ok: done, --count reached, --timeout without --count, interrupted (Ctrl-C, SIGTERM)
 *   1  no result: --timeout passed before --count was reached, nothing matched, input refused
 *   2  usage: unknown option, bad or missing argument (usage on stderr)
 *   3  unavailable: cannot reach busd (after the connect deadline), bus or publish error,
 *      journal or output unreadable/unwritable
 *   78 configuration: the environment is invalid (RT_EXIT_CONFIG, every problem listed)
 *
 * Memory: every string returned is static. */
#ifndef OB_BASE_RT_VERSION_H
#define OB_BASE_RT_VERSION_H

#include <stdio.h>

enum {
	RT_EXIT_OK = 0,
	RT_EXIT_NORESULT = 1,
	RT_EXIT_USAGE = 2,
	RT_EXIT_UNAVAILABLE = 3,
	/* RT_EXIT_CONFIG (78) is in rt_config.h */
};

const char *rt_version(void);    /* "0.1.0" */
const char *rt_revision(void);   /* "6b7a0b97f803", "6b7a0b97f803-dirty" or "unknown" */
const char *rt_build_date(void); /* "2026-12-06T10:21:39Z" */

/* "NAME VERSION (git REVISION, built DATE)\n" on f: what --version prints (on stdout, exit 0). */
void rt_version_print(const char *name, FILE *f);

/* Registers the gauge oraclebus_build_info{version="...",revision="..."} 1 (rt_init does, for
 * every actor). Idempotent. */
void rt_build_info_metric(void);

#endif
