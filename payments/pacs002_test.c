/* pacs002_test.c: the pacs.002.001.10 writer: golden outputs (payments/testdata/iso/pacs002_*.xml), every
 * output checked by libxml2 against the schema subset (pacs.002.001.10-subset.xsd, see its header for
 * its source), a mutated document that the schema must reject (the check can fail), text escaping and
 * splitting without loss, and the refusals that keep invalid reports from being written.
 * Test data is read from $PM_TESTDATA, else payments/testdata/iso under the working directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "payments/iso20022.h"
#include "payments/pacs002.h"

static const char *
dir(void)
{
	return getenv("PM_TESTDATA") ? getenv("PM_TESTDATA") : "payments/testdata/iso";
}

static char *
slurp(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir(), name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return b;
}

/* ---- schema check ----------------------------------------------------------------------------- */

static xmlSchemaPtr schema;

static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

static int
setup(void **s)
{
	(void)s;
	char path[512];
	snprintf(path, sizeof path, "%s/pacs.002.001.10-subset.xsd", dir());
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
	assert_non_null(pc);
	schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	assert_non_null(schema);
	return 0;
}

static int
teardown(void **s)
{
	(void)s;
	xmlSchemaFree(schema);
	return 0;
}

/* 0 when the document is well-formed and valid against the subset. */
static int
validate(const char *xml, size_t n)
{
	xmlDocPtr doc =
	        xmlReadMemory(xml, (int)n, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -1;
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	xmlSchemaSetValidErrors(vc, quiet, quiet, NULL);
	int rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- fixtures --------------------------------------------------------------------------------- */

static int
first_payment(void *ctx, const pm_payment *p, const pm_error *e)
{
	(void)e;
	if (p)
		*(pm_payment *)ctx = *p;
	return 0;
}

static pm_payment
sample_payment(void)
{
	size_t n;
	char *b = slurp("ballerina_p_2_1_2_mt103_pacs_008_A_B.xml", &n);
	pm_payment p;
	memset(&p, 0, sizeof p);
	assert_int_equal(pm_xml_parse(b, n, NULL, first_payment, &p), 0);
	free(b);
	assert_string_equal(p.uetr, "174c245f-2682-4291-ad67-2a41e530cd27");
	return p;
}

static int
write_ok(const pm_status_report *r, char *out, size_t cap)
{
	char err[160] = "";
	int n = pm_pacs002_write(r, out, cap, err, sizeof err);
	if (n < 0)
		fail_msg("write refused: %s", err);
	assert_int_equal((size_t)n, strlen(out));
	return n;
}

/* PM_GOLDEN_UPDATE=1 rewrites the golden files from the output (review the diff before committing). */
static void
golden(const char *name, const char *got)
{
	if (getenv("PM_GOLDEN_UPDATE")) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir(), name);
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	char *want = slurp(name, NULL);
	if (strcmp(want, got))
		fail_msg("%s differs; got:\n%s", name, got);
	free(want);
}

static xmlNodePtr
find(xmlNodePtr n, const char *name)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name))
			return n;
		xmlNodePtr c = find(n->children, name);
		if (c)
			return c;
	}
	return NULL;
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void
test_golden_accepted(void **s)
{
	(void)s;
	pm_payment p = sample_payment();
	pm_status_report r;
	pm_status_from_payment(&r, &p);
	assert_string_equal(r.instg_agt_bic, "CHASUS33XXX"); /* the report goes back: agents swap */
	assert_string_equal(r.instd_agt_bic, "CHASGB2LXXX");
	snprintf(r.msg_id, sizeof r.msg_id, "TOK-0001");
	snprintf(r.cre_dt_tm, sizeof r.cre_dt_tm, "2026-12-06T09:40:19Z");
	memcpy(r.tx_sts, "ACSC", 5);
	char out[4096];
	int n = write_ok(&r, out, sizeof out);
	golden("pacs002_acsc.xml", out);
	assert_int_equal(validate(out, (size_t)n), 0);
}

