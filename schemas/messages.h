/* messages: the message families of the oraclebus, one struct and one descriptor each.
 *
 * Every field is documented in schemas/README.md (wire type, JSON view, meaning, limits). The
 * field names below ARE the wire keys. Conventions: times are integers with their unit in the name
 * (_ns since the Unix epoch unless said otherwise, _s seconds, _ms, _us); prices and amounts are
 * 256-bit integers (I256 = int256 two's complement, U256 = uint256) with a separate `decimals`;
 * ppm = parts per million. Strings are NUL-terminated inside their array (capacity = size - 1);
 * byte fields have a <name>_len, lists a <name>_count.
 *
 * Memory: records are plain values that own all their bytes (no pointers); copy them freely. The
 * SC_* descriptors are static. Use them with schemas/schema.h: sc_encode(&SC_PRICE_OBS, &obs, ...). */
#ifndef OB_SCHEMAS_MESSAGES_H
#define OB_SCHEMAS_MESSAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "schemas/schema.h"
#include "base/u256.h"

#define SC_NAME_CAP     31 /* feed, source, currency-like names */
#define SC_ORIGIN_CAP   63 /* actor instance names, references */
#define SC_KV_KEY_CAP   63
#define SC_KV_VALUE_CAP 255
#define SC_MAX_SOURCES  16
#define SC_CALLDATA_CAP 2048
#define SC_RAWTX_CAP    4096

typedef struct {
	char key[SC_KV_KEY_CAP + 1];
	char value[SC_KV_VALUE_CAP + 1];
} sc_kv; /* a label */

/* ---- price.obs: fetcher -> median, topic price.obs.<feed> ---------------------------------- */
typedef struct {
	char feed[SC_NAME_CAP + 1];   /* "ETH-USD" */
	char source[SC_NAME_CAP + 1]; /* "coinbase" */
	u256 value;                   /* I256 fixed point: price * 10^decimals */
	uint64_t decimals;            /* <= 77 */
	uint64_t source_ts_ms;        /* the source's own timestamp, ms since epoch; 0 = none given */
	uint64_t fetch_latency_us;    /* request sent -> response parsed */
	uint64_t observed_at_ns;      /* when the fetcher parsed it */
} sc_price_obs;

/* ---- price.agg: median -> gate, topic price.agg.<feed> -------------------------------------- */
typedef struct {
	char source[SC_NAME_CAP + 1];
	u256 value; /* I256, same decimals as the aggregate */
	uint64_t observed_at_ns;
} sc_source_value;

typedef struct {
	char feed[SC_NAME_CAP + 1];
	u256 median; /* I256 fixed point */
	uint64_t decimals;
	sc_source_value used[SC_MAX_SOURCES];
	uint32_t used_count; /* in the median */
	sc_source_value dropped[SC_MAX_SOURCES];
	uint32_t dropped_count;         /* outliers left out */
	uint64_t spread_ppm;            /* (max - min) / median of the used values, ppm */
	uint64_t oldest_observed_at_ns; /* the oldest observation used */
	uint64_t aggregated_at_ns;
	uint64_t window_ms; /* the median's freshness window: an aggregate is not to be used
                                       once oldest_observed_at_ns is older than this (0 = not said) */
} sc_price_agg;

