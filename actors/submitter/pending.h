/* pending.h - the submitter's durable record of one transaction it is responsible for, stored in
 * LMDB table `pending` under key (nonce big-endian, tx hash) so a cursor walks nonces in order,
 * and the fee arithmetic of a bump.
 *
 * Value layout (versioned, no padding or host byte order on disk):
 *   "SUB1" | u32 count | count x u64 (big-endian, the fields of sub_fields in table order)
 *   | block_hash[32] | replaced_by[32] | effective_gas_price[32] | msgpack sc_tx_signed
 * A newer build appends fields to the table; an older count is read with the rest left zero.
 *
 * Memory: sub_entry is a plain value (it owns the raw transaction bytes inside tx). */
#ifndef OB_ACTORS_SUBMITTER_PENDING_H
#define OB_ACTORS_SUBMITTER_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include "schemas/messages.h"
#include "store/store.h"

typedef struct {
	sc_tx_signed tx;
	uint64_t state;         /* SC_TX_*: the last state published */
	uint64_t first_seen_ns; /* wall clock: tx.signed stored */
	uint64_t last_sent_ns;  /* wall clock of the last eth_sendRawTransaction */
	uint64_t sent_block;    /* chain head when first accepted by a node (0 = never accepted) */
	uint64_t bump_block;    /* head when the last tx.bump was asked (0 = never) */
	uint64_t attempts;      /* sends */
	uint64_t block_number;  /* included in (0 = not included) */
	uint64_t gas_used;
	uint64_t receipt_status; /* 1 success, 0 reverted */
	uint64_t error;          /* SC_TXERR_* of the last send */
	uint64_t confirmed_ns;   /* when confirmed was published (0 = not yet) */
	uint64_t checked_block;  /* head at the last mempool check */
	uint8_t block_hash[32];
	uint8_t replaced_by[32];
	u256 effective_gas_price;
	char error_text[256]; /* not stored: the node's message of the current send */
	int dirty;            /* not stored: changed while saves are deferred (sub_flush_saves) */
	int fee_refused;      /* not stored: the node's answer to the last send refused the fee */
} sub_entry;

#define SUB_KEY_LEN 40
void sub_key(const sub_entry *e, uint8_t key[SUB_KEY_LEN]);

/* Encodes into buf (cap >= SUB_REC_MAX); returns the length or 0 on error. */
#define SUB_REC_MAX (SC_RAWTX_CAP + 2048)
size_t sub_encode(const sub_entry *e, uint8_t *buf, size_t cap);
/* 0, or -1 when the value is not a record of this layout. */
int sub_decode(const uint8_t *buf, size_t len, sub_entry *e);

int sub_put(MDB_txn *txn, MDB_dbi dbi, const sub_entry *e, st_err *err);

/* Fee of a replacement: max(old + ceil(old * percent / 100), quote). percent is at least 10
 * (geth's and Besu's minimum replacement bump) and an old fee of 0 stays 0 unless quoted. */
void sub_bump_fee(u256 *out, const u256 *old, uint64_t percent, const u256 *quote);

#endif
