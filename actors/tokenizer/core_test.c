/* core_test.c - the tokenizer's key rule, content hash, mapping, state machine and durability. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actors/tokenizer/config.h"
#include "actors/tokenizer/core.h"
#include "actors/tokenizer/key.h"
#include "base/hex.h"
#include "store/store.h"

#define UETR     "174c245f-2682-4291-ad67-2a41e530cd27"
#define A_HOLDER "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define A_OTHER  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"

static const char *cfg_text =
        "{\"tokens\":{\"EUR\":{\"backend\":\"firefly\",\"pool\":\"eurc\",\"decimals\":18},"
        "\"USD\":{\"backend\":\"erc20\",\"address\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\",\"decimals\":6,"
        "\"operations\":[\"mint\"]},\"JPY\":{\"backend\":\"firefly\",\"pool\":\"jpyc\",\"decimals\":0}},"
        "\"accounts\":{\"DE89 3704 0044 0532 0130 00\":\"" A_HOLDER "\",\"FR7630006000011234567890189\":\"" A_OTHER
        "\","
        "\"GB33BUKB20201555555555\":{\"address\":\"" A_OTHER "\",\"status\":\"closed\"},"
        "\"NL91ABNA0417164300\":{\"address\":\"" A_OTHER "\",\"status\":\"blocked\"}},"
        "\"redemption_accounts\":[\"DE02100100109307118603\"]}";

static tk_config *
load(const char *text, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	tk_config *c = tk_config_from_json(j, err, errlen);
	json_decref(j);
	return c;
}

static void
payment(pm_payment *p, const char *uetr, const char *amount, const char *ccy, const char *dacct, const char *cacct)
{
	char err[80];
	memset(p, 0, sizeof *p);
	p->format = PM_FMT_PACS008;
	snprintf(p->msgdef, sizeof p->msgdef, "pacs.008.001.08");
	snprintf(p->msg_id, sizeof p->msg_id, "MSG1");
	snprintf(p->instr_id, sizeof p->instr_id, "INSTR1");
	snprintf(p->end_to_end_id, sizeof p->end_to_end_id, "E2E1");
	snprintf(p->uetr, sizeof p->uetr, "%s", uetr);
	snprintf(p->ccy, sizeof p->ccy, "%s", ccy);
	assert_int_equal(pm_amount_parse(amount, strlen(amount), '.', &p->amount, err, sizeof err), 0);
	snprintf(p->value_date, sizeof p->value_date, "2024-05-11");
	snprintf(p->debtor_account, sizeof p->debtor_account, "%s", dacct);
	snprintf(p->creditor_account, sizeof p->creditor_account, "%s", cacct);
	snprintf(p->instg_agent_bic, sizeof p->instg_agent_bic, "DEUTDEFFXXX");
	snprintf(p->debtor_agent_bic, sizeof p->debtor_agent_bic, "COBADEFF");
}

/* ---- key rule and content hash ------------------------------------------------------------------ */

