/*
 * fwd.c - busd's forwarding loop (see fwd.h).
 *
 * A received frame is copied once into the egress (one refcounted copy for all subscribers) and the
 * nng_msg freed; the tap reads it before. inproc:// egress URLs go to an NNG pub0 socket, which
 * takes the nng_msg as is.
 */
#include "bus/fwd.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "bus/frame.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"

struct bus_fwd {
	nng_socket in, out; /* out: pub0 for inproc:// egress URLs only (open when has_out) */
	bus_egress *eg;     /* the stream egress, NULL when every egress URL is inproc:// */
	int has_out;
	atomic_int npub, nsub;
	uint64_t last_tick;
	bus_egress_stats last;                /* what the metrics already counted */
	uint64_t in_auth, in_proto, in_other; /* NNG's ingress listener counters, last seen */
	rt_metric *m_in_tls, *m_in_proto, *m_in_other;
	rt_metric *m_drop, *m_drop_total, *m_drop_bytes, *m_held, *m_peak, *m_ref_tls, *m_ref_proto, *m_ref_limit,
	        *m_stalled, *m_decl, *m_ref_decl, *m_filtered, *m_filtered_subs;
	bus_fwd_tap tap;
	void *tap_arg;
	int cur_timeout;
	uint64_t forwarded, malformed;
	rt_metric *m_fwd, *m_bad, *m_bytes;
};

/* Splits the egress list: inproc:// URLs (one process, tests) to *inproc, the rest to *streams. */
static int
fwd_split(const char *urls, char **inproc, char **streams)
{
	char *copy = strdup(urls ? urls : ""), *save = NULL;
	size_t cap = strlen(urls ? urls : "") + 2;
	*inproc = calloc(1, cap);
	*streams = calloc(1, cap);
	if (copy == NULL || *inproc == NULL || *streams == NULL) {
		free(copy);
		return -1;
	}
	for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		while (*u == ' ')
			u++;
		char *dst = strncmp(u, "inproc://", 9) == 0 ? *inproc : *streams;
		if (*dst)
			strcat(dst, ",");
		strcat(dst, u);
	}
	free(copy);
	return 0;
}

