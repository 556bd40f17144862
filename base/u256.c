/* u256: exact 256-bit unsigned / two's-complement signed arithmetic, decimal text, fixed point.
 *
 * Four 64-bit limbs, least significant first; 128-bit intermediates (unsigned __int128, which gcc and
 * clang provide on every 64-bit target) carry products and remainders. General division is
 * shift-subtract: it is only used for rare, non-hot paths (tools, tests); the hot conversions
 * (decimal text) divide by a single limb. */
#include "base/u256.h"

#include <string.h>

typedef unsigned __int128 u128;

#define P10_19 10000000000000000000ULL /* the largest power of ten in a limb */

void
u256_zero(u256 *a)
{
	memset(a, 0, sizeof *a);
}

void
u256_from_u64(u256 *a, uint64_t v)
{
	a->w[0] = v;
	a->w[1] = a->w[2] = a->w[3] = 0;
}

int
u256_from_be(u256 *a, const uint8_t *be, size_t n)
{
	if (n > 32)
		return -1;
	u256_zero(a);
	for (size_t i = 0; i < n; i++) {
		size_t bit = (n - 1 - i) * 8; /* position of this byte from the least significant end */
		a->w[bit / 64] |= (uint64_t)be[i] << (bit % 64);
	}
	return 0;
}

void
u256_to_be(const u256 *a, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		int bit = (31 - i) * 8;
		out[i] = (uint8_t)(a->w[bit / 64] >> (bit % 64));
	}
}

