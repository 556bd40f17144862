/* payments/mt.c: SWIFT FIN MT103 parser (mt.h).
 *
 * Two passes per message: the block structure ({1:}..{S:}, generic for every MT so a refused type
 * is skipped cleanly), then the MT103 text block against the field table below (order, options,
 * repetition, formats, network rules, STP/REMIT usage rules). Sources for the rules:
 * prowide-core MT103.java / Field32A.java (mandatory fields, 32A pattern), the SWIFT MT103 network
 * validated rules C1..C9 / E01..E17 / D75 / D51 (as documented by open-source MT libraries), and the
 * MT103 STP usage rules (options A only for 52..57 except 53B, no 51A, 23E CORT/INTC/REPA/SDVA,
 * account mandatory in 59a, no /REJT/ or /RETN/ in 72).
 *
 * Errors are collected in the message's pm_error (first one wins) and reported once per message. */
#include "payments/mt.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "payments/validate.h"

enum {
	MT_MAX_FIELDS = 64,
	MT_MAX_SUBS = 16
};

typedef struct {
	const char *buf;
	size_t len;
	pm_sink sink;
	void *ctx;
	size_t lc_off; /* line cache: line number at byte lc_off */
	uint32_t lc_line;
	size_t sep_from, sep_at; /* mt_resync's cache: no '$' in [sep_from, sep_at), and sep_at is one or len */
} mt_ctx;

typedef struct {
	char tag[4]; /* "20", "23B", "50K", "59" */
	size_t off;  /* offset of the ':' that starts the field */
	size_t voff; /* offset of the value */
	size_t vn;   /* value length (line breaks inside, none at the end) */
} mt_field;

typedef struct {
	char tag[4];
	size_t off, voff, vn;
} mt_sub;

typedef struct {
	mt_ctx *c;
	pm_error err;
	int failed;
	size_t start;            /* offset of "{1:" */
	size_t b1, b1n, b2, b2n; /* block 1 and 2 contents */
	size_t b4, b4n, b4open;  /* block 4 text (after the line break of "{4:"), and where "{4:" is */
	int has_b2, has_b3, has_b4, b4_system;
	int nb4s;
	char svc[3];   /* "01" or "21" */
	char ltss[23]; /* block 1 LT + session + sequence: ties an ACK to its original */
	char io;       /* 'I' or 'O' */
	char mt[4];    /* "103" */
	char sender[PM_BIC_CAP], receiver[PM_BIC_CAP];
	char uetr[PM_UETR_CAP], variant[8];
	int nf;
	/* the arrays last: only their first nb4s / nf entries are ever read, so mt_reset leaves them */
	mt_sub b4s[MT_MAX_SUBS]; /* system block 4 of an ACK/NAK */
	mt_field f[MT_MAX_FIELDS];
} mt_msg;

/* A fresh message at start: everything but the arrays zeroed (3 KB per message was a hot spot). */
static void
mt_reset(mt_msg *m, mt_ctx *c, size_t start)
{
	memset(m, 0, offsetof(mt_msg, b4s));
	m->c = c;
	m->start = start;
}

/* ---- positions and errors ----------------------------------------------------------------- */

static uint32_t
mt_line(mt_ctx *c, size_t off)
{
	if (off > c->len)
		off = c->len;
	/* from the cached position either way: a message's line is asked for after its errors
	 * further on, and counting again from the start made many messages quadratic */
	const char *p = c->buf + off, *e = c->buf + c->lc_off;
	if (off < c->lc_off) {
		while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL)
			c->lc_line--, p++;
	} else {
		while ((e = memchr(e, '\n', (size_t)(p - e))) != NULL)
			c->lc_line++, e++;
	}
	c->lc_off = off;
	return c->lc_line;
}

/* snprintf(dst, cap, "%s", s) without the formatting machinery */
static void
mt_strlcpy(char *dst, size_t cap, const char *s)
{
	size_t n = strnlen(s, cap - 1);
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* strcmp for tags (at most 3 characters and a NUL): a call per comparison was a hot spot */
static int
mt_tag_eq(const char *a, const char *b)
{
	for (int i = 0; i < 4; i++) {
		if (a[i] != b[i])
			return 0;
		if (!a[i])
			return 1;
	}
	return 1;
}

static int mt_fail(mt_msg *m, const char *reason, const char *field, size_t off, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int
mt_fail(mt_msg *m, const char *reason, const char *field, size_t off, const char *fmt, ...)
{
	if (m->failed)
		return -1;
	m->failed = 1;
	/* pm_error_set's result, formatted once (it would take the text through "%s" again) */
	pm_error *e = &m->err;
	memset(e, 0, sizeof *e);
	mt_strlcpy(e->reason, sizeof e->reason, reason);
	mt_strlcpy(e->field, sizeof e->field, field);
	e->line = mt_line(m->c, off);
	e->offset = (uint32_t)off;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- character classes -------------------------------------------------------------------- */

static int
mt_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}
static int
mt_digit(char c)
{
	return c >= '0' && c <= '9';
}
static int
mt_alnum(char c)
{
	return mt_upper(c) || mt_digit(c);
}

/* Character classes as one table: a strchr or a chain of comparisons per character were the hot
 * spots of the parser. Each character is listed once (its bits or'ed). */
enum {
	MT_CX = 1,  /* SWIFT set X: a-z A-Z 0-9 / - ? : ( ) . , ' + space */
	MT_CZ = 2,  /* set Z (77T): X plus = ! " % & * < > ; { @ # _ */
	MT_CBRK = 4 /* ends a header block's value: { } CR LF */
};
static const unsigned char mt_cls[256] = {
	['a' ... 'z'] = MT_CX | MT_CZ,
	['A' ... 'Z'] = MT_CX | MT_CZ,
	['0' ... '9'] = MT_CX | MT_CZ,
	['/'] = MT_CX | MT_CZ,
	['-'] = MT_CX | MT_CZ,
	['?'] = MT_CX | MT_CZ,
	[':'] = MT_CX | MT_CZ,
	['('] = MT_CX | MT_CZ,
	[')'] = MT_CX | MT_CZ,
	['.'] = MT_CX | MT_CZ,
	[','] = MT_CX | MT_CZ,
	['\''] = MT_CX | MT_CZ,
	['+'] = MT_CX | MT_CZ,
	[' '] = MT_CX | MT_CZ,
	['='] = MT_CZ,
	['!'] = MT_CZ,
	['"'] = MT_CZ,
	['%'] = MT_CZ,
	['&'] = MT_CZ,
	['*'] = MT_CZ,
	['<'] = MT_CZ,
	['>'] = MT_CZ,
	[';'] = MT_CZ,
	['@'] = MT_CZ,
	['#'] = MT_CZ,
	['_'] = MT_CZ,
	['{'] = MT_CZ | MT_CBRK,
	['}'] = MT_CBRK,
	['\r'] = MT_CBRK,
	['\n'] = MT_CBRK,
};

static int
mt_x(char c)
{
	return mt_cls[(unsigned char)c] & MT_CX;
}

static int
mt_z(char c)
{
	return mt_cls[(unsigned char)c] & MT_CZ;
}

/* c is one of the characters of set (never the terminating NUL) */
static int
mt_in(char c, const char *set)
{
	return c && strchr(set, c) != NULL;
}

static int
mt_all(const char *s, size_t n, int (*cls)(char))
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !cls(s[i]))
			return 0;
	return 1;
}

static int
mt_digits(const char *s, size_t n)
{
	return mt_all(s, n, mt_digit);
}

static int
mt_zero(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '0' && s[i] != ',')
			return 0;
	return 1;
}

/* ---- block structure ---------------------------------------------------------------------- */

static int
mt_is_eol(const mt_ctx *c, size_t i)
{
	return i < c->len && (c->buf[i] == '\n' || c->buf[i] == '\r');
}

