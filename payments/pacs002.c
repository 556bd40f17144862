/* payments/pacs002.c: pacs.002.001.10 writer (see pacs002.h). Plain string building into the caller's
 * buffer: the report is small and fixed in shape, and every value is checked against its schema type
 * before a byte is written, so the output is valid or not written at all. */
#include "payments/pacs002.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct {
	char *out;
	size_t cap, len;
	int full;
} p2_buf;

static void
p2_raw(p2_buf *b, const char *s, size_t n)
{
	if (b->full || b->len + n >= b->cap) {
		b->full = 1;
		return;
	}
	memcpy(b->out + b->len, s, n);
	b->len += n;
	b->out[b->len] = 0;
}

static void
p2_str(p2_buf *b, const char *s)
{
	p2_raw(b, s, strlen(s));
}

/* Text content: & < > escaped (and " for symmetry with attribute use); the text was checked before. */
static void
p2_text(p2_buf *b, const char *s, size_t n)
{
	size_t i0 = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = s[i] == '&'   ? "&amp;"
		                  : s[i] == '<' ? "&lt;"
		                  : s[i] == '>' ? "&gt;"
		                  : s[i] == '"' ? "&quot;"
		                                : NULL;
		if (rep) {
			p2_raw(b, s + i0, i - i0);
			p2_str(b, rep);
			i0 = i + 1;
		}
	}
	p2_raw(b, s + i0, n - i0);
}

static void
p2_elem(p2_buf *b, int indent, const char *name, const char *val, size_t n)
{
	for (int i = 0; i < indent; i++)
		p2_raw(b, "  ", 2);
	p2_raw(b, "<", 1);
	p2_str(b, name);
	p2_raw(b, ">", 1);
	p2_text(b, val, n);
	p2_raw(b, "</", 2);
	p2_str(b, name);
	p2_raw(b, ">\n", 2);
}

static void
p2_open(p2_buf *b, int indent, const char *name, int close)
{
	for (int i = 0; i < indent; i++)
		p2_raw(b, "  ", 2);
	p2_raw(b, close ? "</" : "<", close ? 2 : 1);
	p2_str(b, name);
	p2_raw(b, ">\n", 2);
}

__attribute__((format(printf, 3, 4))) static int
p2_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Valid UTF-8 of characters XML 1.0 can carry (no C0 controls but tab, LF, CR; no surrogates, no
 * U+FFFE/U+FFFF). Returns the number of characters, or -1. */
