/* tx.c — Ethereum transaction encoding, signing and strict decoding (legacy, types 1 and 2).
 *
 * Both the signing payload and the raw transaction are a list of fields. Each layout is first
 * lowered into a small table of (bytes, is_raw) fields — integers as minimal big-endian — whose
 * total RLP size is then known exactly, so one pass streams the list either into the caller's
 * buffer or straight into Keccak, without an intermediate copy or memmove.
 */
#include "chain/tx.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <string.h>
#include <sys/random.h>

#include "base/keccak.h"
#include "base/secp.h"
#include "chain/rlp.h"

/* ---- field tables ---- */

typedef struct {
	const uint8_t *p;
	size_t n;
	int raw; /* already RLP-encoded (the access list) */
} tx_field;

typedef struct {
	tx_field f[12];
	uint8_t num[12][32]; /* scratch for minimal big-endian integers */
	size_t nf;
} tx_fields;

static void
tx_add_bytes(tx_fields *fs, const uint8_t *p, size_t n, int raw)
{
	fs->f[fs->nf++] = (tx_field){ p, n, raw };
}

static void
tx_add_u64(tx_fields *fs, uint64_t v)
{
	uint8_t *b = fs->num[fs->nf];
	size_t n = 0;
	for (int i = 7; i >= 0; i--)
		if (n || (v >> (8 * i)) & 0xff)
			b[n++] = (uint8_t)(v >> (8 * i));
	tx_add_bytes(fs, b, n, 0);
}

static void
tx_add_be(tx_fields *fs, const uint8_t be[32])
{
	size_t z = 0;
	while (z < 32 && be[z] == 0)
		z++;
	memcpy(fs->num[fs->nf], be + z, 32 - z);
	tx_add_bytes(fs, fs->num[fs->nf], 32 - z, 0);
}

static void
tx_add_u256(tx_fields *fs, const u256 *v)
{
	uint8_t be[32];
	u256_to_be(v, be);
	tx_add_be(fs, be);
}

static const uint8_t tx_empty_list = 0xc0;

/* Lays out the fields; signing = the payload that is hashed, else the signed raw tx. */
static int
tx_layout(const tx *t, int signing, tx_fields *fs)
{
	uint64_t v;
	int rc;
	fs->nf = 0;
	if (t->type != TX_LEGACY && t->type != TX_EIP2930 && t->type != TX_EIP1559)
		return TX_ETYPE;
	if (t->type != TX_LEGACY)
		tx_add_u64(fs, t->chain_id);
	tx_add_u64(fs, t->nonce);
	if (t->type == TX_EIP1559) {
		tx_add_u256(fs, &t->max_priority_fee);
		tx_add_u256(fs, &t->max_fee);
	} else {
		tx_add_u256(fs, &t->gas_price);
	}
	tx_add_u64(fs, t->gas_limit);
	tx_add_bytes(fs, t->to, t->has_to ? 20 : 0, 0);
	tx_add_u256(fs, &t->value);
	tx_add_bytes(fs, t->data, t->data_len, 0);
	if (t->type != TX_LEGACY) {
		if (t->access_list)
			tx_add_bytes(fs, t->access_list, t->access_list_len, 1);
		else
			tx_add_bytes(fs, &tx_empty_list, 1, 1);
		if (signing)
			return TX_OK;
		if (t->y_parity > 1)
			return TX_EV;
		tx_add_u64(fs, t->y_parity);
	} else if (signing) {
		if (t->chain_id) { /* EIP-155: chain_id, 0, 0 */
			tx_add_u64(fs, t->chain_id);
			tx_add_u64(fs, 0);
			tx_add_u64(fs, 0);
		}
		return TX_OK;
	} else {
		if ((rc = tx_legacy_v(t, &v)))
			return rc;
		tx_add_u64(fs, v);
	}
	tx_add_be(fs, t->r);
	tx_add_be(fs, t->s);
	return TX_OK;
}

int
tx_legacy_v(const tx *t, uint64_t *v)
{
	if (t->y_parity > 1)
		return TX_EV;
	if (t->chain_id > (UINT64_MAX - 36) / 2)
		return TX_ECHAIN;
	*v = t->chain_id ? t->chain_id * 2 + 35 + t->y_parity : 27u + t->y_parity;
	return TX_OK;
}

static size_t
tx_field_size(const tx_field *f)
{
	uint8_t h[9];
	if (f->raw || (f->n == 1 && f->p[0] < 0x80))
		return f->n;
	return rlp_encode_header(h, 0, f->n) + f->n;
}

