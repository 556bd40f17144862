/*
 * bus-replay - look into busd's journal and play it back.
 *
 *   bus-replay --journal DIR list|dump|stats|publish [range] [options]
 *
 * list prints one line per frame, dump one JSON object per frame (body decoded through the
 * schemas when the type is known), stats the journal's extent, and publish re-sends the frames,
 * byte for byte as busd recorded them, to a bus address at a chosen rate or at the original pace.
 * The range is by journal index (--from-seq/--to-seq), by receive time (--since/--until) and by
 * topic prefix (--topic, repeatable), optionally cut short by --count.
 *
 * The journal's LMDB env is opened read-only, so this works next to a running busd. The range
 * is fixed when the tool starts (frames busd appends later are not replayed), which also keeps
 * a replay into the same busd from chasing its own tail. See README.md beside this file.
 *
 * Exit codes (the table every tool shares, base/rt_version.h): 0 ok (also when a publish is
 * interrupted); 1 nothing matched; 2 usage; 3 journal, bus or output error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bus/bus.h"
#include "bus/frame.h"
#include "base/rt_version.h"
#include "tools/bus-replay/format.h"
#include "schemas/schema.h"
#include "store/journal.h"
#include "store/store.h"

#define RP_EXIT_OK    RT_EXIT_OK
#define RP_EXIT_NONE  RT_EXIT_NORESULT /* nothing matched the range */
#define RP_EXIT_USAGE RT_EXIT_USAGE
#define RP_EXIT_FAIL  RT_EXIT_UNAVAILABLE /* journal, bus or output error */
#define RP_MAX_TOPICS 32
#define RP_END        1             /* rp_next: no more frames in the range */
#define RP_TABLE      "journal"     /* busd's journal table (actors/busd/main.c) */
#define RP_RENEW_NS   1000000000ull /* a read txn is never held longer than this (see rp_renew) */
/* publish's default pace. NNG's pub0 never blocks: once the publisher's send queue (1024 frames)
 * is full it drops frames, and an unpaced replay of 10,000 frames into a local busd lost 62% of
 * them, while 20,000/s lost none (see README.md). Since then the replay also waits whenever busd
 * is behind (bus_pub_pace), so no pace loses frames to a slow busd. */
#define RP_DEFAULT_RATE 20000.0
#define RP_CATCHUP_NS   100000000ull /* further behind schedule than this: rebase, never burst */

typedef enum {
	RP_LIST,
	RP_DUMP,
	RP_STATS,
	RP_PUBLISH
} rp_cmd;

typedef struct {
	const char *journal;
	rp_cmd cmd;
	uint64_t from, to; /* journal indexes, inclusive */
	uint64_t t0, t1;   /* receive time in ns, [t0, t1) */
	int has_range;     /* any of the above, a topic or a count was given */
	const char *topics[RP_MAX_TOPICS];
	size_t ntopics;
	uint64_t count; /* 0 = no limit */
	const char *url;
	double rate, speed; /* frames/s (0 = unpaced), gap divisor (0 = unset) */
	int rate_set;
	int wait_ms, linger_ms;
} rp_opts;

/* A read position in the journal that survives read-txn renewals: records come from jn_next, the
 * remaining filters (several topics, time upper bound, count) are applied here. */
typedef struct {
	const rp_opts *o;
	st_env *env;
	jn *j;
	MDB_txn *txn;
	jn_iter it;
	int it_open;
	uint64_t to;     /* min(--to-seq, last index when the tool started) */
	uint64_t resume; /* index to restart from after a renewal */
	uint64_t txn_ns; /* when txn began (monotonic) */
	uint64_t matched;
	jn_stats_t stats; /* the journal at start */
} rp_reader;

static volatile sig_atomic_t rp_stop;

