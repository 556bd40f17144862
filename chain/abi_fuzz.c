/* abi_fuzz.c — libFuzzer: decode arbitrary bytes as the CCIP 1.6 EVM2AnyRampMessage event data,
 * the CCIP 1.5 EVM2EVMMessage event data, and latestRoundData's return; never crash, never report
 * an error offset past the input; whatever decodes re-encodes, and that decodes to as many nodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/abi.h"

static const char *const sigs[] = {
	"(((bytes32,uint64,uint64,uint64,uint64),address,bytes,bytes,bytes,address,uint256,uint256,"
	"(address,bytes,bytes,uint256,bytes)[]))",
	"((uint64,address,address,uint64,uint256,bool,uint64,address,uint256,bytes,(address,uint256)[],"
	"bytes[],bytes32))",
	"(uint80,int256,uint256,uint256,uint80)",
	"((uint64,bytes,uint64,uint64,bytes32)[],(uint64,bytes,uint64,uint64,bytes32)[],"
	"((address,uint224)[],(uint64,uint224)[]))",
};

static abi_sig parsed[sizeof sigs / sizeof sigs[0]];
static abi_val vals[4096];
static uint8_t out[1 << 20];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			if (abi_parse_types(&parsed[i], sigs[i], NULL) != ABI_OK)
				abort();
		ready = 1;
	}
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		size_t nv, off, n;
		int rc = abi_decode(&parsed[i], data, size, vals, sizeof vals / sizeof vals[0], &nv, &off);
		if (rc != ABI_OK) {
			if (off > size)
				abort();
			continue;
		}
		rc = abi_encode(&parsed[i], vals, nv, 0, out, sizeof out, &n);
		if (rc == ABI_ESPACE) /* aliased offsets can legitimately expand the data */
			continue;
		if (rc != ABI_OK)
			abort();
		size_t nv2;
		static abi_val again[4096];
		if (abi_decode(&parsed[i], out, n, again, 4096, &nv2, &off) != ABI_OK || nv2 != nv)
			abort();
	}
	return 0;
}
