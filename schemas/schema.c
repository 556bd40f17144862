/* schema: the generic codec that walks a family's descriptor table (schema_impl.h).
 *
 * Every kind of field has one row in sc_ops: decode, encode, emptiness, to-JSON, from-JSON and
 * equality; the table walkers below drive those rows for a whole record. The bytes themselves (the
 * strict msgpack reader, the writer into the caller's buffer, the UTF-8 and token checks) live in
 * schema_wire.c. Encoding uses msgpack-c's packer writing straight into the caller's buffer (no
 * sbuffer, no allocation); decoding refuses what the schema cannot hold before looking further. */
#include "schemas/schema.h"
#include "base/hex.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/messages.h"
#include "schemas/schema_impl.h"

const char *
sc_type(const sc_msgdef *d)
{
	return d->type;
}
size_t
sc_size(const sc_msgdef *d)
{
	return d->size;
}
unsigned
sc_version(const sc_msgdef *d)
{
	return d->version;
}

/* Prefix an element error with its place: "used[2]." + "source: missing". */
static void
sc_fail_prefix(sc_err *e, const char *name, const char *index)
{
	if (!e)
		return;
	sc_err inner = *e;
	sc_fail(e, "%s[%s].%s", name, index, inner.text);
}

#define AT(rec, off, T)  ((T *)((char *)(rec) + (off)))
#define CAT(rec, off, T) ((const T *)((const char *)(rec) + (off)))

/* ---- the per-kind operations ------------------------------------------------------------------ */

typedef struct {
	int (*dec)(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e);
	int (*enc)(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e);
	int (*empty)(const sc_field *f, const void *rec);
	json_t *(*to_json)(const sc_field *f, const void *rec);
	int (*from_json)(const sc_field *f, void *rec, const json_t *j, sc_err *e);
	int (*equal)(const sc_field *f, const void *a, const void *b);
} sc_ops;

static const sc_ops sc_kinds[SC_KIND_COUNT];

static int sc_decode_map(const sc_msgdef *d, sc_rd *r, void *rec, sc_err *e);
static int sc_encode_map(const sc_msgdef *d, const void *rec, msgpack_packer *pk, sc_err *e);
static json_t *sc_rec_to_json(const sc_msgdef *d, const void *rec);
static int sc_obj_from_json(const sc_msgdef *d, const json_t *j, void *rec, sc_err *e);
static int sc_rec_equal(const sc_msgdef *d, const void *a, const void *b);

static int
sc_fixed_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

#define JSON_SAFE_INT 9007199254740992ULL /* 2^53: beyond it JSON readers lose precision */

static int
sc_u64_check(const sc_field *f, uint64_t v, sc_err *e)
{
	if (f->max && v > f->max) {
		sc_fail(e, "%s: %llu exceeds maximum %llu", f->name, (unsigned long long)v, (unsigned long long)f->max);
		return -1;
	}
	return 0;
}

/* U64 */
static int
u64_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t != SC_T_UINT)
		return sc_wrong(e, f->name, "uint", o);
	if (sc_u64_check(f, o->u, e))
		return -1;
	*AT(rec, f->off, uint64_t) = o->u;
	return 0;
}
static int
u64_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	uint64_t v = *CAT(rec, f->off, uint64_t);
	if (sc_u64_check(f, v, e))
		return -1;
	msgpack_pack_uint64(pk, v);
	return 0;
}
static int
u64_empty(const sc_field *f, const void *rec)
{
	return *CAT(rec, f->off, uint64_t) == 0;
}
static json_t *
u64_to_json(const sc_field *f, const void *rec)
{
	uint64_t v = *CAT(rec, f->off, uint64_t);
	char buf[24];
	if (v <= JSON_SAFE_INT)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	return json_string(buf);
}
static int
u64_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	uint64_t v;
	if (json_is_integer(j) && json_integer_value(j) >= 0) {
		v = (uint64_t)json_integer_value(j);
	} else if (json_is_string(j)) {
		u256 t;
		if (u256_from_dec(&t, json_string_value(j), json_string_length(j)) || !u256_fits_u64(&t)) {
			sc_fail(e, "%s: not a decimal uint64", f->name);
			return -1;
		}
		v = u256_low64(&t);
	} else {
		sc_fail(e, "%s: expected a non-negative integer", f->name);
		return -1;
	}
	if (sc_u64_check(f, v, e))
		return -1;
	*AT(rec, f->off, uint64_t) = v;
	return 0;
}
static int
u64_equal(const sc_field *f, const void *a, const void *b)
{
	return *CAT(a, f->off, uint64_t) == *CAT(b, f->off, uint64_t);
}