/* ---- price.update: gate -> signer, topic price.update.<feed> -------------------------------- */
#define SC_BATCH_MAX 64 /* feeds in one batched price.update (chain/batch.h CB_MAX_CALLS) */
enum {
	SC_BATCH_NONE,          /* one feed: the fields above are the update */
	SC_BATCH_AGGREGATE3,    /* Multicall3 aggregate3 at contract, one call per entry */
	SC_BATCH_UPDATE_ANSWERS /* OracleBatcher updateAnswers at contract */
};
/* One feed of a batched price.update. */
typedef struct {
	char feed[SC_NAME_CAP + 1];
	u256 answer; /* I256 */
	uint64_t decimals;
	uint8_t contract[20]; /* the feed's aggregator */
	u256 round_id;        /* U256, as price.update.round_id */
} sc_batch_entry;
enum {
	SC_REASON_FIRST,
	SC_REASON_DEVIATION,
	SC_REASON_HEARTBEAT
};
typedef struct {
	char feed[SC_NAME_CAP + 1];
	u256 answer; /* I256: the value to write on chain */
	uint64_t decimals;
	int reason;                     /* SC_REASON_*: first | deviation | heartbeat */
	u256 previous_answer;           /* I256: the on-chain answer it was compared with (0 if first) */
	uint64_t previous_updated_at_s; /* on-chain updatedAt of previous_answer (0 if first) */
	uint64_t deviation_ppm;         /* |answer - previous| / |previous|, ppm */
	uint64_t threshold_ppm;         /* DEVIATION_THRESHOLD in ppm */
	u256 threshold_abs;             /* I256 optional absolute threshold (0 = none) */
	uint64_t since_update_s;        /* seconds since previous_updated_at_s when decided */
	uint64_t heartbeat_s;           /* HEARTBEAT */
	u256 round_id;                  /* U256 round the contract expects next (submit(roundId,...)) */
	uint64_t chain_id;
	uint8_t contract[20]; /* the aggregator */
	uint64_t decided_at_ns;
	char agg_origin[SC_ORIGIN_CAP + 1]; /* envelope origin + seq of the price.agg it came from */
	uint64_t agg_seq;
	uint64_t agg_sources; /* how many sources the aggregate used */
	uint64_t gas_limit;   /* estimated by the gate (eth_estimateGas + margin, capped);
                                       0 = the signer's configured GAS_LIMIT */
	/* A batch (batch_call != none): one transaction to `contract` (Multicall3 or OracleBatcher)
	 * updating every entry; feed is then the gate's BATCH_NAME, answer 0. */
	int batch_call; /* SC_BATCH_* */
	sc_batch_entry batch[SC_BATCH_MAX];
	uint32_t batch_count;
} sc_price_update;

/* ---- tx.request: any actor -> signer: a generic contract call ------------------------------ */
typedef struct {
	uint8_t id[16]; /* request id; the signer deduplicates on it */
	uint64_t chain_id;
	uint8_t to[20];
	uint8_t data[SC_CALLDATA_CAP];
	uint32_t data_len;           /* selector + ABI arguments */
	u256 value;                  /* wei */
	uint64_t gas_limit;          /* 0 = let the signer estimate */
	char ref[SC_ORIGIN_CAP + 1]; /* free reference echoed in tx.signed / tx.status */
	uint64_t requested_at_ns;
} sc_tx_request;

/* ---- tx.signed: signer -> submitter (outbox until tx.ack) ---------------------------------- */
enum {
	SC_TXTYPE_LEGACY,
	SC_TXTYPE_EIP1559
};
typedef struct {
	uint8_t id[16]; /* unique per signed transaction; tx.ack echoes it */
	uint64_t chain_id;
	uint8_t from[20];
	uint8_t to[20];
	uint64_t nonce;
	int tx_type; /* SC_TXTYPE_*: legacy | eip1559 */
	uint8_t raw[SC_RAWTX_CAP];
	uint32_t raw_len;    /* the signed RLP, ready for eth_sendRawTransaction */
	uint8_t tx_hash[32]; /* keccak256(raw) */
	uint64_t gas_limit;
	u256 gas_price;                /* legacy (may be 0 on Besu-style networks) */
	u256 max_fee_per_gas;          /* eip1559 */
	u256 max_priority_fee_per_gas; /* eip1559 */
	uint8_t replaces[32];          /* hash of the transaction this one replaces (fee bump), or 0 */
	char feed[SC_NAME_CAP + 1];    /* when it is a price update */
	u256 answer;                   /* I256, when it is a price update */
	char ref[SC_ORIGIN_CAP + 1];   /* id of the price.update or tx.request it came from, 32 lowercase hex digits */
	uint64_t signed_at_ns;
} sc_tx_signed;

/* ---- tx.ack: submitter -> signer ----------------------------------------------------------- */
typedef struct {
	uint8_t id[16]; /* tx.signed id */
	uint8_t tx_hash[32];
	uint64_t received_at_ns;
} sc_tx_ack;

/* ---- tx.status: submitter -> everyone ------------------------------------------------------ */
enum {
	SC_TX_PENDING,
	SC_TX_INCLUDED,
	SC_TX_CONFIRMED,
	SC_TX_FINAL,
	SC_TX_REPLACED,
	SC_TX_DROPPED,
	SC_TX_FAILED,
	SC_TX_REORGED
};
enum {
	SC_TXERR_NONE,
	SC_TXERR_NONCE_TOO_LOW,
	SC_TXERR_ALREADY_KNOWN,
	SC_TXERR_REPLACEMENT_UNDERPRICED,
	SC_TXERR_INSUFFICIENT_FUNDS,
	SC_TXERR_REVERTED,
	SC_TXERR_RPC,
	SC_TXERR_OTHER
};
typedef struct {
	uint8_t tx_hash[32];
	uint8_t id[16]; /* tx.signed id */
	uint64_t chain_id;
	uint8_t from[20];
	uint64_t nonce;
	int state;             /* SC_TX_* */
	uint64_t block_number; /* when included */
	uint8_t block_hash[32];
	uint64_t confirmations; /* head - block_number + 1: the inclusion block counts as 1 */
	uint64_t gas_used;
	u256 effective_gas_price;
	int error;                  /* SC_TXERR_* error class */
	char error_text[255 + 1];   /* the node's message, truncated */
	uint8_t replaced_by[32];    /* when state is replaced */
	uint64_t attempts;          /* sends including fee bumps */
	char feed[SC_NAME_CAP + 1]; /* when it is a price update */
	u256 answer;                /* I256 */
	char ref[SC_ORIGIN_CAP + 1];
	uint64_t observed_at_ns;
} sc_tx_status;

