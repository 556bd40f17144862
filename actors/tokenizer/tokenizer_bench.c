/*
 * tokenizer_bench - payments per second through the tokenizer's whole intake path on one thread, as the
 * worker does it in service: parse a pacs.008 (libxml2 SAX2, the hardened reader, validation), key,
 * mapping, content hash, the durable LMDB commit (record + open index + token.request outbox, full fsync)
 * in group commits of BATCH payments, then the token.request and token.status frames published with
 * bus_publish, signed (BIP-340, as every deployed actor signs), to a real busd (build/bin/busd, journal
 * on) over ipc://.
 *
 * Baselines, on the same documents in the same process, interleaved batch by batch with the intake (so
 * load drift on a shared machine hits both alike):
 *   tree: xmlReadMemory (NONET | NOBLANKS), tree freed: libxml2 parsing as most code uses it;
 *   sax:  xmlCreateMemoryParserCtxt + xmlParseDocument with empty SAX2 callbacks and the reader's options:
 *         the API the tokenizer uses, with nothing done per element (the stricter baseline).
 * Reports the rates and ratios (never pass/fail on time), where the intake's time goes, and the peak RSS.
 * Run from the repository root after make. argv: [sample.xml] [payments per batch size] [unsigned].
 *
 * Linked with the tokenizer's own objects (the Makefile does that for a bench in an actor's folder).
 */
#include "base/rt_buf.h"
#include "actors/tokenizer/config.h"
#include "actors/tokenizer/core.h"
#include "actors/tokenizer/intake.h"
#include "base/rt_main.h"
#include "bus/bus.h"
#include "bus/sig.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TB_UETR "174c245f-2682-4291-ad67-2a41e530cd27"

typedef struct {
	bus_pub *pub;
	size_t sent, failed;
	double t; /* seconds in bus_publish */
} tb_bus;

/* Seconds on the monotonic clock (base/rt_main.c). */
static double
tb_now(void)
{
	return (double)rt_mono_ns() / 1e9;
}

/* CPU seconds of this process (every thread: NNG's included), which waiting for the disk does not use. */
static double
tb_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What main.c's tkm_publish does: bus_publish each frame tk_commit hands over. */
static void
tb_pub(void *arg, const char *topic, const char *type, const uint8_t *id, const uint8_t *body, size_t len)
{
	tb_bus *b = arg;
	double t0 = tb_now();
	if (bus_publish(b->pub, topic, type, id, body, len, NULL) == BUS_OK)
		b->sent++;
	else
		b->failed++;
	b->t += tb_now() - t0;
}

/* The sample with its UETR replaced by the i-th one (same length). */
static void
tb_doc(const char *tmpl, size_t len, char *out, unsigned i)
{
	memcpy(out, tmpl, len);
	out[len] = '\0';
	char *u = strstr(out, TB_UETR);
	char hex[9];
	snprintf(hex, sizeof hex, "%08x", i);
	memcpy(u, hex, 8);
}

/* ---- baselines -------------------------------------------------------------------------------------- */

static int
tb_tree(const char *doc, size_t len)
{
	xmlDocPtr d = xmlReadMemory(doc, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	if (d == NULL)
		return -1;
	xmlFreeDoc(d);
	return 0;
}

static void
tb_sax_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int nb_ns, const xmlChar **ns,
             int nb_attr, int nb_def, const xmlChar **attrs)
{
	(void)local, (void)prefix, (void)uri, (void)nb_ns, (void)ns, (void)nb_attr, (void)nb_def, (void)attrs;
	++*(unsigned *)ctx;
}

static void
tb_sax_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	(void)ctx, (void)local, (void)prefix, (void)uri;
}

static void
tb_sax_chars(void *ctx, const xmlChar *ch, int len)
{
	(void)ctx, (void)ch, (void)len;
}

static void
tb_sax_serror(void *ctx, xmlErrorPtr err)
{
	(void)ctx, (void)err;
}

static const xmlSAXHandler tb_sax_handler = {
	.characters = tb_sax_chars,
	.ignorableWhitespace = tb_sax_chars,
	.initialized = XML_SAX2_MAGIC,
	.startElementNs = tb_sax_start,
	.endElementNs = tb_sax_end,
	.serror = tb_sax_serror,
};

