/* payments/amount.c: exact decimal amounts and the ISO 4217 minor-units table (see amount.h).
 *
 * The table is ISO 4217 list one (active codes), checked against Debian's iso-codes 4.15 list and
 * the later amendments: HRK removed (Croatia adopted the euro in 2023), XCG (Caribbean guilder, 2025)
 * and ZWG (Zimbabwe Gold, 2024) added. Codes still listed during a changeover (ANG, BGN, SLL, ZWL)
 * are kept: a payment in them may still be in flight. Funds, metals and units of account whose
 * minor unit is "N.A." in ISO 4217 (XAU, XAG, XPD, XPT, XDR, XBA..XBD, XSU, XUA, XTS, XXX) answer
 * -1, like unknown codes: they cannot be tokenized as a currency amount. */
#include "payments/amount.h"

#include <stdio.h>
#include <string.h>

typedef struct {
	char code[4];
	signed char minor;
} am_ccy;

/* Sorted by code: looked up by binary search. */
static const am_ccy am_table[] = {
	{ "AED", 2 },  { "AFN", 2 },  { "ALL", 2 },  { "AMD", 2 },  { "ANG", 2 },  { "AOA", 2 },  { "ARS", 2 },
	{ "AUD", 2 },  { "AWG", 2 },  { "AZN", 2 },  { "BAM", 2 },  { "BBD", 2 },  { "BDT", 2 },  { "BGN", 2 },
	{ "BHD", 3 },  { "BIF", 0 },  { "BMD", 2 },  { "BND", 2 },  { "BOB", 2 },  { "BOV", 2 },  { "BRL", 2 },
	{ "BSD", 2 },  { "BTN", 2 },  { "BWP", 2 },  { "BYN", 2 },  { "BZD", 2 },  { "CAD", 2 },  { "CDF", 2 },
	{ "CHE", 2 },  { "CHF", 2 },  { "CHW", 2 },  { "CLF", 4 },  { "CLP", 0 },  { "CNY", 2 },  { "COP", 2 },
	{ "COU", 2 },  { "CRC", 2 },  { "CUC", 2 },  { "CUP", 2 },  { "CVE", 2 },  { "CZK", 2 },  { "DJF", 0 },
	{ "DKK", 2 },  { "DOP", 2 },  { "DZD", 2 },  { "EGP", 2 },  { "ERN", 2 },  { "ETB", 2 },  { "EUR", 2 },
	{ "FJD", 2 },  { "FKP", 2 },  { "GBP", 2 },  { "GEL", 2 },  { "GHS", 2 },  { "GIP", 2 },  { "GMD", 2 },
	{ "GNF", 0 },  { "GTQ", 2 },  { "GYD", 2 },  { "HKD", 2 },  { "HNL", 2 },  { "HTG", 2 },  { "HUF", 2 },
	{ "IDR", 2 },  { "ILS", 2 },  { "INR", 2 },  { "IQD", 3 },  { "IRR", 2 },  { "ISK", 0 },  { "JMD", 2 },
	{ "JOD", 3 },  { "JPY", 0 },  { "KES", 2 },  { "KGS", 2 },  { "KHR", 2 },  { "KMF", 0 },  { "KPW", 2 },
	{ "KRW", 0 },  { "KWD", 3 },  { "KYD", 2 },  { "KZT", 2 },  { "LAK", 2 },  { "LBP", 2 },  { "LKR", 2 },
	{ "LRD", 2 },  { "LSL", 2 },  { "LYD", 3 },  { "MAD", 2 },  { "MDL", 2 },  { "MGA", 2 },  { "MKD", 2 },
	{ "MMK", 2 },  { "MNT", 2 },  { "MOP", 2 },  { "MRU", 2 },  { "MUR", 2 },  { "MVR", 2 },  { "MWK", 2 },
	{ "MXN", 2 },  { "MXV", 2 },  { "MYR", 2 },  { "MZN", 2 },  { "NAD", 2 },  { "NGN", 2 },  { "NIO", 2 },
	{ "NOK", 2 },  { "NPR", 2 },  { "NZD", 2 },  { "OMR", 3 },  { "PAB", 2 },  { "PEN", 2 },  { "PGK", 2 },
	{ "PHP", 2 },  { "PKR", 2 },  { "PLN", 2 },  { "PYG", 0 },  { "QAR", 2 },  { "RON", 2 },  { "RSD", 2 },
	{ "RUB", 2 },  { "RWF", 0 },  { "SAR", 2 },  { "SBD", 2 },  { "SCR", 2 },  { "SDG", 2 },  { "SEK", 2 },
	{ "SGD", 2 },  { "SHP", 2 },  { "SLE", 2 },  { "SLL", 2 },  { "SOS", 2 },  { "SRD", 2 },  { "SSP", 2 },
	{ "STN", 2 },  { "SVC", 2 },  { "SYP", 2 },  { "SZL", 2 },  { "THB", 2 },  { "TJS", 2 },  { "TMT", 2 },
	{ "TND", 3 },  { "TOP", 2 },  { "TRY", 2 },  { "TTD", 2 },  { "TWD", 2 },  { "TZS", 2 },  { "UAH", 2 },
	{ "UGX", 0 },  { "USD", 2 },  { "USN", 2 },  { "UYI", 0 },  { "UYU", 2 },  { "UYW", 4 },  { "UZS", 2 },
	{ "VED", 2 },  { "VES", 2 },  { "VND", 0 },  { "VUV", 0 },  { "WST", 2 },  { "XAF", 0 },  { "XAG", -1 },
	{ "XAU", -1 }, { "XBA", -1 }, { "XBB", -1 }, { "XBC", -1 }, { "XBD", -1 }, { "XCD", 2 },  { "XCG", 2 },
	{ "XDR", -1 }, { "XOF", 0 },  { "XPD", -1 }, { "XPF", 0 },  { "XPT", -1 }, { "XSU", -1 }, { "XTS", -1 },
	{ "XUA", -1 }, { "XXX", -1 }, { "YER", 2 },  { "ZAR", 2 },  { "ZMW", 2 },  { "ZWG", 2 },  { "ZWL", 2 },
};