/* ---- tx.bump: submitter -> signer: re-sign a stuck transaction with higher fees ------------- */
typedef struct {
	uint8_t id[16];      /* the tx.signed to replace */
	uint8_t tx_hash[32]; /* its hash */
	uint64_t chain_id;
	uint8_t from[20];
	uint64_t nonce;           /* the replacement keeps this nonce */
	u256 min_gas_price;       /* legacy: at least this (node's replacement bump included) */
	u256 min_max_fee_per_gas; /* eip1559 */
	u256 min_max_priority_fee_per_gas;
	uint64_t stuck_blocks; /* blocks it has waited unmined */
	uint64_t requested_at_ns;
} sc_tx_bump;

/* ---- gas.quote: submitter -> signer -------------------------------------------------------- */
typedef struct {
	uint64_t chain_id;
	uint64_t block_number;
	bool eip1559; /* the chain has a base fee */
	u256 base_fee_per_gas;
	u256 gas_price; /* eth_gasPrice, for legacy transactions */
	u256 max_fee_per_gas;
	u256 max_priority_fee_per_gas;
	uint64_t quoted_at_ns;
} sc_gas_quote;

/* ---- nonce.sync: submitter -> signer ------------------------------------------------------- */
typedef struct {
	uint64_t chain_id;
	uint8_t address[20];
	uint64_t latest_nonce;  /* eth_getTransactionCount(address, "latest") */
	uint64_t pending_nonce; /* eth_getTransactionCount(address, "pending") */
	uint64_t block_number;
	uint64_t synced_at_ns;
} sc_nonce_sync;

/* ---- signer.lease: signer -> signers of the same address (actors/signer/lease.h) ------------ */
typedef struct {
	uint64_t chain_id;
	uint8_t address[20];              /* the key's address */
	char instance[SC_ORIGIN_CAP + 1]; /* the signer's INSTANCE (for the operator) */
	uint8_t boot_id[16];              /* random per process start */
	uint64_t started_at_ns;           /* process start; with boot_id, the order of who yields */
	uint64_t seq;                     /* heartbeat count of this boot */
	uint64_t ttl_ms;                  /* the lease time: live until this long after it is heard */
	bool released;                    /* the signer stops: its lease ends now */
	uint64_t sent_at_ns;
} sc_signer_lease;

/* ---- ccip.msg: ccip-tail, topic ccip.msg.<state> ------------------------------------------- */
enum {
	SC_CCIP_SENT,
	SC_CCIP_COMMITTED,
	SC_CCIP_EXECUTED_SUCCESS,
	SC_CCIP_EXECUTED_FAILURE,
	SC_CCIP_OVERDUE,
	SC_CCIP_REORGED
};
enum {
	SC_CCIP_V1_5,
	SC_CCIP_V1_6
};
typedef struct {
	uint8_t token[20];
	u256 amount;
} sc_token_amount;

typedef struct {
	uint8_t message_id[32];
	int state;        /* SC_CCIP_*: sent | committed | executed_success | ... */
	int ccip_version; /* SC_CCIP_V1_5 "1.5" | SC_CCIP_V1_6 "1.6" */
	uint64_t source_chain_selector;
	uint64_t dest_chain_selector;
	uint64_t sequence_number;
	uint64_t nonce;
	uint8_t sender[64];
	uint32_t sender_len; /* 20 bytes on EVM */
	uint8_t receiver[64];
	uint32_t receiver_len; /* non-EVM receivers are longer */
	uint8_t fee_token[20];
	u256 fee_amount;
	sc_token_amount token_amounts[16];
	uint32_t token_amounts_count;
	uint64_t data_len;     /* length of the message data (the data itself is not carried) */
	uint8_t data_hash[32]; /* keccak256 of the data */
	uint8_t contract[20];  /* the OnRamp / OffRamp / CommitStore that logged the event */
	uint64_t block_number;
	uint8_t block_hash[32];
	uint8_t tx_hash[32];
	uint64_t log_index;
	uint8_t return_data[1024];
	uint32_t return_data_len; /* executed_failure: the revert data */
	uint64_t block_time_s;    /* timestamp of block_number */
	uint64_t observed_at_ns;
} sc_ccip_msg;

