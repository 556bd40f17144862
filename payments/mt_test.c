/* mt_test.c: the MT103 parser on real public samples (payments/testdata/mt, see LICENSE-NOTE there)
 * and on our own edge cases: every mandatory field missing in turn, bad 32A, bad BICs, CRLF,
 * continuation lines, RJE with a broken message in the middle, ACK/NAK, STP and REMIT rules.
 * The samples directory is $MT_TESTDATA, else payments/testdata/mt under the working directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "payments/mt.h"
#include "payments/validate.h"

/* ---- collecting sink ---------------------------------------------------------------------- */

typedef struct {
	int is_payment;
	pm_payment p;
	pm_error e;
} res;

static res R[64];
static int NR;

static int
collect(void *ctx, const pm_payment *p, const pm_error *e)
{
	(void)ctx;
	assert_true((p == NULL) != (e == NULL));
	assert_true(NR < 64);
	res *r = &R[NR++];
	memset(r, 0, sizeof *r);
	r->is_payment = p != NULL;
	if (p) {
		r->p = *p;
		pm_error ve; /* the parser's promise: every payment it hands out passes validation */
		assert_int_equal(pm_payment_validate(p, &ve), 0);
	} else {
		r->e = *e;
		assert_true(e->reason[0] && e->field[0] && e->text[0] && e->line >= 1);
	}
	return 0;
}

static int
run(const char *s, size_t n)
{
	NR = 0;
	assert_int_equal(pm_mt_parse(s, n, collect, NULL), 0);
	return NR;
}

static int
runs(const char *s)
{
	return run(s, strlen(s));
}

static void
expect_err(int i, const char *reason, const char *field, uint32_t line, const char *text)
{
	assert_true(i < NR);
	if (R[i].is_payment)
		fail_msg("result %d is a payment (%s), want error %s %s line %u", i, R[i].p.msg_id, reason, field,
		         line);
	const pm_error *e = &R[i].e;
	if (strcmp(e->reason, reason) || strcmp(e->field, field) || e->line != line || (text && !strstr(e->text, text)))
		fail_msg("result %d: got %s %s line %u '%s', want %s %s line %u '%s'", i, e->reason, e->field, e->line,
		         e->text, reason, field, line, text ? text : "");
}

static const pm_payment *
expect_pay(int i)
{
	assert_true(i < NR);
	if (!R[i].is_payment)
		fail_msg("result %d is an error: %s %s line %u: %s", i, R[i].e.reason, R[i].e.field, R[i].e.line,
		         R[i].e.text);
	return &R[i].p;
}

/* ---- our base message: lines numbered for the assertions ----------------------------------- */

static const char *const BASE[] = {
	"{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{3:{108:MUR-1}{121:e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{"
	"4:",                           /* 1 */
	":20:REF-0001",                 /* 2 */
	":23B:CRED",                    /* 3 */
	":32A:240229EUR1234,56",        /* 4 */
	":50K:/DE89370400440532013000", /* 5 */
	"JOHN DOE",                     /* 6 */
	"1 MAIN STREET",                /* 7 */
	":52A:BANKBEBB",                /* 8 */
	":57A:BANKDEFFXXX",             /* 9 */
	":59:/GB33BUKB20201555555555",  /* 10 */
	"JANE ROE",                     /* 11 */
	":70:/ROC/E2E-REF-42",          /* 12 */
	"INVOICE 2024-02",              /* 13 */
	":71A:OUR",                     /* 14 */
	"-}",                           /* 15 */
};
enum {
	NBASE = sizeof BASE / sizeof BASE[0]
};

static char MSG[8192];

/* The base message with line `at` (1-based) replaced by `with` (NULL: removed; may hold several
 * lines), line ends `eol`. A second replacement may be given (at2/with2, at2 0 for none). */
static const char *
build2(const char *eol, int at, const char *with, int at2, const char *with2)
{
	size_t o = 0;
	for (int i = 1; i <= NBASE; i++) {
		const char *l = BASE[i - 1];
		if (i == at)
			l = with;
		else if (i == at2)
			l = with2;
		if (!l)
			continue;
		o += (size_t)snprintf(MSG + o, sizeof MSG - o, "%s%s", l, i == NBASE ? "" : eol);
	}
	return MSG;
}

static const char *
build(int at, const char *with)
{
	return build2("\n", at, with, 0, NULL);
}

