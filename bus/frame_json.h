/* frame_json: the one JSON view of a bus frame that the operator tools print (bus-tap --format json,
 * bus-replay dump, alert-subscriber --format json), so a jq filter written for one works on the
 * others, and values keep one spelling everywhere:
 *   - bytes (message ids, keys, hashes, raw bodies) are "0x" + lowercase hex, as the schemas' JSON
 *     views write them (schemas/README.md);
 *   - integers are JSON numbers up to 2^53 and decimal strings beyond (ts in ns always is one), the
 *     schemas' rule for bodies too: jq, JavaScript and every reader that parses numbers as doubles
 *     read both exactly.
 *
 * Memory: every function returns a new reference (caller json_decref's) or NULL when out of
 * memory; frame_json_add adds to an object the caller owns and borrows nothing after it returns. */
#ifndef OB_BUS_FRAME_JSON_H
#define OB_BUS_FRAME_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/frame.h"

#define FRAME_JSON_SAFE_INT 9007199254740992ULL /* 2^53 */

json_t *frame_json_u64(uint64_t v);                 /* number <= 2^53, else "decimal" */
json_t *frame_json_hex(const uint8_t *p, size_t n); /* "0x..." */

/* Adds topic, type, id, origin, seq, ts, signed, [key], [window: {index, count, path: [0x-hex
 * sibling hashes]} for a frame signed as part of a window (frame.h element 9)], then body (decoded through the schemas) or
 * body_hex, plus body_error when the type is known but its body does not decode. 0, or -1 when out
 * of memory. */
int frame_json_add(json_t *obj, const frame_view *f);

#endif
