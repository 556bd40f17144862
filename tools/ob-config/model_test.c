/* Unit tests of model's checks across actors, on the checked-in example (deploy/oraclebus.example.json,
 * read from the repository root where the tests run) with one value changed: the median's window
 * against every feed's heartbeat (longer: refused per feed at the heartbeat's line; equal: valid).
 * And many feeds (issue 12): the example with generated feeds and sources - 1,000 feeds in 2 shards
 * x 3 sources render, and every rendered env value and file holds all of them (parsed back and
 * counted); 1,024 in one shard are taken, 1,025 refused at the feed over the limit; names longer
 * than the old fixed fields reach the files whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/ob-config/model.h"
#include "tools/ob-config/render.h"

#define EXAMPLE "deploy/oraclebus.example.json"

static char mt_text[1 << 16];

/* The example with the first `old` replaced by `new`, written to a temporary file (path into
 * file, removed by the caller). */
static void
mt_write(char *file, size_t n, const char *old, const char *new)
{
	FILE *f = fopen(EXAMPLE, "rb");
	assert_non_null(f);
	size_t len = fread(mt_text, 1, sizeof mt_text - 1, f);
	fclose(f);
	assert_true(len > 0 && len < sizeof mt_text - 1);
	mt_text[len] = '\0';
	snprintf(file, n, "/tmp/ob-config-model-test-XXXXXX");
	int fd = mkstemp(file);
	assert_true(fd >= 0);
	FILE *out = fdopen(fd, "wb");
	assert_non_null(out);
	char *at = old ? strstr(mt_text, old) : NULL;
	if (old)
		assert_non_null(at);
	if (at) {
		fwrite(mt_text, 1, (size_t)(at - mt_text), out);
		fputs(new, out);
		fputs(at + strlen(old), out);
	} else {
		fputs(mt_text, out);
	}
	fclose(out);
}

