/* revert.h - why a transaction failed, in one line for tx.status.error_text and the tx_failed
 * alert: out of gas from the receipt, or the revert data of a replay (eth_call) decoded.
 *
 * Memory: pure functions writing into the caller's buffer; nothing is allocated or kept.
 */
#ifndef SUBMITTER_REVERT_H
#define SUBMITTER_REVERT_H

#include <stddef.h>
#include <stdint.h>

/* Did the transaction run out of gas? gas_used == limit, or >= 63/64 of it (a call that ran
 * out of gas inside a sub-call leaves 1/64 unused: EIP-150). */
int sub_out_of_gas(uint64_t gas_used, uint64_t gas_limit);

/* Revert data as text:
 *   Error(string)   "reverted: <reason>" (control characters shown as '?')
 *   Panic(uint256)  "panic 0x11: arithmetic overflow or underflow"
 *   other selector  "custom error 0x12345678(0x0,0x1,0x5af3107a4000)": its arguments as 32-byte
 *                   words in hex (the first 8); data not made of whole words "..., data 0x..."
 *   empty           "reverted without a reason"
 *   1-3 bytes       "reverted with malformed data 0x..."
 * Always NUL-terminates out (cap > 0). */
void sub_revert_text(const uint8_t *data, size_t len, char *out, size_t cap);

/* The meaning of a Solidity panic code ("division or modulo by zero"), "unknown panic code". */
const char *sub_panic_name(uint64_t code);

#endif