/* I64 */
static int
i64_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t == SC_T_UINT && o->u <= INT64_MAX)
		*AT(rec, f->off, int64_t) = (int64_t)o->u;
	else if (o->t == SC_T_INT)
		*AT(rec, f->off, int64_t) = o->i;
	else if (o->t == SC_T_UINT)
		return sc_fail(e, "%s: %llu out of int64 range", f->name, (unsigned long long)o->u), -1;
	else
		return sc_wrong(e, f->name, "int", o);
	return 0;
}
static int
i64_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	msgpack_pack_int64(pk, *CAT(rec, f->off, int64_t));
	return 0;
}
static int
i64_empty(const sc_field *f, const void *rec)
{
	return *CAT(rec, f->off, int64_t) == 0;
}
static json_t *
i64_to_json(const sc_field *f, const void *rec)
{
	int64_t v = *CAT(rec, f->off, int64_t);
	char buf[24];
	if (v <= (int64_t)JSON_SAFE_INT && v >= -(int64_t)JSON_SAFE_INT)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return json_string(buf);
}
static int
i64_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	if (json_is_integer(j)) {
		*AT(rec, f->off, int64_t) = (int64_t)json_integer_value(j);
		return 0;
	}
	if (json_is_string(j)) {
		u256 t, lo, hi;
		u256_from_u64(&hi, (uint64_t)INT64_MAX);
		i256_neg(&lo, &hi);
		lo.w[0]--; /* INT64_MIN */
		if (i256_from_dec(&t, json_string_value(j), json_string_length(j)) == 0 && i256_cmp(&t, &lo) >= 0 &&
		    i256_cmp(&t, &hi) <= 0) {
			*AT(rec, f->off, int64_t) = (int64_t)t.w[0];
			return 0;
		}
	}
	sc_fail(e, "%s: expected an int64", f->name);
	return -1;
}
static int
i64_equal(const sc_field *f, const void *a, const void *b)
{
	return *CAT(a, f->off, int64_t) == *CAT(b, f->off, int64_t);
}

/* BOOL */
static int
bool_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t != SC_T_BOOL)
		return sc_wrong(e, f->name, "bool", o);
	*AT(rec, f->off, bool) = o->u != 0;
	return 0;
}
static int
bool_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	if (*CAT(rec, f->off, bool))
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	return 0;
}
static int
bool_empty(const sc_field *f, const void *rec)
{
	return !*CAT(rec, f->off, bool);
}
static json_t *
bool_to_json(const sc_field *f, const void *rec)
{
	return json_boolean(*CAT(rec, f->off, bool));
}
static int
bool_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	if (!json_is_boolean(j))
		return sc_fail(e, "%s: expected true or false", f->name), -1;
	*AT(rec, f->off, bool) = json_is_true(j);
	return 0;
}
static int
bool_equal(const sc_field *f, const void *a, const void *b)
{
	return *CAT(a, f->off, bool) == *CAT(b, f->off, bool);
}

/* STR */
static int
str_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t != SC_T_STR)
		return sc_wrong(e, f->name, "str", o);
	return sc_put_str(f->name, f->flags, f->cap, AT(rec, f->off, char), o->s, o->n, e);
}
static int
str_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	size_t n;
	const char *s = CAT(rec, f->off, char);
	if (sc_check_str(f->name, f->flags & SC_TOKEN, f->cap, s, &n, e))
		return -1;
	if (n == 0 && (f->flags & SC_TOKEN) && (f->flags & SC_REQ))
		return sc_fail(e, "%s: must not be empty", f->name), -1;
	sc_pack_str(pk, s, n);
	return 0;
}
static int
str_empty(const sc_field *f, const void *rec)
{
	return CAT(rec, f->off, char)[0] == 0;
}
static json_t *
str_to_json(const sc_field *f, const void *rec)
{
	const char *s = CAT(rec, f->off, char);
	return json_stringn(s, strnlen(s, f->cap));
}
static int
str_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	if (!json_is_string(j))
		return sc_fail(e, "%s: expected a string", f->name), -1;
	return sc_put_str(f->name, f->flags, f->cap, AT(rec, f->off, char), (const uint8_t *)json_string_value(j),
	                  json_string_length(j), e);
}
static int
str_equal(const sc_field *f, const void *a, const void *b)
{
	return strncmp(CAT(a, f->off, char), CAT(b, f->off, char), (size_t)f->cap + 1) == 0;
}

