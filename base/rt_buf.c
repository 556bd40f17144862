/* rt_buf: growable byte buffer (see rt_buf.h). Grows geometrically; always NUL-terminated. */
#include "base/rt_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
rtb_reserve(rt_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1; /* +1 keeps room for the terminating NUL */
	if (need < b->len) {
		b->oom = 1;
		return -1;
	}
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	uint8_t *p = realloc(b->data, cap);
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int
rt_buf_append(rt_buf *b, const void *p, size_t n)
{
	if (rtb_reserve(b, n) != 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
rt_buf_puts(rt_buf *b, const char *s)
{
	return rt_buf_append(b, s, strlen(s));
}

int
rt_buf_printf(rt_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof small)
		return rt_buf_append(b, small, (size_t)n);
	/* Too long for the stack buffer: format straight into the buffer's tail. */
	if (rtb_reserve(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not valid UTF-8. */
static size_t
rtb_utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else
		return 0;
	unsigned cp = c & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
rt_buf_json_str(rt_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t start = b->len;
	int rc = rt_buf_append(b, "\"", 1);
	while (rc == 0 && *p) {
		/* Copy the longest run of bytes that need no escaping in one append. */
		const unsigned char *run = p;
		while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			rc = rt_buf_append(b, run, (size_t)(p - run));
		if (rc != 0 || *p == '\0')
			break;
		char esc[6] = { '\\', 0 };
		switch (*p) {
		case '"':
			esc[1] = '"';
			rc = rt_buf_append(b, esc, 2);
			p++;
			continue;
		case '\\':
			esc[1] = '\\';
			rc = rt_buf_append(b, esc, 2);
			p++;
			continue;
		case '\n':
			esc[1] = 'n';
			rc = rt_buf_append(b, esc, 2);
			p++;
			continue;
		case '\r':
			esc[1] = 'r';
			rc = rt_buf_append(b, esc, 2);
			p++;
			continue;
		case '\t':
			esc[1] = 't';
			rc = rt_buf_append(b, esc, 2);
			p++;
			continue;
		default:
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			rc = rt_buf_append(b, esc, 6);
			p++;
			continue;
		}
		size_t n = rtb_utf8_len(p);
		if (n == 0) {
			rc = rt_buf_append(b, "\xef\xbf\xbd", 3); /* U+FFFD replacement character */
			p++;
		} else {
			rc = rt_buf_append(b, p, n);
			p += n;
		}
	}
	if (rc == 0)
		rc = rt_buf_append(b, "\"", 1);
	if (rc != 0 && b->data) { /* leave the buffer as it was */
		b->len = start;
		b->data[start] = '\0';
	}
	return rc;
}

char *
rt_buf_take(rt_buf *b, size_t *len)
{
	char *p = (char *)b->data;
	if (p == NULL)
		p = calloc(1, 1);
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
	return p;
}

void
rt_buf_reset(rt_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
rt_buf_free(rt_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

char *
rt_file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	rt_buf b = RT_BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (rt_buf_append(&b, chunk, n) != 0)
			break;
	int bad = b.oom ? ENOMEM : ferror(f) ? EIO : 0;
	fclose(f);
	if (bad) {
		rt_buf_free(&b);
		errno = bad;
		return NULL;
	}
	return rt_buf_take(&b, len);
}