/* The first CR or LF from i on, or the end. Two memchr rather than a loop per byte (under the
 * fuzzer every comparison of that loop is a traced call). The LF search may run past a lone CR
 * (an error that ends the message) up to the next LF, which the next message's "{4:" line break
 * needs anyway: the bytes searched stay linear in the input. */
static size_t
mt_eol_before(const mt_ctx *c, size_t i, size_t end)
{
	const char *p = c->buf + i, *e = c->buf + end;
	const char *lf = memchr(p, '\n', (size_t)(e - p));
	if (!lf)
		lf = e;
	const char *cr = memchr(p, '\r', (size_t)(lf - p));
	return (size_t)((cr ? cr : lf) - c->buf);
}

static size_t
mt_line_end(const mt_ctx *c, size_t i)
{
	return mt_eol_before(c, i, c->len);
}

/* Skips one line break (CRLF or LF) at *pos; 0 when there was one. */
static int
mt_eol(const mt_ctx *c, size_t *pos)
{
	if (*pos + 1 < c->len && c->buf[*pos] == '\r' && c->buf[*pos + 1] == '\n') {
		*pos += 2;
		return 0;
	}
	if (*pos < c->len && c->buf[*pos] == '\n') {
		*pos += 1;
		return 0;
	}
	return -1;
}

/* "{tag:value}" sequence up to the closing '}' of the enclosing block. */
static int
mt_subblocks(mt_msg *m, size_t *pos, mt_sub *out, int cap, int *n, const char *blk, int digit_tags)
{
	mt_ctx *c = m->c;
	*n = 0;
	size_t i = *pos;
	for (;;) {
		if (i >= c->len)
			return mt_fail(m, "FF01", blk, i, "%s not closed", blk);
		if (c->buf[i] == '}') {
			*pos = i + 1;
			return 0;
		}
		if (c->buf[i] != '{')
			return mt_fail(m, "FF01", blk, i, "%s: expected '{tag:value}' or '}'", blk);
		size_t t = i + 1, k = t;
		while (k < c->len && k - t < 4 && (digit_tags ? mt_digit(c->buf[k]) : mt_alnum(c->buf[k])))
			k++;
		if (k - t != 3 || k >= c->len || c->buf[k] != ':')
			return mt_fail(m, "FF01", blk, i, "%s: tag must be 3 %s followed by ':'", blk,
			               digit_tags ? "digits" : "letters/digits");
		size_t v = k + 1, e = v;
		while (e < c->len && c->buf[e] != '}' && c->buf[e] != '{' && c->buf[e] != '\r' && c->buf[e] != '\n')
			e++;
		if (e >= c->len || c->buf[e] != '}')
			return mt_fail(m, "FF01", blk, e, "%s: {%.3s:} not closed by '}' on its line", blk, c->buf + t);
		if (*n == cap)
			return mt_fail(m, "FF01", blk, i, "%s: more than %d tags", blk, cap);
		mt_sub *s = &out[(*n)++];
		memcpy(s->tag, c->buf + t, 3);
		s->tag[3] = 0;
		s->off = i;
		s->voff = v;
		s->vn = e - v;
		i = e + 1;
	}
}

/* LT address (12): BIC8, terminal code, branch. Writes the BIC11 (BIC8 + branch). */
static int
mt_lt(const char *s, char bic[PM_BIC_CAP])
{
	char b[12];
	memcpy(b, s, 8);
	memcpy(b + 8, s + 9, 3);
	b[11] = 0;
	if (!pm_bic_valid(b, 11) || !mt_alnum(s[8]))
		return -1;
	memcpy(bic, b, 12);
	return 0;
}

static int
mt_hhmm(const char *s)
{
	return mt_digits(s, 4) && (s[0] - '0') * 10 + (s[1] - '0') < 24 && s[2] < '6';
}

static int
mt_block1(mt_msg *m)
{
	const char *s = m->c->buf + m->b1;
	if (m->b1n != 25 || s[0] != 'F' || !mt_digits(s + 1, 2) || !mt_digits(s + 15, 10))
		return mt_fail(m, "FF01", "block1", m->b1,
		               "basic header must be F01|F21 + LT address (12) + session (4) + sequence (6)");
	if (memcmp(s + 1, "01", 2) && memcmp(s + 1, "21", 2))
		return mt_fail(m, "FF01", "block1", m->b1,
		               "service id %.2s: only 01 (FIN) and 21 (ACK/NAK) are accepted", s + 1);
	memcpy(m->svc, s + 1, 2);
	m->svc[2] = 0;
	memcpy(m->ltss, s + 3, 22);
	m->ltss[22] = 0;
	char bic[PM_BIC_CAP];
	if (mt_lt(s + 3, bic))
		return mt_fail(m, "RC01", "block1", m->b1, "LT address %.12s is not a BIC + terminal + branch", s + 3);
	/* input: block 1 is the sender; output: block 1 is the receiver */
	memcpy(m->io == 'O' ? m->receiver : m->sender, bic, PM_BIC_CAP);
	return 0;
}

static int
mt_block2(mt_msg *m)
{
	const char *s = m->c->buf + m->b2;
	size_t n = m->b2n;
	if (n < 4 || (s[0] != 'I' && s[0] != 'O') || !mt_digits(s + 1, 3))
		return mt_fail(m, "FF01", "block2", m->b2,
		               "application header must start with I or O and the 3-digit message type");
	m->io = s[0];
	memcpy(m->mt, s + 1, 3);
	m->mt[3] = 0;
	char bic[PM_BIC_CAP], d[11];
	if (s[0] == 'I') {
		/* I + type + LT(12) [+ priority S/U/N [+ delivery monitoring 1/2/3 [+ obsolescence 3n]]] */
		if (n != 16 && n != 17 && n != 18 && n != 21)
			return mt_fail(m, "FF01", "block2", m->b2,
			               "input header must be I + type + receiver LT (12) + optional priority, "
			               "monitoring, obsolescence");
		if (mt_lt(s + 4, bic))
			return mt_fail(m, "RC01", "block2", m->b2,
			               "receiver LT address %.12s is not a BIC + terminal + branch", s + 4);
		if (n >= 17 && !mt_in(s[16], "SUN"))
			return mt_fail(m, "FF01", "block2", m->b2, "priority '%c' is not S, U or N", s[16]);
		if (n >= 18 && !mt_in(s[17], "123"))
			return mt_fail(m, "FF01", "block2", m->b2, "delivery monitoring '%c' is not 1, 2 or 3", s[17]);
		if (n == 21 && !mt_digits(s + 18, 3))
			return mt_fail(m, "FF01", "block2", m->b2, "obsolescence period must be 3 digits");
		memcpy(m->receiver, bic, PM_BIC_CAP);
	} else {
		/* O + type + input time HHMM + MIR (date 6, LT 12, session 4, sequence 6) + output date 6 +
		 * output time 4 [+ priority] */
		if (n != 46 && n != 47)
			return mt_fail(
			        m, "FF01", "block2", m->b2,
			        "output header must be O + type + HHMM + MIR (28) + YYMMDD + HHMM + optional priority");
		if (!mt_hhmm(s + 4) || pm_date_yymmdd(s + 8, 6, d) || !mt_digits(s + 26, 10) ||
		    pm_date_yymmdd(s + 36, 6, d) || !mt_hhmm(s + 42))
			return mt_fail(m, "FF01", "block2", m->b2,
			               "output header: bad time, date, session or sequence");
		if (n == 47 && !mt_in(s[46], "SUN"))
			return mt_fail(m, "FF01", "block2", m->b2, "priority '%c' is not S, U or N", s[46]);
		if (mt_lt(s + 14, bic))
			return mt_fail(m, "RC01", "block2", m->b2,
			               "sender LT address %.12s is not a BIC + terminal + branch", s + 14);
		memcpy(m->sender, bic, PM_BIC_CAP);
	}
	return 0;
}

