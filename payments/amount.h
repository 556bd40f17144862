/* payments/amount.h: exact decimal amounts, ISO 4217 minor units, and the conversion to token units.
 *
 * An amount is an unsigned decimal with at most 18 significant digits and 5 fraction digits
 * (ISO 20022 ActiveCurrencyAndAmount: xs:decimal, totalDigits 18, fractionDigits 5), held as an
 * integer count of 10^-scale units. No floating point anywhere.
 *
 * Memory: plain values; nothing allocates. */
#ifndef OB_PAYMENTS_AMOUNT_H
#define OB_PAYMENTS_AMOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

typedef struct {
	uint64_t units; /* value = units / 10^scale; < 10^18 */
	uint8_t scale;  /* fraction digits as written (trailing zeros kept): 0..5 */
} pm_amount;

/* Parses "1234.56" (sep '.') or MT's "1234,56" (sep ','): digits, at most one separator, at least one
 * digit before it (MT also allows "1234," meaning 1234). No sign, no exponent, no spaces.
 * 0, or -1 with a reason in err (errlen bytes). */
int pm_amount_parse(const char *s, size_t n, char sep, pm_amount *out, char *err, size_t errlen);

/* ISO 4217 minor units of an alphabetic code ("EUR" -> 2, "JPY" -> 0, "BHD" -> 3, "CLF" -> 4);
 * -1 for a code that is not an active currency or has no minor units (XAU, XDR, XXX, ...). */
int pm_ccy_minor_units(const char *ccy3);

/* 1 when ccy3 is on the ISO 4217 list at all, including the codes without minor units (XAU, XDR,
 * XXX, ...); 0 otherwise. Both functions read exactly 3 bytes (no NUL needed after them) and stop at
 * the first one outside 'A'..'Z'. */
int pm_ccy_listed(const char *ccy3);

/* The amount's fraction digits without trailing zeros (1.50 -> 1). */
unsigned pm_amount_decimals(const pm_amount *a);

/* amount x 10^(token_decimals - minor_units), exactly. -1 when the amount has more significant
 * fraction digits than minor_units, when token_decimals < minor_units, or on overflow. */
int pm_amount_to_token_units(const pm_amount *a, unsigned minor_units, unsigned token_decimals, u256 *out);

/* Writes the amount with exactly `decimals` fraction digits and '.' ("1234.50"); returns the length or
 * -1 when cap is too small or the amount needs more digits than `decimals`. */
int pm_amount_format(const pm_amount *a, unsigned decimals, char *out, size_t cap);

#endif
