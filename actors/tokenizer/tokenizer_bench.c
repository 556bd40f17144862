/*
 * tokenizer_bench - payments per second through the tokenizer's intake path on one thread: parse a
 * pacs.008 (libxml2 SAX, validation), key, mapping, content hash, then the durable LMDB commit (record +
 * open index + token.request outbox, full fsync) in group commits of BATCH payments, and the
 * token.request encoding handed to a publish callback. Baseline in the same run: raw libxml2 parsing
 * (xmlReadMemory with the same options, tree freed) of the same documents. Reports the rate and the
 * ratio, never pass/fail on time; also this process's peak RSS.
 *
 * Linked with the tokenizer's own objects (the Makefile does that for a bench in an actor's folder).
 */
#include "actors/tokenizer/config.h"
#include "actors/tokenizer/core.h"
#include "actors/tokenizer/intake.h"
#include "base/rt_main.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Seconds on the monotonic clock (base/rt_main.c). */
static double
tb_now(void)
{
	return (double)rt_mono_ns() / 1e9;
}

static void
tb_pub(void *arg, const char *topic, const char *type, const uint8_t *id, const uint8_t *body, size_t len)
{
	*(size_t *)arg += len;
}

static char *
tb_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The sample with its UETR replaced by the i-th one (same length). */
static void
tb_doc(const char *tmpl, size_t len, char *out, unsigned i)
{
	memcpy(out, tmpl, len);
	out[len] = '\0';
	char *u = strstr(out, "174c245f-2682-4291-ad67-2a41e530cd27");
	char hex[9];
	snprintf(hex, sizeof hex, "%08x", i);
	memcpy(u, hex, 8);
}

/* Payments [start, start + n) through the intake in group commits of `batch`. */
static int
tb_run(tk_core *k, const tk_config *cfg, const char *tmpl, size_t len, char *doc, unsigned start, unsigned n,
       unsigned batch, double raw)
{
	char err[512];
	size_t published = 0;
	unsigned accepted = 0, i = start;
	double t_parse = 0, t_commit = 0, t0 = tb_now();
	while (i < start + n) {
		tk_batch b = { 0 };
		double a = tb_now();
		for (unsigned m = 0; m < batch && i < start + n; m++, i++) {
			tb_doc(tmpl, len, doc, i);
			if (tk_batch_parse(&b, cfg, (const uint8_t *)doc, len, "application/xml", NULL, 1) != 1 ||
			    b.items[b.n - 1]->outcome != 0) {
				fprintf(stderr, "intake refused payment %u\n", i);
				return -1;
			}
		}
		double c = tb_now();
		t_parse += c - a;
		if (tk_commit(k, b.items, b.n, 2, tb_pub, &published, err, sizeof err) != 0) {
			fprintf(stderr, "commit: %s\n", err);
			return -1;
		}
		t_commit += tb_now() - c;
		for (size_t x = 0; x < b.n; x++)
			accepted += b.items[x]->outcome == TK_NEW;
		tk_batch_free(&b);
	}
	double tok = n / (tb_now() - t0);
	if (accepted != n) {
		fprintf(stderr, "only %u of %u accepted\n", accepted, n);
		return -1;
	}
	printf("  tokenizer intake, group commit of %4u      %9.0f payments/s = %.2f of raw libxml2 (parse+map %.0f%%, "
	       "commit %.0f%%)\n",
	       batch, tok, tok / raw, 100 * t_parse / (t_parse + t_commit), 100 * t_commit / (t_parse + t_commit));
	return published ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "payments/testdata/iso/ballerina_p_2_1_2_mt103_pacs_008_A_B.xml";
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 20000;
	size_t len;
	char *tmpl = tb_read(path, &len), err[512];
	if (tmpl == NULL || strstr(tmpl, "174c245f-2682-4291-ad67-2a41e530cd27") == NULL) {
		fprintf(stderr, "cannot read the sample %s\n", path);
		return 1;
	}
	xmlInitParser();
	const char *cfg_text =
	        "{\"tokens\":{\"USD\":{\"backend\":\"erc20\",\"address\":"
	        "\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
	        "\"decimals\":6}},\"accounts\":{\"254178963\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\","
	        "\"96325874\":\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\"}}";
	json_t *j = json_loads(cfg_text, 0, NULL);
	tk_config *cfg = tk_config_from_json(j, err, sizeof err);
	json_decref(j);
	char dir[] = "/tmp/tokenizer_bench.XXXXXX";
	if (cfg == NULL || mkdtemp(dir) == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	tk_core_cfg kc = { .map_size = 512ull << 20 };
	tk_core *k = tk_open(dir, &kc, err, sizeof err);
	if (k == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	char *doc = malloc(len + 1);
	printf("(aims: >= 5000 payments/s durable on one core; >= 0.5 of raw libxml2)\n");

	/* Baseline: libxml2 reading the same documents into a tree and freeing it. */
	double t0 = tb_now();
	for (unsigned i = 0; i < n; i++) {
		tb_doc(tmpl, len, doc, i);
		xmlDocPtr d = xmlReadMemory(doc, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
		if (d == NULL) {
			fprintf(stderr, "libxml2 refused the sample\n");
			return 1;
		}
		xmlFreeDoc(d);
	}
	double raw = n / (tb_now() - t0);

	printf("pacs.008 intake, %u payments per run, full fsync:\n", n);
	printf("  raw libxml2 parse (tree)                       %9.0f docs/s\n", raw);
	static const unsigned batches[] = { 64, 256, 1024 };
	for (unsigned r = 0; r < 3; r++)
		if (tb_run(k, cfg, tmpl, len, doc, r * n, n, batches[r], raw) != 0)
			return 1;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("  peak RSS %ld KiB\n", ru.ru_maxrss);
	tk_close(k);
	tk_config_free(cfg);
	free(doc);
	free(tmpl);
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
