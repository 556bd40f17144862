/* u256: exact 256-bit integers, as the EVM sees them, and exact decimal <-> fixed point.
 *
 * Prices, answers and token amounts travel as 256-bit integers (uint256 / int256 two's complement),
 * never as floating point. This module is the only arithmetic the project needs on them: add, sub,
 * mul, div, compare, decimal text in and out, and the conversion of an API's decimal price string
 * ("67123.45", "1.5e-3") into a fixed-point integer with a given number of decimals.
 *
 * Memory: u256 is a plain value type (4 limbs, w[0] least significant). No function allocates; every
 * output buffer is the caller's. Results may alias inputs (r == a is fine) everywhere. */
#ifndef OB_BASE_U256_H
#define OB_BASE_U256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint64_t w[4];
} u256;

void u256_zero(u256 *a);
void u256_from_u64(u256 *a, uint64_t v);
int u256_from_be(u256 *a, const uint8_t *be, size_t n); /* n <= 32, big-endian; -1 if n > 32 */
void u256_to_be(const u256 *a, uint8_t out[32]);
int u256_fits_u64(const u256 *a);
uint64_t u256_low64(const u256 *a);
int u256_is_zero(const u256 *a);
int u256_cmp(const u256 *a, const u256 *b); /* unsigned: -1,0,1 */
int i256_cmp(const u256 *a, const u256 *b); /* two's-complement signed */
int i256_is_neg(const u256 *a);
void i256_neg(u256 *r, const u256 *a);                              /* two's complement; -(-2^255) == -2^255 */
int u256_add(u256 *r, const u256 *a, const u256 *b);                /* returns carry */
int u256_sub(u256 *r, const u256 *a, const u256 *b);                /* returns borrow */
int u256_mul_u64(u256 *r, const u256 *a, uint64_t m);               /* returns 1 on overflow (r = low bits) */
uint64_t u256_divmod_u64(u256 *q, const u256 *a, uint64_t d);       /* returns remainder; d != 0; q may be NULL */
void u256_mul(u256 *r, const u256 *a, const u256 *b);               /* low 256 bits */
void u256_divmod(u256 *q, u256 *rem, const u256 *a, const u256 *b); /* b != 0; q or rem may be NULL */

/* Strict decimal text: digits only, no sign, no leading zeros except "0" itself, <= 2^256-1.
 * Returns 0, or -1 (then *a is unspecified). */
int u256_from_dec(u256 *a, const char *s, size_t n);
/* Optional leading '-', then as above; range of int256 [-2^255, 2^255-1]; "-0" is rejected. */
int i256_from_dec(u256 *a, const char *s, size_t n);
size_t u256_to_dec(const u256 *a, char out[80]); /* NUL-terminated, returns length */
size_t i256_to_dec(const u256 *a, char out[80]);

#define U256_MAX_DECIMALS 77 /* 10^77 < 2^255: the most decimals a fixed-point value may have */

/* Exact helpers for thresholds and ratios on prices (int256 in two's complement):
 * |a| and |a - b| as uint256 (exact: |-2^255| = 2^255 fits), a*ma compared with b*mb on 320 bits
 * (never wraps), and floor(num * 10^6 / den) in parts per million, saturating at UINT64_MAX
 * (den == 0: 0 when num == 0, else UINT64_MAX). */
void i256_abs(u256 *r, const u256 *a);
void i256_absdiff(u256 *r, const u256 *a, const u256 *b);
int u256_cmp_scaled(const u256 *a, uint64_t ma, const u256 *b, uint64_t mb);
uint64_t u256_ratio_ppm(const u256 *num, const u256 *den);

/* Exact decimal price to fixed point, never through a double: "1234.5678" with decimals=8 ->
 * 123456780000. Accepts an optional leading '-', digits (leading zeros allowed), optionally '.' and
 * at least one digit, and an optional exponent 'e'/'E' with optional sign ("1.5e-3", "2E+5").
 * More fractional digits than `decimals`: exact if the dropped digits are all zero, otherwise
 * rounded half-even and *inexact set to 1 (inexact may be NULL; it is set to 0 when exact).
 * Returns -1 on empty input, junk, decimals > U256_MAX_DECIMALS or a result outside int256. */
int dec_to_fixed(const char *s, size_t n, unsigned decimals, u256 *out, int *inexact);
/* The reverse: "-1234.5678", trailing fractional zeros trimmed ("12" not "12.00000000").
 * Returns the length; 0 (and "") if decimals > U256_MAX_DECIMALS. */
size_t fixed_to_dec(const u256 *v, unsigned decimals, char out[96]);

#endif
