/* rlp_fuzz.c — libFuzzer: the RLP decoder never crashes, and whatever it accepts re-encodes to the
 * same bytes (canonical form is unique). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/rlp.h"

static uint8_t out[1 << 16];

static void
reencode(rlp_enc *e, const rlp_item *it)
{
	if (!it->is_list) {
		rlp_put_bytes(e, it->p, it->len);
		return;
	}
	size_t m = rlp_list_begin(e);
	rlp_iter i;
	rlp_item c;
	rlp_iter_init(&i, it);
	while (rlp_iter_next(&i, &c, NULL) == 1)
		reencode(e, &c);
	rlp_list_end(e, m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rlp_item it;
	size_t off, n;
	if (rlp_decode(data, size, &it, &off) != RLP_OK) {
		if (off > size)
			abort();
		return 0;
	}
	rlp_enc e;
	rlp_enc_init(&e, out, sizeof out);
	reencode(&e, &it);
	if (rlp_enc_finish(&e, &n) == RLP_OK && (n != size || memcmp(out, data, size) != 0))
		abort();
	uint64_t v;
	u256 w;
	(void)rlp_get_u64(&it, &v);
	(void)rlp_get_u256(&it, &w);
	return 0;
}
