/* tx_fuzz.c — libFuzzer: the raw transaction decoder (legacy, types 1 and 2) never crashes; a refusal
 * carries a consistent reason (an offset inside the input, a field name and what is wrong with it
 * exactly when one field is at fault, the RLP code for RLP errors, found != wanted for a wrong field count); an accepted
 * transaction re-encodes to the same bytes, its access list counts, and sender recovery on it
 * returns (any result) without crashing. These are the calls `ethtx decode` makes on operator input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/tx.h"

static uint8_t out[1 << 17];

static void
tx_fuzz_refusal(int rc, const tx_derr *e, size_t size, size_t off_plain)
{
	if (e->off > size || e->off != off_plain)
		abort();
	switch (rc) {
	case TX_ERLP:
		if (!e->rlp_err || e->field)
			abort();
		break;
	case TX_ETYPE:
		if (e->off != 0 || e->field)
			abort();
		break;
	case TX_EFIELDS:
		/* either the list has the wrong length, or one field is a list where a value belongs */
		if (e->field ? !e->why : e->got == e->want)
			abort();
		break;
	case TX_EFIELD:
	case TX_EV:
	case TX_ESIG:
	case TX_EACCESS:
		if (!e->field || !e->why)
			abort();
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tx t, t2;
	tx_derr e;
	size_t off, n, na, nk;
	uint8_t addr[20];
	uint64_t v;
	int rc = tx_decode_at(data, size, &t, &e);
	if (tx_decode(data, size, &t2, &off) != rc)
		abort();
	if (rc != TX_OK) {
		tx_fuzz_refusal(rc, &e, size, off);
		return 0;
	}
	if (t.type != TX_LEGACY && t.type != TX_EIP2930 && t.type != TX_EIP1559)
		abort();
	if (!tx_field_name(t.type, 0))
		abort();
	if (tx_access_count(&t, &na, &nk) != TX_OK || na * 20 + nk * 32 > size)
		abort();
	if (t.type == TX_LEGACY && tx_legacy_v(&t, &v) != TX_OK)
		abort();
	if (tx_encode(&t, out, sizeof out, &n) == TX_OK && (n != size || memcmp(out, data, size) != 0))
		abort();
	(void)tx_recover_sender(&t, addr);
	return 0;
}