/* Loads file with stderr captured into err (NUL-terminated); returns the model's error count. */
static unsigned
mt_load(const char *file, char *err, size_t n)
{
	char ef[] = "/tmp/ob-config-model-err-XXXXXX";
	int efd = mkstemp(ef);
	assert_true(efd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(efd, 2);
	obc_model m;
	memset(&m, 0, sizeof m);
	int rc = obc_model_load(&m, file);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	unsigned nerr = m.nerr;
	obc_model_free(&m);
	lseek(efd, 0, SEEK_SET);
	ssize_t r = read(efd, err, n - 1);
	err[r > 0 ? r : 0] = '\0';
	close(efd);
	unlink(ef);
	assert_int_equal(rc, 0);
	return nerr;
}

static unsigned
mt_line_of(const char *needle)
{
	const char *at = strstr(mt_text, needle);
	assert_non_null(at);
	unsigned line = 1;
	for (const char *c = mt_text; c < at; c++)
		line += *c == '\n';
	return line;
}

static void
test_example_valid(void **state)
{
	(void)state;
	char file[64], err[4096];
	mt_write(file, sizeof file, NULL, NULL);
	unsigned nerr = mt_load(file, err, sizeof err);
	unlink(file);
	if (nerr)
		fprintf(stderr, "%s", err);
	assert_int_equal(nerr, 0);
}

/* A window longer than the heartbeat of all three feeds: three problems, each at its feed. */
static void
test_window_above_heartbeat(void **state)
{
	(void)state;
	char file[64], err[4096], want[512];
	mt_write(file, sizeof file, "\"window\": \"60s\"", "\"window\": \"61m\"");
	unsigned nerr = mt_load(file, err, sizeof err);
	unlink(file);
	assert_int_equal(nerr, 3);
	static const char *const feeds[] = { "ETH-USD", "BTC-USD", "LINK-USD" };
	for (unsigned i = 0; i < 3; i++) {
		snprintf(want, sizeof want,
		         "feeds[%u].heartbeat: feed %s: heartbeat '1h' is shorter than median.window '61m': ", i,
		         feeds[i]);
		assert_non_null(strstr(err, want));
	}
	assert_non_null(strstr(err, "a heartbeat round could carry a price older than the round before it"));
}

/* One feed's heartbeat below the default window: that feed only, at the line of its heartbeat. */
static void
test_heartbeat_below_window(void **state)
{
	(void)state;
	char file[64], err[4096], want[512];
	const char *old = "\"deviation\": \"1\", \"heartbeat\": \"1h\"";
	mt_write(file, sizeof file, old, "\"deviation\": \"1\", \"heartbeat\": \"59s\"");
	unsigned nerr = mt_load(file, err, sizeof err);
	unsigned line = mt_line_of(old); /* the example's text: the same lines */
	unlink(file);
	assert_int_equal(nerr, 1);
	snprintf(want, sizeof want,
	         "%s:%u: feeds[2].heartbeat: feed LINK-USD: heartbeat '59s' is shorter than "
	         "median.window '60s'",
	         file, line);
	assert_non_null(strstr(err, want));
}

/* The limit itself is consistent: a window equal to the heartbeat. */
static void
test_window_equal_heartbeat(void **state)
{
	(void)state;
	char file[64], err[4096];
	mt_write(file, sizeof file, "\"window\": \"60s\"", "\"window\": \"1h\"");
	unsigned nerr = mt_load(file, err, sizeof err);
	unlink(file);
	if (nerr)
		fprintf(stderr, "%s", err);
	assert_int_equal(nerr, 0);
}

/* ---- many feeds ------------------------------------------------------------------------------ */

/* The example with nfeeds generated feeds (F0000-USD.., shard i % nshards) and nsrc sources each
 * (source k in group 'a' + k % 3), written to a temporary file (path into file, removed by the caller).
 * edit, when set, changes the document before it is written. */
static void
mt_gen(char *file, size_t n, unsigned nfeeds, unsigned nshards, unsigned nsrc, void (*edit)(json_t *))
{
	json_error_t je;
	json_t *root = json_load_file(EXAMPLE, 0, &je);
	assert_non_null(root);
	json_t *feeds = json_array(), *sources = json_array();
	for (unsigned i = 0; i < nfeeds; i++) {
		char name[32], agg[48];
		snprintf(name, sizeof name, "F%04u-USD", i);
		snprintf(agg, sizeof agg, "0x%040x", i + 1);
		json_array_append_new(feeds, json_pack("{s:s, s:i, s:s, s:s, s:s, s:i}", "name", name, "decimals", 8,
		                                       "aggregator", agg, "deviation", "0.5", "heartbeat", "1h",
		                                       "shard", (int)(i % nshards)));
		for (unsigned k = 0; k < nsrc; k++) {
			char g[2] = { (char)('a' + k % 3), 0 }, sn[16], url[96];
			snprintf(sn, sizeof sn, "s%u", k);
			snprintf(url, sizeof url, "https://api.coinbase.com/v2/prices/%s/spot", name);
			json_array_append_new(sources, json_pack("{s:s, s:s, s:s, s:s, s:s}", "group", g, "feed", name,
			                                         "name", sn, "kind", "coinbase", "url", url));
		}
	}
	json_object_set_new(root, "feeds", feeds);
	json_object_set_new(root, "sources", sources);
	if (edit)
		edit(root);
	snprintf(file, n, "/tmp/ob-config-model-test-XXXXXX");
	int fd = mkstemp(file);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(json_dump_file(root, file, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
	json_decref(root);
}

/* The value of the variable k in an env file (malloc'd), NULL when absent. */
static char *
mt_env_get(const char *path, const char *k)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("%s: cannot open", path);
	char *line = NULL, *v = NULL;
	size_t cap = 0, kl = strlen(k);
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (strncmp(line, k, kl) == 0 && line[kl] == '=') {
			v = strdup(line + kl + 1);
			break;
		}
	}
	free(line);
	fclose(f);
	return v;
}

/* Adds the comma list's names to seen (each at most once across calls); the number of names. */
static unsigned
mt_add_list(json_t *seen, const char *list)
{
	unsigned n = 0;
	char *dup = strdup(list), *save = NULL;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save), n++) {
		if (json_object_get(seen, t))
			fail_msg("feed %s listed twice", t);
		json_object_set_new(seen, t, json_true());
	}
	free(dup);
	return n;
}

