/*
 * bus-tap - watch and inject oraclebus traffic, in the manner of mosquitto_sub / mosquitto_pub.
 *
 *   bus-tap [--url URL]... [--topic PREFIX]... [--count N] [--timeout SECONDS]
 *           [--format json|pretty|raw] [--trust SPEC] [--all] [--stats]
 *   bus-tap [--url URL]... --publish TOPIC [--type TYPE] (--json BODY | --hex BODY)
 *           [--origin NAME] [--key-file FILE] [--repeat N] [--interval MS]
 *   bus-tap --keygen
 *
 * Watching prints one line per frame: JSON (topic, envelope, body decoded through schemas/, the
 * view of bus/frame_json.h), a one-line human summary, or the raw frame in hex. A frame that does
 * not decode, or fails the trust check, is printed as an error line with its hex: never skipped
 * silently. No busd reachable within --connect-timeout (default 2 s) is said on stderr, naming the
 * URLs, and exits 3; a busd lost later is said too, and redialed.
 * Exit (the table every tool shares, base/rt_version.h): 0 --count frames arrived, --timeout passed
 * without --count, or interrupted; 1 --timeout passed before --count frames; 2 usage; 3 no busd
 * within the connect deadline, bus or publish error; 78 invalid environment.
 */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hex.h"
#include "base/rt_config.h"
#include "base/rt_version.h"
#include "bus/actor.h"
#include "bus/bus.h"
#include "bus/frame_json.h"
#include "bus/sig.h"
#include "schemas/schema.h"

enum {
	FMT_JSON,
	FMT_PRETTY,
	FMT_RAW
};

typedef struct {
	char urls[1024];
	const char *topics[32];
	int ntopics;
	long count;
	double timeout_s, connect_s;
	int format;
	const char *trust_spec;
	int keep_dups, stats;
	/* publishing */
	const char *publish_topic, *type, *json_body, *hex_body, *origin, *key_file, *id_hex;
	long repeat, interval_ms;
	int keygen;
} tap_opts;

static volatile sig_atomic_t tap_stop;

static void
tap_on_signal(int sig)
{
	(void)sig;
	tap_stop = 1;
}

#define TAP_SYNOPSIS                                                                                                   \
	"usage: bus-tap [--url URL]... [--topic PREFIX]... [--count N] [--timeout SECONDS]\n"                          \
	"               [--format json|pretty|raw] [--trust SPEC] [--all] [--stats] [--connect-timeout S]\n"           \
	"       bus-tap [--url URL]... --publish TOPIC [--type TYPE] (--json BODY | --hex BODY)\n"                     \
	"               [--origin NAME] [--key-file FILE] [--id HEX] [--repeat N] [--interval MS]\n"                   \
	"       bus-tap --keygen | --help | --version\n"

static void
tap_usage(FILE *f)
{
	fputs(TAP_SYNOPSIS
	      "Watching dials busd's egress (default $BUS_SUB_URL or tcp://127.0.0.1:7702); publishing dials\n"
	      "its ingress (default $BUS_PUB_URL or tcp://127.0.0.1:7701). --url may repeat or be a comma list.\n"
	      "--trust PREFIX=PUBHEX[,PUBHEX][;...] (default $BUS_TRUST) rejects unsigned or wrongly signed\n"
	      "frames on those topics. --all keeps duplicates from several busd. --stats prints per-stream\n"
	      "rates, gaps, duplicates and restarts on stderr at the end. The signing key for --publish is read\n"
	      "from --key-file or $BUS_SIGNING_KEY (hex); it is never printed.\n"
	      "--connect-timeout S (default 2): no busd reachable by then is an error (exit 3).\n"
	      "JSON: ids, keys and raw bodies as 0x-hex; integers beyond 2^53 (ts) as decimal strings.\n"
	      "Exit: 0 count reached, timeout without --count, or interrupted; 1 timeout before --count\n"
	      "frames; 2 usage; 3 no busd, bus or publish error; 78 invalid environment.\n",
	      f);
}

/* An unknown option or a bad value: what is wrong, the synopsis, exit 2 (stderr only). */
static int
tap_usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "bus-tap: %s%s%s\n" TAP_SYNOPSIS "Try 'bus-tap --help'.\n", what, arg ? " " : "",
	        arg ? arg : "");
	return RT_EXIT_USAGE;
}

