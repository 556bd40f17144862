/*
 * signer.h - the signer's durable core: nonces, signed transactions, outbox and dedupe in one
 * LMDB environment, and the batch step that turns requests into signed transactions.
 *
 * The bus loop (main.c) collects a batch of items (price.update, tx.request, tx.ack, tx.bump,
 * nonce.sync) and calls sg_process. That runs every item inside ONE write transaction - nonce
 * allocation, the signed tx, the dedupe entry, the outbox entry, the feed's last answer - commits it
 * (fsync: the env is opened with full durability), and only then hands the tx.signed bodies to the
 * publish callback. A kill -9 at any point therefore either loses the whole batch (nothing was
 * published; the gate re-publishes its updates) or keeps all of it (the outbox re-publishes what
 * the crash kept from going out). A nonce is never allocated twice and never skipped.
 *
 * Tables: "nonce" (be64 chain id || address -> be64 next nonce), "txs" (be64 nonce -> the
 * tx.signed body, i.e. the sc_tx_signed record as msgpack, the latest for that nonce), "acks"
 * (be64 nonce -> be64 ack time), "dedupe" (request id -> tx id || be64 nonce || be64 time),
 * "last" (feed -> 32-byte answer), and the outbox "outbox" / "outbox.due".
 *
 * Pipelining (sg_cfg.pipeline, local key only): sg_submit hands a batch to a writer thread that
 * runs its write transaction and commit (fsync) while the caller receives the next batch and signs
 * it ahead with sg_presign; sg_complete waits for the commit and only then publishes. Signing ahead
 * is a memo of deterministic signatures (RFC 6979: the same key and signing hash give the same
 * bytes), keyed by the signing payload (the unsigned tx bytes): the batch's handlers still allocate every nonce in their own
 * transaction exactly as without a pipeline, and take a signature from the memo only when the
 * transaction they built is byte for byte the one signed ahead. A signature made ahead that no
 * handler asks for is dropped unused: it was never stored nor published. The caller may let the
 * next group grow while the commit runs (sg_group_more, sg_committing: the bus loop's grouping
 * rule) and sign it ahead item by item as it comes (sg_presign_add).
 *
 * Ownership: sg_open returns an sg the caller frees with sg_close. The key is BORROWED (the
 * caller keeps it in rt_secret_alloc memory for the life of the sg); this module never copies,
 * logs or returns it. Threads: one thread calls the sg_* functions; with a pipeline the sg's own
 * writer thread runs the batches handed over by sg_submit. Items, results and publish arguments
 * passed to sg_submit stay the caller's and must live until sg_complete returns.
 */
#ifndef OB_ACTORS_SIGNER_SIGNER_H
#define OB_ACTORS_SIGNER_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "actors/signer/call.h"
#include "actors/signer/fees.h"
#include "actors/signer/policy.h"
#include "chain/tx.h"
#include "schemas/messages.h"

enum {
	SG_UPDATE,
	SG_REQUEST,
	SG_ACK,
	SG_BUMP,
	SG_SYNC,
	SG_NKINDS
};

/* One received message, decoded. */
typedef struct {
	int kind;
	uint8_t msg_id[16]; /* envelope id (price.update dedupe key) */
	uint64_t recv_mono_ns;
	union {
		sc_price_update u;
		sc_tx_request r;
		sc_tx_ack a;
		sc_tx_bump b;
		sc_nonce_sync s;
	};
} sg_item;

enum {
	SG_R_SIGNED = 1, /* a new tx.signed (update, request or bump) */
	SG_R_DUPLICATE,  /* already signed: the stored tx was re-published */
	SG_R_REFUSED,    /* policy: reason is an SGP_* */
	SG_R_DROPPED,    /* not signable now: reason is an SG_DROP_* */
	SG_R_DONE,       /* ack / sync handled */
	SG_R_IGNORED,    /* stale ack, foreign sync, ... */
};
/* SG_DROP_STATE_MISSING: the store is empty (no nonce ever stored) but the chain shows transactions from
 * this key: a lost or replaced store, whose dedupe history is gone. Nothing is signed until the
 * operator restores the store or says to start afresh (sg_cfg.allow_empty_state). */
/* SG_DROP_REMOTE: the remote signer did not sign (unreachable, or it refused: locked account, operator
 * said no); SG_DROP_REMOTE_BAD: it returned a tx that is not the one asked for, or from another
 * address (an alert: something between us and the key is wrong). SG_DROP_LEASE: not signing because
 * another signer for this address is live, or none was heard yet (lease.h; set by the process). */
enum {
	SG_DROP_NOT_SYNCED,
	SG_DROP_NO_QUOTE,
	SG_DROP_STORE,
	SG_DROP_STATE_MISSING,
	SG_DROP_REMOTE,
	SG_DROP_REMOTE_BAD,
	SG_DROP_LEASE,
	SG_NDROPS
};

/* Remote signing (sg_cfg.sign): fills t's signature, checked (chain/rsign.h). Returns 0, or an
 * error code: OB_ERS_MISMATCH for a wrong answer, any other for "not signed now". detail gets why. */
typedef int (*sg_sign_fn)(void *arg, tx *t, char *detail, size_t len);

typedef struct {
	int status; /* SG_R_* */
	int reason; /* SGP_* (refused) or SG_DROP_* (dropped): an outcome, never an error code */
	int err;    /* SG_DROP_STORE: the error code (base/err.h) that stopped it */
	uint64_t nonce;
	char detail[200]; /* human explanation (never contains key material) */
	/* nonce.sync outcome */
	int jumped; /* the chain was ahead: next nonce jumped (nonce_gap) */
	uint64_t jumped_from, jumped_to;
	unsigned requeued; /* txs re-queued into the outbox because the node lost them */
	unsigned finished; /* txs dropped from the table: below the chain's latest nonce */
	/* a batched price.update signed without some of its entries (refused by the policy) */
	unsigned left_out;
	int left_reason; /* SGP_* of the first entry left out; detail names it */
} sg_result;