static void
test_golden_rejected(void **s)
{
	(void)s;
	pm_error e;
	memset(&e, 0, sizeof e);
	snprintf(e.reason, sizeof e.reason, "AM03");
	snprintf(e.field, sizeof e.field, "CdtTrfTxInf/IntrBkSttlmAmt");
	snprintf(e.text, sizeof e.text,
	         "currency 'XAU' has no minor units & cannot be tokenized <pool: none>; the amount 12.345 was "
	         "read exactly but refused by the validator (r\xc3\xa9gle 7)");
	snprintf(e.msg_id, sizeof e.msg_id, "M&1");
	snprintf(e.msgdef, sizeof e.msgdef, "pacs.008.001.08");
	snprintf(e.end_to_end_id, sizeof e.end_to_end_id, "E2E<1>");
	snprintf(e.uetr, sizeof e.uetr, "174c245f-2682-4291-ad67-2a41e530cd27");
	pm_status_report r;
	pm_status_from_error(&r, &e);
	assert_string_equal(r.tx_sts, "RJCT");
	assert_string_equal(r.reason, "AM03");
	snprintf(r.msg_id, sizeof r.msg_id, "TOK-0002");
	snprintf(r.cre_dt_tm, sizeof r.cre_dt_tm, "2026-12-06T09:41:00.123+01:00");
	snprintf(r.instg_agt_bic, sizeof r.instg_agt_bic, "TOKNDEFFXXX");
	char out[4096];
	int n = write_ok(&r, out, sizeof out);
	golden("pacs002_rjct.xml", out);
	assert_int_equal(validate(out, (size_t)n), 0);

	/* nothing of the text is lost: the AddtlInf parts read back are the original, unescaped */
	xmlDocPtr doc = xmlReadMemory(out, n, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	char back[512] = "";
	int parts = 0;
	xmlNodePtr sts = find(xmlDocGetRootElement(doc), "StsRsnInf");
	assert_non_null(sts);
	for (xmlNodePtr c = sts->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "AddtlInf")) {
			xmlChar *t = xmlNodeGetContent(c);
			assert_true(xmlUTF8Strlen(t) <= 105);
			strcat(back, (const char *)t);
			xmlFree(t);
			parts++;
		}
	xmlFreeDoc(doc);
	assert_int_equal(parts, 2);
	assert_string_equal(back, r.addtl_inf);
}

/* Every status, with and without the optional parts, gives a valid report. */
static void
test_all_statuses_valid(void **s)
{
	(void)s;
	const char *sts[] = { "ACTC", "ACSP", "ACSC", "PDNG", "RJCT" };
	for (size_t i = 0; i < 5; i++)
		for (int full = 0; full < 2; full++) {
			pm_status_report r;
			memset(&r, 0, sizeof r);
			snprintf(r.msg_id, sizeof r.msg_id, "R%zu", i);
			snprintf(r.orgnl_msg_id, sizeof r.orgnl_msg_id, "O");
			snprintf(r.orgnl_msg_nm_id, sizeof r.orgnl_msg_nm_id, "MT103");
			memcpy(r.tx_sts, sts[i], 5);
			if (full || i == 4)
				snprintf(r.reason, sizeof r.reason, "NARR");
			if (full) {
				snprintf(r.orgnl_instr_id, sizeof r.orgnl_instr_id, "I");
				snprintf(r.orgnl_end_to_end_id, sizeof r.orgnl_end_to_end_id, "E");
				snprintf(r.orgnl_uetr, sizeof r.orgnl_uetr, "8a562c67-ca16-48ba-b074-65581be6f001");
				snprintf(r.addtl_inf, sizeof r.addtl_inf, "x");
				snprintf(r.instg_agt_bic, sizeof r.instg_agt_bic, "AAAABBCC");
				snprintf(r.instd_agt_bic, sizeof r.instd_agt_bic, "AAAABBCC123");
			}
			char out[4096];
			int n = write_ok(&r, out, sizeof out); /* cre_dt_tm "" = now */
			if (validate(out, (size_t)n) != 0)
				fail_msg("invalid report:\n%s", out);
		}
}

/* The schema check can fail: the golden with two elements swapped, or a lowercase BIC, is invalid. */
static void
test_schema_rejects_mutations(void **s)
{
	(void)s;
	size_t n;
	char *g = slurp("pacs002_acsc.xml", &n);
	assert_int_equal(validate(g, n), 0);
	char *m = strdup(g);
	char *u = strstr(m, "    <OrgnlUETR>"), *t = strstr(m, "    <TxSts>");
	assert_true(u && t && u < t);
	size_t ul = (size_t)(strchr(u, '\n') - u) + 1, tl = (size_t)(strchr(t, '\n') - t) + 1;
	char tmp[256];
	memcpy(tmp, u, ul + tl); /* OrgnlUETR line then TxSts line: write them back swapped */
	memcpy(u, tmp + ul, tl);
	memcpy(u + tl, tmp, ul);
	assert_int_not_equal(validate(m, n), 0);
	free(m);
	m = strdup(g);
	char *b = strstr(m, "CHASUS33XXX");
	b[0] = 'c';
	assert_int_not_equal(validate(m, n), 0);
	free(m);
	free(g);
}

