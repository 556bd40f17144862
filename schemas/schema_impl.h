/* schema_impl: the descriptor tables behind sc_msgdef, and the byte-level reader/writer the codec
 * shares. Internal to schemas/ (messages.c declares the tables, schema.c walks them, schema_wire.c
 * reads and writes the bytes); other modules use schema.h and messages.h only. Nothing declared
 * here allocates: readers point into the caller's input, writers into the caller's buffer. */
#ifndef OB_SCHEMAS_SCHEMA_IMPL_H
#define OB_SCHEMAS_SCHEMA_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "schemas/schema.h"
#include "base/u256.h"

typedef enum {
	SC_U64,   /* uint64_t; wire uint; optional upper bound `max` */
	SC_I64,   /* int64_t; wire int */
	SC_BOOL,  /* bool; wire bool */
	SC_STR,   /* char[cap+1], NUL-terminated UTF-8 without NUL; wire str */
	SC_BYTES, /* uint8_t[cap] + uint32_t <name>_len; wire bin */
	SC_FIXED, /* uint8_t[cap], exact length (hash, address, id); wire bin of exactly cap */
	SC_U256,  /* u256; wire bin(32) big-endian */
	SC_I256,  /* u256 holding two's complement; wire bin(32) big-endian */
	SC_ENUM,  /* int index into names; wire str (the name) */
	SC_LIST,  /* sub-struct[cap] + uint32_t <name>_count; wire array of maps */
	SC_MAP,   /* sc_kv[cap] + uint32_t <name>_count; wire map str -> str */
	SC_KIND_COUNT
} sc_kind;

enum {
	SC_OPT = 0,   /* may be absent (then zero); the encoder leaves it out when zero/empty */
	SC_REQ = 1,   /* must be present */
	SC_TOKEN = 2, /* STR: non-empty, only [A-Za-z0-9._:/@+-] (names that end up in topics, labels) */
};

typedef struct sc_field {
	const char *name;
	uint8_t kind, flags;
	uint16_t name_len;
	uint32_t off;             /* offset of the value in the struct */
	uint32_t cap;             /* STR: max bytes; BYTES/FIXED: bytes; LIST/MAP: max elements */
	uint32_t aux_off;         /* BYTES: offset of the uint32_t length; LIST/MAP: of the uint32_t count */
	uint64_t max;             /* U64: largest value accepted, 0 = no bound */
	const char *const *names; /* ENUM: value names, index = stored int */
	uint32_t nnames;
	const sc_msgdef *sub; /* LIST: the element's descriptor */
} sc_field;

struct sc_msgdef {
	const char *type;     /* envelope type ("price.obs"); for list elements, the element name */
	size_t size;          /* sizeof the struct */
	uint32_t version;     /* written by this build; 0 = an element (no "v" key) */
	uint32_t min_version; /* oldest version still decoded */
	const sc_field *fields;
	size_t nfields; /* <= 64 (duplicate detection uses a 64-bit mask) */
};

/* Compile-time type checks inside initializers: a negative bit-field width is an error. */
#define SC_CHECK(cond)   (0 * sizeof(struct { int sc_check_ : (cond) ? 1 : -1; }))
#define SC_IS(st, f, T)  __builtin_types_compatible_p(__typeof__(((st *)0)->f), T)
#define SC_OFF(st, f, T) (uint32_t)(offsetof(st, f) + SC_CHECK(SC_IS(st, f, T)))
#define SC_NAME(f)       .name = #f, .name_len = sizeof(#f) - 1

#define SC_F_U64(st, f, fl, mx)                                                                                        \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_U64, .flags = (fl), .off = SC_OFF(st, f, uint64_t), .max = (mx)                 \
	}
#define SC_F_I64(st, f, fl)                                                                                            \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_I64, .flags = (fl), .off = SC_OFF(st, f, int64_t)                               \
	}
#define SC_F_BOOL(st, f, fl)                                                                                           \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_BOOL, .flags = (fl), .off = SC_OFF(st, f, bool)                                 \
	}
#define SC_F_STR(st, f, fl)                                                                                            \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_STR, .flags = (fl),                                                             \
		            .off = (uint32_t)(offsetof(st, f) + SC_CHECK(SC_IS(st, f[0], char))),                      \
		            .cap = (uint32_t)(sizeof(((st *)0)->f) - 1)                                                \
	}
#define SC_F_BYTES(st, f, fl)                                                                                          \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_BYTES, .flags = (fl),                                                           \
		            .off = (uint32_t)(offsetof(st, f) + SC_CHECK(SC_IS(st, f[0], uint8_t))),                   \
		            .cap = (uint32_t)sizeof(((st *)0)->f), .aux_off = SC_OFF(st, f##_len, uint32_t)            \
	}
