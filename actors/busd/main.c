/*
 * busd - the bus forwarder: publishers dial its ingress, subscribers dial its egress; every valid
 * frame is forwarded and journaled in LMDB (with size and age retention) for bus-replay.
 *
 * Journal writes are batched (JOURNAL_BATCH frames or JOURNAL_FLUSH_MS, whichever comes first) and
 * not fsync'd per batch (the env is opened ST_NOSYNC and synced every second): a busd crash loses
 * nothing committed, and forwarding never waits for a disk.
 * See README.md beside this file for configuration, metrics and tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/actor.h"
#include "bus/fwd.h"
#include "base/rt_config.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "store/journal.h"
#include "store/store.h"

static const char *cfg_ingress, *cfg_egress, *cfg_journal_dir;
static uint64_t cfg_max_bytes, cfg_max_age_ms, cfg_map_size, cfg_batch, cfg_flush_ms;
static uint64_t cfg_max_frame, cfg_sub_bytes, cfg_total_bytes, cfg_stall_ms, cfg_max_subs;
static const char *cfg_tls_cert, *cfg_tls_key, *cfg_tls_ca;

static const rt_opt busd_opts[] = {
	{ "BUSD_INGRESS", RT_BUS_URL, "tcp://127.0.0.1:7701", "comma list of URLs publishers dial (ipc://, tcp://)",
	  &cfg_ingress, 0, 0, 0, RT_LISTEN },
	{ "BUSD_EGRESS", RT_BUS_URL, "tcp://127.0.0.1:7702", "comma list of URLs subscribers dial", &cfg_egress, 0, 0,
	  0, RT_LISTEN },
	{ "BUSD_MAX_FRAME", RT_U64, "65536",
	  "largest frame accepted at the ingress, bytes (a larger one closes "
	  "its publisher's connection)",
	  &cfg_max_frame, 1024, 2 << 20, 0, 0 },
	{ "BUSD_SUB_MAX_BYTES", RT_U64, "8388608",
	  "frame bytes queued for one subscriber at most; past it that "
	  "subscriber loses frames (busd_egress_dropped_total)",
	  &cfg_sub_bytes, 65536, INT64_MAX, 0, 0 },
	{ "BUSD_MAX_BYTES", RT_U64, "67108864",
	  "frame bytes held for all subscribers together at most (each "
	  "subscriber's share is at most this / (subscribers + 1))",
	  &cfg_total_bytes, 1 << 20, INT64_MAX, 0, 0 },
	{ "BUSD_SUB_STALL", RT_DURATION, "60s",
	  "disconnect a subscriber that took nothing this long while "
	  "frames waited (0 = never)",
	  &cfg_stall_ms, 0, 0, 0, 0 },
	{ "BUSD_MAX_SUBSCRIBERS", RT_U64, "512",
	  "egress connections at most; more are refused (keep BUSD_MAX_BYTES "
	  ">= (this + 1) x BUSD_MAX_FRAME)",
	  &cfg_max_subs, 1, 65536, 0, 0 },
	ACT_TLS_OPTS(cfg_tls_cert, cfg_tls_key, cfg_tls_ca),
	{ "JOURNAL_DIR", RT_STR, "data/busd", "LMDB directory of the journal; empty = no journal", &cfg_journal_dir, 0,
	  0, 0, 0 },
	{ "JOURNAL_MAX_BYTES", RT_U64, "1073741824", "retention: oldest frames go past this many bytes", &cfg_max_bytes,
	  0, 0, 0, 0 },
	{ "JOURNAL_MAX_AGE", RT_DURATION, "168h", "retention: frames older than this go (0 = keep)", &cfg_max_age_ms, 0,
	  0, 0, 0 },
	{ "JOURNAL_MAP_SIZE", RT_U64, "268435456", "initial LMDB map size in bytes (grows as needed)", &cfg_map_size,
	  1 << 20, INT64_MAX, 0, 0 },
	{ "JOURNAL_BATCH", RT_U64, "512", "frames per journal commit", &cfg_batch, 1, 65536, 0, 0 },
	{ "JOURNAL_FLUSH_MS", RT_U64, "50", "longest a frame waits to be committed (ms)", &cfg_flush_ms, 1, 10000, 0,
	  0 },
};

typedef struct {
	jn *j;
	rt_metric *m_err;
	int failing;
} busd_journal;

/* The forwarder's tap: runs for every valid frame, before it is sent on. */
static void
busd_tap(void *arg, const uint8_t *frame, size_t len, uint64_t recv_ns)
{
	busd_journal *bj = arg;
	st_err err;
	if (jn_append(bj->j, recv_ns, frame, len, NULL, &err) != 0) {
		rt_inc(bj->m_err);
		if (!bj->failing)
			rt_log(RT_ERROR, "journal append failed: %s", err.text);
		bj->failing = 1;
		rt_health_set("journal", 1, err.text);
	}
}

static void
busd_flush(busd_journal *bj)
{
	st_err err;
	if (jn_flush(bj->j, &err) != 0) {
		rt_inc(bj->m_err);
		rt_log(RT_ERROR, "journal commit failed: %s", err.text);
		rt_health_set("journal", 1, err.text);
		bj->failing = 1;
	} else if (bj->failing) {
		bj->failing = 0;
		rt_health_set("journal", 0, NULL);
		rt_log(RT_INFO, "journal writing again");
	}
}

