/* erc20.c - token-erc20: calls, receipt check and the request state machine (erc20.h). */
#include "actors/token-erc20/erc20.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "chain/abi.h"
#include "base/hex.h"
#include "chain/revert.h"
#include "chain/rpc.h"
#include "schemas/schema.h"
#include "store/store.h"

static const uint8_t te_zero[32];

int
te_is_zero(const uint8_t *b, size_t n)
{
	return memcmp(b, te_zero, n) == 0;
}

static void
te_word_addr(uint8_t w[32], const uint8_t a[20])
{
	memset(w, 0, 12);
	memcpy(w + 12, a, 20);
}

static void
te_word_u64(uint8_t w[32], uint64_t v)
{
	memset(w, 0, 24);
	for (int i = 31; i >= 24; i--, v >>= 8)
		w[i] = (uint8_t)v;
}

int
te_calldata(const te_cfg *c, const sc_token_request *req, uint8_t *out, size_t cap, size_t *len, char reason[8],
            char *why, size_t whylen)
{
	const char *sig;
	int nfrom = 0, nto = 0;
	snprintf(reason, 8, "NARR");
	if (te_is_zero(req->token, 20)) {
		snprintf(why, whylen, "no token contract in the request");
		return -1;
	}
	if (c->ntokens) {
		size_t i;
		for (i = 0; i < c->ntokens && memcmp(c->tokens[i], req->token, 20) != 0; i++)
			;
		if (i == c->ntokens) {
			snprintf(reason, 8, "AG01");
			snprintf(why, whylen, "token contract not in this backend's TOKENS");
			return -1;
		}
	}
	if (u256_is_zero(&req->amount)) {
		snprintf(reason, 8, "AM01");
		snprintf(why, whylen, "zero amount");
		return -1;
	}
	switch (req->kind) {
	case SC_TOKEN_MINT:
		sig = "mint(address,uint256)";
		nto = 1;
		break;
	case SC_TOKEN_BURN:
		sig = c->burn_fn == TE_BURN_BURNFROM ? "burnFrom(address,uint256)" : "burn(address,uint256)";
		nfrom = 1;
		break;
	case SC_TOKEN_TRANSFER:
		sig = c->transfer_fn == TE_XFER_WITHDATA ? "transferWithData(address,address,uint256,bytes)"
		                                         : "transferFrom(address,address,uint256)";
		nfrom = nto = 1;
		break;
	default:
		snprintf(why, whylen, "operation %s is not done by the erc20 backend",
		         sc_enum_name(&SC_TOKEN_REQUEST, "kind", req->kind)
		                 ? sc_enum_name(&SC_TOKEN_REQUEST, "kind", req->kind)
		                 : "?");
		return -1;
	}
	if ((nfrom && te_is_zero(req->from, 20)) || (nto && te_is_zero(req->to, 20))) {
		snprintf(reason, 8, "AC01");
		snprintf(why, whylen, "%s address missing", nfrom && te_is_zero(req->from, 20) ? "from" : "to");
		return -1;
	}
	size_t need =
	        4 + 32 * (size_t)(nfrom + nto + 1) + (c->transfer_fn == TE_XFER_WITHDATA && nfrom && nto ? 64 : 0);
	if (cap < need) {
		snprintf(why, whylen, "calldata buffer too small");
		return -1;
	}
	uint8_t *p = out;
	abi_selector(sig, p);
	p += 4;
	if (nfrom) {
		te_word_addr(p, req->from);
		p += 32;
	}
	if (nto) {
		te_word_addr(p, req->to);
		p += 32;
	}
	u256_to_be(&req->amount, p);
	p += 32;
	if (req->kind == SC_TOKEN_TRANSFER && c->transfer_fn == TE_XFER_WITHDATA) {
		te_word_u64(p, 4 * 32); /* offset of the empty bytes, after the 4 head words */
		te_word_u64(p + 32, 0); /* its length */
		p += 64;
	}
	*len = (size_t)(p - out);
	reason[0] = '\0';
	return 0;
}

void
te_expected(const sc_token_request *req, uint8_t from[20], uint8_t to[20])
{
	memset(from, 0, 20);
	memset(to, 0, 20);
	if (req->kind != SC_TOKEN_MINT)
		memcpy(from, req->from, 20);
	if (req->kind != SC_TOKEN_BURN)
		memcpy(to, req->to, 20);
}

/* ---- receipt ---------------------------------------------------------------------------------- */

static int
te_hex_field(const json_t *o, const char *name, uint8_t *out, size_t n)
{
	return rpc_parse_bytes(json_object_get(o, name), out, n);
}

