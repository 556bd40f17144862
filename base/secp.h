/* base/secp.h: the process's one libsecp256k1 context.
 *
 * Transactions (chain/tx: ECDSA with recovery) and bus frames (bus/sig: BIP-340) share it: a context
 * costs memory and its randomization (blinding against side channels) is done once, from
 * getrandom(2). Created on first use, thread-safe (pthread_once), never freed.
 * Memory: the context is owned here; callers borrow it. NULL only if libsecp256k1 could not allocate. */
#ifndef OB_BASE_SECP_H
#define OB_BASE_SECP_H

#include <secp256k1.h>

secp256k1_context *ob_secp(void);

#endif