/* libxml2's SAX2 parser over the document with callbacks that do nothing but count elements. */
static int
tb_sax(const char *doc, size_t len)
{
	unsigned elements = 0;
	xmlParserCtxtPtr c = xmlCreateMemoryParserCtxt(doc, (int)len);
	if (c == NULL)
		return -1;
	xmlSAXHandler *h = xmlMalloc(sizeof *h);
	if (h == NULL) {
		xmlFreeParserCtxt(c);
		return -1;
	}
	memcpy(h, &tb_sax_handler, sizeof *h);
	xmlFree(c->sax);
	c->sax = h;
	c->userData = &elements;
	xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlParseDocument(c);
	int ok = c->wellFormed && elements > 0;
	xmlFreeParserCtxt(c);
	return ok ? 0 : -1;
}

/* ---- the run ---------------------------------------------------------------------------------------- */

typedef struct {
	double tree, sax;                  /* baselines */
	double parse, commit, pub, intake; /* intake: parse+map, tk_commit (publish included), publish alone */
	double cpu_tree, cpu_intake;       /* CPU time of the tree baseline and of the intake */
} tb_times;

/* Payments [start, start + n) in group commits of `batch`; each batch's documents also go through both
 * baselines, alternating which runs first. */
static int
tb_run(tk_core *k, const tk_config *cfg, tb_bus *bus, const char *tmpl, size_t len, char *docs, unsigned start,
       unsigned n, unsigned batch)
{
	char err[512];
	unsigned accepted = 0, i = start;
	tb_times t = { 0 };
	size_t sent0 = bus->sent;
	double pub0 = bus->t;
	for (unsigned round = 0; i < start + n; round++) {
		unsigned m = batch < start + n - i ? batch : start + n - i;
		for (unsigned d = 0; d < m; d++)
			tb_doc(tmpl, len, docs + (size_t)d * (len + 1), i + d);
		for (int pass = 0; pass < 2; pass++) {
			if ((pass == 0) == (round % 2 == 0)) {
				double a = tb_now(), ca = tb_cpu();
				for (unsigned d = 0; d < m; d++)
					if (tb_tree(docs + (size_t)d * (len + 1), len) != 0)
						goto refused;
				double b = tb_now();
				t.cpu_tree += tb_cpu() - ca;
				for (unsigned d = 0; d < m; d++)
					if (tb_sax(docs + (size_t)d * (len + 1), len) != 0)
						goto refused;
				t.tree += b - a;
				t.sax += tb_now() - b;
				continue;
			}
			tk_batch bt = { 0 };
			double a = tb_now(), ca = tb_cpu();
			for (unsigned d = 0; d < m; d++) {
				if (tk_batch_parse(&bt, cfg, (const uint8_t *)docs + (size_t)d * (len + 1), len,
				                   "application/xml", NULL, rt_now_ns()) != 1 ||
				    bt.items[bt.n - 1]->outcome != 0) {
					fprintf(stderr, "intake refused payment %u\n", i + d);
					return -1;
				}
			}
			double c = tb_now();
			if (tk_commit(k, bt.items, bt.n, rt_now_ns(), tb_pub, bus, err, sizeof err) != 0) {
				fprintf(stderr, "commit: %s\n", err);
				return -1;
			}
			double e = tb_now();
			for (size_t x = 0; x < bt.n; x++)
				accepted += bt.items[x]->outcome == TK_NEW;
			tk_batch_free(&bt);
			t.parse += c - a;
			t.commit += e - c;
			t.intake += tb_now() - a;
			t.cpu_intake += tb_cpu() - ca;
		}
		i += m;
	}
	t.pub = bus->t - pub0;
	if (accepted != n || bus->sent - sent0 != 2 * (size_t)n) {
		fprintf(stderr, "%u of %u accepted, %zu of %u frames published\n", accepted, n, bus->sent - sent0,
		        2 * n);
		return -1;
	}
	double rate = n / t.intake;
	printf("  group commit of %4u: %6.0f payments/s = %.2f of xmlReadMemory (%6.0f docs/s), %.2f of bare SAX2 "
	       "(%6.0f docs/s)\n",
	       batch, rate, t.tree / t.intake, n / t.tree, t.sax / t.intake, n / t.sax);
	printf("                        per payment: parse+validate+map %.0f us, LMDB write+commit %.0f us, "
	       "bus_publish x2 %.0f us\n",
	       1e6 * t.parse / n, 1e6 * (t.commit - t.pub) / n, 1e6 * t.pub / n);
	printf("                        CPU per payment %.0f us (%.0f payments/s per core busy), xmlReadMemory %.0f "
	       "us: "
	       "CPU ratio %.2f\n",
	       1e6 * t.cpu_intake / n, n / t.cpu_intake, 1e6 * t.cpu_tree / n, t.cpu_tree / t.cpu_intake);
	return 0;
refused:
	fprintf(stderr, "libxml2 refused the sample\n");
	return -1;
}