static void
test_key_rule(void **state)
{
	pm_payment p, q;
	pm_error e;
	char k1[TK_KEY_CAP], k2[TK_KEY_CAP];
	payment(&p, UETR, "10", "EUR", "", "FR7630006000011234567890189");
	assert_int_equal(tk_key(&p, k1, &e), 0);
	assert_string_equal(k1, UETR);
	/* The same payment as an MT103: other ids, same UETR -> the same key. */
	q = p;
	q.format = PM_FMT_MT103;
	snprintf(q.instr_id, sizeof q.instr_id, "REF-MT");
	snprintf(q.msg_id, sizeof q.msg_id, "REF-MT");
	assert_int_equal(tk_key(&q, k2, &e), 0);
	assert_string_equal(k1, k2);
	/* No UETR: instructing agent (BIC8 for branch XXX) / value date / InstrId. */
	p.uetr[0] = '\0';
	assert_int_equal(tk_key(&p, k1, &e), 0);
	assert_string_equal(k1, "DEUTDEFF/2024-05-11/INSTR1");
	/* The same :20: on another value date is another payment. */
	snprintf(p.value_date, sizeof p.value_date, "2024-05-12");
	assert_int_equal(tk_key(&p, k2, &e), 0);
	assert_string_not_equal(k1, k2);
	/* No InstrId: the EndToEndId; NOTPROVIDED does not count; no instructing agent: the debtor agent. */
	p.instr_id[0] = '\0';
	p.instg_agent_bic[0] = '\0';
	assert_int_equal(tk_key(&p, k1, &e), 0);
	assert_string_equal(k1, "COBADEFF/2024-05-12/E2E1");
	snprintf(p.end_to_end_id, sizeof p.end_to_end_id, "NOTPROVIDED");
	assert_int_equal(tk_key(&p, k1, &e), -1);
	assert_string_equal(e.reason, "NARR");
	assert_string_equal(e.field, "PmtId");
	/* A UETR not in canonical form is not used as a key. */
	assert_false(tk_is_uetr("174C245F-2682-4291-AD67-2A41E530CD27"));
	assert_true(tk_is_uetr(UETR));
	/* Key ids differ with the key. */
	uint8_t i1[16], i2[16];
	tk_key_id("a", i1);
	tk_key_id("b", i2);
	assert_memory_not_equal(i1, i2, 16);
}

static void
test_content_hash(void **state)
{
	pm_payment p, q;
	uint8_t h1[32], h2[32];
	payment(&p, UETR, "100.00", "EUR", "", "FR76 3000 6000 0112 3456 7890 189");
	payment(&q, UETR, "100", "EUR", "", "fr7630006000011234567890189");
	q.format = PM_FMT_MT103; /* ids and format are not content */
	snprintf(q.msg_id, sizeof q.msg_id, "OTHER");
	tk_content_hash(&p, SC_TOKEN_MINT, h1);
	tk_content_hash(&q, SC_TOKEN_MINT, h2);
	assert_memory_equal(h1, h2, 32);
	tk_content_hash(&q, SC_TOKEN_TRANSFER, h2);
	assert_memory_not_equal(h1, h2, 32);
	payment(&q, UETR, "100.01", "EUR", "", "FR7630006000011234567890189");
	tk_content_hash(&q, SC_TOKEN_MINT, h2);
	assert_memory_not_equal(h1, h2, 32);
	payment(&q, UETR, "100", "USD", "", "FR7630006000011234567890189");
	tk_content_hash(&q, SC_TOKEN_MINT, h2);
	assert_memory_not_equal(h1, h2, 32);
	payment(&q, UETR, "100", "EUR", "DE89370400440532013000", "FR7630006000011234567890189");
	tk_content_hash(&q, SC_TOKEN_MINT, h2);
	assert_memory_not_equal(h1, h2, 32);
}

/* ---- configuration and mapping ------------------------------------------------------------------ */

