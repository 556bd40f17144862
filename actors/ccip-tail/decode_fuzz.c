/* decode_fuzz: every CCIP event decoder on arbitrary data and topics, plus the eth_getLogs JSON
 * reader on arbitrary text; must never crash, read out of bounds or accept a topic0 outside the
 * table. The Makefile links the actor's objects into its fuzz target, as into its unit tests.
 * Input: byte 0 picks the row, byte 1 the topic count, then up to 3 topics of 32 bytes, then data. */
#include "actors/ccip-tail/decode.h"

#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ct_dec *d;
	static ct_event ev;
	char why[160];
	if (d == NULL)
		d = ct_dec_new();
	if (size < 2)
		return 0;
	const uint8_t(*t0)[32];
	size_t nt = ct_topics(&t0, NULL);
	ct_log lg;
	memset(&lg, 0, sizeof lg);
	lg.ntopics = 1 + data[1] % 4;
	memcpy(lg.topics[0], t0[data[0] % nt], 32);
	size_t off = 2;
	for (unsigned k = 1; k < lg.ntopics && off + 32 <= size; k++, off += 32)
		memcpy(lg.topics[k], data + off, 32);
	/* a private copy: ASan sees any read past the data */
	uint8_t *buf = malloc(size - off ? size - off : 1);
	memcpy(buf, data + off, size - off);
	lg.data = buf;
	lg.data_len = size - off;
	int rc = ct_decode(d, &lg, 1, 2, &ev, why, sizeof why);
	if (rc == CT_OK && (ev.kind < CT_SEND || ev.kind > CT_COMMIT || ev.nroots > CT_MAX_ROOTS ||
	                    ev.msg.return_data_len > sizeof ev.msg.return_data || ev.msg.token_amounts_count > 16))
		__builtin_trap();
	free(buf);
	/* the same bytes as a JSON log object (a private copy of exactly size bytes) */
	char *txt = malloc(size);
	memcpy(txt, data, size);
	js_val j;
	if (js_validate(txt, size, NULL, NULL) == 0 && js_find(txt, size, "", &j) == 0) {
		uint64_t n;
		uint8_t h[32];
		int has_time;
		(void)ct_log_block_from_js(&j, &n, h, &has_time);
		if (ct_log_from_js(d, &j, &lg, why, sizeof why) == 0) {
			if (lg.ntopics > 4 || (lg.data_len && lg.data == NULL))
				__builtin_trap();
			(void)ct_decode(d, &lg, 1, 2, &ev, why, sizeof why);
		}
	}
	free(txt);
	return 0;
}
