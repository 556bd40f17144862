/* Fuzz target of pos: obc_pos_scan is meant for text jansson accepted, but must stay within its
 * input and its path buffer on any bytes (a config file is whatever an operator wrote). */
#include <stddef.h>
#include <stdint.h>

#include "tools/ob-config/pos.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	obc_pos p = { 0 };
	if (obc_pos_scan(&p, (const char *)data, size) == 0 && p.n)
		(void)obc_pos_line(&p, p.v[p.n - 1].path);
	(void)obc_pos_line(&p, "feeds[0].name");
	obc_pos_free(&p);
	return 0;
}