void
te_match_receipt(const json_t *r, const sc_token_request *req, te_receipt *out)
{
	uint8_t tfrom[20], tto[20], amount[32], topic[32];
	uint64_t status;
	memset(out, 0, sizeof *out);
	if (r == NULL || json_is_null(r)) {
		out->outcome = TE_RC_ABSENT;
		snprintf(out->text, sizeof out->text, "no receipt");
		return;
	}
	const json_t *logs = json_object_get(r, "logs");
	if (!json_is_object(r) || rpc_parse_u64(json_object_get(r, "status"), &status) != 0 ||
	    rpc_parse_u64(json_object_get(r, "blockNumber"), &out->block_number) != 0 ||
	    te_hex_field(r, "transactionHash", out->tx_hash, 32) != 0 || !json_is_array(logs)) {
		out->outcome = TE_RC_BAD;
		snprintf(out->text, sizeof out->text, "receipt lacks status, blockNumber, transactionHash or logs");
		return;
	}
	te_hex_field(r, "from", out->from, 20);
	if (status != 1) {
		out->outcome = TE_RC_REVERTED;
		snprintf(out->text, sizeof out->text, "reverted on chain in block %llu",
		         (unsigned long long)out->block_number);
		return;
	}
	te_expected(req, tfrom, tto);
	u256_to_be(&req->amount, amount);
	abi_topic("Transfer(address,address,uint256)", topic);
	size_t i;
	const json_t *l;
	for (i = 0; i < json_array_size(logs) && (l = json_array_get(logs, i)) != NULL; i++) {
		uint8_t addr[20], t[3][32], data[32];
		const json_t *topics = json_object_get(l, "topics");
		if (te_hex_field(l, "address", addr, 20) != 0 || memcmp(addr, req->token, 20) != 0 ||
		    !json_is_array(topics) || json_array_size(topics) != 3)
			continue;
		int ok = 1;
		for (size_t k = 0; k < 3 && ok; k++)
			ok = rpc_parse_bytes(json_array_get(topics, k), t[k], 32) == 0;
		if (!ok || te_hex_field(l, "data", data, 32) != 0)
			continue;
		if (memcmp(t[0], topic, 32) == 0 && te_is_zero(t[1], 12) && memcmp(t[1] + 12, tfrom, 20) == 0 &&
		    te_is_zero(t[2], 12) && memcmp(t[2] + 12, tto, 20) == 0 && memcmp(data, amount, 32) == 0) {
			out->outcome = TE_RC_OK;
			snprintf(out->text, sizeof out->text, "Transfer log %zu matches", i);
			return;
		}
	}
	out->outcome = TE_RC_NO_TRANSFER;
	snprintf(out->text, sizeof out->text, "succeeded but no Transfer(from, to, amount) log of the token");
}

void
te_revert_reason(const uint8_t *data, size_t len, char reason[8], char *text, size_t textlen)
{
	static const struct {
		const char *sig, *reason, *text;
	} known[] = {
		{ "ERC20InsufficientBalance(address,uint256,uint256)", "AM04", "insufficient token balance" },
		{ "ERC20InsufficientAllowance(address,uint256,uint256)", "AG01",
		  "the holder's allowance to the issuer does not cover it" },
		{ "AccessControlUnauthorizedAccount(address,bytes32)", "NARR", "the issuer key lacks the token role" },
	};
	uint8_t sel[4];
	snprintf(reason, 8, "NARR");
	for (size_t i = 0; len >= 4 && i < sizeof known / sizeof known[0]; i++) {
		abi_selector(known[i].sig, sel);
		if (memcmp(data, sel, 4) == 0) {
			snprintf(reason, 8, "%s", known[i].reason);
			snprintf(text, textlen, "reverted: %s", known[i].text);
			return;
		}
	}
	rv_describe(data, len, text, textlen);
}

/* ---- state machine ------------------------------------------------------------------------------ */

int
te_ref_id(const char *ref, uint8_t id[16])
{
	return strlen(ref) == 32 && hex_decode_exact(ref, 32, id, 16) == HEX_OK ? 0 : -1;
}

static int
te_store_emit(te_ctx *x, tq_rec *rec, uint64_t now_ns, char *err, size_t errlen)
{
	int rv;
	rec->updated_ns = now_ns;
	if ((rv = tq_put(x->q, rec, err, errlen)) != 0)
		return rv;
	return tq_emit(x->q, rec, now_ns, err, errlen);
}

/* A state machine's result: the store's code, and the outcome only when it is 0. */
static int
te_out(int rv, int *out, int outcome)
{
	if (rv == 0)
		*out = outcome;
	return rv;
}

