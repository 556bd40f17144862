/* pos: see pos.h. A single pass over text jansson has already accepted: strings are skipped with
 * their escapes, containers push a frame holding the length of their own path. */
#include "tools/ob-config/pos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POS_DEPTH 64
#define POS_PATH  1024

typedef struct {
	int array;
	size_t base; /* length of the container's own path */
	unsigned index;
	int pending; /* array: the next value starts element `index`; object: a key is expected */
} pos_frame;

static int
pos_add(obc_pos *p, const char *path, unsigned line)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		obc_pos_entry *v = realloc(p->v, cap * sizeof *v);
		if (!v)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n].path = strdup(path);
	if (!p->v[p->n].path)
		return -1;
	p->v[p->n++].line = line;
	return 0;
}

/* The end of the string starting at s[i] == '"': the index of its closing quote. */
static size_t
pos_string_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i;
}

int
obc_pos_scan(obc_pos *p, const char *s, size_t len)
{
	pos_frame st[POS_DEPTH];
	int depth = 0;
	char path[POS_PATH] = "";
	size_t plen = 0;
	unsigned line = 1;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\n') {
			line++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == ':')
			continue;
		pos_frame *f = depth ? &st[depth - 1] : NULL;
		if (c == ',') {
			if (f && f->array) {
				f->index++;
				f->pending = 1;
			} else if (f)
				f->pending = 1;
			continue;
		}
		if (c == '}' || c == ']') {
			if (depth)
				depth--;
			continue;
		}
		if (f && !f->array && f->pending && c == '"') { /* a key */
			size_t e = pos_string_end(s, len, i);
			size_t klen = e - i - 1;
			plen = f->base;
			int n = snprintf(path + plen, sizeof path - plen, "%s%.*s", plen ? "." : "", (int)klen,
			                 s + i + 1);
			if (n < 0 || (size_t)n >= sizeof path - plen)
				return -1;
			plen += (size_t)n;
			if (pos_add(p, path, line) != 0)
				return -1;
			f->pending = 0;
			i = e;
			continue;
		}
		if (f && f->array && f->pending) { /* an element starts */
			plen = f->base;
			int n = snprintf(path + plen, sizeof path - plen, "[%u]", f->index);
			if (n < 0 || (size_t)n >= sizeof path - plen)
				return -1;
			plen += (size_t)n;
			if (pos_add(p, path, line) != 0)
				return -1;
			f->pending = 0;
		}
		if (c == '{' || c == '[') {
			if (depth == POS_DEPTH)
				return -1;
			st[depth++] = (pos_frame){ .array = c == '[', .base = plen, .index = 0, .pending = 1 };
			continue;
		}
		if (c == '"')
			i = pos_string_end(s, len, i);
		/* numbers, true, false, null: their characters pass through this loop harmlessly */
	}
	return 0;
}

unsigned
obc_pos_line(const obc_pos *p, const char *path)
{
	size_t best = 0;
	unsigned line = 1;
	for (size_t i = 0; i < p->n; i++) {
		const char *q = p->v[i].path;
		size_t l = strlen(q);
		if (strncmp(q, path, l) != 0)
			continue;
		if (path[l] != '\0' && path[l] != '.' && path[l] != '[')
			continue;
		if (l == strlen(path))
			return p->v[i].line;
		if (l >= best) {
			best = l;
			line = p->v[i].line;
		}
	}
	return line;
}

void
obc_pos_free(obc_pos *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].path);
	free(p->v);
	memset(p, 0, sizeof *p);
}
