/* decode_test.c - the CCIP event decoders on cast-encoded payloads (vectors.h), the topic0 table
 * against the reference's constants (recomputed with base/keccak here), strictness on hostile
 * logs, and the eth_getLogs JSON reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "actors/ccip-tail/decode.h"
#include "actors/ccip-tail/vectors.h"
#include "base/hex.h"
#include "base/keccak.h"

/* Reference §1.3 (Chainlink's Go bindings' Topic() values). */
static const struct {
	const char *sig, *topic0;
} ref[] = {
	{ "CCIPSendRequested((uint64,address,address,uint64,uint256,bool,uint64,address,uint256,bytes,(address,uint256)"
	  "[],"
	  "bytes[],bytes32))",
	  "0xd0c3c799bf9e2639de44391e7f524d229b2b55f5b1ea94b2bf7da42f7243dddd" },
	{ "ExecutionStateChanged(uint64,bytes32,uint8,bytes)",
	  "0xd4f851956a5d67c3997d1c9205045fef79bae2947fdee7e9e2641abc7391ef65" },
	{ "ReportAccepted((((address,uint224)[],(uint64,uint224)[]),(uint64,uint64),bytes32))",
	  "0x291698c01aa71f912280535d88a00d2c59fb63530a3f5d0098560468acb9ebf5" },
	{ "CCIPMessageSent(uint64,uint64,((bytes32,uint64,uint64,uint64,uint64),address,bytes,bytes,bytes,address,"
	  "uint256,uint256,(address,bytes,bytes,uint256,bytes)[]))",
	  "0x192442a2b2adb6a7948f097023cb6b57d29d3a7a5dd33e6666d33c39cc456f32" },
	{ "ExecutionStateChanged(uint64,uint64,bytes32,bytes32,uint8,bytes,uint256)",
	  "0x05665fe9ad095383d018353f4cbcba77e84db27dd215081bbf7cdf9ae6fbe48b" },
	{ "CommitReportAccepted((uint64,bytes,uint64,uint64,bytes32)[],(uint64,bytes,uint64,uint64,bytes32)[],(("
	  "address,"
	  "uint224)[],(uint64,uint224)[]))",
	  "0xb967c9b9e1b7af9a61ca71ff00e9f5b89ec6f2e268de8dacf12f0de8e51f3e47" },
	{ "MessageExecuted(bytes32,uint64,address,bytes32)",
	  "0x9b877de93ea9895756e337442c657f95a34fc68e7eb988bdfa693d5be83016b6" },
};

static uint8_t data[8192];
static ct_event ev;
static char why[160];

static void
topic_hex(uint8_t t[32], const char *h)
{
	assert_int_equal(hex_decode_exact(h, strlen(h), t, 32), HEX_OK);
}

static void
topic_u64(uint8_t t[32], uint64_t v)
{
	memset(t, 0, 32);
	for (int i = 31; i >= 24; i--, v >>= 8)
		t[i] = (uint8_t)v;
}

static void
mklog(ct_log *lg, int row, const char *hexdata, unsigned ntopics)
{
	size_t n;
	memset(lg, 0, sizeof *lg);
	assert_int_equal(hex_decode(hexdata, strlen(hexdata), 0, data, sizeof data, &n, NULL), HEX_OK);
	lg->data = data;
	lg->data_len = n;
	lg->ntopics = ntopics;
	topic_hex(lg->topics[0], ref[row].topic0);
	lg->block_number = 77;
	lg->log_index = 3;
	memset(lg->address, 0xab, 20);
	memset(lg->tx_hash, 0xcd, 32);
}

static void
test_topics(void **st)
{
	(void)st;
	const uint8_t(*t)[32];
	const char *const *names;
	size_t n = ct_topics(&t, &names);
	assert_int_equal(n, sizeof ref / sizeof ref[0]);
	for (size_t i = 0; i < n; i++) {
		uint8_t want[32], k[32];
		topic_hex(want, ref[i].topic0);
		kec_256(ref[i].sig, strlen(ref[i].sig), k); /* independent of the table's own hashing */
		assert_memory_equal(k, want, 32);
		assert_memory_equal(t[i], want, 32);
		assert_non_null(names[i]);
	}
}

