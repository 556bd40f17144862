/*
 * median - aggregates price.obs.<feed> from several sources into price.agg.<feed>.
 *
 * Per feed it keeps the freshest observation of each distinct source within WINDOW and, on every
 * observation and every AGG_INTERVAL, computes the median (median.c): outliers beyond
 * MAX_DEVIATION are dropped, a quorum of QUORUM sources must remain, and sources spreading beyond
 * MAX_SPREAD make it refuse. Refusals raise an alert once per state change (below_quorum,
 * sources_disagree) and resolve it when the condition clears. An aggregate equal to the last one
 * published is repeated at most every MIN_PUBLISH_INTERVAL (so the gate keeps seeing a live price
 * without a flood), and sooner once the last one's oldest observation is half a WINDOW old (so the
 * gate never sees a live feed's aggregate go stale between repeats). Stateless: a restart only forgets the last WINDOW of observations, which the
 * fetchers resend. See README.md beside this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/table.h"
#include "base/util.h"
#include "actors/median/median.h"
#include "bus/actor.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"

#define MS            1000000ull
#define MED_MAX_FEEDS RT_LIST_MAX /* feeds of one median (FEEDS, or learned from price.obs) */

static act_bus_cfg busc;
static rt_strlist cfg_feeds;
static uint64_t cfg_window_ms, cfg_quorum, cfg_dev_ppm, cfg_spread_ppm, cfg_interval_ms, cfg_min_pub_ms;

/* FEEDS: each a feed name that fits price.obs/agg records and topics. */
static void
med_check_feeds(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	for (size_t i = 0; i < cfg_feeds.n; i++) {
		char topic[FRAME_TOPIC_MAX + 16];
		const char *f = cfg_feeds.v[i];
		int n = snprintf(topic, sizeof topic, "price.agg.%s", f);
		if (strlen(f) > SC_NAME_CAP || n >= (int)sizeof topic || !frame_topic_valid(topic, (size_t)n))
			rt_config_error(e, o->env, "'%.40s' is not a feed name (1..%d of [A-Za-z0-9._:-])", f,
			                SC_NAME_CAP);
	}
}

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "FEEDS", RT_LIST, NULL,
	  "feeds this replica aggregates (comma list); empty = every price.obs feed (at most as many as FEEDS "
	  "may list; more are not aggregated: median_unrouted_total)",
	  &cfg_feeds, 0, 0, MED_MAX_FEEDS, 0 },
	RT_CHECK_ROW("FEEDS", med_check_feeds),
	{ "WINDOW", RT_DURATION, "60s", "an observation older than this is not used", &cfg_window_ms, 1, 86400000, 0,
	  0 },
	{ "QUORUM", RT_U64, "2", "distinct fresh sources needed after outliers are dropped", &cfg_quorum, 1,
	  MD_MAX_SOURCES, 0, 0 },
	{ "MAX_DEVIATION", RT_PPM, "2",
	  "percent from the provisional median beyond which a source is an "
	  "outlier (0 = keep all)",
	  &cfg_dev_ppm, 0, 0, 0, 0 },
	{ "MAX_SPREAD", RT_PPM, "5",
	  "percent (max - min) / median of the kept sources beyond which it "
	  "refuses (0 = off)",
	  &cfg_spread_ppm, 0, 0, 0, 0 },
	{ "AGG_INTERVAL", RT_DURATION, "1s", "re-aggregate every feed this often (staleness, repeats)",
	  &cfg_interval_ms, 10, 3600000, 0, 0 },
	{ "MIN_PUBLISH_INTERVAL", RT_DURATION, "5s",
	  "an aggregate equal to the last one is re-published at most this often (sooner once the last "
	  "one's oldest observation is half a WINDOW old)",
	  &cfg_min_pub_ms, 0, 3600000, 0, 0 },
};

enum {
	ALERT_NONE = 0,
	ALERT_QUORUM,
	ALERT_DISAGREE
};
static const char *const med_alert_kind[] = { "", "below_quorum", "sources_disagree" };

typedef struct {
	md_feed f;
	sc_price_agg last; /* last published */
	int have_last;
	uint64_t last_pub_mono;
	int alert; /* ALERT_* currently raised */
	rt_metric *m_aggs, *m_sources, *m_spread, *m_refuse[2], *m_suppressed;
} med_feed;

/* Allocated one by one as feeds are configured or seen: memory follows the feeds served, not the
 * bound. The pointer array grows by doubling. */
static med_feed **med_feeds;
static size_t med_nfeeds, med_capfeeds;
/* Feed name -> its med_feed, and the set of FEEDS: an observation found its feed by two scans of
 * the names, ~17 % of the median's CPU at 500 feeds (perf: strcmp). Bounded by the feeds. */
