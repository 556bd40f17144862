/* validate_test.c: BIC, IBAN (real registry examples and broken ones), dates, UETR, and the business
 * rules of pm_payment_validate, one broken field at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "payments/validate.h"

static int
bic(const char *s)
{
	return pm_bic_valid(s, strlen(s));
}
static int
iban(const char *s, char *why, size_t n)
{
	return pm_iban_check(s, strlen(s), why, n);
}

static void
test_bic(void **st)
{
	(void)st;
	static const char *const good[] = { "DEUTDEFF",    "DEUTDEFF500", "CHASUS33XXX", "BKAUATWWEIS", "OCBCSGSG",
		                            "BICFOOYYXXX", "BBBBUS3NBXX", "ABNANL2A",    "CCCCNGLA" };
	static const char *const bad[] = { "DEUTDEF",      "DEUTDEFF5", "DEUTDEFF50",   "1EUTDEFF",
		                           "DEUTD1FF",     "deutdeff",  "DEUTDEFf",     "DEUT DEFF",
		                           "DEUTDEFF 500", "",          "DEUTDEFF500X", "DEUTDE-F" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (!bic(good[i]))
			fail_msg("%s refused", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (bic(bad[i]))
			fail_msg("%s accepted", bad[i]);
	assert_int_equal(pm_bic_valid(NULL, 8), 0);
	assert_int_equal(pm_bic_valid("DEUTDEFFXXXX", 8), 1); /* length honoured */
}

static void
test_iban(void **st)
{
	(void)st;
	/* the registry's own examples (SWIFT IBAN registry), plus the AL one from the ballerina samples */
	static const char *const good[] = {
		"DE89370400440532013000",
		"GB82WEST12345698765432",
		"GB33BUKB20201555555555",
		"FR1420041010050500013M02606",
		"NL91ABNA0417164300",
		"BE68539007547034",
		"CH9300762011623852957",
		"AL47212110090000000235698741",
		"NO9386011117947",
		"MT84MALT011000012345MTLCAST001S",
		"LC55HEMM000100010012001200023015",
		"ES9121000418450200051332",
		"IT60X0542811101000000123456",
		"SA0380000000608010167519",
		"BR1800360305000010009795493C1",
		"RU0204452560040702810412345678901",
	};
	char why[96];
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		if (iban(good[i], why, sizeof why))
			fail_msg("%s refused: %s", good[i], why);
		assert_int_equal(pm_iban_like(good[i], strlen(good[i])), 1);
	}
	struct {
		const char *s, *why;
	} bad[] = {
		{ "DE89370400440532013001", "check digits" },       /* one digit changed */
		{ "DE98370400440532013000", "check digits" },       /* check digits swapped */
		{ "DE8937040044053201300", "has 22 characters" },   /* one short */
		{ "DE893704004405320130000", "has 22 characters" }, /* one long */
		{ "ES0123456789012345671234", "check digits" },     /* prowide's anonymised account */
		{ "NE58NE0380100100130305000268",
		  "not in the IBAN registry" }, /* valid mod-97, not a registry country */
		{ "XX89370400440532013000", "not in the IBAN registry" },
		{ "de89370400440532013000", "country code" },
		{ "DE89 3704 0044 0532 0130 00", "has 22 characters" },
		{ "DE8937040044053201300-", "only A-Z and 0-9" },
		{ "D", "country code" },
		{ "DEXX370400440532013000", "country code" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		why[0] = 0;
		if (iban(bad[i].s, why, sizeof why) == 0)
			fail_msg("%s accepted", bad[i].s);
		if (!strstr(why, bad[i].why))
			fail_msg("%s: '%s' does not say '%s'", bad[i].s, why, bad[i].why);
	}
	assert_int_equal(pm_iban_check("DE89370400440532013001", 22, NULL, 0), -1); /* why may be NULL */
	assert_int_equal(pm_iban_like("12345678", 8), 0);
	assert_int_equal(pm_iban_like("DE1234", 6), 0); /* too short for an IBAN */
	assert_int_equal(pm_iban_like("/00123456789012345678", 21), 0);
	assert_int_equal(pm_iban_like("ES0123456789012345671234", 24), 1);
}

