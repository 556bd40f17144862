/*
 * erc20.h - token-erc20's logic: the ERC-20 call a token.request stands for, the state machine that
 * follows it through the signer and the submitter (tx.request -> tx.status), and the check of the
 * receipt's Transfer log that alone makes a request confirmed.
 *
 * The calls (OpenZeppelin ERC-20 with issuer roles, deploy/contracts/PaymentToken.sol):
 *   mint      mint(to, amount)                         issuer holds MINTER_ROLE
 *   burn      burn(from, amount) | burnFrom(from, amount)
 *                                                      issuer holds BURNER_ROLE; the holder has approved
 *                                                      the issuer for at least amount (ERC20Burnable)
 *   transfer  transferFrom(from, to, amount) | transferWithData(from, to, amount, "")
 *                                                      the issuer key cannot move other people's tokens:
 *                                                      the holder has approved the issuer (custody
 *                                                      mandate) and the issuer spends that allowance
 * Every call is a tx.request whose id is the payment's key id (so the signer, which deduplicates by
 * id, signs it once however often it is re-published) and whose ref is that id in hex; the signer
 * echoes the id as tx.status.ref.
 *
 * te_* state functions run inside the caller's tq transaction (store/tokreq.h: tq_begin .. tq_commit)
 * and queue the frames to publish after the commit. Ownership: te_ctx is the caller's; nothing here
 * allocates. Threads: one thread.
 */
#ifndef OB_ACTORS_TOKEN_ERC20_ERC20_H
#define OB_ACTORS_TOKEN_ERC20_ERC20_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "schemas/messages.h"
#include "store/tokreq.h"

enum {
	TE_BURN_BURN,
	TE_BURN_BURNFROM
};
enum {
	TE_XFER_TRANSFERFROM,
	TE_XFER_WITHDATA
};

#define TE_MAX_TOKENS 32

typedef struct {
	uint64_t chain_id;
	uint64_t gas_limit;                /* tx.request.gas_limit (0 = the signer's GAS_LIMIT) */
	int burn_fn, transfer_fn;          /* TE_BURN_*, TE_XFER_* */
	uint8_t tokens[TE_MAX_TOKENS][20]; /* contracts this backend acts on; none = any */
	size_t ntokens;
	uint64_t stall_ns; /* a request with no tx.status for this long counts as stalled */
} te_cfg;

typedef struct {
	const te_cfg *cfg;
	tq *q;
} te_ctx;

/* Calldata of the call for req (see the header): 0, or -1 with why (an ISO reason in reason). */
int te_calldata(const te_cfg *c, const sc_token_request *req, uint8_t *out, size_t cap, size_t *len, char reason[8],
                char *why, size_t whylen);

/* The Transfer(from, to, value) a request must produce: mint from 0, burn to 0. */
void te_expected(const sc_token_request *req, uint8_t from[20], uint8_t to[20]);

/* Receipt check (eth_getTransactionReceipt's result: an object, or JSON null). */
enum {
	TE_RC_OK = 1,      /* status 1 and a Transfer log of the token with from, to, amount */
	TE_RC_REVERTED,    /* status 0 */
	TE_RC_NO_TRANSFER, /* status 1 but no matching log: the call did something else */
	TE_RC_ABSENT,      /* null: not (or no longer) mined */
	TE_RC_BAD
}; /* not a receipt */
typedef struct {
	int outcome;
	uint64_t block_number;
	uint8_t tx_hash[32];
	uint8_t from[20]; /* the sender (the signer's address) */
	char reason[8];   /* REVERTED: ISO reason from te_revert_reason, "" = NARR */
	char text[160];
} te_receipt;
void te_match_receipt(const json_t *receipt, const sc_token_request *req, te_receipt *out);

/* Why a call reverted, from its revert data (a replay with eth_call): OpenZeppelin 5's
 * ERC20InsufficientBalance -> AM04 (insufficient funds), ERC20InsufficientAllowance -> AG01 (the
 * holder's mandate to the issuer does not cover it), AccessControlUnauthorizedAccount -> NARR (the
 * issuer key lacks the role), anything else NARR with chain/revert.h's reading. text gets the reading. */
void te_revert_reason(const uint8_t *data, size_t len, char reason[8], char *text, size_t textlen);

/* ---- state machine (inside a tq transaction) --------------------------------------------------- */
enum {
	TE_O_NEW = 1,
	TE_O_REPEAT,
	TE_O_CONFLICT,
	TE_O_REJECTED,
	TE_O_CHANGED,
	TE_O_SAME,
	TE_O_UNKNOWN
};

/* A token.request naming this backend: new -> stored SUBMITTED, tx.request into the calls outbox,
 * token.result pending; invalid (or refuse set: a check the caller made, e.g. decimals against the
 * chain) -> stored REJECTED with its reason; known -> its stored result again (a conflict - same key,
 * other content - changes nothing). The state machine's functions return 0 with the TE_O_* outcome in
 * *out, or a code of base/err.h (the store's, OB_EENCODE) with text in err and the transaction to be
 * aborted. */
OB_MUST_CHECK int te_on_request(te_ctx *x, const sc_token_request *req, const char *refuse, uint64_t now_ns,
                                tq_rec *rec, int *out, char *err, size_t errlen);

/* A tx.status whose ref is one of ours: pending/included note the hash (and ack the tx.request);
 * confirmed/final, and failed as reverted in a block -> MINED (the caller then checks the receipt, and
 * replays a revert for its reason); failed otherwise -> FAILED; replaced follows the new hash. *out: TE_O_CHANGED, TE_O_SAME, TE_O_UNKNOWN (not ours). */
OB_MUST_CHECK int te_on_tx_status(te_ctx *x, const sc_tx_status *s, uint64_t now_ns, tq_rec *rec, int *out, char *err,
                                  size_t errlen);

/* 1 when b[0..n) (n <= 32) is all zero bytes: an unset address, hash or topic word. */
int te_is_zero(const uint8_t *b, size_t n);

/* The receipt check of a MINED record: OK -> CONFIRMED; REVERTED / NO_TRANSFER -> FAILED;
 * ABSENT -> back to SUBMITTED (reorged out: the submitter follows it again); BAD -> stays MINED
 * (checked again later). Also of a SUBMITTED record with a known hash whose statuses stopped
 * coming (they were published while this backend was down): a receipt that is there moves it as
 * a MINED one's would; anything else leaves it as it is. *out: TE_O_CHANGED / TE_O_SAME /
 * TE_O_UNKNOWN. */
OB_MUST_CHECK int te_on_receipt(te_ctx *x, const uint8_t id[16], const te_receipt *rc, uint64_t now_ns,
                                uint64_t retry_ns, tq_rec *rec, int *out, char *err, size_t errlen);

/* Parses tx.status.ref (32 hex digits) into a key id. 0 or -1. */
int te_ref_id(const char *ref, uint8_t id[16]);

#endif