static void
test_config_refusals(void **state)
{
	char err[256];
	tk_config *c;
	c = load("{\"tokens\":{\"EUR\":{\"backend\":\"firefly\",\"pool\":\"p\",\"decimals\":1}}}", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "fewer than the 2 minor units"));
	c = load("{\"tokens\":{\"BHD\":{\"backend\":\"firefly\",\"pool\":\"p\",\"decimals\":2}}}", err, sizeof err);
	assert_null(c);
	c = load("{\"tokens\":{\"XAU\":{\"backend\":\"firefly\",\"pool\":\"p\",\"decimals\":18}}}", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "ISO 4217"));
	c = load("{\"tokens\":{\"USD\":{\"backend\":\"erc20\",\"decimals\":6}}}", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "address"));
	c = load("{\"tokens\":{\"EUR\":{\"backend\":\"firefly\",\"decimals\":18}}}", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "pool"));
	c = load("{\"tokens\":{\"EUR\":{\"backend\":\"firefly\",\"pool\":\"p\",\"decimals\":18,\"x\":1}}}", err,
	         sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "unknown key"));
	c = load("{\"tokens\":{\"EUR\":{\"backend\":\"firefly\",\"pool\":\"p\",\"decimals\":18}},"
	         "\"accounts\":{\"DE02100100109307118603\":\"" A_HOLDER "\"},"
	         "\"redemption_accounts\":[\"de02 1001 0010 9307 1186 03\"]}",
	         err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "also a mapped account"));
	c = load("{\"tokens\":{\"EUR\":{\"backend\":\"firefly\",\"pool\":\"p\",\"decimals\":18}},"
	         "\"accounts\":{\"X\":\"0x0000000000000000000000000000000000000000\"}}",
	         err, sizeof err);
	assert_null(c);
	/* Every problem of a file at once, each with its JSON path (issue 7 item 6), not just the first. */
	char all[1024];
	c = load("{\"tokens\":{\"EUR\":{\"backend\":\"fabric\",\"pool\":\"p\",\"decimals\":1},"
	         "\"USD\":{\"backend\":\"erc20\",\"decimals\":6,\"operations\":[\"mint\",\"melt\"]}},"
	         "\"accounts\":{\"A1\":\"0x12\",\"A2\":{\"address\":\"" A_HOLDER "\",\"status\":\"frozen\"}},"
	         "\"redemption_accounts\":[7],\"extra\":1}",
	         all, sizeof all);
	assert_null(c);
	static const char *const lines[] = {
		"$.extra: unknown key",
		"tokens.EUR.backend: expected \"firefly\" or \"erc20\"",
		"tokens.EUR.decimals: 1 is fewer than the 2 minor units of EUR",
		"tokens.USD.address: required for the erc20 backend",
		"tokens.USD.operations[1]: expected \"mint\", \"burn\" or \"transfer\"",
		"accounts.A1: not a non-zero 0x address",
		"accounts.A2.status: expected open, closed or blocked",
		"redemption_accounts[0]: expected an account id of 1..34 characters",
	};
	size_t nl = 1;
	for (const char *p = all; *p; p++)
		nl += *p == '\n';
	assert_int_equal(nl, sizeof lines / sizeof lines[0]);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		if (strstr(all, lines[i]) == NULL)
			fail_msg("missing '%s' in:\n%s", lines[i], all);
	c = load(cfg_text, err, sizeof err);
	assert_non_null(c);
	assert_int_equal(c->ntokens, 3);
	assert_int_equal(c->naccounts, 4);
	tk_config_free(c);
}