static void
test_send16(void **st)
{
	(void)st;
	ct_dec *d = ct_dec_new();
	ct_log lg;
	mklog(&lg, 3, ccip16_hex, 3);
	topic_u64(lg.topics[1], 138);
	topic_u64(lg.topics[2], 7);
	assert_int_equal(ct_decode(d, &lg, 999, 0, &ev, why, sizeof why), CT_OK);
	assert_int_equal(ev.kind, CT_SEND);
	assert_string_equal(ev.name, "CCIPMessageSent");
	sc_ccip_msg *m = &ev.msg;
	assert_int_equal(m->ccip_version, SC_CCIP_V1_6);
	assert_int_equal(m->state, SC_CCIP_SENT);
	assert_memory_equal(m->message_id, "\x11\x11\x11\x11", 4);
	assert_true(m->source_chain_selector == 5009297550715157269ULL);
	assert_int_equal(m->dest_chain_selector, 138);
	assert_int_equal(m->sequence_number, 7);
	assert_int_equal(m->nonce, 3);
	assert_int_equal(m->sender_len, 20);
	assert_memory_equal(m->sender, "\xf3\x9f\xd6\xe5", 4);
	assert_int_equal(m->receiver_len, 20); /* abi-encoded address unwrapped */
	assert_memory_equal(m->receiver, "\x70\x99\x79\x70", 4);
	assert_int_equal(m->data_len, 4);
	uint8_t h[32];
	kec_256("\xde\xad\xbe\xef", 4, h);
	assert_memory_equal(m->data_hash, h, 32);
	assert_memory_equal(m->fee_token, "\x5f\xbd\xb2\x31", 4);
	assert_int_equal(u256_low64(&m->fee_amount), 123456789);
	assert_int_equal(m->token_amounts_count, 2);
	assert_int_equal(u256_low64(&m->token_amounts[0].amount), 1000);
	assert_false(u256_fits_u64(&m->token_amounts[1].amount)); /* 2^64 */
	assert_int_equal(m->block_number, 77);
	assert_int_equal(m->log_index, 3);

	/* indexed copies that disagree with the header: refused */
	topic_u64(lg.topics[2], 8);
	assert_int_equal(ct_decode(d, &lg, 999, 0, &ev, why, sizeof why), CT_EBAD);
	assert_non_null(strstr(why, "disagree"));
	/* a dirty indexed uint64 */
	topic_u64(lg.topics[2], 7);
	lg.topics[1][0] = 1;
	assert_int_equal(ct_decode(d, &lg, 999, 0, &ev, why, sizeof why), CT_EBAD);
	ct_dec_free(d);
}

static void
test_send15(void **st)
{
	(void)st;
	ct_dec *d = ct_dec_new();
	ct_log lg;
	mklog(&lg, 0, ccip15_hex, 1);
	assert_int_equal(ct_decode(d, &lg, 1, 138, &ev, why, sizeof why), CT_OK);
	sc_ccip_msg *m = &ev.msg;
	assert_int_equal(ev.kind, CT_SEND);
	assert_int_equal(m->ccip_version, SC_CCIP_V1_5);
	assert_true(m->source_chain_selector == 16015286601757825753ULL);
	assert_int_equal(m->dest_chain_selector, 138); /* from the OnRamp's configured lane */
	assert_int_equal(m->sequence_number, 42);
	assert_int_equal(m->nonce, 9);
	assert_memory_equal(m->message_id, "\x22\x22\x22\x22", 4);
	assert_int_equal(u256_low64(&m->fee_amount), 1500000000000000ULL);
	assert_int_equal(m->data_len, 5);
	assert_int_equal(m->token_amounts_count, 2);
	assert_int_equal(u256_low64(&m->token_amounts[1].amount), 88);
	/* a topic too many */
	lg.ntopics = 2;
	assert_int_equal(ct_decode(d, &lg, 1, 138, &ev, why, sizeof why), CT_EBAD);
	/* truncated data */
	lg.ntopics = 1;
	lg.data_len -= 40;
	assert_int_equal(ct_decode(d, &lg, 1, 138, &ev, why, sizeof why), CT_EBAD);
	assert_non_null(strstr(why, "data:"));
	ct_dec_free(d);
}

