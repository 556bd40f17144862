/* revert.c - see revert.h. Error(string) and Panic(uint256) are Solidity's built-in errors
 * (selectors 0x08c379a0 and 0x4e487b71); anything else is a custom error, shown by selector. */
#include "actors/submitter/revert.h"

#include <stdio.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/hex.h"

static const uint8_t sub_sel_error[4] = { 0x08, 0xc3, 0x79, 0xa0 };
static const uint8_t sub_sel_panic[4] = { 0x4e, 0x48, 0x7b, 0x71 };

int sub_out_of_gas(uint64_t gas_used, uint64_t gas_limit)
{
	/* gas_used * 64 >= gas_limit * 63, without overflow for any u64 */
	return gas_limit > 0 && gas_used >= gas_limit - gas_limit / 64;
}

const char *sub_panic_name(uint64_t code)
{
	switch (code) {
	case 0x00: return "generic compiler panic";
	case 0x01: return "assert failed";
	case 0x11: return "arithmetic overflow or underflow";
	case 0x12: return "division or modulo by zero";
	case 0x21: return "conversion to an enum out of range";
	case 0x22: return "incorrectly encoded storage byte array";
	case 0x31: return "pop() on an empty array";
	case 0x32: return "array index out of bounds";
	case 0x41: return "too much memory allocated";
	case 0x51: return "call to a zero-initialized internal function";
	default: return "unknown panic code";
	}
}

/* Hex of data, cut to fit (with "..." when cut). */
static void sub_hex_fit(const uint8_t *d, size_t n, char *out, size_t cap)
{
	char buf[2 * 64 + 3];
	size_t take = n > 64 ? 64 : n;
	hex_encode(d, take, 1, buf);
	snprintf(out, cap, "%s%s", buf, take < n ? "..." : "");
}

void sub_revert_text(const uint8_t *data, size_t len, char *out, size_t cap)
{
	abi_sig sig;
	abi_val v[4];
	size_t nv, off;
	char hex[2 * 64 + 8];

	if (len == 0) {
		snprintf(out, cap, "reverted without a reason");
		return;
	}
	if (len < 4) {
		sub_hex_fit(data, len, hex, sizeof hex);
		snprintf(out, cap, "reverted with malformed data %s", hex);
		return;
	}
	if (memcmp(data, sub_sel_error, 4) == 0 && abi_parse_types(&sig, "(string)", &off) == ABI_OK &&
	    abi_decode(&sig, data + 4, len - 4, v, 4, &nv, &off) == ABI_OK && nv >= 2) {
		size_t n = v[1].len, o = 0;
		int w = snprintf(out, cap, "reverted: ");
		o = w > 0 && (size_t)w < cap ? (size_t)w : 0;
		for (size_t i = 0; i < n && o + 1 < cap; i++) /* the contract's text: no control characters */
			out[o++] = v[1].p[i] < 0x20 || v[1].p[i] == 0x7f ? '?' : (char)v[1].p[i];
		out[o] = 0;
		return;
	}
	if (memcmp(data, sub_sel_panic, 4) == 0 && len == 36) {
		uint64_t code = 0;
		int big = 0;
		for (size_t i = 4; i < 28; i++)
			big |= data[i];
		for (size_t i = 28; i < 36; i++)
			code = code << 8 | data[i];
		if (big)
			snprintf(out, cap, "panic (code out of range)");
		else
			snprintf(out, cap, "panic 0x%llx: %s", (unsigned long long)code, sub_panic_name(code));
		return;
	}
	char sel[11];
	hex_encode(data, 4, 1, sel);
	if (len == 4) {
		snprintf(out, cap, "custom error %s", sel);
		return;
	}
	if ((len - 4) % 32 != 0) {
		sub_hex_fit(data + 4, len - 4, hex, sizeof hex);
		snprintf(out, cap, "custom error %s, data %s", sel, hex);
		return;
	}
	/* Arguments as 32-byte words in hex without leading zeros: readable, and short enough that
	 * an error of a few arguments fits tx.status.error_text whole. */
	size_t o = 0, nw = (len - 4) / 32;
	int w = snprintf(out, cap, "custom error %s(", sel);
	o = w > 0 && (size_t)w < cap ? (size_t)w : 0;
	for (size_t i = 0; i < nw && i < 8; i++) {
		char word[67];
		hex_encode(data + 4 + 32 * i, 32, 0, word);
		size_t z = strspn(word, "0");
		w = snprintf(out + o, cap - o, "%s0x%s", i ? "," : "", z < 64 ? word + z : "0");
		o = w > 0 && o + (size_t)w < cap ? o + (size_t)w : cap - 1;
	}
	snprintf(out + o, cap - o, "%s)", nw > 8 ? ",..." : "");
}
