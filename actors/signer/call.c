/*
 * call.c - build the update call from UPDATE_SIGNATURE (see call.h).
 */
#include "actors/signer/call.h"

#include <stdio.h>
#include <string.h>

#include "actors/signer/policy.h"

static int
sgc_is_int(const abi_type *t)
{
	return t->kind == ABI_INT || t->kind == ABI_UINT;
}

int
sgc_init(sgc_call *c, const char *signature, char *err, size_t errlen)
{
	size_t off = 0;
	memset(c, 0, sizeof *c);
	int rv = abi_parse_sig(&c->sig, signature, &off);
	if (rv != ABI_OK) {
		snprintf(err, errlen, "UPDATE_SIGNATURE: %s at offset %zu", abi_strerror(rv), off);
		return -1;
	}
	const abi_type *root = &c->sig.t[c->sig.root];
	if (root->ncomp != 1 && root->ncomp != 2) {
		snprintf(err, errlen, "UPDATE_SIGNATURE: %s: one argument (answer) or two (round, answer) expected",
		         c->sig.canon);
		return -1;
	}
	const abi_type *first = &c->sig.t[root->first];
	const abi_type *last = root->ncomp == 2 ? &c->sig.t[first->next] : first;
	if (!sgc_is_int(last) || (root->ncomp == 2 && first->kind != ABI_UINT)) {
		snprintf(err, errlen, "UPDATE_SIGNATURE: %s: the answer must be intN/uintN and the round uintN",
		         c->sig.canon);
		return -1;
	}
	c->has_round = root->ncomp == 2;
	c->answer_unsigned = last->kind == ABI_UINT;
	return 0;
}

const uint8_t *
sgc_selector(const sgc_call *c)
{
	return c->sig.selector;
}

int
sgc_build(const sgc_call *c, const sc_price_update *u, uint8_t *out, size_t cap, size_t *len)
{
	abi_val v[3];
	size_t n = 0;
	if (c->answer_unsigned && i256_is_neg(&u->answer))
		return SGP_NEGATIVE;
	abi_v_list(&v[n++], c->has_round ? 2 : 1, c->has_round ? 3 : 2);
	if (c->has_round)
		abi_v_uint(&v[n++], &u->round_id);
	abi_v_uint(&v[n++], &u->answer);
	/* abi_encode range-checks each word against its type (int128 etc.). */
	return abi_encode(&c->sig, v, n, 1, out, cap, len) == ABI_OK ? SGP_OK : SGP_ENCODE;
}