static tbl *med_index, *med_allowed;
static act_bus *med_bus;
static md_cfg med_cfg;
static uint64_t med_start_mono;
static rt_metric *m_unknown_feed;

static rt_metric *
med_labeled_counter(const char *name, const char *help, const char *feed, const char *k2, const char *v2)
{
	char labels[256];
	return rt_counter(name, help, rt_labels(labels, sizeof labels, "feed", feed, k2, v2, NULL));
}

static med_feed *
med_feed_get(const char *name, int create)
{
	size_t len = strlen(name);
	med_feed **hit = tbl_get(med_index, name, len);
	if (hit != NULL)
		return *hit;
	if (!create || med_nfeeds == MED_MAX_FEEDS)
		return NULL;
	if (med_nfeeds == med_capfeeds) {
		size_t cap = med_capfeeds ? 2 * med_capfeeds : 16;
		med_feed **nv = realloc(med_feeds, cap * sizeof *nv);
		if (nv == NULL)
			return NULL;
		med_feeds = nv, med_capfeeds = cap;
	}
	int created;
	med_feed *mf = calloc(1, sizeof *mf), **slot = mf ? tbl_put(med_index, name, len, &created) : NULL;
	if (slot == NULL) {
		free(mf);
		return NULL;
	}
	*slot = mf;
	med_feeds[med_nfeeds++] = mf;
	md_feed_init(&mf->f, name);
	char labels[128];
	rt_labels(labels, sizeof labels, "feed", name, NULL);
	mf->m_aggs = rt_counter("median_aggregates_total", "Aggregates published.", labels);
	mf->m_sources = rt_gauge("median_sources", "Sources used in the last aggregation.", labels);
	mf->m_spread = rt_gauge("median_spread_ppm", "(max - min) / |median| of the used sources, ppm.", labels);
	mf->m_suppressed = rt_counter("median_repeats_suppressed_total",
	                              "Aggregates equal to the last one not re-published within "
	                              "MIN_PUBLISH_INTERVAL.",
	                              labels);
	mf->m_refuse[0] = med_labeled_counter("median_refusals_total", "Aggregations refused, by reason.", mf->f.feed,
	                                      "reason", "below_quorum");
	mf->m_refuse[1] = med_labeled_counter("median_refusals_total", "Aggregations refused, by reason.", mf->f.feed,
	                                      "reason", "sources_disagree");
	rt_logkv(RT_INFO, "feed added", "feed", name, NULL);
	return mf;
}

/* Raises or resolves the feed's alert when its state changes, never otherwise. */
static void
med_set_alert(med_feed *mf, int state, const sc_price_agg *agg, size_t fresh)
{
	if (state == mf->alert)
		return;
	const char *labels[] = { "feed", mf->f.feed, NULL };
	char key[128], text[256] = "";
	if (mf->alert != ALERT_NONE) {
		snprintf(key, sizeof key, "median:%s:%s", mf->f.feed, med_alert_kind[mf->alert]);
		snprintf(text, sizeof text, "%s: %s cleared", mf->f.feed, med_alert_kind[mf->alert]);
		act_alert(med_bus, SC_SEV_WARNING, SC_ALERT_RESOLVED, med_alert_kind[mf->alert], key, text, labels);
		rt_logkv(RT_INFO, "alert resolved", "feed", mf->f.feed, "kind", med_alert_kind[mf->alert], NULL);
	}
	if (state != ALERT_NONE) {
		snprintf(key, sizeof key, "median:%s:%s", mf->f.feed, med_alert_kind[state]);
		if (state == ALERT_QUORUM)
			snprintf(text, sizeof text, "%s: %u of %zu fresh sources usable, quorum %llu", mf->f.feed,
			         agg->used_count, fresh, (unsigned long long)med_cfg.quorum);
		else
			snprintf(text, sizeof text, "%s: sources spread %llu ppm, limit %llu ppm", mf->f.feed,
			         (unsigned long long)agg->spread_ppm, (unsigned long long)med_cfg.max_spread_ppm);
		act_alert(med_bus, SC_SEV_WARNING, SC_ALERT_FIRING, med_alert_kind[state], key, text, labels);
		rt_logkv(RT_WARN, "alert firing", "feed", mf->f.feed, "kind", med_alert_kind[state], "summary", text,
		         NULL);
	}
	char hkey[64];
	snprintf(hkey, sizeof hkey, "feed:%s", mf->f.feed);
	rt_health_set(hkey, state != ALERT_NONE, state != ALERT_NONE ? text : NULL);
	mf->alert = state;
}

