/* decode.c - the topic0-keyed table of CCIP event decoders (see decode.h).
 *
 * Each row names the event's canonical signature (whose keccak is topic0, checked by the unit
 * test against the reference's constants), the ABI type list of its non-indexed part (`data`),
 * the number of topics it must carry, and the function that maps the decoded ABI nodes into a
 * ct_event. The ABI decoder is strict (padding, offsets, lengths), so these functions only pick
 * fields and check what the ABI cannot: indexed copies agreeing with the data, enum ranges. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/ccip-tail/decode.h"
#include "chain/abi.h"
#include "base/hex.h"
#include "base/keccak.h"

#define T15                                                                                                            \
	"(uint64,address,address,uint64,uint256,bool,uint64,address,uint256,bytes,"                                    \
	"(address,uint256)[],bytes[],bytes32)"
#define T16                                                                                                            \
	"((bytes32,uint64,uint64,uint64,uint64),address,bytes,bytes,bytes,address,uint256,uint256,"                    \
	"(address,bytes,bytes,uint256,bytes)[])"
#define MR "(uint64,bytes,uint64,uint64,bytes32)"
#define PU "((address,uint224)[],(uint64,uint224)[])"

#define CT_MAX_NODES 4096 /* ABI nodes per log: a commit with hundreds of price updates still fits */

struct ct_dec {
	abi_val v[CT_MAX_NODES];
	uint8_t *buf; /* hex-decoded log data */
	size_t cap;
	char *sbuf; /* an escaped data string, unescaped */
	size_t scap;
};

typedef struct ct_ctx {
	const ct_log *lg;
	const abi_val *v;
	uint64_t self, peer;
	char *why;
	size_t whylen;
} ct_ctx;

typedef int (*ct_fn)(const ct_ctx *c, ct_event *ev);

typedef struct {
	const char *label;      /* metrics label */
	const char *sig;        /* canonical event signature */
	const char *data_types; /* ABI types of the non-indexed parameters */
	unsigned ntopics;       /* topic0 + indexed parameters */
	int kind;               /* CT_SEND | CT_EXEC | CT_COMMIT */
	ct_fn fn;
} ct_row;

static int ct_send15(const ct_ctx *c, ct_event *ev);
static int ct_send16(const ct_ctx *c, ct_event *ev);
static int ct_exec15(const ct_ctx *c, ct_event *ev);
static int ct_exec16(const ct_ctx *c, ct_event *ev);
static int ct_commit15(const ct_ctx *c, ct_event *ev);
static int ct_commit16(const ct_ctx *c, ct_event *ev);
static int ct_router(const ct_ctx *c, ct_event *ev);

static const ct_row ct_rows[] = {
	{ "CCIPSendRequested", "CCIPSendRequested(" T15 ")", "(" T15 ")", 1, CT_SEND, ct_send15 },
	{ "ExecutionStateChanged_v1.5", "ExecutionStateChanged(uint64,bytes32,uint8,bytes)", "(uint8,bytes)", 3,
	  CT_EXEC, ct_exec15 },
	{ "ReportAccepted", "ReportAccepted((" PU ",(uint64,uint64),bytes32))", "((" PU ",(uint64,uint64),bytes32))", 1,
	  CT_COMMIT, ct_commit15 },
	{ "CCIPMessageSent", "CCIPMessageSent(uint64,uint64," T16 ")", "(" T16 ")", 3, CT_SEND, ct_send16 },
	{ "ExecutionStateChanged_v1.6", "ExecutionStateChanged(uint64,uint64,bytes32,bytes32,uint8,bytes,uint256)",
	  "(bytes32,uint8,bytes,uint256)", 4, CT_EXEC, ct_exec16 },
	{ "CommitReportAccepted", "CommitReportAccepted(" MR "[]," MR "[]," PU ")", "(" MR "[]," MR "[]," PU ")", 1,
	  CT_COMMIT, ct_commit16 },
	{ "MessageExecuted", "MessageExecuted(bytes32,uint64,address,bytes32)", "(bytes32,uint64,address,bytes32)", 1,
	  CT_EXEC, ct_router },
};
#define CT_NROWS (sizeof ct_rows / sizeof ct_rows[0])

/* Parsed once: the signatures are constants, so a parse failure is a programming error. */
static abi_sig ct_sigs[CT_NROWS];
static uint8_t ct_topic0[CT_NROWS][32];
static const char *ct_names[CT_NROWS];
static pthread_once_t ct_once = PTHREAD_ONCE_INIT;