static const uint64_t am_p10[19] = {
	1ULL,
	10ULL,
	100ULL,
	1000ULL,
	10000ULL,
	100000ULL,
	1000000ULL,
	10000000ULL,
	100000000ULL,
	1000000000ULL,
	10000000000ULL,
	100000000000ULL,
	1000000000000ULL,
	10000000000000ULL,
	100000000000000ULL,
	1000000000000000ULL,
	10000000000000000ULL,
	100000000000000000ULL,
	1000000000000000000ULL,
};

static int
am_fail(char *err, size_t errlen, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return -1;
}

int
pm_amount_parse(const char *s, size_t n, char sep, pm_amount *out, char *err, size_t errlen)
{
	if (sep != '.' && sep != ',')
		return am_fail(err, errlen, "decimal separator must be '.' or ','");
	if (!s || n == 0)
		return am_fail(err, errlen, "empty amount");
	size_t sep_at = n; /* index of the separator, n when there is none */
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			continue;
		if (c == sep && sep_at == n)
			sep_at = i;
		else if (c == sep)
			return am_fail(err, errlen, "more than one decimal separator");
		else if (c == '.' || c == ',')
			return am_fail(err, errlen, "wrong decimal separator");
		else
			return am_fail(err, errlen, "amount may contain only digits and one decimal separator");
	}
	size_t int_digits = sep_at, frac = sep_at < n ? n - sep_at - 1 : 0;
	const char *fp = s + sep_at + 1;
	if (int_digits == 0)
		return am_fail(err, errlen, "no digit before the decimal separator");
	if (sep_at < n && frac == 0 && sep == '.')
		return am_fail(err, errlen, "no digit after the decimal point");
	/* Significant digits, as xs:decimal counts them on the value: without the leading zeros of the
	 * number, and with trailing fraction zeros dropped when (and only when) they alone break the
	 * 5-fraction-digit or 18-digit cap. Otherwise the written scale is kept ("1.50" stays 150/10^2). */
	size_t lz = 0;
	while (lz < int_digits && s[lz] == '0')
		lz++;
	size_t int_sig = int_digits - lz;
	size_t frac_lz = 0; /* leading zeros of the fraction, only when the integer part is zero */
	if (int_sig == 0)
		while (frac_lz < frac && fp[frac_lz] == '0')
			frac_lz++;
	size_t f = frac;
	for (;;) {
		size_t sig = int_sig + (int_sig ? f : (f > frac_lz ? f - frac_lz : 0));
		if (f > 0 && fp[f - 1] == '0' && (f > 5 || sig > 18)) {
			f--;
			continue;
		}
		if (f > 5)
			return am_fail(err, errlen, "more than 5 fraction digits");
		if (sig > 18)
			return am_fail(err, errlen, "more than 18 significant digits");
		break;
	}
	uint64_t v = 0;
	for (size_t k = lz; k < int_digits; k++)
		v = v * 10 + (uint64_t)(s[k] - '0');
	for (size_t k = 0; k < f; k++)
		v = v * 10 + (uint64_t)(fp[k] - '0');
	out->units = v;
	out->scale = (uint8_t)f;
	return 0;
}

