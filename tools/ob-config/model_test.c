/* Unit tests of model's checks across actors, on the checked-in example (deploy/oraclebus.example.json,
 * read from the repository root where the tests run) with one value changed: the median's window
 * against every feed's heartbeat (longer: refused per feed at the heartbeat's line; equal: valid). */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_valid),
		cmocka_unit_test(test_window_above_heartbeat),
		cmocka_unit_test(test_heartbeat_below_window),
		cmocka_unit_test(test_window_equal_heartbeat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
