/* batch.h - many feed updates in one transaction: the two batch calls oraclebus sends, the
 * per-call results they return, and the isolation of the calls that make a batch revert.
 *
 *   aggregate3((address target, bool allowFailure, bytes callData)[])   Multicall3, the standard
 *       contract at 0xcA11bde05977b3631167028862bE2a173976CA11; allowFailure is always true, so
 *       one call's revert does not revert the others.
 *   updateAnswers(address[] aggregators, int256[] answers)             deploy/contracts/
 *       OracleBatcher.sol: calls updateAnswer(int256) on each aggregator, catching each revert.
 * Both return (bool success, bytes returnData)[], one per call in order (cb_decode_results).
 *
 * cb_isolate finds the calls that make a batch fail when the whole batch reverts (a batch
 * contract without per-call catching, or a call that exhausts the gas): it splits the batch in
 * halves until each failing part is one call. Pure: the caller's probe runs eth_call.
 *
 * Memory: no allocation; callers own every buffer. Result payloads are BORROWED from the input. */
#ifndef OB_CHAIN_BATCH_H
#define OB_CHAIN_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

#define CB_MAX_CALLS 64 /* calls per batch (a transaction of 64 aggregate3 calls is ~15 KB) */

enum {
	CB_NONE = 0,      /* no batching: one transaction per feed */
	CB_AGGREGATE3,    /* Multicall3 aggregate3 */
	CB_UPDATE_ANSWERS /* OracleBatcher updateAnswers */
};

#define CB_AGGREGATE3_SIG     "aggregate3((address,bool,bytes)[])"
#define CB_UPDATE_ANSWERS_SIG "updateAnswers(address[],int256[])"

/* "aggregate3" / "updateAnswers" / "off" -> CB_*; -1 if none. */
int cb_kind_parse(const char *s);
const char *cb_kind_name(int kind);

/* One call of a batch: the target and, for aggregate3, its calldata (borrowed); for
 * updateAnswers, the answer (int256). */
typedef struct {
	const uint8_t *target; /* 20 bytes */
	const uint8_t *data;   /* aggregate3: the inner call */
	size_t len;
	u256 answer; /* updateAnswers */
} cb_call;

/* Calldata of the batch call into out[cap]. 0, or -1 (n == 0, n > CB_MAX_CALLS, cap too small:
 * *len then says how much is needed when it could be computed). */
int cb_encode(int kind, const cb_call *calls, size_t n, uint8_t *out, size_t cap, size_t *len);

typedef struct {
	int success;
	const uint8_t *data; /* returnData: the revert data when !success (borrowed) */
	size_t len;
} cb_result;

/* Decodes (bool,bytes)[] return data; exactly n results expected. 0, or -1 with err. */
int cb_decode_results(const uint8_t *data, size_t len, cb_result *out, size_t n, char *err, size_t errlen);

/* cb_isolate's probe: runs the batch of the k calls idx[0..k) and says per call whether it
 * succeeded (failed[j] = 1 for idx[j]). Returns CB_P_OK (failed[] filled), CB_P_REVERT (the
 * whole batch reverted: failed[] not read), or CB_P_ERROR (cannot tell now, e.g. RPC down). */
enum {
	CB_P_OK = 0,
	CB_P_REVERT = 1,
	CB_P_ERROR = -1
};
typedef int (*cb_probe_fn)(void *ctx, const size_t *idx, size_t k, uint8_t *failed);

/* Marks culprit[i] = 1 for every call of 0..n that fails: per call when the batch answers, by
 * halving when a batch reverts as a whole (a single call that reverts alone is a culprit).
 * Returns the number of probes made, or -1 when a probe returned CB_P_ERROR (culprit[] then
 * incomplete: decide nothing). n <= CB_MAX_CALLS. */
int cb_isolate(size_t n, cb_probe_fn probe, void *ctx, uint8_t *culprit);

#endif