static long
p2_xml_chars(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	long chars = 0;
	for (size_t i = 0; i < n; chars++) {
		unsigned c = u[i], cp, len;
		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return -1;
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return -1;
		if (i + len > n)
			return -1;
		for (unsigned k = 1; k < len; k++) {
			if ((u[i + k] & 0xC0) != 0x80)
				return -1;
			cp = cp << 6 | (u[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
			return -1;
		i += len;
	}
	return chars;
}

/* Max<max>Text: 1..max characters XML can carry. */
static int
p2_text_ok(const char *s, size_t max)
{
	long c = p2_xml_chars(s, strlen(s));
	return c >= 1 && (size_t)c <= max;
}

static int
p2_bic_ok(const char *s)
{
	size_t n = strlen(s);
	if (n != 8 && n != 11)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int alpha = s[i] >= 'A' && s[i] <= 'Z', digit = s[i] >= '0' && s[i] <= '9';
		if (i >= 4 && i < 6 ? !alpha : !(alpha || digit))
			return 0;
	}
	return 1;
}

/* UUIDv4Identifier: [a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12} */
static int
p2_uetr_ok(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

/* ISODateTime (xs:dateTime): YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm|-hh:mm]; the calendar is not checked. */
static int
p2_datetime_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t n = strlen(s), i;
	if (n < 19)
		return 0;
	for (i = 0; i < 19; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
			return 0;
	if (s[i] == '.') {
		size_t j = ++i;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == j)
			return 0;
	}
	if (s[i] == 0)
		return 1;
	if (s[i] == 'Z')
		return s[i + 1] == 0;
	return (s[i] == '+' || s[i] == '-') && strlen(s + i) == 6 && s[i + 1] >= '0' && s[i + 1] <= '9' &&
	       s[i + 2] >= '0' && s[i + 2] <= '9' && s[i + 3] == ':' && s[i + 4] >= '0' && s[i + 4] <= '9' &&
	       s[i + 5] >= '0' && s[i + 5] <= '9';
}

static int
p2_status_ok(const char *s)
{
	static const char *const ok[] = { "ACTC", "ACSP", "ACSC", "PDNG", "RJCT" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!strcmp(s, ok[i]))
			return 1;
	return 0;
}

/* ExternalStatusReason1Code: 1..4 characters; the external code list uses [A-Z0-9]{4}. */
static int
p2_reason_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 4)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

void
pm_status_from_payment(pm_status_report *r, const pm_payment *p)
{
	memset(r, 0, sizeof *r);
	snprintf(r->orgnl_msg_id, sizeof r->orgnl_msg_id, "%s", p->msg_id);
	snprintf(r->orgnl_msg_nm_id, sizeof r->orgnl_msg_nm_id, "%s", p->msgdef);
	snprintf(r->orgnl_instr_id, sizeof r->orgnl_instr_id, "%s", p->instr_id);
	snprintf(r->orgnl_end_to_end_id, sizeof r->orgnl_end_to_end_id, "%s", p->end_to_end_id);
	snprintf(r->orgnl_uetr, sizeof r->orgnl_uetr, "%s", p->uetr);
	snprintf(r->instg_agt_bic, sizeof r->instg_agt_bic, "%s", p->instd_agent_bic);
	snprintf(r->instd_agt_bic, sizeof r->instd_agt_bic, "%s", p->instg_agent_bic);
}

void
pm_status_from_error(pm_status_report *r, const pm_error *e)
{
	memset(r, 0, sizeof *r);
	snprintf(r->orgnl_msg_id, sizeof r->orgnl_msg_id, "%s", e->msg_id);
	snprintf(r->orgnl_msg_nm_id, sizeof r->orgnl_msg_nm_id, "%s", e->msgdef);
	snprintf(r->orgnl_instr_id, sizeof r->orgnl_instr_id, "%s", e->instr_id);
	snprintf(r->orgnl_end_to_end_id, sizeof r->orgnl_end_to_end_id, "%s", e->end_to_end_id);
	snprintf(r->orgnl_uetr, sizeof r->orgnl_uetr, "%s", e->uetr);
	memcpy(r->tx_sts, "RJCT", 5);
	snprintf(r->reason, sizeof r->reason, "%s", e->reason[0] ? e->reason : "NARR");
	if (e->field[0])
		snprintf(r->addtl_inf, sizeof r->addtl_inf, "%s: %s", e->field, e->text);
	else
		snprintf(r->addtl_inf, sizeof r->addtl_inf, "%s", e->text);
}

/* Writes AddtlInf elements of at most 105 characters each, cut after a space where one is near the
 * end: the parts put back together are the text (the schema keeps their whitespace). */
static void
p2_addtl(p2_buf *b, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		size_t i = 0, chars = 0, cut = 0;
		while (i < n && chars < 105) {
			i++;
			while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
				i++;
			chars++;
			if (s[i - 1] == ' ' && chars > 52)
				cut = i; /* after a space in the second half: words stay whole */
		}
		if (i < n && cut)
			i = cut;
		p2_elem(b, 4, "AddtlInf", s, i);
		s += i;
		n -= i;
	}
}

