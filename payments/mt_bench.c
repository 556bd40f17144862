/* mt_bench.c: pm_mt_parse against a memchr pass over the same bytes (the baseline: reading every
 * byte once, counting line feeds), as a ratio measured in this same process (never a pass/fail on
 * time). pm_mt_parse does everything it does in service: both passes, the network rules,
 * pm_payment_validate on every payment, the sink call.
 *   rje:   every real sample of payments/testdata/mt joined as one RJE file ('$' between), repeated
 *          to about 1 MB: payments, ACKs and refusals (MT102, rule violations) as banks send them
 *   small: one real MT103 (ballerina_p212_A_B.fin) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rt_buf.h"
#include "payments/mt.h"

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
	long payments, refused;
} mb_count;

static int
count_sink(void *ctx, const pm_payment *p, const pm_error *e)
{
	mb_count *c = ctx;
	c->payments += p != NULL;
	c->refused += e != NULL;
	return 0;
}

static const char *const mb_files[] = {
	"ballerina_full.fin",       "ballerina_mt102.fin",    "ballerina_p211_C_D.fin",
	"ballerina_p212_A_B.fin",   "ballerina_p212_B_B.fin", "ballerina_p212_B_C.fin",
	"ballerina_remit.fin",      "ballerina_stp.fin",      "prowide_MT103-bulk-with-ack.rje",
	"prowide_MT103-out-ack.rje"
};

/* The samples joined by "\n$\n", repeated until at least want bytes. */
static char *
make_rje(const char *dir, size_t want, size_t *len)
{
	size_t cap = want + (1u << 20), n = 0;
	char *b = malloc(cap);
	if (!b)
		return NULL;
	while (n < want) {
		for (size_t i = 0; i < sizeof mb_files / sizeof *mb_files; i++) {
			char path[512];
			size_t fl;
			snprintf(path, sizeof path, "%s/%s", dir, mb_files[i]);
			char *f = rt_file_read(path, &fl);
			if (!f || n + fl + 3 > cap) {
				fprintf(stderr, "%s: cannot read (or too large)\n", path);
				free(f);
				free(b);
				return NULL;
			}
			memcpy(b + n, f, fl);
			n += fl;
			memcpy(b + n, "\n$\n", 3);
			n += 3;
			free(f);
		}
	}
	*len = n;
	return b;
}

static long
lines(const char *buf, size_t len)
{
	long n = 0;
	for (const char *p = buf, *e = buf + len; len && (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		n++;
	return n;
}

/* Runs both for about secs each (interleaved rounds, so a change of machine load hits both alike). */
static int
compare(const char *name, const char *buf, size_t len, double secs)
{
	double t_base = 0, t_ours = 0;
	long n_base = 0, n_ours = 0, want_lines = lines(buf, len);
	mb_count want = { 0, 0 };
	pm_mt_parse(buf, len, count_sink, &want);
	if (want.payments == 0)
		return fprintf(stderr, "%s: no payment in the input\n", name), -1;
	for (int round = 0; round < 10; round++) {
		double end = now() + secs / 10, t0;
		t0 = now();
		do {
			if (lines(buf, len) != want_lines)
				return -1;
			n_base++;
		} while (now() < end);
		t_base += now() - t0;
		end = now() + secs / 10;
		t0 = now();
		do {
			mb_count c = { 0, 0 };
			if (pm_mt_parse(buf, len, count_sink, &c) != 0 || c.payments != want.payments ||
			    c.refused != want.refused)
				return fprintf(stderr, "%s: answers changed between runs\n", name), -1;
			n_ours++;
		} while (now() < end);
		t_ours += now() - t0;
	}
	double base = n_base / t_base, ours = n_ours / t_ours;
	printf("%-6s %8zu bytes (%ld payments, %ld refused)  memchr %8.1f MB/s  pm_mt_parse %7.1f MB/s "
	       "(%5.1f ns/byte)  ratio %.4f\n",
	       name, len, want.payments, want.refused, base * (double)len / 1e6, ours * (double)len / 1e6,
	       1e9 / (ours * (double)len), ours / base);
	return 0;
}

int
main(void)
{
	const char *dir = getenv("PM_TESTDATA_MT") ? getenv("PM_TESTDATA_MT") : "payments/testdata/mt";
	size_t len;
	char *rje = make_rje(dir, 1u << 20, &len);
	if (!rje || compare("rje", rje, len, 4.0))
		return 1;
	free(rje);
	char path[512];
	snprintf(path, sizeof path, "%s/ballerina_p212_A_B.fin", dir);
	char *small = rt_file_read(path, &len);
	if (!small || compare("small", small, len, 2.0))
		return 1;
	free(small);
	return 0;
}