/* Streams [type byte] + list to either a keccak context or a buffer. */
typedef struct {
	kec_ctx *k;
	uint8_t *buf;
	size_t cap, len;
} tx_sink;

static void
tx_put(tx_sink *o, const uint8_t *p, size_t n)
{
	if (o->k)
		kec_update(o->k, p, n);
	else if (o->len <= o->cap && n <= o->cap - o->len && n)
		memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void
tx_emit(const tx *t, const tx_fields *fs, tx_sink *o)
{
	uint8_t h[9], ty = (uint8_t)t->type;
	size_t payload = 0;
	for (size_t i = 0; i < fs->nf; i++)
		payload += tx_field_size(&fs->f[i]);
	if (t->type != TX_LEGACY)
		tx_put(o, &ty, 1);
	tx_put(o, h, rlp_encode_header(h, 1, payload));
	for (size_t i = 0; i < fs->nf; i++) {
		const tx_field *f = &fs->f[i];
		if (!f->raw && !(f->n == 1 && f->p[0] < 0x80))
			tx_put(o, h, rlp_encode_header(h, 0, f->n));
		tx_put(o, f->p, f->n);
	}
}

int
tx_signing_hash(const tx *t, uint8_t h[32])
{
	tx_fields fs;
	kec_ctx k;
	tx_sink o = { &k, NULL, 0, 0 };
	int rc = tx_layout(t, 1, &fs);
	if (rc)
		return rc;
	kec_init(&k);
	tx_emit(t, &fs, &o);
	kec_final(&k, h);
	return TX_OK;
}

int
tx_signing_payload(const tx *t, uint8_t *out, size_t cap, size_t *len)
{
	tx_fields fs;
	tx_sink o = { NULL, out, out ? cap : 0, 0 };
	int rc;
	*len = 0;
	if ((rc = tx_layout(t, 1, &fs)))
		return rc;
	tx_emit(t, &fs, &o);
	*len = o.len;
	return o.len <= o.cap ? TX_OK : TX_ESPACE;
}

int
tx_sign(tx *t, const uint8_t key[32])
{
	uint8_t h[32];
	return tx_sign_hash_out(t, key, h);
}

int
tx_sign_hash_out(tx *t, const uint8_t key[32], uint8_t h[32])
{
	int rc = tx_signing_hash(t, h);
	return rc ? rc : tx_sign_digest(t, key, h);
}

int
tx_sign_digest(tx *t, const uint8_t key[32], const uint8_t h[32])
{
	secp256k1_context *c = ob_secp();
	secp256k1_ecdsa_recoverable_signature sig;
	uint8_t rs[64];
	int recid;
	if (!c)
		return TX_ECTX;
	if (!secp256k1_ec_seckey_verify(c, key))
		return TX_EKEY;
	/* NULL nonce function = RFC 6979; libsecp256k1 always produces a low-s signature. */
	if (!secp256k1_ecdsa_sign_recoverable(c, &sig, h, key, NULL, NULL))
		return TX_EKEY;
	secp256k1_ecdsa_recoverable_signature_serialize_compact(c, rs, &recid, &sig);
	memcpy(t->r, rs, 32);
	memcpy(t->s, rs + 32, 32);
	t->y_parity = (uint8_t)recid;
	t->is_signed = 1;
	return TX_OK;
}

int
tx_encode(const tx *t, uint8_t *out, size_t cap, size_t *len)
{
	tx_fields fs;
	tx_sink o = { NULL, out, out ? cap : 0, 0 };
	int rc;
	*len = 0;
	if (!t->is_signed)
		return TX_EUNSIGNED;
	if ((rc = tx_layout(t, 0, &fs)))
		return rc;
	tx_emit(t, &fs, &o);
	*len = o.len;
	return o.len <= o.cap ? TX_OK : TX_ESPACE;
}

void
tx_hash(const uint8_t *raw, size_t n, uint8_t h[32])
{
	kec_256(raw, n, h);
}

/* ---- decoding ---- */

/* secp256k1 group order n and n/2, big-endian. */
static const uint8_t tx_order[32] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                              0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
	                              0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41 };
static const uint8_t tx_half_order[32] = { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                   0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
	                                   0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0 };
static const uint8_t tx_zero[32];

/* Field kinds of the decoder's per-type tables. */
enum {
	TF_U64,
	TF_U256,
	TF_TO,
	TF_DATA,
	TF_ACCESS,
	TF_V,
	TF_PARITY,
	TF_R,
	TF_S
};

typedef struct {
	uint8_t kind;
	size_t off;       /* offsetof the destination in tx */
	const char *name; /* for error messages and tx_field_name */
} tx_dfield;

