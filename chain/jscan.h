/* jscan: a small strict JSON scanner that finds a value by path and hands back its exact source
 * text, so a price such as 3000.12 (a bare JSON number, as CoinGecko sends it) reaches
 * dec_to_fixed as the characters "3000.12" and never as a double.
 *
 * Why not jansson: jansson (like most DOM parsers) converts every number to a double (or a
 * json_int_t when it has no fraction) while parsing and keeps no source offsets, so 3000.12 would
 * come back as 3000.11999999999989 and a 30-digit integer would be lost. Re-finding the literal in
 * the text afterwards is fragile (the same digits can appear elsewhere). This scanner validates the
 * whole document against RFC 8259 (nesting at most JS_MAX_DEPTH, strings UTF-8 and escapes
 * checked) and then walks it without building anything: no allocation, O(n) per lookup.
 *
 * Paths: segments separated by '.', e.g. "data.amount", "result.*.c.0". A segment matches an
 * object key exactly (after unescaping the key), or an array index in decimal; "*" matches any
 * member or element, and the first one under which the rest of the path exists wins. Keys that
 * contain '.' cannot be addressed.
 *
 * Iteration (js_iter_*, js_get): one pass over an array's elements or an object's members, handing
 * out each key and value as js_val without building anything, for callers that read many fields
 * of many elements (ccip-tail's eth_getLogs reader). Strictness comes from js_validate, called ONCE
 * per document: the iterator trusts that the container it walks is part of a validated document
 * and skips values without re-checking them (strings by memchr for the closing quote, containers
 * by bracket counting), so a walk costs a fraction of a validation. On text that did not pass
 * js_validate it stays within [p, p + n) and terminates, but what it yields is unspecified.
 * Duplicate keys are not detected (RFC 8259 leaves them to the application): a caller that cares
 * checks the members it reads.
 *
 * Memory: nothing is allocated; js_val points into the caller's document, which must outlive it. */
#ifndef OB_CHAIN_JSCAN_H
#define OB_CHAIN_JSCAN_H

#include <stddef.h>

#define JS_MAX_DEPTH 64
#define JS_MAX_PATH  16 /* segments */

typedef enum {
	JS_NONE,
	JS_OBJECT,
	JS_ARRAY,
	JS_STRING,
	JS_NUMBER,
	JS_TRUE,
	JS_FALSE,
	JS_NULL
} js_type;

typedef struct {
	js_type type;
	const char *p; /* the value's text: strings include their quotes */
	size_t n;
} js_val;

/* 0 when doc[0..n) is exactly one JSON value (surrounding whitespace allowed); -1 otherwise with
 * *off at the offending byte and *why a static description. off/why may be NULL. */
int js_validate(const char *doc, size_t n, size_t *off, const char **why);

/* Looks path up in a document that passed js_validate. 0 and *out, or -1 when absent. */
int js_find(const char *doc, size_t n, const char *path, js_val *out);

/* The unescaped UTF-8 content of a JS_STRING value into out (NUL-terminated). Returns the length,
 * or -1 when it does not fit in cap - 1 bytes or contains a NUL (\u0000). */
long js_string(const js_val *v, char *out, size_t cap);

/* Number of members/elements of an object/array value; 0 for anything else. */
size_t js_count(const js_val *v);

const char *js_type_name(js_type t);

/* ---- iteration (over a value of a validated document; see above) ---------------------------- */
typedef struct {
	const char *s;
	size_t n, i;
	char close; /* ']' or '}'; 0 when exhausted or not a container */
} js_iter;

/* Starts a walk over an array's elements or an object's members; anything else yields nothing. */
void js_iter_init(js_iter *it, const js_val *container);

/* The next element: 1 with *val (and, for an object, *key: the member's key as a JS_STRING value,
 * quotes included; for an array key->type is JS_NONE), or 0 at the end. key may be NULL. */
int js_iter_next(js_iter *it, js_val *key, js_val *val);

/* 1 when the JS_STRING key, unescaped, equals the NUL-terminated name; else 0. Keys whose
 * unescaped form is longer than 255 bytes never match. */
int js_key_eq(const js_val *key, const char *name);

/* The first member of object obj named key (one level, exact after unescaping): 0 and *out, or -1
 * when absent or obj is not an object. */
int js_get(const js_val *obj, const char *key, js_val *out);

/* The raw content of a JS_STRING (between the quotes) when it contains no escape: 0 with *p, *len
 * pointing into the document; -1 when it has an escape (use js_string) or is not a string. */
int js_string_raw(const js_val *v, const char **p, size_t *len);

#endif
