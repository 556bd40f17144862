/*
 * fwd.h - the forwarding core of busd: frames in on the ingress (a sub0 socket that publishers
 * dial), out on the egress (a pub0 socket that subscribers dial), each one handed to a tap callback
 * (busd's journal) before it leaves.
 *
 * The egress is bus/egress.h (SP pub0 on NNG streams, every subscriber bounded in bytes); inproc://
 * egress URLs (tests in one process) use an NNG pub0 socket instead. The ingress is an NNG sub0
 * socket that refuses frames over max_frame (NNG closes the publisher's pipe: the transport cannot
 * skip a message it will not read).
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

#include "bus/egress.h"

typedef struct bus_fwd_limits {
	size_t max_frame; /* bytes; larger frames are refused at the ingress */
	bus_egress_limits egress;
} bus_fwd_limits;

/* The defaults of busd's table (BUSD_MAX_FRAME, BUSD_SUB_MAX_BYTES, ...). */
#define BUS_FWD_MAX_FRAME_DEFAULT   (64u << 10)
#define BUS_FWD_SUB_BYTES_DEFAULT   (8u << 20)
#define BUS_FWD_TOTAL_BYTES_DEFAULT (64u << 20)
#define BUS_FWD_STALL_MS_DEFAULT    60000u
#define BUS_FWD_MAX_SUBS_DEFAULT    512

/* Listens on every URL of the two comma lists. NULL with err filled on failure. lim NULL = defaults. */
bus_fwd *bus_fwd_open_limits(const char *ingress_urls, const char *egress_urls, const bus_fwd_limits *lim, char *err,
                             size_t errlen);
/* The same with the defaults. */
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
int bus_fwd_publishers(const bus_fwd *f);  /* connected ingress pipes */
int bus_fwd_subscribers(const bus_fwd *f); /* subscribers connected to the egress */
/* The egress counters (zeros when the egress is inproc:// only). */
void bus_fwd_egress_stats(bus_fwd *f, bus_egress_stats *st);
void bus_fwd_close(bus_fwd *f);

#endif
