/*
 * actor.h - the bus wiring every actor shares: standard environment options, one publisher and
 * one subscriber opened from them, typed publish and decode through schemas/, and alerts.
 *
 * An actor's main.c declares its option table as
 *
 *     static act_bus_cfg busc;
 *     static const rt_opt opts[] = { ACT_BUS_OPTS(busc), { "MY_VAR", ... }, ... };
 *
 * (ACT_BUS_OPTS_SIGNED when the actor must sign), calls rt_init(...), then act_open(&busc, ...)
 * and loops on act_recv / act_decode / act_publish. Bad frames and bodies are counted and logged here, once, so actors only see
 * messages that decoded (actor_bad_messages_total{type,why}; type is a known message type or
 * "unknown", never a peer's text). Rejected frames raise one forged_message alert per trust rule,
 * at most once a minute with the count since the last, resolved after five quiet minutes.
 *
 * Ownership: act_open returns an act_bus the caller frees with act_close; the signing key, when
 * configured, is copied into locked non-dumpable memory and the configuration buffer is wiped.
 * Threads: one thread uses an act_bus at a time.
 */
#ifndef OB_BUS_ACTOR_H
#define OB_BUS_ACTOR_H

#include <stddef.h>
#include <stdint.h>

#include "bus/bus.h"
#include "base/rt_config.h"
#include "base/rt_metrics.h"
#include "schemas/messages.h"
#include "schemas/schema.h"

typedef struct act_bus_cfg {
	const char *pub_urls; /* BUS_PUB_URL: busd ingress list */
	const char *sub_urls; /* BUS_SUB_URL: busd egress list */
	const char *trust;    /* BUS_TRUST: PREFIX=PUBHEX[,PUBHEX];... */
	uint8_t key[32];      /* BUS_SIGNING_KEY (secret, wiped after act_open) */
	int have_key;
	uint64_t max_streams; /* BUS_MAX_STREAMS: (origin, topic) streams tracked at most */
	const char *keys_dir; /* BUS_KEYS_DIR: <actor>.key and trust, as tools/bus-keys.sh writes them */
	char *trust_mem;      /* BUS_TRUST read from BUS_KEYS_DIR/trust (owned; lives until exit) */
	const char *tls_cert; /* BUS_TLS_CERT: PEM certificate (chain) for tls+tcp:// */
	const char *tls_key;  /* BUS_TLS_KEY: PEM private key file (a mounted Secret) */
	const char *tls_ca;   /* BUS_TLS_CA: PEM CA bundle peers must chain to */
} act_bus_cfg;

/* The TLS rows, shared by every actor, busd, bus-tap and bus-replay: file paths, checked together
 * (all three or none, readable, the key matching the certificate) by act_check_tls. */
#define ACT_TLS_OPTS(cert, key, ca)                                                                                    \
	{ "BUS_TLS_CERT",                                                                                              \
	  RT_STR,                                                                                                      \
	  "",                                                                                                          \
	  "PEM certificate (chain) this process shows on tls+tcp:// bus URLs",                                         \
	  &(cert),                                                                                                     \
	  0,                                                                                                           \
	  0,                                                                                                           \
	  0,                                                                                                           \
	  0 },                                                                                                         \
	        { "BUS_TLS_KEY",                                                                                       \
		  RT_STR,                                                                                              \
		  "",                                                                                                  \
		  "PEM private key file of BUS_TLS_CERT (mount it from a Secret)",                                     \
		  &(key),                                                                                              \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0 },                                                                                                 \
	        { "BUS_TLS_CA",                                                                                        \
		  RT_STR,                                                                                              \
		  "",                                                                                                  \
		  "PEM CA bundle the peer's certificate must chain to (tls+tcp:// both ways)",                         \
		  &(ca),                                                                                               \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0 },                                                                                                 \
	        RT_CHECK_ROW("", act_check_tls)