static void
test_mapping(void **state)
{
	char err[256], dec[80];
	tk_config *c = load(cfg_text, err, sizeof err);
	pm_payment p;
	pm_error e;
	tk_op op;
	assert_non_null(c);

	/* Unknown debtor, mapped creditor: mint to the creditor, exact units (12.34 EUR at 18 decimals). */
	payment(&p, UETR, "12.34", "EUR", "XX00UNKNOWN", "FR7630006000011234567890189");
	assert_int_equal(tk_map(c, &p, &op, &e), 0);
	assert_int_equal(op.kind, SC_TOKEN_MINT);
	u256_to_dec(&op.units, dec);
	assert_string_equal(dec, "12340000000000000000");
	uint8_t want[20];
	hex_addr_parse(A_OTHER, strlen(A_OTHER), want);
	assert_memory_equal(op.to, want, 20);
	assert_string_equal(op.token->pool, "eurc");
	/* Both mapped (debtor written with spaces and lower case): transfer. */
	payment(&p, UETR, "1", "EUR", "de89 3704 0044 0532 0130 00", "FR7630006000011234567890189");
	assert_int_equal(tk_map(c, &p, &op, &e), 0);
	assert_int_equal(op.kind, SC_TOKEN_TRANSFER);
	hex_addr_parse(A_HOLDER, strlen(A_HOLDER), want);
	assert_memory_equal(op.from, want, 20);
	/* Mapped debtor to the redemption account: burn from the debtor. */
	payment(&p, UETR, "1", "EUR", "DE89370400440532013000", "DE02100100109307118603");
	assert_int_equal(tk_map(c, &p, &op, &e), 0);
	assert_int_equal(op.kind, SC_TOKEN_BURN);
	assert_memory_equal(op.from, want, 20);
	/* Refusals, each with its reason code. */
	payment(&p, UETR, "1", "EUR", "XX00UNKNOWN", "DE02100100109307118603");
	assert_int_equal(tk_map(c, &p, &op, &e), -1);
	assert_string_equal(e.reason, "AC01");
	assert_string_equal(e.field, "DbtrAcct");
	assert_string_equal(e.uetr, UETR);
	payment(&p, UETR, "1", "EUR", "", "XX00UNKNOWN");
	assert_int_equal(tk_map(c, &p, &op, &e), -1);
	assert_string_equal(e.reason, "AC01");
	assert_string_equal(e.field, "CdtrAcct");
	payment(&p, UETR, "1", "EUR", "", "");
	assert_int_equal(tk_map(c, &p, &op, &e), -1);
	assert_string_equal(e.reason, "AC01");
	payment(&p, UETR, "1", "EUR", "", "GB33BUKB20201555555555");
	assert_int_equal(tk_map(c, &p, &op, &e), -1);
	assert_string_equal(e.reason, "AC04");
	payment(&p, UETR, "1", "EUR", "NL91ABNA0417164300", "FR7630006000011234567890189");
	assert_int_equal(tk_map(c, &p, &op, &e), -1);
	assert_string_equal(e.reason, "AC06");
	payment(&p, UETR, "1", "CHF", "", "FR7630006000011234567890189");
	assert_int_equal(tk_map(c, &p, &op, &e), -1);
	assert_string_equal(e.reason, "AM03");
	payment(&p, UETR, "0.00", "EUR", "", "FR7630006000011234567890189");
	assert_int_equal(tk_map(c, &p, &op, &e), -1);
	assert_string_equal(e.reason, "AM01");
	payment(&p, UETR, "1.5", "JPY", "", "FR7630006000011234567890189");
	assert_int_equal(tk_map(c, &p, &op, &e), -1);
	assert_string_equal(e.reason, "AM03");
	/* USD allows only mint. */
	payment(&p, UETR, "1", "USD", "DE89370400440532013000", "FR7630006000011234567890189");
	assert_int_equal(tk_map(c, &p, &op, &e), -1);
	assert_string_equal(e.reason, "AG01");
	payment(&p, UETR, "1.25", "USD", "", "FR7630006000011234567890189");
	assert_int_equal(tk_map(c, &p, &op, &e), 0);
	u256_to_dec(&op.units, dec);
	assert_string_equal(dec, "1250000");
	tk_config_free(c);
}

/* ---- durability and the state machine ----------------------------------------------------------- */

typedef struct {
	int n, requests, statuses;
	char last_topic[32];
	uint8_t last_id[16];
} pubs;

static void
pub(void *arg, const char *topic, const char *type, const uint8_t *id, const uint8_t *body, size_t len)
{
	pubs *p = arg;
	p->n++;
	snprintf(p->last_topic, sizeof p->last_topic, "%s", topic);
	if (strcmp(topic, "token.request") == 0) {
		sc_token_request q;
		sc_err se;
		assert_int_equal(sc_decode(&SC_TOKEN_REQUEST, body, len, &q, &se), 0);
		assert_non_null(id);
		uint8_t want[16];
		tk_key_id(q.idempotency_key, want);
		assert_memory_equal(id, want, 16); /* frame id = key id: a backend can dedupe by either */
		memcpy(p->last_id, id, 16);
		p->requests++;
	} else {
		assert_string_equal(topic, "token.status");
		assert_string_equal(type, "token.result");
		p->statuses++;
	}
}

static char tmpdir[64];

