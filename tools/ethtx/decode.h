/* decode.h — `ethtx decode` / `ethtx inspect`: the view of a signed raw transaction (every field, the
 * transaction hash, the sender recovered from the signature) as a JSON object, and its text form.
 *
 * Memory: dx_view returns a new jansson object the caller releases with json_decref; it copies what
 * it needs, so raw may be freed afterwards. Error messages go into the caller's buffer.
 */
#ifndef OB_TOOLS_ETHTX_DECODE_H
#define OB_TOOLS_ETHTX_DECODE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Largest raw transaction accepted (geth's txpool limit for one transaction is 128 KiB). */
#define DX_MAX_RAW (1u << 17)

/* Parses operator text: optional 0x, hex digits, surrounding whitespace ignored. Writes at most
 * DX_MAX_RAW bytes into raw. 0, or -1 with a message naming the offending character. */
int dx_parse_hex(const char *s, size_t slen, uint8_t *raw, size_t *n, char *err, size_t errlen);

/* Decodes raw[0..n) and recovers its sender. rich adds the raw size, the signing hash, the access
 * list itself and the calldata split into selector and 32-byte words. Integers that can exceed
 * 2^53 are decimal strings; type and yParity are numbers; absent chain id (pre-EIP-155) and
 * recipient (contract creation) are null. NULL with a message (field and byte offset) on error. */
json_t *dx_view(const uint8_t *raw, size_t n, int rich, char *err, size_t errlen);

/* The human text form of a view: one "key value" line per field. */
void dx_print_text(const json_t *view, FILE *f);

#endif