static void
test_exec15(void **st)
{
	(void)st;
	ct_dec *d = ct_dec_new();
	ct_log lg;
	mklog(&lg, 1, exec15_hex, 3);
	topic_u64(lg.topics[1], 42);
	memset(lg.topics[2], 0x22, 32);
	assert_int_equal(ct_decode(d, &lg, 138, 16015286601757825753ULL, &ev, why, sizeof why), CT_OK);
	assert_int_equal(ev.kind, CT_EXEC);
	assert_int_equal(ev.exec_state, CT_EX_FAILURE);
	assert_int_equal(ev.msg.sequence_number, 42);
	assert_true(ev.msg.source_chain_selector == 16015286601757825753ULL);
	assert_int_equal(ev.msg.dest_chain_selector, 138);
	assert_memory_equal(ev.msg.message_id, "\x22\x22", 2);
	assert_int_equal(ev.msg.return_data_len, 100); /* Error(string) "boom" */
	assert_memory_equal(ev.msg.return_data, "\x08\xc3\x79\xa0", 4);
	/* state IN_PROGRESS (1) is not an outcome: refused */
	data[31] = 1;
	assert_int_equal(ct_decode(d, &lg, 138, 1, &ev, why, sizeof why), CT_EBAD);
	/* dirty uint8 padding */
	data[31] = 3;
	data[30] = 1;
	assert_int_equal(ct_decode(d, &lg, 138, 1, &ev, why, sizeof why), CT_EBAD);
	ct_dec_free(d);
}

static void
test_commit15(void **st)
{
	(void)st;
	ct_dec *d = ct_dec_new();
	ct_log lg;
	mklog(&lg, 2, commit15_hex, 1);
	assert_int_equal(ct_decode(d, &lg, 138, 777, &ev, why, sizeof why), CT_OK);
	assert_int_equal(ev.kind, CT_COMMIT);
	assert_int_equal(ev.nroots, 1);
	assert_int_equal(ev.roots[0].min_seq, 40);
	assert_int_equal(ev.roots[0].max_seq, 44);
	assert_int_equal(ev.roots[0].source_selector, 777);
	assert_int_equal(ev.roots[0].onramp_len, 0);
	assert_memory_equal(ev.roots[0].root, "\x33\x33", 2);
	assert_int_equal(ev.msg.dest_chain_selector, 138);
	ct_dec_free(d);
}

static void
test_exec16(void **st)
{
	(void)st;
	ct_dec *d = ct_dec_new();
	ct_log lg;
	mklog(&lg, 4, exec16_hex, 4);
	topic_u64(lg.topics[1], 5009297550715157269ULL);
	topic_u64(lg.topics[2], 7);
	memset(lg.topics[3], 0x11, 32);
	assert_int_equal(ct_decode(d, &lg, 138, 0, &ev, why, sizeof why), CT_OK);
	assert_int_equal(ev.kind, CT_EXEC);
	assert_int_equal(ev.exec_state, CT_EX_SUCCESS);
	assert_int_equal(ev.msg.sequence_number, 7);
	assert_true(ev.msg.source_chain_selector == 5009297550715157269ULL);
	assert_memory_equal(ev.msg.message_id, "\x11\x11", 2);
	assert_int_equal(ev.msg.return_data_len, 0);
	lg.ntopics = 3;
	assert_int_equal(ct_decode(d, &lg, 138, 0, &ev, why, sizeof why), CT_EBAD);
	ct_dec_free(d);
}

