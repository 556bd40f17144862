/* revert.h - the submitter's part of telling why a transaction failed (chain/revert.h reads the
 * revert data itself): out of gas from the receipt, and a custom error's arguments as words.
 *
 * Memory: pure functions writing into the caller's buffer; nothing is allocated or kept.
 */
#ifndef OB_ACTORS_SUBMITTER_REVERT_H
#define OB_ACTORS_SUBMITTER_REVERT_H

#include <stddef.h>
#include <stdint.h>

/* Did the transaction run out of gas? gas_used == limit, or >= 63/64 of it (a call that ran
 * out of gas inside a sub-call leaves 1/64 unused: EIP-150). */
int sub_out_of_gas(uint64_t gas_used, uint64_t gas_limit);

/* A custom error with its arguments as 32-byte words in hex without leading zeros, the first 8:
 * "custom error 0x6e153168(0x0,0x1,0x5af3107a4000)". Data whose arguments are not whole words, or
 * shorter than a selector: 0 is returned and out is untouched (chain/revert.h's text is used).
 * Returns 1 when out was written (always NUL-terminated, cap > 0). */
int sub_custom_error_words(const uint8_t *data, size_t len, char *out, size_t cap);

#endif
