/* secp.c: the shared, randomized libsecp256k1 context (see secp.h). */
#include "base/secp.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

static secp256k1_context *secp_ctx;
static pthread_once_t secp_once = PTHREAD_ONCE_INIT;

static void
secp_create(void)
{
	uint8_t seed[32];
	secp_ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
	/* Randomization only hardens against side channels; without entropy the context still works. */
	if (secp_ctx && getrandom(seed, sizeof seed, 0) == (ssize_t)sizeof seed &&
	    !secp256k1_context_randomize(secp_ctx, seed))
		seed[0] = 0; /* a failed randomization leaves a working, unblinded context */
	explicit_bzero(seed, sizeof seed);
}

secp256k1_context *
ob_secp(void)
{
	pthread_once(&secp_once, secp_create);
	return secp_ctx;
}