int
te_on_request(te_ctx *x, const sc_token_request *req, const char *refuse, uint64_t now_ns, tq_rec *rec, int *out,
              char *err, size_t errlen)
{
	static uint8_t body[SC_MAX_BODY];
	sc_tx_request tr;
	char why[160], reason[8];
	size_t len;
	sc_err se;
	int t, rv;
	*out = 0;
	if ((rv = tq_take(x->q, req, now_ns, rec, &t, err, errlen)) != 0)
		return rv;
	if (t != TQ_T_NEW) {
		/* Answer again: the tokenizer re-publishes until it sees a result (ours may have been lost). */
		return te_out(tq_emit(x->q, rec, now_ns, err, errlen), out,
		              t == TQ_T_KNOWN ? TE_O_REPEAT : TE_O_CONFLICT);
	}
	memset(&tr, 0, sizeof tr);
	if (refuse && refuse[0])
		snprintf(reason, sizeof reason, "NARR"), snprintf(why, sizeof why, "%s", refuse);
	if ((refuse && refuse[0]) ||
	    te_calldata(x->cfg, req, tr.data, sizeof tr.data, &len, reason, why, sizeof why) != 0) {
		rec->state = TQ_REJECTED;
		snprintf(rec->reason, sizeof rec->reason, "%s", reason);
		snprintf(rec->error, sizeof rec->error, "%s", why);
		return te_out(te_store_emit(x, rec, now_ns, err, errlen), out, TE_O_REJECTED);
	}
	memcpy(tr.id, rec->id, 16);
	tr.chain_id = x->cfg->chain_id;
	memcpy(tr.to, req->token, 20);
	tr.data_len = (uint32_t)len;
	tr.gas_limit = x->cfg->gas_limit;
	hex_encode(rec->id, 16, 0, tr.ref);
	tr.requested_at_ns = now_ns;
	if (sc_encode(&SC_TX_REQUEST, &tr, body, sizeof body, &len, &se) != 0) {
		snprintf(err, errlen, "tx.request: %s", se.text);
		return OB_EENCODE;
	}
	rec->state = TQ_SUBMITTED;
	rec->next_ns = now_ns + x->cfg->stall_ns;
	if ((rv = tq_send(x->q, "tx.request", "tx.request", rec->id, body, len, 1, now_ns, err, errlen)) != 0)
		return rv;
	return te_out(te_store_emit(x, rec, now_ns, err, errlen), out, TE_O_NEW);
}

static const char *
te_txerr_text(const sc_tx_status *s)
{
	switch (s->error) {
	case SC_TXERR_REVERTED:
		return "reverted on chain";
	case SC_TXERR_INSUFFICIENT_FUNDS:
		return "the issuer account cannot pay for gas";
	case SC_TXERR_NONCE_TOO_LOW:
		return "nonce already used";
	default:
		return "transaction failed";
	}
}

