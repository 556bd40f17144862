/* erc20_fuzz: a node's eth_getTransactionReceipt result and revert data, arbitrary bytes, through the
 * receipt check and the revert reading; must never crash or call a receipt OK that lacks the Transfer. */
#include "actors/token-erc20/erc20.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sc_token_request r;
	te_receipt rc;
	json_error_t je;
	char reason[8], text[160];
	memset(&r, 0, sizeof r);
	r.kind = size ? data[0] % 3 : 0;
	memset(r.token, 0x11, 20);
	memset(r.from, 0x22, 20);
	memset(r.to, 0x33, 20);
	u256_from_u64(&r.amount, 5);
	te_revert_reason(data, size, reason, text, sizeof text);
	json_t *j = json_loadb((const char *)data, size, 0, &je);
	te_match_receipt(j, &r, &rc);
	if (rc.outcome == TE_RC_OK && (j == NULL || !json_is_object(j)))
		abort();
	json_decref(j);
	return 0;
}