/* hex for JSON views of bytes */
static json_t *
sc_hex_json(const uint8_t *p, size_t n)
{
	static const char dig[] = "0123456789abcdef";
	char stackbuf[256], *s = n * 2 + 3 <= sizeof stackbuf ? stackbuf : malloc(n * 2 + 3);
	if (!s)
		return NULL;
	s[0] = '0', s[1] = 'x';
	for (size_t i = 0; i < n; i++) {
		s[2 + 2 * i] = dig[p[i] >> 4];
		s[3 + 2 * i] = dig[p[i] & 15];
	}
	json_t *j = json_stringn(s, 2 + 2 * n);
	if (s != stackbuf)
		free(s);
	return j;
}

/* "0x..." -> dst[cap]; exact: length must equal cap. Returns the byte count or -1. */
static long
sc_hex_from_json(const sc_field *f, const json_t *j, uint8_t *dst, size_t cap, int exact, sc_err *e)
{
	if (!json_is_string(j))
		return sc_fail(e, "%s: expected a \"0x...\" hex string", f->name), -1;
	const char *s = json_string_value(j);
	size_t n = json_string_length(j);
	if (n < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || n % 2)
		return sc_fail(e, "%s: expected \"0x\" and an even number of hex digits", f->name), -1;
	size_t nb = (n - 2) / 2;
	if (exact && nb != cap)
		return sc_fail(e, "%s: expected exactly %zu bytes, got %zu", f->name, cap, nb), -1;
	if (nb > cap)
		return sc_fail(e, "%s: %zu bytes exceeds capacity %zu", f->name, nb, cap), -1;
	size_t got;
	if (hex_decode(s, n, HEX_PREFIX_REQUIRED, dst, cap, &got, NULL) != HEX_OK)
		return sc_fail(e, "%s: invalid hex digit", f->name), -1;
	return (long)nb;
}

/* BYTES */
static int
bytes_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t != SC_T_BIN)
		return sc_wrong(e, f->name, "bin", o);
	if (o->n > f->cap)
		return sc_fail(e, "%s: %u bytes exceeds capacity %u", f->name, o->n, f->cap), -1;
	memcpy(AT(rec, f->off, uint8_t), o->s, o->n);
	*AT(rec, f->aux_off, uint32_t) = o->n;
	return 0;
}
static int
bytes_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	uint32_t n = *CAT(rec, f->aux_off, uint32_t);
	if (n > f->cap)
		return sc_fail(e, "%s: length %u exceeds capacity %u", f->name, n, f->cap), -1;
	sc_pack_bin(pk, CAT(rec, f->off, uint8_t), n);
	return 0;
}
static int
bytes_empty(const sc_field *f, const void *rec)
{
	return *CAT(rec, f->aux_off, uint32_t) == 0;
}
static json_t *
bytes_to_json(const sc_field *f, const void *rec)
{
	uint32_t n = *CAT(rec, f->aux_off, uint32_t);
	return sc_hex_json(CAT(rec, f->off, uint8_t), n < f->cap ? n : f->cap);
}
static int
bytes_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	long n = sc_hex_from_json(f, j, AT(rec, f->off, uint8_t), f->cap, 0, e);
	if (n < 0)
		return -1;
	*AT(rec, f->aux_off, uint32_t) = (uint32_t)n;
	return 0;
}
static int
bytes_equal(const sc_field *f, const void *a, const void *b)
{
	uint32_t na = *CAT(a, f->aux_off, uint32_t), nb = *CAT(b, f->aux_off, uint32_t);
	return na == nb && na <= f->cap && memcmp(CAT(a, f->off, uint8_t), CAT(b, f->off, uint8_t), na) == 0;
}

/* FIXED */
static int
fixed_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t != SC_T_BIN || o->n != f->cap) {
		if (o->t == SC_T_BIN)
			return sc_fail(e, "%s: expected bin(%u), got bin(%u) at byte %zu", f->name, f->cap, o->n,
			               o->at),
			       -1;
		char want[16];
		snprintf(want, sizeof want, "bin(%u)", f->cap);
		return sc_wrong(e, f->name, want, o);
	}
	memcpy(AT(rec, f->off, uint8_t), o->s, f->cap);
	return 0;
}
static int
fixed_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	sc_pack_bin(pk, CAT(rec, f->off, uint8_t), f->cap);
	return 0;
}
static int
fixed_empty(const sc_field *f, const void *rec)
{
	return sc_fixed_zero(CAT(rec, f->off, uint8_t), f->cap);
}
static json_t *
fixed_to_json(const sc_field *f, const void *rec)
{
	return sc_hex_json(CAT(rec, f->off, uint8_t), f->cap);
}
static int
fixed_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	return sc_hex_from_json(f, j, AT(rec, f->off, uint8_t), f->cap, 1, e) < 0 ? -1 : 0;
}
static int
fixed_equal(const sc_field *f, const void *a, const void *b)
{
	return memcmp(CAT(a, f->off, uint8_t), CAT(b, f->off, uint8_t), f->cap) == 0;
}

