/* decode.h - CCIP event logs (eth_getLogs entries) into typed events, through one table of
 * decoders keyed by topic0. Exact layouts: /work/shared/reference/ccip-tokenization-bus.md §1.
 *
 *   v1.5 EVM2EVMOnRamp   CCIPSendRequested(Internal.EVM2EVMMessage)                  -> CT_SEND
 *   v1.5 EVM2EVMOffRamp  ExecutionStateChanged(uint64 i,bytes32 i,uint8,bytes)        -> CT_EXEC
 *   v1.5 CommitStore     ReportAccepted(CommitReport)                                -> CT_COMMIT
 *   v1.6 OnRamp          CCIPMessageSent(uint64 i,uint64 i,Internal.EVM2AnyRampMessage) -> CT_SEND
 *   v1.6 OffRamp         ExecutionStateChanged(uint64 i,uint64 i,bytes32 i,bytes32,uint8,bytes,uint256)
 *                                                                                     -> CT_EXEC
 *   v1.6 OffRamp         CommitReportAccepted(MerkleRoot[],MerkleRoot[],PriceUpdates)   -> CT_COMMIT
 *   Router               MessageExecuted(bytes32,uint64,address,bytes32)              -> CT_EXEC (success)
 *
 * Lane facts that a v1.5 event does not carry (its OnRamp's destination, its OffRamp's or
 * CommitStore's source: one lane per contract) come from the configuration, passed in `peer`.
 *
 * A log whose topic0 is in the table but whose topics or data do not decode strictly (wrong topic
 * count, dirty padding, bad offsets, indexed/data disagreement) returns CT_EBAD with a reason; the
 * caller counts it and keeps the raw log. A topic0 not in the table returns CT_EUNKNOWN.
 *
 * Memory: a ct_dec owns its scratch (ABI node array, a hex buffer) and is used by one thread at a
 * time; ct_dec_new allocates it, ct_dec_free releases it. A ct_log borrows its data; a ct_event is
 * a plain value that owns everything (copied out of the log). */
#ifndef OB_ACTORS_CCIP_TAIL_DECODE_H
#define OB_ACTORS_CCIP_TAIL_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "chain/jscan.h"
#include "schemas/messages.h"

typedef struct {
	uint8_t address[20];
	uint8_t topics[4][32];
	unsigned ntopics;
	const uint8_t *data; /* borrowed */
	size_t data_len;
	uint64_t block_number;
	uint8_t block_hash[32];
	uint8_t tx_hash[32];
	uint64_t log_index;
	uint64_t block_time_s; /* "blockTimestamp" when the node gives it, else 0 */
	int has_block_time;    /* the log carried "blockTimestamp" */
	int removed;           /* "removed": true (never in eth_getLogs; informational) */
} ct_log;

enum {
	CT_SEND = 1,
	CT_EXEC,
	CT_COMMIT
};
enum {
	CT_EX_SUCCESS = 2,
	CT_EX_FAILURE = 3
}; /* Internal.MessageExecutionState */

#define CT_MAX_ROOTS 32

typedef struct {
	uint64_t source_selector;
	uint8_t onramp[32];  /* v1.6: the MerkleRoot's onRampAddress (abi-encoded address) */
	uint32_t onramp_len; /* 0 for v1.5 (the lane is the CommitStore's) */
	uint64_t min_seq, max_seq;
	uint8_t root[32];
} ct_root;

typedef struct {
	int kind;         /* CT_SEND | CT_EXEC | CT_COMMIT */
	const char *name; /* the decoder's event label, e.g. "CCIPMessageSent" (static) */
	/* CT_SEND: the whole message (state SENT), block/tx/log/contract filled.
	 * CT_EXEC: message_id, sequence_number (0 for the Router), source_chain_selector (v1.6, or the
	 * configured peer for v1.5), return_data, block/tx/log/contract. */
	sc_ccip_msg msg;
	int exec_state;              /* CT_EXEC: CT_EX_SUCCESS | CT_EX_FAILURE */
	int from_router;             /* CT_EXEC from Router.MessageExecuted (no sequence number) */
	ct_root roots[CT_MAX_ROOTS]; /* CT_COMMIT */
	unsigned nroots;
} ct_event;

enum {
	CT_OK = 0,
	CT_EUNKNOWN = -1,
	CT_EBAD = -2,
	CT_ENOMEM = -3
};

typedef struct ct_dec ct_dec;

ct_dec *ct_dec_new(void);
void ct_dec_free(ct_dec *d);

/* Decodes lg into *ev. peer: the configured lane peer selector of the emitting contract (v1.5
 * OnRamp: destination; v1.5 OffRamp/CommitStore: source), 0 if none. self: this chain's selector
 * (the destination of what its OffRamps execute). why (may be NULL) gets a reason on CT_EBAD. */
int ct_decode(ct_dec *d, const ct_log *lg, uint64_t self, uint64_t peer, ct_event *ev, char *why, size_t whylen);

/* The topic0 of every event in the table (for the eth_getLogs filter): returns the count and
 * points *out at a static array. Names are the Solidity event names ("v1.5"/"v1.6" suffixed). */
size_t ct_topics(const uint8_t (**out)[32], const char *const **names);

/* One eth_getLogs entry -> lg: j is an element of the result array of a response that passed
 * js_validate (chain/rpc.c's rpc_call_raw). The data is hex-decoded into the decoder's scratch
 * (valid until the next call on d). 0, or -1 with why filled: the name of the missing or malformed
 * field ("address", "blockNumber", ..., "topic", "data prefix", "data hex"), "log is not an object",
 * or "duplicate <field>" when a field this reader uses appears twice. */
int ct_log_from_js(ct_dec *d, const js_val *j, ct_log *lg, char *why, size_t whylen);

/* Only the block fields of an entry, for the checks ct_poll makes before applying a range: a bit
 * mask, 1 = *number read, 2 = hash read; *has_time = "blockTimestamp" is present. */
int ct_log_block_from_js(const js_val *j, uint64_t *number, uint8_t hash[32], int *has_time);

/* The field grammars of the reader: a hex quantity "0x" + 1..16 digits, exact-length hex data. */
int ct_js_quantity(const js_val *v, uint64_t *out);
int ct_js_hex(const js_val *v, uint8_t *out, size_t n);

#endif
