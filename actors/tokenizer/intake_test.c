/* intake_test.c - format detection, parsing into prepared items (XML, MT103, JSON), the JSON
 * token.request rules, answers and their HTTP status, pacs.002 of each state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "actors/tokenizer/intake.h"
#include "base/hex.h"

#define UETR       "174c245f-2682-4291-ad67-2a41e530cd27"
#define XML_SAMPLE "payments/testdata/iso/ballerina_p_2_1_2_mt103_pacs_008_A_B.xml"

static const char *MT =
        "{1:F01CHASUS33XXXX0000000000}{2:O1031013210511CHASGB2LXXXX00000000002105111013N}"
        "{3:{121:174c245f-2682-4291-ad67-2a41e530cd27}}{4:\r\n:20:A2B0506272708\r\n:23B:CRED\r\n"
        ":32A:210511USD136500,\r\n:33B:USD136500,\r\n:50F:/96325874\r\n1/GB Engineering\r\n2/Industrial Park\r\n"
        "3/GB/Cambridge\r\n:52A:CHASGB2LXXX\r\n:56A:ANBTUS44XXX\r\n:57A:HNBAUS51XXX\r\n:59F:/254178963\r\n"
        "1/US Engines\r\n2/20 Main St\r\n3/US/Casper WY\r\n:70:/ROC/E2E04044506271305\r\n:71A:SHA\r\n-}";

static tk_config *cfg;

static int
setup(void **state)
{
	char err[256];
	json_t *j = json_loads("{\"tokens\":{\"USD\":{\"backend\":\"erc20\",\"address\":"
	                       "\"0x5FbDB2315678afecb367f032d93F642f64180aa3\",\"decimals\":6}},"
	                       "\"accounts\":{\"254178963\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\","
	                       "\"96325874\":\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\"}}",
	                       0, NULL);
	cfg = tk_config_from_json(j, err, sizeof err);
	json_decref(j);
	xmlInitParser();
	return cfg ? 0 : -1;
}

static int
teardown(void **state)
{
	tk_config_free(cfg);
	return 0;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc(*len + 1);
	assert_int_equal(fread(b, 1, *len, f), *len);
	b[*len] = 0;
	fclose(f);
	return b;
}

static void
test_detect(void **state)
{
	assert_int_equal(tk_detect((const uint8_t *)"\xef\xbb\xbf  <?xml", 10, NULL), TK_IN_XML);
	assert_int_equal(tk_detect((const uint8_t *)"<!-- c --><Doc/>", 16, "text/plain"), TK_IN_XML);
	assert_int_equal(tk_detect((const uint8_t *)"{1:F01X}", 8, "application/json"), TK_IN_MT);
	assert_int_equal(tk_detect((const uint8_t *)"$\r\n{1:", 6, NULL), TK_IN_MT);
	assert_int_equal(tk_detect((const uint8_t *)":20:REF", 7, NULL), TK_IN_MT);
	assert_int_equal(tk_detect((const uint8_t *)"{ \"kind\": 1}", 12, "text/plain"), TK_IN_JSON);
	assert_int_equal(tk_detect((const uint8_t *)"{x", 2, "application/json"), TK_IN_JSON);
	assert_int_equal(tk_detect((const uint8_t *)"{x", 2, NULL), TK_IN_MT);
	assert_int_equal(tk_detect((const uint8_t *)"hello", 5, "application/xml"), TK_IN_UNKNOWN);
	assert_int_equal(tk_detect((const uint8_t *)"   ", 3, NULL), TK_IN_UNKNOWN);
}

static void
test_xml_and_mt_same_key(void **state)
{
	size_t len;
	char *xml = slurp(XML_SAMPLE, &len);
	tk_batch b = { 0 };
	assert_int_equal(tk_batch_parse(&b, cfg, (const uint8_t *)xml, len, NULL, NULL, 5), 1);
	assert_int_equal(tk_batch_parse(&b, cfg, (const uint8_t *)MT, strlen(MT), "text/plain", NULL, 6), 1);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.format, TK_IN_MT);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(b.items[i]->outcome, 0);
		assert_string_equal(b.items[i]->key, UETR);
		assert_int_equal(b.items[i]->op.kind, SC_TOKEN_TRANSFER);
	}
	assert_int_equal(b.items[0]->p.format, PM_FMT_PACS008);
	assert_int_equal(b.items[1]->p.format, PM_FMT_MT103);
	assert_memory_equal(b.items[0]->hash, b.items[1]->hash, 32); /* same content: a duplicate, not a conflict */
	assert_int_equal(b.items[1]->received_ns, 6);
	tk_batch_free(&b);
	free(xml);
}

static void
test_refusals(void **state)
{
	tk_batch b = { 0 };
	assert_int_equal(tk_batch_parse(&b, cfg, (const uint8_t *)"", 0, NULL, NULL, 1), 1);
	assert_int_equal(b.items[0]->outcome, TK_REFUSED);
	assert_string_equal(b.items[0]->err.reason, "FF01");
	const char *x = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><d>&e;</d>";
	assert_int_equal(tk_batch_parse(&b, cfg, (const uint8_t *)x, strlen(x), NULL, NULL, 1), 1);
	assert_int_equal(b.items[1]->outcome, TK_REFUSED);
	assert_string_equal(b.items[1]->err.reason, "FF01");
	assert_int_equal(tk_batch_parse(&b, cfg, (const uint8_t *)"{\"kind\":", 8, NULL, NULL, 1), 1);
	assert_int_equal(b.items[2]->outcome, TK_REFUSED);
	assert_non_null(strstr(b.items[2]->err.text, "JSON"));
	rt_buf o = RT_BUF_INIT;
	assert_int_equal(tk_render(&b, &o), 400);
	assert_non_null(strstr((char *)o.data, "<TxSts>RJCT</TxSts>"));
	assert_non_null(strstr((char *)o.data, "<Cd>FF01</Cd>"));
	rt_buf_free(&o);
	tk_batch_free(&b);
}

