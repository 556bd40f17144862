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
 * Memory: nothing is allocated; js_val points into the caller's document, which must outlive it. */
#ifndef CHAIN_JSCAN_H
#define CHAIN_JSCAN_H

#include <stddef.h>

#define JS_MAX_DEPTH 64
#define JS_MAX_PATH 16 /* segments */

typedef enum { JS_NONE, JS_OBJECT, JS_ARRAY, JS_STRING, JS_NUMBER, JS_TRUE, JS_FALSE, JS_NULL } js_type;

typedef struct {
	js_type     type;
	const char *p; /* the value's text: strings include their quotes */
	size_t      n;
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

#endif