static void
test_base_lf_crlf(void **st)
{
	(void)st;
	assert_int_equal(runs(build(0, NULL)), 1);
	pm_payment lf = *expect_pay(0);
	assert_int_equal(lf.format, PM_FMT_MT103);
	assert_string_equal(lf.msgdef, "MT103");
	assert_string_equal(lf.msg_id, "REF-0001");
	assert_string_equal(lf.instr_id, "REF-0001");
	assert_string_equal(lf.end_to_end_id, "E2E-REF-42");
	assert_string_equal(lf.uetr, "e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10");
	assert_string_equal(lf.ccy, "EUR");
	assert_int_equal(lf.amount.units, 123456);
	assert_int_equal(lf.amount.scale, 2);
	assert_string_equal(lf.value_date, "2024-02-29");
	assert_string_equal(lf.debtor_account, "DE89370400440532013000");
	assert_string_equal(lf.debtor_name, "JOHN DOE");
	assert_string_equal(lf.debtor_agent_bic, "BANKBEBB");
	assert_string_equal(lf.creditor_account, "GB33BUKB20201555555555");
	assert_string_equal(lf.creditor_name, "JANE ROE");
	assert_string_equal(lf.creditor_agent_bic, "BANKDEFFXXX");
	assert_string_equal(lf.instg_agent_bic, "BANKBEBBXXX"); /* input: block 1 is the sender */
	assert_string_equal(lf.instd_agent_bic, "BANKDEFFXXX");
	assert_string_equal(lf.charge_bearer, "DEBT");
	assert_string_equal(lf.remittance, "/ROC/E2E-REF-42INVOICE 2024-02");
	assert_string_equal(lf.variant, "");
	assert_int_equal(lf.line, 1);
	assert_int_equal(lf.offset, 0);
	/* CRLF gives the same payment */
	assert_int_equal(runs(build2("\r\n", 0, NULL, 0, NULL)), 1);
	const pm_payment *crlf = expect_pay(0);
	assert_string_equal(crlf->msg_id, lf.msg_id);
	assert_string_equal(crlf->end_to_end_id, lf.end_to_end_id);
	assert_string_equal(crlf->uetr, lf.uetr);
	assert_int_equal(crlf->amount.units, lf.amount.units);
	assert_int_equal(crlf->amount.scale, lf.amount.scale);
	assert_string_equal(crlf->debtor_name, lf.debtor_name);
	assert_string_equal(crlf->debtor_account, lf.debtor_account);
	assert_string_equal(crlf->creditor_name, lf.creditor_name);
	assert_string_equal(crlf->creditor_account, lf.creditor_account);
	assert_string_equal(crlf->remittance, lf.remittance);
	assert_string_equal(crlf->value_date, lf.value_date);
	assert_int_equal(crlf->line, lf.line);
	/* and CRLF errors name the same lines */
	runs(build2("\r\n", 4, ":32A:241301EUR1,", 0, NULL));
	expect_err(0, "DT01", "32A", 4, "241301");
	/* charges mapping, no /ROC/, no 52A: the sender is the debtor agent */
	runs(build2("\n", 14, ":71A:SHA", 12, ":70:INVOICE 7"));
	assert_string_equal(expect_pay(0)->charge_bearer, "SHAR");
	assert_string_equal(expect_pay(0)->end_to_end_id, "NOTPROVIDED");
	runs(build2("\n", 8, NULL, 0, NULL));
	assert_string_equal(expect_pay(0)->debtor_agent_bic, "BANKBEBBXXX");
	/* an uppercase UETR is normalised */
	runs(build(
	        1,
	        "{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{3:{121:E6A2E3C6-6B3C-4C69-9D7C-2F0E1A5E9B10}}{4:"));
	assert_string_equal(expect_pay(0)->uetr, "e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10");
}