static void
refuse(const pm_status_report *r, const char *word)
{
	char out[4096], err[160] = "";
	assert_int_equal(pm_pacs002_write(r, out, sizeof out, err, sizeof err), -1);
	if (!strstr(err, word))
		fail_msg("'%s' does not mention '%s'", err, word);
}

static void
test_refusals(void **s)
{
	(void)s;
	pm_status_report ok, r;
	memset(&ok, 0, sizeof ok);
	snprintf(ok.msg_id, sizeof ok.msg_id, "R");
	snprintf(ok.orgnl_msg_id, sizeof ok.orgnl_msg_id, "O");
	snprintf(ok.orgnl_msg_nm_id, sizeof ok.orgnl_msg_nm_id, "pacs.008.001.08");
	memcpy(ok.tx_sts, "ACTC", 5);
	char out[4096];
	write_ok(&ok, out, sizeof out);

	r = ok, r.msg_id[0] = 0, refuse(&r, "msg_id");
	r = ok, memset(r.msg_id, 'M', 35), r.msg_id[35] = 0;
	write_ok(&r, out, sizeof out); /* 35 is fine */
	r = ok, r.orgnl_msg_id[0] = 0, refuse(&r, "orgnl_msg_id");
	r = ok, memcpy(r.tx_sts, "ACCP", 5), refuse(&r, "tx_sts");
	r = ok, memcpy(r.tx_sts, "RJCT", 5), refuse(&r, "reason");
	r = ok, memcpy(r.reason, "am03", 5), refuse(&r, "reason");
	r = ok, snprintf(r.orgnl_uetr, sizeof r.orgnl_uetr, "174C245F-2682-4291-AD67-2A41E530CD27"),
	refuse(&r, "UUIDv4");
	r = ok, snprintf(r.orgnl_uetr, sizeof r.orgnl_uetr, "174c245f-2682-1291-ad67-2a41e530cd27"),
	refuse(&r, "UUIDv4");
	r = ok, snprintf(r.cre_dt_tm, sizeof r.cre_dt_tm, "2026-12-06 09:40:19"), refuse(&r, "cre_dt_tm");
	r = ok, snprintf(r.cre_dt_tm, sizeof r.cre_dt_tm, "2026-12-06T09:40:19+0100"), refuse(&r, "cre_dt_tm");
	r = ok, snprintf(r.instg_agt_bic, sizeof r.instg_agt_bic, "AAAA1BCC"), refuse(&r, "BIC");
	r = ok, snprintf(r.instd_agt_bic, sizeof r.instd_agt_bic, "AAAABBC"), refuse(&r, "BIC");
	r = ok, snprintf(r.addtl_inf, sizeof r.addtl_inf, "bell\a"), refuse(&r, "addtl_inf");
	r = ok, snprintf(r.addtl_inf, sizeof r.addtl_inf, "bad \xc3("), refuse(&r, "addtl_inf");
	r = ok, snprintf(r.addtl_inf, sizeof r.addtl_inf, "overlong \xc0\xaf"), refuse(&r, "addtl_inf");
	r = ok, snprintf(r.addtl_inf, sizeof r.addtl_inf, "surrogate \xed\xa0\x80"), refuse(&r, "addtl_inf");
	r = ok, snprintf(r.orgnl_end_to_end_id, sizeof r.orgnl_end_to_end_id, "nul\x01"),
	refuse(&r, "orgnl_end_to_end_id");

	/* every buffer short of the report is refused and left empty; one byte more is enough */
	int n = write_ok(&ok, out, sizeof out);
	for (int cap = 0; cap <= n; cap++) {
		char small[4096], err[96] = "";
		memset(small, 'z', sizeof small);
		assert_int_equal(pm_pacs002_write(&ok, small, (size_t)cap, err, sizeof err), -1);
		assert_non_null(strstr(err, "too small"));
		if (cap)
			assert_int_equal(small[0], 0);
		assert_int_equal(small[cap], 'z'); /* nothing written past cap */
	}
	char exact[4096];
	assert_int_equal(pm_pacs002_write(&ok, exact, (size_t)n + 1, NULL, 0), n);
	assert_string_equal(exact, out);
}

int
main(void)
{
	xmlInitParser();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_accepted),    cmocka_unit_test(test_golden_rejected),
		cmocka_unit_test(test_all_statuses_valid), cmocka_unit_test(test_schema_rejects_mutations),
		cmocka_unit_test(test_refusals),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	xmlCleanupParser();
	return rc;
}
