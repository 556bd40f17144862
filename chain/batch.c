/*
 * batch.c - batch calls, their results and the isolation of failing calls (batch.h).
 */
#include "chain/batch.h"

#include <stdio.h>
#include <string.h>

#include "chain/abi.h"

int
cb_kind_parse(const char *s)
{
	if (s == NULL || *s == 0 || strcmp(s, "off") == 0 || strcmp(s, "none") == 0)
		return CB_NONE;
	if (strcmp(s, "aggregate3") == 0)
		return CB_AGGREGATE3;
	if (strcmp(s, "updateAnswers") == 0)
		return CB_UPDATE_ANSWERS;
	return -1;
}

const char *
cb_kind_name(int kind)
{
	return kind == CB_AGGREGATE3 ? "aggregate3" : kind == CB_UPDATE_ANSWERS ? "updateAnswers" : "off";
}

int
cb_encode(int kind, const cb_call *calls, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	abi_sig s;
	abi_val v[2 + 4 * CB_MAX_CALLS];
	size_t k = 0;
	*len = 0;
	if (n == 0 || n > CB_MAX_CALLS)
		return -1;
	if (kind == CB_AGGREGATE3) {
		if (abi_parse_sig(&s, CB_AGGREGATE3_SIG, NULL) != ABI_OK)
			return -1;
		/* root (1) -> array (n) -> n x tuple (target, allowFailure, callData) */
		abi_v_list(&v[k++], 1, (uint32_t)(2 + 4 * n));
		abi_v_list(&v[k++], (uint32_t)n, (uint32_t)(1 + 4 * n));
		for (size_t i = 0; i < n; i++) {
			abi_v_list(&v[k++], 3, 4);
			abi_v_address(&v[k++], calls[i].target);
			abi_v_bool(&v[k++], 1); /* one call's revert must not sink the others */
			abi_v_bytes(&v[k++], calls[i].data, calls[i].len);
		}
	} else if (kind == CB_UPDATE_ANSWERS) {
		if (abi_parse_sig(&s, CB_UPDATE_ANSWERS_SIG, NULL) != ABI_OK)
			return -1;
		abi_v_list(&v[k++], 2, (uint32_t)(3 + 2 * n));
		abi_v_list(&v[k++], (uint32_t)n, (uint32_t)(1 + n));
		for (size_t i = 0; i < n; i++)
			abi_v_address(&v[k++], calls[i].target);
		abi_v_list(&v[k++], (uint32_t)n, (uint32_t)(1 + n));
		for (size_t i = 0; i < n; i++)
			abi_v_uint(&v[k++], &calls[i].answer);
	} else {
		return -1;
	}
	return abi_encode(&s, v, k, 1, out, cap, len) == ABI_OK ? 0 : -1;
}

int
cb_decode_results(const uint8_t *data, size_t len, cb_result *out, size_t n, char *err, size_t errlen)
{
	abi_sig s;
	abi_val v[2 + 3 * CB_MAX_CALLS + 3];
	size_t nv, off = 0;
	if (n > CB_MAX_CALLS || abi_parse_types(&s, "((bool,bytes)[])", NULL) != ABI_OK) {
		snprintf(err, errlen, "more than %d calls", CB_MAX_CALLS);
		return -1;
	}
	/* Room for one node more than n results need: a longer array is an error, not a truncation. */
	int rv = abi_decode(&s, data, len, v, 2 + 3 * n + 3, &nv, &off);
	if (rv != ABI_OK) {
		snprintf(err, errlen, "results: %s at byte %zu", abi_strerror(rv), off);
		return -1;
	}
	if (v[1].count != n) {
		snprintf(err, errlen, "results: %u entries for %zu calls", v[1].count, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t t = abi_child(v, 1, (uint32_t)i);
		const abi_val *ok = &v[abi_child(v, t, 0)], *rd = &v[abi_child(v, t, 1)];
		if (abi_get_bool(ok, &out[i].success) != ABI_OK) {
			snprintf(err, errlen, "results[%zu].success is not a bool", i);
			return -1;
		}
		out[i].data = rd->p;
		out[i].len = rd->len;
	}
	return 0;
}

/* Probes idx[0..k); on a whole revert, the two halves. Returns probes made or -1. */
static int
cb_isolate_part(const size_t *idx, size_t k, cb_probe_fn probe, void *ctx, uint8_t *culprit)
{
	uint8_t failed[CB_MAX_CALLS];
	memset(failed, 0, k);
	int rv = probe(ctx, idx, k, failed);
	if (rv == CB_P_ERROR)
		return -1;
	if (rv == CB_P_OK) {
		for (size_t j = 0; j < k; j++)
			culprit[idx[j]] = failed[j] != 0;
		return 1;
	}
	if (k == 1) {
		culprit[idx[0]] = 1;
		return 1;
	}
	int a = cb_isolate_part(idx, k / 2, probe, ctx, culprit);
	if (a < 0)
		return -1;
	int b = cb_isolate_part(idx + k / 2, k - k / 2, probe, ctx, culprit);
	return b < 0 ? -1 : 1 + a + b;
}

int
cb_isolate(size_t n, cb_probe_fn probe, void *ctx, uint8_t *culprit)
{
	size_t idx[CB_MAX_CALLS];
	if (n > CB_MAX_CALLS)
		return -1;
	memset(culprit, 0, n);
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	return cb_isolate_part(idx, n, probe, ctx, culprit);
}