static void
test_mandatory_missing(void **st)
{
	(void)st;
	struct {
		int from, to;
		const char *field;
	} cases[] = {
		{ 2, 2, "20" }, { 3, 3, "23B" }, { 4, 4, "32A" }, { 5, 7, "50a" }, { 10, 11, "59a" }, { 14, 14, "71A" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		size_t o = 0;
		for (int i = 1; i <= NBASE; i++)
			if (i < cases[k].from || i > cases[k].to)
				o += (size_t)snprintf(MSG + o, sizeof MSG - o, "%s\n", BASE[i - 1]);
		assert_int_equal(run(MSG, o), 1);
		expect_err(0, "FF01", cases[k].field, 1, "missing");
		if (strcmp(cases[k].field, "20"))
			assert_string_equal(R[0].e.msg_id, "REF-0001"); /* ids known so far travel with the error */
		assert_string_equal(R[0].e.uetr, "e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10");
		assert_string_equal(R[0].e.msgdef, "MT103");
	}
}

static void
test_bad_32a(void **st)
{
	(void)st;
	struct {
		const char *line, *reason, *text;
	} cases[] = {
		{ ":32A:241301EUR1234,56", "DT01", "not a calendar date" },
		{ ":32A:230229EUR1234,56", "DT01", "not a calendar date" },
		{ ":32A:24022EUR1234,56", "FF01", "YYMMDD" },
		{ ":32A:240229EUR1234.56", "FF01", "no decimal comma" },
		{ ":32A:240229EUR1234", "FF01", "no decimal comma" },
		{ ":32A:240229EUR1234,567", "FF01", "3 decimals, EUR allows 2" },
		{ ":32A:240229JPY1234,5", "FF01", "JPY allows 0" },
		{ ":32A:240229XAU10,", "AM03", "not allowed in a payment" },
		{ ":32A:240229ABC10,", "AM03", "not an ISO 4217" },
		{ ":32A:240229eur10,", "FF01", "currency" },
		{ ":32A:240229EUR12345678901234,5", "FF01", "longer than 15" },
		{ ":32A:240229EUR12,3,4", "FF01", "more than one decimal separator" },
		{ ":32A:240229EUR-12,", "FF01", "only digits" },
		{ ":32A:240229EUR0,", "AM01", "zero" },
		{ ":32A:240229EUR", "FF01", "currency" },
		{ ":32A:", "FF01", "empty line" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		assert_int_equal(runs(build(4, cases[k].line)), 1);
		if (R[0].is_payment)
			fail_msg("%s accepted", cases[k].line);
		expect_err(0, cases[k].reason, "32A", 4, cases[k].text);
	}
	/* the limits themselves pass: 15 characters, BHD 3 decimals, JPY none */
	runs(build(4, ":32A:240229EUR123456789012,34"));
	assert_int_equal(expect_pay(0)->amount.units, 12345678901234ULL);
	runs(build(4, ":32A:240229BHD1,505"));
	assert_int_equal(expect_pay(0)->amount.scale, 3);
	runs(build(4, ":32A:000229JPY1000000,"));
	assert_string_equal(expect_pay(0)->value_date, "2000-02-29");
}

static void
test_bad_bic_and_account(void **st)
{
	(void)st;
	runs(build(8, ":52A:BANKBEB"));
	expect_err(0, "RC01", "52A", 8, "not a BIC");
	runs(build(9, ":57A:BANK1EFFXXX"));
	expect_err(0, "RC01", "57A", 9, "not a BIC");
	runs(build(9, ":57A:/ACC123\nbankdeff"));
	expect_err(0, "RC01", "57A", 10, "not a BIC"); /* the BIC's own line */
	runs(build(
	        1,
	        "{1:F01BANKBEBBAXXX0000000000}{2:I103BANK1EFFXXXXN}{3:{121:e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{4:"));
	expect_err(0, "RC01", "block2", 1, "receiver LT");
	runs(build(
	        1,
	        "{1:F01BANK1EBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{3:{121:e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{4:"));
	expect_err(0, "RC01", "block1", 1, "LT address");
	runs(build(10, ":59:/GB33BUKB20201555555556"));
	expect_err(0, "AC01", "59a", 10, "check digits");
	runs(build(5, ":50K:/DE8937040044053201300"));
	expect_err(0, "AC01", "50a", 5, "22 characters");
	/* a proprietary account is not an IBAN */
	runs(build(10, ":59:/00123456789012345678"));
	assert_string_equal(expect_pay(0)->creditor_account, "00123456789012345678");
	/* option A parties: the BIC, no name; option F: the 1/ lines joined */
	runs(build2("\n", 5, ":50A:/DE89370400440532013000\nBANKBEBB", 6, NULL));
	/* line 7 still holds "1 MAIN STREET" as a continuation of 50A: refused */
	expect_err(0, "FF01", "50A", 5, "option A");
	size_t o = 0;
	for (int i = 1; i <= NBASE; i++) {
		const char *l = BASE[i - 1];
		if (i == 5)
			l = ":50F:/DE89370400440532013000\n1/JOHN\n1/DOE\n2/1 MAIN STREET\n3/DE/BERLIN";
		else if (i == 6 || i == 7)
			continue;
		o += (size_t)snprintf(MSG + o, sizeof MSG - o, "%s\n", l);
	}
	run(MSG, o);
	assert_string_equal(expect_pay(0)->debtor_name, "JOHN DOE");
}

static void
test_lines_and_structure(void **st)
{
	(void)st;
	/* continuation lines: 70 takes 4 lines of 35, not 5, not 36 characters */
	runs(build(13, "LINE 2\nLINE 3\n12345678901234567890123456789012345"));
	assert_string_equal(expect_pay(0)->remittance,
	                    "/ROC/E2E-REF-42LINE 2LINE 312345678901234567890123456789012345");
	runs(build(13, "LINE 2\nLINE 3\nLINE 4\nLINE 5"));
	expect_err(0, "FF01", "70", 12, "at most 4 lines");
	runs(build(13, "123456789012345678901234567890123456"));
	expect_err(0, "FF01", "70", 13, "longer than 35");
	runs(build(13, "-LINE"));
	expect_err(0, "FF01", "70", 13, "may not start with '-'");
	runs(build(13, "BAD { CHAR"));
	expect_err(0, "FF01", "70", 13, "not in SWIFT set X");
	runs(build(13, "LINE\rTWO"));
	expect_err(0, "FF01", "70", 13, "carriage return without line feed");
	runs(build(15, "-"));
	expect_err(0, "FF01", "71A", 15, "may not start with '-'");
	runs(build(15, NULL));
	expect_err(0, "FF01", "block4", 15, "not closed");
	runs(build(2, "20:REF-0001"));
	expect_err(0, "FF01", "block4", 2, "must start with a field");
	runs(build(3, ":23:CRED"));
	expect_err(0, "FF01", "23", 3, "not part of MT103");
	runs(build(3, ":2B:CRED"));
	expect_err(0, "FF01", "block4", 3, "field tag");
	runs(build(3, ":21:OTHER\n:23B:CRED"));
	expect_err(0, "FF01", "21", 3, "not part of MT103");
	runs(build2("\n", 2, ":23B:CRED", 3, ":20:REF-0001"));
	expect_err(0, "FF01", "20", 3, "out of sequence");
	runs(build(2, ":20:REF-0001\n:20:REF-0002"));
	expect_err(0, "FF01", "20", 3, "repeated");
	runs(build(8, ":52D:SOME BANK"));
	assert_true(expect_pay(0) != NULL); /* 52D is an MT103 option */
	runs(build(8, ":52B:SOME BANK"));
	expect_err(0, "FF01", "52B", 8, "option 52B not allowed for 52a");
	runs(build(2, ":20:/REF-0001"));
	expect_err(0, "FF01", "20", 2, "start or end with '/'");
	runs(build(2, ":20:REF//0001"));
	expect_err(0, "FF01", "20", 2, "'//'");
	runs(build(2, ":20:REF-0001-TOO-LONG"));
	expect_err(0, "FF01", "20", 2, "longer than 16");
	runs(build(3, ":23B:CREDIT"));
	expect_err(0, "FF01", "23B", 3, "longer than 4");
	runs(build(3, ":23B:XXXX"));
	expect_err(0, "FF01", "23B", 3, "not CRED");
	runs(build(14, ":71A:ALL"));
	expect_err(0, "FF01", "71A", 14, "not BEN, OUR or SHA");
	/* blocks */
	runs(build(
	        1,
	        "{1:F01BANKBEBBAXXX0000000000}{2:I202BANKDEFFXXXXN}{3:{121:e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{4:"));
	expect_err(0, "FF01", "block2", 1, "MT202 is not tokenizable");
	assert_string_equal(R[0].e.msgdef, "MT202");
	runs(build(
	        1,
	        "{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{3:{121:e6a2e3c6-6b3c-1c69-9d7c-2f0e1a5e9b10}}{4:"));
	expect_err(0, "FF01", "121", 1, "not a UUID v4");
	runs(build(1, "{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{3:{999:X}{121:e6a2e3c6-6b3c-4c69-9d7c-"
	              "2f0e1a5e9b10}}{4:"));
	expect_err(0, "FF01", "block3", 1, "{999:}");
	runs(build(1, "{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{3:{119:COV}{121:e6a2e3c6-6b3c-4c69-9d7c-"
	              "2f0e1a5e9b10}}{4:"));
	expect_err(0, "FF01", "119", 1, "STP or REMIT");
	runs(build(1, "{1:F01BANKBEBBAXXX0000000000}{3:{121:e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{4:"));
	expect_err(0, "FF01", "block2", 1, "no application header");
	runs(build(
	        1,
	        "{1:F01BANKBEBBAXXX0000000000}{3:{121:e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{2:I103BANKDEFFXXXXN}{4:"));
	expect_err(0, "FF01", "block", 1, "out of order");
	runs(build(
	        1,
	        "{1:F01BANKBEBBAXXX000000000}{2:I103BANKDEFFXXXXN}{3:{121:e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{4:"));
	expect_err(0, "FF01", "block1", 1, "basic header");
	runs(build(1, "{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{3:{121:e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}"
	              "{4:X"));
	expect_err(0, "FF01", "block4", 1, "line break");
	/* output header: sender from the MIR, receiver from block 1; a bad time is refused */
	runs(build(1, "{1:F01BANKDEFFAXXX0000000000}{2:O1031200240229BANKBEBBAXXX12341234562402291201N}{3:{121:"
	              "e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{4:"));
	assert_string_equal(expect_pay(0)->instg_agent_bic, "BANKBEBBXXX");
	assert_string_equal(expect_pay(0)->instd_agent_bic, "BANKDEFFXXX");
	runs(build(1, "{1:F01BANKDEFFAXXX0000000000}{2:O1032500240229BANKBEBBAXXX12341234562402291201N}{3:{121:"
	              "e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{4:"));
	expect_err(0, "FF01", "block2", 1, "bad time");
	/* trailer, system block, line breaks between blocks */
	char buf[4096];
	snprintf(buf, sizeof buf, "%s{5:{CHK:123456789ABC}{TNG:}}{S:{SAC:}{COP:P}}", build(0, NULL));
	runs(buf);
	expect_pay(0);
	snprintf(buf, sizeof buf, "%s\n{5:{CHK:123456789ABC}}junk", build(0, NULL));
	assert_int_equal(runs(buf), 2);
	expect_pay(0);
	expect_err(1, "FF01", "rje", 16, "expected a message");
	snprintf(buf, sizeof buf, "%s{", build(0, NULL));
	runs(buf);
	expect_err(0, "FF01", "block", 15, "expected a block");
	/* empty input, separators only */
	assert_int_equal(run("", 0), 0);
	assert_int_equal(runs("\r\n$\n $ \n"), 0);
	assert_int_equal(runs("hello"), 1);
	expect_err(0, "FF01", "rje", 1, "expected a message");
	/* a NUL byte inside a value */
	char withnul[4096];
	const char *b = build(0, NULL);
	size_t bn = strlen(b);
	memcpy(withnul, b, bn);
	char *at = strstr(withnul, "JANE");
	at[1] = '\0';
	run(withnul, bn);
	expect_err(0, "FF01", "59", 11, "not in SWIFT set X");
}

static void
test_network_rules(void **st)
{
	(void)st;
	runs(build(4, ":32A:240229EUR1234,56\n:33B:USD1300,"));
	expect_err(0, "FF01", "36", 5, "D75");
	runs(build(4, ":32A:240229EUR1234,56\n:33B:USD1300,\n:36:1,053"));
	expect_pay(0);
	runs(build(4, ":32A:240229EUR1234,56\n:36:1,053"));
	expect_err(0, "FF01", "36", 5, "D75");
	runs(build(4, ":32A:240229EUR1234,56\n:33B:EUR1300,\n:36:0,"));
	expect_err(0, "FF01", "36", 6, "not zero");
	runs(build(14, ":71A:OUR\n:71F:EUR5,"));
	expect_err(0, "FF01", "71F", 15, "E13");
	runs(build(14, ":71A:SHA\n:71G:EUR5,"));
	expect_err(0, "FF01", "71G", 15, "D50");
	runs(build(14, ":71A:BEN"));
	expect_err(0, "FF01", "71F", 14, "E15");
	runs(build(14, ":71A:BEN\n:71F:EUR5,"));
	expect_err(0, "FF01", "33B", 15, "D51");
	runs(build2("\n", 4, ":32A:240229EUR1234,56\n:33B:EUR1239,56", 14, ":71A:BEN\n:71F:EUR5,\n:71F:EUR0,"));
	assert_string_equal(expect_pay(0)->charge_bearer, "CRED");
	runs(build(8, ":52A:BANKBEBB\n:56A:BANKFRPP"));
	expect_pay(0);
	runs(build2("\n", 8, ":52A:BANKBEBB\n:56A:BANKFRPP", 9, NULL));
	expect_err(0, "FF01", "56A", 9, "C81");
	runs(build(8, ":52A:BANKBEBB\n:55A:BANKFRPP"));
	expect_err(0, "FF01", "55A", 9, "E06");
	runs(build(3, ":23B:SPRI\n:23E:PHON"));
	expect_err(0, "FF01", "23E", 4, "E01");
	runs(build(3, ":23B:SSTD\n:23E:SDVA"));
	expect_err(0, "FF01", "23E", 4, "E02");
	runs(build(3, ":23B:CRED\n:23E:PHON/0123 456"));
	expect_pay(0);
	runs(build(3, ":23B:CRED\n:23E:NONE"));
	expect_err(0, "FF01", "23E", 4, "not a 23E code");
	runs(build(3, ":13C:/CLSTIME/0915+0100\n:23B:CRED"));
	expect_pay(0);
	runs(build(3, ":13C:/CLSTIME/2415+0100\n:23B:CRED"));
	expect_err(0, "FF01", "13C", 3, "time indication");
}

static const char *
hdr(const char *b3)
{
	static char h[256];
	snprintf(
	        h, sizeof h,
	        "{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{3:%s{121:e6a2e3c6-6b3c-4c69-9d7c-2f0e1a5e9b10}}{4:",
	        b3);
	return h;
}

static void
test_stp_remit(void **st)
{
	(void)st;
	runs(build(1, hdr("{119:STP}")));
	assert_string_equal(expect_pay(0)->variant, "STP");
	runs(build2("\n", 1, hdr("{119:STP}"), 8, ":52D:SOME BANK"));
	expect_err(0, "FF01", "52D", 8, "MT103 STP does not allow 52D");
	runs(build2("\n", 1, hdr("{119:STP}"), 9, ":57D:SOME BANK"));
	expect_err(0, "FF01", "57D", 9, "STP");
	runs(build2("\n", 1, hdr("{119:STP}"), 8, ":51A:BANKBEBB\n:52A:BANKBEBB"));
	expect_err(0, "FF01", "51A", 8, "STP does not allow 51A");
	runs(build2("\n", 1, hdr("{119:STP}"), 10, ":59:JANE ROE")); /* 59 without account */
	expect_err(0, "FF01", "59", 10, "E10");
	runs(build2("\n", 1, hdr("{119:STP}"), 3, ":23B:CRED\n:23E:PHOB"));
	expect_err(0, "FF01", "23E", 4, "STP allows only");
	runs(build2("\n", 1, hdr("{119:STP}"), 14, ":71A:OUR\n:72:/RETN/99"));
	expect_err(0, "FF01", "72", 15, "/REJT/ and /RETN/");
	/* REMIT: 77T instead of 70 */
	runs(build(1, hdr("{119:REMIT}")));
	expect_err(0, "FF01", "77T", 1, "mandatory");
	runs(build2("\n", 1, hdr("{119:REMIT}"), 14, ":71A:OUR\n:77T:/NARR/UNH+123A5+FINPAY:D:98A:UN'DOC+..."));
	expect_err(0, "FF01", "70", 12, "REMIT");
	size_t o = 0;
	for (int i = 1; i <= NBASE; i++) {
		const char *l = BASE[i - 1];
		if (i == 1)
			l = hdr("{119:REMIT}");
		else if (i == 12 || i == 13)
			continue;
		else if (i == 14)
			l = ":71A:OUR\n:77T:/NARR/UNH+123A5+FINPAY:D:98A:UN'DOC+...{@#_";
		o += (size_t)snprintf(MSG + o, sizeof MSG - o, "%s\n", l);
	}
	run(MSG, o);
	assert_string_equal(expect_pay(0)->variant, "REMIT");
	assert_string_equal(expect_pay(0)->end_to_end_id, "NOTPROVIDED");
	runs(build(14, ":71A:OUR\n:77T:/NARR/X"));
	expect_err(0, "FF01", "77T", 15, "only in MT103 REMIT");
}

static void
test_rje_and_ack(void **st)
{
	(void)st;
	/* three messages, the middle one broken: 2 payments and 1 error on the broken line */
	static char buf[16384];
	size_t o = 0;
	o += (size_t)snprintf(buf + o, sizeof buf - o, "%s\n$\n", build(2, ":20:FIRST"));
	o += (size_t)snprintf(buf + o, sizeof buf - o, "%s\n$\n", build(4, ":32A:240230EUR1,"));
	o += (size_t)snprintf(buf + o, sizeof buf - o, "%s\n", build(2, ":20:THIRD"));
	assert_int_equal(run(buf, o), 3);
	assert_string_equal(expect_pay(0)->msg_id, "FIRST");
	expect_err(1, "DT01", "32A", 15 + 1 + 4, "240230"); /* message 2 starts on line 17 */
	assert_string_equal(R[1].e.msg_id, "REF-0001");
	assert_string_equal(expect_pay(2)->msg_id, "THIRD");
	assert_int_equal(R[2].p.line, 33);
	/* the same with a block structure error in the middle: the third is still found */
	o = 0;
	o += (size_t)snprintf(buf + o, sizeof buf - o, "%s$", build(2, ":20:FIRST"));
	o += (size_t)snprintf(buf + o, sizeof buf - o, "%s$", build(15, "-)"));
	o += (size_t)snprintf(buf + o, sizeof buf - o, "%s", build(2, ":20:THIRD"));
	assert_int_equal(run(buf, o), 3);
	expect_pay(0);
	expect_err(1, "FF01", "71A", 15 + 15 - 1, "may not start with '-'");
	assert_string_equal(expect_pay(2)->msg_id, "THIRD");
	/* messages back to back without '$' */
	o = (size_t)snprintf(buf, sizeof buf, "%s", build(2, ":20:ONE"));
	o += (size_t)snprintf(buf + o, sizeof buf - o, "%s", build(2, ":20:TWO"));
	assert_int_equal(run(buf, o), 2);
	assert_string_equal(expect_pay(1)->msg_id, "TWO");

	/* ACK: the original is accepted; NAK: refused, naming the error code */
	const char *ack = "{1:F21BANKBEBBAXXX0000000000}{4:{177:2402291200}{451:0}}";
	o = (size_t)snprintf(buf, sizeof buf, "%s%s", ack, build(0, NULL));
	assert_int_equal(run(buf, o), 1);
	assert_int_equal(expect_pay(0)->offset, strlen(ack));
	o = (size_t)snprintf(buf, sizeof buf, "{1:F21BANKBEBBAXXX0000000000}{4:{177:2402291200}{451:1}{405:T27}}\r\n%s",
	                     build(0, NULL));
	assert_int_equal(run(buf, o), 1);
	expect_err(0, "FF01", "ack", 1, "NAK {451:1}, error T27");
	assert_string_equal(R[0].e.msg_id, "REF-0001");
	o = (size_t)snprintf(buf, sizeof buf, "{1:F21BANKBEBBAXXX0000000099}{4:{177:2402291200}{451:0}}%s",
	                     build(0, NULL));
	assert_int_equal(run(buf, o), 1);
	expect_err(0, "FF01", "ack", 1, "not this message");
	o = (size_t)snprintf(buf, sizeof buf, "{1:F21BANKBEBBAXXX0000000000}{4:{177:2402291200}{451:2}}%s\n$\n",
	                     build(0, NULL));
	o += (size_t)snprintf(buf + o, sizeof buf - o, "%s", build(2, ":20:AFTER"));
	assert_int_equal(run(buf, o), 2); /* a broken ACK takes its original with it */
	expect_err(0, "FF01", "ack", 1, "{451:}");
	assert_string_equal(expect_pay(1)->msg_id, "AFTER");
	o = (size_t)snprintf(buf, sizeof buf, "{1:F21BANKBEBBAXXX0000000000}{4:{177:2402291200}}%s", build(0, NULL));
	assert_int_equal(run(buf, o), 1);
	expect_err(0, "FF01", "ack", 1, "{177:} and {451:}");
	o = (size_t)snprintf(buf, sizeof buf, "%s\n$\n%s", ack, build(2, ":20:LATER"));
	assert_int_equal(run(buf, o), 2);
	expect_err(0, "FF01", "ack", 1, "without the original");
	assert_string_equal(expect_pay(1)->msg_id, "LATER");
	/* an ACK whose original is itself broken: one error, the original's */
	o = (size_t)snprintf(buf, sizeof buf, "%s%s", ack, build(4, ":32A:240229EUR1,123"));
	assert_int_equal(run(buf, o), 1);
	expect_err(0, "FF01", "32A", 4, "3 decimals");
	/* the sink can stop the parser */
	o = (size_t)snprintf(buf, sizeof buf, "%s%s", build(0, NULL), build(0, NULL));
	int calls = 0;
	int stop(void *ctx, const pm_payment *p, const pm_error *e);
	assert_int_equal(pm_mt_parse(buf, o, stop, &calls), 7);
	assert_int_equal(calls, 1);
}

int
stop(void *ctx, const pm_payment *p, const pm_error *e)
{
	(void)p;
	(void)e;
	(*(int *)ctx)++;
	return 7;
}

/* ---- real samples ------------------------------------------------------------------------- */

static char FILEBUF[1 << 16];

static size_t
load(const char *name)
{
	const char *dir = getenv("MT_TESTDATA");
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir ? dir : "payments/testdata/mt", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root or set MT_TESTDATA)", path);
	size_t n = fread(FILEBUF, 1, sizeof FILEBUF - 1, f);
	fclose(f);
	FILEBUF[n] = '\0'; /* for strstr in the tests; the parser gets the length */
	return n;
}

static void
test_corpus_prowide(void **st)
{
	(void)st;
	size_t n = load("prowide_MT103-out-ack.rje");
	assert_int_equal(run(FILEBUF, n), 13);
	const pm_payment *p = expect_pay(0);
	assert_string_equal(p->msg_id, "22342343");
	assert_string_equal(p->uetr, "8579f4a4-a547-463e-ae63-e7c6620d59b4");
	assert_string_equal(p->ccy, "USD");
	assert_int_equal(p->amount.units, 181428);
	assert_string_equal(p->value_date, "2019-10-14");
	assert_string_equal(p->debtor_name, "FOO CAPITAL MARKETS LP");
	assert_string_equal(p->debtor_account, "");
	assert_string_equal(p->creditor_account, "00123456789012345678");
	assert_string_equal(p->creditor_name, "MERCADOS Y GESTION DE VALORES SA");
	assert_string_equal(p->instg_agent_bic, "BBBBUS3NXXX"); /* output: the MIR's sender */
	assert_string_equal(p->instd_agent_bic, "BICFOOYYXXX");
	assert_string_equal(p->debtor_agent_bic, "BBBBUS3NXXX"); /* 52D has no BIC: the sender */
	assert_string_equal(p->charge_bearer, "SHAR");
	assert_string_equal(p->end_to_end_id, "NOTPROVIDED");
	assert_int_equal(strncmp(p->remittance, "FINDERS FEES-JULY,2007-  10.00, AUGUST,2007", 43), 0);
	/* messages 2-5 and 10: no UETR; 6-9, 12, 13: anonymised ES "IBAN"; 11: "-}{" before the '$' */
	static const struct {
		const char *reason, *field;
		uint32_t line;
		const char *id;
	} want[] = {
		{ "FF01", "121", 23, "INGDESMM" },          { "FF01", "121", 38, "INGDESMM" },
		{ "FF01", "121", 54, "FOODESMM" },          { "FF01", "121", 69, "OMF000000724103" },
		{ "AC01", "59a", 98, "530165650050" },      { "AC01", "59a", 118, "0061350113089906" },
		{ "AC01", "59a", 138, "0061350113089908" }, { "AC01", "59a", 159, "0061350113089907" },
		{ "FF01", "121", 164, "AMLX985338-D4E5E" }, { "FF01", "block", 198, "0061350113089903" },
		{ "AC01", "59a", 215, "0061350113089904" }, { "AC01", "59a", 235, "0061350113089905" },
	};
	for (int i = 0; i < 12; i++) {
		expect_err(i + 1, want[i].reason, want[i].field, want[i].line, NULL);
		assert_string_equal(R[i + 1].e.msg_id, want[i].id);
	}
	assert_true(strstr(R[5].e.text, "ES0123456789012345671234") != NULL);

	n = load("prowide_MT103-bulk-with-ack.rje");
	assert_int_equal(run(FILEBUF, n), 3);
	expect_err(0, "FF01", "121", 1, "UETR missing");
	expect_err(1, "FF01", "121", 20, "UETR missing");
	expect_err(2, "FF01", "121", 37, "UETR missing");
	assert_string_equal(R[1].e.msg_id, "C4772342333");
	/* the same file with a UETR added to the second original: its ACK is checked and it is accepted */
	char fixed[4096];
	const char *cut = strstr(FILEBUF, "{119:STP}");
	size_t head = (size_t)(cut - FILEBUF);
	memcpy(fixed, FILEBUF, head);
	int k = snprintf(fixed + head, sizeof fixed - head, "{119:STP}{121:3f1d3c8e-0a4b-4f6e-8d2a-1b2c3d4e5f60}%s",
	                 cut + 9);
	assert_int_equal(run(fixed, head + (size_t)k), 3);
	p = expect_pay(1);
	assert_string_equal(p->variant, "STP");
	assert_string_equal(p->charge_bearer, "CRED");
	assert_int_equal(p->amount.units, 132100);
	assert_int_equal(p->amount.scale, 2);
	assert_int_equal(p->line, 20);
}

static void
test_corpus_ballerina(void **st)
{
	(void)st;
	size_t n = load("ballerina_p212_A_B.fin");
	assert_int_equal(run(FILEBUF, n), 1);
	const pm_payment *p = expect_pay(0);
	assert_string_equal(p->msg_id, "A2B0506272708");
	assert_string_equal(p->end_to_end_id, "E2E04044506271305");
	assert_string_equal(p->uetr, "174c245f-2682-4291-ad67-2a41e530cd27");
	assert_string_equal(p->ccy, "USD");
	assert_int_equal(p->amount.units, 136500);
	assert_int_equal(p->amount.scale, 0);
	assert_string_equal(p->value_date, "2021-05-11");
	assert_string_equal(p->debtor_name, "GB Engineering");
	assert_string_equal(p->debtor_account, "96325874");
	assert_string_equal(p->debtor_agent_bic, "CHASGB2LXXX");
	assert_string_equal(p->creditor_name, "US Engines");
	assert_string_equal(p->creditor_account, "254178963");
	assert_string_equal(p->creditor_agent_bic, "HNBAUS51XXX");
	assert_string_equal(p->instg_agent_bic, "CHASGB2LXXX");
	assert_string_equal(p->instd_agent_bic, "CHASUS33XXX");
	assert_string_equal(p->charge_bearer, "SHAR");

	n = load("ballerina_p212_B_C.fin");
	assert_int_equal(run(FILEBUF, n), 1);
	assert_int_equal(expect_pay(0)->amount.units, 136490);

	n = load("ballerina_p211_C_D.fin");
	assert_int_equal(run(FILEBUF, n), 1);
	p = expect_pay(0);
	assert_string_equal(p->end_to_end_id, "pacs008EndToEndId-001");
	assert_string_equal(p->ccy, "EUR");
	assert_int_equal(p->amount.units, 1566938);
	assert_string_equal(p->charge_bearer, "DEBT");
	assert_string_equal(p->creditor_name, "Evli");

	n = load("ballerina_p212_B_B.fin");
	assert_int_equal(run(FILEBUF, n), 1);
	expect_err(0, "FF01", "71F", 12, "E15");

	n = load("ballerina_remit.fin");
	assert_int_equal(run(FILEBUF, n), 1);
	expect_err(0, "FF01", "121", 1, "UETR missing");
	n = load("ballerina_stp.fin");
	assert_int_equal(run(FILEBUF, n), 1);
	expect_err(0, "FF01", "121", 1, "UETR missing");
	n = load("ballerina_full.fin");
	assert_int_equal(run(FILEBUF, n), 1);
	expect_err(0, "FF01", "36", 12, "D75");
	n = load("ballerina_mt102.fin");
	assert_int_equal(run(FILEBUF, n), 1);
	expect_err(0, "FF01", "block2", 2, "MT102 is not tokenizable");
	/* all of them in one RJE file: same answers, lines shifted */
	static char all[1 << 16];
	size_t o = 0;
	static const char *const names[] = { "ballerina_p212_A_B.fin", "ballerina_p212_B_B.fin", "ballerina_full.fin",
		                             "ballerina_p211_C_D.fin" };
	for (size_t i = 0; i < 4; i++) {
		n = load(names[i]);
		memcpy(all + o, FILEBUF, n);
		o += n;
		all[o++] = '$';
	}
	assert_int_equal(run(all, o), 4);
	expect_pay(0);
	expect_err(1, "FF01", "71F", 19 + 12 - 1, "E15");
	expect_err(2, "FF01", "36", 19 + 17 - 1 + 12 - 1, "D75");
	assert_string_equal(expect_pay(3)->msg_id, "pacs8bizmsgidr03");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_lf_crlf),
		cmocka_unit_test(test_mandatory_missing),
		cmocka_unit_test(test_bad_32a),
		cmocka_unit_test(test_bad_bic_and_account),
		cmocka_unit_test(test_lines_and_structure),
		cmocka_unit_test(test_network_rules),
		cmocka_unit_test(test_stp_remit),
		cmocka_unit_test(test_rje_and_ack),
		cmocka_unit_test(test_corpus_prowide),
		cmocka_unit_test(test_corpus_ballerina),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
