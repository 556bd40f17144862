/* rpc.h - an Ethereum JSON-RPC client over HTTP(S) (libcurl, jansson) with a failover list of
 * endpoints, each verified to be on the expected chain before it is used.
 *
 * Endpoints: "http://a:8545,http://b:8545". The first is preferred. A call goes to the first
 * endpoint that is not marked down; a transport failure (connect, timeout, HTTP status without a
 * JSON-RPC body, oversized or undecodable response) marks the endpoint down for the recheck period
 * (default 10 s, rpc_set_recheck_ms) and the call moves on to the next one, so after that period
 * the preferred endpoint is tried again. Before its first use, again after being down, after any
 * call that had to open a new connection (the node behind the URL may have changed: such a call's
 * answer is dropped unless the chain still matches) and every RPC_CHAIN_CHECK_MS_DEFAULT (60 s,
 * rpc_set_chain_check_ms) while in use, an endpoint must answer eth_chainId equal to the expected
 * chain id. An endpoint on another chain is refused (logged, counted as kind="wrong_chain", health
 * reason "rpc_chain:<endpoint>" set until it is back on the right chain) and the call fails over to
 * the next. When every endpoint is marked down, each is tried once anyway, so recovery is noticed
 * at the next call.
 *
 * A JSON-RPC error from the node is not a transport failure: it is returned as RPC_ENODE with the
 * node's code and message (the caller classifies it: nonce too low, already known, ...), and the
 * endpoint stays in use.
 *
 * Metrics (rt_metrics): rpc_requests_total{method}, rpc_errors_total{endpoint,kind} with kind in
 * connect|timeout|http|too_big|decode|wrong_chain|node, rpc_latency_seconds. The endpoint label
 * and logs show only scheme://host:port, never a path or credentials (API keys live there).
 *
 * Memory: rpc_open copies urls. rpc_call steals the params reference (NULL = []) and returns a
 * new reference in *result that the caller json_decref's. Buffers from rpc_eth_call are malloc'd
 * and the caller frees them. Threads: one thread at a time per rpc handle; open one per thread.
 */
#ifndef OB_CHAIN_RPC_H
#define OB_CHAIN_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "chain/jscan.h"
#include "base/u256.h"

typedef struct rpc rpc;

/* transport: RPC_T_NONE for a node error (code and msg are the node's), else what failed.
 * data: a node error's "data" member when it is a string (the revert data of eth_call and
 * eth_estimateGas, "0x..."; chain/revert.h decodes it), "" otherwise or when longer than fits. */
enum {
	RPC_T_NONE,
	RPC_T_CONNECT,
	RPC_T_TIMEOUT,
	RPC_T_HTTP,
	RPC_T_TOO_BIG,
	RPC_T_DECODE,
	RPC_T_WRONG_CHAIN,
	RPC_T_NO_ENDPOINT
};
#define RPC_ERR_DATA_MAX 1024
typedef struct {
	int code;
	int transport;
	char msg[256];
	char data[RPC_ERR_DATA_MAX];
} rpc_error;

