/* tokreq_testing.h - the fixtures the token backends' unit tests share (store/tokreq_test.c,
 * actors/token-erc20/erc20_test.c, actors/token-firefly/ff_test.c): a tq over a fresh temporary
 * LMDB directory, removed afterwards; the frames tq_commit and tq_resend published, captured for
 * assertions; and a token.request with the fields every backend needs.
 *
 * For tests only: include after <cmocka.h>. Everything is static (each test binary has its own
 * copy); the captured frames are copies in a static array, reset by tqt_store_open and tqt_reset. */
#ifndef OB_STORE_TOKREQ_TESTING_H
#define OB_STORE_TOKREQ_TESTING_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "schemas/schema.h"
#include "store/tokreq.h"

#define TQT_HOLDER "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define TQT_OTHER  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"

/* ---- captured frames ------------------------------------------------------------------------ */

typedef struct {
	char topic[64], type[32];
	uint8_t id[16];
	int has_id;
	uint8_t body[4096];
	size_t len;
} tqt_frame;
static tqt_frame tqt_frames[256];
static size_t tqt_nframes;

static inline void
tqt_reset(void)
{
	tqt_nframes = 0;
}

/* A tq_pub_fn: keeps a copy of the frame. */
static inline void
tqt_pub(void *arg, const char *topic, const char *type, const uint8_t *id, const uint8_t *body, size_t len)
{
	(void)arg;
	assert_true(tqt_nframes < sizeof tqt_frames / sizeof tqt_frames[0] && len <= sizeof tqt_frames[0].body);
	tqt_frame *f = &tqt_frames[tqt_nframes++];
	snprintf(f->topic, sizeof f->topic, "%s", topic);
	snprintf(f->type, sizeof f->type, "%s", type);
	f->has_id = id != NULL;
	if (id)
		memcpy(f->id, id, 16);
	memcpy(f->body, body, len);
	f->len = len;
}

static inline size_t
tqt_count(const char *topic)
{
	size_t n = 0;
	for (size_t i = 0; i < tqt_nframes; i++)
		n += strcmp(tqt_frames[i].topic, topic) == 0;
	return n;
}

static inline const tqt_frame *
tqt_last(const char *topic)
{
	for (size_t i = tqt_nframes; i-- > 0;)
		if (strcmp(tqt_frames[i].topic, topic) == 0)
			return &tqt_frames[i];
	return NULL;
}

/* Decodes the last token.result into *r (there must be one); returns its state. */
static inline int
tqt_last_result(sc_token_result *r)
{
	const tqt_frame *f = tqt_last("token.result");
	sc_err e;
	assert_non_null(f);
	assert_int_equal(sc_decode(&SC_TOKEN_RESULT, f->body, f->len, r, &e), 0);
	return r->state;
}

/* ---- a store in a temporary directory ---------------------------------------------------------- */

typedef struct {
	char dir[64];
	tq_cfg cfg;
	tq *q;
} tqt_store;

/* Opens (again, after a tq_close: a restart) the store in s->dir. */
static inline tq *
tqt_reopen(tqt_store *s)
{
	char err[256];
	if ((s->q = tq_open(s->dir, &s->cfg, err, sizeof err)) == NULL)
		fail_msg("%s", err);
	return s->q;
}

/* A fresh /tmp/<name>.XXXXXX with a tq configured as c; the captured frames are reset. */
static inline tq *
tqt_store_open(tqt_store *s, const char *name, const tq_cfg *c)
{
	snprintf(s->dir, sizeof s->dir, "/tmp/%.40s.XXXXXX", name);
	assert_non_null(mkdtemp(s->dir));
	s->cfg = *c;
	tqt_reset();
	return tqt_reopen(s);
}

static inline void
tqt_store_close(tqt_store *s)
{
	char cmd[128];
	tq_close(s->q);
	s->q = NULL;
	snprintf(cmd, sizeof cmd, "rm -rf %s", s->dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- requests ---------------------------------------------------------------------------------- */

/* A token.request for backend: key, kind, amount; from = TQT_HOLDER unless a mint, to = TQT_OTHER
 * unless a burn, received_at_ns 1. Pool, currency, decimals and token are the caller's. */
static inline void
tqt_request(sc_token_request *r, const char *backend, const char *key, int kind, uint64_t amount)
{
	memset(r, 0, sizeof *r);
	snprintf(r->idempotency_key, sizeof r->idempotency_key, "%s", key);
	r->kind = kind;
	u256_from_u64(&r->amount, amount);
	if (kind != SC_TOKEN_MINT)
		assert_int_equal(hex_addr_parse(TQT_HOLDER, strlen(TQT_HOLDER), r->from), HEX_OK);
	if (kind != SC_TOKEN_BURN)
		assert_int_equal(hex_addr_parse(TQT_OTHER, strlen(TQT_OTHER), r->to), HEX_OK);
	r->received_at_ns = 1;
	snprintf(r->backend, sizeof r->backend, "%s", backend);
}

#endif
