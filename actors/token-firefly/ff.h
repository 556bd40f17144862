/*
 * ff.h - token-firefly's logic: the FireFly v1.3 token call a token.request stands for, what each HTTP
 * answer means, and the state machine that follows a transfer until FireFly reports it Succeeded or
 * Failed. The HTTP itself is main.c's (libcurl); everything here is pure or runs inside the caller's
 * tq transaction (store/tokreq.h), so it is tested without a network.
 *
 * Record states (tq_rec.state):
 *   QUEUED     to POST (next_ns = when): POST /api/v1/namespaces/{ns}/tokens/mint|burn|transfers with
 *              idempotencyKey = the payment key. 200/202 -> SUBMITTED with FireFly's tx id;
 *              409 FF10431 (the key was used: an earlier POST of ours got through) -> SUBMITTED with the
 *              tx id named in the error, never a second POST effect; 408 (FireFly timed out waiting but
 *              did not cancel) -> SUBMITTED without a tx id (looked up by key); 5xx / no answer -> retried
 *              with backoff; after max_failures in a row no more POSTs: the key is looked up and the
 *              payment FAILED (alert) unless FireFly holds a transaction for it (then that one is
 *              followed); other 4xx -> REJECTED.
 *   SUBMITTED  polled (next_ns): without a tx id, GET /transactions?idempotencykey= finds it (none: FireFly
 *              never stored it -> QUEUED again, safe since the key is unused); with one,
 *              GET /transactions/{id}/status: Succeeded -> CONFIRMED (tx hash and block from the blockchain
 *              event), Failed -> FAILED, Pending -> polled again until deadline_ns, then FAILED (alert:
 *              FireFly has known stuck-operation bugs).
 * A SIGKILL anywhere repeats at most a POST, which FireFly refuses (409) or completes (its own resubmit
 * of never-submitted operations): one effect per key.
 *
 * Ownership: the caller's; nothing here allocates except tf_body (malloc'd, the caller frees).
 * Threads: one thread.
 */
#ifndef OB_ACTORS_TOKEN_FIREFLY_FF_H
#define OB_ACTORS_TOKEN_FIREFLY_FF_H

#include <stddef.h>
#include <stdint.h>

#include "schemas/messages.h"
#include "store/tokreq.h"

typedef struct {
	const char *key;   /* FireFly signing key (address or alias); "" = FireFly's default */
	uint64_t retry_ns; /* first retry after a failed POST / poll */
	uint64_t retry_max_ns;
	uint64_t poll_ns;      /* interval of status polls */
	uint64_t deadline_ns;  /* a transfer not final this long after its POST fails */
	uint32_t max_failures; /* failed POSTs in a row on one key before it is failed */
} tf_cfg;

typedef struct {
	const tf_cfg *cfg;
	tq *q;
} tf_ctx;

/* The POST for req: path suffix ("mint", "burn", "transfers") and the JSON body (malloc'd). 0, or -1
 * with an ISO reason and why (the request cannot be done: bridge, zero amount, missing address). */
int tf_body(const tf_cfg *c, const sc_token_request *req, const char **path, char **body, char reason[8], char *why,
            size_t whylen);

/* An HTTP answer: status 0 = none (connection refused, timeout: err says). */
typedef struct {
	long status;
	const char *body;
	size_t len;
	const char *err;
} tf_http;

/* What a POST answer means. */
enum {
	TF_P_ACCEPTED = 1,
	TF_P_USED,
	TF_P_TIMEOUT,
	TF_P_RETRY,
	TF_P_REJECT
};
typedef struct {
	int kind;
	char tx_id[64];    /* ACCEPTED, USED: FireFly's transaction id ("" if the answer had none) */
	char local_id[64]; /* ACCEPTED: the transfer's localId */
	char text[200];    /* RETRY, REJECT: why */
} tf_post;
void tf_classify_post(const tf_http *h, tf_post *out);

/* A poll's findings (main.c fills it from one to three GETs). */
enum {
	TF_S_PENDING = 1,
	TF_S_SUCCEEDED,
	TF_S_FAILED,
	TF_S_NOT_FOUND,
	TF_S_ERROR
};
typedef struct {
	int kind;
	char tx_id[64];      /* lookup by key: the transaction found */
	uint8_t tx_hash[32]; /* SUCCEEDED: from the blockchain event, when given */
	int has_hash;
	uint64_t block_number;
	char text[200]; /* FAILED, ERROR: why */
} tf_poll;

/* Parsers of FireFly's answers (JSON text). 0, or -1 (text in out->text / not found). */
/* GET /transactions?idempotencykey=K: an array (or {"items": [...]}) -> out->tx_id of the first, or
 * kind NOT_FOUND when empty. */
void tf_parse_lookup(const tf_http *h, tf_poll *out);
/* GET /transactions/{id}/status: kind PENDING / SUCCEEDED / FAILED (with the failed operation's error);
 * bevent gets the id of its BlockchainEvent detail ("" if none). */
void tf_parse_status(const tf_http *h, tf_poll *out, char bevent[64]);
/* GET /blockchainevents/{id}: info.transactionHash, info.blockNumber into out (has_hash). */
void tf_parse_bevent(const tf_http *h, tf_poll *out);
/* GET /transactions/{id}: blockchainIds[0] into out (has_hash) when out has none yet. */
void tf_parse_tx(const tf_http *h, tf_poll *out);

/* ---- state machine (inside a tq transaction) ----------------------------------------------------- */
enum {
	TF_O_NEW = 1,
	TF_O_REPEAT,
	TF_O_CONFLICT,
	TF_O_REJECTED,
	TF_O_CHANGED,
	TF_O_SAME,
	TF_O_GAVE_UP,
	TF_O_UNKNOWN
};

/* Each returns 0 with its TF_O_* outcome in *out, or a code of base/err.h (the store's) with text in
 * err; the caller then aborts the transaction. A token.request: *out TF_O_NEW, TF_O_REPEAT,
 * TF_O_CONFLICT or TF_O_REJECTED. */
OB_MUST_CHECK int tf_on_request(tf_ctx *x, const sc_token_request *req, uint64_t now_ns, tq_rec *rec, int *out,
                                char *err, size_t errlen);
/* The answer of the POST for record id. *out TF_O_CHANGED (submitted; or max_failures reached: looked
 * up next) / TF_O_SAME (retry scheduled) / TF_O_REJECTED / TF_O_UNKNOWN. */
OB_MUST_CHECK int tf_on_post(tf_ctx *x, const uint8_t id[16], const tf_post *p, uint64_t now_ns, tq_rec *rec, int *out,
                             char *err, size_t errlen);
/* A poll's findings for record id. *out TF_O_CHANGED, TF_O_SAME, TF_O_GAVE_UP (deadline passed, or no
 * transaction for the key after max_failures POSTs), TF_O_UNKNOWN. */
OB_MUST_CHECK int tf_on_poll(tf_ctx *x, const uint8_t id[16], const tf_poll *p, uint64_t now_ns, tq_rec *rec, int *out,
                             char *err, size_t errlen);

/* Percent-encodes s for a URL query or path segment into out (cap bytes). 0 or -1 (too long). */
int tf_urlenc(const char *s, char *out, size_t cap);

#endif