/* The table entry of a code, or NULL. */
static const am_ccy *
am_find(const char *ccy3)
{
	if (!ccy3)
		return NULL;
	for (int i = 0; i < 3; i++)
		if (ccy3[i] < 'A' || ccy3[i] > 'Z')
			return NULL;
	size_t lo = 0, hi = sizeof am_table / sizeof am_table[0];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(ccy3, am_table[mid].code, 3);
		if (c == 0)
			return &am_table[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
pm_ccy_minor_units(const char *ccy3)
{
	const am_ccy *e = am_find(ccy3);
	return e ? e->minor : -1;
}

int
pm_ccy_listed(const char *ccy3)
{
	return am_find(ccy3) != NULL;
}

unsigned
pm_amount_decimals(const pm_amount *a)
{
	uint64_t u = a->units;
	unsigned s = a->scale;
	while (s > 0 && u % 10 == 0) {
		u /= 10;
		s--;
	}
	return s;
}

int
pm_amount_to_token_units(const pm_amount *a, unsigned minor_units, unsigned token_decimals, u256 *out)
{
	if (a->scale > 5 || a->units >= am_p10[18])
		return -1;
	unsigned d = pm_amount_decimals(a);
	if (d > minor_units || token_decimals < minor_units)
		return -1;
	uint64_t u = a->units / am_p10[a->scale - d]; /* drop the trailing zeros: exact */
	u256 r;
	u256_from_u64(&r, u);
	for (unsigned k = d; k < token_decimals; k++)
		if (u256_mul_u64(&r, &r, 10))
			return -1;
	*out = r;
	return 0;
}

int
pm_amount_format(const pm_amount *a, unsigned decimals, char *out, size_t cap)
{
	if (a->scale > 5 || a->units >= am_p10[18])
		return -1;
	if (pm_amount_decimals(a) > decimals)
		return -1;
	uint64_t ip = a->units / am_p10[a->scale], fp = a->units % am_p10[a->scale];
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)ip);
	size_t need = (size_t)n + (decimals ? 1 + decimals : 0);
	if (need + 1 > cap)
		return -1;
	memcpy(out, buf, (size_t)n);
	size_t o = (size_t)n;
	if (decimals) {
		out[o++] = '.';
		/* fraction digits as stored, left-aligned, then zeros up to `decimals` (the stored ones
		 * beyond `decimals` are zeros: checked above). */
		char fb[5];
		for (int k = a->scale - 1; k >= 0; k--, fp /= 10)
			fb[k] = (char)('0' + fp % 10);
		for (unsigned k = 0; k < decimals; k++)
			out[o++] = k < a->scale ? fb[k] : '0';
	}
	out[o] = '\0';
	return (int)o;
}
