/* pending.c - record layout of the `pending` table and fee-bump arithmetic (see pending.h). */
#include "actors/submitter/pending.h"

#include <stddef.h>
#include <string.h>

static const size_t sub_fields[] = {
	offsetof(sub_entry, state),        offsetof(sub_entry, first_seen_ns), offsetof(sub_entry, last_sent_ns),
	offsetof(sub_entry, sent_block),   offsetof(sub_entry, bump_block),    offsetof(sub_entry, attempts),
	offsetof(sub_entry, block_number), offsetof(sub_entry, gas_used),      offsetof(sub_entry, receipt_status),
	offsetof(sub_entry, error),        offsetof(sub_entry, confirmed_ns),  offsetof(sub_entry, checked_block),
};
#define SUB_NFIELDS (sizeof sub_fields / sizeof sub_fields[0])

void
sub_key(const sub_entry *e, uint8_t key[SUB_KEY_LEN])
{
	st_key_u64(key, e->tx.nonce);
	memcpy(key + 8, e->tx.tx_hash, 32);
}

size_t
sub_encode(const sub_entry *e, uint8_t *buf, size_t cap)
{
	size_t hdr = 8 + 8 * SUB_NFIELDS + 96;
	if (cap < hdr)
		return 0;
	memcpy(buf, "SUB1", 4);
	buf[4] = buf[5] = buf[6] = 0;
	buf[7] = (uint8_t)SUB_NFIELDS;
	for (size_t i = 0; i < SUB_NFIELDS; i++) {
		uint64_t v;
		memcpy(&v, (const char *)e + sub_fields[i], 8);
		st_key_u64(buf + 8 + 8 * i, v);
	}
	uint8_t *p = buf + 8 + 8 * SUB_NFIELDS;
	memcpy(p, e->block_hash, 32);
	memcpy(p + 32, e->replaced_by, 32);
	u256_to_be(&e->effective_gas_price, p + 64);
	size_t n;
	sc_err se;
	if (sc_encode(&SC_TX_SIGNED, &e->tx, buf + hdr, cap - hdr, &n, &se) != 0)
		return 0;
	return hdr + n;
}

int
sub_decode(const uint8_t *buf, size_t len, sub_entry *e)
{
	memset(e, 0, sizeof *e);
	if (len < 8 || memcmp(buf, "SUB1", 4) != 0)
		return -1;
	size_t count = (size_t)buf[4] << 24 | (size_t)buf[5] << 16 | (size_t)buf[6] << 8 | buf[7];
	size_t hdr = 8 + 8 * count + 96;
	if (len < hdr)
		return -1;
	for (size_t i = 0; i < count && i < SUB_NFIELDS; i++) {
		uint64_t v = st_u64_at(buf + 8 + 8 * i);
		memcpy((char *)e + sub_fields[i], &v, 8);
	}
	const uint8_t *p = buf + 8 + 8 * count;
	memcpy(e->block_hash, p, 32);
	memcpy(e->replaced_by, p + 32, 32);
	u256_from_be(&e->effective_gas_price, p + 64, 32);
	sc_err se;
	return sc_decode(&SC_TX_SIGNED, buf + hdr, len - hdr, &e->tx, &se) == 0 ? 0 : -1;
}

int
sub_put(MDB_txn *txn, MDB_dbi dbi, const sub_entry *e, st_err *err)
{
	static uint8_t buf[SUB_REC_MAX];
	uint8_t key[SUB_KEY_LEN];
	size_t n = sub_encode(e, buf, sizeof buf);
	if (!n) {
		if (err)
			snprintf(err->text, sizeof err->text, "pending: record does not encode");
		return ST_ESCHEMA;
	}
	sub_key(e, key);
	return st_put(txn, dbi, key, sizeof key, buf, n, err);
}

void
sub_bump_fee(u256 *out, const u256 *old, uint64_t percent, const u256 *quote)
{
	u256 inc, r;
	if (percent < 10)
		percent = 10;
	/* ceil(old * percent / 100): the node compares with >=, a truncated bump could fall short */
	if (u256_mul_u64(&inc, old, percent)) {
		u256_divmod_u64(&inc, old, 100);
		u256_mul_u64(&inc, &inc, percent);
	} else if (u256_divmod_u64(&inc, &inc, 100) != 0) {
		u256 one;
		u256_from_u64(&one, 1);
		u256_add(&inc, &inc, &one);
	}
	if (u256_add(&r, old, &inc))
		memset(&r, 0xff, sizeof r);
	if (quote && u256_cmp(quote, &r) > 0)
		r = *quote;
	*out = r;
}