static const char rp_usage_text[] =
        "Usage: bus-replay [--journal DIR] COMMAND [range] [options]\n"
        "\n"
        "Reads busd's frame journal (LMDB, opened read-only: safe while busd runs).\n"
        "\n"
        "Commands:\n"
        "  list      one line per frame: index, receive time, topic, type, origin, seq, size\n"
        "  dump      one JSON object per frame: index, recv_ts, topic, type, id, origin, seq, ts,\n"
        "            signed, body (decoded JSON) or body_hex; undecodable frames as error + hex\n"
        "  stats     first/last index and receive time, frames and bytes (also: list --stats);\n"
        "            with a range, also the frames and bytes it matches\n"
        "  publish   re-send the frames exactly as recorded (same id, origin, seq, signature)\n"
        "\n"
        "Options:\n"
        "  --journal DIR     journal env directory (default $JOURNAL_DIR, else data/busd)\n"
        "  --from-seq N      first journal index (inclusive)\n"
        "  --to-seq M        last journal index (inclusive)\n"
        "  --since T         receive time >= T     T: RFC 3339 (2026-11-27T17:00:00Z,\n"
        "  --until T         receive time <  T        2026-11-27T18:00:00.250+01:00), relative to\n"
        "                                             now (-10m, -2h, -30s, -1d, -500ms), now,\n"
        "                                             or ns since the Unix epoch\n"
        "  --topic PREFIX    only topics starting with PREFIX (repeatable, up to 32)\n"
        "  --count N         stop after N frames\n"
        "  --stats           with list: print stats instead of frames\n"
        "  --url URL         publish: bus address to publish to (busd ingress), comma list allowed\n"
        "  --rate N          publish: N frames per second (default 20000; 0 = unpaced, which\n"
        "                    overruns NNG's send queue and drops frames beyond ~1000 in a burst)\n"
        "  --speed X         publish: original inter-arrival gaps divided by X (1 = real time)\n"
        "  --wait-ms MS      publish: wait this long for the connection first (default 2000)\n"
        "  --linger-ms MS    publish: wait up to MS (at least 5000) for busd to take the last frames;\n"
        "                    frames it never took are said lost (exit 3)\n"
        "  --help            this text\n"
        "  --version         print the version and exit\n"
        "\n"
        "Output: ids, keys and bodies as 0x-hex; integers beyond 2^53 (ts, recv_ts: ns since the epoch)\n"
        "as decimal strings, so jq reads them exactly.\n"
        "Exit codes: 0 ok (also a publish interrupted by Ctrl-C), 1 nothing matched, 2 usage error,\n"
        "3 journal, bus or output error.\n";

/* ---- small helpers ----------------------------------------------------------------------- */

static uint64_t
rp_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
rp_real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- argument parsing ---------------------------------------------------------------------- */

static int rp_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
rp_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bus-replay: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nUsage: bus-replay [--journal DIR] list|dump|stats|publish [range] [options]\n"
	                "Try 'bus-replay --help'.\n");
	va_end(ap);
	return RP_EXIT_USAGE;
}

enum {
	RP_O_JOURNAL = 256,
	RP_O_FROM,
	RP_O_TO,
	RP_O_SINCE,
	RP_O_UNTIL,
	RP_O_TOPIC,
	RP_O_COUNT,
	RP_O_STATS,
	RP_O_URL,
	RP_O_RATE,
	RP_O_SPEED,
	RP_O_WAIT,
	RP_O_LINGER,
	RP_O_HELP,
	RP_O_VERSION
};