static void
ct_init(void)
{
	for (size_t i = 0; i < CT_NROWS; i++) {
		if (abi_parse_types(&ct_sigs[i], ct_rows[i].data_types, NULL) != ABI_OK) {
			fprintf(stderr, "ccip-tail: bad built-in ABI %s\n", ct_rows[i].data_types);
			abort();
		}
		abi_topic(ct_rows[i].sig, ct_topic0[i]);
		ct_names[i] = ct_rows[i].label;
	}
}

size_t
ct_topics(const uint8_t (**out)[32], const char *const **names)
{
	pthread_once(&ct_once, ct_init);
	if (out)
		*out = (const uint8_t(*)[32])ct_topic0;
	if (names)
		*names = ct_names;
	return CT_NROWS;
}

ct_dec *
ct_dec_new(void)
{
	pthread_once(&ct_once, ct_init);
	return calloc(1, sizeof(ct_dec));
}

void
ct_dec_free(ct_dec *d)
{
	if (d == NULL)
		return;
	free(d->buf);
	free(d->sbuf);
	free(d);
}

static int
ct_bad(const ct_ctx *c, const char *what)
{
	if (c->why)
		snprintf(c->why, c->whylen, "%s", what);
	return CT_EBAD;
}

/* An indexed uint64 is a 32-byte word whose top 24 bytes are zero. */
static int
ct_topic_u64(const uint8_t t[32], uint64_t *x)
{
	for (int i = 0; i < 24; i++)
		if (t[i])
			return -1;
	*x = 0;
	for (int i = 24; i < 32; i++)
		*x = *x << 8 | t[i];
	return 0;
}

static void
ct_fill_log(const ct_log *lg, sc_ccip_msg *m)
{
	memcpy(m->contract, lg->address, 20);
	m->block_number = lg->block_number;
	memcpy(m->block_hash, lg->block_hash, 32);
	memcpy(m->tx_hash, lg->tx_hash, 32);
	m->log_index = lg->log_index;
	m->block_time_s = lg->block_time_s;
}

static void
ct_set_data(sc_ccip_msg *m, const abi_val *v)
{
	m->data_len = v->len;
	kec_256(v->p, v->len, m->data_hash);
}

