/* revert.c - revert data to text (revert.h). */
#include "chain/revert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/abi.h"
#include "base/hex.h"

#define RV_HEX_MAX 512

static const uint8_t rv_sel_error[4] = { 0x08, 0xc3, 0x79, 0xa0 }, rv_sel_panic[4] = { 0x4e, 0x48, 0x7b, 0x71 };

const char *
rv_panic_name(uint64_t code)
{
	switch (code) { /* Solidity docs, "Panic via assert and Error via require" */
	case 0x00:
		return "generic compiler panic";
	case 0x01:
		return "assert failed";
	case 0x11:
		return "arithmetic overflow or underflow";
	case 0x12:
		return "division or modulo by zero";
	case 0x21:
		return "invalid enum value";
	case 0x22:
		return "invalid storage byte array";
	case 0x31:
		return "pop on an empty array";
	case 0x32:
		return "array index out of bounds";
	case 0x41:
		return "out of memory";
	case 0x51:
		return "call to an uninitialised function";
	default:
		return NULL;
	}
}

/* Printable ASCII only: the reason is chosen by whoever wrote the contract. */
static void
rv_clean(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < cap; i++)
		out[k++] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\' ? (char)p[i] : '?';
	out[k] = 0;
}

int
rv_describe(const uint8_t *data, size_t len, char *out, size_t cap)
{
	if (cap == 0)
		return RV_MALFORMED;
	if (len == 0) {
		snprintf(out, cap, "reverted without a reason");
		return RV_NONE;
	}
	if (len < 4) {
		snprintf(out, cap, "reverted with %zu bytes of data", len);
		return RV_MALFORMED;
	}
	abi_sig s;
	abi_val v[4];
	size_t nv, off = 0;
	if (memcmp(data, rv_sel_error, 4) == 0) {
		if (abi_parse_types(&s, "(string)", &off) == ABI_OK &&
		    abi_decode(&s, data + 4, len - 4, v, 4, &nv, &off) == ABI_OK && nv >= 2) {
			char reason[200];
			rv_clean(v[1].p, v[1].len, reason, sizeof reason);
			snprintf(out, cap, "reverted: %s", reason);
			return RV_ERROR_STRING;
		}
		snprintf(out, cap, "reverted: Error(string) with malformed data (%zu bytes)", len);
		return RV_MALFORMED;
	}
	if (memcmp(data, rv_sel_panic, 4) == 0) {
		uint64_t code;
		if (len == 36 && abi_parse_types(&s, "(uint256)", &off) == ABI_OK &&
		    abi_decode(&s, data + 4, len - 4, v, 4, &nv, &off) == ABI_OK &&
		    abi_get_u64(&v[1], &code) == ABI_OK) {
			const char *name = rv_panic_name(code);
			snprintf(out, cap, "panic 0x%02llx (%s)", (unsigned long long)code,
			         name ? name : "unknown code");
			return RV_PANIC;
		}
		snprintf(out, cap, "panic with malformed data (%zu bytes)", len);
		return RV_MALFORMED;
	}
	char sel[9];
	hex_encode(data, 4, 0, sel);
	snprintf(out, cap, "custom error 0x%s (%zu bytes of arguments)", sel, len - 4);
	return RV_CUSTOM;
}

int
rv_describe_hex(const char *hex, char *out, size_t cap)
{
	if (hex == NULL || *hex == 0 || strcmp(hex, "0x") == 0)
		return rv_describe(NULL, 0, out, cap);
	size_t n = strlen(hex);
	if (n >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2, n -= 2;
	uint8_t buf[RV_HEX_MAX];
	if (n % 2 || n / 2 > sizeof buf || hex_decode_exact(hex, n, buf, n / 2) != HEX_OK) {
		if (cap)
			snprintf(out, cap, "reverted with undecodable data (%zu hex digits)", n);
		return RV_MALFORMED;
	}
	return rv_describe(buf, n / 2, out, cap);
}
