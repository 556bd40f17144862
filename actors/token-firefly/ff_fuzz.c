/* ff_fuzz: FireFly's answers (bodies of any status) through every parser of token-firefly; must never
 * crash, read out of bounds or copy an id that is not one. */
#include "actors/token-firefly/ff.h"

#include <stdlib.h>
#include <string.h>

static void
ff_fuzz_check_id(const char *id)
{
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') || *p == '-'))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 0, 200, 202, 404, 408, 409, 500 };
	if (size < 1)
		return 0;
	/* A private copy without the selector byte: ASan sees any overread of the body. */
	char *body = malloc(size);
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	tf_http h = { .status = statuses[data[0] % 7], .body = body, .len = size - 1, .err = "fuzz" };
	tf_post p;
	tf_poll s;
	char bevent[64];
	tf_classify_post(&h, &p);
	ff_fuzz_check_id(p.tx_id);
	ff_fuzz_check_id(p.local_id);
	h.status = data[0] & 0x80 ? 200 : h.status;
	tf_parse_lookup(&h, &s);
	ff_fuzz_check_id(s.tx_id);
	tf_parse_status(&h, &s, bevent);
	ff_fuzz_check_id(bevent);
	tf_parse_bevent(&h, &s);
	tf_parse_tx(&h, &s);
	free(body);
	return 0;
}
