/* render: everything a deployment needs, generated from one checked obc_model, so a feed is named
 * once. Writes under out/:
 *   env/<actor>-<instance>.env   systemd EnvironmentFile= of oraclebus-<actor>@<instance>.service
 *                                (the unit adds INSTANCE, the state directory and the key files)
 *   run/<actor>-<instance>.env   the same plus INSTANCE, state directory and key file paths, for
 *                                direct runs: env $(grep -v '^#' run/gate-0.env) oraclebus-run gate
 *   etc/<file>.json                 the actors' own files the env files name (host paths)
 *   k8s/<file>.yaml                 the Kubernetes manifests (kustomization.yaml ties them)
 *   prometheus/prometheus.yml    the one-host scrape configuration of the env files' ports
 * Directories are created; files are replaced. The output depends on nothing but the model (no
 * time, no host name), so a checked-in copy can be compared with a fresh rendering.
 *
 * Memory: strings built while rendering are released before obc_render returns. */
#ifndef OB_TOOLS_OB_CONFIG_RENDER_H
#define OB_TOOLS_OB_CONFIG_RENDER_H

#include "tools/ob-config/model.h"

/* 0, or -1 with the reason on stderr (an output that cannot be written; a trust list the bus would
 * refuse or a file above what a Kubernetes ConfigMap holds: reported through obc_err, nothing
 * written). Lists are rendered at their length: nothing is cut to fit a buffer. */
int obc_render(obc_model *m, const char *out);

/* The checks rendering makes beyond the model's (the trust list the bus would refuse, a file above
 * 1 MiB, a ConfigMap's limit), reported through obc_err. */
void obc_check(obc_model *m);

/* For tests: the host instances as "<actor> <actor>-<instance>" lines on f. */
void obc_list_instances(obc_model *m, FILE *f);

#endif