/* The frame as the JSON every tool prints (bus/frame_json.h), plus this subscriber's gap count. */
static json_t *
tap_frame_json(const frame_view *f, uint64_t gap)
{
	json_t *j = json_object();
	if (j == NULL || frame_json_add(j, f) != 0) {
		json_decref(j);
		return NULL;
	}
	if (gap)
		json_object_set_new(j, "gap", frame_json_u64(gap));
	return j;
}

/* The pretty view leaves out what carries no information: zero numbers, empty strings, all-zero
 * hex (unset hashes and addresses), empty lists. The json view keeps everything. */
static int
tap_is_blank(json_t *v)
{
	const char *s = json_string_value(v);
	if (json_is_integer(v))
		return json_integer_value(v) == 0;
	if (json_is_array(v))
		return json_array_size(v) == 0;
	if (s == NULL)
		return 0;
	if (strcmp(s, "0") == 0 || *s == 0)
		return 1;
	if (strncmp(s, "0x", 2) == 0 && s[2] && strspn(s + 2, "0") == strlen(s + 2))
		return 1;
	return 0;
}

static void
tap_strip_blanks(json_t *obj)
{
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(obj, tmp, k, v)
	{
		if (tap_is_blank(v) || strcmp(k, "v") == 0)
			json_object_del(obj, k);
	}
}

static void
tap_print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (s == NULL) {
		fputs("bus-tap: cannot render a frame as JSON (out of memory)\n", stderr);
		return;
	}
	puts(s);
	free(s);
}

static void
tap_print(const tap_opts *o, const bus_msg *m, int rv)
{
	size_t len;
	const uint8_t *b = bus_msg_bytes(m, &len);
	if (o->format == FMT_RAW || rv == BUS_EDECODE) {
		char *hex = malloc(2 * len + 1);
		hex_encode(b, len, 0, hex);
		if (rv == BUS_OK) {
			puts(hex);
		} else {
			json_t *j = json_pack("{s:s,s:s}", "error", m->err, "hex", hex);
			tap_print_json(j);
			json_decref(j);
		}
		free(hex);
		return;
	}
	if (o->format == FMT_PRETTY) {
		char when[32];
		time_t t = (time_t)(m->f.ts_ns / 1000000000u);
		struct tm tm;
		strftime(when, sizeof when, "%H:%M:%S", gmtime_r(&t, &tm));
		json_t *j = tap_frame_json(&m->f, m->gap);
		json_t *body = j ? json_object_get(j, "body") : NULL;
		if (body)
			tap_strip_blanks(body);
		char *bs = body ? json_dumps(body, JSON_COMPACT) : strdup("(undecoded)");
		printf("%s.%03u %s%.*s %.*s#%llu %s%s%s\n", when, (unsigned)(m->f.ts_ns / 1000000u % 1000),
		       rv == BUS_EREJECT ? "REJECTED " : "", (int)m->f.topic_len, m->f.topic, (int)m->f.origin_len,
		       m->f.origin, (unsigned long long)m->f.seq, m->f.key ? "[signed] " : "", bs,
		       m->gap ? " (gap)" : "");
		free(bs);
		json_decref(j);
		return;
	}
	json_t *j = tap_frame_json(&m->f, m->gap);
	if (j && rv == BUS_EREJECT)
		json_object_set_new(j, "error", json_string(m->err));
	tap_print_json(j);
	json_decref(j);
}

static void
tap_stats(const bus_sub *s, double secs)
{
	bus_stream_stats st[256];
	size_t n = bus_sub_streams(s, st, 256);
	fprintf(stderr, "%-28s %-32s %9s %9s %6s %6s %8s\n", "origin", "topic", "frames", "msg/s", "gaps", "dups",
	        "restarts");
	for (size_t i = 0; i < n && i < 256; i++)
		fprintf(stderr, "%-28s %-32s %9llu %9.1f %6llu %6llu %8llu\n", st[i].origin, st[i].topic,
		        (unsigned long long)st[i].frames, secs > 0 ? st[i].frames / secs : 0.0,
		        (unsigned long long)st[i].gaps, (unsigned long long)st[i].duplicates,
		        (unsigned long long)st[i].restarts);
}

