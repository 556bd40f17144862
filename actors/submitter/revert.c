/* revert.c - see revert.h. */
#include "actors/submitter/revert.h"

#include <stdio.h>
#include <string.h>

#include "base/hex.h"

int
sub_out_of_gas(uint64_t gas_used, uint64_t gas_limit)
{
	/* gas_used * 64 >= gas_limit * 63, without overflow for any u64 */
	return gas_limit > 0 && gas_used >= gas_limit - gas_limit / 64;
}

int
sub_custom_error_words(const uint8_t *data, size_t len, char *out, size_t cap)
{
	if (cap == 0 || len < 4 || (len - 4) % 32 != 0)
		return 0;
	char sel[11];
	size_t nw = (len - 4) / 32, o;
	hex_encode(data, 4, 1, sel);
	int w = snprintf(out, cap, "custom error %s(", sel);
	o = w > 0 && (size_t)w < cap ? (size_t)w : cap - 1;
	for (size_t i = 0; i < nw && i < 8; i++) {
		char word[67];
		hex_encode(data + 4 + 32 * i, 32, 0, word);
		size_t z = strspn(word, "0");
		w = snprintf(out + o, cap - o, "%s0x%s", i ? "," : "", z < 64 ? word + z : "0");
		o = w > 0 && o + (size_t)w < cap ? o + (size_t)w : cap - 1;
	}
	snprintf(out + o, cap - o, "%s)", nw > 8 ? ",..." : "");
	return 1;
}
