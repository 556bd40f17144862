/* messages: the descriptor tables of every message family (see messages.h for the structs and
 * schemas/README.md for the meaning of each field). The order of a table is the order on the wire;
 * append new fields at the end as SC_OPT so that older readers keep working (README, "Evolution"). */
#include "schemas/messages.h"

#include <string.h>

#include "schemas/schema_impl.h"

#define MAXDEC U256_MAX_DECIMALS

static const sc_field price_obs_f[] = {
	SC_F_STR(sc_price_obs, feed, SC_REQ | SC_TOKEN),
	SC_F_STR(sc_price_obs, source, SC_REQ | SC_TOKEN),
	SC_F_I256(sc_price_obs, value, SC_REQ),
	SC_F_U64(sc_price_obs, decimals, SC_REQ, MAXDEC),
	SC_F_U64(sc_price_obs, source_ts_ms, SC_OPT, 0),
	SC_F_U64(sc_price_obs, fetch_latency_us, SC_OPT, 0),
	SC_F_U64(sc_price_obs, observed_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_PRICE_OBS = SC_DEF("price.obs", sc_price_obs, 1, 1, price_obs_f);

static const sc_field source_value_f[] = {
	SC_F_STR(sc_source_value, source, SC_REQ | SC_TOKEN),
	SC_F_I256(sc_source_value, value, SC_REQ),
	SC_F_U64(sc_source_value, observed_at_ns, SC_REQ, 0),
};
static const sc_msgdef SC_SOURCE_VALUE = SC_DEF("source_value", sc_source_value, 0, 0, source_value_f);

static const sc_field price_agg_f[] = {
	SC_F_STR(sc_price_agg, feed, SC_REQ | SC_TOKEN),
	SC_F_I256(sc_price_agg, median, SC_REQ),
	SC_F_U64(sc_price_agg, decimals, SC_REQ, MAXDEC),
	SC_F_LIST(sc_price_agg, used, SC_REQ, SC_SOURCE_VALUE),
	SC_F_LIST(sc_price_agg, dropped, SC_OPT, SC_SOURCE_VALUE),
	SC_F_U64(sc_price_agg, spread_ppm, SC_REQ, 0),
	SC_F_U64(sc_price_agg, oldest_observed_at_ns, SC_REQ, 0),
	SC_F_U64(sc_price_agg, aggregated_at_ns, SC_REQ, 0),
	SC_F_U64(sc_price_agg, window_ms, SC_OPT, 0),
};
const sc_msgdef SC_PRICE_AGG = SC_DEF("price.agg", sc_price_agg, 1, 1, price_agg_f);

static const char *const reason_names[] = { "first", "deviation", "heartbeat" };
static const char *const batch_call_names[] = { "none", "aggregate3", "update_answers" };
static const sc_field batch_entry_f[] = {
	SC_F_STR(sc_batch_entry, feed, SC_REQ | SC_TOKEN),  SC_F_I256(sc_batch_entry, answer, SC_REQ),
	SC_F_U64(sc_batch_entry, decimals, SC_REQ, MAXDEC), SC_F_FIXED(sc_batch_entry, contract, SC_REQ),
	SC_F_U256(sc_batch_entry, round_id, SC_OPT),
};
static const sc_msgdef SC_BATCH_ENTRY = SC_DEF("batch_entry", sc_batch_entry, 0, 0, batch_entry_f);
static const sc_field price_update_f[] = {
	SC_F_STR(sc_price_update, feed, SC_REQ | SC_TOKEN),
	SC_F_I256(sc_price_update, answer, SC_REQ),
	SC_F_U64(sc_price_update, decimals, SC_REQ, MAXDEC),
	SC_F_ENUM(sc_price_update, reason, SC_REQ, reason_names),
	SC_F_I256(sc_price_update, previous_answer, SC_OPT),
	SC_F_U64(sc_price_update, previous_updated_at_s, SC_OPT, 0),
	SC_F_U64(sc_price_update, deviation_ppm, SC_OPT, 0),
	SC_F_U64(sc_price_update, threshold_ppm, SC_OPT, 0),
	SC_F_I256(sc_price_update, threshold_abs, SC_OPT),
	SC_F_U64(sc_price_update, since_update_s, SC_OPT, 0),
	SC_F_U64(sc_price_update, heartbeat_s, SC_OPT, 0),
	SC_F_U256(sc_price_update, round_id, SC_OPT),
	SC_F_U64(sc_price_update, chain_id, SC_REQ, 0),
	SC_F_FIXED(sc_price_update, contract, SC_REQ),
	SC_F_U64(sc_price_update, decided_at_ns, SC_REQ, 0),
	SC_F_STR(sc_price_update, agg_origin, SC_OPT),
	SC_F_U64(sc_price_update, agg_seq, SC_OPT, 0),
	SC_F_U64(sc_price_update, agg_sources, SC_OPT, 0),
	SC_F_U64(sc_price_update, gas_limit, SC_OPT, 0),
	SC_F_ENUM(sc_price_update, batch_call, SC_OPT, batch_call_names),
	SC_F_LIST(sc_price_update, batch, SC_OPT, SC_BATCH_ENTRY),
};
const sc_msgdef SC_PRICE_UPDATE = SC_DEF("price.update", sc_price_update, 1, 1, price_update_f);

static const sc_field tx_request_f[] = {
	SC_F_FIXED(sc_tx_request, id, SC_REQ),   SC_F_U64(sc_tx_request, chain_id, SC_REQ, 0),
	SC_F_FIXED(sc_tx_request, to, SC_REQ),   SC_F_BYTES(sc_tx_request, data, SC_REQ),
	SC_F_U256(sc_tx_request, value, SC_OPT), SC_F_U64(sc_tx_request, gas_limit, SC_OPT, 0),
	SC_F_STR(sc_tx_request, ref, SC_OPT),    SC_F_U64(sc_tx_request, requested_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_TX_REQUEST = SC_DEF("tx.request", sc_tx_request, 1, 1, tx_request_f);

static const char *const txtype_names[] = { "legacy", "eip1559" };
static const sc_field tx_signed_f[] = {
	SC_F_FIXED(sc_tx_signed, id, SC_REQ),
	SC_F_U64(sc_tx_signed, chain_id, SC_REQ, 0),
	SC_F_FIXED(sc_tx_signed, from, SC_REQ),
	SC_F_FIXED(sc_tx_signed, to, SC_REQ),
	SC_F_U64(sc_tx_signed, nonce, SC_REQ, 0),
	SC_F_ENUM(sc_tx_signed, tx_type, SC_REQ, txtype_names),
	SC_F_BYTES(sc_tx_signed, raw, SC_REQ),
	SC_F_FIXED(sc_tx_signed, tx_hash, SC_REQ),
	SC_F_U64(sc_tx_signed, gas_limit, SC_REQ, 0),
	SC_F_U256(sc_tx_signed, gas_price, SC_OPT),
	SC_F_U256(sc_tx_signed, max_fee_per_gas, SC_OPT),
	SC_F_U256(sc_tx_signed, max_priority_fee_per_gas, SC_OPT),
	SC_F_FIXED(sc_tx_signed, replaces, SC_OPT),
	SC_F_STR(sc_tx_signed, feed, SC_OPT | SC_TOKEN),
	SC_F_I256(sc_tx_signed, answer, SC_OPT),
	SC_F_STR(sc_tx_signed, ref, SC_OPT),
	SC_F_U64(sc_tx_signed, signed_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_TX_SIGNED = SC_DEF("tx.signed", sc_tx_signed, 1, 1, tx_signed_f);

static const sc_field tx_ack_f[] = {
	SC_F_FIXED(sc_tx_ack, id, SC_REQ),
	SC_F_FIXED(sc_tx_ack, tx_hash, SC_REQ),
	SC_F_U64(sc_tx_ack, received_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_TX_ACK = SC_DEF("tx.ack", sc_tx_ack, 1, 1, tx_ack_f);

static const char *const txstate_names[] = { "pending",  "included", "confirmed", "final",
	                                     "replaced", "dropped",  "failed",    "reorged" };
static const char *const txerr_names[] = {
	"none",     "nonce_too_low", "already_known", "replacement_underpriced", "insufficient_funds",
	"reverted", "rpc",           "other"
};
static const sc_field tx_status_f[] = {
	SC_F_FIXED(sc_tx_status, tx_hash, SC_REQ),
	SC_F_FIXED(sc_tx_status, id, SC_OPT),
	SC_F_U64(sc_tx_status, chain_id, SC_REQ, 0),
	SC_F_FIXED(sc_tx_status, from, SC_REQ),
	SC_F_U64(sc_tx_status, nonce, SC_REQ, 0),
	SC_F_ENUM(sc_tx_status, state, SC_REQ, txstate_names),
	SC_F_U64(sc_tx_status, block_number, SC_OPT, 0),
	SC_F_FIXED(sc_tx_status, block_hash, SC_OPT),
	SC_F_U64(sc_tx_status, confirmations, SC_OPT, 0),
	SC_F_U64(sc_tx_status, gas_used, SC_OPT, 0),
	SC_F_U256(sc_tx_status, effective_gas_price, SC_OPT),
	SC_F_ENUM(sc_tx_status, error, SC_OPT, txerr_names),
	SC_F_STR(sc_tx_status, error_text, SC_OPT),
	SC_F_FIXED(sc_tx_status, replaced_by, SC_OPT),
	SC_F_U64(sc_tx_status, attempts, SC_OPT, 0),
	SC_F_STR(sc_tx_status, feed, SC_OPT | SC_TOKEN),
	SC_F_I256(sc_tx_status, answer, SC_OPT),
	SC_F_STR(sc_tx_status, ref, SC_OPT),
	SC_F_U64(sc_tx_status, observed_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_TX_STATUS = SC_DEF("tx.status", sc_tx_status, 1, 1, tx_status_f);

static const sc_field gas_quote_f[] = {
	SC_F_U64(sc_gas_quote, chain_id, SC_REQ, 0),
	SC_F_U64(sc_gas_quote, block_number, SC_REQ, 0),
	SC_F_BOOL(sc_gas_quote, eip1559, SC_REQ),
	SC_F_U256(sc_gas_quote, base_fee_per_gas, SC_OPT),
	SC_F_U256(sc_gas_quote, gas_price, SC_OPT),
	SC_F_U256(sc_gas_quote, max_fee_per_gas, SC_OPT),
	SC_F_U256(sc_gas_quote, max_priority_fee_per_gas, SC_OPT),
	SC_F_U64(sc_gas_quote, quoted_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_GAS_QUOTE = SC_DEF("gas.quote", sc_gas_quote, 1, 1, gas_quote_f);

static const sc_field tx_bump_f[] = {
	SC_F_FIXED(sc_tx_bump, id, SC_REQ),
	SC_F_FIXED(sc_tx_bump, tx_hash, SC_REQ),
	SC_F_U64(sc_tx_bump, chain_id, SC_REQ, 0),
	SC_F_FIXED(sc_tx_bump, from, SC_REQ),
	SC_F_U64(sc_tx_bump, nonce, SC_REQ, 0),
	SC_F_U256(sc_tx_bump, min_gas_price, SC_REQ),
	SC_F_U256(sc_tx_bump, min_max_fee_per_gas, SC_REQ),
	SC_F_U256(sc_tx_bump, min_max_priority_fee_per_gas, SC_REQ),
	SC_F_U64(sc_tx_bump, stuck_blocks, SC_REQ, 0),
	SC_F_U64(sc_tx_bump, requested_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_TX_BUMP = SC_DEF("tx.bump", sc_tx_bump, 1, 1, tx_bump_f);

static const sc_field nonce_sync_f[] = {
	SC_F_U64(sc_nonce_sync, chain_id, SC_REQ, 0),     SC_F_FIXED(sc_nonce_sync, address, SC_REQ),
	SC_F_U64(sc_nonce_sync, latest_nonce, SC_REQ, 0), SC_F_U64(sc_nonce_sync, pending_nonce, SC_REQ, 0),
	SC_F_U64(sc_nonce_sync, block_number, SC_REQ, 0), SC_F_U64(sc_nonce_sync, synced_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_NONCE_SYNC = SC_DEF("nonce.sync", sc_nonce_sync, 1, 1, nonce_sync_f);

static const sc_field signer_lease_f[] = {
	SC_F_U64(sc_signer_lease, chain_id, SC_REQ, 0),      SC_F_FIXED(sc_signer_lease, address, SC_REQ),
	SC_F_STR(sc_signer_lease, instance, SC_REQ),         SC_F_FIXED(sc_signer_lease, boot_id, SC_REQ),
	SC_F_U64(sc_signer_lease, started_at_ns, SC_REQ, 0), SC_F_U64(sc_signer_lease, seq, SC_REQ, 0),
	SC_F_U64(sc_signer_lease, ttl_ms, SC_REQ, 0),        SC_F_BOOL(sc_signer_lease, released, SC_OPT),
	SC_F_U64(sc_signer_lease, sent_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_SIGNER_LEASE = SC_DEF("signer.lease", sc_signer_lease, 1, 1, signer_lease_f);

static const sc_field token_amount_f[] = {
	SC_F_FIXED(sc_token_amount, token, SC_REQ),
	SC_F_U256(sc_token_amount, amount, SC_REQ),
};
static const sc_msgdef SC_TOKEN_AMOUNT = SC_DEF("token_amount", sc_token_amount, 0, 0, token_amount_f);

static const char *const ccip_state_names[] = { "sent",    "committed", "executed_success", "executed_failure",
	                                        "overdue", "reorged" };
static const char *const ccip_version_names[] = { "1.5", "1.6" };
static const sc_field ccip_msg_f[] = {
	SC_F_FIXED(sc_ccip_msg, message_id, SC_REQ),
	SC_F_ENUM(sc_ccip_msg, state, SC_REQ, ccip_state_names),
	SC_F_ENUM(sc_ccip_msg, ccip_version, SC_REQ, ccip_version_names),
	SC_F_U64(sc_ccip_msg, source_chain_selector, SC_REQ, 0),
	SC_F_U64(sc_ccip_msg, dest_chain_selector, SC_REQ, 0),
	SC_F_U64(sc_ccip_msg, sequence_number, SC_REQ, 0),
	SC_F_U64(sc_ccip_msg, nonce, SC_OPT, 0),
	SC_F_BYTES(sc_ccip_msg, sender, SC_OPT),
	SC_F_BYTES(sc_ccip_msg, receiver, SC_OPT),
	SC_F_FIXED(sc_ccip_msg, fee_token, SC_OPT),
	SC_F_U256(sc_ccip_msg, fee_amount, SC_OPT),
	SC_F_LIST(sc_ccip_msg, token_amounts, SC_OPT, SC_TOKEN_AMOUNT),
	SC_F_U64(sc_ccip_msg, data_len, SC_OPT, 0),
	SC_F_FIXED(sc_ccip_msg, data_hash, SC_OPT),
	SC_F_FIXED(sc_ccip_msg, contract, SC_REQ),
	SC_F_U64(sc_ccip_msg, block_number, SC_REQ, 0),
	SC_F_FIXED(sc_ccip_msg, block_hash, SC_REQ),
	SC_F_FIXED(sc_ccip_msg, tx_hash, SC_REQ),
	SC_F_U64(sc_ccip_msg, log_index, SC_REQ, 0),
	SC_F_BYTES(sc_ccip_msg, return_data, SC_OPT),
	SC_F_U64(sc_ccip_msg, block_time_s, SC_OPT, 0),
	SC_F_U64(sc_ccip_msg, observed_at_ns, SC_REQ, 0),
};
const sc_msgdef SC_CCIP_MSG = SC_DEF("ccip.msg", sc_ccip_msg, 1, 1, ccip_msg_f);

static const char *const severity_names[] = { "info", "warning", "error", "critical" };
static const char *const alert_status_names[] = { "firing", "resolved" };
static const sc_field alert_f[] = {
	SC_F_STR(sc_alert, kind, SC_REQ | SC_TOKEN),
	SC_F_ENUM(sc_alert, severity, SC_REQ, severity_names),
	SC_F_ENUM(sc_alert, status, SC_REQ, alert_status_names),
	SC_F_STR(sc_alert, dedupe_key, SC_REQ),
	SC_F_STR(sc_alert, summary, SC_REQ),
	SC_F_MAP(sc_alert, labels, SC_OPT),
	SC_F_STR(sc_alert, origin, SC_REQ),
	SC_F_U64(sc_alert, started_at_ns, SC_REQ, 0),
	SC_F_U64(sc_alert, resolved_at_ns, SC_OPT, 0),
};
const sc_msgdef SC_ALERT = SC_DEF("alert", sc_alert, 1, 1, alert_f);

static const char *const token_kind_names[] = { "mint", "burn", "transfer", "bridge" };
static const char *const format_names[] = { "iso20022_pacs008", "iso20022_pain001", "mt103", "json" };
static const sc_field token_request_f[] = {
	SC_F_STR(sc_token_request, idempotency_key, SC_REQ),
	SC_F_ENUM(sc_token_request, kind, SC_REQ, token_kind_names),
	SC_F_STR(sc_token_request, pool, SC_REQ),
	SC_F_FIXED(sc_token_request, token, SC_OPT),
	SC_F_U256(sc_token_request, amount, SC_REQ),
	SC_F_STR(sc_token_request, currency, SC_REQ | SC_TOKEN),
	SC_F_U64(sc_token_request, decimals, SC_REQ, MAXDEC),
	SC_F_FIXED(sc_token_request, from, SC_OPT),
	SC_F_FIXED(sc_token_request, to, SC_OPT),
	SC_F_STR(sc_token_request, debtor_account, SC_OPT),
	SC_F_STR(sc_token_request, creditor_account, SC_OPT),
	SC_F_ENUM(sc_token_request, source_format, SC_REQ, format_names),
	SC_F_STR(sc_token_request, message_ref, SC_OPT),
	SC_F_U64(sc_token_request, received_at_ns, SC_REQ, 0),
	SC_F_STR(sc_token_request, backend, SC_OPT),
};
const sc_msgdef SC_TOKEN_REQUEST = SC_DEF("token.request", sc_token_request, 1, 1, token_request_f);

static const char *const token_state_names[] = {
	"accepted", "pending", "confirmed", "failed", "rejected", "duplicate"
};
static const sc_field token_result_f[] = {
	SC_F_STR(sc_token_result, idempotency_key, SC_REQ),
	SC_F_ENUM(sc_token_result, state, SC_REQ, token_state_names),
	SC_F_ENUM(sc_token_result, kind, SC_REQ, token_kind_names),
	SC_F_U256(sc_token_result, amount, SC_REQ),
	SC_F_STR(sc_token_result, firefly_request_id, SC_OPT),
	SC_F_STR(sc_token_result, firefly_tx_id, SC_OPT),
	SC_F_FIXED(sc_token_result, tx_hash, SC_OPT),
	SC_F_U64(sc_token_result, block_number, SC_OPT, 0),
	SC_F_STR(sc_token_result, error, SC_OPT),
	SC_F_U64(sc_token_result, decided_at_ns, SC_REQ, 0),
	SC_F_STR(sc_token_result, reason, SC_OPT),
	SC_F_STR(sc_token_result, backend, SC_OPT),
};
const sc_msgdef SC_TOKEN_RESULT = SC_DEF("token.result", sc_token_result, 1, 1, token_result_f);

static const sc_msgdef *const all_defs[] = {
	&SC_PRICE_OBS, &SC_PRICE_AGG, &SC_PRICE_UPDATE,  &SC_TX_REQUEST,   &SC_TX_SIGNED,
	&SC_TX_ACK,    &SC_TX_STATUS, &SC_TX_BUMP,       &SC_GAS_QUOTE,    &SC_NONCE_SYNC,
	&SC_CCIP_MSG,  &SC_ALERT,     &SC_TOKEN_REQUEST, &SC_TOKEN_RESULT, &SC_SIGNER_LEASE,
};

const sc_msgdef *const *
sc_all(size_t *n)
{
	*n = sizeof all_defs / sizeof *all_defs;
	return all_defs;
}

const sc_msgdef *
sc_lookup(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < sizeof all_defs / sizeof *all_defs; i++)
		if (strcmp(all_defs[i]->type, type) == 0)
			return all_defs[i];
	return NULL;
}

const char *
sc_enum_name(const sc_msgdef *d, const char *field, int value)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const sc_field *f = &d->fields[i];
		if (f->kind == SC_ENUM && strcmp(f->name, field) == 0)
			return value >= 0 && (uint32_t)value < f->nnames ? f->names[value] : NULL;
	}
	return NULL;
}