static void
test_dates(void **st)
{
	(void)st;
	char out[11];
	struct {
		const char *in, *out;
	} good[] = {
		{ "210511", "2021-05-11" }, { "000229", "2000-02-29" }, { "240229", "2024-02-29" },
		{ "690101", "1969-01-01" }, { "681231", "2068-12-31" }, { "191014", "2019-10-14" },
		{ "991231", "1999-12-31" }, { "090828", "2009-08-28" },
	};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		memset(out, 'x', sizeof out);
		assert_int_equal(pm_date_yymmdd(good[i].in, 6, out), 0);
		assert_string_equal(out, good[i].out);
		assert_int_equal(pm_date_iso_valid(out, 10), 1);
	}
	static const char *const bad[] = { "010229", "230229", "211301",  "210431", "210400", "210001",
		                           "2105a1", "21051",  "2105111", "      ", "-10511" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (pm_date_yymmdd(bad[i], strlen(bad[i]), out) == 0)
			fail_msg("%s accepted", bad[i]);
	static const char *const iso_good[] = { "2024-02-29", "2000-02-29", "2024-12-31", "0001-01-01", "1999-11-30" };
	static const char *const iso_bad[] = { "1900-02-29", "2023-02-29",    "2024-2-29",      "2024/02/29",
		                               "0000-01-01", "2024-12-32",    "2024-00-10",     "2024-04-31",
		                               "20240229",   "2024-02-29T00", "２０２４-02-29", "" };
	for (size_t i = 0; i < sizeof iso_good / sizeof *iso_good; i++)
		assert_int_equal(pm_date_iso_valid(iso_good[i], strlen(iso_good[i])), 1);
	for (size_t i = 0; i < sizeof iso_bad / sizeof *iso_bad; i++)
		if (pm_date_iso_valid(iso_bad[i], strlen(iso_bad[i])))
			fail_msg("%s accepted", iso_bad[i]);
}

