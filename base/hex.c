/* hex.c — strict hex codec and EIP-55 checksummed addresses.
 *
 * Decoding goes through a 256-entry table (-1 = not a digit) so the loop has no branches per
 * character class; outside input can only ever produce an error code and an offset.
 */
#include "base/hex.h"
#include "base/keccak.h"
#include "base/rt_config.h"

#include <string.h>

static const int8_t hex_val[256] = {
	['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
	['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
}; /* value + 1, so the implicit 0 means "not a digit" */

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

int
hex_digit(int c)
{
	return hex_val[(uint8_t)c] - 1;
}

static size_t
hex_skip_prefix(const char *s, size_t slen)
{
	return (slen >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 2 : 0;
}

int
hex_decode(const char *s, size_t slen, int flags, uint8_t *out, size_t cap, size_t *outlen, size_t *err_off)
{
	size_t i = hex_skip_prefix(s, slen), n;
	if (outlen)
		*outlen = 0;
	if (i == 0 && (flags & HEX_PREFIX_REQUIRED)) {
		if (err_off)
			*err_off = 0;
		return HEX_EPREFIX;
	}
	for (size_t k = i; k < slen; k++) {
		if (!hex_val[(uint8_t)s[k]]) {
			if (err_off)
				*err_off = k;
			return HEX_ECHAR;
		}
	}
	if ((slen - i) % 2) {
		if (err_off)
			*err_off = slen;
		return HEX_EODD;
	}
	n = (slen - i) / 2;
	if (n > cap) {
		if (err_off)
			*err_off = i + 2 * cap;
		return HEX_ESPACE;
	}
	for (size_t k = 0; k < n; k++)
		out[k] = (uint8_t)(((hex_val[(uint8_t)s[i + 2 * k]] - 1) << 4) |
		                   (hex_val[(uint8_t)s[i + 2 * k + 1]] - 1));
	if (outlen)
		*outlen = n;
	return HEX_OK;
}

int
hex_decode_exact(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t got, p = hex_skip_prefix(s, slen);
	if (slen - p != 2 * n) {
		int rc = hex_decode(s, slen, 0, out, 0, NULL, NULL); /* prefer a char/odd error if any */
		return rc == HEX_OK || rc == HEX_ESPACE ? HEX_ESPACE : rc;
	}
	return hex_decode(s, slen, 0, out, n, &got, NULL);
}

size_t
hex_encode(const uint8_t *b, size_t n, int prefix, char *out)
{
	size_t o = 0;
	if (prefix) {
		out[o++] = '0';
		out[o++] = 'x';
	}
	for (size_t i = 0; i < n; i++) {
		out[o++] = hex_lower[b[i] >> 4];
		out[o++] = hex_lower[b[i] & 15];
	}
	out[o] = '\0';
	return o;
}

/* EIP-55: digit i is uppercased when nibble i of keccak(lowercase hex ascii) is >= 8. */
void
hex_addr_format(const uint8_t addr[20], char out[43])
{
	char low[41];
	uint8_t h[32];
	hex_encode(addr, 20, 0, low);
	kec_256(low, 40, h);
	out[0] = '0';
	out[1] = 'x';
	for (int i = 0; i < 40; i++) {
		unsigned nib = (i % 2 == 0) ? h[i / 2] >> 4 : h[i / 2] & 15;
		unsigned v = (unsigned)(hex_val[(uint8_t)low[i]] - 1);
		out[2 + i] = nib >= 8 ? hex_upper[v] : hex_lower[v];
	}
	out[42] = '\0';
}

int
hex_addr_parse(const char *s, size_t slen, uint8_t addr[20])
{
	size_t p = hex_skip_prefix(s, slen);
	int has_lower = 0, has_upper = 0, rc;
	if ((rc = hex_decode_exact(s, slen, addr, 20)) != HEX_OK)
		return rc;
	for (size_t i = p; i < slen; i++) {
		has_lower |= (s[i] >= 'a' && s[i] <= 'f');
		has_upper |= (s[i] >= 'A' && s[i] <= 'F');
	}
	if (has_lower && has_upper) {
		char want[43];
		hex_addr_format(addr, want);
		if (memcmp(want + 2, s + p, 40) != 0) {
			memset(addr, 0, 20);
			return HEX_ESUM;
		}
	}
	return HEX_OK;
}

const char *
hex_strerror(int err)
{
	static const char *const msg[] = {
		[0] = "ok",
		[1] = "odd number of hex digits",
		[2] = "not a hex digit",
		[3] = "wrong length for the buffer",
		[4] = "missing 0x prefix",
		[5] = "bad EIP-55 address checksum",
	};
	unsigned i = (unsigned)-err;
	return err <= 0 && i < sizeof msg / sizeof msg[0] ? msg[i] : "unknown hex error";
}

void
hex_addr_opt_check(const struct rt_opt *o, const char *text, struct rt_cfg_errs *e)
{
	uint8_t a[20];
	if (text != NULL && hex_addr_parse(text, strlen(text), a) == HEX_ESUM)
		rt_config_error(e, o->env,
		                "'%.42s' has a wrong EIP-55 checksum (mixed case); check the address or "
		                "write it in lower case",
		                text);
}