#define TXF(k, m, nm)                                                                                                  \
	{                                                                                                              \
		k, offsetof(tx, m), nm                                                                                 \
	}
static const tx_dfield tx_legacy_fields[] = {
	TXF(TF_U64, nonce, "nonce"),
	TXF(TF_U256, gas_price, "gasPrice"),
	TXF(TF_U64, gas_limit, "gasLimit"),
	TXF(TF_TO, to, "to"),
	TXF(TF_U256, value, "value"),
	TXF(TF_DATA, data, "data"),
	TXF(TF_V, y_parity, "v"),
	TXF(TF_R, r, "r"),
	TXF(TF_S, s, "s"),
};
static const tx_dfield tx_2930_fields[] = {
	TXF(TF_U64, chain_id, "chainId"),
	TXF(TF_U64, nonce, "nonce"),
	TXF(TF_U256, gas_price, "gasPrice"),
	TXF(TF_U64, gas_limit, "gasLimit"),
	TXF(TF_TO, to, "to"),
	TXF(TF_U256, value, "value"),
	TXF(TF_DATA, data, "data"),
	TXF(TF_ACCESS, access_list, "accessList"),
	TXF(TF_PARITY, y_parity, "yParity"),
	TXF(TF_R, r, "r"),
	TXF(TF_S, s, "s"),
};
static const tx_dfield tx_1559_fields[] = {
	TXF(TF_U64, chain_id, "chainId"),
	TXF(TF_U64, nonce, "nonce"),
	TXF(TF_U256, max_priority_fee, "maxPriorityFeePerGas"),
	TXF(TF_U256, max_fee, "maxFeePerGas"),
	TXF(TF_U64, gas_limit, "gasLimit"),
	TXF(TF_TO, to, "to"),
	TXF(TF_U256, value, "value"),
	TXF(TF_DATA, data, "data"),
	TXF(TF_ACCESS, access_list, "accessList"),
	TXF(TF_PARITY, y_parity, "yParity"),
	TXF(TF_R, r, "r"),
	TXF(TF_S, s, "s"),
};
#define TX_NF(a) (sizeof(a) / sizeof(a)[0])

/* The decoder's table for a type; NULL for an unknown one. */
static const tx_dfield *
tx_table(int type, size_t *nf)
{
	switch (type) {
	case TX_LEGACY:
		*nf = TX_NF(tx_legacy_fields);
		return tx_legacy_fields;
	case TX_EIP2930:
		*nf = TX_NF(tx_2930_fields);
		return tx_2930_fields;
	case TX_EIP1559:
		*nf = TX_NF(tx_1559_fields);
		return tx_1559_fields;
	}
	*nf = 0;
	return NULL;
}

const char *
tx_field_name(int type, size_t i)
{
	size_t nf;
	const tx_dfield *tab = tx_table(type, &nf);
	return tab && i < nf ? tab[i].name : NULL;
}

/* A refusal: the item's offset in the RLP list (without the type byte) and why, for tx_derr. */
typedef struct {
	size_t off;
	const char *why;
} tx_bad;

static int
tx_refuse(tx_bad *b, const rlp_item *it, const char *why, int rc)
{
	b->off = it->off;
	b->why = why;
	return rc;
}

/* Access list: [[address(20), [key(32), ...]], ...]. On error *b names the refused item; the
 * counts (either may be NULL) cover the whole list when it is well-formed. */
static int
tx_walk_access(const rlp_item *al, tx_bad *b, size_t *addresses, size_t *keys)
{
	rlp_iter i, j, k;
	rlp_item e, a, ks, key;
	size_t na = 0, nk = 0;
	if (!al->is_list)
		return tx_refuse(b, al, "not a list", TX_EACCESS);
	rlp_iter_init(&i, al);
	while (rlp_iter_next(&i, &e, NULL) == 1) {
		if (!e.is_list || rlp_list_count(&e) != 2)
			return tx_refuse(b, &e, "an entry is not an [address, [storage keys]] pair", TX_EACCESS);
		rlp_iter_init(&j, &e);
		rlp_iter_next(&j, &a, NULL);
		rlp_iter_next(&j, &ks, NULL);
		if (a.is_list || a.len != 20)
			return tx_refuse(b, &a, "an address is not 20 bytes", TX_EACCESS);
		if (!ks.is_list)
			return tx_refuse(b, &ks, "storage keys are not a list", TX_EACCESS);
		rlp_iter_init(&k, &ks);
		while (rlp_iter_next(&k, &key, NULL) == 1) {
			if (key.is_list || key.len != 32)
				return tx_refuse(b, &key, "a storage key is not 32 bytes", TX_EACCESS);
			nk++;
		}
		na++;
	}
	if (addresses)
		*addresses = na;
	if (keys)
		*keys = nk;
	return TX_OK;
}