static void
ct_set_bytes(uint8_t *dst, uint32_t *dlen, size_t cap, const abi_val *v)
{
	/* An abi-encoded EVM address (32 bytes, 12 leading zeros) is kept as its 20 bytes. */
	const uint8_t *p = v->p;
	size_t n = v->len;
	if (n == 32 && memcmp(p, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0) {
		p += 12;
		n = 20;
	}
	if (n > cap)
		n = cap; /* longer than any chain family's address: truncated, never overflowed */
	memcpy(dst, p, n);
	*dlen = (uint32_t)n;
}

static void
ct_set_ret(sc_ccip_msg *m, const abi_val *v)
{
	size_t n = v->len < sizeof m->return_data ? v->len : sizeof m->return_data;
	memcpy(m->return_data, v->p, n);
	m->return_data_len = (uint32_t)n;
}

/* ---- v1.5 ---------------------------------------------------------------------------------- */

static int
ct_send15(const ct_ctx *c, ct_event *ev)
{
	const abi_val *v = c->v;
	sc_ccip_msg *m = &ev->msg;
	size_t s = abi_child(v, 0, 0); /* the EVM2EVMMessage tuple */
	m->ccip_version = SC_CCIP_V1_5;
	m->state = SC_CCIP_SENT;
	if (abi_get_u64(&v[abi_child(v, s, 0)], &m->source_chain_selector) != ABI_OK ||
	    abi_get_u64(&v[abi_child(v, s, 3)], &m->sequence_number) != ABI_OK ||
	    abi_get_u64(&v[abi_child(v, s, 6)], &m->nonce) != ABI_OK)
		return ct_bad(c, "uint64 field out of range");
	m->dest_chain_selector = c->peer; /* one lane per v1.5 OnRamp: from the configuration */
	abi_get_address(&v[abi_child(v, s, 1)], m->sender);
	m->sender_len = 20;
	abi_get_address(&v[abi_child(v, s, 2)], m->receiver);
	m->receiver_len = 20;
	abi_get_address(&v[abi_child(v, s, 7)], m->fee_token);
	abi_get_u256(&v[abi_child(v, s, 8)], &m->fee_amount);
	ct_set_data(m, &v[abi_child(v, s, 9)]);
	size_t ta = abi_child(v, s, 10);
	for (uint32_t k = 0; k < v[ta].count && k < 16; k++) {
		size_t t = abi_child(v, ta, k);
		abi_get_address(&v[abi_child(v, t, 0)], m->token_amounts[k].token);
		abi_get_u256(&v[abi_child(v, t, 1)], &m->token_amounts[k].amount);
		m->token_amounts_count = k + 1;
	}
	memcpy(m->message_id, v[abi_child(v, s, 12)].word, 32);
	return CT_OK;
}

static int
ct_state(const ct_ctx *c, const abi_val *v, ct_event *ev)
{
	uint64_t st;
	if (abi_get_u64(v, &st) != ABI_OK || (st != CT_EX_SUCCESS && st != CT_EX_FAILURE))
		return ct_bad(c, "execution state is not SUCCESS or FAILURE");
	ev->exec_state = (int)st;
	return CT_OK;
}

static int
ct_exec15(const ct_ctx *c, ct_event *ev)
{
	sc_ccip_msg *m = &ev->msg;
	if (ct_topic_u64(c->lg->topics[1], &m->sequence_number) != 0)
		return ct_bad(c, "topic1 (sequenceNumber) is not a uint64");
	memcpy(m->message_id, c->lg->topics[2], 32);
	m->ccip_version = SC_CCIP_V1_5;
	m->source_chain_selector = c->peer; /* one lane per v1.5 OffRamp */
	m->dest_chain_selector = c->self;
	if (ct_state(c, &c->v[1], ev) != CT_OK)
		return CT_EBAD;
	ct_set_ret(m, &c->v[2]);
	return CT_OK;
}

static int
ct_commit15(const ct_ctx *c, ct_event *ev)
{
	const abi_val *v = c->v;
	size_t rep = abi_child(v, 0, 0);
	size_t iv = abi_child(v, rep, 1);
	ct_root *r = &ev->roots[0];
	if (abi_get_u64(&v[abi_child(v, iv, 0)], &r->min_seq) != ABI_OK ||
	    abi_get_u64(&v[abi_child(v, iv, 1)], &r->max_seq) != ABI_OK)
		return ct_bad(c, "interval out of range");
	if (r->min_seq > r->max_seq)
		return ct_bad(c, "interval min > max");
	r->source_selector = c->peer;
	r->onramp_len = 0;
	memcpy(r->root, v[abi_child(v, rep, 2)].word, 32);
	ev->nroots = 1;
	ev->msg.ccip_version = SC_CCIP_V1_5;
	ev->msg.source_chain_selector = c->peer;
	ev->msg.dest_chain_selector = c->self;
	return CT_OK;
}

/* ---- v1.6 ---------------------------------------------------------------------------------- */

static int
ct_send16(const ct_ctx *c, ct_event *ev)
{
	const abi_val *v = c->v;
	sc_ccip_msg *m = &ev->msg;
	size_t s = abi_child(v, 0, 0); /* EVM2AnyRampMessage */
	size_t h = abi_child(v, s, 0); /* RampMessageHeader */
	uint64_t tdest, tseq;
	m->ccip_version = SC_CCIP_V1_6;
	m->state = SC_CCIP_SENT;
	memcpy(m->message_id, v[abi_child(v, h, 0)].word, 32);
	if (abi_get_u64(&v[abi_child(v, h, 1)], &m->source_chain_selector) != ABI_OK ||
	    abi_get_u64(&v[abi_child(v, h, 2)], &m->dest_chain_selector) != ABI_OK ||
	    abi_get_u64(&v[abi_child(v, h, 3)], &m->sequence_number) != ABI_OK ||
	    abi_get_u64(&v[abi_child(v, h, 4)], &m->nonce) != ABI_OK)
		return ct_bad(c, "header uint64 out of range");
	/* The indexed copies must agree with the header: a log that disagrees is not trusted. */
	if (ct_topic_u64(c->lg->topics[1], &tdest) != 0 || ct_topic_u64(c->lg->topics[2], &tseq) != 0)
		return ct_bad(c, "indexed selector/sequence is not a uint64");
	if (tdest != m->dest_chain_selector || tseq != m->sequence_number)
		return ct_bad(c, "indexed destChainSelector/sequenceNumber disagree with the header");
	abi_get_address(&v[abi_child(v, s, 1)], m->sender);
	m->sender_len = 20;
	ct_set_data(m, &v[abi_child(v, s, 2)]);
	ct_set_bytes(m->receiver, &m->receiver_len, sizeof m->receiver, &v[abi_child(v, s, 3)]);
	abi_get_address(&v[abi_child(v, s, 5)], m->fee_token);
	abi_get_u256(&v[abi_child(v, s, 6)], &m->fee_amount);
	size_t ta = abi_child(v, s, 8);
	for (uint32_t k = 0; k < v[ta].count && k < 16; k++) {
		size_t t = abi_child(v, ta, k);
		/* EVM2AnyTokenTransfer has no source token field: the source pool stands for it. */
		abi_get_address(&v[abi_child(v, t, 0)], m->token_amounts[k].token);
		abi_get_u256(&v[abi_child(v, t, 3)], &m->token_amounts[k].amount);
		m->token_amounts_count = k + 1;
	}
	return CT_OK;
}

static int
ct_exec16(const ct_ctx *c, ct_event *ev)
{
	sc_ccip_msg *m = &ev->msg;
	if (ct_topic_u64(c->lg->topics[1], &m->source_chain_selector) != 0 ||
	    ct_topic_u64(c->lg->topics[2], &m->sequence_number) != 0)
		return ct_bad(c, "indexed sourceChainSelector/sequenceNumber is not a uint64");
	memcpy(m->message_id, c->lg->topics[3], 32);
	m->ccip_version = SC_CCIP_V1_6;
	m->dest_chain_selector = c->self;
	if (ct_state(c, &c->v[2], ev) != CT_OK)
		return CT_EBAD;
	ct_set_ret(m, &c->v[3]);
	return CT_OK;
}

static int
ct_commit16(const ct_ctx *c, ct_event *ev)
{
	const abi_val *v = c->v;
	ev->msg.ccip_version = SC_CCIP_V1_6;
	ev->msg.dest_chain_selector = c->self;
	/* blessed and unblessed roots both commit (the difference is RMN's, not the lifecycle's) */
	for (uint32_t list = 0; list < 2; list++) {
		size_t arr = abi_child(v, 0, list);
		for (uint32_t k = 0; k < v[arr].count; k++) {
			if (ev->nroots == CT_MAX_ROOTS)
				return ct_bad(c, "more merkle roots than CT_MAX_ROOTS");
			size_t t = abi_child(v, arr, k);
			ct_root *r = &ev->roots[ev->nroots];
			if (abi_get_u64(&v[abi_child(v, t, 0)], &r->source_selector) != ABI_OK ||
			    abi_get_u64(&v[abi_child(v, t, 2)], &r->min_seq) != ABI_OK ||
			    abi_get_u64(&v[abi_child(v, t, 3)], &r->max_seq) != ABI_OK)
				return ct_bad(c, "merkle root uint64 out of range");
			if (r->min_seq > r->max_seq)
				return ct_bad(c, "merkle root minSeqNr > maxSeqNr");
			const abi_val *on = &v[abi_child(v, t, 1)];
			ct_set_bytes(r->onramp, &r->onramp_len, sizeof r->onramp, on);
			memcpy(r->root, v[abi_child(v, t, 4)].word, 32);
			ev->nroots++;
		}
	}
	return CT_OK;
}

/* ---- Router --------------------------------------------------------------------------------- */

static int
ct_router(const ct_ctx *c, ct_event *ev)
{
	sc_ccip_msg *m = &ev->msg;
	memcpy(m->message_id, c->v[1].word, 32);
	if (abi_get_u64(&c->v[2], &m->source_chain_selector) != ABI_OK)
		return ct_bad(c, "sourceChainSelector out of range");
	m->dest_chain_selector = c->self;
	/* Only successful receiver calls survive on real deployments (the OffRamp reverts the
	 * Router call otherwise), so this event means SUCCESS. */
	ev->exec_state = CT_EX_SUCCESS;
	ev->from_router = 1;
	m->ccip_version = SC_CCIP_V1_6;
	return CT_OK;
}

/* ---- entry points ---------------------------------------------------------------------------- */

static const ct_row *
ct_find(const uint8_t t0[32], size_t *idx)
{
	for (size_t i = 0; i < CT_NROWS; i++)
		if (memcmp(ct_topic0[i], t0, 32) == 0) {
			*idx = i;
			return &ct_rows[i];
		}
	return NULL;
}

int
ct_decode(ct_dec *d, const ct_log *lg, uint64_t self, uint64_t peer, ct_event *ev, char *why, size_t whylen)
{
	size_t i, nv, off = 0;
	pthread_once(&ct_once, ct_init);
	memset(ev, 0, sizeof *ev);
	if (why && whylen)
		why[0] = '\0';
	if (lg->ntopics == 0)
		return CT_EUNKNOWN;
	const ct_row *row = ct_find(lg->topics[0], &i);
	if (row == NULL)
		return CT_EUNKNOWN;
	ct_ctx c = { lg, d->v, self, peer, why, whylen };
	ev->name = row->label;
	if (lg->ntopics != row->ntopics) {
		if (why)
			snprintf(why, whylen, "%u topics, %s has %u", lg->ntopics, row->label, row->ntopics);
		return CT_EBAD;
	}
	int rc = abi_decode(&ct_sigs[i], lg->data, lg->data_len, d->v, CT_MAX_NODES, &nv, &off);
	if (rc != ABI_OK) {
		if (why)
			snprintf(why, whylen, "data: %s at byte %zu", abi_strerror(rc), off);
		return CT_EBAD;
	}
	ev->kind = row->kind;
	rc = row->fn(&c, ev);
	if (rc != CT_OK)
		return rc;
	ct_fill_log(lg, &ev->msg);
	return CT_OK;
}

/* ---- eth_getLogs JSON ------------------------------------------------------------------------ */
/* The raw response is read with chain/jscan: js_validate once per response (chain/rpc.c does it),
 * then one pass over each log's members. Each field is checked exactly as the jansson reader this
 * replaces did (the same grammar, the same order of checks, the same reasons); a string with an
 * escape is unescaped first, as jansson would have. jansson's JSON_REJECT_DUPLICATES refused a
 * duplicate key anywhere in the response; here a member this reader uses that appears twice in a
 * log makes the log malformed ("duplicate <name>"), and duplicates of members it ignores are
 * ignored. */

enum {
	CT_F_ADDRESS,
	CT_F_NUMBER,
	CT_F_HASH,
	CT_F_TX,
	CT_F_INDEX,
	CT_F_TIME,
	CT_F_TOPICS,
	CT_F_DATA,
	CT_F_REMOVED,
	CT_NF
};
static const char *const ct_fields[CT_NF] = { "address",         "blockNumber", "blockHash",
	                                      "transactionHash", "logIndex",    "blockTimestamp",
	                                      "topics",          "data",        "removed" };

static int
ct_field(const js_val *key)
{
	const char *p;
	size_t n;
	if (js_string_raw(key, &p, &n) == 0) {
		for (int f = 0; f < CT_NF; f++)
			if (strlen(ct_fields[f]) == n && memcmp(ct_fields[f], p, n) == 0)
				return f;
		return -1;
	}
	for (int f = 0; f < CT_NF; f++)
		if (js_key_eq(key, ct_fields[f]))
			return f;
	return -1;
}

/* The members this reader uses, by field; dup names the first duplicate, or is -1. */
static void
ct_members(const js_val *j, js_val *f, int *dup)
{
	js_iter it;
	js_val k, v;
	for (int i = 0; i < CT_NF; i++)
		f[i].type = JS_NONE;
	*dup = -1;
	js_iter_init(&it, j);
	while (js_iter_next(&it, &k, &v)) {
		int i = ct_field(&k);
		if (i < 0)
			continue;
		if (f[i].type != JS_NONE && *dup < 0)
			*dup = i;
		f[i] = v;
	}
}

/* A string's text: in place when it has no escape, else unescaped into buf. 0, or -1. */
static int
ct_js_text(const js_val *v, char *buf, size_t cap, const char **s, size_t *n)
{
	if (js_string_raw(v, s, n) == 0)
		return 0;
	long l = js_string(v, buf, cap);
	if (l < 0)
		return -1;
	*s = buf;
	*n = (size_t)l;
	return 0;
}

int
ct_js_hex(const js_val *v, uint8_t *out, size_t n)
{
	char buf[160];
	const char *s;
	size_t l;
	if (v == NULL || ct_js_text(v, buf, sizeof buf, &s, &l) != 0)
		return -1;
	return hex_decode_exact(s, l, out, n) == HEX_OK ? 0 : -1;
}

int
ct_js_quantity(const js_val *v, uint64_t *out)
{
	char buf[64];
	const char *s;
	size_t l;
	if (v == NULL || ct_js_text(v, buf, sizeof buf, &s, &l) != 0)
		return -1;
	if (l < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || l > 18) /* 1 to 16 digits */
		return -1;
	uint64_t x = 0;
	for (size_t k = 2; k < l; k++) {
		int d = hex_digit(s[k]);
		if (d < 0)
			return -1;
		x = x << 4 | (uint64_t)d;
	}
	*out = x;
	return 0;
}

int
ct_log_block_from_js(const js_val *j, uint64_t *number, uint8_t hash[32], int *has_time)
{
	js_val f[CT_NF];
	int dup, got = 0;
	if (j->type != JS_OBJECT)
		return 0;
	ct_members(j, f, &dup);
	if (ct_js_quantity(&f[CT_F_NUMBER], number) == 0)
		got |= 1;
	if (ct_js_hex(&f[CT_F_HASH], hash, 32) == 0)
		got |= 2;
	*has_time = f[CT_F_TIME].type != JS_NONE;
	return got;
}

static int
ct_jwhy(char *why, size_t whylen, const char *what)
{
	if (why)
		snprintf(why, whylen, "%s", what);
	return -1;
}

int
ct_log_from_js(ct_dec *d, const js_val *j, ct_log *lg, char *why, size_t whylen)
{
	js_val f[CT_NF];
	int dup;
	memset(lg, 0, sizeof *lg);
	if (j->type != JS_OBJECT)
		return ct_jwhy(why, whylen, "log is not an object");
	ct_members(j, f, &dup);
	if (dup >= 0) {
		if (why)
			snprintf(why, whylen, "duplicate %s", ct_fields[dup]);
		return -1;
	}
	if (ct_js_hex(&f[CT_F_ADDRESS], lg->address, 20) != 0)
		return ct_jwhy(why, whylen, "address");
	if (ct_js_quantity(&f[CT_F_NUMBER], &lg->block_number) != 0)
		return ct_jwhy(why, whylen, "blockNumber");
	if (ct_js_hex(&f[CT_F_HASH], lg->block_hash, 32) != 0)
		return ct_jwhy(why, whylen, "blockHash");
	if (ct_js_hex(&f[CT_F_TX], lg->tx_hash, 32) != 0)
		return ct_jwhy(why, whylen, "transactionHash");
	if (ct_js_quantity(&f[CT_F_INDEX], &lg->log_index) != 0)
		return ct_jwhy(why, whylen, "logIndex");
	if (f[CT_F_TIME].type != JS_NONE) {
		if (ct_js_quantity(&f[CT_F_TIME], &lg->block_time_s) != 0)
			return ct_jwhy(why, whylen, "blockTimestamp");
		lg->has_block_time = 1;
	}
	const js_val *t = &f[CT_F_TOPICS];
	js_iter it;
	js_val x;
	if (t->type != JS_ARRAY || js_count(t) > 4)
		return ct_jwhy(why, whylen, "topics");
	js_iter_init(&it, t);
	while (js_iter_next(&it, NULL, &x)) {
		if (ct_js_hex(&x, lg->topics[lg->ntopics], 32) != 0)
			return ct_jwhy(why, whylen, "topic");
		lg->ntopics++;
	}
	lg->removed = f[CT_F_REMOVED].type == JS_TRUE;
	const js_val *dv = &f[CT_F_DATA];
	const char *data;
	size_t hl, n;
	if (dv->type != JS_STRING)
		return ct_jwhy(why, whylen, "data");
	if (js_string_raw(dv, &data, &hl) != 0) {
		/* escaped (legal, never seen from a node): unescaped text is never longer */
		if (dv->n > d->scap) {
			char *nb = realloc(d->sbuf, dv->n);
			if (nb == NULL)
				return ct_jwhy(why, whylen, "out of memory");
			d->sbuf = nb;
			d->scap = dv->n;
		}
		long l = js_string(dv, d->sbuf, d->scap);
		if (l < 0)
			return ct_jwhy(why, whylen, "data");
		data = d->sbuf;
		hl = (size_t)l;
	}
	if (hl < 2 || data[0] != '0' || data[1] != 'x')
		return ct_jwhy(why, whylen, "data prefix");
	if ((hl - 2) / 2 + 1 > d->cap) {
		size_t cap = (hl - 2) / 2 + 64;
		uint8_t *nb = realloc(d->buf, cap);
		if (nb == NULL)
			return ct_jwhy(why, whylen, "out of memory");
		d->buf = nb;
		d->cap = cap;
	}
	if (hex_decode(data, hl, HEX_PREFIX_REQUIRED, d->buf, d->cap, &n, NULL) != HEX_OK)
		return ct_jwhy(why, whylen, "data hex");
	lg->data = d->buf;
	lg->data_len = n;
	return 0;
}
