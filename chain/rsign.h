/*
 * rsign.h - a remote signer client: the transaction is signed by another process that holds the key
 * (Web3Signer, Clef, a KMS/HSM-backed signer, or a node with unlocked accounts such as anvil), over
 * JSON-RPC on HTTP(S).
 *
 * Method: eth_signTransaction (Web3Signer, geth, anvil) or account_signTransaction (Clef), with one
 * transaction object {from, to, gas, gasPrice | maxFeePerGas + maxPriorityFeePerGas + type "0x2",
 * value, data, nonce, chainId} (quantities in hex). The answer is the raw signed transaction, as a
 * hex string (Web3Signer, anvil) or as the "raw" member of an object (geth, Clef).
 *
 * Nothing the remote signer returns is trusted: the raw transaction is decoded strictly
 * (tx_decode_at) and must carry exactly the fields asked for (type, chain id, nonce, fees, gas,
 * to, value, data, empty access list), a valid low-s signature whose recovered sender is the
 * configured address, and re-encode to the same bytes. Otherwise RS_EMISMATCH names the field.
 *
 * Failures: RS_ETRANSPORT (connect, timeout, HTTP status without a JSON-RPC body, oversized or
 * undecodable answer), RS_EREFUSED (a JSON-RPC error: locked account, rejected by the operator,
 * unknown method), RS_EMISMATCH. After a transport failure the signer is not asked again for
 * the back-off period (default 1 s, rs_set_backoff_ms): a batch of requests fails fast instead of
 * waiting for the timeout on each.
 *
 * Logs and errors show the URL as scheme://host:port only (credentials and paths stay out).
 * Memory: rs_open copies url; rs_sign writes only into the caller's tx (its data stays borrowed).
 * Threads: one thread per rs.
 */
#ifndef OB_CHAIN_RSIGN_H
#define OB_CHAIN_RSIGN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "chain/tx.h"

enum {
	RS_OK = OB_OK,
	RS_ETRANSPORT = OB_ERS_TRANSPORT,
	RS_EREFUSED = OB_ERS_REFUSED,
	RS_EMISMATCH = OB_ERS_MISMATCH
};

#define RS_MAX_RESPONSE (64u << 10)

typedef struct rs rs;

/* method NULL or "" = eth_signTransaction. NULL with err on a malformed URL or method. */
rs *rs_open(const char *url, const uint8_t from[20], const char *method, int timeout_ms, char *err, size_t errlen);
void rs_close(rs *r);
void rs_set_backoff_ms(rs *r, int ms);
const char *rs_endpoint(const rs *r); /* scheme://host:port */

/* Has t (every field but the signature set; type legacy or EIP-1559, no access list) signed by
 * the remote signer; on RS_OK t carries the checked signature. */
int rs_sign(rs *r, tx *t, char *err, size_t errlen);

/* ---- the pure parts (tested without a signer) ---------------------------------------------- */
/* The JSON-RPC transaction object for t from `from` (a new reference). */
json_t *rs_tx_json(const tx *t, const uint8_t from[20]);
/* Checks a remote answer raw[0..n) against the request want and the sender from; on RS_OK copies
 * the signature into want. RS_EMISMATCH with err naming what differs. */
int rs_check(tx *want, const uint8_t from[20], const uint8_t *raw, size_t n, char *err, size_t errlen);
/* The raw tx of a JSON-RPC result: "0x..." or {"raw":"0x...", ...}. 0, or -1 with err. raw gets
 * up to cap bytes. */
int rs_result_raw(const json_t *result, uint8_t *raw, size_t cap, size_t *n, char *err, size_t errlen);

#endif