/* U256 / I256: same wire (bin(32) big-endian), different JSON views */
static int
big_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t != SC_T_BIN || o->n != 32) {
		if (o->t == SC_T_BIN)
			return sc_fail(e, "%s: expected bin(32), got bin(%u) at byte %zu", f->name, o->n, o->at), -1;
		return sc_wrong(e, f->name, "bin(32)", o);
	}
	u256_from_be(AT(rec, f->off, u256), o->s, 32);
	return 0;
}
static int
big_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	uint8_t be[32];
	u256_to_be(CAT(rec, f->off, u256), be);
	sc_pack_bin(pk, be, 32);
	return 0;
}
static int
big_empty(const sc_field *f, const void *rec)
{
	return u256_is_zero(CAT(rec, f->off, u256));
}
static json_t *
big_to_json(const sc_field *f, const void *rec)
{
	char buf[80];
	if (f->kind == SC_I256)
		i256_to_dec(CAT(rec, f->off, u256), buf);
	else
		u256_to_dec(CAT(rec, f->off, u256), buf);
	return json_string(buf);
}
static int
big_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	u256 *v = AT(rec, f->off, u256);
	int neg_ok = f->kind == SC_I256;
	if (json_is_integer(j)) {
		json_int_t x = json_integer_value(j);
		if (x < 0 && !neg_ok)
			return sc_fail(e, "%s: negative value for uint256", f->name), -1;
		u256_from_u64(v, (uint64_t)(x < 0 ? -(uint64_t)x : (uint64_t)x));
		if (x < 0)
			i256_neg(v, v);
		return 0;
	}
	if (!json_is_string(j))
		return sc_fail(e, "%s: expected a decimal string", f->name), -1;
	const char *s = json_string_value(j);
	size_t n = json_string_length(j);
	if ((neg_ok ? i256_from_dec(v, s, n) : u256_from_dec(v, s, n)) != 0)
		return sc_fail(e, "%s: not a canonical decimal %s", f->name, neg_ok ? "int256" : "uint256"), -1;
	return 0;
}
static int
big_equal(const sc_field *f, const void *a, const void *b)
{
	return u256_cmp(CAT(a, f->off, u256), CAT(b, f->off, u256)) == 0;
}

/* ENUM */
static int
sc_enum_find(const sc_field *f, const char *s, size_t n)
{
	for (uint32_t i = 0; i < f->nnames; i++)
		if (strlen(f->names[i]) == n && memcmp(f->names[i], s, n) == 0)
			return (int)i;
	return -1;
}
static int
sc_enum_unknown(const sc_field *f, const char *s, size_t n, sc_err *e)
{
	int shown = n > 40 ? 40 : (int)n;
	char clean[41];
	for (int i = 0; i < shown; i++) /* never echo control bytes into logs */
		clean[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	sc_fail(e, "%s: unknown value '%.*s'", f->name, shown, clean);
	return -1;
}
static int
enum_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t != SC_T_STR)
		return sc_wrong(e, f->name, "str", o);
	int v = sc_enum_find(f, (const char *)o->s, o->n);
	if (v < 0)
		return sc_enum_unknown(f, (const char *)o->s, o->n, e);
	*AT(rec, f->off, int) = v;
	return 0;
}
static int
enum_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	int v = *CAT(rec, f->off, int);
	if (v < 0 || (uint32_t)v >= f->nnames)
		return sc_fail(e, "%s: value %d out of range", f->name, v), -1;
	sc_pack_str(pk, f->names[v], strlen(f->names[v]));
	return 0;
}
static int
enum_empty(const sc_field *f, const void *rec)
{
	return *CAT(rec, f->off, int) == 0;
}
static json_t *
enum_to_json(const sc_field *f, const void *rec)
{
	int v = *CAT(rec, f->off, int);
	return v >= 0 && (uint32_t)v < f->nnames ? json_string(f->names[v]) : NULL;
}
static int
enum_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	if (!json_is_string(j))
		return sc_fail(e, "%s: expected a string", f->name), -1;
	int v = sc_enum_find(f, json_string_value(j), json_string_length(j));
	if (v < 0)
		return sc_enum_unknown(f, json_string_value(j), json_string_length(j), e);
	*AT(rec, f->off, int) = v;
	return 0;
}
static int
enum_equal(const sc_field *f, const void *a, const void *b)
{
	return *CAT(a, f->off, int) == *CAT(b, f->off, int);
}