static double
tap_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
tap_nurls(const char *urls)
{
	int n = 1;
	for (const char *c = urls; *c; c++)
		n += *c == ',';
	return n;
}

/* Waits for the busd listed (up to --connect-timeout): none is an error the operator must see at
 * once (mosquitto_sub says "Connection refused"); some of several is worth a line, and the rest are
 * redialed. Returns 0 when at least one is connected. */
static int
tap_connect(bus_sub *s, const tap_opts *o)
{
	int want = tap_nurls(o->urls);
	bus_sub_wait(s, want, (int)(o->connect_s * 1000));
	int got = bus_sub_connected(s);
	if (got == 0) {
		fprintf(stderr, "bus-tap: no busd at %s after %g s\n", o->urls, o->connect_s);
		return -1;
	}
	if (got < want)
		fprintf(stderr, "bus-tap: %d of the %d busd at %s connected after %g s; redialing the others\n", got,
		        want, o->urls, o->connect_s);
	return 0;
}

static int
tap_watch(const tap_opts *o)
{
	char err[256];
	sig_trust *trust = sig_trust_parse(o->trust_spec, err, sizeof err);
	if (trust == NULL) {
		fprintf(stderr, "bus-tap: --trust: %s\n", err);
		return 2;
	}
	bus_sub *s = bus_sub_open(o->urls, err, sizeof err);
	if (s == NULL) {
		fprintf(stderr, "bus-tap: %s\n", err);
		sig_trust_free(trust);
		return RT_EXIT_UNAVAILABLE;
	}
	bus_sub_set_trust(s, trust);
	bus_sub_keep_duplicates(s, o->keep_dups);
	if (o->ntopics == 0)
		bus_sub_topic(s, "");
	for (int i = 0; i < o->ntopics; i++)
		bus_sub_topic(s, o->topics[i]);
	if (tap_connect(s, o) != 0) {
		bus_sub_close(s);
		sig_trust_free(trust);
		return RT_EXIT_UNAVAILABLE;
	}

	double start = tap_now();
	long got = 0;
	int rc = RT_EXIT_OK, up = 1;
	while (!tap_stop && (o->count <= 0 || got < o->count)) {
		int wait = 200;
		int now_up = bus_sub_connected(s) > 0;
		if (now_up != up)
			fprintf(stderr,
			        now_up ? "bus-tap: busd at %s reachable again\n"
			               : "bus-tap: lost every busd at %s; redialing (frames meanwhile are missed)\n",
			        o->urls);
		up = now_up;
		if (o->timeout_s > 0) {
			double left = o->timeout_s - (tap_now() - start);
			if (left <= 0) {
				/* a watch window without --count ends normally; a count not reached is "no result" */
				rc = o->count > 0 ? RT_EXIT_NORESULT : RT_EXIT_OK;
				if (o->count > 0)
					fprintf(stderr, "bus-tap: %ld of %ld frames after %g s\n", got, o->count,
					        o->timeout_s);
				break;
			}
			if (left * 1000 < wait)
				wait = (int)(left * 1000) + 1;
		}
		bus_msg m;
		int rv = bus_recv(s, &m, wait);
		if (rv == BUS_TIMEOUT)
			continue;
		if (rv == BUS_ECLOSED) {
			fprintf(stderr, "bus-tap: the bus socket closed\n");
			rc = RT_EXIT_UNAVAILABLE;
			break;
		}
		tap_print(o, &m, rv);
		fflush(stdout);
		bus_msg_free(&m);
		if (rv == BUS_OK)
			got++;
	}
	if (o->stats)
		tap_stats(s, tap_now() - start);
	bus_sub_close(s);
	sig_trust_free(trust);
	return rc;
}

/* The schema type of a topic: the longest known type that is a prefix of it, at a dot. */
static const char *
tap_type_of_topic(const char *topic)
{
	size_t n, best = 0;
	const sc_msgdef *const *all = sc_all(&n);
	const char *type = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *t = sc_type(all[i]);
		size_t tl = strlen(t);
		if (strncmp(topic, t, tl) == 0 && (topic[tl] == 0 || topic[tl] == '.') && tl > best) {
			best = tl;
			type = t;
		}
	}
	/* alert.<severity>.<kind> topics carry the "alert" type */
	return type;
}