typedef struct {
	uint64_t chain_id;
	uint64_t gas_limit; /* price updates, and tx.requests that leave it 0 */
	sgp_policy *policy; /* borrowed */
	sgf_cfg fees;
	sgc_call *call;    /* borrowed */
	uint64_t retry_ns; /* outbox backoff: first re-publish after this */
	uint64_t retry_max_ns;
	uint64_t gap_grace_ns; /* an acked tx the node lacks is re-queued only after this long */
	uint64_t map_size;     /* LMDB initial map size; 0 = 16 MiB */
	int allow_empty_state; /* an empty store may adopt a chain nonce > 0 (else SG_DROP_STATE_MISSING) */
	sg_sign_fn sign;       /* NULL: sign with the key given to sg_open; else the key is NULL and */
	void *sign_arg;        /* this signs, as `address` */
	uint8_t address[20];
	int pipeline; /* a writer thread commits batch N while the caller signs N+1 ahead (local key only) */
} sg_cfg;

typedef struct sg sg;

/* Publishes one tx.signed body with the given frame id (= the tx.signed id). */
typedef void (*sg_publish_fn)(void *arg, const uint8_t id[16], const uint8_t *body, size_t len);

/* Opens (creating) the state in dir. NULL with err filled on failure. key NULL: cfg->sign signs. */
sg *sg_open(const char *dir, const sg_cfg *cfg, const uint8_t *key, char *err, size_t errlen);
void sg_close(sg *s);

const uint8_t *sg_address(const sg *s);
int sg_synced(const sg *s);          /* a next nonce is known (stored, or from a nonce.sync) */
uint64_t sg_next_nonce(const sg *s); /* as of the last commit */
uint64_t sg_outbox_pending(const sg *s);
void sg_set_quote(sg *s, const sc_gas_quote *q); /* copied */
int sg_has_quote(const sg *s);

/* Runs a batch (see the header comment). res[i] describes items[i]. Returns 0, or an error code
 * (base/err.h) when an item could not be handled: if the batch's transaction fails, each item is
 * run again in a transaction of its own, and those that fail alone are SG_R_DROPPED /
 * SG_DROP_STORE with res[i].err and res[i].detail saying why; nothing of theirs is signed or
 * published. err gets the text of the first failure. A corrupt or unreadable stored entry is
 * such a failure (OB_ESCHEMA, OB_ECORRUPT, MDB_CORRUPTED, ...; see ob_err_integrity). */
int sg_process(sg *s, const sg_item *items, size_t n, sg_result *res, uint64_t now_ns, sg_publish_fn pub, void *arg,
               char *err, size_t errlen);

/* Pipelined batches (see the header comment). sg_submit starts a batch (returns EBUSY while one is
 * in flight: sg_complete it first); res[i] is valid once sg_complete returned. sg_complete waits for
 * the batch in flight, publishes its frames (they are durable) and returns what sg_process would
 * have (0 when nothing was in flight). While a batch is in flight only sg_presign, sg_set_quote,
 * sg_busy and sg_complete may be called. Without a pipeline sg_submit runs the batch at once. */
int sg_submit(sg *s, const sg_item *items, size_t n, sg_result *res, uint64_t now_ns);
int sg_complete(sg *s, sg_publish_fn pub, void *arg, char *err, size_t errlen);
int sg_busy(const sg *s);
/* A batch is in flight and its commit has not finished yet (it never blocks; 0 without a writer
 * thread). sg_complete would wait while this is 1, and would return at once once it is 0. */
int sg_committing(const sg *s);
/* The grouping rule: may the group being received (n items so far, signed ahead as they come)
 * take one more queued item? Up to batch_max, yes (an empty group always takes one). Beyond, up to
 * grow_max, only while the batch in flight is still committing: a slow commit (loaded disk or CPU)
 * makes the next group larger, so fewer commits share the load, and the group closes as soon as
 * that commit is done, when it can be submitted. The caller also closes a group when nothing is
 * queued: an idle signer submits a lone request at once. Without a pipeline nothing is ever
 * committing while a group is received: groups of up to batch_max. */
int sg_group_more(const sg *s, size_t n, size_t batch_max, size_t grow_max);
/* Signs ahead the transactions the next sg_submit of these items will most likely sign (nonces
 * following the batch in flight). Only a memo: see the header comment. Returns how many.
 * sg_presign starts the memo afresh; sg_presign_add appends the items that follow those already
 * signed ahead (a group signed ahead as it is received). */
size_t sg_presign(sg *s, const sg_item *items, size_t n);
size_t sg_presign_add(sg *s, const sg_item *items, size_t n);
/* Signatures the handlers took from the memo / made themselves (hits, misses), since sg_open. */
void sg_memo_stats(const sg *s, uint64_t *hits, uint64_t *misses);

/* Re-publishes outbox entries: all of them (all = 1, at start) or those due at now_ns. Returns
 * how many were published, or -1 with err. */
long sg_resend(sg *s, uint64_t now_ns, int all, sg_publish_fn pub, void *arg, char *err, size_t errlen);

/* Forgets dedupe entries older than older_than_ns; returns how many, or -1. */
long sg_prune(sg *s, uint64_t older_than_ns, char *err, size_t errlen);

#endif
