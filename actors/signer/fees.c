/*
 * fees.c - new and replacement fees within the caps (see fees.h).
 */
#include "actors/signer/fees.h"

#include <string.h>

#include "actors/signer/policy.h"

static const u256 *
sgf_max(const u256 *a, const u256 *b)
{
	return u256_cmp(a, b) >= 0 ? a : b;
}

int
sgf_needs_quote(const sgf_cfg *c)
{
	return c->eip1559 || c->gas_auto;
}

static int
sgf_capped(const sgf_cfg *c, const sgf_fees *f)
{
	if (c->eip1559)
		return u256_cmp(&f->max_fee, &c->max_fee_per_gas) > 0 ||
		       u256_cmp(&f->max_priority, &c->max_fee_per_gas) > 0;
	return u256_cmp(&f->gas_price, &c->max_gas_price) > 0;
}

int
sgf_new(const sgf_cfg *c, const sc_gas_quote *q, sgf_fees *out)
{
	memset(out, 0, sizeof *out);
	out->eip1559 = c->eip1559;
	if (sgf_needs_quote(c) && q == NULL)
		return SGF_NO_QUOTE;
	if (c->eip1559) {
		out->max_priority = q->max_priority_fee_per_gas;
		/* A max fee below the tip is invalid: raise it to the tip. */
		out->max_fee = *sgf_max(&q->max_fee_per_gas, &q->max_priority_fee_per_gas);
	} else {
		out->gas_price = c->gas_auto ? q->gas_price : c->gas_price;
	}
	return sgf_capped(c, out) ? SGP_FEE_CAP : SGF_OK;
}

void
sgf_raise(u256 *r, const u256 *old, uint64_t ppm)
{
	u256 add, rem;
	u256 m;
	if (u256_mul_u64(&m, old, ppm)) {
		memset(r, 0xff, sizeof *r);
		return;
	}
	u256 million;
	u256_from_u64(&million, 1000000);
	u256_divmod(&add, &rem, &m, &million);
	if (!u256_is_zero(&rem)) {
		u256 one;
		u256_from_u64(&one, 1);
		u256_add(&add, &add, &one);
	}
	if (u256_add(r, old, &add))
		memset(r, 0xff, sizeof *r);
}

int
sgf_bump(const sgf_cfg *c, const sgf_fees *old, const sc_tx_bump *b, const sc_gas_quote *q, sgf_fees *out)
{
	u256 t;
	memset(out, 0, sizeof *out);
	out->eip1559 = old->eip1559;
	if (old->eip1559) {
		sgf_raise(&t, &old->max_priority, c->bump_ppm);
		out->max_priority = *sgf_max(&t, &b->min_max_priority_fee_per_gas);
		sgf_raise(&t, &old->max_fee, c->bump_ppm);
		out->max_fee = *sgf_max(&t, &b->min_max_fee_per_gas);
		if (q) {
			out->max_priority = *sgf_max(&out->max_priority, &q->max_priority_fee_per_gas);
			out->max_fee = *sgf_max(&out->max_fee, &q->max_fee_per_gas);
		}
		out->max_fee = *sgf_max(&out->max_fee, &out->max_priority);
		if (u256_cmp(&out->max_fee, &old->max_fee) <= 0 &&
		    u256_cmp(&out->max_priority, &old->max_priority) <= 0)
			return SGP_BUMP_NO_INCREASE;
	} else {
		sgf_raise(&t, &old->gas_price, c->bump_ppm);
		out->gas_price = *sgf_max(&t, &b->min_gas_price);
		if (q && c->gas_auto)
			out->gas_price = *sgf_max(&out->gas_price, &q->gas_price);
		if (u256_cmp(&out->gas_price, &old->gas_price) <= 0)
			return SGP_BUMP_NO_INCREASE;
	}
	/* Caps apply to the tx's own type, whatever TX_TYPE is now. */
	sgf_cfg cc = *c;
	cc.eip1559 = old->eip1559;
	return sgf_capped(&cc, out) ? SGP_FEE_CAP : SGF_OK;
}