static int
mt_block3(mt_msg *m, const mt_sub *s, int n)
{
	static const char *const known[] = { "103", "106", "108", "111", "113", "115", "119",
		                             "121", "165", "423", "424", "433", "434" };
	const char *buf = m->c->buf;
	for (int i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < sizeof known / sizeof *known; k++)
			if (mt_tag_eq(s[i].tag, known[k]))
				break;
		if (k == sizeof known / sizeof *known)
			return mt_fail(m, "FF01", "block3", s[i].off, "user header tag {%s:} is not a FIN block 3 tag",
			               s[i].tag);
		for (int j = 0; j < i; j++)
			if (mt_tag_eq(s[i].tag, s[j].tag))
				return mt_fail(m, "FF01", "block3", s[i].off, "user header tag {%s:} repeated",
				               s[i].tag);
		const char *v = buf + s[i].voff;
		size_t vn = s[i].vn;
		if (mt_tag_eq(s[i].tag, "121")) {
			if (pm_uetr_normalise(v, vn, m->uetr))
				return mt_fail(
				        m, "FF01", "121", s[i].off,
				        "UETR '%.*s' is not a UUID v4 (8-4-4-4-12 hex, version 4, variant 8/9/a/b)",
				        (int)(vn > 40 ? 40 : vn), v);
		} else if (mt_tag_eq(s[i].tag, "119")) {
			if (vn == 3 && !memcmp(v, "STP", 3))
				strcpy(m->variant, "STP");
			else if (vn == 5 && !memcmp(v, "REMIT", 5))
				strcpy(m->variant, "REMIT");
			else
				return mt_fail(m, "FF01", "119", s[i].off,
				               "validation flag {119:%.*s}: MT103 takes STP or REMIT",
				               (int)(vn > 16 ? 16 : vn), v);
		} else if (mt_tag_eq(s[i].tag, "108") && (vn == 0 || vn > 16 || !mt_all(v, vn, mt_x))) {
			return mt_fail(m, "FF01", "108", s[i].off,
			               "message user reference must be 1..16 characters of set X");
		} else if (mt_tag_eq(s[i].tag, "111") && (vn != 3 || !mt_digits(v, 3))) {
			return mt_fail(m, "FF01", "111", s[i].off, "service type identifier must be 3 digits");
		} else if (mt_tag_eq(s[i].tag, "103") && (vn != 3 || !mt_all(v, 3, mt_alnum))) {
			return mt_fail(m, "FF01", "103", s[i].off, "service identifier must be 3 letters/digits");
		} else if (vn > 65 || !mt_all(v, vn, mt_z)) {
			return mt_fail(m, "FF01", "block3", s[i].off, "{%s:} value not in the SWIFT character set",
			               s[i].tag);
		}
	}
	return 0;
}

/* Block 4 text: from the line break after "{4:" to a line "-}". Splits it into fields. */
static int
mt_text(mt_msg *m, size_t *pos)
{
	mt_ctx *c = m->c;
	size_t i = *pos;
	if (mt_eol(c, &i))
		return mt_fail(m, "FF01", "block4", i, "text block must start with a line break after '{4:'");
	m->b4 = i;
	mt_field *cur = NULL;
	for (;;) {
		if (i >= c->len)
			return mt_fail(m, "FF01", "block4", i, "text block not closed by a line '-}'");
		size_t ls = i;
		i = mt_line_end(c, i);
		size_t le = i; /* line end (exclusive) */
		if (i < c->len && c->buf[i] == '\r' && (i + 1 >= c->len || c->buf[i + 1] != '\n'))
			return mt_fail(m, "FF01", cur ? cur->tag : "block4", i, "carriage return without line feed");
		const char *l = c->buf + ls;
		size_t ln = le - ls;
		if (ln >= 2 && l[0] == '-' && l[1] == '}') {
			m->b4n = ls - m->b4;
			*pos = ls + 2;
			if (!m->nf)
				return mt_fail(m, "FF01", "block4", ls, "text block has no field");
			return 0;
		}
		if (ln && l[0] == ':') {
			size_t k = 1;
			while (k < ln && k < 3 && mt_digit(l[k]))
				k++;
			if (k != 3)
				return mt_fail(m, "FF01", "block4", ls,
				               "field tag must be ':' + 2 digits [+ letter] + ':'");
			if (k < ln && mt_upper(l[k]))
				k++;
			if (k >= ln || l[k] != ':')
				return mt_fail(m, "FF01", "block4", ls,
				               "field tag must be ':' + 2 digits [+ letter] + ':'");
			if (m->nf == MT_MAX_FIELDS)
				return mt_fail(m, "FF01", "block4", ls, "more than %d fields", MT_MAX_FIELDS);
			cur = &m->f[m->nf++];
			memcpy(cur->tag, l + 1, k - 1);
			cur->tag[k - 1] = 0;
			cur->off = ls;
			cur->voff = ls + k + 1;
			cur->vn = le - cur->voff;
		} else if (!cur) {
			return mt_fail(m, "FF01", "block4", ls, "text block must start with a field ':tag:'");
		} else if (ln && l[0] == '-') {
			return mt_fail(m, "FF01", cur->tag, ls,
			               "a line may not start with '-' (only the closing '-}')");
		} else {
			cur->vn = le - cur->voff; /* continuation line */
		}
		if (mt_eol(c, &i))
			return mt_fail(m, "FF01", "block4", i, "text block not closed by a line '-}'");
	}
}

/* One message: {1:} then optional {2:} {3:}, {4:}, {5:}, {S:} in that order; line breaks may sit
 * between blocks. Stops before the next "{1:" or anything else. */
static int
mt_blocks(mt_msg *m, size_t *pos)
{
	mt_ctx *c = m->c;
	size_t i = *pos;
	int last = 0;
	mt_sub subs[MT_MAX_SUBS];
	int ns;
	m->start = i;
	for (;;) {
		size_t save = i;
		while (mt_is_eol(c, i))
			i++;
		if (i >= c->len || c->buf[i] != '{') {
			i = save;
			break;
		}
		if (i + 2 >= c->len || c->buf[i + 2] != ':')
			return mt_fail(m, "FF01", "block", i,
			               "expected a block '{<id>:', a line break, '$' or the end");
		char id = c->buf[i + 1];
		int rank = id == 'S' ? 6 : (id >= '1' && id <= '5') ? id - '0' : 0;
		if (!rank)
			return mt_fail(m, "FF01", "block", i, "unknown block id '%c'", id);
		if (rank == 1 && last) {
			i = save;
			break; /* the next message */
		}
		if (rank <= last)
			return mt_fail(m, "FF01", "block", i, "block %c out of order or repeated", id);
		if (last == 0 && rank != 1)
			return mt_fail(m, "FF01", "block1", i, "a message starts with block 1");
		char bname[8] = { 'b', 'l', 'o', 'c', 'k', id, '\0' };
		size_t b = i + 3;
		last = rank;
		if (rank == 1 || rank == 2) {
			size_t e = b;
			while (e < c->len && !(mt_cls[(unsigned char)c->buf[e]] & MT_CBRK))
				e++;
			if (e >= c->len || c->buf[e] != '}')
				return mt_fail(m, "FF01", bname, b, "%s not closed by '}'", bname);
			if (rank == 1) {
				m->b1 = b;
				m->b1n = e - b;
			} else {
				m->b2 = b;
				m->b2n = e - b;
				m->has_b2 = 1;
			}
			i = e + 1;
		} else if (rank == 3) {
			i = b;
			if (mt_subblocks(m, &i, subs, MT_MAX_SUBS, &ns, "block3", 1))
				return -1;
			m->has_b3 = 1;
			if (mt_block3(m, subs, ns))
				return -1;
		} else if (rank == 4) {
			m->has_b4 = 1;
			m->b4open = i;
			i = b;
			if (i < c->len && c->buf[i] == '{') {
				m->b4_system = 1;
				if (mt_subblocks(m, &i, m->b4s, MT_MAX_SUBS, &m->nb4s, "block4", 1))
					return -1;
			} else if (mt_text(m, &i)) {
				return -1;
			}
		} else {
			i = b;
			if (mt_subblocks(m, &i, subs, MT_MAX_SUBS, &ns, bname, 0))
				return -1;
		}
	}
	*pos = i;
	if (!m->has_b4)
		return mt_fail(m, "FF01", "block4", m->start, "message has no text block {4:}");
	/* block 2 decides input/output, which decides what block 1's address is */
	if (m->has_b2 && mt_block2(m))
		return -1;
	if (mt_block1(m))
		return -1;
	if (!m->has_b2 && strcmp(m->svc, "21"))
		return mt_fail(m, "FF01", "block2", m->start, "message has no application header {2:}");
	return 0;
}

