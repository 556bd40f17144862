/* jscan_fuzz: the validator, path lookup and the one-pass iterator on arbitrary bytes. On a document
 * that validates, the iterator must agree with the strict scanner: every value and key it yields is
 * itself valid JSON of the type it reports, an array's elements are what js_find finds by index, an
 * object's members what js_get finds (first of a key), and the counts match js_count. On bytes that
 * do not validate it must only stay in bounds and stop (ASan sees the private copy's exact size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/jscan.h"

static void
walk(const char *doc, size_t len, const js_val *c, int depth)
{
	js_iter it;
	js_val k, v, x;
	size_t n = 0;
	char buf[64];
	js_iter_init(&it, c);
	while (js_iter_next(&it, &k, &v)) {
		js_type t;
		if (v.p < c->p || v.p + v.n > c->p + c->n || js_validate(v.p, v.n, NULL, NULL) != 0)
			abort();
		if (js_find(v.p, v.n, "", &x) != 0 || x.type != v.type || x.n != v.n)
			abort();
		if (c->type == JS_OBJECT) {
			if (k.type != JS_STRING || js_validate(k.p, k.n, NULL, NULL) != 0)
				abort();
			long kl = js_string(&k, buf, sizeof buf);
			/* js_get returns the first member of that name: same or earlier in the text */
			if (kl >= 0 && (size_t)kl == strlen(buf) &&
			    (js_get(c, buf, &x) != 0 || !js_key_eq(&k, buf) || x.p > v.p))
				abort();
		} else if (k.type != JS_NONE)
			abort();
		t = v.type;
		if (t == JS_STRING) {
			const char *p;
			size_t rl;
			if (js_string_raw(&v, &p, &rl) == 0 && (p != v.p + 1 || rl != v.n - 2))
				abort();
		}
		if ((t == JS_OBJECT || t == JS_ARRAY) && depth < 8)
			walk(doc, len, &v, depth + 1);
		n++;
	}
	if (n != js_count(c))
		abort();
	(void)doc, (void)len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *d = malloc(size ? size : 1);
	if (d == NULL)
		return 0;
	memcpy(d, data, size);
	js_val root, v, k;
	if (js_validate(d, size, NULL, NULL) == 0) {
		if (js_find(d, size, "", &root) != 0)
			abort();
		walk(d, size, &root, 0);
		if (root.type == JS_ARRAY) {
			js_iter it;
			js_iter_init(&it, &root);
			for (int i = 0; i < 8 && js_iter_next(&it, NULL, &v); i++) {
				char path[4] = { (char)('0' + i), 0 };
				js_val x;
				if (js_find(d, size, path, &x) != 0 || x.p != v.p || x.n != v.n)
					abort();
			}
		}
	} else if (size > 0) {
		/* untrusted: bounds and termination only */
		js_val raw = { d[0] == '{' ? JS_OBJECT : JS_ARRAY, d, size };
		js_iter it;
		char buf[16];
		size_t guard = 0;
		js_iter_init(&it, &raw);
		while (js_iter_next(&it, &k, &v)) {
			if (v.p < d || v.p + v.n > d + size || ++guard > size)
				abort();
			js_string(&v, buf, sizeof buf);
			if (k.type == JS_STRING)
				js_key_eq(&k, "a");
		}
		js_get(&raw, "a", &v);
	}
	free(d);
	return 0;
}
