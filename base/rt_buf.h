/* rt_buf: a growable byte buffer for building responses, log lines and exposition text.
 *
 * Ownership: the buffer owns `data` (malloc'd); rt_buf_free releases it. A zeroed rt_buf
 * (RT_BUF_INIT) is empty and valid. After any successful append, data[len] == '\0', so the
 * contents can be used as a C string when no NUL was appended. On allocation failure an append
 * returns -1 and leaves the buffer unchanged (the buffer remembers the failure in `oom`). */
#ifndef OB_BASE_RT_BUF_H
#define OB_BASE_RT_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct rt_buf {
	uint8_t *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	int oom; /* set once any append failed */
} rt_buf;

#define RT_BUF_INIT                                                                                                    \
	{                                                                                                              \
		NULL, 0, 0, 0                                                                                          \
	}

int rt_buf_append(rt_buf *b, const void *p, size_t n); /* 0 or -1 (ENOMEM) */
int rt_buf_puts(rt_buf *b, const char *s);             /* append a C string */
int rt_buf_printf(rt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a quoted JSON string ("..." with \" \\ \n \uXXXX escapes); invalid UTF-8 bytes
 * become U+FFFD so the output is always valid JSON. */
int rt_buf_json_str(rt_buf *b, const char *s);
/* Hand the contents to the caller (who frees them with free()); the buffer becomes empty. */
char *rt_buf_take(rt_buf *b, size_t *len);
void rt_buf_reset(rt_buf *b); /* len = 0, keep memory */
void rt_buf_free(rt_buf *b);  /* release memory; the buffer is RT_BUF_INIT again */
/* A whole file, read into a malloc'd buffer the caller frees, NUL-terminated (*len excludes the
 * NUL). NULL with errno set when it cannot be opened or read, or memory runs out. For benches,
 * tests and tools that load a sample or a fixture; actors read their files with their own bounds. */
char *rt_file_read(const char *path, size_t *len);

#endif