/* ---- MT103 fields ------------------------------------------------------------------------- */

/* A value's lines, line breaks removed: calls fn for each; stops on non-zero. */
typedef struct {
	const char *p; /* current line */
	size_t n;
	size_t off; /* its offset in the buffer */
} mt_linev;

static int
mt_lines(const mt_ctx *c, const mt_field *f, mt_linev *out, int cap)
{
	int n = 0;
	size_t i = f->voff, end = f->voff + f->vn;
	for (;;) {
		size_t s = i;
		i = mt_eol_before(c, i, end);
		if (n == cap)
			return cap + 1;
		out[n].p = c->buf + s;
		out[n].n = i - s;
		out[n].off = s;
		n++;
		if (i >= end)
			return n;
		if (c->buf[i] == '\r')
			i++;
		i++;
	}
}

#define MT_MAXL 12 /* most lines any MT103 field but 77T may have (+1 to detect too many) */

static const mt_field *
mt_find(const mt_msg *m, const char *tag)
{
	for (int i = 0; i < m->nf; i++)
		if (mt_tag_eq(m->f[i].tag, tag))
			return &m->f[i];
	return NULL;
}

/* Field with number num and any option letter ("50" finds 50A/50F/50K). */
static const mt_field *
mt_find_opt(const mt_msg *m, const char *num)
{
	for (int i = 0; i < m->nf; i++)
		if (m->f[i].tag[0] == num[0] && m->f[i].tag[1] == num[1])
			return &m->f[i];
	return NULL;
}

typedef struct {
	const char *num;  /* full tag ("23B") when opts is NULL, else the field number ("50") */
	const char *opts; /* allowed option letters; ' ' = no letter */
	const char *stp;  /* options allowed in MT103 STP; NULL = same; "" = field not allowed */
	char mand, rep;
	int maxl, width;  /* lines, characters per line (0: checked by the field's own rule) */
	const char *name; /* how errors name it when missing */
} mt_spec;

static const mt_spec mt_table[] = {
	{ "20", NULL, NULL, 1, 0, 1, 16, "20" },   { "13C", NULL, NULL, 0, 1, 1, 35, "13C" },
	{ "23B", NULL, NULL, 1, 0, 1, 4, "23B" },  { "23E", NULL, NULL, 0, 1, 1, 35, "23E" },
	{ "26T", NULL, NULL, 0, 0, 1, 3, "26T" },  { "32A", NULL, NULL, 1, 0, 1, 35, "32A" },
	{ "33B", NULL, NULL, 0, 0, 1, 35, "33B" }, { "36", NULL, NULL, 0, 0, 1, 12, "36" },
	{ "50", "AFK", NULL, 1, 0, 5, 35, "50a" }, { "51A", NULL, "", 0, 0, 2, 37, "51A" },
	{ "52", "AD", "A", 0, 0, 5, 37, "52a" },   { "53", "ABD", "AB", 0, 0, 5, 37, "53a" },
	{ "54", "ABD", "A", 0, 0, 5, 37, "54a" },  { "55", "ABD", "A", 0, 0, 5, 37, "55a" },
	{ "56", "ACD", "A", 0, 0, 5, 37, "56a" },  { "57", "ABCD", "A", 0, 0, 5, 37, "57a" },
	{ "59", " AF", NULL, 1, 0, 5, 35, "59a" }, { "70", NULL, NULL, 0, 0, 4, 35, "70" },
	{ "71A", NULL, NULL, 1, 0, 1, 3, "71A" },  { "71F", NULL, NULL, 0, 1, 1, 35, "71F" },
	{ "71G", NULL, NULL, 0, 0, 1, 35, "71G" }, { "72", NULL, NULL, 0, 0, 6, 35, "72" },
	{ "77B", NULL, NULL, 0, 0, 3, 35, "77B" }, { "77T", NULL, "", 0, 0, 0, 0, "77T" },
};
enum {
	MT_NSPEC = sizeof mt_table / sizeof mt_table[0]
};
_Static_assert(MT_NSPEC <= 32, "mt_fields keeps the entries seen in a 32-bit mask");

static int
mt_spec_of(const char *tag)
{
	for (int i = 0; i < MT_NSPEC; i++) {
		const mt_spec *s = &mt_table[i];
		if (tag[0] != s->num[0] || tag[1] != s->num[1]) /* both forms need the number */
			continue;
		if (!s->opts) {
			if (mt_tag_eq(tag, s->num))
				return i;
		} else {
			char o = tag[2] ? tag[2] : ' ';
			if (tag[2] && tag[3])
				continue;
			if (strchr(s->opts, o))
				return i;
			return -2 - i; /* right number, option not allowed */
		}
	}
	return -1;
}

/* 3!a15d: currency (listed, with minor units) + amount with mandatory comma, <= 15 characters,
 * fraction digits within the currency's minor units. */
static int
mt_ccy_amount(mt_msg *m, const mt_field *f, const char *v, size_t n, size_t off, pm_amount *out, char ccy[4])
{
	if (n < 5 || !mt_all(v, 3, mt_upper))
		return mt_fail(m, "FF01", f->tag, off, "expected currency (3 letters) and amount");
	if (!pm_ccy_listed(v))
		return mt_fail(m, "AM03", f->tag, off, "currency %.3s is not an ISO 4217 code", v);
	int minor = pm_ccy_minor_units(v);
	if (minor < 0)
		return mt_fail(m, "AM03", f->tag, off, "%.3s (metal, fund or test code) is not allowed in a payment",
		               v);
	const char *a = v + 3;
	size_t an = n - 3;
	if (an > 15)
		return mt_fail(m, "FF01", f->tag, off, "amount '%.*s' longer than 15 characters", (int)an, a);
	if (!memchr(a, ',', an))
		return mt_fail(m, "FF01", f->tag, off, "amount '%.*s' has no decimal comma (mandatory, e.g. 100,)",
		               (int)an, a);
	char why[64];
	pm_amount am;
	if (pm_amount_parse(a, an, ',', &am, why, sizeof why))
		return mt_fail(m, "FF01", f->tag, off, "amount '%.*s': %s", (int)an, a, why);
	if (pm_amount_decimals(&am) > (unsigned)minor)
		return mt_fail(m, "FF01", f->tag, off, "amount has %u decimals, %.3s allows %d",
		               pm_amount_decimals(&am), v, minor);
	if (out)
		*out = am;
	if (ccy) {
		memcpy(ccy, v, 3);
		ccy[3] = 0;
	}
	return 0;
}

