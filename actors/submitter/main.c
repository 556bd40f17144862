/* submitter: sends the signer's transactions to the chain and follows each to finality
 * (see submitter.h for the flow and README.md for the options, topics, metrics and tables).
 *
 *   RPC_URL=http://127.0.0.1:8545 STATE_DIR=/var/lib/submitter build/bin/submitter */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "actors/submitter/submitter.h"
#include "bus/actor.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/hex.h"
#include "chain/rpc.h"
#include "chain/tx.h"
#include "store/store.h"

static act_bus_cfg busc;
static sub_cfg cfg;
static const char *rpc_urls, *state_dir;
static uint64_t rpc_timeout_ms, rpc_chain_check_ms;

static uint8_t sm_seed_key[32]; /* PRIVATE_KEY, wiped in sm_check_signer */

/* SIGNER_ADDRESS, or the address of PRIVATE_KEY; one of the two is required, and when both are given
 * they must agree (a submitter syncing another account's nonces would stall its signer). */
static void
sm_check_signer(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	int given = 0, have_key = 0;
	uint8_t addr[20];
	for (int i = 0; i < 20; i++)
		given |= cfg.signer[i];
	for (int i = 0; i < 32; i++)
		have_key |= sm_seed_key[i];
	if (have_key && tx_address_from_key(sm_seed_key, addr) != 0) {
		rt_config_error(e, "PRIVATE_KEY", "no address could be derived from it");
		have_key = 0;
	}
	explicit_bzero(sm_seed_key, sizeof sm_seed_key);
	if (rt_config_failed(e, "SIGNER_ADDRESS") || rt_config_failed(e, "PRIVATE_KEY"))
		return;
	if (have_key && given && memcmp(addr, cfg.signer, 20) != 0)
		rt_config_error(e, "SIGNER_ADDRESS",
		                "is not the address of PRIVATE_KEY; set one of them, or the right pair");
	else if (have_key && !given)
		memcpy(cfg.signer, addr, 20);
	else if (!given)
		rt_config_error(e, "SIGNER_ADDRESS",
		                "required: the signer's address (or PRIVATE_KEY in this environment, "
		                "from which only the address is derived)");
	explicit_bzero(addr, sizeof addr);
}

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "RPC_URL", RT_HTTP_URL, NULL, "JSON-RPC endpoints, comma list = failover in order of preference", &rpc_urls,
	  0, 0, RPC_MAX_ENDPOINTS, RT_REQUIRED },
	{ "CHAIN_ID", RT_U64, "138", "expected chain id; endpoints on another chain are refused", &cfg.chain_id, 1,
	  INT64_MAX, 0, 0 },
	{ "STATE_DIR", RT_STR, "data/submitter", "LMDB directory (tables pending, done)", &state_dir, 0, 0, 0, 0 },
	/* Known at start: a fresh signer signs nothing before its first nonce.sync, so the address cannot
	 * be learned from a tx.signed (the submitter is one per key anyway). Given, or derived from the
	 * seed's PRIVATE_KEY when the same environment holds it (the address only; the key is wiped at
	 * once and scrubbed from the environment). */
	{ "SIGNER_ADDRESS", RT_ADDR, NULL,
	  "the signer's address: its nonces are synced, only its txs are sent; "
	  "unset = derived from PRIVATE_KEY",
	  cfg.signer, 0, 0, 20, 0 },
	RT_CHECK_ROW("SIGNER_ADDRESS", hex_addr_opt_check),
	{ "PRIVATE_KEY", RT_KEY, NULL,
	  "the seed's signing key, when this environment holds it: only the address "
	  "is derived (SIGNER_ADDRESS unset), the key is wiped at once; the signer alone signs",
	  sm_seed_key, 0, 0, 32, RT_SECRET | RT_SCRUB },
	RT_CHECK_ROW("", sm_check_signer),
	{ "CONFIRMATIONS", RT_U64, "3",
	  "confirmations for state confirmed, the inclusion block counting as the first (head - block + 1, as "
	  "ethers' wait(n)): 1 = included, 3 = two blocks on top; 0 acts as 1",
	  &cfg.confirmations, 0, 10000, 0, 0 },
	{ "FINALITY_DEPTH", RT_U64, "12",
	  "confirmations for state final, counted as CONFIRMATIONS (12 = eleven blocks on top); receipts are "
	  "re-checked until then",
	  &cfg.finality_depth, 1, 100000, 0, 0 },
	{ "BUMP_AFTER_BLOCKS", RT_U64, "3", "blocks a sent transaction may wait unmined before tx.bump (0 = never)",
	  &cfg.bump_after_blocks, 0, 100000, 0, 0 },
	{ "MAX_IN_FLIGHT", RT_U64, "16",
	  "transactions of the key sent and not yet mined at once (nonces above the lowest unmined one + this wait, "
	  "stored and acked, and are sent in nonce order as lower ones are mined)",
	  &cfg.max_in_flight, 1, 4096, 0, 0 },
	{ "SEND_BATCH_MAX", RT_U64, "16",
	  "calls in one JSON-RPC batch request: the window's due eth_sendRawTransaction (nonce order) and a poll's "
	  "receipt reads; 1 = one request per call. An endpoint that answers a batch with one error gets one call "
	  "per request from then on (logged, submitter_send_batch_refused_total)",
	  &cfg.send_batch_max, 1, SUB_SEND_BATCH_MAX, 0, 0 },
	{ "BUMP_PERCENT", RT_U64, "20", "fee increase of a bump in percent (at least 10, the nodes' minimum)",
	  &cfg.bump_percent, 10, 1000, 0, 0 },
	{ "POLL_INTERVAL", RT_DURATION, "1s", "receipt and head polling period", &cfg.poll_ms, 10, 600000, 0, 0 },
	{ "GAS_QUOTE_INTERVAL", RT_DURATION, "15s", "gas.quote period (also on every new block)", &cfg.quote_ms, 100,
	  3600000, 0, 0 },
	{ "NONCE_SYNC_INTERVAL", RT_DURATION, "5s",
	  "nonce.sync period (also at start; short, so a signer that starts later is synced within seconds)",
	  &cfg.nonce_sync_ms, 100, 86400000, 0, 0 },
	{ "RPC_TIMEOUT", RT_DURATION, "5s", "timeout of one JSON-RPC request", &rpc_timeout_ms, 50, 120000, 0, 0 },
	{ "RPC_CHAIN_CHECK", RT_DURATION, "60s",
	  "eth_chainId of the endpoint in use is asked again this often (also "
	  "after any reconnect); 0 = only on reconnect",
	  &rpc_chain_check_ms, 0, 86400000, 0, 0 },
};