int
pm_pacs002_write(const pm_status_report *r, char *out, size_t cap, char *err, size_t errlen)
{
	char now[32];
	const char *cre = r->cre_dt_tm;
	if (!cre[0]) {
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
		cre = now;
	}
	if (!p2_text_ok(r->msg_id, 35))
		return p2_fail(err, errlen, "msg_id must be 1 to 35 characters");
	if (!p2_datetime_ok(cre))
		return p2_fail(err, errlen, "cre_dt_tm '%.35s' is not an ISO date and time", cre);
	if (!p2_text_ok(r->orgnl_msg_id, 35))
		return p2_fail(err, errlen, "orgnl_msg_id must be 1 to 35 characters");
	if (!p2_text_ok(r->orgnl_msg_nm_id, 35))
		return p2_fail(err, errlen, "orgnl_msg_nm_id must be 1 to 35 characters");
	if (r->orgnl_instr_id[0] && !p2_text_ok(r->orgnl_instr_id, 35))
		return p2_fail(err, errlen, "orgnl_instr_id is not a Max35Text");
	if (r->orgnl_end_to_end_id[0] && !p2_text_ok(r->orgnl_end_to_end_id, 35))
		return p2_fail(err, errlen, "orgnl_end_to_end_id is not a Max35Text");
	if (r->orgnl_uetr[0] && !p2_uetr_ok(r->orgnl_uetr))
		return p2_fail(err, errlen, "orgnl_uetr '%.36s' is not a lowercase UUIDv4", r->orgnl_uetr);
	if (!p2_status_ok(r->tx_sts))
		return p2_fail(err, errlen, "tx_sts '%.4s' is not ACTC, ACSP, ACSC, PDNG or RJCT", r->tx_sts);
	if (r->reason[0] && !p2_reason_ok(r->reason))
		return p2_fail(err, errlen, "reason '%.4s' is not a status reason code", r->reason);
	if (!strcmp(r->tx_sts, "RJCT") && !r->reason[0])
		return p2_fail(err, errlen, "a RJCT needs a reason code");
	if (r->addtl_inf[0] && p2_xml_chars(r->addtl_inf, strlen(r->addtl_inf)) < 0)
		return p2_fail(err, errlen, "addtl_inf is not UTF-8 text XML can carry");
	if (r->instg_agt_bic[0] && !p2_bic_ok(r->instg_agt_bic))
		return p2_fail(err, errlen, "instg_agt_bic '%.11s' is not a BIC", r->instg_agt_bic);
	if (r->instd_agt_bic[0] && !p2_bic_ok(r->instd_agt_bic))
		return p2_fail(err, errlen, "instd_agt_bic '%.11s' is not a BIC", r->instd_agt_bic);

	p2_buf b = { out, cap, 0, cap == 0 };
	if (cap)
		out[0] = 0;
	p2_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"" PM_PACS002_NS "\">\n");
	p2_open(&b, 1, "FIToFIPmtStsRpt", 0);
	p2_open(&b, 2, "GrpHdr", 0);
	p2_elem(&b, 3, "MsgId", r->msg_id, strlen(r->msg_id));
	p2_elem(&b, 3, "CreDtTm", cre, strlen(cre));
	p2_open(&b, 2, "GrpHdr", 1);
	p2_open(&b, 2, "TxInfAndSts", 0);
	p2_open(&b, 3, "OrgnlGrpInf", 0);
	p2_elem(&b, 4, "OrgnlMsgId", r->orgnl_msg_id, strlen(r->orgnl_msg_id));
	p2_elem(&b, 4, "OrgnlMsgNmId", r->orgnl_msg_nm_id, strlen(r->orgnl_msg_nm_id));
	p2_open(&b, 3, "OrgnlGrpInf", 1);
	if (r->orgnl_instr_id[0])
		p2_elem(&b, 3, "OrgnlInstrId", r->orgnl_instr_id, strlen(r->orgnl_instr_id));
	if (r->orgnl_end_to_end_id[0])
		p2_elem(&b, 3, "OrgnlEndToEndId", r->orgnl_end_to_end_id, strlen(r->orgnl_end_to_end_id));
	if (r->orgnl_uetr[0])
		p2_elem(&b, 3, "OrgnlUETR", r->orgnl_uetr, 36);
	p2_elem(&b, 3, "TxSts", r->tx_sts, 4);
	if (r->reason[0] || r->addtl_inf[0]) {
		p2_open(&b, 3, "StsRsnInf", 0);
		if (r->reason[0]) {
			p2_open(&b, 4, "Rsn", 0);
			p2_elem(&b, 5, "Cd", r->reason, strlen(r->reason));
			p2_open(&b, 4, "Rsn", 1);
		}
		p2_addtl(&b, r->addtl_inf);
		p2_open(&b, 3, "StsRsnInf", 1);
	}
	const char *agt[2][2] = { { "InstgAgt", r->instg_agt_bic }, { "InstdAgt", r->instd_agt_bic } };
	for (int i = 0; i < 2; i++) {
		if (!agt[i][1][0])
			continue;
		p2_open(&b, 3, agt[i][0], 0);
		p2_open(&b, 4, "FinInstnId", 0);
		p2_elem(&b, 5, "BICFI", agt[i][1], strlen(agt[i][1]));
		p2_open(&b, 4, "FinInstnId", 1);
		p2_open(&b, 3, agt[i][0], 1);
	}
	p2_open(&b, 2, "TxInfAndSts", 1);
	p2_open(&b, 1, "FIToFIPmtStsRpt", 1);
	p2_str(&b, "</Document>\n");
	if (b.full) {
		if (cap)
			out[0] = 0;
		return p2_fail(err, errlen, "output buffer of %zu bytes is too small", cap);
	}
	return (int)b.len;
}
