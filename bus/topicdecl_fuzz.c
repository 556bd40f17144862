/*
 * topicdecl_fuzz.c - libFuzzer target for the topic declaration parser (the bytes busd reads from
 * any peer of its egress).
 *
 * Property: topicdecl_parse never crashes or reads out of bounds; an accepted declaration stays
 * within its bounds, re-encodes to exactly its own bytes, and matching runs on it safely.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/topicdecl.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static topicdecl d;
	static char pfx[TOPICDECL_MAX_PREFIXES][TOPICDECL_PREFIX_MAX + 1];
	static const char *ptrs[TOPICDECL_MAX_PREFIXES];
	static uint8_t out[TOPICDECL_MAX_BYTES];
	char err[160];
	if (topicdecl_parse(data, size, &d, err, sizeof err) != 0)
		return 0;
	if (d.n > TOPICDECL_MAX_PREFIXES || size > TOPICDECL_MAX_BYTES)
		abort();
	int has_nul = 0;
	for (size_t i = 0; i < d.n; i++) {
		if (d.len[i] > TOPICDECL_PREFIX_MAX || d.pfx[i] < data || d.pfx[i] + d.len[i] > data + size)
			abort();
		memcpy(pfx[i], d.pfx[i], d.len[i]);
		pfx[i][d.len[i]] = 0;
		has_nul |= memchr(pfx[i], 0, d.len[i]) != NULL;
		ptrs[i] = pfx[i];
	}
	if (!has_nul) { /* a prefix with a NUL cannot round-trip through C strings */
		size_t n = topicdecl_encode(d.seq, ptrs, d.n, out, sizeof out);
		if (n != size || memcmp(out, data, size) != 0)
			abort();
	}
	(void)topicdecl_match(&d, data, size);
	return 0;
}
