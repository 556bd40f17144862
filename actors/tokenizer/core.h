/* core.h - the tokenizer's durable core: payments, their token operation and state, and the outbox of
 * token.requests, in one LMDB environment.
 *
 * Intake (tk_commit) runs a batch of prepared payments (tk_prepare: key, mapping, content hash; pure,
 * any thread) in ONE write transaction: for each, the payments table is read by key id; a new key
 * gets its record (state accepted) and its token.request outbox entry written together; a known key
 * with the same content hash is a duplicate (the stored record is returned, nothing is written), with
 * another hash a conflict (AM05, nothing is written). The transaction commits (fsync) before
 * tk_commit returns, so the caller answers 202 only for what is durable, and only then are the
 * token.request frames handed to the publish callback. Several HTTP requests share one commit
 * (group commit, main.c).
 *
 * Backends answer with token.result (tk_results): pending / confirmed / failed / rejected move the
 * state (accepted -> pending -> confirmed | failed; terminal states stay, except that a confirmation
 * after a failure wins, since the chain has the effect: that is reported as a contradiction) and ack
 * the outbox entry, so the request is re-published (tk_resend, same frame id) until a backend has
 * taken it. Each state change is also published as a token.result on topic token.status.
 *
 * Tables: "payments" (key id (16) -> tk_rec, a fixed binary layout with a version byte, its runs of zero
 * bytes packed; this process's own format, never on the wire), "open" (be64 accepted_ns || key id -> empty: the payments not yet
 * confirmed or failed, oldest first) and the outbox "outbox" / "outbox.due".
 *
 * Results: 0, or a code of base/err.h's one space with text in err (the store's LMDB and errno codes as
 * they came, ENOMEM, OB_EENCODE for a record that does not encode): never a bare -1. Outcomes travel in
 * the items (tk_item.outcome, tk_result_item.outcome). tk_resend's count is >= 0 or -1 with err, as
 * store/outbox.h's ob_send_due. The writers are OB_MUST_CHECK.
 *
 * Ownership: tk_open returns a tk_core the caller frees with tk_close. Threads: tk_commit, tk_results
 * and tk_resend write and must be called from one thread at a time; tk_get and tk_open_stats only read
 * (MDB_NOTLS read transactions) and may run on any thread concurrently with them. */
#ifndef OB_ACTORS_TOKENIZER_CORE_H
#define OB_ACTORS_TOKENIZER_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "actors/tokenizer/config.h"
#include "actors/tokenizer/key.h"
#include "payments/payment.h"
#include "schemas/messages.h"

#define TK_REC_VERSION 1

typedef struct {
	uint8_t version;       /* TK_REC_VERSION */
	uint8_t state;         /* SC_TOKST_ACCEPTED, _PENDING, _CONFIRMED, _FAILED */
	uint8_t kind;          /* SC_TOKEN_* (bridge reserved) */
	uint8_t format;        /* pm_format of the first message that carried the payment */
	uint8_t backend;       /* TK_BE_* */
	uint8_t decimals;      /* token decimals */
	uint8_t interim_error; /* the backend reported a retryable problem (pacs.002 PDNG) */
	uint8_t contradiction; /* a backend reported confirmed after failed */
	uint32_t reserved;
	uint8_t id[16];   /* key id */
	uint8_t hash[32]; /* content hash */
	char key[TK_KEY_CAP];
	char ccy[4];
	char amount[32]; /* the payment amount, '.' decimal, currency minor units */
	u256 units;      /* token units */
	char pool[64];
	uint8_t token[20], from[20], to[20];
	char debtor_account[PM_ACCT_CAP], creditor_account[PM_ACCT_CAP];
	char msgdef[PM_MSGDEF_CAP], msg_id[PM_ID_CAP], instr_id[PM_ID_CAP], end_to_end_id[PM_ID_CAP];
	char tx_id[PM_ID_CAP], uetr[PM_UETR_CAP];
	char instg_bic[PM_BIC_CAP], instd_bic[PM_BIC_CAP], value_date[11];
	uint64_t accepted_ns, updated_ns, block_number;
	uint8_t tx_hash[32];
	char ff_request_id[64], ff_tx_id[64];
	char reason[8]; /* ISO reason code of a failure */
	char error[256];
} tk_rec;

