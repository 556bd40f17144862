/*
 * gate.h - the gate's core: per feed, the latest aggregate, the view of the chain (reconcile.h),
 * the decision (decide.h), and the durable side - an LMDB outbox of price.update frames, the last
 * decision and the in-flight update per feed, written in ONE transaction per update.
 *
 * The process (main.c) owns the bus, the RPC handle and the loop; it hands this core decoded
 * messages and the clock, and gives it its I/O as callbacks (gt_io): chain reads, gas estimates,
 * the frame publisher and alerts. Tests pass fakes and a fake clock. Nothing here reads a clock
 * or a socket.
 *
 * Before an update is queued its exact call is estimated (eth_estimateGas from the feed's
 * transmitter); price.update.gas_limit = estimate * (1 + GAS_MARGIN), at most GAS_LIMIT_MAX. The
 * feed's next updates (32, 10 minutes at most) reuse that limit after one eth_call at it passes
 * (a failing check is estimated again at once). A
 * reverted estimate, an estimate above the cap, and a tx.status "failed" of our update are
 * failures: the feed backs off (decide.h) and after BREAKER_AFTER in a row its breaker opens (one
 * update_failing alert, /health degraded), persisted in the "breaker" table until gt_reset.
 *
 * With BATCH_CALL the due updates of several feeds go out as ONE price.update (batch_call,
 * batch[]) for Multicall3 aggregate3 or OracleBatcher updateAnswers: a feed that is due waits up
 * to BATCH_WINDOW for others; batches are made at the end of a turn (every feed decided in the turn
 * joins; BATCH_WINDOW=0 sends each turn's due feeds together); the batch is eth_call'ed first and every call that would revert is
 * taken out (a failure of that feed: backoff, breaker) - by the per-call results, or by halving
 * the batch when it reverts as a whole (chain/batch.h cb_isolate); the rest is estimated (halved
 * while above GAS_LIMIT_MAX) and queued with ONE outbox entry whose id every member holds as its
 * in-flight update. When the batch is confirmed each member's answer is read at that block: the
 * members whose answer is not there failed (their call reverted, or the signer left them out).
 *
 * Ownership: gt_open copies cfg and feeds; io's ctx is BORROWED for the life of the gt. gt_close
 * frees everything. Threads: one thread uses a gt.
 */
#ifndef OB_ACTORS_GATE_GATE_H
#define OB_ACTORS_GATE_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "actors/gate/chainread.h"
#include "actors/gate/decide.h"
#include "actors/gate/feeds.h"
#include "actors/gate/reconcile.h"
#include "schemas/messages.h"

typedef struct {
	const char *state_dir;      /* LMDB directory (copied) */
	const char *instance;       /* for alert keys (copied); NULL = "gate" */
	const char *update_sig;     /* UPDATE_SIGNATURE: the call estimated (parsed by gt_open) */
	uint64_t update_timeout_ms; /* UPDATE_TIMEOUT */
	uint64_t poll_ms;           /* CHAIN_POLL */
	uint64_t stale_factor;      /* STALE_FACTOR */
	uint64_t agg_max_age_ms;    /* AGG_MAX_AGE: 0 = the aggregate's window_ms only */
	int flux;                   /* submit(uint256,int256): the round comes from oracleRoundState */
	int estimate;               /* GAS_ESTIMATE: eth_estimateGas before publishing (needs transmitters) */
	uint64_t gas_margin_ppm;    /* GAS_MARGIN: gas_limit = estimate * (1 + margin) */
	uint64_t gas_limit_max;     /* GAS_LIMIT_MAX: cap; an estimate above it is a failure */
	uint64_t backoff_max_ms;    /* BACKOFF_MAX */
	uint32_t breaker_after;     /* BREAKER_AFTER: 0 = never */
	/* Batches (README "Batches"): BATCH_CALL, BATCH_CONTRACT, BATCH_MAX, BATCH_WINDOW, BATCH_NAME.
	 * batch_call CB_NONE (chain/batch.h) = one transaction per feed, as without them. The batch
	 * is sent by the first feed's transmitter (main.c checks that every feed has the same). */
	int batch_call;
	uint8_t batch_contract[20];
	uint32_t batch_max;       /* feeds per transaction, 2..CB_MAX_CALLS */
	uint64_t batch_window_ms; /* a due feed waits at most this long for others */
	const char *batch_name;   /* topic segment price.update.<name> (copied); NULL = "batch" */
} gt_cfg;

/* The core's I/O. Every function gets ctx. Chain reads return RPC_OK or an rpc error code with
 * e filled (chainread.h; RPC_ETRANSPORT = no endpoint answers, which raises rpc_unreachable);
 * publish and alert return BUS_OK or an error. alert may be NULL (tests). */