int
main(int argc, char **argv)
{
	if (rt_init("submitter", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;
	char err[512];
	cfg.have_signer = 1; /* SIGNER_ADDRESS or PRIVATE_KEY's address: sm_check_signer */
	char signer[43];
	hex_addr_format(cfg.signer, signer);
	rt_logkv(RT_INFO, "signer address", "address", signer, NULL);
	st_env *env = NULL;
	st_err se;
	if (st_open(&env, state_dir, NULL, &se) != 0) {
		rt_logkv(RT_ERROR, "cannot open state", "dir", state_dir, "err", se.text, NULL);
		return 1;
	}
	/* An unreachable node is not fatal: the submitter starts degraded and keeps trying. */
	rpc *r = rpc_open(rpc_urls, cfg.chain_id, (int)rpc_timeout_ms, err, sizeof err);
	if (!r) {
		rt_logkv(RT_ERROR, "RPC_URL refused", "err", err, NULL);
		st_close(env);
		return 1;
	}
	rpc_set_chain_check_ms(r, (int)rpc_chain_check_ms);
	static const char *const topics[] = { "tx.signed", NULL };
	act_bus *a = act_open(&busc, ACT_PUB | ACT_SUB, topics, err, sizeof err);
	if (!a) {
		rt_logkv(RT_ERROR, "bus", "err", err, NULL);
		return 1;
	}
	sub *s = sub_open(&cfg, a, r, env, err, sizeof err);
	if (!s) {
		rt_logkv(RT_ERROR, "cannot start", "err", err, NULL);
		return 1;
	}
	rt_logkv(RT_INFO, "ready", NULL);
	uint64_t wait = 0;
	/* What is queued is taken as one batch: one LMDB commit for all of it, then the acks, then the
	 * sends in nonce order (a key's hundreds of feeds arrive as bursts of tx.signed). */
	while (!rt_stopping()) {
		sub_take(s, (int)(wait > 100 ? 100 : wait));
		wait = sub_tick(s);
		if (sub_polled(s))
			rt_ready(); /* after the first poll: the node answered, or /health says rpc */
	}
	rt_logkv(RT_INFO, "draining", "pending", "kept in LMDB", NULL);
	sub_close(s);
	act_close(a);
	rpc_close(r);
	st_close(env);
	rt_shutdown();
	return 0;
}
