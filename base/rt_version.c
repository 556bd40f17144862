/* rt_version: build identity (see rt_version.h). The generated header is only included here, so a
 * new revision recompiles this one file and relinks, nothing else. */
#include "base/rt_version.h"
#include "base/rt_metrics.h"

#if defined(__has_include)
#if __has_include("ob_version.h")
#include "ob_version.h"
#endif
#endif
#ifndef OB_VERSION
#define OB_VERSION "0.0.0"
#endif
#ifndef OB_REVISION
#define OB_REVISION "unknown"
#endif
#ifndef OB_BUILD_DATE
#define OB_BUILD_DATE "unknown"
#endif

const char *
rt_version(void)
{
	return OB_VERSION;
}
const char *
rt_revision(void)
{
	return OB_REVISION;
}
const char *
rt_build_date(void)
{
	return OB_BUILD_DATE;
}

void
rt_version_print(const char *name, FILE *f)
{
	fprintf(f, "%s %s (git %s, built %s)\n", name, OB_VERSION, OB_REVISION, OB_BUILD_DATE);
	fflush(f);
}

void
rt_build_info_metric(void)
{
	char v[160], r[160], labels[400];
	rt_label_escape(OB_VERSION, v, sizeof v);
	rt_label_escape(OB_REVISION, r, sizeof r);
	snprintf(labels, sizeof labels, "version=\"%s\",revision=\"%s\"", v, r);
	rt_gauge_set(rt_gauge("oraclebus_build_info", "the version and git revision of this binary (always 1)", labels),
	             1);
}