static int
setup_dir(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tk_core_test.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown_dir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static tk_item *
item(const tk_config *c, const char *uetr, const char *amount, const char *cacct)
{
	tk_item *it = calloc(1, sizeof *it);
	payment(&it->p, uetr, amount, "EUR", "", cacct);
	it->received_ns = 1000;
	tk_prepare(c, it);
	return it;
}

static void
result(tk_result_item *r, const char *key, int state, const char *error, const char *reason)
{
	memset(r, 0, sizeof *r);
	snprintf(r->r.idempotency_key, sizeof r->r.idempotency_key, "%s", key);
	r->r.state = state;
	snprintf(r->r.error, sizeof r->r.error, "%s", error);
	snprintf(r->r.reason, sizeof r->r.reason, "%s", reason);
	r->r.decided_at_ns = 5000;
}

static void
test_durable_intake(void **state)
{
	char err[256];
	tk_config *c = load(cfg_text, err, sizeof err);
	tk_core_cfg kc = { 0 };
	tk_core *k = tk_open(tmpdir, &kc, err, sizeof err);
	pubs p = { 0 };
	tk_rec r;
	tk_stats st;
	assert_non_null(k);

	const char *u2 = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
	tk_item *a = item(c, UETR, "10.00", "FR7630006000011234567890189");
	tk_item *b = item(c, UETR, "10", "FR7630006000011234567890189"); /* same payment, same batch */
	tk_item *x = item(c, u2, "5", "XX00UNKNOWN");                    /* refused before the store */
	tk_item *batch[] = { a, b, x };
	assert_int_equal(x->outcome, TK_REFUSED);
	assert_int_equal(tk_commit(k, batch, 3, 2000, pub, &p, err, sizeof err), 0);
	assert_int_equal(a->outcome, TK_NEW);
	assert_int_equal(b->outcome, TK_DUP);
	assert_int_equal(x->outcome, TK_REFUSED);
	assert_int_equal(p.requests, 1);
	assert_int_equal(p.statuses, 1);
	assert_int_equal(tk_get(k, a->id, &r, err, sizeof err), 0);
	assert_int_equal(r.state, SC_TOKST_ACCEPTED);
	assert_string_equal(r.key, UETR);
	assert_string_equal(r.amount, "10.00");
	assert_int_equal(r.accepted_ns, 1000);
	assert_int_equal(tk_get(k, x->id, &r, err, sizeof err), MDB_NOTFOUND);

	/* Again, in a later batch: duplicate (no frame); other content under the key: conflict AM05. */
	tk_item *d = item(c, UETR, "10", "FR7630006000011234567890189");
	tk_item *f = item(c, UETR, "11", "FR7630006000011234567890189");
	tk_item *batch2[] = { d, f };
	p.n = 0;
	assert_int_equal(tk_commit(k, batch2, 2, 3000, pub, &p, err, sizeof err), 0);
	assert_int_equal(d->outcome, TK_DUP);
	assert_int_equal(d->rec.state, SC_TOKST_ACCEPTED);
	assert_int_equal(f->outcome, TK_CONFLICT);
	assert_string_equal(f->err.reason, "AM05");
	assert_int_equal(p.n, 0);
	assert_int_equal(tk_get(k, a->id, &r, err, sizeof err), 0);
	assert_string_equal(r.amount, "10.00"); /* the conflict changed nothing */

	/* A restart re-publishes the unacked request (same frame id), and the record is still there. */
	tk_close(k);
	k = tk_open(tmpdir, &kc, err, sizeof err);
	assert_non_null(k);
	p.requests = 0;
	assert_int_equal(tk_resend(k, 4000, 1, pub, &p, err, sizeof err), 1);
	assert_int_equal(p.requests, 1);
	assert_memory_equal(p.last_id, a->id, 16);
	assert_int_equal(tk_resend(k, 4000, 0, pub, &p, err, sizeof err), 0); /* not due again yet */
	assert_int_equal(tk_open_stats(k, 1500, &st, err, sizeof err), 0);
	assert_int_equal(st.open, 1);
	assert_int_equal(st.outbox, 1);
	assert_int_equal(st.overdue, 1);
	assert_int_equal(st.oldest_ns, 1000);
	assert_memory_equal(st.oldest_id, a->id, 16);
	assert_int_equal(tk_open_stats(k, 500, &st, err, sizeof err), 0);
	assert_int_equal(st.overdue, 0);
	assert_int_equal(st.oldest_ns, 1000);

	/* pending acks the outbox; confirmed closes it; a late failed changes nothing but is a contradiction. */
	tk_result_item res[3];
	result(&res[0], UETR, SC_TOKST_PENDING, "", "");
	result(&res[1], "ffffffff-bbbb-4ccc-8ddd-eeeeeeeeeeee", SC_TOKST_CONFIRMED, "", "");
	result(&res[2], UETR, SC_TOKST_ACCEPTED, "", "");
	p.statuses = 0;
	assert_int_equal(tk_results(k, res, 3, 5000, pub, &p, err, sizeof err), 0);
	assert_int_equal(res[0].outcome, TK_R_CHANGED);
	assert_int_equal(res[0].rec.state, SC_TOKST_PENDING);
	assert_int_equal(res[1].outcome, TK_R_UNKNOWN);
	assert_int_equal(res[2].outcome, TK_R_IGNORED);
	assert_int_equal(p.statuses, 1);
	assert_int_equal(tk_open_stats(k, 0, &st, err, sizeof err), 0);
	assert_int_equal(st.outbox, 0);
	assert_int_equal(st.open, 1);
	assert_int_equal(tk_resend(k, UINT64_MAX / 2, 0, pub, &p, err, sizeof err), 0);

	result(&res[0], UETR, SC_TOKST_CONFIRMED, "", "");
	memset(res[0].r.tx_hash, 0xab, 32);
	res[0].r.block_number = 77;
	result(&res[1], UETR, SC_TOKST_FAILED, "reverted", "NARR");
	assert_int_equal(tk_results(k, res, 2, 6000, pub, &p, err, sizeof err), 0);
	assert_int_equal(res[0].outcome, TK_R_CHANGED);
	assert_int_equal(res[1].outcome, TK_R_SAME);
	assert_true(res[1].contradiction);
	assert_int_equal(tk_get(k, a->id, &r, err, sizeof err), 0);
	assert_int_equal(r.state, SC_TOKST_CONFIRMED);
	assert_int_equal(r.block_number, 77);
	assert_int_equal(r.tx_hash[31], 0xab);
	assert_int_equal(tk_open_stats(k, UINT64_MAX, &st, err, sizeof err), 0);
	assert_int_equal(st.open, 0);

	/* Another payment fails: reason kept (NARR when the backend gives none); confirmed after failed wins. */
	tk_item *g = item(c, u2, "1", "FR7630006000011234567890189");
	tk_item *batch3[] = { g };
	assert_int_equal(tk_commit(k, batch3, 1, 7000, pub, &p, err, sizeof err), 0);
	assert_int_equal(g->outcome, TK_NEW);
	result(&res[0], u2, SC_TOKST_REJECTED, "pool unknown", "");
	assert_int_equal(tk_results(k, res, 1, 8000, pub, &p, err, sizeof err), 0);
	assert_int_equal(res[0].rec.state, SC_TOKST_FAILED);
	assert_string_equal(res[0].rec.reason, "NARR");
	result(&res[0], u2, SC_TOKST_CONFIRMED, "", "");
	assert_int_equal(tk_results(k, res, 1, 9000, pub, &p, err, sizeof err), 0);
	assert_int_equal(res[0].outcome, TK_R_CHANGED);
	assert_true(res[0].contradiction);
	assert_int_equal(res[0].rec.state, SC_TOKST_CONFIRMED);

	/* The request body carries the mapping. */
	uint8_t body[1024];
	size_t len;
	sc_token_request q;
	sc_err se;
	assert_int_equal(tk_request_body(&a->rec, body, sizeof body, &len), 0);
	assert_int_equal(sc_decode(&SC_TOKEN_REQUEST, body, len, &q, &se), 0);
	assert_int_equal(q.kind, SC_TOKEN_MINT);
	assert_string_equal(q.pool, "eurc");
	assert_string_equal(q.backend, "firefly");
	assert_int_equal(q.decimals, 18);
	assert_int_equal(q.source_format, SC_FMT_ISO20022_PACS008);
	/* A body that does not fit is a code of the one error space, not a bare -1. */
	assert_int_equal(tk_request_body(&a->rec, body, 8, &len), OB_EENCODE);
	assert_string_equal(ob_err_class(OB_EENCODE), "store");

	tk_close(k);
	tk_config_free(c);
	free(a), free(b), free(x), free(d), free(f), free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_rule),
		cmocka_unit_test(test_content_hash),
		cmocka_unit_test(test_config_refusals),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test_setup_teardown(test_durable_intake, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
