/*
 * egress.c - busd's egress: SP pub0 over NNG byte streams with per-subscriber byte bounds (see
 * egress.h).
 *
 * One mutex guards everything; NNG completes sends and receives on its threads. A connection is
 * never freed inside one of its callbacks (nng_aio_free waits for the callback): when it closes,
 * the tick (busd's thread) frees it once neither of its two operations is pending.
 */
#include "bus/egress.h"

#include <malloc.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "bus/topicdecl.h"
#include "base/rt_log.h"
#include "base/rt_main.h"

#define EG_HDR          9  /* ipc: type byte + u64 length; tcp and tls use the last 8 */
#define EG_IOV          8  /* frames per stream send */
#define EG_ENTRY        16 /* queue bookkeeping charged per queued frame */
#define EG_HANDSHAKE_NS (10ull * 1000000000ull)
#define EG_LOG_EVERY_NS (10ull * 1000000000ull)
#define EG_TRIM_SLACK   (1u << 20) /* give memory back once this much was freed since the peak */
#define EG_PROTO_PUB0   0x0020
#define EG_PROTO_SUB0   0x0021

typedef struct eg_frame {
	unsigned refs;
	int ctl; /* a declaration ack, not a frame: not counted as sent, never dropped for room */
	size_t len;
	uint8_t buf[]; /* EG_HDR header bytes, then the frame */
} eg_frame;

enum {
	EG_HS,
	EG_LIVE
};

typedef struct eg_conn eg_conn;
struct eg_conn {
	eg_conn *next;
	bus_egress *e;
	nng_stream *s;
	nng_aio *tx, *rx;
	int ipc, tls, state, closing, tx_busy, rx_busy;
	uint8_t hs_out[8], hs_in[8];
	size_t hs_out_done, hs_in_done;
	uint8_t rx_hdr[EG_HDR]; /* an upstream message's header (a topic declaration) */
	size_t rx_hdr_done;
	uint8_t *rx_msg; /* its body while it is read, NULL between messages */
	size_t rx_len, rx_done;
	topicdecl *filter;   /* the last declaration: NULL = every frame (a plain sub0) */
	uint8_t *filter_buf; /* the bytes filter points into */
	eg_frame **q;        /* ring of queued frames, the head possibly partly sent */
	size_t qcap, qhead, qn, head_off;
	size_t inflight; /* frames at the head that the pending send points into */
	uint64_t qbytes; /* frame bytes + EG_ENTRY per queued frame */
	uint64_t sent, dropped, dropped_bytes, dropped_logged, last_log_ns;
	uint64_t born_ns, progress_ns;
	char peer[64];
};

typedef struct eg_listener {
	struct eg_listener *next;
	bus_egress *e;
	nng_stream_listener *l;
	nng_aio *aio;
	int ipc, tls;
	char url[256];
} eg_listener;

struct bus_egress {
	nng_mtx *mtx;
	bus_egress_limits lim;
	eg_listener *listeners;
	eg_conn *conns;
	int nlive, nconns;
	bus_egress_stats st;
	uint64_t trim_peak; /* highest held_bytes since the last malloc_trim */
	uint64_t serial;    /* connections accepted: names ipc peers in logs */
};

static uint64_t
eg_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void
eg_frame_release(bus_egress *e, eg_frame *f)
{
	if (--f->refs == 0) {
		e->st.held_bytes -= f->len;
		free(f);
	}
}

static void
eg_peer_name(eg_conn *c)
{
	nng_sockaddr sa;
	snprintf(c->peer, sizeof c->peer, "%s#%llu", c->ipc ? "ipc" : "conn", (unsigned long long)++c->e->serial);
	if (c->ipc || nng_stream_get_addr(c->s, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		const uint8_t *a = (const uint8_t *)&sa.s_in.sa_addr;
		const uint8_t *p = (const uint8_t *)&sa.s_in.sa_port;
		snprintf(c->peer, sizeof c->peer, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], p[0] << 8 | p[1]);
	} else if (sa.s_family == NNG_AF_INET6) {
		const uint8_t *a = sa.s_in6.sa_addr, *p = (const uint8_t *)&sa.s_in6.sa_port;
		snprintf(c->peer, sizeof c->peer, "[%x:%x:%x:%x:%x:%x:%x:%x]:%u", a[0] << 8 | a[1], a[2] << 8 | a[3],
		         a[4] << 8 | a[5], a[6] << 8 | a[7], a[8] << 8 | a[9], a[10] << 8 | a[11], a[12] << 8 | a[13],
		         a[14] << 8 | a[15], p[0] << 8 | p[1]);
	}
}