static void
test_json_request(void **state)
{
	const char *ok = "{\"idempotency_key\":\"" UETR "\",\"kind\":\"mint\",\"pool\":\"x\",\"amount\":\"1250000\","
	                 "\"currency\":\"USD\",\"decimals\":6,\"creditor_account\":\"254178963\","
	                 "\"source_format\":\"json\",\"received_at_ns\":1}";
	tk_batch b = { 0 };
	assert_int_equal(tk_batch_parse(&b, cfg, (const uint8_t *)ok, strlen(ok), "application/json", NULL, 1), 1);
	assert_int_equal(b.items[0]->outcome, 0);
	assert_string_equal(b.items[0]->key, UETR);
	assert_int_equal(b.items[0]->p.amount.units, 125);
	assert_int_equal(b.items[0]->p.amount.scale, 2);
	assert_int_equal(b.items[0]->op.kind, SC_TOKEN_MINT);
	tk_batch_free(&b);

	sc_token_request q;
	sc_err se;
	pm_payment p;
	pm_error e;
	json_t *j = json_loads(ok, 0, NULL);
	assert_int_equal(sc_from_json(&SC_TOKEN_REQUEST, j, &q, &se), 0);
	json_decref(j);
	/* Not a UETR: json/-/<key>. */
	snprintf(q.idempotency_key, sizeof q.idempotency_key, "order-42");
	assert_int_equal(tk_payment_from_request(cfg, &q, &p, &e), 0);
	pm_error ke;
	char key[TK_KEY_CAP];
	assert_int_equal(tk_key(&p, key, &ke), 0);
	assert_string_equal(key, "json/-/order-42");
	/* The sender's kind or address must agree with the mapping. */
	q.kind = SC_TOKEN_TRANSFER;
	assert_int_equal(tk_payment_from_request(cfg, &q, &p, &e), -1);
	assert_string_equal(e.reason, "AG01");
	q.kind = SC_TOKEN_MINT;
	memset(q.to, 0x11, 20);
	assert_int_equal(tk_payment_from_request(cfg, &q, &p, &e), -1);
	assert_string_equal(e.reason, "AG01");
	memset(q.to, 0, 20);
	/* Other decimals than the token's, sub-cent amounts, unknown currencies. */
	q.decimals = 18;
	assert_int_equal(tk_payment_from_request(cfg, &q, &p, &e), -1);
	assert_string_equal(e.reason, "AM03");
	q.decimals = 6;
	u256_from_u64(&q.amount, 1250001);
	assert_int_equal(tk_payment_from_request(cfg, &q, &p, &e), -1);
	assert_string_equal(e.reason, "AM03");
	snprintf(q.currency, sizeof q.currency, "XAU");
	assert_int_equal(tk_payment_from_request(cfg, &q, &p, &e), -1);
	assert_string_equal(e.reason, "AM03");
}

static void
test_pacs002_states(void **state)
{
	tk_rec r;
	char xml[8192], err[200];
	memset(&r, 0, sizeof r);
	r.version = TK_REC_VERSION;
	snprintf(r.msgdef, sizeof r.msgdef, "pacs.008.001.08");
	snprintf(r.msg_id, sizeof r.msg_id, "M1");
	snprintf(r.uetr, sizeof r.uetr, UETR);
	static const struct {
		int state, interim;
		const char *sts;
	} cases[] = {
		{ SC_TOKST_ACCEPTED, 0, "ACTC" },  { SC_TOKST_PENDING, 0, "ACSP" }, { SC_TOKST_PENDING, 1, "PDNG" },
		{ SC_TOKST_CONFIRMED, 0, "ACSC" }, { SC_TOKST_FAILED, 0, "RJCT" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char want[40];
		r.state = (uint8_t)cases[i].state;
		r.interim_error = (uint8_t)cases[i].interim;
		snprintf(r.error, sizeof r.error, "%s", cases[i].interim ? "node unreachable, retrying" : "");
		snprintf(r.reason, sizeof r.reason, "%s", cases[i].state == SC_TOKST_FAILED ? "AM04" : "");
		assert_true(tk_pacs002_rec(&r, xml, sizeof xml, err, sizeof err) > 0);
		snprintf(want, sizeof want, "<TxSts>%s</TxSts>", cases[i].sts);
		assert_non_null(strstr(xml, want));
		assert_non_null(strstr(xml, "<OrgnlUETR>" UETR "</OrgnlUETR>"));
		if (cases[i].state == SC_TOKST_FAILED)
			assert_non_null(strstr(xml, "<Cd>AM04</Cd>"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),         cmocka_unit_test(test_xml_and_mt_same_key),
		cmocka_unit_test(test_refusals),       cmocka_unit_test(test_json_request),
		cmocka_unit_test(test_pacs002_states),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
