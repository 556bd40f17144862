/* payments/validate.c: BIC, IBAN, currency, date and UETR checks and the business rules
 * (validate.h). IBAN lengths: SWIFT IBAN registry (the countries that issue IBANs; French overseas
 * territories use FR IBANs). */
#include "payments/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int
va_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}
static int
va_digit(char c)
{
	return c >= '0' && c <= '9';
}
static int
va_alnum(char c)
{
	return va_upper(c) || va_digit(c);
}

int
pm_bic_valid(const char *s, size_t n)
{
	if (!s || (n != 8 && n != 11))
		return 0;
	for (size_t i = 0; i < 6; i++)
		if (!va_upper(s[i]))
			return 0;
	for (size_t i = 6; i < n; i++)
		if (!va_alnum(s[i]))
			return 0;
	return 1;
}

typedef struct {
	char cc[3];
	unsigned char len;
} va_iban_len;

static const va_iban_len va_iban[] = {
	{ "AD", 24 }, { "AE", 23 }, { "AL", 28 }, { "AT", 20 }, { "AZ", 28 }, { "BA", 20 }, { "BE", 16 }, { "BG", 22 },
	{ "BH", 22 }, { "BI", 27 }, { "BR", 29 }, { "BY", 28 }, { "CH", 21 }, { "CR", 22 }, { "CY", 28 }, { "CZ", 24 },
	{ "DE", 22 }, { "DJ", 27 }, { "DK", 18 }, { "DO", 28 }, { "EE", 20 }, { "EG", 29 }, { "ES", 24 }, { "FI", 18 },
	{ "FK", 18 }, { "FO", 18 }, { "FR", 27 }, { "GB", 22 }, { "GE", 22 }, { "GI", 23 }, { "GL", 18 }, { "GR", 27 },
	{ "GT", 28 }, { "HR", 21 }, { "HU", 28 }, { "IE", 22 }, { "IL", 23 }, { "IQ", 23 }, { "IS", 26 }, { "IT", 27 },
	{ "JO", 30 }, { "KW", 30 }, { "KZ", 20 }, { "LB", 28 }, { "LC", 32 }, { "LI", 21 }, { "LT", 20 }, { "LU", 20 },
	{ "LV", 21 }, { "LY", 25 }, { "MC", 27 }, { "MD", 24 }, { "ME", 22 }, { "MK", 19 }, { "MN", 20 }, { "MR", 27 },
	{ "MT", 31 }, { "MU", 30 }, { "NI", 28 }, { "NL", 18 }, { "NO", 15 }, { "OM", 23 }, { "PK", 24 }, { "PL", 28 },
	{ "PS", 29 }, { "PT", 25 }, { "QA", 29 }, { "RO", 24 }, { "RS", 22 }, { "RU", 33 }, { "SA", 24 }, { "SC", 31 },
	{ "SD", 18 }, { "SE", 24 }, { "SI", 19 }, { "SK", 24 }, { "SM", 27 }, { "SO", 23 }, { "ST", 25 }, { "SV", 28 },
	{ "TL", 23 }, { "TN", 24 }, { "TR", 26 }, { "UA", 29 }, { "VA", 22 }, { "VG", 24 }, { "XK", 20 }, { "YE", 30 },
};

/* Writes the reason into why (when given) and evaluates to -1. */
#define VA_WHY(...) ((why && whylen ? (void)snprintf(why, whylen, __VA_ARGS__) : (void)0), -1)

int
pm_iban_like(const char *s, size_t n)
{
	if (!s || n < 15 || n > 34 || !va_upper(s[0]) || !va_upper(s[1]) || !va_digit(s[2]) || !va_digit(s[3]))
		return 0;
	for (size_t i = 4; i < n; i++)
		if (!va_alnum(s[i]))
			return 0;
	return 1;
}