/* LIST of a sub-struct */
static void *
sc_elem(const sc_field *f, void *rec, uint32_t i)
{
	return (char *)rec + f->off + (size_t)i * f->sub->size;
}
static const void *
sc_celem(const sc_field *f, const void *rec, uint32_t i)
{
	return (const char *)rec + f->off + (size_t)i * f->sub->size;
}
static int
list_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t != SC_T_ARRAY)
		return sc_wrong(e, f->name, "array", o);
	if (o->n > f->cap)
		return sc_fail(e, "%s: %u elements exceeds capacity %u", f->name, o->n, f->cap), -1;
	for (uint32_t i = 0; i < o->n; i++) {
		if (sc_decode_map(f->sub, r, sc_elem(f, rec, i), e)) {
			char idx[12];
			snprintf(idx, sizeof idx, "%u", i);
			sc_fail_prefix(e, f->name, idx);
			return -1;
		}
	}
	*AT(rec, f->aux_off, uint32_t) = o->n;
	return 0;
}
static int
list_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	uint32_t n = *CAT(rec, f->aux_off, uint32_t);
	if (n > f->cap)
		return sc_fail(e, "%s: count %u exceeds capacity %u", f->name, n, f->cap), -1;
	msgpack_pack_array(pk, n);
	for (uint32_t i = 0; i < n; i++) {
		if (sc_encode_map(f->sub, sc_celem(f, rec, i), pk, e)) {
			char idx[12];
			snprintf(idx, sizeof idx, "%u", i);
			sc_fail_prefix(e, f->name, idx);
			return -1;
		}
	}
	return 0;
}
static int
count_empty(const sc_field *f, const void *rec)
{
	return *CAT(rec, f->aux_off, uint32_t) == 0;
}
static json_t *
list_to_json(const sc_field *f, const void *rec)
{
	uint32_t n = *CAT(rec, f->aux_off, uint32_t);
	json_t *a = json_array();
	if (!a || n > f->cap)
		return json_decref(a), NULL;
	for (uint32_t i = 0; i < n; i++) {
		json_t *o = sc_rec_to_json(f->sub, sc_celem(f, rec, i));
		if (!o || json_array_append_new(a, o))
			return json_decref(a), NULL;
	}
	return a;
}
static int
list_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	if (!json_is_array(j))
		return sc_fail(e, "%s: expected an array", f->name), -1;
	size_t n = json_array_size(j);
	if (n > f->cap)
		return sc_fail(e, "%s: %zu elements exceeds capacity %u", f->name, n, f->cap), -1;
	for (size_t i = 0; i < n; i++) {
		if (sc_obj_from_json(f->sub, json_array_get(j, i), sc_elem(f, rec, (uint32_t)i), e)) {
			char idx[24];
			snprintf(idx, sizeof idx, "%zu", i);
			sc_fail_prefix(e, f->name, idx);
			return -1;
		}
	}
	*AT(rec, f->aux_off, uint32_t) = (uint32_t)n;
	return 0;
}
static int
list_equal(const sc_field *f, const void *a, const void *b)
{
	uint32_t n = *CAT(a, f->aux_off, uint32_t);
	if (n != *CAT(b, f->aux_off, uint32_t) || n > f->cap)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (!sc_rec_equal(f->sub, sc_celem(f, a, i), sc_celem(f, b, i)))
			return 0;
	return 1;
}

