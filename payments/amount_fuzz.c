/* amount_fuzz.c: libFuzzer: pm_amount_parse agrees with a naive reference (u256's dec_to_fixed on
 * the same text), format -> parse round trips, and pm_amount_to_token_units equals the decimal
 * string computation "integer digits + fraction digits + zeros" read by u256_from_dec.
 * Input: byte 0 picks the separator and the minor units / token decimals, the rest is the amount. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payments/amount.h"
#include "base/u256.h"

static int
fz_syntax_ok(const char *s, size_t n, char sep)
{
	size_t seps = 0, before = 0, after = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == sep)
			seps++;
		else if (s[i] >= '0' && s[i] <= '9')
			*(seps ? &after : &before) += 1;
		else
			return 0;
	}
	return seps <= 1 && before > 0 && !(sep == '.' && seps == 1 && after == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 200)
		return 0;
	char sep = (data[0] & 1) ? ',' : '.';
	unsigned minor = (data[0] >> 1) & 7;  /* 0..7: beyond 5 tests the refusals too */
	unsigned tokdec = (data[0] >> 4) * 5; /* 0..75 */
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	pm_amount a;
	char err[80];
	int rc = pm_amount_parse(s, n, sep, &a, err, sizeof err);

	/* reference value x 10^5 through u256 (it takes '.' and leading zeros; its own extras, sign and
	 * exponent, are excluded by fz_syntax_ok) */
	char t[256];
	memcpy(t, s, n);
	for (size_t i = 0; i < n; i++)
		if (t[i] == ',')
			t[i] = '.';
	size_t tn = n;
	if (tn && t[tn - 1] == '.')
		tn--; /* MT "1234," */
	int syntax = fz_syntax_ok(s, n, sep);
	u256 ref;
	int inexact = 1;
	int refok = syntax && dec_to_fixed(t, tn, 5, &ref, &inexact) == 0;
	u256 cap;
	u256_from_dec(&cap, "100000000000000000000000", 24); /* 10^18 x 10^5 */
	if (rc == 0) {
		if (!syntax || !refok || inexact || a.scale > 5 || a.units >= 1000000000000000000ULL)
			abort();
		u256 mine;
		u256_from_u64(&mine, a.units);
		for (unsigned k = a.scale; k < 5; k++)
			u256_mul_u64(&mine, &mine, 10);
		if (u256_cmp(&mine, &ref) != 0)
			abort();
	} else {
		if (!err[0])
			abort();
		/* refused although the text is well formed: only for > 5 significant fraction digits
		 * or > 18 significant digits (value >= 10^18 at its own scale) */
		if (syntax && refok && !inexact && u256_cmp(&ref, &cap) < 0) {
			/* value < 10^18 with <= 5 decimals: accepted unless it needs > 18 digits at its scale */
			u256 q = ref;
			unsigned d = 5;
			while (d > 0 && u256_divmod_u64(NULL, &q, 10) == 0) {
				u256_divmod_u64(&q, &q, 10);
				d--;
			}
			u256 lim;
			u256_from_u64(&lim, 1000000000000000000ULL);
			if (u256_cmp(&q, &lim) < 0)
				abort();
		}
		return 0;
	}

	/* format with the written scale and parse back */
	char f[64];
	int fn = pm_amount_format(&a, a.scale, f, sizeof f);
	if (fn <= 0)
		abort();
	pm_amount b;
	if (pm_amount_parse(f, (size_t)fn, '.', &b, NULL, 0) || b.units != a.units || b.scale != a.scale)
		abort();
	/* format with too few decimals is refused exactly when the amount needs more */
	unsigned d = pm_amount_decimals(&a);
	if (d > 0 && pm_amount_format(&a, d - 1, f, sizeof f) != -1)
		abort();

	/* token units against the string computation */
	u256 got;
	int tr = pm_amount_to_token_units(&a, minor, tokdec, &got);
	fn = pm_amount_format(&a, d, f, sizeof f);
	char digits[160];
	size_t dn = 0;
	for (int i = 0; i < fn; i++)
		if (f[i] != '.')
			digits[dn++] = f[i];
	int expect_ok = d <= minor && tokdec >= minor;
	if (expect_ok) {
		for (unsigned k = d; k < tokdec; k++)
			digits[dn++] = '0';
		size_t lz = 0;
		while (lz + 1 < dn && digits[lz] == '0')
			lz++;
		u256 want;
		if (u256_from_dec(&want, digits + lz, dn - lz) != 0) {
			if (tr != -1) /* > 2^256 - 1 */
				abort();
		} else if (tr != 0 || u256_cmp(&got, &want) != 0) {
			abort();
		}
	} else if (tr != -1) {
		abort();
	}
	return 0;
}