#define SC_F_FIXED(st, f, fl)                                                                                          \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_FIXED, .flags = (fl),                                                           \
		            .off = (uint32_t)(offsetof(st, f) + SC_CHECK(SC_IS(st, f[0], uint8_t))),                   \
		            .cap = (uint32_t)sizeof(((st *)0)->f)                                                      \
	}
#define SC_F_U256(st, f, fl)                                                                                           \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_U256, .flags = (fl), .off = SC_OFF(st, f, u256)                                 \
	}
#define SC_F_I256(st, f, fl)                                                                                           \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_I256, .flags = (fl), .off = SC_OFF(st, f, u256)                                 \
	}
#define SC_F_ENUM(st, f, fl, nm)                                                                                       \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_ENUM, .flags = (fl), .off = SC_OFF(st, f, int), .names = (nm),                  \
		            .nnames = (uint32_t)(sizeof(nm) / sizeof((nm)[0]))                                         \
	}
#define SC_F_LIST(st, f, fl, subdef)                                                                                   \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_LIST, .flags = (fl), .off = (uint32_t)offsetof(st, f),                          \
		            .cap = (uint32_t)(sizeof(((st *)0)->f) / sizeof(((st *)0)->f[0])),                         \
		            .aux_off = SC_OFF(st, f##_count, uint32_t), .sub = &(subdef)                               \
	}
#define SC_F_MAP(st, f, fl)                                                                                            \
	{                                                                                                              \
		SC_NAME(f), .kind = SC_MAP, .flags = (fl),                                                             \
		            .off = (uint32_t)(offsetof(st, f) + SC_CHECK(SC_IS(st, f[0], sc_kv))),                     \
		            .cap = (uint32_t)(sizeof(((st *)0)->f) / sizeof(((st *)0)->f[0])),                         \
		            .aux_off = SC_OFF(st, f##_count, uint32_t)                                                 \
	}

#define SC_DEF(typename, st, ver, minver, table)                                                                       \
	{                                                                                                              \
		.type = (typename), .size = sizeof(st), .version = (ver), .min_version = (minver), .fields = (table),  \
		.nfields = sizeof(table) / sizeof((table)[0])                                                          \
	}

/* ---- the byte level (schema_wire.c) -------------------------------------------------------- */

/* What the strict reader saw; sc_tname[t] names it in messages. */
enum {
	SC_T_NIL,
	SC_T_BOOL,
	SC_T_UINT,
	SC_T_INT,
	SC_T_FLOAT,
	SC_T_STR,
	SC_T_BIN,
	SC_T_ARRAY,
	SC_T_MAP,
	SC_T_EXT
};
extern const char *const sc_tname[];

typedef struct {
	const uint8_t *start, *p, *end; /* the body (borrowed), the read position, its end */
} sc_rd;

typedef struct {
	int t;
	uint64_t u;       /* UINT, BOOL */
	int64_t i;        /* INT (negative values only) */
	const uint8_t *s; /* STR, BIN: the body, pointing into the reader's input */
	uint32_t n;       /* STR, BIN: length; ARRAY, MAP: element count */
	size_t at;        /* offset of the value in the body, for messages */
} sc_obj;

/* The caller's buffer behind a msgpack_packer (sc_wbuf_write is its write callback): a write that
 * does not fit sets overflow and every later write fails. */
typedef struct {
	uint8_t *buf;
	size_t cap, len;
	int overflow;
} sc_wbuf;

/* e->text = the formatted message (e may be NULL). */
void sc_fail(sc_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads one value header (and the body of str/bin/ext/float). 0 ok; -1 truncated or the reserved
 * byte 0xc1. Array and map headers leave the reader on their first element. */
int sc_rd_next(sc_rd *r, sc_obj *o);
/* sc_rd_next for the value of field `name`; on truncation fails naming it. 0 ok, -1 error. */
int sc_rd_value(sc_rd *r, sc_obj *o, const char *name, sc_err *e);
/* Fails with "name: expected want, got <type> at byte N"; always -1. */
int sc_wrong(sc_err *e, const char *name, const char *want, const sc_obj *o);

/* Checks a string (capacity, UTF-8 without NUL; flags SC_TOKEN: the token charset, non-empty when
 * SC_REQ too) and copies it into dst[cap+1]. 0 ok, -1 error naming `name`. */
int sc_put_str(const char *name, int flags, uint32_t cap, char *dst, const uint8_t *s, size_t n, sc_err *e);
/* A stored string is valid if NUL-terminated within its capacity and would decode; *n = its length.
 * token: a non-empty value must be a token. 0 ok, -1 error. */
int sc_check_str(const char *name, int token, uint32_t cap, const char *s, size_t *n, sc_err *e);

int sc_wbuf_write(void *data, const char *p, size_t n); /* msgpack_packer_write into an sc_wbuf */
void sc_pack_str(msgpack_packer *pk, const char *s, size_t n);
void sc_pack_bin(msgpack_packer *pk, const void *s, size_t n);

#endif