static sig_key *
tap_load_key(const tap_opts *o, int *bad)
{
	char buf[256] = "";
	const char *hex = getenv("BUS_SIGNING_KEY");
	*bad = 0;
	if (o->key_file) {
		FILE *f = fopen(o->key_file, "r");
		if (f == NULL || fgets(buf, sizeof buf, f) == NULL) {
			fprintf(stderr, "bus-tap: cannot read key file %s\n", o->key_file);
			if (f)
				fclose(f);
			*bad = 1;
			return NULL;
		}
		fclose(f);
		buf[strcspn(buf, "\r\n ")] = 0;
		hex = buf;
	}
	if (hex == NULL || *hex == 0)
		return NULL;
	sig_key *k = sig_key_from_hex(hex);
	explicit_bzero(buf, sizeof buf);
	if (k == NULL) {
		fprintf(stderr, "bus-tap: the signing key is not 32 bytes of valid hex\n");
		*bad = 1;
	}
	return k;
}

/* The environment bus-tap reads, checked all at once like an actor's (exit RT_EXIT_CONFIG). The key
 * is only validated here (tap_load_key reads it again, or the --key-file). */
static const char *tap_env_pub, *tap_env_sub, *tap_env_trust, *tap_tls_cert, *tap_tls_key, *tap_tls_ca;
static uint8_t tap_env_key[32];
static const rt_opt tap_env[] = {
	{ "BUS_PUB_URL", RT_BUS_URL, NULL, "busd ingress URLs (--publish)", &tap_env_pub, 0, 0, 0, 0 },
	{ "BUS_SUB_URL", RT_BUS_URL, NULL, "busd egress URLs", &tap_env_sub, 0, 0, 0, 0 },
	{ "BUS_TRUST", RT_STR, NULL, "trusted keys per topic prefix", &tap_env_trust, 0, 0, 0, 0 },
	RT_CHECK_ROW("BUS_TRUST", act_check_trust),
	{ "BUS_SIGNING_KEY", RT_KEY, NULL, "BIP-340 key signing --publish frames", tap_env_key, 0, 0, 32, RT_SECRET },
	ACT_TLS_OPTS(tap_tls_cert, tap_tls_key, tap_tls_ca),
};

static int
tap_check_env(void)
{
	char err[2048];
	int rc = rt_config_load(tap_env, sizeof tap_env / sizeof tap_env[0], err, sizeof err);
	explicit_bzero(tap_env_key, sizeof tap_env_key);
	/* tls+tcp:// URLs: the same identity files as every actor (checked above). */
	if (rc == 0 && bus_tls_set(tap_tls_cert, tap_tls_key, tap_tls_ca, err, sizeof err) != 0)
		rc = -1;
	if (rc == 0)
		return 0;
	for (char *l = strtok(err, "\n"); l; l = strtok(NULL, "\n"))
		fprintf(stderr, "bus-tap: %s\n", l);
	return -1;
}

