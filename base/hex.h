/* hex.h — strict hexadecimal <-> bytes, and EIP-55 mixed-case checksummed addresses.
 *
 * Memory: no allocation. Every output buffer is the caller's, with its size given or fixed by the
 * signature; inputs are only read during the call. Strings in are (pointer, length), not NUL-bound,
 * so they may point into a larger JSON text; strings out are NUL-terminated.
 */
#ifndef OB_BASE_HEX_H
#define OB_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>

enum {
	HEX_OK = 0,
	HEX_EODD = -1,    /* odd number of digits */
	HEX_ECHAR = -2,   /* a character that is not a hex digit */
	HEX_ESPACE = -3,  /* output buffer too small / wrong exact length */
	HEX_EPREFIX = -4, /* the 0x prefix is required but missing */
	HEX_ESUM = -5,    /* mixed-case address whose EIP-55 checksum is wrong */
};

/* Flags for hex_decode. */
#define HEX_PREFIX_OPTIONAL 0 /* "0xab" and "ab" both accepted */
#define HEX_PREFIX_REQUIRED 1

/* Decodes s[0..slen) into out (capacity cap), *outlen = bytes written. Upper and lower case digits
 * are both accepted. On error, *err_off (if non-NULL) is the offset in s of the offending char. */
int hex_decode(const char *s, size_t slen, int flags, uint8_t *out, size_t cap, size_t *outlen, size_t *err_off);

/* The value of one hex digit (either case), or -1. */
int hex_digit(int c);

/* Like hex_decode, but the input must encode exactly n bytes. */
int hex_decode_exact(const char *s, size_t slen, uint8_t *out, size_t n);

/* Writes lowercase hex of b[0..n) with "0x" if prefix, plus a NUL: out needs 2n+1 (+2) bytes.
 * Returns the string length. */
size_t hex_encode(const uint8_t *b, size_t n, int prefix, char *out);

/* EIP-55: "0x" + 40 checksummed digits + NUL. */
void hex_addr_format(const uint8_t addr[20], char out[43]);

/* Parses an address "0x"+40 digits (prefix optional). All-lowercase or all-uppercase input is
 * accepted without a checksum (EIP-55 says so); mixed case must carry a correct checksum. */
int hex_addr_parse(const char *s, size_t slen, uint8_t addr[20]);

const char *hex_strerror(int err);

/* Check row for an RT_ADDR option (base/rt_config.h): RT_CHECK_ROW("VAR", hex_addr_opt_check) adds
 * the EIP-55 checksum check of a mixed-case value to the type's syntax check. */
struct rt_opt;
struct rt_cfg_errs;
void hex_addr_opt_check(const struct rt_opt *o, const char *text, struct rt_cfg_errs *e);

#endif