/* MAP str -> str (labels) */
static int
sc_label_put(const sc_field *f, sc_kv *kv, uint32_t i, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
             sc_err *e)
{
	char name[96];
	snprintf(name, sizeof name, "%s[%u] key", f->name, i);
	if (sc_put_str(name, SC_TOKEN | SC_REQ, SC_KV_KEY_CAP, kv[i].key, k, kn, e))
		return -1;
	for (uint32_t p = 0; p < i; p++)
		if (strcmp(kv[p].key, kv[i].key) == 0)
			return sc_fail(e, "%s: duplicate key '%s'", f->name, kv[i].key), -1;
	snprintf(name, sizeof name, "%s.%s", f->name, kv[i].key);
	return sc_put_str(name, 0, SC_KV_VALUE_CAP, kv[i].value, v, vn, e);
}
static int
map_dec(const sc_field *f, void *rec, sc_rd *r, const sc_obj *o, sc_err *e)
{
	if (o->t != SC_T_MAP)
		return sc_wrong(e, f->name, "map", o);
	if (o->n > f->cap)
		return sc_fail(e, "%s: %u entries exceeds capacity %u", f->name, o->n, f->cap), -1;
	sc_kv *kv = AT(rec, f->off, sc_kv);
	for (uint32_t i = 0; i < o->n; i++) {
		sc_obj k, v;
		if (sc_rd_value(r, &k, f->name, e))
			return -1;
		if (k.t != SC_T_STR)
			return sc_wrong(e, f->name, "str keys", &k);
		if (sc_rd_value(r, &v, f->name, e))
			return -1;
		if (v.t != SC_T_STR)
			return sc_wrong(e, f->name, "str values", &v);
		if (sc_label_put(f, kv, i, k.s, k.n, v.s, v.n, e))
			return -1;
	}
	*AT(rec, f->aux_off, uint32_t) = o->n;
	return 0;
}
static int
map_enc(const sc_field *f, const void *rec, msgpack_packer *pk, sc_err *e)
{
	uint32_t n = *CAT(rec, f->aux_off, uint32_t);
	const sc_kv *kv = CAT(rec, f->off, sc_kv);
	if (n > f->cap)
		return sc_fail(e, "%s: count %u exceeds capacity %u", f->name, n, f->cap), -1;
	msgpack_pack_map(pk, n);
	for (uint32_t i = 0; i < n; i++) {
		size_t kn, vn;
		if (sc_check_str(f->name, 1, SC_KV_KEY_CAP, kv[i].key, &kn, e) ||
		    sc_check_str(f->name, 0, SC_KV_VALUE_CAP, kv[i].value, &vn, e))
			return -1;
		if (kn == 0)
			return sc_fail(e, "%s: empty key", f->name), -1;
		for (uint32_t p = 0; p < i; p++)
			if (strcmp(kv[p].key, kv[i].key) == 0)
				return sc_fail(e, "%s: duplicate key '%s'", f->name, kv[i].key), -1;
		sc_pack_str(pk, kv[i].key, kn);
		sc_pack_str(pk, kv[i].value, vn);
	}
	return 0;
}
static json_t *
map_to_json(const sc_field *f, const void *rec)
{
	uint32_t n = *CAT(rec, f->aux_off, uint32_t);
	const sc_kv *kv = CAT(rec, f->off, sc_kv);
	json_t *o = json_object();
	if (!o || n > f->cap)
		return json_decref(o), NULL;
	for (uint32_t i = 0; i < n; i++)
		if (json_object_set_new(o, kv[i].key, json_string(kv[i].value)))
			return json_decref(o), NULL;
	return o;
}
static int
map_from_json(const sc_field *f, void *rec, const json_t *j, sc_err *e)
{
	if (!json_is_object(j))
		return sc_fail(e, "%s: expected an object", f->name), -1;
	if (json_object_size(j) > f->cap)
		return sc_fail(e, "%s: %zu entries exceeds capacity %u", f->name, json_object_size(j), f->cap), -1;
	sc_kv *kv = AT(rec, f->off, sc_kv);
	uint32_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)j, k, v)
	{
		if (!json_is_string(v))
			return sc_fail(e, "%s.%s: expected a string", f->name, k), -1;
		if (sc_label_put(f, kv, i, (const uint8_t *)k, strlen(k), (const uint8_t *)json_string_value(v),
		                 json_string_length(v), e))
			return -1;
		i++;
	}
	*AT(rec, f->aux_off, uint32_t) = i;
	return 0;
}
static int
map_equal(const sc_field *f, const void *a, const void *b)
{
	uint32_t n = *CAT(a, f->aux_off, uint32_t);
	const sc_kv *ka = CAT(a, f->off, sc_kv), *kb = CAT(b, f->off, sc_kv);
	if (n != *CAT(b, f->aux_off, uint32_t) || n > f->cap)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (strncmp(ka[i].key, kb[i].key, sizeof ka[i].key) ||
		    strncmp(ka[i].value, kb[i].value, sizeof ka[i].value))
			return 0;
	return 1;
}

static const sc_ops sc_kinds[SC_KIND_COUNT] = {
	[SC_U64] = { u64_dec, u64_enc, u64_empty, u64_to_json, u64_from_json, u64_equal },
	[SC_I64] = { i64_dec, i64_enc, i64_empty, i64_to_json, i64_from_json, i64_equal },
	[SC_BOOL] = { bool_dec, bool_enc, bool_empty, bool_to_json, bool_from_json, bool_equal },
	[SC_STR] = { str_dec, str_enc, str_empty, str_to_json, str_from_json, str_equal },
	[SC_BYTES] = { bytes_dec, bytes_enc, bytes_empty, bytes_to_json, bytes_from_json, bytes_equal },
	[SC_FIXED] = { fixed_dec, fixed_enc, fixed_empty, fixed_to_json, fixed_from_json, fixed_equal },
	[SC_U256] = { big_dec, big_enc, big_empty, big_to_json, big_from_json, big_equal },
	[SC_I256] = { big_dec, big_enc, big_empty, big_to_json, big_from_json, big_equal },
	[SC_ENUM] = { enum_dec, enum_enc, enum_empty, enum_to_json, enum_from_json, enum_equal },
	[SC_LIST] = { list_dec, list_enc, count_empty, list_to_json, list_from_json, list_equal },
	[SC_MAP] = { map_dec, map_enc, count_empty, map_to_json, map_from_json, map_equal },
};