static void
test_commit16(void **st)
{
	(void)st;
	ct_dec *d = ct_dec_new();
	ct_log lg;
	mklog(&lg, 5, commit16_hex, 1);
	assert_int_equal(ct_decode(d, &lg, 138, 0, &ev, why, sizeof why), CT_OK);
	assert_int_equal(ev.kind, CT_COMMIT);
	assert_int_equal(ev.nroots, 2); /* blessed and unblessed */
	assert_true(ev.roots[0].source_selector == 5009297550715157269ULL);
	assert_int_equal(ev.roots[0].onramp_len, 20);
	assert_memory_equal(ev.roots[0].onramp, "\x5f\xbd\xb2\x31", 4);
	assert_int_equal(ev.roots[0].min_seq, 1);
	assert_int_equal(ev.roots[0].max_seq, 5);
	assert_true(ev.roots[1].source_selector == 16015286601757825753ULL);
	assert_int_equal(ev.roots[1].min_seq, 6);
	assert_memory_equal(ev.roots[1].root, "\x66\x66", 2);
	ct_dec_free(d);
}

static void
test_router(void **st)
{
	(void)st;
	ct_dec *d = ct_dec_new();
	ct_log lg;
	mklog(&lg, 6, router_hex, 1);
	assert_int_equal(ct_decode(d, &lg, 138, 0, &ev, why, sizeof why), CT_OK);
	assert_int_equal(ev.kind, CT_EXEC);
	assert_true(ev.from_router);
	assert_int_equal(ev.exec_state, CT_EX_SUCCESS);
	assert_true(ev.msg.source_chain_selector == 5009297550715157269ULL);
	assert_memory_equal(ev.msg.message_id, "\x11\x11", 2);
	ct_dec_free(d);
}

static void
test_unknown(void **st)
{
	(void)st;
	ct_dec *d = ct_dec_new();
	ct_log lg;
	mklog(&lg, 6, router_hex, 1);
	lg.topics[0][0] ^= 1;
	assert_int_equal(ct_decode(d, &lg, 138, 0, &ev, why, sizeof why), CT_EUNKNOWN);
	lg.ntopics = 0;
	assert_int_equal(ct_decode(d, &lg, 138, 0, &ev, why, sizeof why), CT_EUNKNOWN);
	ct_dec_free(d);
}

/* One log object as a validated document's value. */
static js_val
jlog(const char *js)
{
	js_val v;
	assert_int_equal(js_validate(js, strlen(js), NULL, NULL), 0);
	assert_int_equal(js_find(js, strlen(js), "", &v), 0);
	return v;
}