/* Fills o from argv. Returns -1 to go on, or an exit code (usage error, or 0 after --help). */
static int
rp_parse_args(int argc, char **argv, rp_opts *o)
{
	static const struct option longopts[] = {
		{ "journal", required_argument, NULL, RP_O_JOURNAL },
		{ "from-seq", required_argument, NULL, RP_O_FROM },
		{ "to-seq", required_argument, NULL, RP_O_TO },
		{ "since", required_argument, NULL, RP_O_SINCE },
		{ "until", required_argument, NULL, RP_O_UNTIL },
		{ "topic", required_argument, NULL, RP_O_TOPIC },
		{ "count", required_argument, NULL, RP_O_COUNT },
		{ "stats", no_argument, NULL, RP_O_STATS },
		{ "url", required_argument, NULL, RP_O_URL },
		{ "rate", required_argument, NULL, RP_O_RATE },
		{ "speed", required_argument, NULL, RP_O_SPEED },
		{ "wait-ms", required_argument, NULL, RP_O_WAIT },
		{ "linger-ms", required_argument, NULL, RP_O_LINGER },
		{ "help", no_argument, NULL, RP_O_HELP },
		{ "version", no_argument, NULL, RP_O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t now = rp_real_ns(), v;
	int stats = 0, c;

	memset(o, 0, sizeof *o);
	o->journal = getenv("JOURNAL_DIR") && *getenv("JOURNAL_DIR") ? getenv("JOURNAL_DIR") : "data/busd";
	o->to = UINT64_MAX;
	o->t1 = UINT64_MAX;
	o->wait_ms = 2000;
	o->linger_ms = 0;
	opterr = 0; /* our own messages, with the option named */
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case RP_O_JOURNAL:
			o->journal = optarg;
			break;
		case RP_O_FROM:
			if (rp_parse_u64(optarg, &o->from))
				return rp_usage_error("--from-seq: '%s' is not an index", optarg);
			o->has_range = 1;
			break;
		case RP_O_TO:
			if (rp_parse_u64(optarg, &o->to))
				return rp_usage_error("--to-seq: '%s' is not an index", optarg);
			o->has_range = 1;
			break;
		case RP_O_SINCE:
			if (rp_parse_time(optarg, now, &o->t0))
				return rp_usage_error("--since: '%s' is not a time (RFC 3339, -10m, now, or ns)",
				                      optarg);
			o->has_range = 1;
			break;
		case RP_O_UNTIL:
			if (rp_parse_time(optarg, now, &o->t1))
				return rp_usage_error("--until: '%s' is not a time (RFC 3339, -10m, now, or ns)",
				                      optarg);
			o->has_range = 1;
			break;
		case RP_O_TOPIC:
			if (o->ntopics == RP_MAX_TOPICS)
				return rp_usage_error("--topic: at most 32 prefixes (%s is one too many)", optarg);
			if (strlen(optarg) > FRAME_TOPIC_MAX)
				return rp_usage_error("--topic: '%s' is longer than a topic can be", optarg);
			o->topics[o->ntopics++] = optarg;
			o->has_range = 1;
			break;
		case RP_O_COUNT:
			if (rp_parse_u64(optarg, &o->count) || o->count == 0)
				return rp_usage_error("--count: '%s' is not a positive number", optarg);
			o->has_range = 1;
			break;
		case RP_O_STATS:
			stats = 1;
			break;
		case RP_O_URL:
			o->url = optarg;
			break;
		case RP_O_RATE:
			if (strcmp(optarg, "0") != 0 && rp_parse_double(optarg, &o->rate))
				return rp_usage_error("--rate: '%s' is not a number of frames per second", optarg);
			o->rate_set = 1;
			break;
		case RP_O_SPEED:
			if (rp_parse_double(optarg, &o->speed))
				return rp_usage_error("--speed: '%s' is not a positive factor", optarg);
			break;
		case RP_O_WAIT:
		case RP_O_LINGER:
			if (rp_parse_u64(optarg, &v) || v > 3600000)
				return rp_usage_error("'%s' is not a number of milliseconds (0..3600000)", optarg);
			*(c == RP_O_WAIT ? &o->wait_ms : &o->linger_ms) = (int)v;
			break;
		case RP_O_HELP:
			fputs(rp_usage_text, stdout);
			return RP_EXIT_OK;
		case RP_O_VERSION:
			rt_version_print("bus-replay", stdout);
			return RP_EXIT_OK;
		default:
			return rp_usage_error("unknown option or missing value: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return rp_usage_error("%s", "no command (list, dump, stats or publish)");
	if (optind + 1 < argc)
		return rp_usage_error("unexpected argument '%s'", argv[optind + 1]);
	const char *cmd = argv[optind];
	if (strcmp(cmd, "list") == 0)
		o->cmd = stats ? RP_STATS : RP_LIST;
	else if (strcmp(cmd, "dump") == 0)
		o->cmd = RP_DUMP;
	else if (strcmp(cmd, "stats") == 0)
		o->cmd = RP_STATS;
	else if (strcmp(cmd, "publish") == 0)
		o->cmd = RP_PUBLISH;
	else
		return rp_usage_error("unknown command '%s' (list, dump, stats or publish)", cmd);
	if (stats && strcmp(cmd, "list") != 0 && strcmp(cmd, "stats") != 0)
		return rp_usage_error("--stats goes with list, not %s", cmd);
	if (o->cmd == RP_PUBLISH && o->url == NULL)
		return rp_usage_error("%s", "publish needs --url (the busd ingress to publish to)");
	if (o->cmd != RP_PUBLISH && (o->url || o->rate_set || o->speed > 0))
		return rp_usage_error("--url, --rate and --speed go with publish, not %s", cmd);
	if (o->rate_set && o->speed > 0)
		return rp_usage_error("%s", "--rate and --speed exclude each other");
	if (!o->rate_set && o->speed == 0)
		o->rate = RP_DEFAULT_RATE;
	if (o->from > o->to)
		return rp_usage_error("%s", "--from-seq is after --to-seq");
	if (o->t0 >= o->t1)
		return rp_usage_error("%s", "--since is not before --until (the range is empty)");
	return -1;
}

/* ---- reading the journal ------------------------------------------------------------------- */

/* The one prefix jn can filter on by itself; with several, rp_next filters. */
static const char *
rp_jn_prefix(const rp_opts *o)
{
	return o->ntopics == 1 ? o->topics[0] : NULL;
}

static int
rp_topic_ok(const rp_opts *o, const uint8_t *frame, size_t len)
{
	if (o->ntopics <= 1)
		return 1; /* none, or jn_next already checked it */
	for (size_t i = 0; i < o->ntopics; i++) {
		size_t n = strlen(o->topics[i]);
		if (len >= n && memcmp(frame, o->topics[i], n) == 0)
			return 1;
	}
	return 0;
}

static int
rp_begin(rp_reader *r, uint64_t from)
{
	st_err err;
	r->txn = NULL;
	int rc = st_begin(r->env, 1, &r->txn, &err);
	if (rc == 0)
		rc = jn_iter_index(&r->it, r->j, r->txn, from, r->to, rp_jn_prefix(r->o), &err);
	if (rc != 0) {
		fprintf(stderr, "bus-replay: %s\n", err.text);
		return -1;
	}
	r->it_open = 1;
	r->resume = from;
	r->txn_ns = rp_mono_ns();
	return 0;
}

static void
rp_end(rp_reader *r)
{
	if (r->it_open)
		jn_iter_close(&r->it);
	r->it_open = 0;
	st_abort(r->txn);
	r->txn = NULL;
}

/* Opens the journal read-only and positions at the start of the range. */
static int
rp_open(rp_reader *r, const rp_opts *o)
{
	st_err err;
	st_opts so = { .max_tables = 4, .flags = ST_RDONLY };
	memset(r, 0, sizeof *r);
	r->o = o;
	if (st_open(&r->env, o->journal, &so, &err) != 0 || jn_open(r->env, RP_TABLE, &r->j, &err) != 0) {
		fprintf(stderr, "bus-replay: cannot read journal %s: %s\n", o->journal, err.text);
		return -1;
	}
	if (st_begin(r->env, 1, &r->txn, &err) != 0 || jn_stats(r->j, r->txn, &r->stats, &err) != 0) {
		fprintf(stderr, "bus-replay: %s\n", err.text);
		return -1;
	}
	/* Freeze the end of the range now: a replay into the busd that writes this journal must
	 * not read back its own frames forever. */
	r->to = o->to < r->stats.last_index ? o->to : r->stats.last_index;
	uint64_t from = o->from;
	if (o->t0 > 0) {
		/* jn finds the first index at or after t0 by binary search; continue by index from
		 * there, so later renewals need no time seek. */
		jn_iter ti;
		if (jn_iter_time(&ti, r->j, r->txn, o->t0, UINT64_MAX, NULL, &err) != 0) {
			fprintf(stderr, "bus-replay: %s\n", err.text);
			return -1;
		}
		if (ti.start > from)
			from = ti.start;
		jn_iter_close(&ti);
	}
	st_abort(r->txn);
	r->txn = NULL;
	return rp_begin(r, from);
}

static void
rp_close(rp_reader *r)
{
	rp_end(r);
	if (jn_close(r->j, NULL) != 0)
		fprintf(stderr, "bus-replay: closing the journal failed\n"); /* read-only: nothing was lost */
	st_close(r->env);
}

/* Next frame of the range: 0, RP_END at the end, or -1 (reported; note that LMDB's own codes,
 * MDB_NOTFOUND included, are negative, hence a code of our own). rec is borrowed until the next
 * rp_next or rp_renew. */
static int
rp_next(rp_reader *r, jn_rec *rec)
{
	const rp_opts *o = r->o;
	st_err err;
	if (o->count && r->matched >= o->count)
		return RP_END;
	for (;;) {
		int rc = jn_next(&r->it, rec, &err);
		if (rc == MDB_NOTFOUND)
			return RP_END;
		if (rc != 0) {
			fprintf(stderr, "bus-replay: %s\n", err.text);
			return -1;
		}
		r->resume = rec->index + 1;
		if (rec->ts_ns >= o->t1)
			return RP_END; /* receive times never decrease with the index */
		if (rec->ts_ns < o->t0 || !rp_topic_ok(o, rec->frame, rec->len))
			continue;
		r->matched++;
		return 0;
	}
}

/* A long-lived read txn pins every page busd frees meanwhile and makes the journal file grow,
 * so a slow replay restarts its txn every second, continuing after the last frame read. */
static int
rp_renew(rp_reader *r)
{
	if (rp_mono_ns() - r->txn_ns < RP_RENEW_NS)
		return 0;
	rp_end(r);
	return rp_begin(r, r->resume);
}

/* ---- list, stats, dump ----------------------------------------------------------------------- */

static int
rp_stats(rp_reader *r)
{
	const jn_stats_t *s = &r->stats;
	char t0[40] = "-", t1[40] = "-";
	if (s->count) {
		rp_fmt_time(s->first_ns, t0);
		rp_fmt_time(s->last_ns, t1);
	}
	printf("journal  %s (table %s)\n", r->o->journal, RP_TABLE);
	printf("first    %" PRIu64 " %s\n", s->first_index, t0);
	printf("last     %" PRIu64 " %s\n", s->last_index, t1);
	printf("frames   %" PRIu64 "\n", s->count);
	printf("bytes    %" PRIu64 "\n", s->bytes);
	if (!r->o->has_range)
		return RP_EXIT_OK;
	uint64_t bytes = 0;
	jn_rec rec;
	int rc;
	while ((rc = rp_next(r, &rec)) == 0) {
		bytes += rec.len;
		if (rp_renew(r) != 0)
			return RP_EXIT_FAIL;
	}
	if (rc < 0)
		return RP_EXIT_FAIL;
	printf("matched  %" PRIu64 " frames, %" PRIu64 " bytes\n", r->matched, bytes);
	return r->matched ? RP_EXIT_OK : RP_EXIT_NONE;
}

static int
rp_dump_line(const jn_rec *rec)
{
	json_t *o = rp_dump_obj(rec);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (s == NULL) {
		fprintf(stderr, "bus-replay: index %" PRIu64 ": cannot render JSON (out of memory)\n", rec->index);
		return -1;
	}
	puts(s);
	free(s);
	return 0;
}

static int
rp_print(rp_reader *r)
{
	jn_rec rec;
	int rc;
	while ((rc = rp_next(r, &rec)) == 0) {
		if (r->o->cmd == RP_LIST)
			rp_list_line(stdout, &rec);
		else if (rp_dump_line(&rec) != 0)
			return RP_EXIT_FAIL;
		if (rp_renew(r) != 0)
			return RP_EXIT_FAIL;
	}
	if (rc < 0)
		return RP_EXIT_FAIL;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "bus-replay: writing output: %s\n", strerror(errno));
		return RP_EXIT_FAIL;
	}
	if (r->matched == 0) {
		fprintf(stderr, "bus-replay: no frames matched in %s\n", r->o->journal);
		return RP_EXIT_NONE;
	}
	return RP_EXIT_OK;
}

/* ---- publish ----------------------------------------------------------------------------------- */

static void
rp_on_signal(int sig)
{
	(void)sig;
	rp_stop = 1;
}

/* Sleeps until the monotonic time due_ns; returns early (-1) when a signal asks us to stop. */
static int
rp_sleep_until(uint64_t due_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(due_ns / 1000000000u), .tv_nsec = (long)(due_ns % 1000000000u) };
	while (!rp_stop) {
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != EINTR)
			return 0;
	}
	return -1;
}