static int
tap_publish(const tap_opts *o)
{
	char err[256];
	static uint8_t body[FRAME_BODY_MAX];
	size_t blen = 0;
	const char *type = o->type ? o->type : tap_type_of_topic(o->publish_topic);
	if (type == NULL) {
		fprintf(stderr, "bus-tap: no message type for topic %s: give --type\n", o->publish_topic);
		return 2;
	}
	if (o->json_body) {
		const sc_msgdef *d = sc_lookup(type);
		json_error_t je;
		json_t *j = json_loads(o->json_body, 0, &je);
		if (j == NULL) {
			fprintf(stderr, "bus-tap: --json: %s at column %d\n", je.text, je.column);
			return 2;
		}
		if (d == NULL) {
			fprintf(stderr, "bus-tap: unknown type %s for --json (use --hex for raw bodies)\n", type);
			json_decref(j);
			return 2;
		}
		void *rec = calloc(1, sc_size(d));
		sc_err e;
		int bad = sc_from_json(d, j, rec, &e) || sc_encode(d, rec, body, sizeof body, &blen, &e);
		free(rec);
		json_decref(j);
		if (bad) {
			fprintf(stderr, "bus-tap: %s body: %s\n", type, e.text);
			return 2;
		}
	} else if (o->hex_body) {
		if (hex_decode(o->hex_body, strlen(o->hex_body), HEX_PREFIX_OPTIONAL, body, sizeof body, &blen, NULL) !=
		    HEX_OK) {
			fprintf(stderr, "bus-tap: --hex: not valid hex\n");
			return 2;
		}
	} else {
		fprintf(stderr, "bus-tap: --publish needs --json BODY or --hex BODY\n");
		return 2;
	}
	uint8_t id[16];
	size_t idlen = 0;
	if (o->id_hex && (hex_decode_exact(o->id_hex, strlen(o->id_hex), id, 16) != HEX_OK)) {
		fprintf(stderr, "bus-tap: --id: want 16 bytes of hex\n");
		return 2;
	}
	if (o->id_hex)
		idlen = 16;
	int badkey;
	sig_key *k = tap_load_key(o, &badkey);
	if (badkey)
		return RT_EXIT_CONFIG;
	char origin[80];
	snprintf(origin, sizeof origin, "bus-tap-%d", (int)getpid());
	bus_pub *p = bus_pub_open(o->urls, o->origin ? o->origin : origin, err, sizeof err);
	if (p == NULL) {
		fprintf(stderr, "bus-tap: %s\n", err);
		sig_key_free(k);
		return RT_EXIT_UNAVAILABLE;
	}
	bus_pub_set_key(p, k);
	/* pub/sub drops what is sent before the connection is up: wait for every busd listed first (a
	 * frame sent while only one of two replicas is connected reaches only that one). */
	int want = tap_nurls(o->urls);
	if (bus_pub_wait(p, want, (int)(o->connect_s * 1000)) != 0) {
		int got = bus_pub_connected(p);
		if (got == 0)
			fprintf(stderr, "bus-tap: no busd at %s after %g s\n", o->urls, o->connect_s);
		else
			fprintf(stderr, "bus-tap: only %d of the %d busd at %s after %g s: not publishing to some\n",
			        got, want, o->urls, o->connect_s);
		bus_pub_close(p);
		sig_key_free(k);
		return RT_EXIT_UNAVAILABLE;
	}
	int rc = 0;
	for (long i = 0; i < (o->repeat > 0 ? o->repeat : 1) && !tap_stop; i++) {
		uint8_t out_id[16];
		char idhex[35];
		if (bus_publish(p, o->publish_topic, type, idlen ? id : NULL, body, blen, out_id) != BUS_OK) {
			fprintf(stderr, "bus-tap: publish to %s failed\n", o->publish_topic);
			rc = RT_EXIT_UNAVAILABLE;
			break;
		}
		hex_encode(out_id, 16, 1, idhex); /* 0x-hex, as every JSON view spells ids */
		fprintf(stderr, "published %s type=%s id=%s seq=%llu%s\n", o->publish_topic, type, idhex,
		        (unsigned long long)bus_pub_seq(p, o->publish_topic), k ? " signed" : "");
		if (o->interval_ms > 0 && i + 1 < o->repeat)
			usleep((useconds_t)o->interval_ms * 1000);
		else if (o->interval_ms == 0)
			bus_pub_pace(p, (uint64_t)i + 1); /* a burst: pub0 never blocks nor says it dropped */
	}
	/* "published" above means queued: a frame busd never read is not out, so say so and fail. */
	int64_t left = bus_pub_drain(p, 0, BUS_PUB_FLUSH_MS);
	if (left > 0) {
		fprintf(stderr, "bus-tap: %lld frames not written to busd after %d s: lost\n", (long long)left,
		        BUS_PUB_FLUSH_MS / 1000);
		rc = RT_EXIT_UNAVAILABLE;
	}
	bus_pub_close(p);
	sig_key_free(k);
	return rc;
}

static int
tap_keygen(void)
{
	sig_key *k = sig_key_generate();
	char sec[65], pub[65];
	if (k == NULL)
		return 3;
	sig_key_secret_hex(k, sec);
	hex_encode(sig_key_pub(k), 32, 0, pub);
	printf("secret %s\npublic %s\n", sec, pub);
	explicit_bzero(sec, sizeof sec);
	sig_key_free(k);
	return 0;
}

