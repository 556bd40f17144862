/*
 * signer - the only holder of PRIVATE_KEY. Turns trusted price.update and tx.request messages
 * into signed transactions (tx.signed, through an LMDB outbox until the submitter's tx.ack), with
 * durable nonces, a policy (policy.h) and fee bumps on request. See README.md beside this file.
 *
 * This file is the process: configuration, the key, the bus loop that batches messages into
 * sg_process (signer.h: one LMDB commit per batch, publish after commit), metrics, health, alerts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "actors/signer/lease.h"
#include "actors/signer/signer.h"
#include "chain/keystore.h"
#include "chain/rsign.h"
#include "bus/actor.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "base/hex.h"

/* ---- configuration -------------------------------------------------------------------------- */

static act_bus_cfg busc;
static uint8_t cfg_env_key[32]; /* wiped right after it is copied into secret memory */
static const char *cfg_key_file, *cfg_state_dir, *cfg_update_sig, *cfg_tx_type, *cfg_gas_price;
static const char *cfg_aggregator; /* AGGREGATOR_ADDRESS: the seed's name for the one contract */
static const char *cfg_feeds_file, *cfg_max_gas_price, *cfg_max_fee, *cfg_min_answer, *cfg_max_answer;
static uint64_t cfg_chain_id, cfg_gas_limit, cfg_max_gas_limit, cfg_bump_ppm, cfg_max_change_ppm;
static uint64_t cfg_batch, cfg_grow, cfg_retry_ms, cfg_retry_max_ms, cfg_gap_grace_ms, cfg_dedupe_ttl_ms;
static bool cfg_allow_empty;
static const char *cfg_ks_file, *cfg_ks_pw_file, *cfg_ks_pw, *cfg_rs_url, *cfg_rs_method;
static uint8_t cfg_rs_addr[20];
static uint64_t cfg_rs_timeout_ms, cfg_lease_ms, cfg_lease_ttl_ms;
static rt_strlist cfg_contracts, cfg_selectors, cfg_feeds;

/* What the configuration pass builds (sm_check): the key in secret memory, the policy, the call. */
static uint8_t *sm_key;
static sgp_policy sm_pol;
static sgc_call sm_call;
static sg_cfg sm_cfg;
static int sm_trust_request;
static rt_check_fn sm_check, sm_check_feeds;

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "PRIVATE_KEY", RT_KEY, NULL, "secp256k1 key (hex) signing the transactions; or PRIVATE_KEY_FILE", cfg_env_key,
	  0, 0, 32, RT_SECRET | RT_SCRUB },
	{ "PRIVATE_KEY_FILE", RT_STR, "", "file holding the key in hex; must be mode 0600 or stricter", &cfg_key_file,
	  0, 0, 0, 0 },
	{ "KEYSTORE_FILE", RT_STR, "",
	  "encrypted Web3 Secret Storage v3 JSON keystore (geth, Besu, cast wallet new, "
	  "ethers) holding the key; mode 0600 or stricter",
	  &cfg_ks_file, 0, 0, 0, 0 },
	{ "KEYSTORE_PASSWORD_FILE", RT_STR, "",
	  "file whose first line is KEYSTORE_FILE's password; mode 0600 or "
	  "stricter",
	  &cfg_ks_pw_file, 0, 0, 0, 0 },
	{ "KEYSTORE_PASSWORD", RT_STR, NULL,
	  "KEYSTORE_FILE's password (prefer KEYSTORE_PASSWORD_FILE); wiped from the "
	  "environment once read",
	  &cfg_ks_pw, 0, 0, 0, RT_SECRET },
	{ "REMOTE_SIGNER_URL", RT_HTTP_URL, NULL,
	  "remote signer (Web3Signer, Clef, ...) signing over JSON-RPC instead "
	  "of a local key",
	  &cfg_rs_url, 0, 0, 1, 0 },
	{ "REMOTE_SIGNER_ADDRESS", RT_ADDR, NULL,
	  "the account the remote signer signs for (required with "
	  "REMOTE_SIGNER_URL)",
	  cfg_rs_addr, 0, 0, 0, 0 },
	RT_CHECK_ROW("REMOTE_SIGNER_ADDRESS", hex_addr_opt_check),
	{ "REMOTE_SIGNER_METHOD", RT_STR, "eth_signTransaction",
	  "eth_signTransaction (Web3Signer, geth, anvil) or "
	  "account_signTransaction (Clef)",
	  &cfg_rs_method, 0, 0, 0, 0 },
	{ "REMOTE_SIGNER_TIMEOUT", RT_DURATION, "5s", "longest wait for one remote signature", &cfg_rs_timeout_ms, 100,
	  120000, 0, 0 },
	{ "LEASE_INTERVAL", RT_DURATION, "2s", "how often this signer publishes its signer.lease", &cfg_lease_ms, 100,
	  60000, 0, 0 },
	{ "LEASE_TTL", RT_DURATION, "6s",
	  "a signer.lease is live this long after it is heard; also the listening time "
	  "before signing at start (at least 2 x LEASE_INTERVAL)",
	  &cfg_lease_ttl_ms, 200, 600000, 0, 0 },
	{ "STATE_DIR", RT_STR, "data/signer", "LMDB directory: nonces, signed txs, outbox, dedupe", &cfg_state_dir, 0,
	  0, 0, 0 },
	{ "CHAIN_ID", RT_U64, "138", "chain id signed into every transaction (EIP-155)", &cfg_chain_id, 1, INT64_MAX, 0,
	  0 },
	{ "UPDATE_SIGNATURE", RT_STR, "updateAnswer(int256)",
	  "update call: updateAnswer(int256), updateAnswer(uint256) or submit(uint256,int256)", &cfg_update_sig, 0, 0,
	  0, 0 },
	{ "TX_TYPE", RT_STR, "legacy", "legacy (EIP-155) or eip1559", &cfg_tx_type, 0, 0, 0, 0 },
	{ "GAS_PRICE", RT_STR, "auto",
	  "legacy gas price: auto = the chain's (the submitter's gas.quote), or a fixed "
	  "price in wei (0 is valid on Besu networks without a base fee)",
	  &cfg_gas_price, 0, 0, 0, 0 },
	{ "GAS_LIMIT", RT_U64, "500000",
	  "gas limit of update calls whose price.update carries none, and of "
	  "tx.requests giving 0 (FluxAggregator's first submit of a round needs 207292)",
	  &cfg_gas_limit, 21000, 30000000, 0, 0 },
	{ "MAX_GAS_LIMIT", RT_U64, "2000000",
	  "largest gas limit a price.update (the gate's estimate) or tx.request "
	  "may ask for: refused above",
	  &cfg_max_gas_limit, 21000, 30000000, 0, 0 },
	{ "MAX_GAS_PRICE", RT_STR, "1000000000000", "legacy cap in wei: refuse above", &cfg_max_gas_price, 0, 0, 0, 0 },
	{ "MAX_FEE_PER_GAS", RT_STR, "1000000000000", "eip1559 cap in wei (max fee and tip): refuse above",
	  &cfg_max_fee, 0, 0, 0, 0 },
	{ "BUMP_PERCENT", RT_PPM, "12.5", "least fee raise of a replacement (tx.bump), percent", &cfg_bump_ppm, 0,
	  100000000, 0, 0 },
	{ "ALLOWED_CONTRACTS", RT_LIST, NULL,
	  "contracts the signer may call (comma list of addresses); unset = "
	  "AGGREGATOR_ADDRESS",
	  &cfg_contracts, 0, 0, SGP_MAX_CONTRACTS, 0 },
	{ "AGGREGATOR_ADDRESS", RT_STR, NULL,
	  "the seed's aggregator contract: the one allowed contract when "
	  "ALLOWED_CONTRACTS is unset",
	  &cfg_aggregator, 0, 0, 0, 0 },
	{ "ALLOWED_SELECTORS", RT_LIST, NULL, "tx.request selectors: 0x12345678 or signatures (comma list)",
	  &cfg_selectors, 0, 0, SGP_MAX_SELECTORS, 0 },
	{ "FEEDS", RT_LIST, NULL,
	  "feeds this signer signs (comma list); empty = every price.update (one key per "
	  "feed shard when several signer/submitter pairs share the bus)",
	  &cfg_feeds, 0, 0, SGP_MAX_FEEDS, 0 },
	{ "FEEDS_FILE", RT_STR, "", "JSON list of feeds: feed, aggregator, min_answer, max_answer, max_change",
	  &cfg_feeds_file, 0, 0, 0, 0 },
	{ "MIN_ANSWER", RT_STR, "", "smallest answer signed (exact decimal, e.g. 0.01); empty = none", &cfg_min_answer,
	  0, 0, 0, 0 },
	{ "MAX_ANSWER", RT_STR, "", "largest answer signed (exact decimal); empty = none", &cfg_max_answer, 0, 0, 0,
	  0 },
	{ "MAX_CHANGE", RT_PPM, "0",
	  "largest change per update from the previous signed answer, percent (0 = "
	  "none)",
	  &cfg_max_change_ppm, 0, 0, 0, 0 },
	RT_CHECK_ROW("FEEDS", sm_check_feeds),
	{ "BATCH_MAX", RT_U64, "128",
	  "requests per LMDB commit (group commit); more only while the commit before runs (BATCH_GROW_MAX)",
	  &cfg_batch, 1, 1024, 0, 0 },
	{ "BATCH_GROW_MAX", RT_U64, "1024",
	  "largest group: past BATCH_MAX it grows while the commit before it runs, closing when that commit is done "
	  "(<= BATCH_MAX: fixed groups)",
	  &cfg_grow, 1, 4096, 0, 0 },
	{ "OUTBOX_RETRY", RT_DURATION, "2s", "first re-publish of an unacked tx.signed", &cfg_retry_ms, 10, 3600000, 0,
	  0 },
	{ "OUTBOX_RETRY_MAX", RT_DURATION, "30s", "longest re-publish interval", &cfg_retry_max_ms, 10, 3600000, 0, 0 },
	{ "GAP_GRACE", RT_DURATION, "30s", "acked txs the node lacks are re-sent only after this long",
	  &cfg_gap_grace_ms, 0, 86400000, 0, 0 },
	{ "DEDUPE_TTL", RT_DURATION, "168h", "how long request ids are remembered (longer than the gate retries)",
	  &cfg_dedupe_ttl_ms, 60000, 0, 0, 0 },
	{ "ALLOW_EMPTY_STATE", RT_BOOL, "false",
	  "sign on an empty STATE_DIR although the chain shows transactions "
	  "from this key (a lost store loses the record of what was signed: restore a backup instead)",
	  &cfg_allow_empty, 0, 0, 0, 0 },
	RT_CHECK_ROW("", sm_check),
};

