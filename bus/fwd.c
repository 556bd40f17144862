/*
 * fwd.c - busd's forwarding loop (see fwd.h).
 *
 * The received nng_msg is sent on as is: ownership passes to the egress socket, so a frame is
 * never copied on its way through busd (the tap reads it before the send).
 */
#include "bus/fwd.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus/bus.h"
#include "bus/frame.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"

struct bus_fwd {
	nng_socket  in, out;
	atomic_int  npub, nsub;
	bus_fwd_tap tap;
	void       *tap_arg;
	int         cur_timeout;
	uint64_t    forwarded, malformed;
	rt_metric  *m_fwd, *m_bad, *m_bytes;
};

bus_fwd *
bus_fwd_open(const char *ingress_urls, const char *egress_urls, char *err, size_t errlen)
{
	bus_fwd *f = calloc(1, sizeof *f);
	int      rv;
	if (f == NULL)
		return NULL;
	if ((rv = nng_sub0_open(&f->in)) != 0 || (rv = nng_pub0_open(&f->out)) != 0) {
		snprintf(err, errlen, "socket: %s", nng_strerror(rv));
		free(f);
		return NULL;
	}
	bus_socket_defaults(f->in);
	/* Deep queues on both sides: busd sits between many publishers and many subscribers, and a
	 * burst should wait in memory rather than be dropped by pub0. */
	nng_socket_set_int(f->in, NNG_OPT_RECVBUF, 8192);
	nng_socket_set_int(f->out, NNG_OPT_SENDBUF, 8192);
	nng_socket_set(f->in, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	bus_watch_pipes(f->in, &f->npub);
	bus_watch_pipes(f->out, &f->nsub);
	if (bus_listen_all(f->in, ingress_urls, err, errlen) != 0 ||
	    bus_listen_all(f->out, egress_urls, err, errlen) != 0) {
		nng_close(f->in);
		nng_close(f->out);
		free(f);
		return NULL;
	}
	f->cur_timeout = -2;
	f->m_fwd = rt_counter("busd_forwarded_total", "Frames forwarded from ingress to egress.", NULL);
	f->m_bytes = rt_counter("busd_forwarded_bytes_total", "Bytes forwarded.", NULL);
	f->m_bad = rt_counter("busd_malformed_total", "Malformed frames dropped at ingress.", NULL);
	return f;
}

void
bus_fwd_set_tap(bus_fwd *f, bus_fwd_tap tap, void *arg)
{
	f->tap = tap;
	f->tap_arg = arg;
}


int
bus_fwd_run(bus_fwd *f, int timeout_ms, int max)
{
	int n = 0;
	if (timeout_ms != f->cur_timeout) {
		nng_socket_set_ms(f->in, NNG_OPT_RECVTIMEO, timeout_ms);
		f->cur_timeout = timeout_ms;
	}
	while (n < max) {
		nng_msg *m;
		int      rv = nng_recvmsg(f->in, &m, 0);
		if (rv == NNG_ETIMEDOUT)
			break;
		if (rv != 0)
			return n ? n : -1;
		const uint8_t *b = nng_msg_body(m);
		size_t         len = nng_msg_len(m);
		frame_view     v;
		char           err[160];
		if (frame_decode(b, len, &v, err, sizeof err) != 0) {
			f->malformed++;
			rt_inc(f->m_bad);
			rt_log(RT_WARN, "dropped malformed frame (%zu bytes): %s", len, err);
			nng_msg_free(m);
			continue;
		}
		if (f->tap)
			f->tap(f->tap_arg, b, len, rt_now_ns());
		rt_add(f->m_bytes, len);
		if (nng_sendmsg(f->out, m, 0) != 0)
			nng_msg_free(m);
		f->forwarded++;
		rt_inc(f->m_fwd);
		n++;
		/* After the first frame, drain what is queued without waiting the full timeout. */
		if (n == 1 && f->cur_timeout != 0 && max > 1) {
			nng_socket_set_ms(f->in, NNG_OPT_RECVTIMEO, 0);
			f->cur_timeout = 0;
		}
	}
	return n;
}

uint64_t bus_fwd_forwarded(const bus_fwd *f) { return f->forwarded; }
uint64_t bus_fwd_malformed(const bus_fwd *f) { return f->malformed; }
int bus_fwd_publishers(const bus_fwd *f) { return atomic_load(&((bus_fwd *)f)->npub); }
int bus_fwd_subscribers(const bus_fwd *f) { return atomic_load(&((bus_fwd *)f)->nsub); }

void
bus_fwd_close(bus_fwd *f)
{
	if (f == NULL)
		return;
	nng_close(f->in);
	nng_close(f->out);
	free(f);
}
