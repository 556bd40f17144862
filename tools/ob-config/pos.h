/* pos: the line of every value of a JSON text, by path, so that a semantic error found after jansson
 * has parsed the text (an unknown key, a bad address, a feed referenced but not defined) can name
 * the line of the file it came from. jansson reports lines only for syntax errors.
 *
 * Paths are written as the error messages show them: `feeds[1].aggregator`, `bus.public_keys.gate`,
 * the root is "". The line of a member is the line of its key; of an array element, the line where
 * the element starts. The scan assumes text jansson already accepted (it does not validate).
 *
 * Memory: obc_pos owns its entries (paths are copied); obc_pos_free releases them. */
#ifndef OB_TOOLS_OB_CONFIG_POS_H
#define OB_TOOLS_OB_CONFIG_POS_H

#include <stddef.h>

typedef struct {
	char *path;
	unsigned line;
} obc_pos_entry;

typedef struct {
	obc_pos_entry *v;
	size_t n, cap;
} obc_pos;

/* Records the line of every member and element of text[0..len). 0, or -1 when out of memory or
 * nested deeper than 64 levels. */
int obc_pos_scan(obc_pos *p, const char *text, size_t len);

/* The line of path; when path itself is not recorded (a member that is missing), the line of its
 * longest recorded parent; 1 when none. */
unsigned obc_pos_line(const obc_pos *p, const char *path);

void obc_pos_free(obc_pos *p);

#endif