/* Closes c (its pending operations complete with an error); the tick frees it. Lock held. */
static void
eg_close_locked(eg_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->state == EG_LIVE)
		c->e->nlive--;
	nng_stream_close(c->s);
}

/* A connection that fails before its SP handshake completed: a TLS peer that did not pass the
 * certificate check, or something that is not an NNG sub0. Lock held. */
static void
eg_refuse_locked(eg_conn *c, int rv)
{
	if (c->closing) /* already refused or closed: the other direction's error is not a second refusal */
		return;
	if (c->tls && (rv == NNG_ECRYPTO || rv == NNG_EPEERAUTH || !c->hs_in_done))
		c->e->st.refused_tls++;
	else
		c->e->st.refused_proto++;
	eg_close_locked(c);
}

static void
eg_send_start_locked(eg_conn *c)
{
	nng_iov iov[EG_IOV];
	size_t n = 0, hdr = c->ipc ? EG_HDR : EG_HDR - 1;
	if (c->closing || c->tx_busy || c->state != EG_LIVE || c->qn == 0)
		return;
	for (; n < EG_IOV && n < c->qn; n++) {
		eg_frame *f = c->q[(c->qhead + n) % c->qcap];
		size_t off = n == 0 ? c->head_off : 0;
		iov[n].iov_buf = f->buf + (EG_HDR - hdr) + off;
		iov[n].iov_len = hdr + f->len - off;
	}
	c->inflight = n;
	if (nng_aio_set_iov(c->tx, (unsigned)n, iov) != 0) {
		eg_close_locked(c);
		return;
	}
	c->tx_busy = 1;
	nng_stream_send(c->s, c->tx);
}

static void
eg_go_live_locked(eg_conn *c)
{
	/* The handshake's two halves complete in either order: a peer refused on its header (rx) may
	 * still see our header sent (tx) afterwards; it must not count as live (nlive would leak). */
	if (c->closing)
		return;
	c->state = EG_LIVE;
	c->progress_ns = rt_mono_ns();
	c->e->nlive++;
}

static void
eg_recv_start_locked(eg_conn *c)
{
	nng_iov iov;
	if (c->closing)
		return;
	if (c->hs_in_done < sizeof c->hs_in) {
		iov.iov_buf = c->hs_in + c->hs_in_done;
		iov.iov_len = sizeof c->hs_in - c->hs_in_done;
	} else if (c->rx_msg == NULL) { /* a plain sub0 sends nothing more: this also sees the close */
		size_t hdr = c->ipc ? EG_HDR : EG_HDR - 1;
		iov.iov_buf = c->rx_hdr + c->rx_hdr_done;
		iov.iov_len = hdr - c->rx_hdr_done;
	} else {
		iov.iov_buf = c->rx_msg + c->rx_done;
		iov.iov_len = c->rx_len - c->rx_done;
	}
	nng_aio_set_iov(c->rx, 1, &iov);
	c->rx_busy = 1;
	nng_stream_recv(c->s, c->rx);
}

/* A frame (or an ack) with its SP header, held once for every subscriber. Counted in held_bytes.
 * NULL when out of memory. Lock held. */
