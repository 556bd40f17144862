/* schema: one generic, table-driven codec for every message family of the bus.
 *
 * A family is a C struct (schemas/messages.h) plus a static descriptor table of its fields. One
 * encoder, one decoder, one to-JSON and one from-JSON walk that table; no family has a codec of its
 * own. Wire form of a body: a msgpack map with string keys (the field names) plus "v" (schema
 * version); see schemas/README.md for the rules and every field.
 *
 * Records OWN all their bytes: strings and byte fields are fixed-capacity arrays inside the struct,
 * so a decoded record never points into the input and may be memcpy'd or stored as is.
 *
 * Decoding is strict and bounded: missing required field, wrong type, unknown field, duplicate key,
 * unsupported version, oversized value, invalid UTF-8, trailing bytes and bodies larger than
 * SC_MAX_BODY are errors whose message names the field, never a crash. No allocation on the
 * encode/decode paths. */
#ifndef OB_SCHEMAS_SCHEMA_H
#define OB_SCHEMAS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SC_MAX_BODY 65536 /* bytes; larger bodies are refused before any parsing */

typedef struct sc_msgdef sc_msgdef; /* static descriptor of one family (never freed) */
typedef struct {
	char text[160];
} sc_err; /* what failed, naming the field; always NUL-terminated */

/* Descriptors are static: no ownership, valid for the life of the program. */
const sc_msgdef *sc_lookup(const char *type); /* "price.obs" -> def; NULL if unknown */
const sc_msgdef *const *sc_all(size_t *n);    /* every family, for tools and tests */
const char *sc_type(const sc_msgdef *d);      /* "price.obs" */
size_t sc_size(const sc_msgdef *d);           /* sizeof the family's struct */
unsigned sc_version(const sc_msgdef *d);      /* the version this build writes */

/* rec -> msgpack body into the caller's buf[cap]; *len = bytes written. Deterministic: "v" first,
 * then fields in table order; optional fields that are zero/empty are left out. Fails (naming the
 * field) if rec holds an invalid value (e.g. an enum out of range, a string not NUL-terminated
 * within its capacity) or buf is too small. 0 ok, -1 error. */
int sc_encode(const sc_msgdef *d, const void *rec, uint8_t *buf, size_t cap, size_t *len, sc_err *e);

/* msgpack body buf[len] -> caller's rec (sc_size(d) bytes, zeroed first). Reads only buf[0..len).
 * 0 ok, -1 error (rec then holds a partial value; do not use it). */
int sc_decode(const sc_msgdef *d, const uint8_t *buf, size_t len, void *rec, sc_err *e);

/* rec -> a new JSON object (caller owns the reference: json_decref). NULL only on out-of-memory
 * or an invalid record. U256/I256 are decimal strings, bytes "0x..." lowercase hex, enums their
 * names, U64/I64 JSON integers up to 2^53 in magnitude and decimal strings beyond. */
json_t *sc_to_json(const sc_msgdef *d, const void *rec);

/* JSON object (borrowed) -> caller's rec (zeroed first). As strict as sc_decode; "v" is optional
 * and U64/I64 also accept decimal strings. 0 ok, -1 error. */
int sc_from_json(const sc_msgdef *d, const json_t *j, void *rec, sc_err *e);

/* msgpack body -> new JSON object (caller owns it), for bus-tap; NULL and *e on error. Allocates
 * one temporary record on the heap. */
json_t *sc_body_to_json(const sc_msgdef *d, const uint8_t *buf, size_t len, sc_err *e);

/* Field-by-field equality of two records of family d (only the meaningful bytes: string contents,
 * bytes up to their length, list elements up to their count), for tests and deduplication. */
int sc_equal(const sc_msgdef *d, const void *a, const void *b);

#endif