/* ---- messages the signer reads --------------------------------------------------------------- */

enum {
	SM_QUOTE = SG_NKINDS,
	SM_LEASE
};
typedef struct {
	const char *type;
	const char *topic; /* exact topic, or a prefix when it ends in '.' */
	const sc_msgdef *def;
	int kind;   /* SG_* item, or SM_QUOTE (handled in memory) */
	size_t off; /* where in sg_item the record goes */
} sm_route;

static const sm_route sm_routes[] = {
	{ "price.update", "price.update.", &SC_PRICE_UPDATE, SG_UPDATE, offsetof(sg_item, u) },
	{ "tx.request", "tx.request", &SC_TX_REQUEST, SG_REQUEST, offsetof(sg_item, r) },
	{ "tx.ack", "tx.ack", &SC_TX_ACK, SG_ACK, offsetof(sg_item, a) },
	{ "tx.bump", "tx.bump", &SC_TX_BUMP, SG_BUMP, offsetof(sg_item, b) },
	{ "nonce.sync", "nonce.sync", &SC_NONCE_SYNC, SG_SYNC, offsetof(sg_item, s) },
	{ "gas.quote", "gas.quote", &SC_GAS_QUOTE, SM_QUOTE, 0 },
	{ "signer.lease", "signer.lease", &SC_SIGNER_LEASE, SM_LEASE, 0 },
};

static const char *const sm_kind_names[SG_NKINDS] = { "update", "request", "ack", "bump", "sync" };
static const char *const sm_drop_names[SG_NDROPS] = {
	"nonce_not_synced", "no_gas_quote",           "store_error", "state_missing",
	"remote_signer",    "remote_signer_mismatch", "lease"
};

/* One batch (group): the items received; sm_submit takes out in place those the lease holds back,
 * and sg_submit runs the rest, its res[i] for items[i]. */
typedef struct {
	sg_item *items;
	sg_result *res;
	size_t n;
} sm_batch;

typedef struct {
	act_bus *bus;
	sg *sg;
	sm_batch bufs[2];
	sm_batch *in; /* receiving */
	sm_batch *fl; /* submitted, its commit in flight (S.inflight) */
	int inflight;
	uint64_t published;
	int store_failed, store_sticky; /* this flush / since start: see sm_store_error */
	rt_metric *m_signed[SG_NKINDS], *m_refused[SGP_NREASONS], *m_dropped[SG_NDROPS];
	rt_metric *m_dup, *m_requeued, *m_republished, *m_next, *m_pending, *m_sign_s, *m_acks, *m_ignored;
	rt_metric *m_peers, *m_leases, *m_remote_s, *m_held, *m_held_now;
	rs *remote; /* REMOTE_SIGNER_URL, or NULL */
	sgl lease;
	int lease_state; /* SGL_* as of the last check */
	/* Requests received while the lease listens at start (sm_hold): signed once it is active,
	 * dropped if another signer turns up. At most cfg_batch, one per request id. */
	sg_item *held;
	size_t nheld;
	uint64_t dup_alert_mono;
	/* S.in's items signed ahead (sg_presign_add) as they were received, from the first on, while
	 * a commit was in flight; 0 = none, or the order changed (sm_submit signs them all ahead) */
	size_t presigned;
} sm_state;

static sm_state S;
static size_t sm_cap; /* a group's largest size: BATCH_GROW_MAX, or BATCH_MAX when larger */

/* sg_result.status of an item kept by sm_hold (not one of sg's outcomes). */
#define SM_R_HELD 100

/* The same request: a re-send carries the id it was first sent with. */
static int
sm_same_request(const sg_item *a, const sg_item *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == SG_REQUEST)
		return memcmp(a->r.id, b->r.id, 16) == 0;
	return memcmp(a->msg_id, b->msg_id, 16) == 0;
}

/* Keeps a price.update or tx.request received while the lease listens at start, so that it is
 * signed when the lease becomes active even if its sender does not send it again (a sender's
 * re-send may be lost, or come only after a long back-off). A re-send replaces the copy held.
 * Returns 1 if held, 0 if not (a bump, or the buffer is full: dropped for now, as before). Held
 * items are signed like any other (dedupe by id: never twice) or dropped by sm_held_flush. */
static int
sm_hold(const sg_item *it)
{
	if (it->kind != SG_UPDATE && it->kind != SG_REQUEST)
		return 0;
	for (size_t i = 0; i < S.nheld; i++)
		if (sm_same_request(&S.held[i], it)) {
			S.held[i] = *it;
			return 1;
		}
	if (S.nheld == cfg_batch)
		return 0; /* the held buffer is cfg_batch long (only the lease's listening at start fills it) */
	S.held[S.nheld++] = *it;
	rt_gauge_set(S.m_held_now, (double)S.nheld);
	return 1;
}