/* Aggregates one feed. trigger_source: the source whose observation caused this run (its being
 * an outlier is counted once per observation), or NULL for a timer run. */
static void
med_evaluate(med_feed *mf, const char *trigger_source)
{
	sc_price_agg agg;
	size_t fresh;
	uint64_t now = rt_now_ns(), mono = rt_mono_ns();
	int st = md_compute(&mf->f, &med_cfg, now, &agg, &fresh);
	rt_gauge_set(mf->m_sources, agg.used_count);
	rt_gauge_set(mf->m_spread, (double)agg.spread_ppm);
	for (uint32_t i = 0; i < agg.dropped_count; i++) {
		const char *src = agg.dropped[i].source;
		if (trigger_source && strcmp(trigger_source, src) == 0)
			rt_inc(med_labeled_counter("median_outliers_total", "Observations dropped as outliers.",
			                           mf->f.feed, "source", src));
	}
	for (uint32_t i = 0; i < agg.dropped_count + agg.used_count; i++) {
		int out = i < agg.dropped_count;
		const char *src = out ? agg.dropped[i].source : agg.used[i - agg.dropped_count].source;
		char key[96];
		snprintf(key, sizeof key, "outlier:%s:%s", mf->f.feed, src);
		if (rt_log_state_change(key, out ? "outlier" : "ok") && (out || trigger_source))
			rt_logkv(out ? RT_WARN : RT_INFO, out ? "source is an outlier" : "source back within range",
			         "feed", mf->f.feed, "source", src, NULL);
	}
	/* Until one WINDOW has passed since start, missing sources are just not heard from yet. */
	int settled = mono - med_start_mono >= med_cfg.window_ns;
	switch (st) {
	case MD_AGG:
		med_set_alert(mf, ALERT_NONE, &agg, fresh);
		break;
	case MD_DISAGREE:
		rt_inc(mf->m_refuse[1]);
		med_set_alert(mf, ALERT_DISAGREE, &agg, fresh);
		return;
	default: /* below quorum, or nothing fresh at all */
		rt_inc(mf->m_refuse[0]);
		if (settled)
			med_set_alert(mf, ALERT_QUORUM, &agg, fresh);
		return;
	}
	if (mf->have_last &&
	    !md_publish_due(&mf->last, &agg, mono - mf->last_pub_mono, now, cfg_min_pub_ms * MS, med_cfg.window_ns)) {
		rt_inc(mf->m_suppressed);
		return;
	}
	char topic[FRAME_TOPIC_MAX + 1];
	snprintf(topic, sizeof topic, "price.agg.%s", mf->f.feed);
	if (act_publish(med_bus, topic, &SC_PRICE_AGG, &agg, NULL, NULL) == BUS_OK) {
		rt_inc(mf->m_aggs);
		mf->last = agg;
		mf->have_last = 1;
		mf->last_pub_mono = mono;
		if (rt_log_enabled(RT_DEBUG)) {
			char v[96];
			fixed_to_dec(&agg.median, (unsigned)agg.decimals, v);
			rt_logkv(RT_DEBUG, "aggregate", "feed", mf->f.feed, "median", v, NULL);
		}
	}
}

static void
med_on_obs(const bus_msg *m)
{
	sc_price_obs o;
	if (act_decode(m, &SC_PRICE_OBS, &o) != 0)
		return;
	/* The topic names the feed: a body for another feed is a producer bug, not data. */
	size_t plen = strlen("price.obs.");
	if (m->f.topic_len != plen + strlen(o.feed) || memcmp(m->f.topic + plen, o.feed, strlen(o.feed)) != 0) {
		rt_inc(m_unknown_feed);
		rt_logkv(RT_WARN, "observation's feed does not match its topic", "feed", o.feed, NULL);
		return;
	}
	int configured = cfg_feeds.n == 0 || tbl_get(med_allowed, o.feed, strlen(o.feed)) != NULL;
	med_feed *mf = configured ? med_feed_get(o.feed, 1) : NULL;
	if (mf == NULL) {
		rt_inc(m_unknown_feed);
		if (rt_log_state_change("unknown-feed", o.feed))
			rt_logkv(RT_WARN, "observation for a feed not aggregated here", "feed", o.feed, NULL);
		return;
	}
	if (o.observed_at_ns == 0)
		o.observed_at_ns = m->f.ts_ns;
	int rv = md_observe(&mf->f, &med_cfg, &o, rt_now_ns());
	char key[96];
	snprintf(key, sizeof key, "obs:%s:%s", o.feed, o.source);
	if (rv != MD_OK) {
		rt_inc(med_labeled_counter("median_rejected_total", "Observations rejected, by why.", mf->f.feed, "why",
		                           md_observe_error_name(rv)));
		if (rt_log_state_change(key, md_observe_error_name(rv))) {
			char d[24], fd[24];
			snprintf(d, sizeof d, "%llu", (unsigned long long)o.decimals);
			snprintf(fd, sizeof fd, "%llu", (unsigned long long)mf->f.decimals);
			rt_logkv(rv == MD_EDECIMALS ? RT_ERROR : RT_WARN, "observation rejected", "feed", o.feed,
			         "source", o.source, "why", md_observe_error_name(rv), "decimals", d, "feed_decimals",
			         fd, NULL);
		}
		return;
	}
	rt_log_state_change(key, "ok");
	med_evaluate(mf, o.source);
}

