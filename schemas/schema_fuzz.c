/* schema_fuzz: libFuzzer target for every schema decoder (and the JSON reader).
 *
 * The first byte picks the family (low 7 bits, modulo the count) and the input kind (high bit:
 * 0 = msgpack body, 1 = JSON text). Properties checked:
 *  - decoding never crashes or reads out of bounds (ASan), and an error always has a message;
 *  - what decodes re-encodes, decodes again to an equal record, and re-encodes to the same bytes;
 *  - sc_body_to_json agrees with sc_decode (JSON iff decode succeeds), and that JSON reads back
 *    with sc_from_json to an equal record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/messages.h"
#include "schemas/schema.h"

static uint8_t out1[SC_MAX_BODY], out2[SC_MAX_BODY];

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
roundtrip(const sc_msgdef *d, const void *rec)
{
	sc_err e;
	size_t n1, n2;
	void *again = malloc(sc_size(d));
	check(sc_encode(d, rec, out1, sizeof out1, &n1, &e) == 0);
	check(sc_decode(d, out1, n1, again, &e) == 0);
	check(sc_equal(d, rec, again));
	check(sc_encode(d, again, out2, sizeof out2, &n2, &e) == 0);
	check(n1 == n2 && memcmp(out1, out2, n1) == 0);
	json_t *j = sc_to_json(d, rec);
	check(j != NULL);
	check(sc_from_json(d, j, again, &e) == 0);
	check(sc_equal(d, rec, again));
	json_decref(j);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nd;
	const sc_msgdef *const *all = sc_all(&nd);
	if (size < 1)
		return 0;
	const sc_msgdef *d = all[(data[0] & 0x7f) % nd];
	int as_json = data[0] & 0x80;
	data++, size--;
	void *rec = malloc(sc_size(d));
	sc_err e;
	if (!as_json) {
		int rc = sc_decode(d, data, size, rec, &e);
		check(rc == 0 || e.text[0] != 0);
		json_t *j = sc_body_to_json(d, data, size, &e);
		check((j != NULL) == (rc == 0));
		json_decref(j);
		if (rc == 0)
			roundtrip(d, rec);
	} else {
		json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
		if (j) {
			int rc = sc_from_json(d, j, rec, &e);
			check(rc == 0 || e.text[0] != 0);
			if (rc == 0)
				roundtrip(d, rec);
			json_decref(j);
		}
	}
	free(rec);
	return 0;
}
