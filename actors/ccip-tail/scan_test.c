/* scan_test.c - the pure parts of scan.c: which node errors mean "range too large" (split), and the
 * chain configuration (JSON file and the single-chain contract list). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "actors/ccip-tail/scan.h"

static void
test_range_refused(void **st)
{
	(void)st;
	static const struct {
		int rc, code, transport;
		const char *msg;
		int want;
	} v[] = {
		{ RPC_ENODE, -32005, RPC_T_NONE, "limit exceeded", 1 },
		{ RPC_ENODE, -32602, RPC_T_NONE, "query returned more than 10000 results", 1 },
		{ RPC_ENODE, -32000, RPC_T_NONE, "block range too large", 1 },
		{ RPC_ENODE, -32000, RPC_T_NONE, "eth_getLogs is limited to a 10,000 range", 1 },
		{ RPC_ETRANSPORT, 0, RPC_T_TOO_BIG, "response too big", 1 },
		{ RPC_ENODE, -32000, RPC_T_NONE, "header not found", 0 },
		{ RPC_ETRANSPORT, 0, RPC_T_CONNECT, "refused", 0 },
		{ RPC_ETRANSPORT, 0, RPC_T_TIMEOUT, "timeout", 0 },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		rpc_error e = { v[i].code, v[i].transport, "", "" };
		snprintf(e.msg, sizeof e.msg, "%s", v[i].msg);
		assert_int_equal(ct_range_refused(v[i].rc, &e), v[i].want);
	}
}

static ct_chain out[CT_MAX_CHAINS];

static void
test_config(void **st)
{
	(void)st;
	ct_chain d;
	size_t n = 0;
	char err[256];
	memset(&d, 0, sizeof d);
	d.confirmations = 2;
	d.start_block = -1;
	d.max_range = 500;
	const char *js =
	        "{\"chains\":[{\"name\":\"eth\",\"selector\":\"5009297550715157269\",\"rpc_url\":[\"http://"
	        "a:1\",\"http://b:2\"],"
	        "\"router\":\"0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0\",\"confirmations\":12,\"start_block\":7,"
	        "\"contracts\":[\"0x5FbDB2315678afecb367f032d93F642f64180aa3\",{\"address\":"
	        "\"0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0\",\"peer_selector\":\"138\"}]},"
	        "{\"name\":\"c138\",\"selector\":138,\"rpc_url\":\"http://"
	        "c:3\",\"contracts\":[\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"]}]}";
	json_t *j = json_loads(js, 0, NULL);
	assert_non_null(j);
	int rc = ct_chains_from_json(j, &d, out, &n, err, sizeof err);
	if (rc != 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 2);
	assert_true(out[0].selector == 5009297550715157269ULL);
	assert_string_equal(out[0].rpc_urls, "http://a:1,http://b:2");
	assert_int_equal(out[0].confirmations, 12);
	assert_int_equal(out[0].start_block, 7);
	assert_int_equal(out[0].nc, 2); /* the Router listed again as a contract: one entry, its peer kept */
	assert_int_equal(out[0].c[0].peer, 138);
	assert_int_equal(out[1].confirmations, 2);
	assert_int_equal(out[1].max_range, 500);
	assert_int_equal(out[1].start_block, -1);
	json_decref(j);
	j = json_loads("{\"chains\":[{\"name\":\"x\",\"rpc_url\":\"http://a\",\"contracts\":[]}]}", 0, NULL);
	assert_int_equal(ct_chains_from_json(j, &d, out, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "selector"));
	json_decref(j);

	ct_chain c;
	memset(&c, 0, sizeof c);
	assert_int_equal(ct_contracts_parse(&c,
	                                    "0x5FbDB2315678afecb367f032d93F642f64180aa3:42, "
	                                    "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
	                                    err, sizeof err),
	                 0);
	assert_int_equal(c.nc, 2);
	assert_int_equal(c.c[0].peer, 42);
	assert_int_equal(c.c[1].peer, 0);
	assert_int_equal(ct_contracts_parse(&c, "0x1234", err, sizeof err), -1);
	assert_int_equal(ct_contracts_parse(&c, "0x5FbDB2315678afecb367f032d93F642f64180aa3:x", err, sizeof err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_range_refused), cmocka_unit_test(test_config) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
