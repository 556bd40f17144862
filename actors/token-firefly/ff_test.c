/* ff_test.c - token-firefly: the POST body, what each FireFly answer means (bodies as FireFly v1.3 and the
 * test double write them), and the state machine over a temporary LMDB: retries with a bound, 409/408
 * followed instead of re-sent, polling to Succeeded / Failed / the deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "actors/token-firefly/ff.h"
#include "base/hex.h"
#include "schemas/schema.h"
#include "store/store.h"
#include "store/tokreq_testing.h"

#define UETR "174c245f-2682-4291-ad67-2a41e530cd27"
#define TXID "0d2bd4b7-6c8e-4c7e-9a79-1c2f4e1b7d11"

static void
request(sc_token_request *r, const char *key, int kind, uint64_t amount)
{
	tqt_request(r, "firefly", key, kind, amount);
	snprintf(r->pool, sizeof r->pool, "eurc");
	snprintf(r->currency, sizeof r->currency, "EUR");
	r->decimals = 18;
}

static tf_http
http(long status, const char *body)
{
	tf_http h = {
		.status = status, .body = body, .len = body ? strlen(body) : 0, .err = status ? NULL : "refused"
	};
	return h;
}

static void
test_body(void **state)
{
	tf_cfg c = { .key = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266" };
	sc_token_request r;
	const char *path;
	char *body, reason[8], why[160];
	json_error_t je;
	request(&r, UETR, SC_TOKEN_TRANSFER, 0);
	u256_from_dec(&r.amount, "123456789012345678901234567890", 30);
	assert_int_equal(tf_body(&c, &r, &path, &body, reason, why, sizeof why), 0);
	assert_string_equal(path, "transfers");
	json_t *j = json_loads(body, 0, &je);
	free(body);
	assert_non_null(j);
	/* base units as a decimal string, beyond 2^64 exactly; lower-case addresses; the key as idempotencyKey */
	assert_string_equal(json_string_value(json_object_get(j, "amount")), "123456789012345678901234567890");
	assert_string_equal(json_string_value(json_object_get(j, "pool")), "eurc");
	assert_string_equal(json_string_value(json_object_get(j, "idempotencyKey")), UETR);
	assert_string_equal(json_string_value(json_object_get(j, "from")),
	                    "0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
	assert_string_equal(json_string_value(json_object_get(j, "to")), "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
	assert_string_equal(json_string_value(json_object_get(j, "key")), c.key);
	json_decref(j);
	request(&r, UETR, SC_TOKEN_MINT, 5);
	c.key = "";
	assert_int_equal(tf_body(&c, &r, &path, &body, reason, why, sizeof why), 0);
	assert_string_equal(path, "mint");
	j = json_loads(body, 0, &je);
	free(body);
	assert_null(json_object_get(j, "from"));
	assert_null(json_object_get(j, "key"));
	json_decref(j);
	request(&r, UETR, SC_TOKEN_BURN, 5);
	assert_int_equal(tf_body(&c, &r, &path, &body, reason, why, sizeof why), 0);
	assert_string_equal(path, "burn");
	free(body);
	request(&r, UETR, SC_TOKEN_BURN, 0);
	assert_int_equal(tf_body(&c, &r, &path, &body, reason, why, sizeof why), -1);
	assert_string_equal(reason, "AM01");
	request(&r, UETR, SC_TOKEN_MINT, 5);
	memset(r.to, 0, 20);
	assert_int_equal(tf_body(&c, &r, &path, &body, reason, why, sizeof why), -1);
	assert_string_equal(reason, "AC01");
	request(&r, UETR, SC_TOKEN_BRIDGE, 5);
	assert_int_equal(tf_body(&c, &r, &path, &body, reason, why, sizeof why), -1);
	char enc[64];
	assert_int_equal(tf_urlenc("DEUTDEFF/2024-05-11/REF 1", enc, sizeof enc), 0);
	assert_string_equal(enc, "DEUTDEFF%2F2024-05-11%2FREF%201");
}

static void
test_classify(void **state)
{
	tf_post p;
	tf_http h = http(202, "{\"type\":\"mint\",\"localId\":\"a1b2c3d4-0000-4000-8000-000000000001\",\"pool\":\"p\","
	                      "\"tx\":{\"type\":\"token_transfer\",\"id\":\"" TXID "\"}}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_ACCEPTED);
	assert_string_equal(p.tx_id, TXID);
	assert_string_equal(p.local_id, "a1b2c3d4-0000-4000-8000-000000000001");
	h = http(200, "{\"tx\":{\"id\":\"" TXID "\"}}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_ACCEPTED);
	h = http(409, "{\"error\":\"FF10431: Idempotency key '" UETR "' already used for transaction '" TXID "'\"}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_USED);
	assert_string_equal(p.tx_id, TXID);
	/* A 409 naming something that is not an id: still "used", looked up by key. */
	h = http(409, "{\"error\":\"FF10431: Idempotency key 'x' already used for transaction 'x; rm -rf'\"}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_USED);
	assert_string_equal(p.tx_id, "");
	h = http(409, "{\"error\":\"FF10275: Duplicate token pool: x\"}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_RETRY);
	h = http(408, "{\"error\":\"FF10260: The request with id 'x' timed out after 120000.00ms\"}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_TIMEOUT);
	h = http(500, "{\"error\":\"FF10274: Error from tokens service: boom\"}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_RETRY);
	assert_non_null(strstr(p.text, "FF10274"));
	h = http(0, NULL);
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_RETRY);
	h = http(503, "<html>gateway</html>");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_RETRY);
	h = http(404, "{\"error\":\"FF10109: Not found\"}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_REJECT);
	h = http(404, "{\"error\":\"FF10436: Unknown namespace 'x'\"}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_RETRY);
	h = http(400, "{\"error\":\"FF10141: Supplied ethereum address is invalid\"}");
	tf_classify_post(&h, &p);
	assert_int_equal(p.kind, TF_P_REJECT);
}

static void
test_parse(void **state)
{
	tf_poll s;
	char bevent[64];
	tf_http h = http(200, "[{\"id\":\"" TXID "\",\"type\":\"token_transfer\",\"idempotencyKey\":\"k\"}]");
	tf_parse_lookup(&h, &s);
	assert_int_equal(s.kind, TF_S_PENDING);
	assert_string_equal(s.tx_id, TXID);
	h = http(200, "{\"count\":0,\"total\":0,\"items\":[]}");
	tf_parse_lookup(&h, &s);
	assert_int_equal(s.kind, TF_S_NOT_FOUND);
	h = http(200, "[]");
	tf_parse_lookup(&h, &s);
	assert_int_equal(s.kind, TF_S_NOT_FOUND);
	h = http(500, "{\"error\":\"FF00001: x\"}");
	tf_parse_lookup(&h, &s);
	assert_int_equal(s.kind, TF_S_ERROR);

	h = http(200, "{\"status\":\"Pending\",\"details\":[{\"type\":\"Operation\",\"subtype\":\"token_transfer\","
	              "\"status\":\"Pending\",\"id\":\"11111111-1111-4111-8111-111111111111\"}]}");
	tf_parse_status(&h, &s, bevent);
	assert_int_equal(s.kind, TF_S_PENDING);
	h = http(200, "{\"status\":\"Succeeded\",\"details\":[{\"type\":\"Operation\",\"status\":\"Succeeded\"},"
	              "{\"type\":\"BlockchainEvent\",\"subtype\":\"Transfer\",\"status\":\"Succeeded\","
	              "\"id\":\"22222222-2222-4222-8222-222222222222\"},{\"type\":\"TokenTransfer\",\"status\":"
	              "\"Succeeded\"}]}");
	tf_parse_status(&h, &s, bevent);
	assert_int_equal(s.kind, TF_S_SUCCEEDED);
	assert_string_equal(bevent, "22222222-2222-4222-8222-222222222222");
	h = http(200, "{\"info\":{\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"blockNumber\":\"42\","
	              "\"transactionHash\":\"0x"
	              "ab00000000000000000000000000000000000000000000000000000000000001\"}}");
	tf_parse_bevent(&h, &s);
	assert_int_equal(s.has_hash, 1);
	assert_int_equal(s.tx_hash[0], 0xab);
	assert_int_equal(s.tx_hash[31], 0x01);
	assert_int_equal(s.block_number, 42);
	h = http(200, "{\"status\":\"Failed\",\"details\":[{\"type\":\"Operation\",\"status\":\"Failed\","
	              "\"error\":\"FF23054: Transaction 0x12 reverted\\nin block 7\"}]}");
	tf_parse_status(&h, &s, bevent);
	assert_int_equal(s.kind, TF_S_FAILED);
	assert_string_equal(s.text, "FF23054: Transaction 0x12 reverted in block 7");
	h = http(404, "{\"error\":\"FF10109: Not found\"}");
	tf_parse_status(&h, &s, bevent);
	assert_int_equal(s.kind, TF_S_NOT_FOUND);
	memset(&s, 0, sizeof s);
	h = http(200, "{\"id\":\"" TXID "\",\"blockchainIds\":[\"0x"
	              "cd00000000000000000000000000000000000000000000000000000000000002\"]}");
	tf_parse_tx(&h, &s);
	assert_int_equal(s.has_hash, 1);
	assert_int_equal(s.tx_hash[0], 0xcd);
}

/* ---- state machine ------------------------------------------------------------------------------- */

/* This backend publishes token.results only; the last one, decoded. */
static sc_token_result LAST;
static const sc_token_result *
last(void)
{
	assert_int_equal(tqt_nframes, tqt_count("token.result"));
	tqt_last_result(&LAST);
	assert_string_equal(LAST.backend, "firefly");
	return &LAST;
}

typedef struct {
	tqt_store s;
	tf_cfg cfg;
	tf_ctx x;
} fx;

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	f->cfg = (tf_cfg){
		.retry_ns = 100, .retry_max_ns = 800, .poll_ns = 50, .deadline_ns = 10000, .max_failures = 4
	};
	tq_cfg c = { .backend = "firefly", .map_size = 1u << 20 };
	f->x = (tf_ctx){ .cfg = &f->cfg, .q = tqt_store_open(&f->s, "ff_test", &c) };
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	tqt_store_close(&f->s);
	free(f);
	return 0;
}

static int
take(fx *f, const sc_token_request *r, uint64_t now, tq_rec *rec)
{
	char err[256];
	assert_int_equal(tq_begin(f->s.q, err, sizeof err), 0);
	int o = 0;
	assert_int_equal(tf_on_request(&f->x, r, now, rec, &o, err, sizeof err), 0);
	assert_true(o > 0);
	assert_int_equal(tq_commit(f->s.q, tqt_pub, NULL, err, sizeof err), 0);
	return o;
}

static int
posted(fx *f, const uint8_t id[16], long status, const char *body, uint64_t now, tq_rec *rec)
{
	char err[256];
	tf_http h = http(status, body);
	tf_post p;
	tf_classify_post(&h, &p);
	assert_int_equal(tq_begin(f->s.q, err, sizeof err), 0);
	int o = 0;
	assert_int_equal(tf_on_post(&f->x, id, &p, now, rec, &o, err, sizeof err), 0);
	assert_true(o > 0);
	assert_int_equal(tq_commit(f->s.q, tqt_pub, NULL, err, sizeof err), 0);
	return o;
}

static int
polled(fx *f, const uint8_t id[16], const tf_poll *s, uint64_t now, tq_rec *rec)
{
	char err[256];
	assert_int_equal(tq_begin(f->s.q, err, sizeof err), 0);
	int o = 0;
	assert_int_equal(tf_on_poll(&f->x, id, s, now, rec, &o, err, sizeof err), 0);
	assert_true(o > 0);
	assert_int_equal(tq_commit(f->s.q, tqt_pub, NULL, err, sizeof err), 0);
	return o;
}

static long
due(fx *f, int state, uint64_t now)
{
	uint8_t ids[8][16];
	char err[256];
	return tq_list(f->s.q, state, now, ids, 8, err, sizeof err);
}

static void
test_retries_then_ok(void **state)
{
	fx *f = *state;
	sc_token_request r;
	tq_rec rec;
	uint8_t id[16];
	request(&r, UETR, SC_TOKEN_MINT, 1000);
	tq_key_id(UETR, id);
	assert_int_equal(take(f, &r, 1000, &rec), TF_O_NEW);
	assert_int_equal(tqt_count("token.result"), 1);
	assert_int_equal(last()->state, SC_TOKST_PENDING);
	assert_int_equal(due(f, TQ_QUEUED, 1000), 1);
	/* Re-published request: pending again, still one record to POST. */
	assert_int_equal(take(f, &r, 1001, &rec), TF_O_REPEAT);
	assert_int_equal(due(f, TQ_QUEUED, 1001), 1);

	/* 500 x3: retried with growing backoff; the first failure is reported (pending with error) once. */
	assert_int_equal(posted(f, id, 500, "{\"error\":\"FF10274: Error from tokens service: x\"}", 2000, &rec),
	                 TF_O_SAME);
	assert_int_equal(tqt_count("token.result"), 3);
	assert_int_equal(last()->state, SC_TOKST_PENDING);
	assert_non_null(strstr(last()->error, "FF10274"));
	assert_int_equal(rec.next_ns, 2100);
	assert_int_equal(due(f, TQ_QUEUED, 2099), 0);
	assert_int_equal(posted(f, id, 0, NULL, 2100, &rec), TF_O_SAME);
	assert_int_equal(rec.next_ns, 2300);
	assert_int_equal(posted(f, id, 503, "", 2300, &rec), TF_O_SAME);
	assert_int_equal(rec.next_ns, 2700);
	assert_int_equal(tqt_count("token.result"), 3);
	/* then 202: submitted with FireFly's ids, the error cleared. */
	assert_int_equal(posted(f, id, 202,
	                        "{\"localId\":\"a1b2c3d4-0000-4000-8000-000000000001\",\"tx\":{\"id\":\"" TXID "\"}}",
	                        2700, &rec),
	                 TF_O_CHANGED);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	assert_int_equal(last()->state, SC_TOKST_PENDING);
	assert_string_equal(last()->error, "");
	assert_string_equal(last()->firefly_tx_id, TXID);
	assert_string_equal(last()->firefly_request_id, "a1b2c3d4-0000-4000-8000-000000000001");
	assert_int_equal(rec.failures, 0);
	/* A late answer to a POST (the state moved on) changes nothing. */
	assert_int_equal(posted(f, id, 500, "", 2710, &rec), TF_O_SAME);
	assert_int_equal(rec.state, TQ_SUBMITTED);

	/* Polls: pending, an error, pending, then Succeeded with hash and block. */
	tf_poll s = { .kind = TF_S_PENDING };
	assert_int_equal(due(f, TQ_SUBMITTED, 2749), 0);
	assert_int_equal(polled(f, id, &s, 2750, &rec), TF_O_SAME);
	s.kind = TF_S_ERROR;
	assert_int_equal(polled(f, id, &s, 2800, &rec), TF_O_SAME);
	s = (tf_poll){ .kind = TF_S_SUCCEEDED, .has_hash = 1, .block_number = 42 };
	memset(s.tx_hash, 0xab, 32);
	size_t before = tqt_count("token.result");
	assert_int_equal(polled(f, id, &s, 2900, &rec), TF_O_CHANGED);
	assert_int_equal(tqt_count("token.result"), before + 1);
	assert_int_equal(last()->state, SC_TOKST_CONFIRMED);
	assert_int_equal(last()->block_number, 42);
	assert_int_equal(last()->tx_hash[5], 0xab);
	assert_int_equal(due(f, TQ_SUBMITTED, UINT64_MAX), 0);
	/* A repeat of the request answers confirmed; nothing is POSTed again. */
	assert_int_equal(take(f, &r, 3000, &rec), TF_O_REPEAT);
	assert_int_equal(last()->state, SC_TOKST_CONFIRMED);
	assert_int_equal(due(f, TQ_QUEUED, UINT64_MAX), 0);
}

static void
test_bound_and_deadline(void **state)
{
	fx *f = *state;
	sc_token_request r;
	tq_rec rec;
	uint8_t id[16];
	/* 500 forever: after max_failures (4) no more POSTs; the key is looked up; nothing there -> failed. */
	request(&r, "stuck", SC_TOKEN_BURN, 5);
	tq_key_id("stuck", id);
	take(f, &r, 100, &rec);
	for (int i = 0; i < 3; i++)
		assert_int_equal(posted(f, id, 500, "{\"error\":\"FF10274: x\"}", 200 + (uint64_t)i * 1000, &rec),
		                 TF_O_SAME);
	assert_int_equal(posted(f, id, 500, "{\"error\":\"FF10274: x\"}", 5000, &rec), TF_O_CHANGED);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	assert_int_equal(due(f, TQ_QUEUED, UINT64_MAX), 0);
	assert_int_equal(due(f, TQ_SUBMITTED, 5000), 1);
	tf_poll s = { .kind = TF_S_NOT_FOUND };
	assert_int_equal(polled(f, id, &s, 5100, &rec), TF_O_GAVE_UP);
	assert_int_equal(last()->state, SC_TOKST_FAILED);
	assert_string_equal(last()->reason, "NARR");
	assert_non_null(strstr(last()->error, "4 times"));
	assert_int_equal(due(f, TQ_QUEUED, UINT64_MAX), 0);
	/* The same with a lost answer that got through: the lookup finds FireFly's transaction, followed. */
	request(&r, "lost", SC_TOKEN_MINT, 5);
	tq_key_id("lost", id);
	take(f, &r, 100, &rec);
	for (int i = 0; i < 4; i++)
		posted(f, id, 0, NULL, 200 + (uint64_t)i * 1000, &rec);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	s = (tf_poll){ .kind = TF_S_PENDING };
	snprintf(s.tx_id, sizeof s.tx_id, TXID);
	assert_int_equal(polled(f, id, &s, 5100, &rec), TF_O_CHANGED);
	s = (tf_poll){ .kind = TF_S_SUCCEEDED };
	assert_int_equal(polled(f, id, &s, 5200, &rec), TF_O_CHANGED);
	assert_int_equal(last()->state, SC_TOKST_CONFIRMED);

	/* 409: an earlier POST got through; that transaction is followed, not re-sent. */
	request(&r, "used", SC_TOKEN_MINT, 5);
	tq_key_id("used", id);
	take(f, &r, 100, &rec);
	assert_int_equal(posted(f, id, 409,
	                        "{\"error\":\"FF10431: Idempotency key 'used' already used for transaction '" TXID
	                        "'\"}",
	                        200, &rec),
	                 TF_O_CHANGED);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	assert_string_equal(rec.ff_tx_id, TXID);
	s = (tf_poll){ .kind = TF_S_FAILED };
	snprintf(s.text, sizeof s.text, "FF23054: reverted");
	assert_int_equal(polled(f, id, &s, 300, &rec), TF_O_CHANGED);
	assert_int_equal(last()->state, SC_TOKST_FAILED);
	assert_non_null(strstr(last()->error, "FF23054"));

	/* 408: followed by a lookup by key; nothing there -> POSTed again; found -> its status polled. */
	request(&r, "timeout", SC_TOKEN_TRANSFER, 5);
	tq_key_id("timeout", id);
	take(f, &r, 100, &rec);
	assert_int_equal(posted(f, id, 408, "{\"error\":\"FF10260: timed out\"}", 200, &rec), TF_O_CHANGED);
	assert_int_equal(rec.state, TQ_SUBMITTED);
	assert_string_equal(rec.ff_tx_id, "");
	s = (tf_poll){ .kind = TF_S_NOT_FOUND };
	assert_int_equal(polled(f, id, &s, 300, &rec), TF_O_CHANGED);
	assert_int_equal(rec.state, TQ_QUEUED);
	assert_int_equal(posted(f, id, 408, "", 400, &rec), TF_O_CHANGED);
	s = (tf_poll){ .kind = TF_S_PENDING };
	snprintf(s.tx_id, sizeof s.tx_id, TXID);
	assert_int_equal(polled(f, id, &s, 500, &rec), TF_O_CHANGED);
	assert_string_equal(rec.ff_tx_id, TXID);
	/* Pending until the deadline (set at the first POST answer: 200 + 10000), then failed. */
	s = (tf_poll){ .kind = TF_S_PENDING };
	assert_int_equal(polled(f, id, &s, 10199, &rec), TF_O_SAME);
	assert_int_equal(polled(f, id, &s, 10200, &rec), TF_O_GAVE_UP);
	assert_int_equal(last()->state, SC_TOKST_FAILED);
	assert_non_null(strstr(last()->error, "deadline"));

	/* Refused by FireFly (unknown pool): rejected. */
	request(&r, "nopool", SC_TOKEN_MINT, 5);
	tq_key_id("nopool", id);
	take(f, &r, 100, &rec);
	assert_int_equal(posted(f, id, 404, "{\"error\":\"FF10109: Not found\"}", 200, &rec), TF_O_REJECTED);
	assert_int_equal(last()->state, SC_TOKST_REJECTED);

	/* Every terminal result waits in the outbox for the tokenizer's token.status. */
	tq_stats st;
	char err[256];
	assert_int_equal(tq_get_stats(f->s.q, &st, err, sizeof err), 0);
	assert_int_equal(st.results_pending, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_retries_then_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_and_deadline, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