/* Once the listening ends: with the lease active the held requests go first into the batch being
 * received (as many as fit; the rest next time), so they are signed now; with another signer live
 * (yield) or our own lease not heard back they are dropped, counted as dropped for the lease: the
 * other signer signs them, or their senders re-send them. */
static void
sm_held_flush(void)
{
	if (S.nheld == 0 || S.lease_state == SGL_LISTENING)
		return;
	if (S.lease_state != SGL_ACTIVE) {
		rt_add(S.m_dropped[SG_DROP_LEASE], S.nheld);
		rt_logkv(RT_WARN, "held requests dropped: not signing for now", "reason", "lease", NULL);
		S.nheld = 0;
		rt_gauge_set(S.m_held_now, 0);
		return;
	}
	sm_batch *b = S.in;
	size_t k = sm_cap - b->n < S.nheld ? sm_cap - b->n : S.nheld;
	if (k == 0)
		return;
	S.presigned = 0; /* the items signed ahead are no longer first: sm_submit signs all again */
	memmove(b->items + k, b->items, b->n * sizeof *b->items);
	memcpy(b->items, S.held, k * sizeof *b->items);
	b->n += k;
	memmove(S.held, S.held + k, (S.nheld - k) * sizeof *S.held);
	S.nheld -= k;
	rt_gauge_set(S.m_held_now, (double)S.nheld);
}

/* ---- the key ---------------------------------------------------------------------------------- */