/* Outcome of one payment. */
enum {
	TK_NEW = 1,
	TK_DUP,
	TK_CONFLICT,
	TK_REFUSED,
	TK_STORE_ERROR
};

typedef struct {
	pm_payment p; /* input */
	uint64_t received_ns;
	/* tk_prepare */
	int outcome;  /* 0 (ready) or TK_REFUSED; after tk_commit one of TK_* */
	pm_error err; /* TK_REFUSED, TK_CONFLICT */
	tk_op op;
	char key[TK_KEY_CAP];
	uint8_t id[16], hash[32];
	/* tk_commit */
	tk_rec rec; /* the stored record: new, or the existing one (dup, conflict) */
} tk_item;

/* One token.result from a backend. */
enum {
	TK_R_CHANGED = 1,
	TK_R_SAME,
	TK_R_UNKNOWN,
	TK_R_IGNORED
};
typedef struct {
	sc_token_result r; /* input */
	int outcome;       /* TK_R_* */
	int contradiction;
	tk_rec rec; /* after: the record (TK_R_CHANGED, TK_R_SAME) */
} tk_result_item;

typedef struct {
	uint64_t map_size;     /* initial LMDB map; 0 = 64 MiB */
	uint64_t retry_ns;     /* first re-publish of an unacked token.request; 0 = 2 s */
	uint64_t retry_max_ns; /* 0 = 60 s */
} tk_core_cfg;

typedef struct tk_core tk_core;

/* After a commit: one frame to publish. id NULL = a fresh frame id. */
typedef void (*tk_pub_fn)(void *arg, const char *topic, const char *type, const uint8_t *id, const uint8_t *body,
                          size_t len);

tk_core *tk_open(const char *dir, const tk_core_cfg *cfg, char *err, size_t errlen);
void tk_close(tk_core *k);

/* Key, mapping and content hash of it->p (it->outcome 0, or TK_REFUSED with it->err). */
void tk_prepare(const tk_config *c, tk_item *it);

/* Runs the prepared items (outcome 0) in one transaction; see the header comment. Items already
 * refused are left alone. Returns 0, or a code with err (every pending item is then TK_STORE_ERROR,
 * nothing was published). */
OB_MUST_CHECK int tk_commit(tk_core *k, tk_item *const *items, size_t n, uint64_t now_ns, tk_pub_fn pub, void *arg,
                            char *err, size_t errlen);

/* Applies token.results in one transaction; publishes token.status for each change. 0 or a code. */
OB_MUST_CHECK int tk_results(tk_core *k, tk_result_item *items, size_t n, uint64_t now_ns, tk_pub_fn pub, void *arg,
                             char *err, size_t errlen);

/* Re-publishes unacked token.requests: every one (all, at start) or those due (their next re-publish
 * time is written). Count or -1. */
OB_MUST_CHECK long tk_resend(tk_core *k, uint64_t now_ns, int all, tk_pub_fn pub, void *arg, char *err, size_t errlen);

/* The record of a key id: 0, OB_ENOTFOUND (== MDB_NOTFOUND), or a code (err filled). */
int tk_get(tk_core *k, const uint8_t id[16], tk_rec *out, char *err, size_t errlen);

/* Payments not yet final: how many, the oldest's accepted_ns (0 if none), how many were accepted
 * before older_than_ns, and the key id of the oldest of those. 0 or a code. */
typedef struct {
	uint64_t open, oldest_ns, overdue;
	uint8_t oldest_id[16];
	uint64_t outbox;
} tk_stats;
int tk_open_stats(tk_core *k, uint64_t older_than_ns, tk_stats *s, char *err, size_t errlen);

/* The token.request body a record gives (for tests and tk_resend). 0 or OB_EENCODE. */
int tk_request_body(const tk_rec *r, uint8_t *buf, size_t cap, size_t *len);
/* The token.result view of a record's current state (published on token.status). */
void tk_status_of(const tk_rec *r, sc_token_result *out, uint64_t now_ns);

const char *tk_state_name(int state); /* "accepted", ... */

#endif