static eg_frame *
eg_frame_new_locked(bus_egress *e, const uint8_t *frame, size_t len)
{
	eg_frame *f = malloc(sizeof *f + EG_HDR + len);
	if (f == NULL)
		return NULL;
	f->refs = 0;
	f->ctl = 0;
	f->len = len;
	f->buf[0] = 1;
	for (int i = 0; i < 8; i++)
		f->buf[1 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	memcpy(f->buf + EG_HDR, frame, len);
	e->st.held_bytes += len;
	if (e->st.held_bytes > e->st.held_peak)
		e->st.held_peak = e->st.held_bytes;
	if (e->st.held_bytes > e->trim_peak)
		e->trim_peak = e->st.held_bytes;
	return f;
}

static int eg_push(eg_conn *c, eg_frame *f);

/* A peer whose upstream message is not a declaration we accept: refused, counted, logged; busd
 * goes on. Lock held. */
static void
eg_decl_refuse_locked(eg_conn *c, const char *why)
{
	c->e->st.refused_decl++;
	rt_log(RT_WARN, "subscriber %s: topic declaration refused (%s): disconnected", c->peer, why);
	eg_close_locked(c);
}

/* A complete upstream message: the subscriber's new prefix list. Replaces the old one and queues
 * the ack behind the frames already queued (they were chosen by the old list). Lock held. */
static void
eg_decl_apply_locked(eg_conn *c)
{
	bus_egress *e = c->e;
	char err[160];
	uint8_t ack[TOPICDECL_ACK_LEN];
	topicdecl *d = malloc(sizeof *d);
	uint8_t *buf = c->rx_msg;
	c->rx_msg = NULL;
	c->rx_hdr_done = 0;
	if (d == NULL || topicdecl_parse(buf, c->rx_len, d, err, sizeof err) != 0) {
		free(d);
		free(buf);
		eg_decl_refuse_locked(c, d ? err : "out of memory");
		return;
	}
	free(c->filter);
	free(c->filter_buf);
	c->filter = d;
	c->filter_buf = buf;
	e->st.decl_accepted++;
	topicdecl_ack(d->seq, ack);
	eg_frame *f = eg_frame_new_locked(e, ack, sizeof ack);
	if (f == NULL || eg_push(c, f) != 0) {
		if (f) {
			e->st.held_bytes -= f->len;
			free(f);
		}
		return; /* the subscriber waits for the ack a while, then goes on */
	}
	f->ctl = 1;
	eg_send_start_locked(c);
}

/* n more bytes of an upstream message arrived (only a declaring subscriber sends any). Lock held. */
static void
eg_upstream_locked(eg_conn *c, size_t n)
{
	size_t hdr = c->ipc ? EG_HDR : EG_HDR - 1;
	if (c->rx_msg != NULL) {
		c->rx_done += n;
		if (c->rx_done == c->rx_len)
			eg_decl_apply_locked(c);
		return;
	}
	c->rx_hdr_done += n;
	if (c->rx_hdr_done < hdr)
		return;
	uint64_t len = 0;
	for (size_t i = hdr - 8; i < hdr; i++)
		len = len << 8 | c->rx_hdr[i];
	if (c->ipc && c->rx_hdr[0] != 1) {
		eg_decl_refuse_locked(c, "bad ipc message type");
	} else if (len < TOPICDECL_HDR || len > TOPICDECL_MAX_BYTES) {
		char why[96];
		snprintf(why, sizeof why, "%llu bytes, allowed %d..%d", (unsigned long long)len, TOPICDECL_HDR,
		         TOPICDECL_MAX_BYTES);
		eg_decl_refuse_locked(c, why);
	} else if ((c->rx_msg = malloc(len)) == NULL) {
		eg_decl_refuse_locked(c, "out of memory");
	} else {
		c->rx_len = len;
		c->rx_done = 0;
	}
}

static void
eg_tx_cb(void *arg)
{
	eg_conn *c = arg;
	bus_egress *e = c->e;
	nng_mtx_lock(e->mtx);
	c->tx_busy = 0;
	int rv = nng_aio_result(c->tx);
	size_t n = nng_aio_count(c->tx);
	if (rv != 0) {
		if (c->state == EG_HS)
			eg_refuse_locked(c, rv);
		else
			eg_close_locked(c);
	} else if (c->state == EG_HS) {
		c->hs_out_done += n;
		if (c->hs_out_done < sizeof c->hs_out) {
			nng_iov iov = { c->hs_out + c->hs_out_done, sizeof c->hs_out - c->hs_out_done };
			nng_aio_set_iov(c->tx, 1, &iov);
			c->tx_busy = 1;
			nng_stream_send(c->s, c->tx);
		} else if (c->hs_in_done == sizeof c->hs_in) {
			eg_go_live_locked(c);
			eg_send_start_locked(c); /* an ack queued by a declaration that came first */
		}
	} else {
		size_t hdr = c->ipc ? EG_HDR : EG_HDR - 1;
		c->inflight = 0;
		if (n > 0)
			c->progress_ns = rt_mono_ns();
		while (n > 0 && c->qn > 0) {
			eg_frame *f = c->q[c->qhead];
			size_t rem = hdr + f->len - c->head_off;
			if (n < rem) {
				c->head_off += n;
				break;
			}
			n -= rem;
			c->head_off = 0;
			c->qbytes -= f->len + EG_ENTRY;
			c->qhead = (c->qhead + 1) % c->qcap;
			c->qn--;
			if (!f->ctl) {
				c->sent++;
				e->st.sent_frames++;
				e->st.sent_bytes += f->len;
			}
			eg_frame_release(e, f);
		}
		eg_send_start_locked(c);
	}
	nng_mtx_unlock(e->mtx);
}

static void
eg_rx_cb(void *arg)
{
	eg_conn *c = arg;
	bus_egress *e = c->e;
	nng_mtx_lock(e->mtx);
	c->rx_busy = 0;
	int rv = nng_aio_result(c->rx);
	if (rv != 0) {
		if (c->state == EG_HS)
			eg_refuse_locked(c, rv);
		else
			eg_close_locked(c);
	} else if (c->hs_in_done < sizeof c->hs_in) {
		c->hs_in_done += nng_aio_count(c->rx);
		if (c->hs_in_done == sizeof c->hs_in) {
			const uint8_t *h = c->hs_in;
			if (h[0] != 0 || h[1] != 'S' || h[2] != 'P' || h[3] != 0 ||
			    (h[4] << 8 | h[5]) != EG_PROTO_SUB0 || h[6] != 0 || h[7] != 0) {
				e->st.refused_proto++;
				eg_close_locked(c);
			} else if (c->hs_out_done == sizeof c->hs_out) {
				eg_go_live_locked(c);
				eg_send_start_locked(c);
			}
		}
		eg_recv_start_locked(c);
	} else {
		eg_upstream_locked(c, nng_aio_count(c->rx));
		eg_recv_start_locked(c);
	}
	nng_mtx_unlock(e->mtx);
}

static void
eg_accept_cb(void *arg)
{
	eg_listener *l = arg;
	bus_egress *e = l->e;
	int rv = nng_aio_result(l->aio);
	if (rv == NNG_ECLOSED)
		return;
	if (rv != 0) { /* e.g. out of files: try again shortly rather than spin */
		nng_msleep(10);
		nng_stream_listener_accept(l->l, l->aio);
		return;
	}
	nng_stream *s = nng_aio_get_output(l->aio, 0);
	eg_conn *c = calloc(1, sizeof *c);
	nng_mtx_lock(e->mtx);
	if (c == NULL || e->nconns >= e->lim.max_conns || nng_aio_alloc(&c->tx, eg_tx_cb, c) != 0 ||
	    nng_aio_alloc(&c->rx, eg_rx_cb, c) != 0) {
		e->st.refused_limit++;
		nng_mtx_unlock(e->mtx);
		if (c) {
			nng_aio_free(c->tx);
			nng_aio_free(c->rx);
			free(c);
		}
		nng_stream_close(s);
		nng_stream_free(s);
		nng_stream_listener_accept(l->l, l->aio);
		return;
	}
	c->e = e;
	c->s = s;
	c->ipc = l->ipc;
	c->tls = l->tls;
	c->born_ns = rt_mono_ns();
	eg_peer_name(c);
	c->hs_out[1] = 'S';
	c->hs_out[2] = 'P';
	c->hs_out[4] = EG_PROTO_PUB0 >> 8;
	c->hs_out[5] = EG_PROTO_PUB0 & 0xff;
	c->next = e->conns;
	e->conns = c;
	e->nconns++;
	nng_iov iov = { c->hs_out, sizeof c->hs_out };
	nng_aio_set_iov(c->tx, 1, &iov);
	c->tx_busy = 1;
	nng_stream_send(c->s, c->tx);
	eg_recv_start_locked(c);
	nng_mtx_unlock(e->mtx);
	nng_stream_listener_accept(l->l, l->aio);
}

static int
eg_listen(bus_egress *e, const char *u, char *err, size_t errlen)
{
	eg_listener *l = calloc(1, sizeof *l);
	int rv;
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->e = e;
	snprintf(l->url, sizeof l->url, "%s", u);
	l->ipc = strncmp(u, "ipc://", 6) == 0 || strncmp(u, "abstract://", 11) == 0;
	l->tls = bus_is_tls_url(u);
	l->next = e->listeners;
	e->listeners = l;
	if ((rv = nng_stream_listener_alloc(&l->l, u)) != 0) {
		snprintf(err, errlen, "listen %s: %s", u, nng_strerror(rv));
		return -1;
	}
	if (l->tls) {
		nng_tls_config *c;
		if (bus_tls_config_url(u, 1, &c, err, errlen) != OB_OK)
			return -1;
		rv = nng_stream_listener_set_ptr(l->l, NNG_OPT_TLS_CONFIG, c);
		nng_tls_config_free(c);
		if (rv != 0) {
			snprintf(err, errlen, "listen %s: tls: %s", u, nng_strerror(rv));
			return -1;
		}
	}
	if ((rv = nng_stream_listener_listen(l->l)) != 0 || (rv = nng_aio_alloc(&l->aio, eg_accept_cb, l)) != 0) {
		snprintf(err, errlen, "listen %s: %s", u, nng_strerror(rv));
		return -1;
	}
	nng_stream_listener_accept(l->l, l->aio);
	return 0;
}

bus_egress *
bus_egress_open(const char *urls, const bus_egress_limits *lim, char *err, size_t errlen)
{
	bus_egress *e = calloc(1, sizeof *e);
	char *copy = strdup(urls ? urls : ""), *save = NULL;
	int n = 0, rv = 0;
	if (e == NULL || copy == NULL || nng_mtx_alloc(&e->mtx) != 0) {
		snprintf(err, errlen, "out of memory");
		free(copy);
		free(e);
		return NULL;
	}
	e->lim = *lim;
	if (e->lim.max_conns <= 0)
		e->lim.max_conns = 1024;
	for (char *u = strtok_r(copy, ",", &save); u && rv == 0; u = strtok_r(NULL, ",", &save)) {
		while (*u == ' ')
			u++;
		for (char *t = u + strlen(u); t > u && t[-1] == ' ';)
			*--t = '\0';
		if (*u == 0)
			continue;
		n++;
		rv = eg_listen(e, u, err, errlen);
	}
	free(copy);
	if (rv == 0 && n == 0) {
		snprintf(err, errlen, "no bus URL given");
		rv = -1;
	}
	if (rv != 0) {
		bus_egress_close(e);
		return NULL;
	}
	return e;
}

/* Appends f to c's ring (growing it). 0, or -1 when out of memory. */
static int
eg_push(eg_conn *c, eg_frame *f)
{
	if (c->qn == c->qcap) {
		size_t ncap = c->qcap ? c->qcap * 2 : 64;
		eg_frame **nq = malloc(ncap * sizeof *nq);
		if (nq == NULL)
			return -1;
		for (size_t i = 0; i < c->qn; i++)
			nq[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = nq;
		c->qcap = ncap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qn) % c->qcap] = f;
	c->qn++;
	c->qbytes += f->len + EG_ENTRY;
	f->refs++;
	return 0;
}

/* The total is about to be passed: subscribers whose queue is over its share (they filled it when
 * there were fewer subscribers and never drained) lose their newest queued frames, until the new
 * frame fits or none is over its share. Without this, stalled subscribers that joined one by one
 * would keep the total full and the subscribers that keep up would lose frames. Lock held. */
static void
eg_make_room_locked(bus_egress *e, size_t len, uint64_t limit)
{
	for (eg_conn *c = e->conns; c && e->st.held_bytes + len > e->lim.max_total_bytes; c = c->next) {
		size_t keep = c->inflight > 0 ? c->inflight : (c->head_off > 0);
		if (c->state != EG_LIVE || c->closing)
			continue;
		while (c->qbytes > limit && c->qn > keep && e->st.held_bytes + len > e->lim.max_total_bytes) {
			eg_frame *f = c->q[(c->qhead + c->qn - 1) % c->qcap];
			if (f->ctl)
				break;
			c->qn--;
			c->qbytes -= f->len + EG_ENTRY;
			c->dropped++;
			c->dropped_bytes += f->len;
			e->st.dropped_frames++;
			e->st.dropped_bytes += f->len;
			eg_frame_release(e, f);
		}
	}
}

void
bus_egress_send(bus_egress *e, const uint8_t *frame, size_t len)
{
	eg_frame *f = NULL;
	nng_mtx_lock(e->mtx);
	if (e->nlive == 0) {
		nng_mtx_unlock(e->mtx);
		return;
	}
	/* Each subscriber's share of the total, divided by one more than there are subscribers: all of
	 * them full at once still leave one share free. Shares shrink as subscribers join; those over
	 * their new share give frames back when the total is reached (eg_make_room_locked). */
	uint64_t limit = eg_min(e->lim.max_conn_bytes, e->lim.max_total_bytes / ((uint64_t)e->nlive + 1));
	if (e->st.held_bytes + len > e->lim.max_total_bytes)
		eg_make_room_locked(e, len, limit);
	for (eg_conn *c = e->conns; c; c = c->next) {
		if (c->state != EG_LIVE || c->closing)
			continue;
		if (c->filter && !topicdecl_match(c->filter, frame, len)) { /* it did not subscribe */
			e->st.filtered_frames++;
			continue;
		}
		int admit = c->qn == 0 || c->qbytes + len + EG_ENTRY <= limit;
		if (admit && f == NULL &&
		    (e->st.held_bytes + len > e->lim.max_total_bytes ||
		     (f = eg_frame_new_locked(e, frame, len)) == NULL))
			admit = 0;
		if (!admit || eg_push(c, f) != 0) {
			if (f == NULL && (c->qn == 0 || c->qbytes + len + EG_ENTRY <= limit))
				e->st.dropped_total_bound++;
			c->dropped++;
			c->dropped_bytes += len;
			e->st.dropped_frames++;
			e->st.dropped_bytes += len;
			continue;
		}
		eg_send_start_locked(c);
	}
	if (f && f->refs == 0) { /* every push failed */
		e->st.held_bytes -= len;
		free(f);
	}
	nng_mtx_unlock(e->mtx);
}

static void
eg_conn_free(bus_egress *e, eg_conn *c)
{
	while (c->qn > 0) {
		eg_frame_release(e, c->q[c->qhead]);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qn--;
	}
	free(c->q);
	free(c->rx_msg);
	free(c->filter);
	free(c->filter_buf);
	free(c);
}

/* now - t, 0 when t is later: a callback may stamp t between the clock read and the check. */
static uint64_t
eg_since(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

void
bus_egress_tick(bus_egress *e)
{
	eg_conn *dead = NULL;
	nng_mtx_lock(e->mtx);
	/* Read under the lock, where the callbacks stamp born_ns and progress_ns: read before it, a
	 * connection accepted (or a frame sent) while the tick waited for the lock was later than now,
	 * and the unsigned difference made a fresh peer look 584 years old - refused as a handshake
	 * timeout or disconnected as stalled (seen once under ASan on a loaded machine). */
	uint64_t now = rt_mono_ns();
	for (eg_conn **pp = &e->conns; *pp;) {
		eg_conn *c = *pp;
		if (!c->closing && c->state == EG_HS && eg_since(now, c->born_ns) > EG_HANDSHAKE_NS) {
			eg_refuse_locked(c, NNG_ETIMEDOUT);
		} else if (!c->closing && c->state == EG_LIVE && c->qn > 0 && e->lim.stall_ms &&
		           eg_since(now, c->progress_ns) > e->lim.stall_ms * 1000000u) {
			e->st.disconnected_stalled++;
			rt_logkv(RT_WARN, "subscriber stalled: disconnected", "peer", c->peer, NULL);
			rt_log(RT_WARN,
			       "subscriber %s took nothing for %llu ms with %zu frames (%llu bytes) queued: "
			       "disconnected (%llu frames lost to its bound before)",
			       c->peer, (unsigned long long)e->lim.stall_ms, c->qn, (unsigned long long)c->qbytes,
			       (unsigned long long)c->dropped);
			eg_close_locked(c);
		}
		if (c->dropped > c->dropped_logged && eg_since(now, c->last_log_ns) >= EG_LOG_EVERY_NS) {
			rt_log(RT_WARN,
			       "subscriber %s is behind: lost %llu frames (%llu bytes) to its bound, %llu in all",
			       c->peer, (unsigned long long)(c->dropped - c->dropped_logged),
			       (unsigned long long)c->dropped_bytes, (unsigned long long)c->dropped);
			c->dropped_logged = c->dropped;
			c->last_log_ns = now;
		}
		if (c->closing && !c->tx_busy && !c->rx_busy) {
			*pp = c->next;
			e->nconns--;
			c->next = dead;
			dead = c;
			continue;
		}
		pp = &c->next;
	}
	nng_mtx_unlock(e->mtx);
	/* Free outside the lock: nng_aio_free waits for a callback that may be waiting for it. */
	while (dead) {
		eg_conn *c = dead;
		dead = c->next;
		nng_aio_free(c->tx);
		nng_aio_free(c->rx);
		nng_stream_free(c->s);
		if (c->state == EG_LIVE && c->dropped > c->dropped_logged)
			rt_log(RT_WARN, "subscriber %s gone: lost %llu frames (%llu bytes) to its bound", c->peer,
			       (unsigned long long)c->dropped, (unsigned long long)c->dropped_bytes);
		nng_mtx_lock(e->mtx);
		eg_conn_free(e, c);
		nng_mtx_unlock(e->mtx);
	}
	/* After a burst, hand the freed pages back: glibc keeps them otherwise (a stalled subscriber's
	 * backlog once stayed as 418 MiB of RSS long after it left). */
	nng_mtx_lock(e->mtx);
	int trim = e->trim_peak > e->st.held_bytes + EG_TRIM_SLACK;
	if (trim)
		e->trim_peak = e->st.held_bytes;
	nng_mtx_unlock(e->mtx);
	if (trim)
		malloc_trim(0);
}

void
bus_egress_get_stats(bus_egress *e, bus_egress_stats *st)
{
	nng_mtx_lock(e->mtx);
	*st = e->st;
	st->conns = e->nlive;
	st->filtered_conns = 0;
	for (eg_conn *c = e->conns; c; c = c->next)
		st->filtered_conns += c->filter != NULL && c->state == EG_LIVE && !c->closing;
	st->open = e->nconns;
	nng_mtx_unlock(e->mtx);
}

void
bus_egress_close(bus_egress *e)
{
	if (e == NULL)
		return;
	for (eg_listener *l = e->listeners; l; l = l->next)
		if (l->l)
			nng_stream_listener_close(l->l);
	while (e->listeners) {
		eg_listener *l = e->listeners;
		e->listeners = l->next;
		if (l->aio)
			nng_aio_free(l->aio);
		nng_stream_listener_free(l->l);
		free(l);
	}
	nng_mtx_lock(e->mtx);
	for (eg_conn *c = e->conns; c; c = c->next)
		eg_close_locked(c);
	nng_mtx_unlock(e->mtx);
	for (eg_conn *c = e->conns, *next; c; c = next) {
		next = c->next;
		nng_aio_free(c->tx); /* waits for the callback of a pending operation */
		nng_aio_free(c->rx);
		nng_stream_free(c->s);
		eg_conn_free(e, c);
	}
	nng_mtx_free(e->mtx);
	free(e);
}