/* Reads PRIVATE_KEY_FILE into key. Errors never contain the file's content. */
static int
sm_key_from_file(const char *path, uint8_t key[32], char *err, size_t errlen)
{
	struct stat st;
	char *buf = rt_secret_alloc(256);
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rv = -1;

	if (buf == NULL) {
		snprintf(err, errlen, "PRIVATE_KEY_FILE: cannot allocate locked memory");
		goto out;
	}
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "PRIVATE_KEY_FILE %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		snprintf(err, errlen,
		         "PRIVATE_KEY_FILE %s: mode %03o; it must be a regular file of mode 0600 or "
		         "stricter (chmod 600)",
		         path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	n = read(fd, buf, 255);
	if (n < 0) {
		snprintf(err, errlen, "PRIVATE_KEY_FILE %s: %s", path, strerror(errno));
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = 0;
	if (rt_parse_hex(buf, key, 32) != 0) {
		snprintf(err, errlen, "PRIVATE_KEY_FILE %s: not 64 hex digits", path);
		goto out;
	}
	rv = 0;
out:
	if (fd >= 0)
		close(fd);
	if (buf)
		rt_secret_free(buf, 256);
	return rv;
}

/* KEYSTORE_FILE decrypted with its password into key. The password lives in secret memory only
 * while the KDF runs; KEYSTORE_PASSWORD's bytes in the environment are wiped and unset. */
static void
sm_key_from_keystore(rt_cfg_errs *e, uint8_t key[32])
{
	enum {
		PW_CAP = 1024
	};
	char err[300], *json = NULL;
	uint8_t addr[20], *pw = rt_secret_alloc(PW_CAP);
	size_t pwlen = 0, len = 0;
	int have_pw_env = cfg_ks_pw != NULL && cfg_ks_pw[0] != 0;
	struct stat st;
	FILE *f = NULL;

	if (pw == NULL) {
		rt_config_error(e, "KEYSTORE_FILE", "cannot allocate locked memory for the password");
		goto out;
	}
	if (have_pw_env == (cfg_ks_pw_file[0] != 0)) {
		rt_config_error(e, "KEYSTORE_PASSWORD_FILE",
		                "set KEYSTORE_PASSWORD_FILE or KEYSTORE_PASSWORD (exactly one) "
		                "with KEYSTORE_FILE");
		goto out;
	}
	if (have_pw_env) {
		pwlen = strlen(cfg_ks_pw);
		if (pwlen >= PW_CAP) {
			rt_config_error(e, "KEYSTORE_PASSWORD", "longer than %d bytes", PW_CAP - 1);
			goto out;
		}
		memcpy(pw, cfg_ks_pw, pwlen);
	} else if (ks_read_password_file(cfg_ks_pw_file, pw, PW_CAP, &pwlen, err, sizeof err) != 0) {
		rt_config_error(e, "KEYSTORE_PASSWORD_FILE", "%s", err);
		goto out;
	}
	int fd = open(cfg_ks_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW); /* as PRIVATE_KEY_FILE */
	if (fd >= 0 && (f = fdopen(fd, "r")) == NULL)
		close(fd);
	if (f == NULL || fstat(fileno(f), &st) != 0) {
		rt_config_error(e, "KEYSTORE_FILE", "%s: %s", cfg_ks_file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		rt_config_error(e, "KEYSTORE_FILE",
		                "%s: mode %03o; it must be a regular file of mode 0600 or stricter "
		                "(chmod 600)",
		                cfg_ks_file, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if ((json = malloc(KS_JSON_MAX_DEFAULT + 1)) == NULL) {
		rt_config_error(e, "KEYSTORE_FILE", "out of memory");
		goto out;
	}
	len = fread(json, 1, KS_JSON_MAX_DEFAULT + 1, f);
	if (ks_decrypt(json, len, pw, pwlen, NULL, key, addr, err, sizeof err) != KS_OK)
		rt_config_error(e, "KEYSTORE_FILE", "%s: %s", cfg_ks_file, err);
out:
	if (have_pw_env) { /* RT_STR points into the environment: wipe it there */
		explicit_bzero((char *)cfg_ks_pw, strlen(cfg_ks_pw));
		unsetenv("KEYSTORE_PASSWORD");
	}
	if (f)
		fclose(f);
	free(json);
	if (pw)
		rt_secret_free(pw, PW_CAP);
}

/* Exactly one key source: PRIVATE_KEY (parsed and checked by its type), PRIVATE_KEY_FILE,
 * KEYSTORE_FILE (into sm_key) or REMOTE_SIGNER_URL (no key here: sm_key stays NULL). */
static void
sm_check_key(rt_cfg_errs *e)
{
	char err[300];
	int have_env = 0;
	for (size_t i = 0; i < 32; i++)
		have_env |= cfg_env_key[i];
	if (rt_config_failed(e, "PRIVATE_KEY"))
		return;
	have_env = have_env != 0;
	int have_ks = cfg_ks_file[0] != 0, have_rs = cfg_rs_url != NULL && cfg_rs_url[0] != 0;
	if (have_env + (cfg_key_file[0] != 0) + have_ks + have_rs > 1) {
		rt_config_error(e, "PRIVATE_KEY",
		                "set exactly one key source: PRIVATE_KEY, PRIVATE_KEY_FILE, KEYSTORE_FILE "
		                "or REMOTE_SIGNER_URL");
	} else if (have_rs) {
		int have_addr = 0;
		for (size_t i = 0; i < 20; i++)
			have_addr |= cfg_rs_addr[i];
		rt_config_require(e, "REMOTE_SIGNER_ADDRESS", 1, have_addr, "with REMOTE_SIGNER_URL");
		if (strcmp(cfg_rs_method, "eth_signTransaction") != 0 &&
		    strcmp(cfg_rs_method, "account_signTransaction") != 0)
			rt_config_error(e, "REMOTE_SIGNER_METHOD",
			                "'%.40s' is neither eth_signTransaction nor "
			                "account_signTransaction",
			                cfg_rs_method);
	} else if (!have_env && !cfg_key_file[0] && !have_ks) {
		rt_config_error(e, "PRIVATE_KEY", "required (or PRIVATE_KEY_FILE, KEYSTORE_FILE or REMOTE_SIGNER_URL)");
	} else if ((sm_key = rt_secret_alloc(32)) == NULL) {
		rt_config_error(e, "PRIVATE_KEY", "cannot allocate locked memory for the key");
	} else if (have_ks) {
		sm_key_from_keystore(e, sm_key);
	} else if (have_env) {
		memcpy(sm_key, cfg_env_key, 32);
	} else if (sm_key_from_file(cfg_key_file, sm_key, err, sizeof err) != 0) {
		rt_config_error(e, NULL, "%s", err);
	} else if (rt_check_seckey(sm_key) != 0) {
		rt_config_error(e, "PRIVATE_KEY_FILE",
		                "%s: not a valid secp256k1 secret key (it is zero or not below "
		                "the curve order)",
		                cfg_key_file);
	}
	explicit_bzero(cfg_env_key, sizeof cfg_env_key);
	if (cfg_ks_pw != NULL && cfg_ks_pw[0] && !cfg_ks_file[0]) {
		explicit_bzero((char *)cfg_ks_pw, strlen(cfg_ks_pw));
		unsetenv("KEYSTORE_PASSWORD");
		rt_config_error(e, "KEYSTORE_PASSWORD", "set without KEYSTORE_FILE");
	}
	if (cfg_lease_ttl_ms < 2 * cfg_lease_ms)
		rt_config_error(e, "LEASE_TTL", "%llu ms is less than 2 x LEASE_INTERVAL",
		                (unsigned long long)cfg_lease_ttl_ms);
}

/* ---- configuration into the core's structures --------------------------------------------- */

static int
sm_wei(rt_cfg_errs *e, const char *name, const char *s, u256 *out)
{
	if (u256_from_dec(out, s, strlen(s)) != 0) {
		rt_config_error(e, name, "'%.40s' is not an amount in wei (decimal digits)", s);
		return -1;
	}
	return 0;
}

/* FEEDS: each a feed name that fits price.update records and topics. */
static void
sm_check_feeds(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	for (size_t i = 0; i < cfg_feeds.n; i++) {
		char topic[FRAME_TOPIC_MAX + 16];
		const char *f = cfg_feeds.v[i];
		int n = snprintf(topic, sizeof topic, "price.update.%s", f);
		if (strlen(f) > SC_NAME_CAP || n >= (int)sizeof topic || !frame_topic_valid(topic, (size_t)n))
			rt_config_error(e, o->env, "'%.40s' is not a feed name (1..%d of [A-Za-z0-9._:-])", f,
			                SC_NAME_CAP);
	}
}

/* Everything the table cannot say: the key, the policy and its files, the call, fees, BUS_TRUST.
 * Each problem is listed; the structures are complete only when none was. */
static void
sm_check(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	char e2[300];
	sgp_policy *pol = &sm_pol;
	sg_cfg *c = &sm_cfg;
	sm_check_key(e);
	sgp_free(pol); /* zeroes it */
	memset(c, 0, sizeof *c);
	pol->chain_id = cfg_chain_id;
	pol->max_change_ppm = cfg_max_change_ppm;
	pol->max_gas_limit = cfg_max_gas_limit;
	for (size_t i = 0; i < cfg_contracts.n; i++)
		if (sgp_add_contract(pol, cfg_contracts.v[i], e2, sizeof e2) != 0)
			rt_config_error(e, "ALLOWED_CONTRACTS", "%s", e2);
	/* The seed's one setting: the aggregator is the contract this signer exists to call. */
	if (cfg_contracts.n == 0 && !rt_config_failed(e, "ALLOWED_CONTRACTS") && cfg_aggregator && *cfg_aggregator &&
	    sgp_add_contract(pol, cfg_aggregator, e2, sizeof e2) != 0)
		rt_config_error(e, "AGGREGATOR_ADDRESS", "%s", e2);
	for (size_t i = 0; i < cfg_selectors.n; i++)
		if (sgp_add_selector(pol, cfg_selectors.v[i], e2, sizeof e2) != 0)
			rt_config_error(e, "ALLOWED_SELECTORS", "%s", e2);
	if (sgp_set_bound(pol->min_answer, cfg_min_answer, "MIN_ANSWER", e2, sizeof e2) != 0)
		rt_config_error(e, NULL, "%s", e2);
	if (sgp_set_bound(pol->max_answer, cfg_max_answer, "MAX_ANSWER", e2, sizeof e2) != 0)
		rt_config_error(e, NULL, "%s", e2);
	json_t *feeds = rt_config_json(e, "FEEDS_FILE");
	if (feeds && sgp_load_feeds(pol, feeds, e2, sizeof e2) != 0)
		rt_config_error(e, "FEEDS_FILE", "%s", e2);
	json_decref(feeds);
	/* Nothing it may call: it would report ready and then refuse every update; say so now. */
	int feed_aggs = 0;
	for (size_t i = 0; i < pol->nfeeds; i++)
		feed_aggs += pol->feeds[i].has_aggregator;
	if (pol->ncontracts == 0 && feed_aggs == 0 && !rt_config_failed(e, "ALLOWED_CONTRACTS") &&
	    !rt_config_failed(e, "AGGREGATOR_ADDRESS") && !rt_config_failed(e, "FEEDS_FILE"))
		rt_config_error(e, "ALLOWED_CONTRACTS",
		                "required (or AGGREGATOR_ADDRESS, or aggregators in FEEDS_FILE): "
		                "with no allowed contract every update would be refused");
	if (sgc_init(&sm_call, cfg_update_sig, e2, sizeof e2) != 0)
		rt_config_error(e, NULL, "%s", e2);
	if (strcmp(cfg_tx_type, "eip1559") == 0)
		c->fees.eip1559 = 1;
	else if (strcmp(cfg_tx_type, "legacy") != 0)
		rt_config_error(e, "TX_TYPE", "'%.20s' is neither legacy nor eip1559", cfg_tx_type);
	c->fees.gas_auto = strcmp(cfg_gas_price, "auto") == 0;
	int gas_ok = c->fees.gas_auto || sm_wei(e, "GAS_PRICE", cfg_gas_price, &c->fees.gas_price) == 0;
	int max_ok = sm_wei(e, "MAX_GAS_PRICE", cfg_max_gas_price, &c->fees.max_gas_price) == 0;
	sm_wei(e, "MAX_FEE_PER_GAS", cfg_max_fee, &c->fees.max_fee_per_gas);
	if (gas_ok && max_ok && !c->fees.eip1559 && !c->fees.gas_auto &&
	    u256_cmp(&c->fees.gas_price, &c->fees.max_gas_price) > 0)
		rt_config_error(e, "GAS_PRICE", "above MAX_GAS_PRICE");
	c->fees.bump_ppm = cfg_bump_ppm;
	c->chain_id = cfg_chain_id;
	if (cfg_gas_limit > cfg_max_gas_limit)
		rt_config_error(e, "GAS_LIMIT", "%llu is above MAX_GAS_LIMIT %llu", (unsigned long long)cfg_gas_limit,
		                (unsigned long long)cfg_max_gas_limit);
	c->gas_limit = cfg_gas_limit;
	c->policy = pol;
	c->call = &sm_call;
	c->retry_ns = cfg_retry_ms * 1000000u;
	c->retry_max_ns = cfg_retry_max_ms * 1000000u;
	c->gap_grace_ns = cfg_gap_grace_ms * 1000000u;
	c->allow_empty_state = cfg_allow_empty;

	/* The signer acts on price.updates only from the gate's key: refuse to run open to anyone. */
	if (rt_config_failed(e, "BUS_TRUST"))
		return;
	sig_trust *t = sig_trust_parse(busc.trust, e2, sizeof e2);
	if (t == NULL)
		return; /* act_check_trust listed it */
	int trust_update = sig_trust_required(t, "price.update.", 13);
	sm_trust_request = sig_trust_required(t, "tx.request", 10);
	sig_trust_free(t);
	if (!trust_update)
		rt_config_error(e, "BUS_TRUST",
		                "must list the publisher keys of price.update. (e.g. "
		                "price.update.=<gate public key>); refusing to sign for anyone");
}

/* A fixed legacy GAS_PRICE below the chain's base fee: every transaction would be refused by the node
 * (and re-sent and refused again). Said once per change, as a warning with the fix, and on /health;
 * the signer still signs (the operator may know the node accepts it), it does not hide the problem. */
static void
sm_check_fixed_price(const sc_gas_quote *q)
{
	const sgf_cfg *f = &sm_cfg.fees;
	if (f->eip1559 || f->gas_auto)
		return;
	int low = q->eip1559 && u256_cmp(&f->gas_price, &q->base_fee_per_gas) < 0;
	if (rt_log_state_change("gas_price_below_base_fee", low ? "below" : "ok") && low) {
		char price[80], base[80];
		u256_to_dec(&f->gas_price, price);
		u256_to_dec(&q->base_fee_per_gas, base);
		rt_logkv(RT_WARN,
		         "GAS_PRICE is below the chain's base fee: the node will refuse every transaction; "
		         "unset GAS_PRICE (auto: the chain's price) or set TX_TYPE=eip1559",
		         "gas_price", price, "base_fee", base, NULL);
	}
	rt_health_set("gas_price", low, "GAS_PRICE below the chain's base fee: set GAS_PRICE=auto");
}

/* ---- metrics -------------------------------------------------------------------------------- */

static rt_metric *
sm_labeled(int counter, const char *name, const char *help, const char *key, const char *value)
{
	char labels[96];
	rt_labels(labels, sizeof labels, key, value, NULL);
	return counter ? rt_counter(name, help, labels) : rt_gauge(name, help, labels);
}

static void
sm_metrics(void)
{
	static const double bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5 };
	for (int k = 0; k < SG_NKINDS; k++)
		if (k == SG_UPDATE || k == SG_REQUEST || k == SG_BUMP)
			S.m_signed[k] = sm_labeled(1, "signer_signed_total", "Transactions signed, by kind.", "kind",
			                           sm_kind_names[k]);
	for (int r = 1; r < SGP_NREASONS; r++)
		S.m_refused[r] = sm_labeled(1, "signer_refusals_total", "Requests refused by policy, by reason.",
		                            "reason", sgp_reason_name(r));
	for (int d = 0; d < SG_NDROPS; d++)
		S.m_dropped[d] = sm_labeled(1, "signer_dropped_total",
		                            "Requests not signed for now (the gate re-publishes), by reason.", "reason",
		                            sm_drop_names[d]);
	S.m_dup =
	        rt_counter("signer_duplicates_total", "Requests already signed: the stored tx was re-published.", NULL);
	S.m_acks = rt_counter("signer_acks_total", "tx.acks that removed a tx.signed from the outbox.", NULL);
	S.m_ignored = rt_counter("signer_ignored_total", "Repeated acks and messages for another chain/address.", NULL);
	S.m_requeued = rt_counter("signer_requeued_total",
	                          "Signed txs re-queued because nonce.sync showed the node lacks them.", NULL);
	S.m_republished =
	        rt_counter("signer_republished_total", "tx.signed frames re-published from the outbox.", NULL);
	S.m_peers = rt_gauge("signer_lease_peers",
	                     "Other live signers of this address heard on signer.lease (should be 0).", NULL);
	S.m_leases = rt_counter("signer_leases_heard_total",
	                        "signer.lease frames heard for this address (own included).", NULL);
	S.m_held = rt_counter("signer_lease_held_total",
	                      "Requests held while the lease listened at start, to be signed once it is active.", NULL);
	S.m_held_now = rt_gauge("signer_lease_held", "Requests held now until the lease is active.", NULL);
	S.m_remote_s = rt_histogram("signer_remote_sign_seconds", "One remote signer call (REMOTE_SIGNER_URL).", NULL,
	                            bounds, OB_COUNT(bounds));
	S.m_next = rt_gauge("signer_next_nonce", "Next nonce the signer will allocate.", NULL);
	S.m_pending = rt_gauge("signer_outbox_pending", "tx.signed frames not yet acked by the submitter.", NULL);
	S.m_sign_s = rt_histogram("signer_sign_seconds",
	                          "Receipt of a request to its tx.signed published (policy, signing, durable commit).",
	                          NULL, bounds, OB_COUNT(bounds));
}

static void
sm_gauges(void)
{
	rt_gauge_set(S.m_next, (double)sg_next_nonce(S.sg));
	rt_gauge_set(S.m_pending, (double)sg_outbox_pending(S.sg));
	rt_health_set("nonce", !sg_synced(S.sg), "nonce: waiting for sync");
}

/* ---- publishing ----------------------------------------------------------------------------- */

static void
sm_publish(void *arg, const uint8_t id[16], const uint8_t *body, size_t len)
{
	(void)arg;
	if (bus_publish(act_pub(S.bus), "tx.signed", "tx.signed", id, body, len, NULL) != BUS_OK)
		rt_log(RT_WARN, "publish tx.signed failed; the outbox re-publishes it");
	S.published++;
}

static void
sm_refusal_alert(const sg_item *it, const sg_result *r)
{
	char key[96];
	const char *reason = sgp_reason_name(r->reason);
	const char *feed = it->kind == SG_UPDATE ? it->u.feed : "";
	const char *labels[] = { "reason", reason, "feed", feed, "kind", sm_kind_names[it->kind], NULL };
	snprintf(key, sizeof key, "%s/%s/%s", sm_kind_names[it->kind], reason, feed);
	act_alert(S.bus, SC_SEV_WARNING, SC_ALERT_FIRING, "policy_refusal", key, r->detail, labels);
}

/* An item the store could not handle: nothing was signed or published for it. Logged each time
 * (with the request's ref, so the operator can find the entry), one alert per signer and error
 * class (the gate re-publishes the request every few seconds: one alert, not one per retry), and
 * health `store` degraded. A corrupt entry keeps health degraded until the signer restarts (an
 * operator has to look); other errors clear at the next clean batch. */
static void
sm_store_error(const sg_item *it, const sg_result *r, const char *ref)
{
	char key[64];
	const char *cls = ob_err_class(r->err);
	int integrity = ob_err_integrity(r->err);
	rt_logkv(RT_ERROR, "store error: not signed, nothing published", "kind", sm_kind_names[it->kind], "ref", ref,
	         "error", ob_strerror(r->err), "detail", r->detail, NULL);
	snprintf(key, sizeof key, "store_error/%s", integrity ? "integrity" : cls);
	const char *labels[] = { "error", ob_strerror(r->err), "class", cls, "ref", ref, NULL };
	act_alert(S.bus, integrity ? SC_SEV_CRITICAL : SC_SEV_ERROR, SC_ALERT_FIRING, "store_error", key, r->detail,
	          labels);
	char text[240];
	snprintf(text, sizeof text, "store: %s",
	         integrity ? "corrupt entry (see the log); restart after repair" : ob_strerror(r->err));
	rt_health_set("store", 1, text);
	S.store_sticky |= integrity;
	S.store_failed = 1;
}

/* Counts, logs and alerts the outcome of one item after its batch committed. */
static void
sm_account(const sg_item *it, const sg_result *r, uint64_t done_mono)
{
	char nonce[24], ref[33];
	snprintf(nonce, sizeof nonce, "%llu", (unsigned long long)r->nonce);
	hex_encode(it->kind == SG_REQUEST ? it->r.id : it->msg_id, 16, 0, ref);
	switch (r->status) {
	case SG_R_SIGNED:
		rt_inc(S.m_signed[it->kind]);
		if (S.remote && rt_log_state_change("signer.remote", "ok"))
			rt_health_set("remote_signer", 0, NULL);
		rt_observe(S.m_sign_s, (double)(done_mono - it->recv_mono_ns) / 1e9);
		rt_logkv(RT_INFO, "signed", "kind", sm_kind_names[it->kind], "nonce", nonce, "ref", ref, "feed",
		         it->kind == SG_UPDATE ? it->u.feed : "", NULL);
		if (r->left_out) {
			/* A batch signed without the entries the policy refused: counted and alerted as
			 * refusals (the first one's reason); the gate sees them not land. */
			sg_result lr = *r;
			lr.reason = r->left_reason;
			rt_add(S.m_refused[r->left_reason], r->left_out);
			rt_logkv(RT_WARN, "batch entries refused: left out", "ref", ref, "reason",
			         sgp_reason_name(r->left_reason), "detail", r->detail, NULL);
			sm_refusal_alert(it, &lr);
		}
		break;
	case SG_R_DUPLICATE:
		rt_inc(S.m_dup);
		rt_logkv(RT_INFO, "already signed", "kind", sm_kind_names[it->kind], "ref", ref, "detail", r->detail,
		         NULL);
		break;
	case SG_R_REFUSED:
		rt_inc(S.m_refused[r->reason]);
		rt_logkv(RT_WARN, "refused", "kind", sm_kind_names[it->kind], "reason", sgp_reason_name(r->reason),
		         "ref", ref, "detail", r->detail, NULL);
		sm_refusal_alert(it, r);
		break;
	case SG_R_DROPPED:
		rt_inc(S.m_dropped[r->reason]);
		if (r->reason == SG_DROP_STORE) {
			sm_store_error(it, r, ref);
			break;
		}
		if (r->reason == SG_DROP_REMOTE_BAD) {
			const char *labels[] = { "signer", S.remote ? rs_endpoint(S.remote) : "", "ref", ref, NULL };
			rt_logkv(RT_ERROR, "remote signer returned a wrong transaction: refused", "ref", ref, "detail",
			         r->detail, NULL);
			act_alert(S.bus, SC_SEV_CRITICAL, SC_ALERT_FIRING, "remote_signer_mismatch",
			          "remote_signer_mismatch", r->detail, labels);
			rt_health_set("remote_signer", 1, "remote signer: returned a wrong transaction (see the log)");
		} else if (r->reason == SG_DROP_REMOTE && rt_log_state_change("signer.remote", "down")) {
			rt_logkv(RT_WARN, "remote signer did not sign", "detail", r->detail, NULL);
			rt_health_set("remote_signer", 1, "remote signer: not signing (see the log)");
		}
		if (r->reason == SG_DROP_STATE_MISSING && it->kind == SG_SYNC) {
			/* Said once in the log; the alert is repeated every 30 s while it lasts (a single
			 * frame may be lost on the bus, and nobody may be listening yet). */
			static uint64_t last_alert;
			if (rt_log_state_change("signer.state", "missing")) {
				rt_logkv(RT_ERROR, "refusing to sign", "reason", "state_missing", "detail", r->detail,
				         NULL);
				rt_health_set("state", 1, r->detail);
			}
			if (last_alert == 0 || done_mono - last_alert >= 30000000000ull) {
				const char *labels[] = { "state_dir", cfg_state_dir, NULL };
				act_alert(S.bus, SC_SEV_CRITICAL, SC_ALERT_FIRING, "state_missing", "state_missing",
				          r->detail, labels);
				last_alert = done_mono;
			}
		}
		if (rt_log_state_change("signer.drop", sm_drop_names[r->reason]))
			rt_logkv(RT_WARN, "not signing for now", "reason", sm_drop_names[r->reason], "ref", ref, NULL);
		break;
	case SM_R_HELD:
		rt_inc(S.m_held);
		rt_logkv(RT_INFO, "held until the lease is active", "kind", sm_kind_names[it->kind], "ref", ref, NULL);
		break;
	case SG_R_DONE:
		if (it->kind == SG_ACK)
			rt_inc(S.m_acks);
		if (it->kind != SG_SYNC)
			break;
		rt_add(S.m_requeued, r->requeued);
		rt_log_state_change("signer.drop", "ok");
		if (r->detail[0] || r->requeued || r->finished) {
			char rq[24], fin[24];
			snprintf(rq, sizeof rq, "%u", r->requeued);
			snprintf(fin, sizeof fin, "%u", r->finished);
			rt_logkv(r->jumped ? RT_WARN : RT_INFO, "nonce sync", "next", nonce, "requeued", rq, "finished",
			         fin, "detail", r->detail, NULL);
		}
		if (r->jumped) {
			/* The chain used nonces this signer never signed: a transaction from the key that this
			 * stack did not sign. Not while this signer stands by (the live one signs: jumps are
			 * expected) nor while another signer of the address is live (already alerted as
			 * duplicate_signer). */
			char from[24];
			snprintf(from, sizeof from, "%llu", (unsigned long long)r->jumped_from);
			const char *labels[] = { "from_nonce", from, "next_nonce", nonce, NULL };
			if (S.lease_state == SGL_ACTIVE && sgl_live_peers(&S.lease, rt_mono_ns()) == 0)
				act_alert(S.bus, SC_SEV_CRITICAL, SC_ALERT_FIRING, "foreign_transaction",
				          "foreign_transaction", r->detail, labels);
		}
		break;
	default:
		rt_inc(S.m_ignored);
		if (r->detail[0])
			rt_logkv(RT_WARN, "ignored", "kind", sm_kind_names[it->kind], "detail", r->detail, NULL);
		break;
	}
}

/* Waits for the batch in flight (its commit), publishes its tx.signed (durable now) and accounts
 * for every item of it. */
static void
sm_complete(void)
{
	char err[256];
	sm_batch *f = S.fl;
	if (!S.inflight)
		return;
	S.inflight = 0;
	S.store_failed = 0;
	if (sg_complete(S.sg, sm_publish, NULL, err, sizeof err) != 0)
		rt_logkv(RT_ERROR, "batch not committed as a whole; each item ran alone", "error", err, NULL);
	uint64_t done = rt_mono_ns();
	for (size_t i = 0; i < f->n; i++)
		sm_account(&f->items[i], &f->res[i], done);
	if (!S.store_failed && !S.store_sticky)
		rt_health_set("store", 0, NULL);
	f->n = 0;
	sm_gauges();
}

/* Signs ahead the items received since the last call, while a commit is in flight and the lease
 * lets them be signed: the signing of a group overlaps the commit before it as the group grows. */
static void
sm_presign_new(void)
{
	sm_batch *b = S.in;
	if (!S.inflight || S.lease_state != SGL_ACTIVE || S.presigned == b->n)
		return;
	if (S.presigned == 0)
		sg_presign(S.sg, b->items, b->n); /* a new memo for this group */
	else
		sg_presign_add(S.sg, b->items + S.presigned, b->n - S.presigned);
	S.presigned = b->n;
}

/* Hands the received batch to the signer. Its commit (fsync) runs in the signer's writer thread
 * while the loop receives the next batch; that one is signed ahead (sm_presign_new as it comes,
 * the rest here) before the commit in flight is awaited, so signing and fsync overlap. */
static int
sm_submit(void)
{
	sm_batch *b = S.in;
	if (b->n == 0)
		return 0;
	/* Without the lease nothing is signed or re-published (acks and nonce.syncs still run, so the
	 * store follows the chain). While it only listens at start, price.updates and tx.requests are
	 * kept (sm_hold) and signed once it is active; otherwise they are dropped for now and come
	 * again (the gate and token backends re-publish until they see a tx.status). */
	/* Those are accounted for now and taken out of the batch in place (a group may be
	 * BATCH_GROW_MAX items of 8.6 KiB: no second array to copy the rest into). */
	int hold = S.lease_state != SGL_ACTIVE;
	size_t n0 = b->n, w = 0;
	uint64_t now = rt_mono_ns();
	for (size_t i = 0; i < n0; i++) {
		int k = b->items[i].kind;
		if (hold && (k == SG_UPDATE || k == SG_REQUEST || k == SG_BUMP)) {
			sg_result r;
			memset(&r, 0, sizeof r);
			r.status = SG_R_DROPPED;
			r.reason = SG_DROP_LEASE;
			if (S.lease_state == SGL_LISTENING && sm_hold(&b->items[i]))
				r.status = SM_R_HELD;
			sm_account(&b->items[i], &r, now);
			continue;
		}
		if (w != i)
			b->items[w] = b->items[i];
		w++;
	}
	b->n = w;
	if (S.inflight) {
		if (S.presigned && w == n0)
			sg_presign_add(S.sg, b->items + S.presigned, b->n - S.presigned); /* the rest */
		else
			sg_presign(S.sg, b->items, b->n);
		sm_complete();
	}
	S.presigned = 0;
	S.in = S.fl;
	S.fl = b;
	S.inflight = 1;
	if (b->n)
		sg_submit(S.sg, b->items, b->n, b->res, rt_now_ns()); /* 0: nothing is in flight */
	return 1;
}

/* ---- one signer per key (lease.h) ---------------------------------------------------------- */

static void
sm_dup_alert(const char *why)
{
	char n[12], addr[43];
	const char *labels[] = { "address", addr, "peers", n, NULL };
	snprintf(n, sizeof n, "%d", sgl_live_peers(&S.lease, rt_mono_ns()));
	hex_addr_format(sg_address(S.sg), addr);
	act_alert(S.bus, SC_SEV_CRITICAL, SC_ALERT_FIRING, "duplicate_signer", addr, why, labels);
	S.dup_alert_mono = rt_mono_ns();
}

static void
sm_on_lease(const sc_signer_lease *l)
{
	int ev = sgl_on_lease(&S.lease, l, rt_mono_ns());
	if (ev == SGL_EV_IGNORED)
		return;
	rt_inc(S.m_leases);
	if (ev == SGL_EV_PEER_NEW) {
		char why[256];
		int st = sgl_state(&S.lease, rt_mono_ns(), NULL, 0);
		snprintf(why, sizeof why, "another signer for this address is live (instance %.63s); this one %s",
		         l->instance,
		         st == SGL_YIELD ? "started later and refuses to sign" : "started earlier and keeps signing");
		rt_logkv(RT_ERROR, "duplicate signer", "peer", l->instance, "detail", why, NULL);
		sm_dup_alert(why);
	} else if (ev == SGL_EV_RELEASED) {
		rt_logkv(RT_INFO, "another signer of this address released its lease", "peer", l->instance, NULL);
	}
}

/* Publishes our lease (released: we stop) and re-evaluates the state. */
static void
sm_lease_tick(int publish, int released)
{
	uint64_t now = rt_mono_ns();
	if (publish) {
		sc_signer_lease m;
		sgl_make(&S.lease, &m, released, rt_now_ns());
		if (act_publish(S.bus, "signer.lease", &SC_SIGNER_LEASE, &m, NULL, NULL) != BUS_OK)
			rt_log(RT_WARN, "publish signer.lease failed");
	}
	char why[256];
	int st = sgl_state(&S.lease, now, why, sizeof why), peers = sgl_live_peers(&S.lease, now);
	if (st != S.lease_state) {
		static const char *const names[] = { "active", "listening", "no_echo", "yield" };
		rt_logkv(st == SGL_ACTIVE ? RT_INFO : RT_WARN, "lease", "state", names[st], "detail",
		         st == SGL_ACTIVE ? "signing" : why, NULL);
		S.lease_state = st;
	}
	rt_health_set("lease", st != SGL_ACTIVE, why);
	rt_gauge_set(S.m_peers, (double)peers);
	if (peers > 0 && now - S.dup_alert_mono >= 30000000000ull)
		sm_dup_alert(st == SGL_YIELD ? "another signer for this address is live; this one refuses to sign"
		                             : "another signer for this address is live; this one keeps signing");
}

/* The remote signer as sg_cfg.sign. */
static int
sm_remote_sign(void *arg, tx *t, char *detail, size_t len)
{
	uint64_t t0 = rt_mono_ns();
	int rv = rs_sign(arg, t, detail, len);
	rt_observe(S.m_remote_s, (double)(rt_mono_ns() - t0) / 1e9);
	return rv;
}

/* FEEDS: exact feed names this signer signs; empty = all. */
static int
sm_feed_wanted(const char *feed)
{
	for (size_t i = 0; i < cfg_feeds.n; i++)
		if (strcmp(cfg_feeds.v[i], feed) == 0)
			return 1;
	return cfg_feeds.n == 0;
}

/* One accepted frame: routed by its type, which must arrive on its own topic (the trust check
 * is per topic, so a price.update under another topic would dodge it). */
static void
sm_on_frame(const bus_msg *m)
{
	char type[FRAME_TYPE_MAX + 1];
	snprintf(type, sizeof type, "%.*s", (int)m->f.type_len, m->f.type);
	for (size_t i = 0; i < OB_COUNT(sm_routes); i++) {
		const sm_route *r = &sm_routes[i];
		size_t tl = strlen(r->topic);
		if (strcmp(type, r->type) != 0)
			continue;
		int prefix = r->topic[tl - 1] == '.';
		if (m->f.topic_len < tl || memcmp(m->f.topic, r->topic, tl) != 0 || (!prefix && m->f.topic_len != tl)) {
			rt_logkv(RT_WARN, "message on the wrong topic dropped", "type", type, NULL);
			return;
		}
		if (r->kind == SM_LEASE) {
			sc_signer_lease l;
			if (act_decode(m, r->def, &l) == 0)
				sm_on_lease(&l);
			return;
		}
		if (r->kind == SM_QUOTE) {
			sc_gas_quote q;
			if (act_decode(m, r->def, &q) == 0) {
				if (q.chain_id == cfg_chain_id) {
					sg_set_quote(S.sg, &q);
					sm_check_fixed_price(&q);
				} else
					rt_inc(S.m_ignored);
			}
			return;
		}
		sg_item *it = &S.in->items[S.in->n];
		if (act_decode(m, r->def, (uint8_t *)it + r->off) != 0)
			return;
		if (r->kind == SG_UPDATE && !sm_feed_wanted(it->u.feed)) {
			rt_inc(S.m_ignored); /* another signer's feed shard (the subscription is a prefix) */
			return;
		}
		it->kind = r->kind;
		memcpy(it->msg_id, m->f.id, 16);
		it->recv_mono_ns = rt_mono_ns();
		S.in->n++;
		return;
	}
	rt_logkv(RT_WARN, "unexpected message type dropped", "type", type, NULL);
}

/* ---- main ----------------------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	char err[512];

	rt_no_core_dumps(); /* before rt_init: the configuration pass reads the key */
	if (rt_init("signer", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;
	int trust_request = sm_trust_request;
	/* price.update.<feed> for each of FEEDS (a prefix: sm_feed_wanted checks the exact name), else the
	 * whole family. */
	/* allocated to the configured count; act_open subscribes to copies */
	char(*feed_topics)[FRAME_TOPIC_MAX + 2] = calloc(cfg_feeds.n + 1, sizeof *feed_topics);
	const char **topics = calloc(cfg_feeds.n + 8, sizeof *topics);
	if (feed_topics == NULL || topics == NULL) {
		rt_log(RT_ERROR, "out of memory");
		return 1;
	}
	size_t nt = 0;
	for (size_t i = 0; i < cfg_feeds.n; i++) {
		snprintf(feed_topics[i], sizeof feed_topics[i], "price.update.%s", cfg_feeds.v[i]);
		topics[nt++] = feed_topics[i];
	}
	if (cfg_feeds.n == 0)
		topics[nt++] = "price.update.";
	topics[nt++] = "tx.ack";
	topics[nt++] = "tx.bump";
	topics[nt++] = "gas.quote";
	topics[nt++] = "nonce.sync";
	topics[nt++] = "signer.lease";
	if (trust_request)
		topics[nt++] = "tx.request";
	topics[nt] = NULL;
	if (!trust_request)
		rt_log(RT_WARN, "tx.request ignored: BUS_TRUST does not cover it");

	sm_metrics();
	/* Untouched until a group grows that large (calloc of this size maps zero pages). */
	sm_cap = cfg_grow > cfg_batch ? cfg_grow : cfg_batch;
	for (int i = 0; i < 2; i++) {
		sm_batch *b = &S.bufs[i];
		b->items = calloc(sm_cap, sizeof *b->items);
		b->res = calloc(sm_cap, sizeof *b->res);
		if (b->items == NULL || b->res == NULL) {
			rt_log(RT_ERROR, "out of memory");
			return 1;
		}
	}
	S.in = &S.bufs[0];
	S.fl = &S.bufs[1];
	if ((S.held = calloc(cfg_batch, sizeof *S.held)) == NULL) {
		rt_log(RT_ERROR, "out of memory");
		return 1;
	}
	if (cfg_rs_url != NULL && cfg_rs_url[0]) {
		if ((S.remote = rs_open(cfg_rs_url, cfg_rs_addr, cfg_rs_method, (int)cfg_rs_timeout_ms, err,
		                        sizeof err)) == NULL) {
			rt_log(RT_ERROR, "%s", err);
			return 1;
		}
		sm_cfg.sign = sm_remote_sign;
		sm_cfg.sign_arg = S.remote;
		memcpy(sm_cfg.address, cfg_rs_addr, 20);
	}
	sm_cfg.pipeline = S.remote == NULL; /* remote signatures are made in the batch, one call each */
	if ((S.sg = sg_open(cfg_state_dir, &sm_cfg, sm_key, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "%s", err);
		return 1;
	}
	S.bus = act_open(&busc, ACT_PUB | ACT_SUB, topics, err, sizeof err);
	free(feed_topics); /* act_open subscribed to copies */
	free(topics);
	if (S.bus == NULL) {
		rt_log(RT_ERROR, "bus: %s", err);
		return 1;
	}
	char addr[43], next[24];
	hex_addr_format(sg_address(S.sg), addr);
	snprintf(next, sizeof next, "%llu", (unsigned long long)sg_next_nonce(S.sg));
	rt_logkv(RT_INFO, "signer ready", "address", addr, "call", sm_call.sig.canon, "tx_type", cfg_tx_type, "state",
	         cfg_state_dir, "next_nonce", sg_synced(S.sg) ? next : "(waiting for nonce.sync)", "key",
	         S.remote         ? rs_endpoint(S.remote)
	         : cfg_ks_file[0] ? "keystore"
	                          : "local",
	         NULL);
	sm_gauges();

	uint8_t boot[16];
	if (getrandom(boot, sizeof boot, 0) != (ssize_t)sizeof boot) {
		rt_log(RT_ERROR, "getrandom failed: no boot id for signer.lease");
		return 1;
	}
	sgl_init(&S.lease, cfg_chain_id, sg_address(S.sg), rt_instance(), boot, rt_now_ns(),
	         cfg_lease_ttl_ms * 1000000u, rt_mono_ns());
	S.lease_state = -1;
	sm_lease_tick(1, 0);
	/* The store is open, the bus opened and the lease evaluated: from here the lease's own reason (503
	 * until it is held), nonce and gas say whether the signer can sign; rt_init's "starting" goes once
	 * busd is connected too. Never before the first evaluation: /health would say 200 in between. */
	rt_ready();
	uint64_t last_lease = rt_mono_ns();

	/* What a previous run signed but may not have published is sent, all of it, once the lease
	 * is held (a restored store's outbox must not go out beside another live signer). */
	bus_pub_wait(act_pub(S.bus), 1, 2000);
	int resent_all = 0;
	long k;
	uint64_t last_resend = rt_mono_ns(), last_prune = 0;
	while (!rt_stopping()) {
		bus_msg m;
		/* With a batch in flight only what is already queued: nothing queued = publish that batch
		 * now (its commit is all that is left), not after a wait. */
		int rv = act_recv(S.bus, &m, S.inflight ? 0 : 100);
		/* Drain what is queued into one group: one commit (fsync) for all of it. While a commit is
		 * in flight the group is signed ahead as it comes, and may grow past BATCH_MAX until that
		 * commit is done (sg_group_more). */
		while (rv == BUS_OK) {
			sm_on_frame(&m);
			bus_msg_free(&m);
			sm_presign_new();
			if (!sg_group_more(S.sg, S.in->n, cfg_batch, sm_cap))
				break;
			rv = act_recv(S.bus, &m, 0);
		}
		if (rv == BUS_ECLOSED)
			break;
		uint64_t lnow = rt_mono_ns();
		int due = lnow - last_lease >= cfg_lease_ms * 1000000u;
		sm_lease_tick(due, 0);
		if (due)
			last_lease = lnow;
		sm_held_flush();
		if (!sm_submit() || S.lease_state != SGL_ACTIVE)
			sm_complete();
		rt_health_set("gas", sgf_needs_quote(&sm_cfg.fees) && !sg_has_quote(S.sg),
		              "gas: waiting for gas.quote");
		uint64_t now = rt_mono_ns();
		if (S.lease_state == SGL_ACTIVE && !resent_all) {
			sm_complete();
			resent_all = 1;
			k = sg_resend(S.sg, rt_now_ns(), 1, sm_publish, NULL, err, sizeof err);
			if (k < 0)
				rt_log(RT_ERROR, "%s", err);
			else if (k > 0)
				rt_log(RT_INFO, "re-published %ld unacked tx.signed from the outbox", k);
			rt_add(S.m_republished, k > 0 ? (uint64_t)k : 0);
		}
		if (S.lease_state == SGL_ACTIVE && now - last_resend >= 200000000u) {
			sm_complete();
			last_resend = now;
			k = sg_resend(S.sg, rt_now_ns(), 0, sm_publish, NULL, err, sizeof err);
			if (k < 0)
				rt_log(RT_ERROR, "%s", err);
			else if (k > 0) {
				rt_add(S.m_republished, (uint64_t)k);
				rt_log(RT_DEBUG, "re-published %ld unacked tx.signed", k);
			}
		}
		if (last_prune == 0 || now - last_prune >= 3600000000000ull) {
			sm_complete();
			last_prune = now;
			long p = sg_prune(S.sg, rt_now_ns() - cfg_dedupe_ttl_ms * 1000000u, err, sizeof err);
			if (p < 0)
				rt_log(RT_WARN, "dedupe prune: %s", err);
		}
	}
	sm_complete();
	if (sm_submit())
		sm_complete();
	sm_lease_tick(1, 1); /* released: another signer of this address may take over now */
	bus_pub_wait(act_pub(S.bus), 1, 500);
	rt_logkv(RT_INFO, "stopping", NULL);
	act_close(S.bus);
	sg_close(S.sg);
	rs_close(S.remote);
	if (sm_key)
		rt_secret_free(sm_key, 32);
	for (int i = 0; i < 2; i++) {
		free(S.bufs[i].items);
		free(S.bufs[i].res);
	}
	free(S.held);
	rt_shutdown();
	return 0;
}
