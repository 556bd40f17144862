/* ob-config: one configuration file for a whole deployment (feeds, sources, thresholds, chain and RPC,
 * bus keys by their public halves, secrets by reference, alert sinks, CCIP chains), from which every
 * actor's environment, the systemd env files, the Kubernetes manifests and the one-host Prometheus
 * configuration are generated (render.h), so a feed is named once. tools/ob-config/README.md.
 *
 *   ob-config check CONFIG            every problem as FILE:LINE: path: what; exit 0 or 78
 *   ob-config render CONFIG OUTDIR    check, then write OUTDIR/{env,run,etc,k8s,prometheus}
 *   ob-config instances CONFIG        "<actor> <actor>-<instance>" per line (what render makes)
 * Exit: 0 ok, 1 an output could not be written, 2 usage, 78 configuration (EX_CONFIG, as the actors). */
#include <stdio.h>
#include <string.h>

#include "base/rt_config.h"
#include "base/rt_version.h"
#include "tools/ob-config/model.h"
#include "tools/ob-config/render.h"

static const char obc_usage[] =
        "usage: ob-config check CONFIG | render CONFIG OUTDIR | instances CONFIG\n"
        "  check CONFIG            check the deployment file; every problem as FILE:LINE: path: what\n"
        "  render CONFIG OUTDIR    check, then write OUTDIR/env (systemd env files), run (direct runs),\n"
        "                          etc (the actors' JSON files), k8s (manifests), prometheus (one host)\n"
        "  instances CONFIG        the instances render makes: '<actor> <actor>-<instance>' per line\n"
        "  --help                  this text\n"
        "  --version               'ob-config VERSION (git REVISION, built DATE)'\n"
        "Exit status: 0 ok, 1 an output could not be written, 2 usage, 78 configuration error.\n";

static int
obc_bad_usage(const char *what)
{
	fprintf(stderr, "ob-config: %s\n%s", what, obc_usage);
	return 2;
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(obc_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			rt_version_print("ob-config", stdout);
			return 0;
		}
		if (argv[i][0] == '-') {
			char msg[160];
			snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
			return obc_bad_usage(msg);
		}
	}
	if (argc < 3)
		return obc_bad_usage("a command and a configuration file are needed");
	const char *cmd = argv[1];
	int render = strcmp(cmd, "render") == 0;
	if (!render && strcmp(cmd, "check") != 0 && strcmp(cmd, "instances") != 0)
		return obc_bad_usage("unknown command");
	if (argc != (render ? 4 : 3))
		return obc_bad_usage(render ? "render takes CONFIG OUTDIR" : "one configuration file");
	obc_model m = { 0 };
	int rc = 0;
	if (obc_model_load(&m, argv[2]) != 0) { /* unreadable or not JSON: a configuration error too */
		rc = RT_EXIT_CONFIG;
		goto done;
	}
	if (strcmp(cmd, "instances") == 0) {
		if (!m.nerr)
			obc_list_instances(&m, stdout);
	} else if (render) {
		if (!m.nerr && obc_render(&m, argv[3]) != 0 && !m.nerr)
			rc = 1;
	} else if (!m.nerr)
		obc_check(&m);
	if (m.nerr) {
		fprintf(stderr, "ob-config: %s: %u problem(s); nothing written\n", argv[2], m.nerr);
		rc = RT_EXIT_CONFIG;
	}
done:
	obc_model_free(&m);
	return rc;
}