int
pm_iban_check(const char *s, size_t n, char *why, size_t whylen)
{
	if (!s || n < 5 || !va_upper(s[0]) || !va_upper(s[1]) || !va_digit(s[2]) || !va_digit(s[3]))
		return VA_WHY("IBAN must start with a country code and 2 check digits");
	char cc[3] = { s[0], s[1], 0 };
	int want = 0;
	for (size_t i = 0; i < sizeof va_iban / sizeof va_iban[0]; i++)
		if (memcmp(va_iban[i].cc, cc, 2) == 0)
			want = va_iban[i].len;
	if (!want)
		return VA_WHY("IBAN country %s is not in the IBAN registry", cc);
	if (n != (size_t)want)
		return VA_WHY("an IBAN of %s has %d characters, not %zu", cc, want, n);
	for (size_t i = 4; i < n; i++)
		if (!va_alnum(s[i]))
			return VA_WHY("IBAN may contain only A-Z and 0-9 (electronic form)");
	/* ISO 7064 mod 97-10 on BBAN + country + check digits, letters as 10..35, digit by digit. */
	unsigned r = 0;
	for (size_t k = 0; k < n; k++) {
		char c = s[(k + 4) % n];
		if (va_digit(c))
			r = (r * 10 + (unsigned)(c - '0')) % 97;
		else
			r = (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
	}
	if (r != 1)
		return VA_WHY("IBAN check digits do not match (mod 97 = %u)", r);
	return 0;
}

int
pm_ccy_known(const char *ccy3)
{
	return pm_ccy_minor_units(ccy3) >= 0;
}

static int
va_days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static int
va_num(const char *s, size_t n, unsigned *v)
{
	unsigned x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!va_digit(s[i]))
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	return 0;
}

static int
va_ymd_ok(unsigned y, unsigned m, unsigned d)
{
	return m >= 1 && m <= 12 && d >= 1 && (int)d <= va_days_in_month(y, m);
}

int
pm_date_yymmdd(const char *s, size_t n, char out[11])
{
	unsigned yy, m, d;
	if (!s || n != 6 || va_num(s, 2, &yy) || va_num(s + 2, 2, &m) || va_num(s + 4, 2, &d))
		return -1;
	unsigned y = yy >= 69 ? 1900 + yy : 2000 + yy;
	if (!va_ymd_ok(y, m, d))
		return -1;
	/* "%04u-%02u-%02u" by hand: the MT parser converts a date per header and per 32A */
	const unsigned v[3] = { y % 10000, m % 100, d % 100 };
	char *o = out;
	for (int k = 0; k < 3; k++) {
		if (k)
			*o++ = '-';
		if (k == 0) {
			*o++ = (char)('0' + v[0] / 1000);
			*o++ = (char)('0' + v[0] / 100 % 10);
		}
		*o++ = (char)('0' + v[k] / 10 % 10);
		*o++ = (char)('0' + v[k] % 10);
	}
	*o = '\0';
	return 0;
}

int
pm_date_iso_valid(const char *s, size_t n)
{
	unsigned y, m, d;
	if (!s || n != 10 || s[4] != '-' || s[7] != '-' || va_num(s, 4, &y) || va_num(s + 5, 2, &m) ||
	    va_num(s + 8, 2, &d))
		return 0;
	return y >= 1 && va_ymd_ok(y, m, d);
}

int
pm_uetr_normalise(const char *s, size_t n, char out[PM_UETR_CAP])
{
	if (!s || n != 36)
		return -1;
	char t[PM_UETR_CAP];
	for (size_t i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return -1;
		} else if (c >= 'A' && c <= 'F') {
			c = (char)(c - 'A' + 'a');
		} else if (!va_digit(c) && !(c >= 'a' && c <= 'f')) {
			return -1;
		}
		t[i] = c;
	}
	t[36] = '\0';
	if (t[14] != '4' || !(t[19] == '8' || t[19] == '9' || t[19] == 'a' || t[19] == 'b'))
		return -1;
	memcpy(out, t, PM_UETR_CAP);
	return 0;
}

int
pm_charge_bearer_valid(const char *s)
{
	return s && (!strcmp(s, "DEBT") || !strcmp(s, "CRED") || !strcmp(s, "SHAR") || !strcmp(s, "SLEV"));
}

