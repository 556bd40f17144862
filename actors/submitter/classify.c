/* classify.c - the node-error table. Sources for the strings: geth core/txpool/errors.go and
 * core/error.go, Besu TransactionInvalidReason (rendered by its JSON-RPC as text), Nethermind
 * AcceptTxResult, Erigon txpool, reth's pool errors, and anvil's messages; Chainlink's TXM keeps
 * the same kind of per-client table (core/chains/evm/client/errors.go). */
#include "actors/submitter/classify.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "schemas/messages.h"

static const sub_class sub_classes[] = {
	/* replacement underpriced before "underpriced" */
	{ "replacement transaction underpriced", "replacement_underpriced", SC_TXERR_REPLACEMENT_UNDERPRICED,
	  SUB_ACT_BUMP },
	{ "replacement underpriced", "replacement_underpriced", SC_TXERR_REPLACEMENT_UNDERPRICED, SUB_ACT_BUMP },
	{ "replace_underpriced", "replacement_underpriced", SC_TXERR_REPLACEMENT_UNDERPRICED, SUB_ACT_BUMP },
	{ "gas price too low to replace", "replacement_underpriced", SC_TXERR_REPLACEMENT_UNDERPRICED, SUB_ACT_BUMP },
	{ "already known", "already_known", SC_TXERR_ALREADY_KNOWN, SUB_ACT_SENT },
	{ "known transaction", "already_known", SC_TXERR_ALREADY_KNOWN, SUB_ACT_SENT },
	{ "already imported", "already_known", SC_TXERR_ALREADY_KNOWN, SUB_ACT_SENT },
	{ "alreadyknown", "already_known", SC_TXERR_ALREADY_KNOWN, SUB_ACT_SENT },
	{ "transaction already exists", "already_known", SC_TXERR_ALREADY_KNOWN, SUB_ACT_SENT },
	{ "nonce too low", "nonce_too_low", SC_TXERR_NONCE_TOO_LOW, SUB_ACT_NONCE_USED },
	{ "nonce is too low", "nonce_too_low", SC_TXERR_NONCE_TOO_LOW, SUB_ACT_NONCE_USED },
	{ "oldnonce", "nonce_too_low", SC_TXERR_NONCE_TOO_LOW, SUB_ACT_NONCE_USED },
	{ "nonce_too_low", "nonce_too_low", SC_TXERR_NONCE_TOO_LOW, SUB_ACT_NONCE_USED },
	{ "nonce has already been used", "nonce_too_low", SC_TXERR_NONCE_TOO_LOW, SUB_ACT_NONCE_USED },
	{ "insufficient funds", "insufficient_funds", SC_TXERR_INSUFFICIENT_FUNDS, SUB_ACT_RETRY },
	{ "insufficient balance", "insufficient_funds", SC_TXERR_INSUFFICIENT_FUNDS, SUB_ACT_RETRY },
	{ "upfront cost exceeds", "insufficient_funds", SC_TXERR_INSUFFICIENT_FUNDS, SUB_ACT_RETRY }, /* Besu */
	{ "upfront_cost_exceeds_balance", "insufficient_funds", SC_TXERR_INSUFFICIENT_FUNDS, SUB_ACT_RETRY },
	{ "insufficientfunds", "insufficient_funds", SC_TXERR_INSUFFICIENT_FUNDS, SUB_ACT_RETRY },
	{ "nonce too high", "nonce_too_high", SC_TXERR_OTHER, SUB_ACT_RETRY },
	{ "nonce too far in future", "nonce_too_high", SC_TXERR_OTHER, SUB_ACT_RETRY },
	{ "nonce_too_high", "nonce_too_high", SC_TXERR_OTHER, SUB_ACT_RETRY },
	{ "intrinsic gas too low", "intrinsic_gas_too_low", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "intrinsic_gas_exceeds_gas_limit", "intrinsic_gas_too_low", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "exceeds block gas limit", "exceeds_block_gas_limit", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "exceeds_block_gas_limit", "exceeds_block_gas_limit", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "gas limit reached", "exceeds_block_gas_limit", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "max fee per gas less than block base fee", "fee_too_low", SC_TXERR_OTHER, SUB_ACT_BUMP },
	{ "fee cap less than block base fee", "fee_too_low", SC_TXERR_OTHER, SUB_ACT_BUMP },
	{ "transaction underpriced", "underpriced", SC_TXERR_OTHER, SUB_ACT_BUMP },
	{ "gas price below configured minimum", "underpriced", SC_TXERR_OTHER, SUB_ACT_BUMP },
	{ "underpriced", "underpriced", SC_TXERR_OTHER, SUB_ACT_BUMP },
	{ "fee too low", "underpriced", SC_TXERR_OTHER, SUB_ACT_BUMP },
	{ "exceeds the configured cap", "fee_cap_exceeded", SC_TXERR_OTHER,
	  SUB_ACT_FATAL }, /* geth: tx fee (x ether) exceeds the configured cap (1.00 ether) */
	{ "max priority fee per gas higher than max fee per gas", "fee_invalid", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "tip higher than fee cap", "fee_invalid", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "invalid sender", "invalid_signature", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "invalid signature", "invalid_signature", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "invalid chain id", "wrong_chain", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "incorrect chain id", "wrong_chain", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "wrong_chain_id", "wrong_chain", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "oversized data", "oversized", SC_TXERR_OTHER, SUB_ACT_FATAL },
	{ "txpool is full", "pool_full", SC_TXERR_OTHER, SUB_ACT_RETRY },
	{ "transaction pool is full", "pool_full", SC_TXERR_OTHER, SUB_ACT_RETRY },
	{ "execution reverted", "reverted", SC_TXERR_REVERTED, SUB_ACT_FATAL },
};

static const sub_class sub_other = { "", "other", SC_TXERR_OTHER, SUB_ACT_RETRY };
static const sub_class sub_rpc = { "", "rpc", SC_TXERR_RPC, SUB_ACT_RETRY };

static const char *const sub_names[] = {
	"replacement_underpriced",
	"already_known",
	"nonce_too_low",
	"insufficient_funds",
	"nonce_too_high",
	"intrinsic_gas_too_low",
	"exceeds_block_gas_limit",
	"fee_too_low",
	"underpriced",
	"fee_cap_exceeded",
	"fee_invalid",
	"invalid_signature",
	"wrong_chain",
	"oversized",
	"pool_full",
	"reverted",
	"other",
	"rpc",
	NULL,
};

const sub_class *
sub_classify(const char *msg)
{
	char low[256];
	size_t n = 0;
	for (; msg && msg[n] && n < sizeof low - 1; n++)
		low[n] = (char)tolower((unsigned char)msg[n]);
	low[n] = 0;
	for (size_t i = 0; i < sizeof sub_classes / sizeof sub_classes[0]; i++)
		if (strstr(low, sub_classes[i].needle))
			return &sub_classes[i];
	return &sub_other;
}

const sub_class *
sub_class_rpc(void)
{
	return &sub_rpc;
}
const char *const *
sub_class_names(void)
{
	return sub_names;
}