/* Agent fields option A: [/1!a][/34x] party identifier line, then a BIC. */
static int
mt_opt_a(mt_msg *m, const mt_field *f, const mt_linev *l, int nl, char bic[PM_BIC_CAP])
{
	int b = 0;
	if (nl == 2) {
		if (l[0].n < 2 || l[0].p[0] != '/')
			return mt_fail(m, "FF01", f->tag, l[0].off,
			               "option A: the line before the BIC must be a party identifier '/...'");
		b = 1;
	} else if (nl != 1) {
		return mt_fail(m, "FF01", f->tag, f->off, "option A: [/party identifier] and a BIC, 1 or 2 lines");
	}
	if (!pm_bic_valid(l[b].p, l[b].n))
		return mt_fail(m, "RC01", f->tag, l[b].off, "'%.*s' is not a BIC", (int)(l[b].n > 20 ? 20 : l[b].n),
		               l[b].p);
	if (bic) {
		memcpy(bic, l[b].p, l[b].n);
		bic[l[b].n] = 0;
	}
	return 0;
}

static void
mt_copy(char *dst, size_t cap, const char *s, size_t n)
{
	while (n && s[n - 1] == ' ')
		n--; /* SWIFT pads; the padding is not part of a name or id */
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

typedef struct {
	char account[PM_ACCT_CAP];
	char name[PM_NAME_CAP];
	char bic[PM_BIC_CAP];
} mt_party;

/* 50a / 59a: account from the '/' line, the name, the BIC for option A. */
static int
mt_party_field(mt_msg *m, const mt_field *f, mt_party *p)
{
	mt_linev l[MT_MAXL];
	int nl = mt_lines(m->c, f, l, MT_MAXL);
	char opt = f->tag[2];
	int i = 0;
	memset(p, 0, sizeof *p);
	if (nl >= 1 && l[0].n >= 1 && l[0].p[0] == '/') {
		if (l[0].n < 2 || l[0].n > 35)
			return mt_fail(m, "FF01", f->tag, l[0].off, "account line must be '/' + 1..34 characters");
		mt_copy(p->account, sizeof p->account, l[0].p + 1, l[0].n - 1);
		i = 1;
	}
	if (opt == 'A') {
		if (nl - i != 1)
			return mt_fail(m, "FF01", f->tag, f->off, "option A: [/account] and a BIC");
		if (!pm_bic_valid(l[i].p, l[i].n))
			return mt_fail(m, "RC01", f->tag, l[i].off, "'%.*s' is not a BIC",
			               (int)(l[i].n > 20 ? 20 : l[i].n), l[i].p);
		mt_copy(p->bic, sizeof p->bic, l[i].p, l[i].n);
		return 0;
	}
	if (opt == 'F') {
		int maxn = f->tag[0] == '5' && f->tag[1] == '0' ? 8 : 3;
		if (i == 0 && f->tag[1] == '0') {
			/* 50F: the first line is the account or a party identifier 4!a/2!a/27x; in 59F the
			 * account is optional */
			if (nl < 1 || l[0].n < 9 || !mt_all(l[0].p, 4, mt_upper) || l[0].p[4] != '/' ||
			    !mt_all(l[0].p + 5, 2, mt_upper) || l[0].p[7] != '/')
				return mt_fail(m, "FF01", f->tag, f->off,
				               "option F: first line is '/account' or a party identifier CODE/CC/id");
			i = 1;
		}
		if (nl - i < 1 || nl - i > 4)
			return mt_fail(m, "FF01", f->tag, f->off, "option F: 1 to 4 lines 'n/text' after the first");
		for (int k = i; k < nl; k++) {
			if (l[k].n < 3 || l[k].p[0] < '1' || l[k].p[0] > '0' + maxn || l[k].p[1] != '/')
				return mt_fail(m, "FF01", f->tag, l[k].off,
				               "option F: line must be 'n/text' with n 1..%d", maxn);
			if (l[k].p[0] == '1') { /* name lines, joined by a space */
				size_t have = strlen(p->name);
				if (have && have + 1 < sizeof p->name)
					p->name[have++] = ' ';
				mt_copy(p->name + have, sizeof p->name - have, l[k].p + 2, l[k].n - 2);
			}
		}
		if (!p->name[0])
			return mt_fail(m, "FF01", f->tag, f->off, "option F: name line '1/...' missing");
		return 0;
	}
	/* 50K / 59: [/account] + 1..4 lines name and address */
	if (nl - i < 1 || nl - i > 4)
		return mt_fail(m, "FF01", f->tag, f->off, "name and address: 1 to 4 lines after the account");
	mt_copy(p->name, sizeof p->name, l[i].p, l[i].n);
	return 0;
}

static int
mt_field_rules(mt_msg *m, const mt_field *f, const mt_spec *s)
{
	mt_linev l[MT_MAXL];
	const char *v = m->c->buf + f->voff;
	if (mt_tag_eq(f->tag, "77T")) {
		if (f->vn == 0 || f->vn > 9000)
			return mt_fail(m, "FF01", f->tag, f->off, "envelope contents: 1 to 9000 characters");
		for (size_t k = 0; k < f->vn; k++)
			if (v[k] != '\r' && v[k] != '\n' && !mt_z(v[k]))
				return mt_fail(m, "FF01", f->tag, f->voff + k, "character 0x%02x not in SWIFT set Z",
				               (unsigned char)v[k]);
		return 0;
	}
	int nl = mt_lines(m->c, f, l, MT_MAXL);
	if (nl > s->maxl)
		return mt_fail(m, "FF01", f->tag, f->off, "at most %d line%s", s->maxl, s->maxl > 1 ? "s" : "");
	for (int k = 0; k < nl; k++) {
		if (l[k].n == 0)
			return mt_fail(m, "FF01", f->tag, l[k].off, "empty line");
		if (l[k].n > (size_t)s->width)
			return mt_fail(m, "FF01", f->tag, l[k].off, "line longer than %d characters", s->width);
		for (size_t j = 0; j < l[k].n; j++)
			if (!mt_x(l[k].p[j]))
				return mt_fail(m, "FF01", f->tag, l[k].off + j, "character 0x%02x not in SWIFT set X",
				               (unsigned char)l[k].p[j]);
	}
	const char *t = f->tag;
	size_t n = l[0].n;
	const char *p = l[0].p;
	if (mt_tag_eq(t, "20")) {
		if (p[0] == '/' || p[n - 1] == '/' || memmem(p, n, "//", 2))
			return mt_fail(m, "FF01", t, f->off,
			               "reference may not start or end with '/' nor contain '//'");
	} else if (mt_tag_eq(t, "13C")) {
		static const char *const codes[] = { "/CLSTIME/", "/RNCTIME/", "/SNDTIME/" };
		int ok = n == 18;
		if (ok) {
			ok = 0;
			for (int k = 0; k < 3; k++)
				ok |= !memcmp(p, codes[k], 9);
		}
		if (!ok || !mt_hhmm(p + 9) || (p[13] != '+' && p[13] != '-') || !mt_hhmm(p + 14) ||
		    (p[14] - '0') * 10 + (p[15] - '0') > 13)
			return mt_fail(
			        m, "FF01", t, f->off,
			        "time indication must be /CLSTIME/, /RNCTIME/ or /SNDTIME/ + HHMM + sign + HHMM");
	} else if (mt_tag_eq(t, "23B")) {
		static const char *const codes[] = { "CRED", "CRTS", "SPAY", "SPRI", "SSTD" };
		int ok = 0;
		for (int k = 0; k < 5; k++)
			ok |= n == 4 && !memcmp(p, codes[k], 4);
		if (!ok)
			return mt_fail(m, "FF01", t, f->off,
			               "bank operation code '%.*s' is not CRED, CRTS, SPAY, SPRI or SSTD", (int)n, p);
	} else if (mt_tag_eq(t, "23E")) {
		static const char *const codes[] = { "CHQB", "CORT", "HOLD", "INTC", "PHOB", "PHOI",
			                             "PHON", "REPA", "SDVA", "TELB", "TELE", "TELI" };
		int ok = 0;
		for (int k = 0; k < 12; k++)
			ok |= n >= 4 && !memcmp(p, codes[k], 4);
		if (!ok || (n > 4 && (p[4] != '/' || n < 6 || n > 35)))
			return mt_fail(m, "FF01", t, f->off, "instruction code '%.*s' is not a 23E code [/30x]",
			               (int)(n > 8 ? 8 : n), p);
		if (!strcmp(m->variant, "STP") && memcmp(p, "CORT", 4) && memcmp(p, "INTC", 4) &&
		    memcmp(p, "REPA", 4) && memcmp(p, "SDVA", 4))
			return mt_fail(m, "FF01", t, f->off, "MT103 STP allows only CORT, INTC, REPA, SDVA in 23E");
	} else if (mt_tag_eq(t, "26T")) {
		if (n != 3 || !mt_all(p, 3, mt_alnum))
			return mt_fail(m, "FF01", t, f->off, "transaction type code must be 3 letters/digits");
	} else if (mt_tag_eq(t, "32A")) {
		char d[11];
		if (n < 6 || !mt_digits(p, 6))
			return mt_fail(m, "FF01", t, f->off, "value date must be YYMMDD");
		if (pm_date_yymmdd(p, 6, d))
			return mt_fail(m, "DT01", t, f->off, "value date %.6s is not a calendar date", p);
		return mt_ccy_amount(m, f, p + 6, n - 6, f->off, NULL, NULL);
	} else if (mt_tag_eq(t, "33B") || mt_tag_eq(t, "71F") || mt_tag_eq(t, "71G")) {
		return mt_ccy_amount(m, f, p, n, f->off, NULL, NULL);
	} else if (mt_tag_eq(t, "36")) {
		const char *c = memchr(p, ',', n);
		if (!c || c == p || memchr(c + 1, ',', n - (size_t)(c + 1 - p)) || !mt_digits(p, (size_t)(c - p)) ||
		    !mt_digits(c + 1, n - (size_t)(c + 1 - p)) || mt_zero(p, n))
			return mt_fail(m, "FF01", t, f->off,
			               "exchange rate must be digits with a decimal comma, not zero");
	} else if (mt_tag_eq(t, "71A")) {
		if (n != 3 || (memcmp(p, "BEN", 3) && memcmp(p, "OUR", 3) && memcmp(p, "SHA", 3)))
			return mt_fail(m, "FF01", t, f->off, "details of charges '%.*s' is not BEN, OUR or SHA", (int)n,
			               p);
	} else if (t[0] == '5' && t[1] >= '1' && t[1] <= '7') {
		char o = t[2];
		if (o == 'A')
			return mt_opt_a(m, f, l, nl, NULL);
		if (o == 'C' && (nl != 1 || p[0] != '/' || n < 2))
			return mt_fail(m, "FF01", t, f->off, "option C: one line '/' + account");
		if (o == 'B' && (nl > 2 || (nl == 2 && p[0] != '/')))
			return mt_fail(m, "FF01", t, f->off, "option B: [/party identifier] and [location]");
		if (o == 'D') {
			int i = p[0] == '/' ? 1 : 0;
			if (nl - i < 1 || nl - i > 4)
				return mt_fail(m, "FF01", t, f->off,
				               "option D: [/party identifier] and 1 to 4 lines name and address");
			for (int k = 0; k < nl; k++)
				if (l[k].n > 35 && !(k == 0 && i))
					return mt_fail(m, "FF01", t, l[k].off, "line longer than 35 characters");
		}
		if (o == 'B' || o == 'C')
			for (int k = 0; k < nl; k++)
				if (l[k].n > 35 + (k == 0 && p[0] == '/' ? 2 : 0))
					return mt_fail(m, "FF01", t, l[k].off, "line longer than 35 characters");
	} else if (t[0] == '5' && (t[1] == '0' || t[1] == '9')) {
		mt_party pty;
		return mt_party_field(m, f, &pty);
	}
	return 0;
}

static int
mt_ccy_eq(const mt_msg *m, const mt_field *a, const mt_field *b)
{
	const char *pa = m->c->buf + a->voff + (a->tag[1] == '2' ? 6 : 0); /* 32A: after the date */
	const char *pb = m->c->buf + b->voff;
	return !memcmp(pa, pb, 3);
}

static int
mt_has_opt(const mt_msg *m, const char *num)
{
	return mt_find_opt(m, num) != NULL;
}

/* Network validated rules (all MT103) and the STP / REMIT usage rules. */
static int
mt_network_rules(mt_msg *m)
{
	const mt_field *f32 = mt_find(m, "32A"), *f33 = mt_find(m, "33B"), *f36 = mt_find(m, "36");
	const mt_field *f71a = mt_find(m, "71A"), *f71f = mt_find(m, "71F"), *f71g = mt_find(m, "71G");
	const mt_field *f23b = mt_find(m, "23B");
	const char *buf = m->c->buf;
	int stp = !strcmp(m->variant, "STP"), remit = !strcmp(m->variant, "REMIT");
	/* C1 (D75): 36 if and only if 33B is in another currency than 32A */
	int other = f33 && !mt_ccy_eq(m, f32, f33);
	if (other && !f36)
		return mt_fail(m, "FF01", "36", f33->off,
		               "33B is in another currency than 32A: exchange rate 36 is mandatory (D75)");
	if (!other && f36)
		return mt_fail(m, "FF01", "36", f36->off, "exchange rate 36 without a 33B in another currency (D75)");
	/* C7 (E13, D50, E15): charges against 71A */
	const char *ch = buf + f71a->voff;
	if (!memcmp(ch, "OUR", 3) && f71f)
		return mt_fail(m, "FF01", "71F", f71f->off, "71A OUR: sender's charges 71F not allowed (E13)");
	if (!memcmp(ch, "SHA", 3) && f71g)
		return mt_fail(m, "FF01", "71G", f71g->off, "71A SHA: receiver's charges 71G not allowed (D50)");
	if (!memcmp(ch, "BEN", 3) && !f71f)
		return mt_fail(m, "FF01", "71F", f71a->off, "71A BEN: at least one 71F is mandatory (E15)");
	if (!memcmp(ch, "BEN", 3) && f71g)
		return mt_fail(m, "FF01", "71G", f71g->off, "71A BEN: receiver's charges 71G not allowed (E15)");
	/* C8 (D51): charges need the instructed amount */
	if ((f71f || f71g) && !f33)
		return mt_fail(m, "FF01", "33B", (f71f ? f71f : f71g)->off,
		               "71F/71G present: instructed amount 33B is mandatory (D51)");
	/* C4 (E06): a third reimbursement institution needs 53a and 54a */
	const mt_field *f55 = mt_find_opt(m, "55");
	if (f55 && (!mt_has_opt(m, "53") || !mt_has_opt(m, "54")))
		return mt_fail(m, "FF01", f55->tag, f55->off, "55a present: 53a and 54a are mandatory (E06)");
	/* C5 (C81): an intermediary needs the account with institution */
	const mt_field *f56 = mt_find_opt(m, "56");
	if (f56 && !mt_has_opt(m, "57"))
		return mt_fail(m, "FF01", f56->tag, f56->off, "56a present: 57a is mandatory (C81)");
	/* C3 / C6 (E01, E02, E16, E17): bank operation code against 23E and 56a */
	const char *op = buf + f23b->voff;
	for (int i = 0; i < m->nf; i++) {
		const mt_field *f = &m->f[i];
		if (!mt_tag_eq(f->tag, "23E"))
			continue;
		const char *c = buf + f->voff;
		if (!memcmp(op, "SPRI", 4) && memcmp(c, "SDVA", 4) && memcmp(c, "INTC", 4) &&
		    (stp || (memcmp(c, "TELB", 4) && memcmp(c, "PHOB", 4))))
			return mt_fail(m, "FF01", "23E", f->off, "23B SPRI: 23E may only be SDVA, INTC%s (E01)",
			               stp ? "" : ", TELB, PHOB");
		if (!memcmp(op, "SSTD", 4) || !memcmp(op, "SPAY", 4))
			return mt_fail(m, "FF01", "23E", f->off, "23B %.4s: 23E not allowed (E02)", op);
	}
	if (f56 && !memcmp(op, "SPRI", 4))
		return mt_fail(m, "FF01", f56->tag, f56->off, "23B SPRI: 56a not allowed (E16)");
	if (f56 && f56->tag[2] == 'D' && (!memcmp(op, "SSTD", 4) || !memcmp(op, "SPAY", 4)))
		return mt_fail(m, "FF01", f56->tag, f56->off, "23B %.4s: 56a only with option A or C (E17)", op);
	/* REMIT: 77T mandatory, 70 not allowed; elsewhere 77T not allowed */
	const mt_field *f77t = mt_find(m, "77T"), *f70 = mt_find(m, "70");
	if (remit && !f77t)
		return mt_fail(m, "FF01", "77T", m->b4open, "MT103 REMIT: envelope contents 77T is mandatory");
	if (remit && f70)
		return mt_fail(m, "FF01", "70", f70->off,
		               "MT103 REMIT: remittance information 70 not allowed (77T carries it)");
	if (!remit && f77t)
		return mt_fail(m, "FF01", "77T", f77t->off, "77T only in MT103 REMIT ({3:{119:REMIT}})");
	if (stp) {
		const mt_field *f59 = mt_find_opt(m, "59");
		if (buf[f59->voff] != '/')
			return mt_fail(m, "FF01", f59->tag, f59->off,
			               "MT103 STP: the beneficiary account is mandatory in 59a (E10)");
		if (f71g && !mt_ccy_eq(m, f32, f71g))
			return mt_fail(m, "FF01", "71G", f71g->off,
			               "MT103 STP: 71G must be in the currency of 32A (C9)");
		const mt_field *f72 = mt_find(m, "72");
		if (f72) {
			mt_linev l[MT_MAXL];
			int nl = mt_lines(m->c, f72, l, MT_MAXL);
			for (int k = 0; k < nl; k++)
				if (l[k].n >= 6 && (!memcmp(l[k].p, "/REJT/", 6) || !memcmp(l[k].p, "/RETN/", 6)))
					return mt_fail(m, "FF01", "72", l[k].off,
					               "MT103 STP: codes /REJT/ and /RETN/ not allowed in 72");
		}
	}
	return 0;
}

static int
mt_fields(mt_msg *m)
{
	int last = -1, stp = !strcmp(m->variant, "STP");
	int spec[MT_MAX_FIELDS]; /* each field's entry in mt_table, looked up once */
	uint32_t present = 0;    /* bit k: a field of mt_table[k] is there */
	for (int i = 0; i < m->nf; i++) {
		const mt_field *f = &m->f[i];
		int k = spec[i] = mt_spec_of(f->tag);
		if (k == -1)
			return mt_fail(m, "FF01", f->tag, f->off, "field %s is not part of MT103", f->tag);
		if (k < -1)
			return mt_fail(m, "FF01", f->tag, f->off, "option %s not allowed for %s in MT103", f->tag,
			               mt_table[-2 - k].name);
		const mt_spec *s = &mt_table[k];
		if (stp && s->stp) {
			char o = f->tag[2] ? f->tag[2] : ' ';
			if (!s->stp[0] || !strchr(s->stp, o))
				return mt_fail(m, "FF01", f->tag, f->off, "MT103 STP does not allow %s%s%s", f->tag,
				               s->stp[0] ? " (options " : "", s->stp[0] ? s->stp : "");
		}
		if (k < last)
			return mt_fail(m, "FF01", f->tag, f->off, "field %s out of sequence (after %s)", f->tag,
			               m->f[i - 1].tag);
		if (k == last && !s->rep)
			return mt_fail(m, "FF01", f->tag, f->off, "field %s repeated", f->tag);
		last = k;
		present |= 1u << k;
	}
	for (int k = 0; k < MT_NSPEC; k++) {
		const mt_spec *s = &mt_table[k];
		if (s->mand && !(present & (1u << k)))
			return mt_fail(m, "FF01", s->name, m->b4open, "mandatory field %s missing", s->name);
	}
	for (int i = 0; i < m->nf; i++)
		if (mt_field_rules(m, &m->f[i], &mt_table[spec[i]]))
			return -1;
	return mt_network_rules(m);
}

/* ---- mapping ------------------------------------------------------------------------------ */

static void
mt_ids_to_error(const mt_msg *m, pm_error *e)
{
	if (m->mt[0]) {
		e->msgdef[0] = 'M', e->msgdef[1] = 'T';
		memcpy(e->msgdef + 2, m->mt, sizeof m->mt); /* NUL-terminated: mt_block2 */
	}
	memcpy(e->uetr, m->uetr, sizeof e->uetr);
	const mt_field *f20 = mt_find(m, "20");
	if (f20 && f20->vn <= 16 && !memchr(m->c->buf + f20->voff, '\n', f20->vn)) {
		mt_copy(e->msg_id, sizeof e->msg_id, m->c->buf + f20->voff, f20->vn);
		memcpy(e->instr_id, e->msg_id, sizeof e->instr_id);
	}
}

static int
mt_build(mt_msg *m, pm_payment *p)
{
	const char *buf = m->c->buf;
	memset(p, 0, sizeof *p);
	p->format = PM_FMT_MT103;
	strcpy(p->msgdef, "MT103");
	const mt_field *f20 = mt_find(m, "20"), *f32 = mt_find(m, "32A"), *f71a = mt_find(m, "71A");
	mt_copy(p->msg_id, sizeof p->msg_id, buf + f20->voff, f20->vn);
	memcpy(p->instr_id, p->msg_id, sizeof p->instr_id);
	memcpy(p->uetr, m->uetr, sizeof p->uetr);
	memcpy(p->variant, m->variant, sizeof p->variant);
	const char *v = buf + f32->voff;
	pm_date_yymmdd(v, 6, p->value_date);
	if (mt_ccy_amount(m, f32, v + 6, f32->vn - 6, f32->off, &p->amount, p->ccy))
		return -1;
	const char *ch = buf + f71a->voff;
	strcpy(p->charge_bearer, !memcmp(ch, "OUR", 3) ? "DEBT" : !memcmp(ch, "BEN", 3) ? "CRED" : "SHAR");
	mt_party d, c;
	if (mt_party_field(m, mt_find_opt(m, "50"), &d) || mt_party_field(m, mt_find_opt(m, "59"), &c))
		return -1;
	memcpy(p->debtor_name, d.name, sizeof p->debtor_name);
	memcpy(p->debtor_account, d.account, sizeof p->debtor_account);
	memcpy(p->creditor_name, c.name, sizeof p->creditor_name);
	memcpy(p->creditor_account, c.account, sizeof p->creditor_account);
	memcpy(p->instg_agent_bic, m->sender, sizeof p->instg_agent_bic);
	memcpy(p->instd_agent_bic, m->receiver, sizeof p->instd_agent_bic);
	memcpy(p->debtor_agent_bic, m->sender, sizeof p->debtor_agent_bic);
	memcpy(p->creditor_agent_bic, m->receiver, sizeof p->creditor_agent_bic);
	mt_linev l[MT_MAXL];
	const mt_field *f52 = mt_find(m, "52A"), *f57 = mt_find(m, "57A"), *f70 = mt_find(m, "70");
	if (f52)
		mt_opt_a(m, f52, l, mt_lines(m->c, f52, l, MT_MAXL), p->debtor_agent_bic);
	if (f57)
		mt_opt_a(m, f57, l, mt_lines(m->c, f57, l, MT_MAXL), p->creditor_agent_bic);
	strcpy(p->end_to_end_id, "NOTPROVIDED");
	if (f70) {
		int nl = mt_lines(m->c, f70, l, MT_MAXL);
		/* MT wraps at 35 characters, often mid-word: the lines joined back give the text */
		size_t o = 0;
		for (int k = 0; k < nl; k++) {
			size_t n = l[k].n < sizeof p->remittance - 1 - o ? l[k].n : sizeof p->remittance - 1 - o;
			memcpy(p->remittance + o, l[k].p, n);
			o += n;
		}
		p->remittance[o] = 0;
		if (l[0].n > 5 && !memcmp(l[0].p, "/ROC/", 5)) {
			const char *r = l[0].p + 5;
			size_t rn = l[0].n - 5;
			while (rn && r[rn - 1] == ' ')
				rn--;
			if (rn)
				mt_copy(p->end_to_end_id, sizeof p->end_to_end_id, r, rn);
		}
	}
	p->line = mt_line(m->c, m->start);
	p->offset = (uint32_t)m->start;
	return 0;
}

/* The MT field a validation error names, to point at its line. */
static size_t
mt_field_off(const mt_msg *m, const char *name)
{
	for (int i = 0; i < m->nf; i++) {
		const char *t = m->f[i].tag;
		if (!strcmp(t, name) || (name[2] == 'a' && !strncmp(t, name, 2)))
			return m->f[i].off;
	}
	return m->start;
}

/* ---- driver ------------------------------------------------------------------------------- */

static int
mt_emit_error(mt_ctx *c, mt_msg *m)
{
	pm_error e = m->err;
	mt_ids_to_error(m, &e);
	return c->sink(c->ctx, NULL, &e);
}

static int
mt_emit(mt_ctx *c, mt_msg *m)
{
	if (m->failed)
		return mt_emit_error(c, m);
	if (m->b4_system) {
		mt_fail(m, "FF01", "block4", m->b4open,
		        "a FIN message carries a text block '{4:' + line break, not system tags");
		return mt_emit_error(c, m);
	}
	if (strcmp(m->mt, "103")) {
		mt_fail(m, "FF01", "block2", m->b2, "MT%s is not tokenizable: only MT103 customer credit transfers are",
		        m->mt);
		return mt_emit_error(c, m);
	}
	if (mt_fields(m))
		return mt_emit_error(c, m);
	pm_payment p;
	if (mt_build(m, &p))
		return mt_emit_error(c, m);
	pm_error e;
	if (pm_payment_validate(&p, &e)) {
		size_t off = strcmp(e.field, "121") ? mt_field_off(m, e.field) : m->start;
		e.line = mt_line(c, off);
		e.offset = (uint32_t)off;
		return c->sink(c->ctx, NULL, &e);
	}
	return c->sink(c->ctx, &p, NULL);
}

/* Where to go on after a refused message: the next '$' separator or the next "{1:". */
static size_t
mt_resync(mt_ctx *c, size_t from)
{
	/* memchr, not a loop per byte (each of its comparisons is a traced call under the fuzzer);
	 * the next '$' is remembered, so the search for it stays linear over the whole buffer */
	if (from >= c->len)
		return c->len;
	if (from < c->sep_from || from > c->sep_at) {
		const char *d = memchr(c->buf + from, '$', c->len - from);
		c->sep_from = from;
		c->sep_at = d ? (size_t)(d - c->buf) : c->len;
	}
	const char *p = c->buf + from, *stop = c->buf + c->sep_at;
	while ((p = memchr(p, '{', (size_t)(stop - p))) != NULL) {
		if (p + 2 < c->buf + c->len && p[1] == '1' && p[2] == ':')
			return (size_t)(p - c->buf);
		p++;
	}
	return c->sep_at;
}

static const mt_sub *
mt_sub_find(const mt_msg *m, const char *tag)
{
	for (int i = 0; i < m->nb4s; i++)
		if (mt_tag_eq(m->b4s[i].tag, tag))
			return &m->b4s[i];
	return NULL;
}

int
pm_mt_parse(const char *buf, size_t len, pm_sink sink, void *ctx)
{
	mt_ctx c = { buf, len, sink, ctx, 0, 1, 1, 0 }; /* sep_from > sep_at: nothing cached */
	size_t pos = 0;
	int rc;
	mt_msg m, orig;
	while (pos < len) {
		char ch = buf[pos];
		if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t' || ch == '$') {
			pos++;
			continue;
		}
		mt_reset(&m, &c, pos);
		if (!(ch == '{' && pos + 2 < len && buf[pos + 1] == '1' && buf[pos + 2] == ':')) {
			mt_fail(&m, "FF01", "rje", pos, "expected a message '{1:' (or an RJE '$' separator)");
			size_t next = mt_resync(&c, pos + 1);
			if ((rc = mt_emit_error(&c, &m)))
				return rc;
			pos = next;
			continue;
		}
		size_t p2 = pos;
		if (mt_blocks(&m, &p2)) {
			size_t next = mt_resync(&c, (m.err.offset > pos ? m.err.offset : pos) + 1);
			/* a broken ACK/NAK takes its original with it: no ACK, no acceptance */
			if (pos + 6 <= len && !memcmp(buf + pos, "{1:F21", 6) && next < len && buf[next] == '{')
				next = mt_resync(&c, next + 1);
			if ((rc = mt_emit_error(&c, &m)))
				return rc;
			pos = next;
			continue;
		}
		if (strcmp(m.svc, "21")) {
			if ((rc = mt_emit(&c, &m)))
				return rc;
			pos = p2;
			continue;
		}
		/* ACK/NAK: {4:{177:YYMMDDHHMM}{451:0|1}[{405:reason}]} then the original message */
		const mt_sub *s451 = mt_sub_find(&m, "451"), *s177 = mt_sub_find(&m, "177"),
		             *s405 = mt_sub_find(&m, "405");
		size_t p3 = p2;
		while (p3 < len && (buf[p3] == '\n' || buf[p3] == '\r'))
			p3++;
		mt_reset(&orig, &c, p3);
		int have_orig = p3 + 2 < len && buf[p3] == '{' && buf[p3 + 1] == '1' && buf[p3 + 2] == ':';
		if (have_orig && mt_blocks(&orig, &p3) == 0 && !strcmp(orig.svc, "21"))
			mt_fail(&orig, "FF01", "ack", orig.start,
			        "an ACK/NAK follows an ACK/NAK: the original message is missing");
		if (!m.b4_system || !s451 || !s177)
			mt_fail(&m, "FF01", "ack", m.b4open, "ACK/NAK block 4 must carry {177:} and {451:}");
		else if (s451->vn != 1 || (buf[s451->voff] != '0' && buf[s451->voff] != '1'))
			mt_fail(&m, "FF01", "ack", s451->off, "{451:} must be 0 (ACK) or 1 (NAK)");
		else if (!have_orig)
			mt_fail(&m, "FF01", "ack", p2, "ACK/NAK without the original message after it");
		if (m.failed) {
			if ((rc = mt_emit_error(&c, &m)))
				return rc;
			pos = have_orig ? (orig.failed ? mt_resync(&c, orig.start + 1) : p3) : mt_resync(&c, p2);
			continue;
		}
		if (!orig.failed && strcmp(orig.ltss, m.ltss))
			mt_fail(&orig, "FF01", "ack", orig.start,
			        "the ACK/NAK is for %.12s session %.4s sequence %.6s, not this message", m.ltss,
			        m.ltss + 12, m.ltss + 16);
		if (!orig.failed && buf[s451->voff] == '1')
			mt_fail(&orig, "FF01", "ack", m.start, "SWIFT refused this message (NAK {451:1}%s%.*s)",
			        s405 ? ", error " : "", s405 ? (int)(s405->vn > 40 ? 40 : s405->vn) : 0,
			        s405 ? buf + s405->voff : "");
		if ((rc = mt_emit(&c, &orig)))
			return rc;
		pos = orig.failed && orig.err.offset >= p3 ? mt_resync(&c, orig.err.offset + 1) : p3;
		if (pos < p3)
			pos = p3;
	}
	return 0;
}