int
main(int argc, char **argv)
{
	char err[256];
	st_env *env = NULL;
	busd_journal bj = { 0 };
	st_err serr;

	if (rt_init("busd", argc, argv, busd_opts, sizeof busd_opts / sizeof busd_opts[0]) != 0)
		return 1;
	if (bus_tls_set(cfg_tls_cert, cfg_tls_key, cfg_tls_ca, err, sizeof err) != 0) {
		rt_log(RT_ERROR, "%s", err);
		return RT_EXIT_CONFIG;
	}
	bus_fwd_limits lim = {
		.max_frame = cfg_max_frame,
		.egress = { .max_conn_bytes = cfg_sub_bytes,
		            .max_total_bytes = cfg_total_bytes,
		            .stall_ms = cfg_stall_ms,
		            .max_conns = (int)cfg_max_subs },
	};
	bus_fwd *fwd = bus_fwd_open_limits(cfg_ingress, cfg_egress, &lim, err, sizeof err);
	if (fwd == NULL) {
		rt_log(RT_ERROR, "cannot listen: %s", err);
		return 1;
	}
	if (cfg_journal_dir && *cfg_journal_dir) {
		st_opts o = { .map_size = cfg_map_size, .max_tables = 4, .flags = ST_NOSYNC };
		if (st_open(&env, cfg_journal_dir, &o, &serr) != 0 || jn_open(env, "journal", &bj.j, &serr) != 0) {
			rt_log(RT_ERROR, "journal %s: %s", cfg_journal_dir, serr.text);
			return 1;
		}
		bj.m_err = rt_counter("busd_journal_errors_total", "Journal appends or commits that failed.", NULL);
		bus_fwd_set_tap(fwd, busd_tap, &bj);
	}
	rt_metric *g_pub = rt_gauge("busd_publishers", "Connected publisher pipes (ingress).", NULL);
	rt_metric *g_sub = rt_gauge("busd_subscribers", "Connected subscriber pipes (egress).", NULL);
	rt_metric *g_jbytes = rt_gauge("busd_journal_bytes", "Frame bytes held in the journal.", NULL);
	rt_metric *g_jcount = rt_gauge("busd_journal_frames", "Frames held in the journal.", NULL);
	rt_metric *c_pruned = rt_counter("busd_journal_pruned_total", "Frames removed by retention.", NULL);
	rt_logkv(RT_INFO, "busd listening", "ingress", cfg_ingress, "egress", cfg_egress, "journal",
	         cfg_journal_dir && *cfg_journal_dir ? cfg_journal_dir : "(off)", "tls",
	         bus_tls_enabled() ? "on" : "off", NULL);
	rt_ready(); /* both sides listen and the journal is open: actors may connect */

	uint64_t last_flush = rt_mono_ns(), last_sync = last_flush, last_retain = 0;
	while (!rt_stopping()) {
		/* Wait at most the flush interval, so a lone frame is journaled in time. */
		if (bus_fwd_run(fwd, (int)cfg_flush_ms, (int)cfg_batch) < 0)
			break;
		uint64_t now = rt_mono_ns();
		if (bj.j && jn_pending(bj.j) > 0 &&
		    (jn_pending(bj.j) >= cfg_batch || now - last_flush >= cfg_flush_ms * 1000000u)) {
			busd_flush(&bj);
			last_flush = now;
		}
		if (now - last_sync >= 1000000000u) {
			last_sync = now;
			rt_gauge_set(g_pub, bus_fwd_publishers(fwd));
			rt_gauge_set(g_sub, bus_fwd_subscribers(fwd));
			if (env && st_sync(env, &serr) != 0)
				rt_log(RT_WARN, "journal sync: %s", serr.text);
		}
		if (bj.j && now - last_retain >= 10000000000u) {
			uint64_t removed = 0;
			jn_stats_t js;
			last_retain = now;
			if (jn_retain(bj.j, cfg_max_bytes, cfg_max_age_ms * 1000000u, rt_now_ns(), &removed, &serr) !=
			    0)
				rt_log(RT_WARN, "journal retention: %s", serr.text);
			rt_add(c_pruned, removed);
			if (jn_stats(bj.j, NULL, &js, &serr) == 0) {
				rt_gauge_set(g_jbytes, (double)js.bytes);
				rt_gauge_set(g_jcount, (double)js.count);
			}
		}
	}
	rt_log(RT_INFO, "stopping: %llu frames forwarded, %llu malformed dropped",
	       (unsigned long long)bus_fwd_forwarded(fwd), (unsigned long long)bus_fwd_malformed(fwd));
	if (bj.j) {
		busd_flush(&bj);
		if (jn_close(bj.j, &serr) != 0 || st_sync(env, &serr) != 0)
			rt_log(RT_ERROR, "journal: last frames may not be on disk: %s", serr.text);
		st_close(env);
	}
	bus_fwd_close(fwd);
	rt_shutdown();
	return 0;
}