int
u256_fits_u64(const u256 *a)
{
	return (a->w[1] | a->w[2] | a->w[3]) == 0;
}
uint64_t
u256_low64(const u256 *a)
{
	return a->w[0];
}
int
u256_is_zero(const u256 *a)
{
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

int
u256_cmp(const u256 *a, const u256 *b)
{
	for (int i = 3; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

int
i256_is_neg(const u256 *a)
{
	return (int)(a->w[3] >> 63);
}

int
i256_cmp(const u256 *a, const u256 *b)
{
	int na = i256_is_neg(a), nb = i256_is_neg(b);
	if (na != nb)
		return na ? -1 : 1;
	return u256_cmp(a, b); /* same sign: two's complement orders like unsigned */
}

int
u256_add(u256 *r, const u256 *a, const u256 *b)
{
	u128 c = 0;
	for (int i = 0; i < 4; i++) {
		c += (u128)a->w[i] + b->w[i];
		r->w[i] = (uint64_t)c;
		c >>= 64;
	}
	return (int)c;
}

int
u256_sub(u256 *r, const u256 *a, const u256 *b)
{
	uint64_t borrow = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t x = a->w[i], y = b->w[i];
		uint64_t d = x - y - borrow;
		borrow = (x < y) || (x == y && borrow) ? 1 : 0;
		r->w[i] = d;
	}
	return (int)borrow;
}

void
i256_neg(u256 *r, const u256 *a)
{
	u256 z;
	u256_zero(&z);
	u256_sub(r, &z, a);
}

int
u256_mul_u64(u256 *r, const u256 *a, uint64_t m)
{
	u128 c = 0;
	for (int i = 0; i < 4; i++) {
		c += (u128)a->w[i] * m;
		r->w[i] = (uint64_t)c;
		c >>= 64;
	}
	return c != 0;
}

uint64_t
u256_divmod_u64(u256 *q, const u256 *a, uint64_t d)
{
	u128 rem = 0;
	u256 t;
	for (int i = 3; i >= 0; i--) {
		u128 cur = (rem << 64) | a->w[i];
		t.w[i] = (uint64_t)(cur / d);
		rem = cur % d;
	}
	if (q)
		*q = t;
	return (uint64_t)rem;
}

void
u256_mul(u256 *r, const u256 *a, const u256 *b)
{
	uint64_t t[4] = { 0, 0, 0, 0 };
	for (int i = 0; i < 4; i++) {
		u128 c = 0;
		for (int j = 0; i + j < 4; j++) {
			c += (u128)a->w[i] * b->w[j] + t[i + j];
			t[i + j] = (uint64_t)c;
			c >>= 64;
		}
	}
	memcpy(r->w, t, sizeof t);
}

static int
u256_bitlen(const u256 *a)
{
	for (int i = 3; i >= 0; i--)
		if (a->w[i])
			return i * 64 + 64 - __builtin_clzll(a->w[i]);
	return 0;
}

void
u256_divmod(u256 *q, u256 *rem, const u256 *a, const u256 *b)
{
	if (u256_fits_u64(b)) {
		u256 qq;
		uint64_t r = u256_divmod_u64(&qq, a, b->w[0]);
		if (q)
			*q = qq;
		if (rem)
			u256_from_u64(rem, r);
		return;
	}
	/* Shift-subtract, one quotient bit per step, from a's top bit down. */
	u256 qq, rr;
	u256_zero(&qq);
	u256_zero(&rr);
	for (int bit = u256_bitlen(a) - 1; bit >= 0; bit--) {
		/* rr <<= 1 | bit; rr < b < 2^256 before the shift, and b has a high limb, so no loss. */
		for (int i = 3; i > 0; i--)
			rr.w[i] = (rr.w[i] << 1) | (rr.w[i - 1] >> 63);
		rr.w[0] = (rr.w[0] << 1) | ((a->w[bit / 64] >> (bit % 64)) & 1);
		if (u256_cmp(&rr, b) >= 0) {
			u256_sub(&rr, &rr, b);
			qq.w[bit / 64] |= 1ULL << (bit % 64);
		}
	}
	if (q)
		*q = qq;
	if (rem)
		*rem = rr;
}

/* ---- decimal text ---------------------------------------------------------------------------- */

/* a = a * 10 + digit; -1 on overflow. */
static int
u256_push_digit(u256 *a, unsigned digit)
{
	u256 d;
	if (u256_mul_u64(a, a, 10))
		return -1;
	u256_from_u64(&d, digit);
	return u256_add(a, a, &d) ? -1 : 0;
}

int
u256_from_dec(u256 *a, const char *s, size_t n)
{
	u256_zero(a);
	if (n == 0 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (u256_push_digit(a, (unsigned)(s[i] - '0')))
			return -1;
	}
	return 0;
}

static const u256 I256_MIN_MAG = { { 0, 0, 0, 1ULL << 63 } }; /* |-2^255| */

int
i256_from_dec(u256 *a, const char *s, size_t n)
{
	int neg = n > 0 && s[0] == '-';
	if (u256_from_dec(a, s + neg, n - (size_t)neg))
		return -1;
	if (neg) {
		if (u256_is_zero(a) || u256_cmp(a, &I256_MIN_MAG) > 0)
			return -1;
		i256_neg(a, a);
	} else if (i256_is_neg(a)) {
		return -1;
	}
	return 0;
}

size_t
u256_to_dec(const u256 *a, char out[80])
{
	/* Peel 19-digit chunks off the bottom; at most 5 chunks (10^95 > 2^256). */
	uint64_t chunk[5];
	int nc = 0;
	u256 t = *a;
	do {
		chunk[nc++] = u256_divmod_u64(&t, &t, P10_19);
	} while (!u256_is_zero(&t));
	size_t len = 0;
	char tmp[24];
	for (int i = nc - 1; i >= 0; i--) {
		int k = 0;
		uint64_t c = chunk[i];
		do {
			tmp[k++] = (char)('0' + c % 10);
			c /= 10;
		} while (c);
		if (i != nc - 1)
			while (k < 19)
				tmp[k++] = '0'; /* inner chunks are zero-padded */
		while (k > 0)
			out[len++] = tmp[--k];
	}
	out[len] = '\0';
	return len;
}

size_t
i256_to_dec(const u256 *a, char out[80])
{
	if (!i256_is_neg(a))
		return u256_to_dec(a, out);
	u256 m;
	char tmp[80];
	i256_neg(&m, a);
	size_t n = u256_to_dec(&m, tmp); /* at most 78 digits: with '-' and NUL, 80 */
	out[0] = '-';
	memcpy(out + 1, tmp, n + 1);
	return n + 1;
}

/* ---- fixed point ------------------------------------------------------------------------------ */

int
dec_to_fixed(const char *s, size_t n, unsigned decimals, u256 *out, int *inexact)
{
	size_t i = 0, int0, int_n, frac0 = 0, frac_n = 0;
	int neg = 0;
	long exp10 = 0;

	u256_zero(out);
	if (inexact)
		*inexact = 0;
	if (decimals > U256_MAX_DECIMALS)
		return -1;
	if (i < n && s[i] == '-')
		neg = 1, i++;
	int0 = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	int_n = i - int0;
	if (int_n == 0)
		return -1;
	if (i < n && s[i] == '.') {
		frac0 = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		frac_n = i - frac0;
		if (frac_n == 0)
			return -1;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0;
		size_t e0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		e0 = i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (exp10 < 100000) /* saturate: anything this large is 0 or an overflow anyway */
				exp10 = exp10 * 10 + (s[i] - '0');
			i++;
		}
		if (i == e0)
			return -1;
		if (eneg)
			exp10 = -exp10;
	}
	if (i != n)
		return -1;

	/* Mantissa digits d[0..k) (integer then fraction part); value = D * 10^(exp10 - frac_n), and
     * the fixed-point integer is D * 10^shift with shift = decimals + exp10 - frac_n. Keep the
     * first k + shift digits; when shift < 0 the rest are dropped with half-even rounding. */
	size_t k = int_n + frac_n;
	long shift = (long)decimals + exp10 - (long)frac_n;
	long keep = (long)k + shift;
#define DIGIT(j) ((unsigned)(((size_t)(j) < int_n ? s[int0 + (j)] : s[frac0 + (j)-int_n]) - '0'))
	for (long j = 0; j < keep && (size_t)j < k; j++)
		if (u256_push_digit(out, DIGIT(j)))
			return -1;
	if (shift > 0 && !u256_is_zero(out)) {
		if (shift > 78)
			return -1;
		for (long j = 0; j < shift; j++)
			if (u256_mul_u64(out, out, 10))
				return -1;
	} else if (shift < 0) {
		long first = keep < 0 ? 0 : keep; /* index of the first dropped digit */
		unsigned round_digit = keep >= 0 ? DIGIT(first) : 0;
		int sticky = 0;
		for (size_t j = (size_t)first + (keep >= 0 ? 1 : 0); j < k; j++)
			sticky |= DIGIT(j) != 0;
		if (round_digit || sticky) {
			if (inexact)
				*inexact = 1;
			if (round_digit > 5 || (round_digit == 5 && (sticky || (out->w[0] & 1)))) {
				u256 one;
				u256_from_u64(&one, 1);
				if (u256_add(out, out, &one))
					return -1;
			}
		}
	}
#undef DIGIT
	if (neg) {
		if (u256_cmp(out, &I256_MIN_MAG) > 0)
			return -1;
		i256_neg(out, out);
	} else if (i256_is_neg(out)) {
		return -1;
	}
	return 0;
}

size_t
fixed_to_dec(const u256 *v, unsigned decimals, char out[96])
{
	char digits[80];
	size_t nd, len = 0;
	u256 m = *v;
	out[0] = '\0';
	if (decimals > U256_MAX_DECIMALS)
		return 0;
	if (i256_is_neg(v)) {
		i256_neg(&m, v);
		out[len++] = '-';
	}
	nd = u256_to_dec(&m, digits);
	if (nd <= decimals) { /* "0." then zero padding then the digits */
		out[len++] = '0';
		if (decimals) {
			out[len++] = '.';
			for (size_t j = nd; j < decimals; j++)
				out[len++] = '0';
		}
		memcpy(out + len, digits, nd);
		len += nd;
	} else {
		memcpy(out + len, digits, nd - decimals);
		len += nd - decimals;
		if (decimals) {
			out[len++] = '.';
			memcpy(out + len, digits + nd - decimals, decimals);
			len += decimals;
		}
	}
	if (decimals) { /* trim trailing fractional zeros, then a bare '.' */
		while (out[len - 1] == '0')
			len--;
		if (out[len - 1] == '.')
			len--;
	}
	out[len] = '\0';
	if (len == 2 && out[0] == '-' && out[1] == '0') /* cannot happen, but never print "-0" */
		out[0] = '0', out[1] = '\0', len = 1;
	return len;
}

/* ---- thresholds and ratios ---------------------------------------------------------------- */

void
i256_abs(u256 *r, const u256 *a)
{
	if (i256_is_neg(a))
		i256_neg(r, a); /* -(-2^255) wraps to 2^255 read unsigned: still the right magnitude */
	else
		*r = *a;
}

void
i256_absdiff(u256 *r, const u256 *a, const u256 *b)
{
	/* The true difference of two int256 lies in [0, 2^256) once ordered, so the unsigned
	 * subtraction of the larger minus the smaller is exact. */
	if (i256_cmp(a, b) >= 0)
		u256_sub(r, a, b);
	else
		u256_sub(r, b, a);
}

/* a * m as a 320-bit number, little-endian limbs. */
static void
u256_mul320(const u256 *a, uint64_t m, uint64_t out[5])
{
	unsigned __int128 carry = 0;
	for (int i = 0; i < 4; i++) {
		unsigned __int128 p = (unsigned __int128)a->w[i] * m + carry;
		out[i] = (uint64_t)p;
		carry = p >> 64;
	}
	out[4] = (uint64_t)carry;
}

int
u256_cmp_scaled(const u256 *a, uint64_t ma, const u256 *b, uint64_t mb)
{
	uint64_t x[5], y[5];
	u256_mul320(a, ma, x);
	u256_mul320(b, mb, y);
	for (int i = 4; i >= 0; i--)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

uint64_t
u256_ratio_ppm(const u256 *num, const u256 *den)
{
	static const uint64_t M = 1000000;
	u256 q, r;
	if (u256_is_zero(den))
		return u256_is_zero(num) ? 0 : UINT64_MAX;
	u256_divmod(&q, &r, num, den);
	if (!u256_fits_u64(&q) || u256_low64(&q) > (UINT64_MAX - M) / M)
		return UINT64_MAX;
	/* floor(r * 1e6 / den) < 1e6 < 2^20: find it bit by bit with exact 320-bit compares. */
	uint64_t frac = 0;
	for (int bit = 19; bit >= 0; bit--) {
		uint64_t t = frac | (uint64_t)1 << bit;
		if (u256_cmp_scaled(den, t, &r, M) <= 0)
			frac = t;
	}
	return u256_low64(&q) * M + frac;
}