/* ---- the table walkers ------------------------------------------------------------------------ */

static const sc_field *
sc_find(const sc_msgdef *d, const uint8_t *k, size_t n, size_t *idx)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const sc_field *f = &d->fields[i];
		if (f->name_len == n && memcmp(f->name, k, n) == 0) {
			*idx = i;
			return f;
		}
	}
	return NULL;
}

static void
sc_show_key(char out[48], const uint8_t *k, size_t n)
{
	size_t m = n > 40 ? 40 : n;
	for (size_t i = 0; i < m; i++)
		out[i] = k[i] >= 0x20 && k[i] < 0x7f && k[i] != '\'' ? (char)k[i] : '?';
	strcpy(out + m, n > m ? "..." : "");
}

/* One map: a body (with "v") or a list element (version 0: no "v"). */
static int
sc_decode_map(const sc_msgdef *d, sc_rd *r, void *rec, sc_err *e)
{
	sc_obj m, k, v;
	uint64_t seen = 0;
	int have_v = 0;
	const char *what = d->version ? "body" : d->type;
	if (sc_rd_value(r, &m, what, e))
		return -1;
	if (m.t != SC_T_MAP)
		return sc_wrong(e, what, "map", &m);
	for (uint32_t i = 0; i < m.n; i++) {
		size_t idx;
		if (sc_rd_value(r, &k, what, e))
			return -1;
		if (k.t != SC_T_STR)
			return sc_fail(e, "%s: map key at byte %zu is %s, expected str", what, k.at, sc_tname[k.t]), -1;
		if (d->version && k.n == 1 && k.s[0] == 'v') {
			if (have_v)
				return sc_fail(e, "v: duplicate key"), -1;
			have_v = 1;
			if (sc_rd_value(r, &v, "v", e))
				return -1;
			if (v.t != SC_T_UINT)
				return sc_wrong(e, "v", "uint", &v);
			if (v.u < d->min_version || v.u > d->version)
				return sc_fail(e, "v: unsupported version %llu (this build reads %u..%u)",
				               (unsigned long long)v.u, d->min_version, d->version),
				       -1;
			continue;
		}
		const sc_field *f = sc_find(d, k.s, k.n, &idx);
		if (!f) {
			char shown[48];
			sc_show_key(shown, k.s, k.n);
			return sc_fail(e, "unknown field '%s' at byte %zu", shown, k.at), -1;
		}
		if (seen & (1ULL << idx))
			return sc_fail(e, "%s: duplicate key at byte %zu", f->name, k.at), -1;
		seen |= 1ULL << idx;
		if (sc_rd_value(r, &v, f->name, e))
			return -1;
		if (sc_kinds[f->kind].dec(f, rec, r, &v, e))
			return -1;
	}
	if (d->version && !have_v)
		return sc_fail(e, "v: missing"), -1;
	for (size_t i = 0; i < d->nfields; i++)
		if ((d->fields[i].flags & SC_REQ) && !(seen & (1ULL << i)))
			return sc_fail(e, "%s: missing", d->fields[i].name), -1;
	return 0;
}

int
sc_decode(const sc_msgdef *d, const uint8_t *buf, size_t len, void *rec, sc_err *e)
{
	sc_rd r = { buf, buf, buf + len };
	memset(rec, 0, d->size);
	if (e)
		e->text[0] = '\0';
	if (len > SC_MAX_BODY)
		return sc_fail(e, "body: %zu bytes exceeds limit %d", len, SC_MAX_BODY), -1;
	if (len == 0)
		return sc_fail(e, "body: empty"), -1;
	if (sc_decode_map(d, &r, rec, e))
		return -1;
	if (r.p != r.end)
		return sc_fail(e, "trailing bytes after body (%zu)", (size_t)(r.end - r.p)), -1;
	return 0;
}