int
te_on_tx_status(te_ctx *x, const sc_tx_status *s, uint64_t now_ns, tq_rec *rec, int *out, char *err, size_t errlen)
{
	uint8_t id[16];
	int rv;
	*out = 0;
	if (s->chain_id != x->cfg->chain_id || te_ref_id(s->ref, id) != 0)
		return te_out(0, out, TE_O_UNKNOWN);
	if ((rv = tq_get(x->q, id, rec, err, errlen)) == MDB_NOTFOUND)
		return te_out(0, out, TE_O_UNKNOWN);
	if (rv != 0)
		return rv;
	/* Any status of ours shows the signer has the request: stop re-publishing it. */
	if ((rv = tq_call_ack(x->q, id, NULL, err, errlen)) != 0)
		return rv;
	if (tq_terminal(rec->state))
		return te_out(0, out, TE_O_SAME);
	int same_hash = memcmp(rec->tx_hash, s->tx_hash, 32) == 0;
	int no_hash = te_is_zero(rec->tx_hash, 32);
	switch (s->state) {
	case SC_TX_PENDING:
	case SC_TX_INCLUDED:
		if (same_hash && rec->state == TQ_SUBMITTED)
			return te_out(0, out, TE_O_SAME);
		if (rec->state == TQ_MINED && same_hash)
			return te_out(0, out, TE_O_SAME); /* a late pending after the confirmation */
		memcpy(rec->tx_hash, s->tx_hash, 32);
		rec->state = TQ_SUBMITTED;
		rec->next_ns = now_ns + x->cfg->stall_ns;
		return te_out(te_store_emit(x, rec, now_ns, err, errlen), out, TE_O_CHANGED);
	case SC_TX_CONFIRMED:
	case SC_TX_FINAL:
		if (rec->state == TQ_MINED && same_hash)
			return te_out(0, out, TE_O_SAME);
		memcpy(rec->tx_hash, s->tx_hash, 32);
		rec->block_number = s->block_number;
		rec->state = TQ_MINED;
		rec->next_ns = now_ns; /* the receipt is checked at once */
		rec->updated_ns = now_ns;
		return te_out(tq_put(x->q, rec, err, errlen), out, TE_O_CHANGED);
	case SC_TX_FAILED:
		if (!same_hash && !no_hash)
			return te_out(0, out, TE_O_SAME); /* an older, replaced transaction */
		if (s->error == SC_TXERR_REVERTED && s->block_number) {
			/* mined and reverted: the receipt check confirms it and replays the call for the reason */
			memcpy(rec->tx_hash, s->tx_hash, 32);
			rec->block_number = s->block_number;
			rec->state = TQ_MINED;
			rec->next_ns = now_ns;
			rec->updated_ns = now_ns;
			return te_out(tq_put(x->q, rec, err, errlen), out, TE_O_CHANGED);
		}
		memcpy(rec->tx_hash, s->tx_hash, 32);
		rec->block_number = s->block_number;
		rec->state = TQ_FAILED;
		snprintf(rec->reason, sizeof rec->reason, "NARR");
		snprintf(rec->error, sizeof rec->error, "%s%s%.180s", te_txerr_text(s), s->error_text[0] ? ": " : "",
		         s->error_text);
		return te_out(te_store_emit(x, rec, now_ns, err, errlen), out, TE_O_CHANGED);
	case SC_TX_REPLACED:
		if (!same_hash || te_is_zero(s->replaced_by, 32))
			return te_out(0, out, TE_O_SAME);
		memcpy(rec->tx_hash, s->replaced_by, 32);
		rec->state = TQ_SUBMITTED;
		rec->next_ns = now_ns + x->cfg->stall_ns;
		return te_out(te_store_emit(x, rec, now_ns, err, errlen), out, TE_O_CHANGED);
	case SC_TX_REORGED:
	case SC_TX_DROPPED:
		if (rec->state != TQ_MINED || !same_hash)
			return te_out(0, out, TE_O_SAME);
		rec->state = TQ_SUBMITTED; /* the submitter follows it again */
		rec->next_ns = now_ns + x->cfg->stall_ns;
		rec->updated_ns = now_ns;
		return te_out(tq_put(x->q, rec, err, errlen), out, TE_O_CHANGED);
	default:
		return te_out(0, out, TE_O_SAME);
	}
}

int
te_on_receipt(te_ctx *x, const uint8_t id[16], const te_receipt *rc, uint64_t now_ns, uint64_t retry_ns, tq_rec *rec,
              int *out, char *err, size_t errlen)
{
	int rv;
	if ((rv = tq_get(x->q, id, rec, err, errlen)) == MDB_NOTFOUND)
		return te_out(0, out, TE_O_UNKNOWN);
	if (rv != 0)
		return rv;
	/* A SUBMITTED record is checked when its statuses stopped coming (te_stalled): only a receipt
	 * that is there moves it; otherwise it waits as before. */
	int submitted = rec->state == TQ_SUBMITTED && !te_is_zero(rec->tx_hash, 32);
	if (rec->state != TQ_MINED && !submitted)
		return te_out(0, out, TE_O_SAME);
	if (submitted && rc->outcome != TE_RC_OK && rc->outcome != TE_RC_REVERTED && rc->outcome != TE_RC_NO_TRANSFER)
		return te_out(0, out, TE_O_SAME);
	switch (rc->outcome) {
	case TE_RC_OK:
		rec->state = TQ_CONFIRMED;
		rec->block_number = rc->block_number;
		rec->error[0] = '\0';
		break;
	case TE_RC_REVERTED:
	case TE_RC_NO_TRANSFER:
		rec->state = TQ_FAILED;
		rec->block_number = rc->block_number;
		snprintf(rec->reason, sizeof rec->reason, "%s", rc->reason[0] ? rc->reason : "NARR");
		snprintf(rec->error, sizeof rec->error, "%s", rc->text);
		break;
	case TE_RC_ABSENT:
		rec->state = TQ_SUBMITTED;
		rec->next_ns = now_ns + x->cfg->stall_ns;
		rec->updated_ns = now_ns;
		return te_out(tq_put(x->q, rec, err, errlen), out, TE_O_CHANGED);
	default:
		rec->next_ns = now_ns + retry_ns;
		rec->attempts++;
		return te_out(tq_put(x->q, rec, err, errlen), out, TE_O_SAME);
	}
	return te_out(te_store_emit(x, rec, now_ns, err, errlen), out, TE_O_CHANGED);
}