/* Field names: the MT103 tag, or the ISO 20022 element (pacs.008 / pain.001). */
enum {
	VA_MSGID,
	VA_E2E,
	VA_CCY,
	VA_AMT,
	VA_DATE,
	VA_DBTR_ACCT,
	VA_CDTR_ACCT,
	VA_DBTR_AGT,
	VA_CDTR_AGT,
	VA_INSTG,
	VA_INSTD,
	VA_UETR,
	VA_CHRGBR,
	VA_VARIANT
};

static const char *
va_field(const pm_payment *p, int f)
{
	static const char *const mt[] = { "20",  "70",  "32A",    "32A",    "32A", "50a", "59a",
		                          "52A", "57A", "block2", "block2", "121", "71A", "119" };
	static const char *const pacs[] = { "GrpHdr/MsgId",
		                            "PmtId/EndToEndId",
		                            "IntrBkSttlmAmt/@Ccy",
		                            "IntrBkSttlmAmt",
		                            "IntrBkSttlmDt",
		                            "DbtrAcct",
		                            "CdtrAcct",
		                            "DbtrAgt/FinInstnId/BICFI",
		                            "CdtrAgt/FinInstnId/BICFI",
		                            "InstgAgt/FinInstnId/BICFI",
		                            "InstdAgt/FinInstnId/BICFI",
		                            "PmtId/UETR",
		                            "ChrgBr",
		                            "variant" };
	static const char *const pain[] = { "GrpHdr/MsgId",
		                            "PmtId/EndToEndId",
		                            "InstdAmt/@Ccy",
		                            "InstdAmt",
		                            "ReqdExctnDt",
		                            "DbtrAcct",
		                            "CdtrAcct",
		                            "DbtrAgt/FinInstnId/BICFI",
		                            "CdtrAgt/FinInstnId/BICFI",
		                            "InstgAgt/FinInstnId/BICFI",
		                            "InstdAgt/FinInstnId/BICFI",
		                            "PmtId/UETR",
		                            "ChrgBr",
		                            "variant" };
	if (p->format == PM_FMT_MT103)
		return mt[f];
	if (p->format == PM_FMT_PAIN001)
		return pain[f];
	return pacs[f];
}

