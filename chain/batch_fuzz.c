/* batch_fuzz.c - libFuzzer: the (bool,bytes)[] results of a batch call (chain/batch.h), as a node
 * returns them for the gate's eth_call, never crash the decoder; every result it accepts is a
 * bool and a payload inside the input. The first byte picks how many calls are expected. */
#include <stdint.h>
#include <stdlib.h>

#include "chain/batch.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cb_result r[CB_MAX_CALLS];
	char err[160];
	if (size < 1)
		return 0;
	size_t n = data[0] % (CB_MAX_CALLS + 1);
	if (cb_decode_results(data + 1, size - 1, r, n, err, sizeof err) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].success != 0 && r[i].success != 1)
			abort();
		if (r[i].len && (r[i].data < data + 1 || r[i].data + r[i].len > data + size))
			abort();
	}
	return 0;
}