/* The FEEDS of an env file, added to seen; its count. */
static unsigned
mt_env_feeds(json_t *seen, const char *dir, const char *file)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	char *v = mt_env_get(p, "FEEDS");
	if (!v)
		fail_msg("%s: no FEEDS", p);
	unsigned n = mt_add_list(seen, v);
	free(v);
	return n;
}

/* The feeds of an actor's JSON file ({"feeds": [{"feed": ...}]}), added to seen; its count. Each
 * entry's sources (fetcher) must number nsrc when nsrc is not 0. */
static unsigned
mt_file_feeds(json_t *seen, const char *dir, const char *file, unsigned nsrc)
{
	char p[512];
	json_error_t je;
	snprintf(p, sizeof p, "%s/etc/%s", dir, file);
	json_t *j = json_load_file(p, 0, &je);
	if (!j)
		fail_msg("%s: %s", p, je.text);
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(j, "feeds"), i, f)
	{
		const char *name = json_string_value(json_object_get(f, "feed"));
		assert_non_null(name);
		if (json_object_get(seen, name))
			fail_msg("%s: feed %s twice", p, name);
		json_object_set_new(seen, name, json_true());
		if (nsrc)
			assert_int_equal(json_array_size(json_object_get(f, "sources")), nsrc);
	}
	unsigned n = (unsigned)json_array_size(json_object_get(j, "feeds"));
	json_decref(j);
	return n;
}

/* Occurrences of needle in the file. */
static unsigned
mt_count_in(const char *dir, const char *file, const char *needle)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	FILE *f = fopen(p, "rb");
	if (!f)
		fail_msg("%s: cannot open", p);
	char *text = NULL;
	size_t cap = 0;
	ssize_t len = getdelim(&text, &cap, '\0', f);
	fclose(f);
	assert_true(len > 0);
	unsigned n = 0;
	for (const char *c = text; (c = strstr(c, needle)) != NULL; c += strlen(needle))
		n++;
	free(text);
	return n;
}