#define ACT_BUS_OPTS_KEY(c, key_help, key_flags)                                                                       \
	{ "BUS_PUB_URL",                                                                                               \
	  RT_BUS_URL,                                                                                                  \
	  "tcp://127.0.0.1:7701",                                                                                      \
	  "busd ingress URLs to publish to (comma list)",                                                              \
	  &(c).pub_urls,                                                                                               \
	  0,                                                                                                           \
	  0,                                                                                                           \
	  0,                                                                                                           \
	  0 },                                                                                                         \
	        { "BUS_SUB_URL",                                                                                       \
		  RT_BUS_URL,                                                                                          \
		  "tcp://127.0.0.1:7702",                                                                              \
		  "busd egress URLs to subscribe to (comma list)",                                                     \
		  &(c).sub_urls,                                                                                       \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0 },                                                                                                 \
	        { "BUS_TRUST",                                                                                         \
		  RT_STR,                                                                                              \
		  "",                                                                                                  \
		  "trusted publisher keys per topic prefix: PREFIX=PUBHEX[,PUBHEX];...",                               \
		  &(c).trust,                                                                                          \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0 },                                                                                                 \
	        RT_CHECK_ROW("BUS_TRUST", act_check_trust),                                                            \
	        { "BUS_SIGNING_KEY", RT_KEY, NULL, key_help, (c).key, 0, 0, 32, RT_SECRET | RT_SCRUB },                \
	        { "BUS_KEYS_DIR",                                                                                      \
		  RT_STR,                                                                                              \
		  "",                                                                                                  \
		  "directory made once per deployment by tools/bus-keys.sh: this actor's key "                         \
		  "<actor>.key (mode 0600) when BUS_SIGNING_KEY is unset, and BUS_TRUST from its file trust when "     \
		  "BUS_TRUST is unset",                                                                                \
		  &(c).keys_dir,                                                                                       \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0,                                                                                                   \
		  0 },                                                                                                 \
	        RT_CHECK_ROW("BUS_KEYS_DIR", (key_flags) ? act_check_keys_signed : act_check_keys),                    \
	        { "BUS_MAX_STREAMS",                                                                                   \
		  RT_U64,                                                                                              \
		  "4096",                                                                                              \
		  "(origin, topic) streams whose sequence is tracked; past it the "                                    \
		  "least recently heard is forgotten (bus_rx_streams_evicted_total)",                                  \
		  &(c).max_streams,                                                                                    \
		  16,                                                                                                  \
		  1000000,                                                                                             \
		  0,                                                                                                   \
		  0 },                                                                                                 \
	        ACT_TLS_OPTS((c).tls_cert, (c).tls_key, (c).tls_ca)

/* The bus options; BUS_SIGNING_KEY optional (unset = unsigned frames). */
#define ACT_BUS_OPTS(c) ACT_BUS_OPTS_KEY(c, "BIP-340 secret key (hex) signing this actor's frames; unset = unsigned", 0)
/* The same for an actor whose frames subscribers only take signed (the gate: the signer trusts
 * only its key for price.update.): it refuses to start without a key (BUS_SIGNING_KEY, or
 * <actor>.key in BUS_KEYS_DIR). */
#define ACT_BUS_OPTS_SIGNED(c)                                                                                         \
	ACT_BUS_OPTS_KEY(c,                                                                                            \
	                 "BIP-340 secret key (hex) signing this actor's frames (its readers trust only signed ones)",  \
	                 RT_REQUIRED)

/* Check row of the TLS options: reads BUS_TLS_CERT, BUS_TLS_KEY, BUS_TLS_CA from the environment
 * and loads them as bus_tls_set would (files, PEM, key matching the certificate). */
void act_check_tls(const rt_opt *o, const char *text, rt_cfg_errs *e);

/* Check row of BUS_TRUST: the spec parses (the same parser act_open uses). */
void act_check_trust(const rt_opt *o, const char *text, rt_cfg_errs *e);
/* Check rows of BUS_KEYS_DIR: fill an unset BUS_SIGNING_KEY from <dir>/<actor>.key (mode 0600 or
 * stricter) and an unset BUS_TRUST from <dir>/trust; the _signed form also requires a key (from
 * either place). The key file's content never appears in an error. */
void act_check_keys(const rt_opt *o, const char *text, rt_cfg_errs *e);
void act_check_keys_signed(const rt_opt *o, const char *text, rt_cfg_errs *e);

typedef struct act_bus act_bus;

enum {
	ACT_PUB = 1,
	ACT_SUB = 2
};

/* Opens what `what` asks for (ACT_PUB | ACT_SUB); the origin is rt_instance(). Subscribes to each
 * prefix of topics (NULL-terminated). NULL with err filled on a bad configuration. Dialing is
 * asynchronous (busd need not be up); during the start-up (base/rt_main.h) it registers a readiness
 * gate, so /health stays 503 "starting: waiting for busd (...)" until a busd connection is up on each
 * side opened; act_close removes it. */
act_bus *act_open(act_bus_cfg *c, int what, const char *const *topics, char *err, size_t errlen);
void act_close(act_bus *a);
bus_pub *act_pub(act_bus *a);
bus_sub *act_sub(act_bus *a);

/* Encodes rec with d and publishes it on topic. id: NULL for a fresh one. BUS_OK or an error
 * (counted and logged). */
OB_MUST_CHECK int act_publish(act_bus *a, const char *topic, const sc_msgdef *d, const void *rec, const uint8_t *id,
                              uint8_t id_out[16]);

