/* key.c - the payment key rule and content hash (see key.h). SHA-256 from OpenSSL libcrypto. */
#include "base/hash.h"
#include "actors/tokenizer/key.h"

#include <stdio.h>
#include <string.h>

#include "actors/tokenizer/config.h"

int
tk_is_uetr(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	if (strlen(s) != sizeof shape - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++) {
		char c = s[i];
		if (shape[i] == '-' ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

static void
tkk_bic(const char *in, char out[PM_BIC_CAP])
{
	size_t n = strlen(in);
	snprintf(out, PM_BIC_CAP, "%s", in);
	if (n == 11 && strcmp(in + 8, "XXX") == 0)
		out[8] = '\0';
}

int
tk_key(const pm_payment *p, char key[TK_KEY_CAP], pm_error *e)
{
	char bic[PM_BIC_CAP];
	const char *ref;

	if (p->uetr[0] && tk_is_uetr(p->uetr)) {
		snprintf(key, TK_KEY_CAP, "%s", p->uetr);
		return 0;
	}
	tkk_bic(p->instg_agent_bic[0] ? p->instg_agent_bic : p->debtor_agent_bic, bic);
	ref = p->instr_id[0] ? p->instr_id : strcmp(p->end_to_end_id, "NOTPROVIDED") ? p->end_to_end_id : "";
	if (!bic[0] || !ref[0]) {
		pm_error_set(e, "NARR", !bic[0] ? "InstgAgt" : "PmtId", p->line, p->offset,
		             "no UETR and no %s: the payment cannot be told apart from others",
		             !bic[0] ? "instructing or debtor agent BIC" : "InstrId or EndToEndId");
		snprintf(e->msg_id, sizeof e->msg_id, "%s", p->msg_id);
		snprintf(e->end_to_end_id, sizeof e->end_to_end_id, "%s", p->end_to_end_id);
		snprintf(e->msgdef, sizeof e->msgdef, "%s", p->msgdef);
		return -1;
	}
	snprintf(key, TK_KEY_CAP, "%s/%s/%s", bic, p->value_date[0] ? p->value_date : "-", ref);
	return 0;
}

/* SHA-256 of the parts, truncated to outlen. Only an allocation failure can stop SHA-256; then the
 * output is all zero, which equals no real hash, so a duplicate would read as a conflict (refused,
 * never a second effect). */
static void
tkk_sha256(const void *const *parts, const size_t *lens, size_t n, uint8_t *out, unsigned outlen)
{
	uint8_t md[32];
	ob_sha256_v(parts, lens, n, md); /* zeroed on failure */
	memcpy(out, md, outlen);
}

void
tk_key_id(const char *key, uint8_t id[16])
{
	static const char tag[] = "oraclebus/payment-key"; /* with its NUL */
	const void *parts[] = { tag, key };
	size_t lens[] = { sizeof tag, strlen(key) };
	tkk_sha256(parts, lens, 2, id, 16);
}

void
tk_content_hash(const pm_payment *p, int kind, uint8_t out[32])
{
	char amt[48], dac[PM_ACCT_CAP], cac[PM_ACCT_CAP], k[8];
	uint64_t u = p->amount.units;
	unsigned s = p->amount.scale;
	while (s > 0 && u % 10 == 0) {
		u /= 10;
		s--;
	}
	snprintf(amt, sizeof amt, "%llue-%u", (unsigned long long)u, s);
	snprintf(k, sizeof k, "%d", kind);
	tk_account_norm(p->debtor_account, dac);
	tk_account_norm(p->creditor_account, cac);
	const char *f[] = { "oraclebus/payment-content-v1", k, p->ccy, amt, dac, cac };
	const void *parts[12];
	size_t lens[12];
	uint8_t lp[6][4];
	for (size_t i = 0; i < 6; i++) {
		size_t n = strlen(f[i]);
		lp[i][0] = (uint8_t)(n >> 24);
		lp[i][1] = (uint8_t)(n >> 16);
		lp[i][2] = (uint8_t)(n >> 8);
		lp[i][3] = (uint8_t)n;
		parts[2 * i] = lp[i];
		lens[2 * i] = 4;
		parts[2 * i + 1] = f[i];
		lens[2 * i + 1] = n;
	}
	tkk_sha256(parts, lens, 12, out, 32);
}