int
tx_access_count(const tx *t, size_t *addresses, size_t *keys)
{
	rlp_item al;
	tx_bad b;
	*addresses = *keys = 0;
	if (t->type == TX_LEGACY || !t->access_list)
		return TX_OK;
	if (rlp_decode(t->access_list, t->access_list_len, &al, NULL))
		return TX_EACCESS;
	return tx_walk_access(&al, &b, addresses, keys);
}

/* An unsigned integer of at most max bytes, minimal big-endian, right-aligned into out[32]. */
static int
tx_get_int(const rlp_item *it, size_t max, uint8_t out[32], tx_bad *b)
{
	if (it->is_list)
		return tx_refuse(b, it, "a list where an integer belongs", TX_EFIELDS);
	if (it->len > max)
		return tx_refuse(b, it, max == 8 ? "integer longer than 8 bytes" : "integer longer than 32 bytes",
		                 TX_EFIELD);
	if (it->len && it->p[0] == 0)
		return tx_refuse(b, it, "integer with a leading zero byte", TX_EFIELD);
	memset(out, 0, 32 - it->len);
	memcpy(out + 32 - it->len, it->p, it->len);
	return TX_OK;
}

static uint64_t
tx_word_u64(const uint8_t w[32])
{
	uint64_t v = 0;
	for (int i = 24; i < 32; i++)
		v = (v << 8) | w[i];
	return v;
}

/* Decodes one field; on error *b names the refused item (it, or an item inside it) and why. */
static int
tx_decode_field(tx *t, const tx_dfield *d, const rlp_item *it, tx_bad *b)
{
	uint8_t *dst = (uint8_t *)t + d->off, w[32];
	uint64_t v;
	int rc;
	switch (d->kind) {
	case TF_U64:
		if ((rc = tx_get_int(it, 8, w, b)))
			return rc;
		v = tx_word_u64(w);
		memcpy(dst, &v, sizeof v);
		return TX_OK;
	case TF_U256:
		if ((rc = tx_get_int(it, 32, w, b)))
			return rc;
		u256_from_be((u256 *)(void *)dst, w, 32);
		return TX_OK;
	case TF_TO:
		if (it->is_list)
			return tx_refuse(b, it, "a list where an address belongs", TX_EFIELDS);
		if (it->len != 0 && it->len != 20)
			return tx_refuse(b, it, "not 20 bytes (or empty for a contract creation)", TX_EFIELD);
		t->has_to = it->len == 20;
		memcpy(t->to, it->p, it->len);
		return TX_OK;
	case TF_DATA:
		if (it->is_list)
			return tx_refuse(b, it, "a list where bytes belong", TX_EFIELDS);
		t->data = it->p;
		t->data_len = it->len;
		return TX_OK;
	case TF_ACCESS:
		t->access_list = it->p - (it->size - it->len); /* keep the whole encoded list */
		t->access_list_len = it->size;
		return tx_walk_access(it, b, NULL, NULL);
	case TF_V:
		if ((rc = tx_get_int(it, 8, w, b)))
			return rc == TX_EFIELD ? TX_EV : rc;
		v = tx_word_u64(w);
		if (v == 27 || v == 28) {
			t->chain_id = 0;
			t->y_parity = (uint8_t)(v - 27);
		} else if (v >= 37) {
			t->chain_id = (v - 35) / 2;
			t->y_parity = (uint8_t)((v - 35) % 2);
		} else {
			return tx_refuse(b, it, "neither 27/28 nor chain_id*2+35/36 with a chain id >= 1", TX_EV);
		}
		return TX_OK;
	case TF_PARITY:
		if ((rc = tx_get_int(it, 8, w, b)))
			return rc == TX_EFIELD ? TX_EV : rc;
		if ((v = tx_word_u64(w)) > 1)
			return tx_refuse(b, it, "neither 0 nor 1", TX_EV);
		t->y_parity = (uint8_t)v;
		return TX_OK;
	case TF_R:
	case TF_S:
		if ((rc = tx_get_int(it, 32, dst, b)))
			return rc;
		if (memcmp(dst, tx_zero, 32) == 0)
			return tx_refuse(b, it, "zero", TX_ESIG);
		if (d->kind == TF_R && memcmp(dst, tx_order, 32) >= 0)
			return tx_refuse(b, it, "not below the curve order n", TX_ESIG);
		if (d->kind == TF_S && memcmp(dst, tx_half_order, 32) > 0)
			return tx_refuse(b, it, "above n/2 (EIP-2: high s is malleable)", TX_ESIG);
		return TX_OK;
	}
	return tx_refuse(b, it, "unknown field kind", TX_EFIELD);
}