static int va_fail(const pm_payment *p, pm_error *e, const char *reason, int f, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int
va_fail(const pm_payment *p, pm_error *e, const char *reason, int f, const char *fmt, ...)
{
	char text[sizeof e->text];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	pm_error_set(e, reason, va_field(p, f), p->line, p->offset, "%s", text);
	memcpy(e->msg_id, p->msg_id, sizeof e->msg_id);
	memcpy(e->instr_id, p->instr_id, sizeof e->instr_id);
	memcpy(e->end_to_end_id, p->end_to_end_id, sizeof e->end_to_end_id);
	memcpy(e->uetr, p->uetr, sizeof e->uetr);
	memcpy(e->msgdef, p->msgdef, sizeof e->msgdef);
	e->msg_id[sizeof e->msg_id - 1] = e->instr_id[sizeof e->instr_id - 1] = '\0';
	e->end_to_end_id[sizeof e->end_to_end_id - 1] = e->uetr[sizeof e->uetr - 1] = '\0';
	e->msgdef[sizeof e->msgdef - 1] = '\0';
	return -1;
}

static size_t
va_len(const char *s, size_t cap)
{
	return strnlen(s, cap);
}

static int
va_bic(const pm_payment *p, pm_error *e, const char *bic, size_t cap, int f)
{
	size_t n = va_len(bic, cap);
	if (n && !pm_bic_valid(bic, n))
		return va_fail(p, e, "RC01", f,
		               "'%.*s' is not a BIC (4 letters bank, 2 letters country, 2 letters/digits location, "
		               "optional 3 branch)",
		               (int)n, bic);
	return 0;
}

static int
va_acct(const pm_payment *p, pm_error *e, const char *acct, size_t cap, int f)
{
	size_t n = va_len(acct, cap);
	char why[96];
	if (pm_iban_like(acct, n) && pm_iban_check(acct, n, why, sizeof why))
		return va_fail(p, e, "AC01", f, "account %.*s: %s", (int)n, acct, why);
	return 0;
}

int
pm_payment_validate(const pm_payment *p, pm_error *e)
{
	int mt = p->format == PM_FMT_MT103;
	if (!va_len(p->msg_id, sizeof p->msg_id))
		return va_fail(p, e, "FF01", VA_MSGID, "message id missing");
	if (!va_len(p->end_to_end_id, sizeof p->end_to_end_id))
		return va_fail(p, e, "FF01", VA_E2E, "end-to-end id missing (use NOTPROVIDED when there is none)");
	if (!pm_ccy_listed(p->ccy) || va_len(p->ccy, sizeof p->ccy) != 3)
		return va_fail(p, e, "AM03", VA_CCY, "'%.3s' is not an ISO 4217 currency", p->ccy);
	int minor = pm_ccy_minor_units(p->ccy);
	if (minor < 0)
		return va_fail(p, e, "AM03", VA_CCY,
		               "%.3s has no minor unit (metal, fund or test code): not a currency amount", p->ccy);
	if (p->amount.units == 0)
		return va_fail(p, e, "AM01", VA_AMT, "amount is zero");
	unsigned dec = pm_amount_decimals(&p->amount);
	if (p->amount.scale > 5 || dec > (unsigned)minor)
		return va_fail(p, e, mt ? "FF01" : "AM03", VA_AMT, "amount has %u decimals, %.3s allows %d", dec,
		               p->ccy, minor);
	size_t dl = va_len(p->value_date, sizeof p->value_date);
	if (dl && !pm_date_iso_valid(p->value_date, dl))
		return va_fail(p, e, "DT01", VA_DATE, "'%.*s' is not a calendar date", (int)dl, p->value_date);
	if (va_bic(p, e, p->debtor_agent_bic, sizeof p->debtor_agent_bic, VA_DBTR_AGT) ||
	    va_bic(p, e, p->creditor_agent_bic, sizeof p->creditor_agent_bic, VA_CDTR_AGT) ||
	    va_bic(p, e, p->instg_agent_bic, sizeof p->instg_agent_bic, VA_INSTG) ||
	    va_bic(p, e, p->instd_agent_bic, sizeof p->instd_agent_bic, VA_INSTD))
		return -1;
	if (va_acct(p, e, p->debtor_account, sizeof p->debtor_account, VA_DBTR_ACCT) ||
	    va_acct(p, e, p->creditor_account, sizeof p->creditor_account, VA_CDTR_ACCT))
		return -1;
	size_t ul = va_len(p->uetr, sizeof p->uetr);
	char norm[PM_UETR_CAP];
	if (ul && (pm_uetr_normalise(p->uetr, ul, norm) || memcmp(norm, p->uetr, ul)))
		return va_fail(p, e, "FF01", VA_UETR, "UETR '%.*s' is not a lowercase UUID v4", (int)ul, p->uetr);
	int cbpr = p->format == PM_FMT_PACS008 && !strncmp(p->biz_svc, "swift.cbprplus", 14);
	if (!ul && (mt || cbpr))
		return va_fail(
		        p, e, "FF01", VA_UETR,
		        mt ? "UETR missing: MT103 needs block 3 {121:} (SWIFT gpi, mandatory for MT103 since SR2018)"
		           : "UETR missing: mandatory under CBPR+");
	size_t cl = va_len(p->charge_bearer, sizeof p->charge_bearer);
	if (cl ? !pm_charge_bearer_valid(p->charge_bearer) : (mt || p->format == PM_FMT_PACS008))
		return va_fail(p, e, "FF01", VA_CHRGBR, "charge bearer '%.*s' is not DEBT, CRED, SHAR or SLEV", (int)cl,
		               p->charge_bearer);
	size_t vl = va_len(p->variant, sizeof p->variant);
	if (vl && (!mt || (strcmp(p->variant, "STP") && strcmp(p->variant, "REMIT"))))
		return va_fail(p, e, "FF01", VA_VARIANT, "variant '%.*s' is not STP or REMIT", (int)vl, p->variant);
	return 0;
}