/* The schedule is absolute (frame i is due at base + offset(i)), so sleep overshoot never adds up
 * into a lower rate. After a stall (a slow disk, a stopped process) the base moves forward instead
 * of sending the backlog at once, which would overrun the send queue. */
typedef struct {
	uint64_t mono, recv, index; /* when, which receive time and which frame the schedule starts at */
} rp_pacer;

static uint64_t
rp_due(const rp_opts *o, const rp_pacer *pc, uint64_t i, uint64_t recv_ns)
{
	if (o->rate > 0)
		return pc->mono + (uint64_t)((double)(i - pc->index) * 1e9 / o->rate);
	return pc->mono + (uint64_t)((double)(recv_ns - pc->recv) / o->speed);
}

static int
rp_publish(rp_reader *r)
{
	const rp_opts *o = r->o;
	char err[256];
	struct sigaction sa = { .sa_handler = rp_on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* tls+tcp:// URLs: the identity files every actor takes (BUS_TLS_CERT, BUS_TLS_KEY, BUS_TLS_CA). */
	if (bus_tls_set(getenv("BUS_TLS_CERT"), getenv("BUS_TLS_KEY"), getenv("BUS_TLS_CA"), err, sizeof err) != 0) {
		fprintf(stderr, "bus-replay: %s\n", err);
		return RP_EXIT_FAIL;
	}
	bus_pub *p = bus_pub_open(o->url, "bus-replay", err, sizeof err);
	if (p == NULL) {
		fprintf(stderr, "bus-replay: cannot publish to %s: %s\n", o->url, err);
		return RP_EXIT_FAIL;
	}
	if (bus_pub_wait(p, 1, o->wait_ms) != 0) {
		fprintf(stderr, "bus-replay: no busd at %s after %g s (is busd running? --wait-ms)\n", o->url,
		        o->wait_ms / 1000.0);
		bus_pub_close(p);
		return RP_EXIT_FAIL;
	}
	uint64_t sent = 0, errors = 0, start = 0, last = 0;
	rp_pacer pc = { 0 };
	jn_rec rec;
	int rc = 0;
	while (!rp_stop && (rc = rp_next(r, &rec)) == 0) {
		uint64_t now = rp_mono_ns();
		if (sent == 0) {
			start = now;
			pc = (rp_pacer){ now, rec.ts_ns, 0 };
		} else if (o->rate > 0 || o->speed > 0) {
			uint64_t due = rp_due(o, &pc, sent, rec.ts_ns);
			if (now > due + RP_CATCHUP_NS)
				pc = (rp_pacer){ now, rec.ts_ns, sent }; /* a stall: carry on from here */
			else
				rp_sleep_until(due);
		}
		if (rp_stop)
			break;
		if (bus_publish_raw(p, rec.frame, rec.len) != BUS_OK) {
			if (errors++ == 0)
				fprintf(stderr, "bus-replay: index %" PRIu64 ": send failed\n", rec.index);
		}
		sent++;
		bus_pub_pace(p, sent); /* pub0 never blocks nor says it dropped: wait while busd is behind */
		last = rp_mono_ns();
		if (rp_renew(r) != 0) {
			rc = -1;
			break;
		}
	}
	/* Closing drops what pub0 still queues: wait until busd took every frame (5 s at most, or
	 * --linger-ms when longer). */
	int drain_ms = o->linger_ms > BUS_PUB_FLUSH_MS ? o->linger_ms : BUS_PUB_FLUSH_MS;
	int64_t lost = sent > 0 ? bus_pub_drain(p, 0, drain_ms) : 0;
	if (lost > 0)
		fprintf(stderr, "bus-replay: %" PRId64 " frames not written to busd after %d ms: lost\n", lost,
		        drain_ms);
	bus_pub_close(p);

	double span = sent > 1 ? (double)(last - start) / 1e9 : 0;
	char want[64] = "unpaced";
	if (o->rate > 0)
		snprintf(want, sizeof want, "requested %.1f/s", o->rate);
	else if (o->speed > 0)
		snprintf(want, sizeof want, "speed x%g", o->speed);
	fprintf(stderr,
	        "bus-replay: sent %" PRIu64 " frames to %s in %.3f s (%.1f frames/s, %s), %" PRIu64 " send errors%s\n",
	        sent, o->url, span, span > 0 ? (double)(sent - 1) / span : 0.0, want, errors,
	        rp_stop ? ", interrupted" : "");
	if (rc < 0 || errors > 0 || lost > 0)
		return RP_EXIT_FAIL;
	if (rp_stop)
		return RP_EXIT_OK; /* interrupted on purpose: the summary above says how far it got */
	if (sent == 0) {
		fprintf(stderr, "bus-replay: no frames matched in %s\n", o->journal);
		return RP_EXIT_NONE;
	}
	return RP_EXIT_OK;
}

int
main(int argc, char **argv)
{
	rp_opts o;
	rp_reader r;
	int rc = rp_parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (rp_open(&r, &o) != 0) {
		rp_close(&r);
		return RP_EXIT_FAIL;
	}
	switch (o.cmd) {
	case RP_STATS:
		rc = rp_stats(&r);
		break;
	case RP_PUBLISH:
		rc = rp_publish(&r);
		break;
	default:
		rc = rp_print(&r);
		break;
	}
	rp_close(&r);
	return rc;
}