/* ---- alert: any actor -> alerter, topic alert.<severity>.<kind> ---------------------------- */
enum {
	SC_SEV_INFO,
	SC_SEV_WARNING,
	SC_SEV_ERROR,
	SC_SEV_CRITICAL
};
enum {
	SC_ALERT_FIRING,
	SC_ALERT_RESOLVED
};
typedef struct {
	char kind[47 + 1];        /* ccip_failure, tx_failed, feed_stale, ... (README) */
	int severity;             /* SC_SEV_* */
	int status;               /* SC_ALERT_* */
	char dedupe_key[127 + 1]; /* stable across repeats of the same condition */
	char summary[511 + 1];
	sc_kv labels[16];
	uint32_t labels_count;
	char origin[SC_ORIGIN_CAP + 1]; /* actor instance that raised it */
	uint64_t started_at_ns;
	uint64_t resolved_at_ns; /* when status is resolved */
} sc_alert;

/* ---- token.request / token.result: tokenizer ----------------------------------------------- */
enum {
	SC_TOKEN_MINT,
	SC_TOKEN_BURN,
	SC_TOKEN_TRANSFER,
	SC_TOKEN_BRIDGE /* reserved: cross-chain, later */
};
enum {
	SC_FMT_ISO20022_PACS008,
	SC_FMT_ISO20022_PAIN001,
	SC_FMT_MT103,
	SC_FMT_JSON
};
enum {
	SC_TOKST_ACCEPTED,
	SC_TOKST_PENDING,
	SC_TOKST_CONFIRMED,
	SC_TOKST_FAILED,
	SC_TOKST_REJECTED,
	SC_TOKST_DUPLICATE
};
typedef struct {
	char idempotency_key[79 + 1];   /* UETR, or MT103 :20: reference + "@" + sender BIC */
	int kind;                       /* SC_TOKEN_*: mint | burn | transfer */
	char pool[SC_ORIGIN_CAP + 1];   /* FireFly token pool */
	uint8_t token[20];              /* token contract, if known */
	u256 amount;                    /* U256 in the token's smallest unit */
	char currency[SC_NAME_CAP + 1]; /* "EUR" */
	uint64_t decimals;
	uint8_t from[20];                       /* burn / transfer */
	uint8_t to[20];                         /* mint / transfer */
	char debtor_account[SC_ORIGIN_CAP + 1]; /* IBAN or account id from the payment, if any */
	char creditor_account[SC_ORIGIN_CAP + 1];
	int source_format;                   /* SC_FMT_* */
	char message_ref[SC_ORIGIN_CAP + 1]; /* pacs.008 MsgId / MT103 :20: */
	uint64_t received_at_ns;
	char backend[15 + 1]; /* which backend executes it: "firefly", "erc20"; "" = any */
} sc_token_request;

typedef struct {
	char idempotency_key[79 + 1];
	int state; /* SC_TOKST_* */
	int kind;  /* SC_TOKEN_* */
	u256 amount;
	char firefly_request_id[SC_ORIGIN_CAP + 1];
	char firefly_tx_id[SC_ORIGIN_CAP + 1];
	uint8_t tx_hash[32];
	uint64_t block_number;
	char error[255 + 1];
	uint64_t decided_at_ns;
	char reason[7 + 1];   /* ISO 20022 status reason code of a failure/rejection (AM05, AC01) */
	char backend[15 + 1]; /* the backend that decided it, "" for the tokenizer's own states */
} sc_token_result;

extern const sc_msgdef SC_PRICE_OBS, SC_PRICE_AGG, SC_PRICE_UPDATE;
extern const sc_msgdef SC_TX_REQUEST, SC_TX_SIGNED, SC_TX_ACK, SC_TX_STATUS, SC_TX_BUMP;
extern const sc_msgdef SC_GAS_QUOTE, SC_NONCE_SYNC, SC_CCIP_MSG, SC_ALERT, SC_SIGNER_LEASE;
extern const sc_msgdef SC_TOKEN_REQUEST, SC_TOKEN_RESULT;

/* Enum value <-> name, for logs and topics ("deviation", "executed_failure"). Static strings. */
const char *sc_enum_name(const sc_msgdef *d, const char *field, int value); /* NULL if none */

#endif
