/* config.h - the tokenizer's mapping configuration (TOKEN_CONFIG, one JSON file) and the rule that
 * turns a payment into exactly one token operation or a refusal with an ISO 20022 reason code.
 *
 *   {
 *     "tokens": {
 *       "EUR": { "backend": "firefly", "pool": "eurc", "decimals": 18 },
 *       "USD": { "backend": "erc20", "address": "0x5FbDB2315678afecb367f032d93F642f64180aa3", "decimals": 6 }
 *     },
 *     "accounts": {
 *       "DE89370400440532013000": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
 *       "GB33BUKB20201555555555": { "address": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "status": "closed" }
 *     },
 *     "redemption_accounts": [ "DE02100100109307118603" ]
 *   }
 *
 * Rule (tk_map): the payment's currency must have a token (else AM03). Creditor is a redemption
 * account -> burn from the debtor's address (debtor must be mapped, else AC01). Creditor mapped ->
 * transfer when the debtor is mapped too, else mint to the creditor's address. Anything else is
 * refused: creditor missing or unmapped AC01, a closed account AC04, a blocked one AC06, an operation
 * the token does not allow (or redemption to redemption) AG01, a zero amount AM01, an amount that
 * does not fit AM02. Nothing is guessed. Account ids compare without spaces and case-insensitively.
 *
 * Refused at load: unknown keys, a currency without ISO 4217 minor units, token decimals below the
 * currency's minor units (the amount could not be represented) or above 77, a bad address, an account
 * that is both mapped and a redemption account.
 *
 * Every problem of a file is reported, not just the first (issue 7 item 6).
 *
 * Memory: tk_config_load returns a config the caller frees with tk_config_free; tk_map's results
 * point into the config (valid while it lives). Read-only after load, so any thread may use it. */
#ifndef OB_ACTORS_TOKENIZER_CONFIG_H
#define OB_ACTORS_TOKENIZER_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "payments/payment.h"
#include "base/u256.h"

struct rt_cfg_errs;

enum {
	TK_BE_FIREFLY = 1,
	TK_BE_ERC20 = 2
};
enum {
	TK_ACCT_OPEN,
	TK_ACCT_CLOSED,
	TK_ACCT_BLOCKED
};

typedef struct {
	char ccy[4];
	int backend;         /* TK_BE_* */
	char pool[64];       /* FireFly pool name; erc20: a label (default: the currency) */
	uint8_t address[20]; /* ERC-20 contract (erc20: required; firefly: optional, informative) */
	int has_address;
	unsigned decimals; /* token decimals (pinned here, not read from the chain) */
	unsigned minor;    /* the currency's ISO 4217 minor units */
	unsigned kinds;    /* allowed operations: bit SC_TOKEN_* (default mint, burn, transfer) */
} tk_token;

typedef struct {
	char id[PM_ACCT_CAP]; /* normalized (no spaces, upper case) */
	uint8_t address[20];
	int status; /* TK_ACCT_* */
} tk_account;

typedef struct {
	tk_token *tokens;
	size_t ntokens;
	tk_account *accounts; /* sorted by id */
	size_t naccounts;
	char (*redemption)[PM_ACCT_CAP]; /* normalized */
	size_t nredemption;
} tk_config;

/* The operation a payment maps to. */
typedef struct {
	int kind; /* SC_TOKEN_MINT / BURN / TRANSFER */
	const tk_token *token;
	uint8_t from[20]; /* burn, transfer */
	uint8_t to[20];   /* mint, transfer */
	u256 units;       /* amount in the token's smallest unit */
} tk_op;

/* Parses and checks a configuration document (borrowed). Every problem is added to e, one line each:
 * "<env>: <JSON path>: what" (env NULL or "" = the path first), e.g.
 * "TOKEN_CONFIG: tokens.EUR.decimals: expected an integer 0..77"; NULL when there was any. */
tk_config *tk_config_parse(const json_t *j, const char *env, struct rt_cfg_errs *e);
/* The same with the problems as '\n'-separated lines in err (tests, tools). */
tk_config *tk_config_from_json(const json_t *j, char *err, size_t errlen);
/* Reads and checks the file named by env var env_name (rt_config_json): problems into e as above
 * ("required" when unset, the file's path:line:col when it does not parse). */
tk_config *tk_config_load(const char *env_name, struct rt_cfg_errs *e);
void tk_config_free(tk_config *c);

/* Normalizes an account id (spaces out, upper case) into out[PM_ACCT_CAP]. */
void tk_account_norm(const char *in, char out[PM_ACCT_CAP]);
const tk_token *tk_token_for(const tk_config *c, const char *ccy);
const tk_account *tk_account_for(const tk_config *c, const char *id); /* id normalized or not */
int tk_is_redemption(const tk_config *c, const char *id);

/* Maps p to one operation: 0, or -1 with e filled (reason code, field, text; the payment's ids). */
int tk_map(const tk_config *c, const pm_payment *p, tk_op *op, pm_error *e);

const char *tk_backend_name(int backend); /* "firefly", "erc20", "" */

#endif