static void
mt_rm(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* 1,000 feeds in 2 shards x 3 sources: checked, rendered, and every actor's share read back whole
 * (with the old 64-feed bound this configuration was refused; with the old 2048-byte FEEDS buffer a
 * median's list was cut at about 200 names). */
static void
test_thousand_feeds_render(void **state)
{
	(void)state;
	char file[64], err[4096], out[] = "/tmp/ob-config-render-test-XXXXXX";
	mt_gen(file, sizeof file, 1000, 2, 3, NULL);
	assert_non_null(mkdtemp(out));
	obc_model m;
	memset(&m, 0, sizeof m);
	assert_int_equal(obc_model_load(&m, file), 0);
	assert_int_equal(m.nerr, 0);
	assert_int_equal(m.nfeeds, 1000);
	assert_int_equal(m.nsources, 3000);
	assert_int_equal(m.nshards, 2);
	assert_int_equal(obc_render(&m, out), 0);
	assert_int_equal(m.nerr, 0);
	obc_model_free(&m);
	unlink(file);
	(void)err;

	const char *envdirs[] = { "env", "run" };
	for (int d = 0; d < 2; d++) {
		char dir[600];
		snprintf(dir, sizeof dir, "%s/%s", out, envdirs[d]);
		/* the medians: 500 each, 1,000 together, none twice */
		json_t *seen = json_object();
		assert_int_equal(mt_env_feeds(seen, dir, "median-0.env"), 500);
		assert_int_equal(mt_env_feeds(seen, dir, "median-1.env"), 500);
		assert_int_equal(json_object_size(seen), 1000);
		json_decref(seen);
		/* the one signer signs all 1,000 */
		seen = json_object();
		assert_int_equal(mt_env_feeds(seen, dir, "signer-0.env"), 1000);
		json_decref(seen);
	}
	json_t *seen = json_object();
	assert_int_equal(mt_file_feeds(seen, out, "gate-0.json", 0), 500);
	assert_int_equal(mt_file_feeds(seen, out, "gate-1.json", 0), 500);
	assert_int_equal(json_object_size(seen), 1000);
	json_decref(seen);
	seen = json_object();
	assert_int_equal(mt_file_feeds(seen, out, "signer-0.json", 0), 1000);
	json_decref(seen);
	/* each fetcher group has one source of every feed */
	static const char *const fetchers[] = { "fetcher-a.json", "fetcher-b.json", "fetcher-c.json" };
	for (int g = 0; g < 3; g++) {
		seen = json_object();
		assert_int_equal(mt_file_feeds(seen, out, fetchers[g], 1), 1000);
		json_decref(seen);
	}
	/* the manifests carry the same: FEEDS of both medians, the gates' and signer's ConfigMaps */
	char k8s[600];
	snprintf(k8s, sizeof k8s, "%s/k8s", out);
	assert_int_equal(mt_count_in(k8s, "median.yaml", "{name: FEEDS, value: "), 2);
	assert_int_equal(mt_count_in(k8s, "median.yaml", "-USD"), 1000);
	assert_int_equal(mt_count_in(k8s, "gate.yaml", "\"aggregator\": "), 1000);
	assert_int_equal(mt_count_in(k8s, "signer.yaml", "\"aggregator\": "), 1000);
	assert_int_equal(mt_count_in(k8s, "fetcher.yaml", "\"feed\": "), 3000);
	char prom[600];
	snprintf(prom, sizeof prom, "%s/prometheus", out);
	assert_int_equal(mt_count_in(prom, "feeds.rules.yml", "record: oraclebus:feed_heartbeat_seconds"), 1000);
	mt_rm(out);
}

/* The actors' limit: 1,024 feeds in one shard (and on one signer) are taken. */
static void
test_shard_at_limit(void **state)
{
	(void)state;
	char file[64], err[4096];
	mt_gen(file, sizeof file, 1024, 1, 2, NULL);
	unsigned nerr = mt_load(file, err, sizeof err);
	unlink(file);
	if (nerr)
		fprintf(stderr, "%s", err);
	assert_int_equal(nerr, 0);
}

/* 1,025 feeds in one shard: refused once, at the first feed over the limit (its shard member), and
 * the one signer over its own limit too; nothing else. */
static void
test_shard_over_limit(void **state)
{
	(void)state;
	char file[64], err[4096];
	mt_gen(file, sizeof file, 1025, 1, 2, NULL);
	unsigned nerr = mt_load(file, err, sizeof err);
	unlink(file);
	assert_int_equal(nerr, 2);
	assert_non_null(strstr(err, ": feeds[1024].shard: shard 0 has 1025 feeds, at most 1024 (one median's FEEDS, "
	                            "one gate's FEEDS_FILE)"));
	assert_non_null(strstr(err, ": feeds[1024]: signer-0 signs 1025 feeds, at most 1024"));
}

/* In two shards the same 1,025 feeds fit the medians and gates, not the one signer. */
static void
test_signer_over_limit(void **state)
{
	(void)state;
	char file[64], err[4096];
	mt_gen(file, sizeof file, 1025, 2, 2, NULL);
	unsigned nerr = mt_load(file, err, sizeof err);
	unlink(file);
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(err, ": feeds[1024]: signer-0 signs 1025 feeds, at most 1024 (the signer's FEEDS"));
}

/* More sources of one feed than the median holds (16): refused at the feed. */
static void
test_feed_sources_over_limit(void **state)
{
	(void)state;
	char file[64], err[4096];
	mt_gen(file, sizeof file, 3, 1, 17, NULL);
	unsigned nerr = mt_load(file, err, sizeof err);
	unlink(file);
	assert_int_equal(nerr, 3);
	assert_non_null(strstr(err, ": feeds[2]: feed F0002-USD has 17 sources, at most 16"));
}

static void
mt_one_group(json_t *root)
{
	json_t *s;
	size_t i;
	json_array_foreach(json_object_get(root, "sources"), i, s) json_object_set_new(s, "group", json_string("a"));
}

/* One fetcher group with every source of 1,024 feeds x 9: its file is above what a Kubernetes
 * ConfigMap holds (1 MiB): refused by check and render (which writes nothing), not left to the API
 * server; the same sources in three groups are taken. */
static void
test_configmap_over_limit(void **state)
{
	(void)state;
	char file[64], err[4096], out[] = "/tmp/ob-config-render-test-XXXXXX", p[700];
	mt_gen(file, sizeof file, 1024, 1, 9, mt_one_group);
	assert_non_null(mkdtemp(out));
	obc_model m;
	memset(&m, 0, sizeof m);
	assert_int_equal(obc_model_load(&m, file), 0);
	assert_int_equal(m.nerr, 0);
	char ef[] = "/tmp/ob-config-model-err-XXXXXX";
	int efd = mkstemp(ef);
	assert_true(efd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(efd, 2);
	obc_check(&m);
	unsigned nerr_check = m.nerr;
	int rc = obc_render(&m, out);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(efd, 0, SEEK_SET);
	ssize_t r = read(efd, err, sizeof err - 1);
	err[r > 0 ? r : 0] = '\0';
	close(efd);
	unlink(ef);
	obc_model_free(&m);
	unlink(file);
	assert_int_equal(nerr_check, 1);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, ": sources: fetcher-a.json would be "));
	assert_non_null(strstr(err,
	                       "bytes, above the 1048576 a Kubernetes ConfigMap holds (fetcher-group-a): spread the "
	                       "sources over more groups"));
	snprintf(p, sizeof p, "%s/etc", out);
	assert_int_equal(access(p, F_OK), -1); /* nothing written */
	mt_rm(out);
	mt_gen(file, sizeof file, 1024, 1, 9, NULL);
	memset(&m, 0, sizeof m);
	assert_int_equal(obc_model_load(&m, file), 0);
	obc_check(&m);
	assert_int_equal(m.nerr, 0);
	obc_model_free(&m);
	unlink(file);
}