/* Receives the next accepted frame (BUS_OK) or BUS_TIMEOUT / BUS_ECLOSED. Malformed and rejected
 * frames are counted, logged and skipped here; rejected (forged) frames also raise a
 * forged_message alert keyed by the trust rule (rate-limited, see above). On BUS_OK the caller frees m with bus_msg_free. */
int act_recv(act_bus *a, bus_msg *m, int timeout_ms);

/* Decodes m's body as d into rec (sc_size(d) bytes). 0, or -1 when the envelope type is not d's
 * or the body is invalid (counted and logged with the field named). */
int act_decode(const bus_msg *m, const sc_msgdef *d, void *rec);

/* 1 when a's publisher has a busd connection (or a has no publisher). NNG pub/sub drops a frame
 * published with none, silently (act_publish still says BUS_OK): at the start (dialing is
 * asynchronous) and while busd is away. A message published once and waited for (a status, a
 * result) must wait for this, or stay queued until it holds (ccip-tail's queue, the submitter's
 * sub_heard); what an outbox re-publishes or a timer repeats needs nothing. */
int act_pub_up(const act_bus *a);

/* Publishes an alert on alert.<severity>.<kind>. labels: NULL-terminated key, value pairs.
 * Alerts are published once per state change (firing, resolved), so one made while the publisher
 * has no busd connection (act_pub_up) is not sent but kept here (at most 64; past that the oldest
 * is lost) and sent, in order and with its own times, by the next act_alert, act_publish,
 * act_recv or act_alert_flush on a once a connection is up; BUS_OK then means kept. a owns the
 * copies; act_close flushes what it can and counts the rest lost.
 * Unlike the other publishes it may be called without looking at the result: a failure is
 * logged and counted here (actor_alerts_lost_total), and there is nothing else an actor can do
 * about an alert that cannot be sent (the condition is also in its logs, metrics and health). */
int act_alert(act_bus *a, int severity, int status, const char *kind, const char *dedupe_key, const char *summary,
              const char *const *labels);
/* Sends the alerts act_alert kept while busd was away, if a connection is up now. An actor that may
 * go a while without another act_alert, act_publish or act_recv on a (a publish-only handle, a loop
 * that publishes nothing while its source is down) calls it from its periodic work. 1 when nothing
 * waits and the publisher is connected. Same thread as a's other calls. */
int act_alert_flush(act_bus *a);

/* Publishes an already encoded body (arg: the act_bus; id NULL = a fresh one), the callback shape of
 * store/tokreq.h's tq_pub_fn. A failure is logged with the topic and not returned: the caller's
 * outbox (or its upstream, which re-sends until answered) makes up for a lost frame. */
void act_publish_body(void *arg, const char *topic, const char *type, const uint8_t *id, const uint8_t *body,
                      size_t len);

/* Every store result of a batch ends here (rv: a base/err.h code, 0 = stored): a failure is counted
 * in store_errors, logged as what with its code's text and class and err as detail, and /health shows
 * "store" until a batch is stored again. The caller says in what why nothing of the batch is lost. */
void act_store_result(rt_metric *store_errors, int rv, const char *what, const char *err);

/* ---- the batching loop, written once -------------------------------------------------------- */

#define ACT_MAX_TICKS 8

/* A job of act_run, in table order after each receive: fn(ctx) every every_ns (monotonic clock;
 * 0 = every round: committing the batch, the round's work); at_start: also in the first round
 * (else the first run is every_ns after the start). ctx NULL = the loop's. */
typedef struct {
	uint64_t every_ns;
	int at_start;
	void (*fn)(void *ctx);
	void *ctx;
} act_tick;

/* The loop of an actor that takes its messages in batches, one LMDB commit per batch (the token
 * backends): on_frame adds an accepted frame to the caller's batch (act_run frees the frame
 * afterwards), *n is the batch's size, and draining stops when it reaches batch. */
typedef struct {
	int recv_ms; /* wait for a round's first frame: no longer than the shortest tick */
	void (*on_frame)(void *ctx, const bus_msg *m); /* with the loop's ctx */
	const size_t *n;
	size_t batch;
	const act_tick *ticks;
	size_t nticks; /* at most ACT_MAX_TICKS are run */
	void *ctx;
} act_loop;

/* Runs l until rt_stopping() or the bus closes: waits up to recv_ms for a frame, drains what is
 * queued (without waiting) until the batch is full, then runs every due tick. Returns 0 when asked
 * to stop, -1 when the bus closed; either way frames taken since the last round are the caller's
 * to commit. */
int act_run(act_bus *a, const act_loop *l);

#endif