typedef struct {
	void *ctx;
	int (*read_latest)(void *ctx, const uint8_t agg[20], gc_round *r, rpc_error *e);
	int (*read_oracle_round)(void *ctx, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round,
	                         rpc_error *e);
	int (*estimate_gas)(void *ctx, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len,
	                    uint64_t *gas, rpc_error *e);
	/* Optional (NULL: estimate_gas one by one): the estimates of a turn's decisions in one
	 * JSON-RPC batch, as gc_estimate_gas_many (chainread.h) returns them. */
	int (*estimate_gas_many)(void *ctx, gc_estimate *calls, size_t n, rpc_error *e);
	/* Optional (NULL: read_latest one by one): the due polls in one JSON-RPC batch, as
	 * gc_read_latest_many returns them. */
	int (*read_latest_many)(void *ctx, gc_read *reads, size_t n, rpc_error *e);
	uint64_t (*chain_id)(void *ctx);
	/* Batches only: latestRoundData() at a block (0 = latest), and eth_call from `from` with a gas
	 * limit (0 = the node's) (a revert is RPC_ENODE with the revert data in e->data; on RPC_OK
	 * *out is malloc'd, the caller frees). */
	int (*read_latest_at)(void *ctx, const uint8_t agg[20], uint64_t block, gc_round *r, rpc_error *e);
	int (*call)(void *ctx, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len,
	            uint64_t gas, uint8_t **out, size_t *outlen, rpc_error *e);
	int (*publish)(void *ctx, const char *topic, const char *type, const uint8_t id[16], const uint8_t *body,
	               size_t len);
	int (*alert)(void *ctx, int severity, int status, const char *kind, const char *key, const char *text,
	             const char *const *labels);
} gt_io;

typedef struct gt gt;

gt *gt_open(const gt_cfg *cfg, const gf_feed *feeds, size_t n, const gt_io *io, char *err, size_t errlen);
void gt_close(gt *g);

/* Results of gt_on_agg. */
enum {
	GT_AGG_TAKEN = 0,
	GT_AGG_OTHER_FEED,
	GT_AGG_REFUSED
};

/* Turns. The decisions made between gt_turn_begin and gt_turn_end (by gt_on_agg, gt_on_status,
 * gt_step) are queued and written at gt_turn_end together: their gas estimates in ONE JSON-RPC
 * batch (io.estimate_gas_many), every decision, in-flight marker, outbox entry, outbox ack and
 * in-flight drop of the turn in ONE LMDB transaction, then the outbox published once. A feed
 * decided twice in a turn goes out once, with its latest aggregate (or not at all when its last
 * decision is to hold). Outside a turn each call is a turn of its own (written before it
 * returns). Why: at 500 feeds a second's ~50 moves reach the gate within ~100 ms; decided one by
 * one each cost an estimate round trip and ~4 fsync'd commits (~9 ms), so the last waited ~450
 * ms. The loop (main.c) opens a turn, takes every message already queued (up to a bound), steps,
 * and ends the turn. Nothing is published before its commit, as before. */
void gt_turn_begin(gt *g);
void gt_turn_end(gt *g, uint64_t now_ns, uint64_t mono_ns);

/* An aggregate for feed a->feed (the caller checked that the topic names it). origin/seq: the
 * frame's, carried into the update. Evaluates the feed at once. */
int gt_on_agg(gt *g, const sc_price_agg *a, const char *origin, uint64_t seq, uint64_t now_ns, uint64_t mono_ns);
/* A tx.status: acks the outbox entry its ref names, then follows the chain (reconcile.h). */
void gt_on_status(gt *g, const sc_tx_status *s, uint64_t now_ns, uint64_t mono_ns);
/* Timers: polls due feeds, decides again the feeds whose timed hold has ended, flushes a batch
 * whose window ended, and every 250 ms checks staleness, evaluates every feed (heartbeats,
 * expired in-flight updates) and re-publishes due outbox entries. Call it on every loop turn. */
void gt_step(gt *g, uint64_t now_ns, uint64_t mono_ns);
/* When gt_step next has something to do (monotonic ns): the 250 ms tick, a feed's poll, the end
 * of a feed's timed hold (min interval, backoff, estimate retry: decided again at that moment,
 * not on the tick after it), a batch's window. The loop waits for a message at most until then. */
uint64_t gt_next_wake(const gt *g);

/* The operator's reset of a feed's breaker and failure count (HTTP POST /feeds/<feed>/reset).
 * Persisted; resolves the update_failing alert. 0, or -1 when there is no such feed. *was_open
 * and *failures (may be NULL) say what was reset. */
int gt_reset(gt *g, const char *feed, int *was_open, uint32_t *failures);

/* For tests and health: a feed's view, or NULL. */
const gr_view *gt_view(const gt *g, const char *feed);
size_t gt_feed_count(const gt *g);
/* For tests: LMDB's id of the last committed write transaction (each commit adds one). */
uint64_t gt_txn_id(const gt *g);
const char *gt_feed_name(const gt *g, size_t i);

#endif
