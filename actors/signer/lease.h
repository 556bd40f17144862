/*
 * lease.h - one signer per key, enforced at run time: the signer.lease protocol's state.
 *
 * Every signer publishes a signer.lease for its address every LEASE_INTERVAL (its boot id, start
 * time, lease time) and reads every signer.lease. A lease is live until its ttl after it was
 * HEARD (the receiver's monotonic clock: no trust in the sender's clock). Rules:
 *  - at start a signer only listens for one lease time (it may not have heard an older signer yet);
 *  - it must hear its own lease back within the lease time (its frames reach the bus, so the others
 *    hear it too): otherwise it refuses (bus partition);
 *  - of two live signers for one address the NEWER refuses: the order is (started_at_ns, boot_id),
 *    a total order both compute alike from the same two leases, so exactly one of them yields even
 *    when their clocks disagree. The older keeps signing; both raise duplicate_signer;
 *  - a released lease (graceful stop) ends at once, so the other takes over without waiting.
 * This is detection over the bus, not consensus: signers that cannot hear each other both sign
 * (the nonce.sync check then raises foreign_transaction). The manifests' single replica stays the
 * first line.
 *
 * Memory: a plain struct, no allocation. One thread.
 */
#ifndef OB_ACTORS_SIGNER_LEASE_H
#define OB_ACTORS_SIGNER_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "schemas/messages.h"

#define SGL_PEERS 8

enum {
	SGL_ACTIVE,
	SGL_LISTENING,
	SGL_NO_ECHO,
	SGL_YIELD
};
enum {
	SGL_EV_IGNORED,
	SGL_EV_OWN,
	SGL_EV_PEER,
	SGL_EV_PEER_NEW,
	SGL_EV_RELEASED
};

typedef struct {
	uint8_t boot[16];
	char instance[SC_ORIGIN_CAP + 1];
	uint64_t started_ns;
	uint64_t heard_mono, ttl_ns;
	int used;
} sgl_peer;

typedef struct {
	uint64_t chain_id;
	uint8_t addr[20];
	uint8_t boot[16];
	char instance[SC_ORIGIN_CAP + 1];
	uint64_t started_ns, ttl_ns, start_mono, echo_mono, seq;
	sgl_peer peers[SGL_PEERS];
} sgl;

/* boot: 16 random bytes; started_ns: wall clock at start; now_mono: monotonic now. */
void sgl_init(sgl *l, uint64_t chain_id, const uint8_t addr[20], const char *instance, const uint8_t boot[16],
              uint64_t started_ns, uint64_t ttl_ns, uint64_t now_mono);
/* Next lease to publish (seq counts up). */
void sgl_make(sgl *l, sc_signer_lease *m, int released, uint64_t now_ns);
/* A lease heard at now_mono: SGL_EV_* (PEER_NEW: a signer of our address not live before). */
int sgl_on_lease(sgl *l, const sc_signer_lease *m, uint64_t now_mono);
/* SGL_* state now; why (may be NULL) says it for health and logs. */
int sgl_state(const sgl *l, uint64_t now_mono, char *why, size_t n);
/* Live peers (other boots of our address) now. */
int sgl_live_peers(const sgl *l, uint64_t now_mono);

#endif
