/*
 * lease.c - the signer.lease state (see lease.h).
 */
#include "actors/signer/lease.h"

#include <stdio.h>
#include <string.h>

void
sgl_init(sgl *l, uint64_t chain_id, const uint8_t addr[20], const char *instance, const uint8_t boot[16],
         uint64_t started_ns, uint64_t ttl_ns, uint64_t now_mono)
{
	memset(l, 0, sizeof *l);
	l->chain_id = chain_id;
	memcpy(l->addr, addr, 20);
	memcpy(l->boot, boot, 16);
	snprintf(l->instance, sizeof l->instance, "%s", instance);
	l->started_ns = started_ns;
	l->ttl_ns = ttl_ns;
	l->start_mono = now_mono;
}

void
sgl_make(sgl *l, sc_signer_lease *m, int released, uint64_t now_ns)
{
	memset(m, 0, sizeof *m);
	m->chain_id = l->chain_id;
	memcpy(m->address, l->addr, 20);
	snprintf(m->instance, sizeof m->instance, "%s", l->instance);
	memcpy(m->boot_id, l->boot, 16);
	m->started_at_ns = l->started_ns;
	m->seq = ++l->seq;
	m->ttl_ms = l->ttl_ns / 1000000u;
	m->released = released != 0;
	m->sent_at_ns = now_ns;
}

static int
sgl_live(const sgl_peer *p, uint64_t now)
{
	return p->used && now - p->heard_mono < p->ttl_ns;
}

int
sgl_on_lease(sgl *l, const sc_signer_lease *m, uint64_t now)
{
	if (m->chain_id != l->chain_id || memcmp(m->address, l->addr, 20) != 0)
		return SGL_EV_IGNORED;
	if (memcmp(m->boot_id, l->boot, 16) == 0) {
		l->echo_mono = now;
		return SGL_EV_OWN;
	}
	sgl_peer *p = NULL, *free_slot = NULL, *oldest = NULL;
	for (size_t i = 0; i < SGL_PEERS; i++) {
		sgl_peer *q = &l->peers[i];
		if (q->used && memcmp(q->boot, m->boot_id, 16) == 0)
			p = q;
		else if (!sgl_live(q, now) && free_slot == NULL)
			free_slot = q;
		if (oldest == NULL || q->heard_mono < oldest->heard_mono)
			oldest = q;
	}
	if (m->released) {
		if (p)
			p->used = 0;
		return SGL_EV_RELEASED;
	}
	int was_live = p != NULL && sgl_live(p, now);
	if (p == NULL)
		p = free_slot ? free_slot : oldest;
	if (!was_live) {
		memset(p, 0, sizeof *p);
		memcpy(p->boot, m->boot_id, 16);
	}
	p->used = 1;
	snprintf(p->instance, sizeof p->instance, "%s", m->instance);
	p->started_ns = m->started_at_ns;
	p->heard_mono = now;
	/* The sender's lease time, but never shorter than ours: a peer with a short ttl must not make
	 * us resume sooner than our own rule says. */
	p->ttl_ns = m->ttl_ms * 1000000u > l->ttl_ns ? m->ttl_ms * 1000000u : l->ttl_ns;
	return was_live ? SGL_EV_PEER : SGL_EV_PEER_NEW;
}

/* (started, boot) of a is before b's. */
static int
sgl_older(uint64_t sa, const uint8_t *ba, uint64_t sb, const uint8_t *bb)
{
	if (sa != sb)
		return sa < sb;
	return memcmp(ba, bb, 16) < 0;
}

int
sgl_live_peers(const sgl *l, uint64_t now)
{
	int n = 0;
	for (size_t i = 0; i < SGL_PEERS; i++)
		n += sgl_live(&l->peers[i], now);
	return n;
}

int
sgl_state(const sgl *l, uint64_t now, char *why, size_t n)
{
	char dummy[8];
	if (why == NULL) {
		why = dummy;
		n = sizeof dummy;
	}
	why[0] = 0;
	for (size_t i = 0; i < SGL_PEERS; i++) {
		const sgl_peer *p = &l->peers[i];
		if (sgl_live(p, now) && sgl_older(p->started_ns, p->boot, l->started_ns, l->boot)) {
			snprintf(why, n,
			         "lease: another signer for this address is live (instance %s, started earlier): "
			         "not signing while it is",
			         p->instance);
			return SGL_YIELD;
		}
	}
	if (now - l->start_mono < l->ttl_ns) {
		snprintf(why, n, "lease: listening for other signers of this address before signing");
		return SGL_LISTENING;
	}
	if (l->echo_mono == 0 || now - l->echo_mono >= l->ttl_ns) {
		snprintf(why, n, "lease: own signer.lease not heard back from the bus: other signers may not hear it");
		return SGL_NO_ECHO;
	}
	return SGL_ACTIVE;
}
