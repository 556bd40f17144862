/* table_test: base/table.h against a naive model, its bound, and CLOCK's preference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/table.h"

typedef struct {
	uint64_t v;
} tv;

static void
test_put_get_del(void **state)
{
	tbl *t = tbl_new(32, sizeof(tv), 0);
	int c;
	assert_null(tbl_get(t, "a", 1));
	tv *a = tbl_put(t, "a", 1, &c);
	assert_non_null(a);
	assert_int_equal(c, 1);
	assert_int_equal(a->v, 0);
	a->v = 7;
	tv *b = tbl_put(t, "a", 1, &c);
	assert_int_equal(c, 0);
	assert_int_equal(b->v, 7);
	assert_null(tbl_put(t, "0123456789012345678901234567890123", 33, &c)); /* > key_cap */
	assert_int_equal(tbl_del(t, "a", 1), 1);
	assert_int_equal(tbl_del(t, "a", 1), 0);
	assert_int_equal(tbl_count(t), 0);
	/* a key that is a prefix of another is a different key */
	((tv *)tbl_put(t, "ab", 2, &c))->v = 1;
	((tv *)tbl_put(t, "abc", 3, &c))->v = 2;
	assert_int_equal(((tv *)tbl_get(t, "ab", 2))->v, 1);
	assert_int_equal(((tv *)tbl_get(t, "abc", 3))->v, 2);
	tbl_free(t);
}

/* Random puts and deletes against an array model: every key present in the model is found with its
 * value, every absent one is not (exercises growth and backward-shift deletion). */
static void
test_model(void **state)
{
	enum {
		K = 3000
	};
	static uint64_t model[K];
	static int present[K];
	memset(present, 0, sizeof present);
	tbl *t = tbl_new(16, sizeof(tv), 0);
	srand(1);
	for (int step = 0; step < 200000; step++) {
		int k = rand() % K, c;
		char key[16];
		int n = snprintf(key, sizeof key, "k%d", k);
		if (rand() % 3 == 0) {
			assert_int_equal(tbl_del(t, key, (size_t)n), present[k]);
			present[k] = 0;
		} else {
			tv *v = tbl_put(t, key, (size_t)n, &c);
			assert_non_null(v);
			assert_int_equal(c, !present[k]);
			v->v = model[k] = (uint64_t)step;
			present[k] = 1;
		}
	}
	size_t want = 0;
	for (int k = 0; k < K; k++) {
		char key[16];
		int n = snprintf(key, sizeof key, "k%d", k);
		tv *v = tbl_get(t, key, (size_t)n);
		if (present[k]) {
			assert_non_null(v);
			assert_int_equal(v->v, model[k]);
			want++;
		} else {
			assert_null(v);
		}
	}
	assert_int_equal(tbl_count(t), want);
	size_t it = 0, seen = 0, klen;
	const void *key;
	while (tbl_next(t, &it, &key, &klen))
		seen++;
	assert_int_equal(seen, want);
	assert_int_equal(tbl_evictions(t), 0);
	tbl_free(t);
}

/* 30,000 distinct keys into a table bounded at 1,000: never more than 1,000 entries, 29,000
 * evictions counted, and a key used all along survives (CLOCK keeps what is referenced). */
static void
test_bound_and_clock(void **state)
{
	tbl *t = tbl_new(64, sizeof(tv), 1000);
	int c;
	((tv *)tbl_put(t, "hot", 3, &c))->v = 42;
	for (int i = 0; i < 30000; i++) {
		char key[32];
		int n = snprintf(key, sizeof key, "origin-%d/topic", i);
		assert_non_null(tbl_put(t, key, (size_t)n, &c));
		assert_int_equal(c, 1);
		assert_true(tbl_count(t) <= 1000);
		tv *h = tbl_get(t, "hot", 3);
		assert_non_null(h);
		assert_int_equal(h->v, 42);
	}
	assert_int_equal(tbl_count(t), 1000);
	assert_int_equal(tbl_evictions(t), 30000 + 1 - 1000);
	tbl_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_bound_and_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
