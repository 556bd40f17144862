/*
 * fwd.h - the forwarding core of busd: frames in on the ingress (a sub0 socket that publishers
 * dial), out on the egress (a pub0 socket that subscribers dial), each one handed to a tap callback
 * (busd's journal) before it leaves.
 *
 * Frames are checked with frame_decode before forwarding, so a malformed frame stops at busd
 * instead of reaching every subscriber; busd does not verify signatures (subscribers do, against
 * their own trust lists), which keeps it cheap and key-free.
 */
#ifndef OB_BUS_FWD_H
#define OB_BUS_FWD_H

#include <stddef.h>
#include <stdint.h>

typedef struct bus_fwd bus_fwd;

/* Called for every valid frame before it is forwarded; bytes are borrowed for the call only. */
typedef void (*bus_fwd_tap)(void *arg, const uint8_t *frame, size_t len, uint64_t recv_ns);

/* Listens on every URL of the two comma lists. NULL with err filled on failure. */
bus_fwd *bus_fwd_open(const char *ingress_urls, const char *egress_urls, char *err, size_t errlen);
void bus_fwd_set_tap(bus_fwd *f, bus_fwd_tap tap, void *arg);
/*
 * Forwards frames until none arrives for timeout_ms or max frames were forwarded. Returns the
 * number forwarded, or -1 once the sockets are closed.
 */
int bus_fwd_run(bus_fwd *f, int timeout_ms, int max);
/* Counters since open. */
uint64_t bus_fwd_forwarded(const bus_fwd *f);
uint64_t bus_fwd_malformed(const bus_fwd *f);
int bus_fwd_publishers(const bus_fwd *f);   /* connected ingress pipes */
int bus_fwd_subscribers(const bus_fwd *f);  /* connected egress pipes */
void bus_fwd_close(bus_fwd *f);

#endif