static int
sc_encode_map(const sc_msgdef *d, const void *rec, msgpack_packer *pk, sc_err *e)
{
	size_t n = d->version ? 1 : 0;
	for (size_t i = 0; i < d->nfields; i++) {
		const sc_field *f = &d->fields[i];
		if ((f->flags & SC_REQ) || !sc_kinds[f->kind].empty(f, rec))
			n++;
	}
	msgpack_pack_map(pk, n);
	if (d->version) {
		sc_pack_str(pk, "v", 1);
		msgpack_pack_uint32(pk, d->version);
	}
	for (size_t i = 0; i < d->nfields; i++) {
		const sc_field *f = &d->fields[i];
		if (!(f->flags & SC_REQ) && sc_kinds[f->kind].empty(f, rec))
			continue;
		sc_pack_str(pk, f->name, f->name_len);
		if (sc_kinds[f->kind].enc(f, rec, pk, e))
			return -1;
	}
	return 0;
}

int
sc_encode(const sc_msgdef *d, const void *rec, uint8_t *buf, size_t cap, size_t *len, sc_err *e)
{
	sc_wbuf w = { buf, cap > SC_MAX_BODY ? SC_MAX_BODY : cap, 0, 0 };
	msgpack_packer pk;
	msgpack_packer_init(&pk, &w, sc_wbuf_write);
	*len = 0;
	if (e)
		e->text[0] = '\0';
	if (sc_encode_map(d, rec, &pk, e))
		return -1;
	if (w.overflow)
		return sc_fail(e, "body: does not fit in %zu bytes", w.cap), -1;
	*len = w.len;
	return 0;
}

static json_t *
sc_rec_to_json(const sc_msgdef *d, const void *rec)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (d->version && json_object_set_new(o, "v", json_integer(d->version)))
		return json_decref(o), NULL;
	for (size_t i = 0; i < d->nfields; i++) {
		const sc_field *f = &d->fields[i];
		json_t *v = sc_kinds[f->kind].to_json(f, rec);
		if (!v || json_object_set_new(o, f->name, v))
			return json_decref(o), NULL;
	}
	return o;
}

json_t *
sc_to_json(const sc_msgdef *d, const void *rec)
{
	return sc_rec_to_json(d, rec);
}

static int
sc_obj_from_json(const sc_msgdef *d, const json_t *j, void *rec, sc_err *e)
{
	uint64_t seen = 0;
	const char *k;
	json_t *v;
	if (!json_is_object(j))
		return sc_fail(e, "%s: expected a JSON object", d->version ? "body" : d->type), -1;
	json_object_foreach((json_t *)j, k, v)
	{
		size_t idx, kn = strlen(k);
		if (d->version && strcmp(k, "v") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)d->min_version ||
			    json_integer_value(v) > (json_int_t)d->version)
				return sc_fail(e, "v: unsupported version (this build reads %u..%u)", d->min_version,
				               d->version),
				       -1;
			continue;
		}
		const sc_field *f = sc_find(d, (const uint8_t *)k, kn, &idx);
		if (!f) {
			char shown[48];
			sc_show_key(shown, (const uint8_t *)k, kn);
			return sc_fail(e, "unknown field '%s'", shown), -1;
		}
		seen |= 1ULL << idx; /* JSON objects cannot hold duplicate keys (jansson keeps the last) */
		if (sc_kinds[f->kind].from_json(f, rec, v, e))
			return -1;
	}
	for (size_t i = 0; i < d->nfields; i++)
		if ((d->fields[i].flags & SC_REQ) && !(seen & (1ULL << i)))
			return sc_fail(e, "%s: missing", d->fields[i].name), -1;
	return 0;
}

int
sc_from_json(const sc_msgdef *d, const json_t *j, void *rec, sc_err *e)
{
	memset(rec, 0, d->size);
	if (e)
		e->text[0] = '\0';
	return sc_obj_from_json(d, j, rec, e);
}

json_t *
sc_body_to_json(const sc_msgdef *d, const uint8_t *buf, size_t len, sc_err *e)
{
	void *rec = malloc(d->size);
	json_t *j = NULL;
	if (!rec)
		return sc_fail(e, "out of memory"), NULL;
	if (sc_decode(d, buf, len, rec, e) == 0) {
		j = sc_rec_to_json(d, rec);
		if (!j)
			sc_fail(e, "out of memory");
	}
	free(rec);
	return j;
}

static int
sc_rec_equal(const sc_msgdef *d, const void *a, const void *b)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (!sc_kinds[d->fields[i].kind].equal(&d->fields[i], a, b))
			return 0;
	return 1;
}

int
sc_equal(const sc_msgdef *d, const void *a, const void *b)
{
	return sc_rec_equal(d, a, b);
}