int
main(int argc, char **argv)
{
	char err[512];
	if (rt_init("median", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;
	med_cfg = (md_cfg){ .window_ns = cfg_window_ms * MS,
		            .quorum = (uint32_t)cfg_quorum,
		            .max_dev_ppm = cfg_dev_ppm,
		            .max_spread_ppm = cfg_spread_ppm };
	/* the topics (NULL-terminated) and their text, allocated to the configured count */
	const char **topics = calloc(cfg_feeds.n + 2, sizeof *topics);
	char(*tbuf)[FRAME_TOPIC_MAX + 1] = calloc(cfg_feeds.n + 1, sizeof *tbuf);
	med_index = tbl_new(SC_NAME_CAP, sizeof(med_feed *), 0);
	med_allowed = tbl_new(SC_NAME_CAP, 1, 0);
	for (size_t i = 0; med_allowed != NULL && i < cfg_feeds.n; i++) {
		int created;
		if (tbl_put(med_allowed, cfg_feeds.v[i], strlen(cfg_feeds.v[i]), &created) == NULL)
			tbl_free(med_allowed), med_allowed = NULL;
	}
	if (topics == NULL || tbuf == NULL || med_index == NULL || med_allowed == NULL) {
		rt_log(RT_ERROR, "out of memory");
		return 1;
	}
	if (cfg_feeds.n == 0) {
		topics[0] = "price.obs.";
	} else {
		for (size_t i = 0; i < cfg_feeds.n; i++) {
			snprintf(tbuf[i], sizeof tbuf[i], "price.obs.%s", cfg_feeds.v[i]);
			topics[i] = tbuf[i];
			if (med_feed_get(cfg_feeds.v[i], 1) == NULL) {
				rt_log(RT_ERROR, "out of memory");
				return 1;
			}
		}
	}
	med_bus = act_open(&busc, ACT_PUB | ACT_SUB, topics, err, sizeof err);
	free(topics);
	free(tbuf);
	if (med_bus == NULL) { /* the configuration was checked: this is the environment (sockets) */
		rt_log(RT_ERROR, "bus: %s", err);
		return 1;
	}
	m_unknown_feed = rt_counter("median_unrouted_total",
	                            "Observations for a feed not aggregated here or not matching their topic.", NULL);
	med_start_mono = rt_mono_ns();
	char q[24];
	snprintf(q, sizeof q, "%llu", (unsigned long long)cfg_quorum);
	rt_logkv(RT_INFO, "median ready", "quorum", q, "feeds", cfg_feeds.n ? "configured" : "all", NULL);
	rt_ready(); /* /health: ok once busd is connected (feed:<feed> says a missing quorum, after WINDOW) */

	uint64_t next_tick = rt_mono_ns() + cfg_interval_ms * MS;
	while (!rt_stopping()) {
		uint64_t now = rt_mono_ns();
		int wait = now >= next_tick ? 0 : (int)((next_tick - now) / MS) + 1;
		bus_msg m;
		int rv = act_recv(med_bus, &m, wait > 200 ? 200 : wait);
		if (rv == BUS_OK) {
			med_on_obs(&m);
			bus_msg_free(&m);
		} else if (rv == BUS_ECLOSED) {
			break;
		}
		if (rt_mono_ns() >= next_tick) {
			for (size_t i = 0; i < med_nfeeds; i++)
				med_evaluate(med_feeds[i], NULL);
			next_tick += cfg_interval_ms * MS;
			if (next_tick < rt_mono_ns())
				next_tick = rt_mono_ns() + cfg_interval_ms * MS;
		}
	}
	rt_log(RT_INFO, "stopping");
	act_close(med_bus);
	rt_shutdown();
	return 0;
}
