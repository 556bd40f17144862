/* rt_buf_test.c - rt_file_read: a whole file (larger than its read chunk, with NUL bytes inside),
 * NUL-terminated; an empty file; a missing file refused with ENOENT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/rt_buf.h"

static void
test_file_read(void **st)
{
	(void)st;
	char path[] = "/tmp/rt_buf_test.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = 200000;
	unsigned char *want = malloc(n);
	assert_non_null(want);
	for (size_t i = 0; i < n; i++)
		want[i] = (unsigned char)(i * 7 + i / 251);
	assert_int_equal(write(fd, want, n), (ssize_t)n);
	size_t len = 0;
	char *got = rt_file_read(path, &len);
	assert_non_null(got);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
	assert_int_equal(got[n], '\0');
	free(got);
	assert_int_equal(ftruncate(fd, 0), 0);
	got = rt_file_read(path, &len);
	assert_non_null(got);
	assert_int_equal(len, 0);
	assert_int_equal(got[0], '\0');
	free(got);
	close(fd);
	unlink(path);
	errno = 0;
	assert_null(rt_file_read(path, &len));
	assert_int_equal(errno, ENOENT);
	free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_file_read) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
