/* revert.h - a human reading of EVM revert data, as returned in a JSON-RPC error's "data" by
 * eth_call / eth_estimateGas (and by replaying a failed transaction):
 *   Error(string)  0x08c379a0  -> "reverted: <reason>" (control and non-ASCII bytes shown as '?')
 *   Panic(uint256) 0x4e487b71  -> "panic 0x11 (arithmetic overflow or underflow)"
 *   any other selector         -> "custom error 0x12345678 (N bytes of arguments)"
 *   no data                    -> "reverted without a reason"
 * The text never contains quotes, backslashes or control characters, so it can go into logs,
 * alert summaries and metric-free labels as is.
 *
 * Memory: out is the caller's; nothing allocates. */
#ifndef OB_CHAIN_REVERT_H
#define OB_CHAIN_REVERT_H

#include <stddef.h>
#include <stdint.h>

/* Kinds returned by rv_describe. */
enum {
	RV_NONE = 0,
	RV_ERROR_STRING,
	RV_PANIC,
	RV_CUSTOM,
	RV_MALFORMED
};

/* Describes data[0..len) into out[cap] (always NUL-terminated when cap > 0). Returns RV_*. */
int rv_describe(const uint8_t *data, size_t len, char *out, size_t cap);
/* The same from "0x..." hex (a JSON-RPC error's data); "" or NULL = no data. */
int rv_describe_hex(const char *hex, char *out, size_t cap);
/* Solidity's name of a Panic code ("assert failed", "division by zero", ...), or NULL. */
const char *rv_panic_name(uint64_t code);

#endif