static void
tap_add_url(tap_opts *o, const char *u)
{
	size_t n = strlen(o->urls);
	snprintf(o->urls + n, sizeof o->urls - n, "%s%s", n ? "," : "", u);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, 0, 'u' },
		{ "topic", required_argument, 0, 't' },
		{ "count", required_argument, 0, 'C' },
		{ "timeout", required_argument, 0, 'W' },
		{ "format", required_argument, 0, 'F' },
		{ "trust", required_argument, 0, 'T' },
		{ "all", no_argument, 0, 'a' },
		{ "stats", no_argument, 0, 's' },
		{ "publish", required_argument, 0, 'p' },
		{ "type", required_argument, 0, 'y' },
		{ "json", required_argument, 0, 'j' },
		{ "hex", required_argument, 0, 'x' },
		{ "origin", required_argument, 0, 'o' },
		{ "key-file", required_argument, 0, 'k' },
		{ "id", required_argument, 0, 'i' },
		{ "repeat", required_argument, 0, 'r' },
		{ "interval", required_argument, 0, 'I' },
		{ "keygen", no_argument, 0, 'g' },
		{ "connect-timeout", required_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	tap_opts o = { .format = FMT_JSON, .trust_spec = getenv("BUS_TRUST"), .connect_s = 2 };
	int c;
	char *end;
	opterr = 0; /* our own message, naming the option, then the synopsis */
	while ((c = getopt_long(argc, argv, "u:t:C:W:F:T:asp:y:j:x:o:k:i:r:I:c:ghV", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			tap_add_url(&o, optarg);
			break;
		case 't':
			if (o.ntopics == 32)
				return tap_usage_error("at most 32 --topic; one too many:", optarg);
			o.topics[o.ntopics++] = optarg;
			break;
		case 'C':
			o.count = strtol(optarg, &end, 10);
			if (*end || end == optarg || o.count < 0)
				return tap_usage_error("--count wants a number of frames, not", optarg);
			break;
		case 'W':
		case 'c': {
			double v = strtod(optarg, &end);
			if (*end || end == optarg || !(v >= 0) || v > 1e9)
				return tap_usage_error(c == 'W' ? "--timeout wants seconds, not"
				                                : "--connect-timeout wants seconds, not",
				                       optarg);
			*(c == 'W' ? &o.timeout_s : &o.connect_s) = v;
			break;
		}
		case 'F':
			if (strcmp(optarg, "json") == 0)
				o.format = FMT_JSON;
			else if (strcmp(optarg, "pretty") == 0)
				o.format = FMT_PRETTY;
			else if (strcmp(optarg, "raw") == 0)
				o.format = FMT_RAW;
			else
				return tap_usage_error("--format is json, pretty or raw, not", optarg);
			break;
		case 'T':
			o.trust_spec = optarg;
			break;
		case 'a':
			o.keep_dups = 1;
			break;
		case 's':
			o.stats = 1;
			break;
		case 'p':
			o.publish_topic = optarg;
			break;
		case 'y':
			o.type = optarg;
			break;
		case 'j':
			o.json_body = optarg;
			break;
		case 'x':
			o.hex_body = optarg;
			break;
		case 'o':
			o.origin = optarg;
			break;
		case 'k':
			o.key_file = optarg;
			break;
		case 'i':
			o.id_hex = optarg;
			break;
		case 'r':
		case 'I': {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0)
				return tap_usage_error(c == 'r' ? "--repeat wants a count, not"
				                                : "--interval wants milliseconds, not",
				                       optarg);
			*(c == 'r' ? &o.repeat : &o.interval_ms) = v;
			break;
		}
		case 'g':
			o.keygen = 1;
			break;
		case 'h':
			tap_usage(stdout);
			return RT_EXIT_OK;
		case 'V':
			rt_version_print("bus-tap", stdout);
			return RT_EXIT_OK;
		default:
			return tap_usage_error("unknown option or missing value:", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return tap_usage_error("unexpected argument", argv[optind]);
	if (o.keygen)
		return tap_keygen();
	if (tap_check_env() != 0)
		return RT_EXIT_CONFIG;
	if (o.urls[0] == 0) {
		const char *env = getenv(o.publish_topic ? "BUS_PUB_URL" : "BUS_SUB_URL");
		tap_add_url(&o, env && *env ? env : o.publish_topic ? "tcp://127.0.0.1:7701" : "tcp://127.0.0.1:7702");
	}
	struct sigaction sa = { .sa_handler = tap_on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return o.publish_topic ? tap_publish(&o) : tap_watch(&o);
}
