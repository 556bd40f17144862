/* keystore_fuzz.c - libFuzzer: the v3 keystore reader never crashes on any bytes, returns one of
 * its codes, leaves no key behind on a refusal, and says why in a NUL-terminated error. The limits
 * are cut to keep each run cheap (scrypt n <= 2^10, r <= 8, pbkdf2 c <= 2^13): the parameter checks
 * run on every input, the KDF only on the rare one that passes them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/keystore.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ks_limits l;
	uint8_t key[32], addr[20];
	char err[256];
	ks_limits_default(&l);
	l.scrypt_n_max = 1u << 10;
	l.scrypt_r_max = 8;
	l.scrypt_p_max = 1;
	l.pbkdf2_c_max = 1u << 13;
	memset(err, 'x', sizeof err);
	int rv = ks_decrypt((const char *)data, size, (const uint8_t *)"pw", 2, &l, key, addr, err, sizeof err);
	if (memchr(err, 0, sizeof err) == NULL)
		abort();
	switch (rv) {
	case KS_OK:
		return 0;
	case KS_EFORMAT:
	case KS_EPARAMS:
	case KS_EMAC:
	case KS_EKEY:
	case KS_EADDR:
	case KS_ECRYPTO:
		for (size_t i = 0; i < 32; i++)
			if (key[i])
				abort();
		if (err[0] == 0)
			abort();
		return 0;
	default:
		abort();
	}
}