/* Fills e (NULL is fine): transport or node error, code, message. Shared by rpc.c, rpc_parse.c, eth.c. */
void rpc_seterr(rpc_error *e, int transport, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Return values of the calls: codes of the project's one error space (base/err.h). */
enum {
	RPC_OK = OB_OK,
	RPC_ETRANSPORT = OB_ERPC_TRANSPORT,
	RPC_ENODE = OB_ERPC_NODE,
	RPC_EDECODE = OB_ERPC_DECODE,
	RPC_ENOTFOUND = OB_ERPC_NOTFOUND,
	RPC_ENOBATCH = OB_ERPC_NOBATCH
};

#define RPC_MAX_ENDPOINTS        8
#define RPC_MAX_RESPONSE_DEFAULT (4u << 20)

/* Opens a client for a comma list of http(s) URLs. expect_chain_id 0 = learn it from the first
 * endpoint that answers, and require the others to match. Reachable endpoints are verified now;
 * unreachable ones later. NULL (err filled) when the list is malformed or every endpoint answered
 * with another chain id. */
rpc *rpc_open(const char *urls, uint64_t expect_chain_id, int timeout_ms, char *err, size_t errlen);
void rpc_close(rpc *r);

void rpc_set_recheck_ms(rpc *r, int ms); /* how long a failed endpoint is skipped */
/* How often the chain id of an endpoint in use is asked again (default RPC_CHAIN_CHECK_MS_DEFAULT;
 * 0 = only when it is (re)connected). */
#define RPC_CHAIN_CHECK_MS_DEFAULT 60000
void rpc_set_chain_check_ms(rpc *r, int ms);
void rpc_set_max_response(rpc *r, size_t bytes); /* default RPC_MAX_RESPONSE_DEFAULT */

uint64_t rpc_chain_id(const rpc *r); /* expected or learned; 0 until learned */
size_t rpc_endpoint_count(const rpc *r);
const char *rpc_endpoint_name(const rpc *r, size_t i); /* scheme://host:port, for labels */
int rpc_endpoint_up(const rpc *r, size_t i);           /* 1 when verified and not marked down */
int rpc_active(const rpc *r);                          /* index of the endpoint last used, or -1 */

/* Any method. RPC_OK with *result set (may be JSON null), RPC_ENODE (e->code, e->msg), or
 * RPC_ETRANSPORT when no endpoint answered (e->transport says why for the last one tried). */
int rpc_call(rpc *r, const char *method, json_t *params, json_t **result, rpc_error *e);

/* Like rpc_call (same failover, same return values and errors), but builds no JSON tree of the
 * answer: on RPC_OK *body is the raw response body (malloc'd, NUL-terminated at (*body)[*len]; the
 * caller frees it) and *result is its "result" member, read with chain/jscan. The envelope is
 * checked as rpc_parse_response checks it (rpc_parse_response_raw): the whole body is valid JSON
 * (js_validate, so the caller may walk *result with js_iter without validating again), the id is
 * the request's, "error" is absent or null. For large answers (eth_getLogs): a DOM of a 15 MB
 * response costs several times its parse. On any other return *body is NULL. */
int rpc_call_raw(rpc *r, const char *method, json_t *params, char **body, size_t *len, js_val *result, rpc_error *e);

/* ---- batches (JSON-RPC 2.0: an array of calls in one HTTP request) --------------------------
 * One call of a batch: the caller sets method and params (the reference is stolen, NULL = []);
 * rpc_call_batch sets the rest. rc: RPC_OK (result is a new reference the caller json_decref's),
 * RPC_ENODE (e: the node's error for this call), RPC_EDECODE (no usable answer for this call in
 * the batch: absent, or its envelope malformed; the node may or may not have acted on it), or
 * RPC_ETRANSPORT (the batch as a whole got no answer; e says why). */
typedef struct {
	const char *method;
	json_t *params;
	int rc;
	json_t *result;
	rpc_error e;
} rpc_batch_call;
#define RPC_BATCH_MAX 1000 /* calls in one batch (geth's default BatchRequestLimit; Besu's is 1024) */

/* Sends calls[0..n) as one batch, with the failover and chain checks of rpc_call. The answers may
 * come in any order; each is matched to its call by id. Returns RPC_OK (every call's rc set),
 * RPC_ETRANSPORT (no endpoint answered; every call's rc is RPC_ETRANSPORT with e copied),
 * RPC_ENOBATCH (the endpoint answered with one JSON-RPC object, an error: it does not take
 * batches; e has its code and message; no call's answer is known: every rc is RPC_ENOBATCH), or
 * RPC_EDECODE when n is 0 or above RPC_BATCH_MAX (nothing sent). */
int rpc_call_batch(rpc *r, rpc_batch_call *calls, size_t n, rpc_error *e);

/* ---- helpers (block tags: "latest", "pending", "safe", "finalized") ---------------------- */
int rpc_eth_call(rpc *r, const uint8_t to[20], const uint8_t *data, size_t len, uint8_t **out, size_t *outlen,
                 rpc_error *e);
/* eth_call with a sender and gas limit at a given block (RPC_LATEST = "latest"), as a replay of a
 * transaction: from may be NULL, gas 0 = the node's default, value NULL = 0. A revert is RPC_ENODE
 * with the revert data in e->data. */
typedef struct {
	const uint8_t *from;
	const uint8_t *to;
	const uint8_t *data;
	size_t len;
	uint64_t gas;
	const u256 *value;
	uint64_t block;
} rpc_callmsg;
int rpc_eth_call_at(rpc *r, const rpc_callmsg *m, uint8_t **out, size_t *outlen, rpc_error *e);
/* rpc_eth_call_at as one call of a batch: 0 or -1 (out of memory); and the reading of an
 * eth_call's answer: RPC_OK with *out malloc'd (the caller frees), or RPC_EDECODE. */
int rpc_eth_call_call(rpc_batch_call *c, const rpc_callmsg *m);
int rpc_eth_call_result(const json_t *result, uint8_t **out, size_t *outlen, rpc_error *e);
int rpc_block_number(rpc *r, uint64_t *n, rpc_error *e);
int rpc_get_tx_count(rpc *r, const uint8_t addr[20], const char *tag, uint64_t *n, rpc_error *e);
/* eth_sendRawTransaction; hash (may be NULL) is the node's answer. */
int rpc_send_raw(rpc *r, const uint8_t *raw, size_t len, uint8_t hash[32], rpc_error *e);
/* The call of a batch that rpc_send_raw makes (params of eth_sendRawTransaction for raw). 0 or -1
 * (out of memory). The answer's check: rpc_send_raw_result (RPC_OK, or RPC_EDECODE when the result
 * is not a 32-byte hash). */
int rpc_send_raw_call(rpc_batch_call *c, const uint8_t *raw, size_t len);
int rpc_send_raw_result(const json_t *result, uint8_t hash[32], rpc_error *e);
int rpc_gas_price(rpc *r, u256 *wei, rpc_error *e);
int rpc_max_priority_fee(rpc *r, u256 *wei, rpc_error *e);

typedef struct {
	uint8_t tx_hash[32];
	uint64_t block_number;
	uint8_t block_hash[32];
	int status; /* 1 success, 0 reverted, -1 absent (pre-Byzantium root) */
	uint64_t gas_used;
	u256 effective_gas_price;
	uint8_t contract[20]; /* contractAddress, zero if none */
} rpc_receipt;
/* RPC_ENOTFOUND when the node has no receipt (not mined, or dropped by a reorg). */
int rpc_get_receipt(rpc *r, const uint8_t hash[32], rpc_receipt *rc, rpc_error *e);
/* The same as one call of a batch (0 or -1: out of memory), and its answer's reading: RPC_OK,
 * RPC_ENOTFOUND (null), or RPC_EDECODE. */
int rpc_get_receipt_call(rpc_batch_call *c, const uint8_t hash[32]);
int rpc_get_receipt_result(const json_t *result, rpc_receipt *rc, rpc_error *e);

typedef struct {
	uint64_t number;
	uint8_t hash[32];
	uint8_t parent_hash[32];
	uint64_t timestamp;
	uint64_t gas_limit;
	int has_base_fee; /* London+ */
	u256 base_fee_per_gas;
} rpc_block;
/* number = RPC_LATEST for the head. RPC_ENOTFOUND when there is no such block. */
#define RPC_LATEST UINT64_MAX
int rpc_block_by_number(rpc *r, uint64_t number, rpc_block *b, rpc_error *e);

/* eth_getTransactionByHash: RPC_ENOTFOUND if the node does not know it; else *block_number is
 * its block, or 0 while pending. */
int rpc_get_tx(rpc *r, const uint8_t hash[32], uint64_t *block_number, rpc_error *e);
/* The same as one call of a batch (0 or -1: out of memory), and its answer's reading: RPC_OK (with
 * *block_number, 0 while pending), RPC_ENOTFOUND (null: the node does not know it), RPC_EDECODE. */
int rpc_get_tx_call(rpc_batch_call *c, const uint8_t hash[32]);
int rpc_get_tx_result(const json_t *result, uint64_t *block_number, rpc_error *e);

/* ---- the decoder (pure functions, fuzzed by chain/rpc_fuzz.c) ----------------------------- */
/* Parses a JSON-RPC 2.0 response body. expect_id < 0 = accept any id. RPC_OK with a new
 * reference in *result, RPC_ENODE (e filled from "error"), or RPC_EDECODE. */
int rpc_parse_response(const char *body, size_t len, long long expect_id, json_t **result, rpc_error *e);
/* The same checks on the raw body, with jscan (no tree): RPC_OK with *result pointing into body,
 * RPC_ENODE, or RPC_EDECODE. jansson's JSON_REJECT_DUPLICATES refused a duplicate key anywhere;
 * here a duplicate of an envelope member (jsonrpc, id, result, error; code, message in error) is
 * refused, and duplicates inside the result are the caller's to check. */
int rpc_parse_response_raw(const char *body, size_t len, long long expect_id, js_val *result, rpc_error *e);
/* A batch answer to the calls with ids first_id..first_id+n-1: RPC_OK with every calls[i].rc,
 * .result and .e set as rpc_call_batch says (results are new references); RPC_ENOBATCH when the
 * body is one error object (e filled from it); RPC_EDECODE (e says why, no result kept) when the
 * body is not JSON, not an array, has more elements than calls, an element that is not an object,
 * an id outside the request's or one id twice. An element with a null id (a server's "invalid
 * request" it could not attribute) is skipped; its call stays RPC_EDECODE. n <= RPC_BATCH_MAX. */
int rpc_parse_batch(const char *body, size_t len, long long first_id, rpc_batch_call *calls, size_t n, rpc_error *e);
/* Hex quantities "0x0", "0x1a" (no leading zeros beyond "0x0" are tolerated too). 0 or -1. */
int rpc_parse_u64(const json_t *v, uint64_t *out);
int rpc_parse_u256(const json_t *v, u256 *out);
/* Exact-length hex data "0x" + 2n digits. 0 or -1. */
int rpc_parse_bytes(const json_t *v, uint8_t *out, size_t n);
int rpc_parse_receipt(const json_t *v, rpc_receipt *rc);
int rpc_parse_block(const json_t *v, rpc_block *b);

#endif