#define MT_LONG "abcdefghijklmnopqrstuvwxyz0123456789abcd" /* 40: the longest label taken */

static void
mt_long_names(json_t *root)
{
	json_t *s;
	size_t i;
	json_array_foreach(json_object_get(root, "sources"), i, s)
	        json_object_set_new(s, "group", json_string(MT_LONG));
	json_object_set_new(json_array_get(json_object_get(root, "signers"), 0), "name",
	                    json_string("signer-" MT_LONG));
	json_object_set_new(json_object_get(json_object_get(root, "tokenizer"), "erc20"), "signer",
	                    json_string("signer-" MT_LONG));
}

/* The longest names taken reach the files whole (the old fixed fields cut a submitter's instance at
 * 23 characters and a fetcher's file name at 47). */
static void
test_long_names_whole(void **state)
{
	(void)state;
	char file[64], out[] = "/tmp/ob-config-render-test-XXXXXX", p[700];
	mt_gen(file, sizeof file, 4, 1, 2, mt_long_names);
	assert_non_null(mkdtemp(out));
	obc_model m;
	memset(&m, 0, sizeof m);
	assert_int_equal(obc_model_load(&m, file), 0);
	assert_int_equal(m.nerr, 0);
	assert_int_equal(obc_render(&m, out), 0);
	obc_model_free(&m);
	unlink(file);
	snprintf(p, sizeof p, "%s/run/submitter-%s.env", out, MT_LONG);
	assert_int_equal(access(p, R_OK), 0);
	snprintf(p, sizeof p, "%s/env/fetcher-%s.env", out, MT_LONG);
	char *cfg = mt_env_get(p, "CONFIG_FILE");
	assert_non_null(cfg);
	assert_non_null(strstr(cfg, "/fetcher-" MT_LONG ".json"));
	free(cfg);
	snprintf(p, sizeof p, "%s/etc/fetcher-%s.json", out, MT_LONG);
	assert_int_equal(access(p, R_OK), 0);
	char k8s[600];
	snprintf(k8s, sizeof k8s, "%s/k8s", out);
	assert_int_equal(mt_count_in(k8s, "fetcher.yaml", "name: fetcher-group-" MT_LONG "\n"), 3);
	mt_rm(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_valid),           cmocka_unit_test(test_window_above_heartbeat),
		cmocka_unit_test(test_heartbeat_below_window),  cmocka_unit_test(test_window_equal_heartbeat),
		cmocka_unit_test(test_thousand_feeds_render),   cmocka_unit_test(test_shard_at_limit),
		cmocka_unit_test(test_shard_over_limit),        cmocka_unit_test(test_signer_over_limit),
		cmocka_unit_test(test_feed_sources_over_limit), cmocka_unit_test(test_long_names_whole),
		cmocka_unit_test(test_configmap_over_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