/* build/bin/busd beside this binary's build/bench/... (BUILD may be another directory). */
static pid_t
tb_busd(const char *argv0, const char *in, const char *out, const char *journal)
{
	char path[512];
	const char *b = strstr(argv0, "/bench/");
	if (b)
		snprintf(path, sizeof path, "%.*s/bin/busd", (int)(b - argv0), argv0);
	else
		snprintf(path, sizeof path, "build/bin/busd");
	if (access(path, X_OK) != 0) {
		fprintf(stderr, "tokenizer_bench: %s missing (run make first, from the repository root)\n", path);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		setenv("BUSD_INGRESS", in, 1);
		setenv("BUSD_EGRESS", out, 1);
		setenv("JOURNAL_DIR", journal, 1);
		setenv("LOG_LEVEL", "error", 1);
		setenv("HTTP_PORT", "0", 1);
		execl(path, "busd", (char *)NULL);
		perror(path);
		_exit(127);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "payments/testdata/iso/ballerina_p_2_1_2_mt103_pacs_008_A_B.xml";
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 20000;
	int signed_frames = !(argc > 3 && strcmp(argv[3], "unsigned") == 0);
	size_t len;
	char *tmpl = rt_file_read(path, &len), err[512];
	if (tmpl == NULL || strstr(tmpl, TB_UETR) == NULL || n == 0) {
		fprintf(stderr, "cannot read the sample %s\n", path);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
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
	char state[sizeof dir + 16], journal[sizeof dir + 16], in[sizeof dir + 32], out[sizeof dir + 32];
	snprintf(state, sizeof state, "%s/state", dir);
	snprintf(journal, sizeof journal, "%s/journal", dir);
	snprintf(in, sizeof in, "ipc://%s/in", dir);
	snprintf(out, sizeof out, "ipc://%s/out", dir);
	pid_t busd = tb_busd(argv[0], in, out, journal);
	tb_bus bus = { .pub = bus_pub_open(in, "tokenizer-bench", err, sizeof err) };
	sig_key *key = signed_frames ? sig_key_generate() : NULL;
	tk_core_cfg kc = { .map_size = 512ull << 20 };
	tk_core *k = tk_open(state, &kc, err, sizeof err);
	int rc = 1;
	if (busd < 0 || bus.pub == NULL || k == NULL || (signed_frames && key == NULL)) {
		fprintf(stderr, "setup: %s\n", err);
		goto out;
	}
	if (key)
		bus_pub_set_key(bus.pub, key);
	if (bus_pub_wait(bus.pub, 1, 10000) != 0) {
		fprintf(stderr, "busd did not come up at %s\n", in);
		goto out;
	}
	char *docs = malloc(1024 * (len + 1));
	if (docs == NULL)
		goto out;
	printf("(aims: >= 5000 payments/s durable on one core; >= 0.5 of raw libxml2)\n");
	printf("pacs.008 (%zu bytes) intake: parse, validate, map, LMDB commit (fsync), %s bus_publish to busd "
	       "(ipc://, journal on); %u payments per run, the store growing run after run:\n",
	       len, signed_frames ? "signed" : "unsigned", n);
	static const unsigned batches[] = { 64, 256, 1024 };
	rc = 0;
	for (unsigned r = 0; r < 3 && rc == 0; r++)
		rc = tb_run(k, cfg, &bus, tmpl, len, docs, r * n, n, batches[r]) != 0;
	free(docs);
	if (bus.failed)
		printf("  %zu bus_publish calls failed\n", bus.failed);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("  peak RSS %ld KiB (this process: the documents, LMDB's dirty pages of a 1024-payment commit)\n",
	       ru.ru_maxrss);
out:
	tk_close(k);
	bus_pub_close(bus.pub);
	sig_key_free(key);
	tk_config_free(cfg);
	free(tmpl);
	if (busd > 0) {
		kill(busd, SIGTERM);
		waitpid(busd, NULL, 0);
	}
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? rc : 1;
}