static void
test_uetr(void **st)
{
	(void)st;
	char out[PM_UETR_CAP];
	const char *u = "8579f4a4-a547-463e-ae63-e7c6620d59b4";
	assert_int_equal(pm_uetr_normalise(u, 36, out), 0);
	assert_string_equal(out, u);
	assert_int_equal(pm_uetr_normalise("174C245F-2682-4291-AD67-2A41E530CD27", 36, out), 0);
	assert_string_equal(out, "174c245f-2682-4291-ad67-2a41e530cd27");
	static const char *const bad[] = {
		"8579f4a4-a547-163e-ae63-e7c6620d59b4", /* version 1 */
		"8579f4a4-a547-463e-ce63-e7c6620d59b4", /* variant c */
		"8579f4a4-a547-463e-7e63-e7c6620d59b4", /* variant 7 */
		"8579f4a4a547-463e-ae63-e7c6620d59b4x", /* hyphen missing */
		"8579f4a4-a547-463e-ae63-e7c6620d59b",  /* 35 */
		"8579f4a4-a547-463e-ae63-e7c6620d59bg", /* not hex */
		"{8579f4a4-a547-463e-ae63-e7c6620d59}", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (pm_uetr_normalise(bad[i], strlen(bad[i]), out) == 0)
			fail_msg("%s accepted", bad[i]);
}

static pm_payment
good_pacs(void)
{
	pm_payment p;
	memset(&p, 0, sizeof p);
	p.format = PM_FMT_PACS008;
	strcpy(p.msgdef, "pacs.008.001.08");
	strcpy(p.msg_id, "A2B0506272708");
	strcpy(p.instr_id, "A2B0506272708");
	strcpy(p.end_to_end_id, "E2E04044506271305");
	strcpy(p.uetr, "174c245f-2682-4291-ad67-2a41e530cd27");
	strcpy(p.ccy, "USD");
	p.amount = (pm_amount){ 13650000, 2 };
	strcpy(p.value_date, "2021-05-11");
	strcpy(p.debtor_name, "GB Engineering");
	strcpy(p.debtor_account, "GB33BUKB20201555555555");
	strcpy(p.debtor_agent_bic, "CHASGB2LXXX");
	strcpy(p.creditor_name, "US Engines");
	strcpy(p.creditor_account, "254178963");
	strcpy(p.creditor_agent_bic, "HNBAUS51");
	strcpy(p.charge_bearer, "SHAR");
	strcpy(p.biz_svc, "swift.cbprplus.03");
	p.line = 3;
	p.offset = 40;
	return p;
}

#define BROKEN(mutation, reason_, field_, text_)                                                                       \
	do {                                                                                                           \
		pm_payment p = base;                                                                                   \
		mutation;                                                                                              \
		pm_error be;                                                                                           \
		memset(&be, 0x55, sizeof be);                                                                          \
		if (pm_payment_validate(&p, &be) != -1)                                                                \
			fail_msg("accepted after: %s", #mutation);                                                     \
		if (strcmp(be.reason, reason_) || strcmp(be.field, field_) || !strstr(be.text, text_))                 \
			fail_msg("%s: got %s %s '%s'", #mutation, be.reason, be.field, be.text);                       \
		assert_int_equal(be.line, p.line);                                                                     \
		assert_string_equal(be.msg_id, p.msg_id);                                                              \
		assert_string_equal(be.uetr, p.uetr);                                                                  \
		assert_string_equal(be.end_to_end_id, p.end_to_end_id);                                                \
		assert_string_equal(be.msgdef, p.msgdef);                                                              \
	} while (0)

static void
test_rules_iso(void **st)
{
	(void)st;
	pm_payment base = good_pacs();
	pm_error e;
	assert_int_equal(pm_payment_validate(&base, &e), 0);
	BROKEN(p.amount.units = 0, "AM01", "IntrBkSttlmAmt", "zero");
	BROKEN(strcpy(p.ccy, "ABC"), "AM03", "IntrBkSttlmAmt/@Ccy", "not an ISO 4217");
	BROKEN(strcpy(p.ccy, "usd"), "AM03", "IntrBkSttlmAmt/@Ccy", "not an ISO 4217");
	BROKEN(strcpy(p.ccy, "XAU"), "AM03", "IntrBkSttlmAmt/@Ccy", "no minor unit");
	BROKEN(p.amount = ((pm_amount){ 1505, 3 }), "AM03", "IntrBkSttlmAmt", "amount has 3 decimals, USD allows 2");
	BROKEN((strcpy(p.ccy, "JPY"), p.amount = ((pm_amount){ 15, 1 })), "AM03", "IntrBkSttlmAmt", "JPY allows 0");
	BROKEN(strcpy(p.debtor_agent_bic, "CHASGB2"), "RC01", "DbtrAgt/FinInstnId/BICFI", "not a BIC");
	BROKEN(strcpy(p.creditor_agent_bic, "hnbaus51"), "RC01", "CdtrAgt/FinInstnId/BICFI", "not a BIC");
	BROKEN(strcpy(p.instg_agent_bic, "CHAS1B2L"), "RC01", "InstgAgt/FinInstnId/BICFI", "not a BIC");
	BROKEN(strcpy(p.instd_agent_bic, "ABCDEFGHIJ"), "RC01", "InstdAgt/FinInstnId/BICFI", "not a BIC");
	BROKEN(strcpy(p.debtor_account, "GB33BUKB20201555555556"), "AC01", "DbtrAcct", "check digits");
	BROKEN(strcpy(p.creditor_account, "DE8937040044053201300"), "AC01", "CdtrAcct", "22 characters");
	BROKEN(strcpy(p.value_date, "2021-02-29"), "DT01", "IntrBkSttlmDt", "not a calendar date");
	BROKEN(strcpy(p.value_date, "21-05-11"), "DT01", "IntrBkSttlmDt", "not a calendar date");
	BROKEN(p.uetr[0] = 0, "FF01", "PmtId/UETR", "mandatory under CBPR+");
	BROKEN(strcpy(p.uetr, "174C245F-2682-4291-AD67-2A41E530CD27"), "FF01", "PmtId/UETR", "lowercase UUID v4");
	BROKEN(strcpy(p.uetr, "174c245f-2682-1291-ad67-2a41e530cd27"), "FF01", "PmtId/UETR", "UUID v4");
	BROKEN(strcpy(p.charge_bearer, "SHA"), "FF01", "ChrgBr", "not DEBT, CRED, SHAR or SLEV");
	BROKEN(p.charge_bearer[0] = 0, "FF01", "ChrgBr", "not DEBT");
	BROKEN(p.msg_id[0] = 0, "FF01", "GrpHdr/MsgId", "message id missing");
	BROKEN(p.end_to_end_id[0] = 0, "FF01", "PmtId/EndToEndId", "end-to-end id missing");
	BROKEN(strcpy(p.variant, "STP"), "FF01", "variant", "STP or REMIT");

	/* outside CBPR+ the UETR is optional; a proprietary account is not an IBAN; an empty agent is fine */
	pm_payment q = base;
	q.biz_svc[0] = 0;
	q.uetr[0] = 0;
	strcpy(q.creditor_account, "ES01-not-an-iban");
	q.debtor_agent_bic[0] = 0;
	assert_int_equal(pm_payment_validate(&q, &e), 0);
	q = base;
	q.amount = (pm_amount){ 150000, 5 }; /* 1.50000: trailing zeros are not decimals */
	assert_int_equal(pm_payment_validate(&q, &e), 0);
	q = base;
	strcpy(q.ccy, "BHD");
	q.amount = (pm_amount){ 1505, 3 };
	assert_int_equal(pm_payment_validate(&q, &e), 0);

	/* pain.001: field names follow it; charge bearer optional */
	base.format = PM_FMT_PAIN001;
	base.charge_bearer[0] = 0;
	base.biz_svc[0] = 0;
	assert_int_equal(pm_payment_validate(&base, &e), 0);
	BROKEN(p.amount.units = 0, "AM01", "InstdAmt", "zero");
	BROKEN(strcpy(p.value_date, "2023-02-29"), "DT01", "ReqdExctnDt", "calendar");
}

static void
test_rules_mt(void **st)
{
	(void)st;
	pm_payment base = good_pacs();
	base.format = PM_FMT_MT103;
	strcpy(base.msgdef, "MT103");
	base.biz_svc[0] = 0;
	strcpy(base.end_to_end_id, "NOTPROVIDED");
	pm_error e;
	assert_int_equal(pm_payment_validate(&base, &e), 0);
	BROKEN(p.amount = ((pm_amount){ 1505, 3 }), "FF01", "32A", "amount has 3 decimals, USD allows 2");
	BROKEN(p.uetr[0] = 0, "FF01", "121", "block 3 {121:}");
	BROKEN(strcpy(p.creditor_account, "ES0123456789012345671234"), "AC01", "59a", "check digits");
	BROKEN(strcpy(p.debtor_account, "DE89370400440532013001"), "AC01", "50a", "check digits");
	BROKEN(strcpy(p.debtor_agent_bic, "CHASGB2"), "RC01", "52A", "not a BIC");
	BROKEN(strcpy(p.variant, "COV"), "FF01", "119", "STP or REMIT");
	BROKEN(p.amount.units = 0, "AM01", "32A", "zero");
	pm_payment q = base;
	strcpy(q.variant, "REMIT");
	assert_int_equal(pm_payment_validate(&q, &e), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bic),  cmocka_unit_test(test_iban),      cmocka_unit_test(test_dates),
		cmocka_unit_test(test_uetr), cmocka_unit_test(test_rules_iso), cmocka_unit_test(test_rules_mt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