static void
test_json(void **st)
{
	(void)st;
	ct_dec *d = ct_dec_new();
	ct_log lg;
	char js[2048], alt[2048];
#define LOGFMT                                                                                                         \
	"{\"address\":\"0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0\",\"topics\":[\"%s\"],\"data\":\"0x%s\","           \
	"\"blockNumber\":\"0x1b4\",\"blockHash\":\"0x%064d\",\"transactionHash\":\"0x%064d\","                         \
	"\"logIndex\":\"0x2\",\"blockTimestamp\":\"0x6553f100\",\"removed\":false}"
	snprintf(js, sizeof js, LOGFMT, ref[6].topic0, router_hex, 7, 8);
#undef LOGFMT
	js_val j = jlog(js);
	assert_int_equal(ct_log_from_js(d, &j, &lg, why, sizeof why), 0);
	assert_int_equal(lg.block_number, 0x1b4);
	assert_int_equal(lg.log_index, 2);
	assert_int_equal(lg.block_time_s, 0x6553f100);
	assert_int_equal(lg.has_block_time, 1);
	assert_int_equal(lg.removed, 0);
	assert_int_equal(lg.ntopics, 1);
	assert_int_equal(lg.data_len, 128);
	assert_int_equal(lg.block_hash[31], 7);
	assert_int_equal(lg.tx_hash[31], 8);
	assert_int_equal(ct_decode(d, &lg, 138, 0, &ev, why, sizeof why), CT_OK);
	uint64_t n;
	uint8_t h[32];
	int has_time;
	assert_int_equal(ct_log_block_from_js(&j, &n, h, &has_time), 3);
	assert_int_equal(n, 0x1b4);
	assert_int_equal(h[31], 7);
	assert_int_equal(has_time, 1);

	/* escapes are read as jansson read them: the same log, every string escaped somewhere */
	snprintf(alt, sizeof alt,
	         "{\"addr\\u0065ss\":\"\\u0030x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0\",\"topics\":[\"%s\"],"
	         "\"data\":\"0\\u0078%s\",\"blockNumber\":\"0x1b\\u0034\",\"blockHash\":\"0x%064d\","
	         "\"transactionHash\":\"0x%064d\",\"logIndex\":\"0x2\",\"removed\":true,\"extra\":[{\"x\":1}],"
	         "\"extra\":null}",
	         ref[6].topic0, router_hex, 7, 8);
	j = jlog(alt);
	assert_int_equal(ct_log_from_js(d, &j, &lg, why, sizeof why), 0);
	assert_int_equal(lg.block_number, 0x1b4);
	assert_int_equal(lg.address[0], 0x9f);
	assert_int_equal(lg.data_len, 128);
	assert_int_equal(lg.has_block_time, 0);
	assert_int_equal(lg.block_time_s, 0);
	assert_int_equal(lg.removed, 1);
	assert_int_equal(ct_decode(d, &lg, 138, 0, &ev, why, sizeof why), CT_OK);

	/* malformed fields are named, in the jansson reader's order */
	static const struct {
		const char *from, *to, *why;
	} bad[] = {
		{ "\"logIndex\":\"0x2\"", "\"logIndex\":\"12\"", "logIndex" },
		{ "\"logIndex\":\"0x2\"", "\"logIndex\":\"0x00000000000000002\"", "logIndex" }, /* 17 digits */
		{ "\"logIndex\":\"0x2\"", "\"logIndex\":2", "logIndex" },
		{ "\"logIndex\":\"0x2\"", "\"logIndex\":\"0x2\",\"logIndex\":\"0x2\"", "duplicate logIndex" },
		{ "\"blockNumber\":\"0x1b4\",", "", "blockNumber" },
		{ "\"blockNumber\":\"0x1b4\"", "\"blockNumber\":\"0X1B4\"", NULL },
		{ "\"blockTimestamp\":\"0x6553f100\"", "\"blockTimestamp\":null", "blockTimestamp" },
		{ "\"address\":\"0x9fe4", "\"address\":\"0x9fe", "address" },
		{ "\"address\":\"0x9fe4", "\"Address\":\"0x9fe4", "address" },
		{ "\"transactionHash\":\"0x", "\"transactionHash\":\"0x00", "transactionHash" },
		{ "\"topics\":[", "\"topics\":[\"0x01\",", "topic" },
		{ "\"topics\":[", "\"topics\":[0,0,0,0,", "topics" },
		{ "\"data\":\"0x", "\"data\":\"0xabc", "data hex" },
		{ "\"data\":\"0x", "\"data\":\"", "data prefix" },
		{ "\"data\":\"0x", "\"data\":0,\"x\":\"", "data" },
		{ "\"topics\":[\"", "\"topics\":\"\",\"x\":[\"", "topics" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *at = strstr(js, bad[i].from);
		assert_non_null(at);
		snprintf(alt, sizeof alt, "%.*s%s%s", (int)(at - js), js, bad[i].to, at + strlen(bad[i].from));
		j = jlog(alt);
		if (bad[i].why == NULL) {
			assert_int_equal(ct_log_from_js(d, &j, &lg, why, sizeof why), 0);
			continue;
		}
		assert_int_equal(ct_log_from_js(d, &j, &lg, why, sizeof why), -1);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("case %zu: why '%s', want '%s'", i, why, bad[i].why);
	}
	j = jlog("[1]");
	assert_int_equal(ct_log_from_js(d, &j, &lg, why, sizeof why), -1);
	assert_string_equal(why, "log is not an object");
	ct_dec_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topics),   cmocka_unit_test(test_send16),   cmocka_unit_test(test_send15),
		cmocka_unit_test(test_exec15),   cmocka_unit_test(test_commit15), cmocka_unit_test(test_exec16),
		cmocka_unit_test(test_commit16), cmocka_unit_test(test_router),   cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