bus_fwd *
bus_fwd_open_limits(const char *ingress_urls, const char *egress_urls, const bus_fwd_limits *lim, char *err,
                    size_t errlen)
{
	bus_fwd_limits dflt = {
		.max_frame = BUS_FWD_MAX_FRAME_DEFAULT,
		.egress = { .max_conn_bytes = BUS_FWD_SUB_BYTES_DEFAULT,
		            .max_total_bytes = BUS_FWD_TOTAL_BYTES_DEFAULT,
		            .stall_ms = BUS_FWD_STALL_MS_DEFAULT,
		            .max_conns = BUS_FWD_MAX_SUBS_DEFAULT },
	};
	bus_fwd *f = calloc(1, sizeof *f);
	char *inproc = NULL, *streams = NULL;
	int rv;
	if (lim == NULL)
		lim = &dflt;
	if (f == NULL || fwd_split(egress_urls, &inproc, &streams) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((rv = nng_sub0_open(&f->in)) != 0) {
		snprintf(err, errlen, "socket: %s", nng_strerror(rv));
		goto fail;
	}
	bus_socket_defaults(f->in);
	/* Bounded in bytes: NNG refuses a larger frame before allocating it. The queue in front of busd's
	 * loop holds up to RECVBUF frames; busd drains it as fast as frames arrive. */
	nng_socket_set_size(f->in, NNG_OPT_RECVMAXSZ, lim->max_frame);
	nng_socket_set_int(f->in, NNG_OPT_RECVBUF, 8192);
	nng_socket_set(f->in, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	bus_watch_pipes(f->in, &f->npub);
	if (bus_listen_all(f->in, ingress_urls, err, errlen) != 0)
		goto fail;
	if (*inproc) {
		if ((rv = nng_pub0_open(&f->out)) != 0) {
			snprintf(err, errlen, "socket: %s", nng_strerror(rv));
			goto fail;
		}
		f->has_out = 1;
		nng_socket_set_int(f->out, NNG_OPT_SENDBUF, 8192);
		bus_watch_pipes(f->out, &f->nsub);
		if (bus_listen_all(f->out, inproc, err, errlen) != 0)
			goto fail;
	}
	if (*streams && (f->eg = bus_egress_open(streams, &lim->egress, err, errlen)) == NULL)
		goto fail;
	if (!*streams && !*inproc) {
		snprintf(err, errlen, "no egress URL given");
		goto fail;
	}
	free(inproc);
	free(streams);
	f->cur_timeout = -2;
	f->m_fwd = rt_counter("busd_forwarded_total", "Frames forwarded from ingress to egress.", NULL);
	f->m_bytes = rt_counter("busd_forwarded_bytes_total", "Bytes forwarded.", NULL);
	f->m_bad = rt_counter("busd_malformed_total", "Malformed frames dropped at ingress.", NULL);
	f->m_in_tls = rt_counter("busd_ingress_refused_total", "Ingress connections refused (NNG listener counters).",
	                         "reason=\"tls\"");
	f->m_in_proto = rt_counter("busd_ingress_refused_total", "Ingress connections refused (NNG listener counters).",
	                           "reason=\"protocol\"");
	f->m_in_other =
	        rt_counter("busd_ingress_pipe_errors_total",
	                   "Publisher connections that ended on an error: a publisher that went away, or a frame "
	                   "over BUSD_MAX_FRAME (NNG does not tell them apart).",
	                   NULL);
	f->m_drop = rt_counter("busd_egress_dropped_total", "Frames a subscriber lost to a byte bound.",
	                       "bound=\"subscriber\"");
	f->m_drop_total =
	        rt_counter("busd_egress_dropped_total", "Frames a subscriber lost to a byte bound.", "bound=\"total\"");
	f->m_drop_bytes = rt_counter("busd_egress_dropped_bytes_total",
	                             "Bytes of the frames in busd_egress_dropped_total.", NULL);
	f->m_held = rt_gauge("busd_egress_held_bytes", "Frame bytes held for subscribers (each frame once).", NULL);
	f->m_peak = rt_gauge("busd_egress_held_peak_bytes", "Highest busd_egress_held_bytes since start.", NULL);
	f->m_ref_tls = rt_counter("busd_refused_total", "Egress connections refused.", "reason=\"tls\"");
	f->m_ref_proto = rt_counter("busd_refused_total", "Egress connections refused.", "reason=\"protocol\"");
	f->m_ref_limit = rt_counter("busd_refused_total", "Egress connections refused.", "reason=\"limit\"");
	f->m_decl = rt_counter("busd_egress_declarations_total",
	                       "Topic declarations applied (subscribers filtered at busd).", NULL);
	f->m_ref_decl = rt_counter("busd_refused_total", "Egress connections refused.", "reason=\"declaration\"");
	f->m_filtered =
	        rt_counter("busd_egress_filtered_total",
	                   "Frames not sent to a subscriber because none of its declared prefixes matched.", NULL);
	f->m_filtered_subs = rt_gauge("busd_subscribers_filtered",
	                              "Connected subscribers that declared their topic prefixes.", NULL);
	f->m_stalled = rt_counter("busd_subscribers_disconnected_total",
	                          "Subscribers disconnected because they took nothing for BUSD_SUB_STALL.",
	                          "reason=\"stalled\"");
	return f;
fail:
	free(inproc);
	free(streams);
	if (f) {
		if (f->in.id)
			nng_close(f->in);
		if (f->has_out)
			nng_close(f->out);
		bus_egress_close(f->eg);
		free(f);
	}
	return NULL;
}

bus_fwd *
bus_fwd_open(const char *ingress_urls, const char *egress_urls, char *err, size_t errlen)
{
	return bus_fwd_open_limits(ingress_urls, egress_urls, NULL, err, errlen);
}

void
bus_fwd_egress_stats(bus_fwd *f, bus_egress_stats *st)
{
	memset(st, 0, sizeof *st);
	if (f->eg)
		bus_egress_get_stats(f->eg, st);
}

/* Sums NNG's counters of the ingress listeners (TLS refusals, protocol errors, other pipe errors such
 * as a frame over BUSD_MAX_FRAME) and advances the metrics by the difference. */
static void
fwd_ingress_stats(bus_fwd *f)
{
	nng_stat *root;
	uint64_t auth = 0, proto = 0, other = 0;
	if (nng_stats_get(&root) != 0)
		return;
	for (nng_stat *l = nng_stat_child(root); l; l = nng_stat_next(l)) {
		nng_stat *sock;
		if (strcmp(nng_stat_name(l), "listener") != 0 || (sock = nng_stat_find(l, "socket")) == NULL ||
		    nng_stat_value(sock) != (uint64_t)nng_socket_id(f->in))
			continue;
		nng_stat *a = nng_stat_find(l, "auth"), *p = nng_stat_find(l, "proto"), *o = nng_stat_find(l, "other");
		auth += a ? nng_stat_value(a) : 0;
		proto += p ? nng_stat_value(p) : 0;
		other += o ? nng_stat_value(o) : 0;
	}
	nng_stats_free(root);
	if (auth >= f->in_auth)
		rt_add(f->m_in_tls, auth - f->in_auth);
	if (proto >= f->in_proto)
		rt_add(f->m_in_proto, proto - f->in_proto);
	if (other >= f->in_other)
		rt_add(f->m_in_other, other - f->in_other);
	f->in_auth = auth;
	f->in_proto = proto;
	f->in_other = other;
}

/* Once a second: the egress's housekeeping and its counters into the metrics. */
static void
fwd_tick(bus_fwd *f)
{
	bus_egress_stats st;
	uint64_t now = rt_mono_ns();
	if (now - f->last_tick < 1000000000u)
		return;
	f->last_tick = now;
	fwd_ingress_stats(f);
	if (f->eg == NULL)
		return;
	bus_egress_tick(f->eg);
	bus_egress_get_stats(f->eg, &st);
	rt_add(f->m_drop,
	       (st.dropped_frames - st.dropped_total_bound) - (f->last.dropped_frames - f->last.dropped_total_bound));
	rt_add(f->m_drop_total, st.dropped_total_bound - f->last.dropped_total_bound);
	rt_add(f->m_drop_bytes, st.dropped_bytes - f->last.dropped_bytes);
	rt_add(f->m_ref_tls, st.refused_tls - f->last.refused_tls);
	rt_add(f->m_ref_proto, st.refused_proto - f->last.refused_proto);
	rt_add(f->m_ref_limit, st.refused_limit - f->last.refused_limit);
	rt_add(f->m_stalled, st.disconnected_stalled - f->last.disconnected_stalled);
	rt_add(f->m_decl, st.decl_accepted - f->last.decl_accepted);
	rt_add(f->m_ref_decl, st.refused_decl - f->last.refused_decl);
	rt_add(f->m_filtered, st.filtered_frames - f->last.filtered_frames);
	rt_gauge_set(f->m_filtered_subs, st.filtered_conns);
	rt_gauge_set(f->m_held, (double)st.held_bytes);
	rt_gauge_set(f->m_peak, (double)st.held_peak);
	f->last = st;
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
	fwd_tick(f);
	while (n < max) {
		nng_msg *m;
		int rv = nng_recvmsg(f->in, &m, 0);
		if (rv == NNG_ETIMEDOUT)
			break;
		if (rv != 0)
			return n ? n : -1;
		const uint8_t *b = nng_msg_body(m);
		size_t len = nng_msg_len(m);
		frame_view v;
		char err[160];
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
		if (f->eg)
			bus_egress_send(f->eg, b, len);
		if (!f->has_out || nng_sendmsg(f->out, m, 0) != 0)
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

uint64_t
bus_fwd_forwarded(const bus_fwd *f)
{
	return f->forwarded;
}
uint64_t
bus_fwd_malformed(const bus_fwd *f)
{
	return f->malformed;
}
int
bus_fwd_publishers(const bus_fwd *f)
{
	return atomic_load(&((bus_fwd *)f)->npub);
}
int
bus_fwd_subscribers(const bus_fwd *f)
{
	bus_egress_stats st = { 0 };
	if (f->eg)
		bus_egress_get_stats(f->eg, &st);
	return atomic_load(&((bus_fwd *)f)->nsub) + st.conns;
}

void
bus_fwd_close(bus_fwd *f)
{
	if (f == NULL)
		return;
	int pending = bus_close_socket(f->in, BUS_CLOSE_TIMEOUT_MS) != 0;
	if (f->has_out)
		pending |= bus_close_socket(f->out, BUS_CLOSE_TIMEOUT_MS) != 0;
	bus_egress_close(f->eg);
	if (!pending) /* else NNG may still call the pipe callbacks that count into f */
		free(f);
}
