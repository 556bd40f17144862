/* submitter.h - the submitter's logic: take signed transactions from the bus, store them, ack,
 * send them to the chain and follow each one to finality, publishing every state change.
 * main.c owns the process (options, loop); this file's functions are called from that one thread.
 *
 * Flow per tx.signed: verify (hash = keccak(raw), sender and nonce recovered from the signature
 * match the message, chain id) -> store in LMDB `pending` -> tx.ack -> eth_sendRawTransaction ->
 * tx.status pending. Then every poll: receipt -> included (or failed: reverted) -> confirmed at
 * CONFIRMATIONS -> final at FINALITY_DEPTH (removed, hash kept in `done`). A receipt that vanishes
 * or moves to another block hash before final -> reorged, sent again. A tx not mined after
 * BUMP_AFTER_BLOCKS -> tx.bump; of several txs with one nonce, the one mined wins and the others
 * are replaced.
 *
 * In flight: the tx.signed queued at one moment are stored in one commit, acked, then sent in nonce
 * order, and only while their nonce is below the key's lowest unmined nonce + MAX_IN_FLIGHT; the
 * others are held (stored and acked, not sent) until a poll sees lower ones mined. s->v is kept
 * sorted by nonce for that. A poll's state changes are written in one commit at its end.
 *
 * Sending: the due transactions as one JSON-RPC batch request (SEND_BATCH_MAX calls at most, nonce
 * order, each call's answer acted on as a single send's; a poll's receipt reads likewise), to the
 * first working endpoint of RPC_URL (failover), not broadcast to all of them.
 * Broadcasting (Chainlink's choice) helps when nodes do not gossip to one another; on one network
 * they do, and the answers of one node are what the error classification needs. A tx that a node
 * forgot is re-sent once per block (eth_getTransactionByHash says unknown), so propagation does
 * not depend on one node's mempool.
 *
 * Memory: sub owns its entries; the act_bus, rpc and st_env are borrowed from main. */
#ifndef OB_ACTORS_SUBMITTER_SUBMITTER_H
#define OB_ACTORS_SUBMITTER_SUBMITTER_H

#include <stddef.h>
#include <stdint.h>

#include "actors/submitter/pending.h"
#include "bus/actor.h"
#include "chain/rpc.h"
#include "store/store.h"

typedef struct {
	uint64_t chain_id;
	uint64_t confirmations;
	uint64_t finality_depth;
	uint64_t bump_after_blocks;
	uint64_t bump_percent;
	uint64_t poll_ms, quote_ms, nonce_sync_ms;
	uint64_t max_in_flight;  /* nonces sent and unmined at once (0 = 16) */
	uint64_t send_batch_max; /* calls per JSON-RPC batch request, sends and receipt reads (0 = 16, 1 = none) */
	uint8_t signer[20];
	int have_signer;
} sub_cfg;

#define SUB_SEND_BATCH_MAX 256 /* bound of SEND_BATCH_MAX */

typedef struct sub sub;

/* Opens the tables, loads pending transactions (re-sent at the first sub_tick). NULL on error. */
sub *sub_open(const sub_cfg *c, act_bus *a, rpc *r, st_env *env, char *err, size_t errlen);
void sub_close(sub *s);

/* One tx.signed from the bus. */
void sub_on_signed(sub *s, const sc_tx_signed *t);
/* Several: stored in one LMDB commit, then acked, then sent in nonce order within MAX_IN_FLIGHT. */
void sub_on_signed_batch(sub *s, const sc_tx_signed *t, size_t n);
/* Takes the tx.signed queued on the bus (waiting up to wait_ms for the first), at most 64, as one
 * batch (sub_on_signed_batch). Returns how many were taken. sub_tick also calls it between its
 * round trips to the node, so a new transaction does not wait for a whole poll. */
size_t sub_take(sub *s, int wait_ms);
/* Runs whatever is due (poll, gas quote, nonce sync). Returns ms until the next due time. */
uint64_t sub_tick(sub *s);
size_t sub_pending_count(const sub *s);
/* 1 once a poll has run (the node answered, or /health says rpc); none runs before a busd connection. */
int sub_polled(const sub *s);

#endif
