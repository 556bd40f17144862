/*
 * frame_fuzz.c - libFuzzer target for the frame decoder and the signature check.
 *
 * Property: frame_decode never crashes or reads out of bounds; a frame it accepts re-encodes
 * (unsigned) to exactly its own bytes up to the signature, a window proof it accepts (element 9,
 * outside bytes like the rest) has exactly the siblings its index and count call for and comes with
 * key and sig, and the trust check - proof folding and the verified-window cache included - runs on
 * it safely.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/frame.h"
#include "bus/sig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sig_trust *trust;
	static sig_wcache *cache;
	frame_view v;
	char err[160];
	if (trust == NULL) {
		uint8_t pub[32];
		memset(pub, 0, sizeof pub);
		pub[31] = 1; /* not necessarily a valid x coordinate; sig_trust_add may refuse it */
		trust = sig_trust_parse(NULL, err, sizeof err);
		cache = sig_wcache_new();
	}
	if (frame_decode(data, size, &v, err, sizeof err) != 0)
		return 0;
	frame_fields f = {
		.topic = v.topic,
		.topic_len = v.topic_len,
		.type = v.type,
		.type_len = v.type_len,
		.id = v.id,
		.origin = v.origin,
		.origin_len = v.origin_len,
		.seq = v.seq,
		.ts_ns = v.ts_ns,
		.body = v.body,
		.body_len = v.body_len,
	};
	size_t cap = frame_size_bound(&f), sl;
	uint8_t *buf = malloc(cap);
	size_t n = frame_encode(&f, buf, cap, &sl, err, sizeof err);
	if (n == 0)
		abort(); /* whatever decodes must encode */
	/* Encodings are minimal, so a re-encoding may be shorter than a non-minimal input, never longer
	 * and never different when the input was minimal; compare by decoding again. */
	frame_view w;
	if (frame_decode(buf, n, &w, err, sizeof err) != 0 || w.seq != v.seq || w.ts_ns != v.ts_ns ||
	    w.body_len != v.body_len || memcmp(w.body, v.body, v.body_len) != 0 || w.topic_len != v.topic_len ||
	    memcmp(w.topic, v.topic, v.topic_len) != 0)
		abort();
	if (v.win_count != 0 && (v.key == NULL || v.sig == NULL || v.win_path == NULL ||
	                         v.win_path_len != 32 * frame_window_depth(v.win_index, v.win_count)))
		abort();
	sig_proof pr = { v.win_index, v.win_count, v.win_path, v.win_path_len };
	(void)sig_check_window(trust, v.topic, v.topic_len, data, v.signed_len, v.key, v.sig, &pr, cache);
	if (sig_wcache_count(cache) > SIG_WCACHE_SLOTS)
		abort();
	free(buf);
	return 0;
}