int
tx_decode_at(const uint8_t *raw, size_t n, tx *t, tx_derr *e)
{
	size_t base, nf, got;
	const tx_dfield *tab;
	rlp_item list, it;
	rlp_iter i;
	tx_derr dummy;
	int rc;
	if (!e)
		e = &dummy;
	memset(t, 0, sizeof *t);
	memset(e, 0, sizeof *e);
	if (n == 0) {
		e->rlp_err = RLP_ETRUNC;
		return TX_ERLP;
	}
	/* EIP-2718: a first byte >= 0xc0 is a legacy RLP list, else it is the type. */
	t->type = raw[0] >= 0xc0 ? TX_LEGACY : raw[0];
	if (!(tab = tx_table(t->type, &nf))) {
		t->type = 0;
		return TX_ETYPE;
	}
	base = t->type == TX_LEGACY ? 0 : 1;
	if ((e->rlp_err = rlp_decode(raw + base, n - base, &list, &e->off))) {
		e->off += base;
		return TX_ERLP;
	}
	e->off = base;
	got = rlp_list_count(&list);
	if (!list.is_list || got != nf) {
		e->got = list.is_list ? got : 0;
		e->want = nf;
		return TX_EFIELDS;
	}
	rlp_iter_init(&i, &list);
	for (size_t k = 0; k < nf; k++) {
		rlp_iter_next(&i, &it, NULL);
		tx_bad b = { it.off, NULL };
		if ((rc = tx_decode_field(t, &tab[k], &it, &b))) {
			e->off = b.off + base;
			e->field = tab[k].name;
			e->why = b.why;
			return rc;
		}
	}
	t->is_signed = 1;
	return TX_OK;
}

int
tx_decode(const uint8_t *raw, size_t n, tx *t, size_t *err_off)
{
	tx_derr e;
	int rc = tx_decode_at(raw, n, t, &e);
	if (err_off)
		*err_off = rc ? e.off : 0;
	return rc;
}

static int
tx_pub_to_addr(const secp256k1_context *c, const secp256k1_pubkey *pub, uint8_t addr[20])
{
	uint8_t ser[65], h[32];
	size_t len = sizeof ser;
	secp256k1_ec_pubkey_serialize(c, ser, &len, pub, SECP256K1_EC_UNCOMPRESSED);
	kec_256(ser + 1, 64, h);
	memcpy(addr, h + 12, 20);
	return TX_OK;
}

int
tx_recover_sender(const tx *t, uint8_t addr[20])
{
	secp256k1_context *c = ob_secp();
	secp256k1_ecdsa_recoverable_signature sig;
	secp256k1_pubkey pub;
	uint8_t h[32], rs[64];
	int rc;
	if (!c)
		return TX_ECTX;
	if (!t->is_signed)
		return TX_EUNSIGNED;
	if ((rc = tx_signing_hash(t, h)))
		return rc;
	memcpy(rs, t->r, 32);
	memcpy(rs + 32, t->s, 32);
	if (t->y_parity > 1 || !secp256k1_ecdsa_recoverable_signature_parse_compact(c, &sig, rs, t->y_parity))
		return TX_ESIG;
	if (!secp256k1_ecdsa_recover(c, &pub, &sig, h))
		return TX_ERECOVER;
	return tx_pub_to_addr(c, &pub, addr);
}

int
tx_address_from_key(const uint8_t key[32], uint8_t addr[20])
{
	secp256k1_context *c = ob_secp();
	secp256k1_pubkey pub;
	if (!c)
		return TX_ECTX;
	if (!secp256k1_ec_pubkey_create(c, &pub, key))
		return TX_EKEY;
	return tx_pub_to_addr(c, &pub, addr);
}

const char *
tx_strerror(int err)
{
	static const char *const msg[] = {
		"ok",
		"not canonical RLP",
		"unsupported transaction type",
		"wrong number or kind of fields",
		"field out of range",
		"bad v / y_parity",
		"bad signature values (zero, >= n, or high s)",
		"output buffer too small",
		"invalid private key",
		"chain id too large for a legacy transaction",
		"no public key recovers from the signature",
		"transaction is not signed",
		"secp256k1 context unavailable",
		"malformed access list",
	};
	unsigned i = (unsigned)-err;
	return err <= 0 && i < sizeof msg / sizeof msg[0] ? msg[i] : "unknown tx error";
}
