/* frame_json: JSON view of a frame (see frame_json.h). */
#include "bus/frame_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "schemas/schema.h"

json_t *
frame_json_u64(uint64_t v)
{
	char buf[24];
	if (v <= FRAME_JSON_SAFE_INT)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	return json_string(buf);
}

json_t *
frame_json_hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 3);
	if (s == NULL)
		return NULL;
	hex_encode(p, n, 1, s);
	json_t *j = json_stringn(s, 2 * n + 2);
	free(s);
	return j;
}

/* json_object_set_new that reports a NULL value (out of memory) instead of dropping it quietly. */
static int
fj_set(json_t *o, const char *k, json_t *v)
{
	return v == NULL || json_object_set_new(o, k, v) != 0 ? -1 : 0;
}

/* {"index", "count", "path": ["0x<sibling>", ...]}: where a frame sits in the window its signature
 * signs (frame.h element 9), leaf level first. */
static json_t *
fj_window(const frame_view *f)
{
	json_t *w = json_object(), *path = json_array();
	int bad = w == NULL || path == NULL;
	for (size_t i = 0; !bad && i + 32 <= f->win_path_len; i += 32) {
		json_t *h = frame_json_hex(f->win_path + i, 32);
		bad = h == NULL || json_array_append_new(path, h) != 0;
	}
	if (!bad) {
		bad |= fj_set(w, "index", json_integer(f->win_index));
		bad |= fj_set(w, "count", json_integer(f->win_count));
		bad |= fj_set(w, "path", path);
		path = NULL;
	}
	json_decref(path);
	if (bad) {
		json_decref(w);
		return NULL;
	}
	return w;
}

int
frame_json_add(json_t *o, const frame_view *f)
{
	char type[FRAME_TYPE_MAX + 1];
	int bad = 0;
	bad |= fj_set(o, "topic", json_stringn(f->topic, f->topic_len));
	bad |= fj_set(o, "type", json_stringn(f->type, f->type_len));
	bad |= fj_set(o, "id", frame_json_hex(f->id, 16));
	bad |= fj_set(o, "origin", json_stringn(f->origin, f->origin_len));
	bad |= fj_set(o, "seq", frame_json_u64(f->seq));
	bad |= fj_set(o, "ts", frame_json_u64(f->ts_ns));
	bad |= fj_set(o, "signed", json_boolean(f->key != NULL));
	if (f->key != NULL)
		bad |= fj_set(o, "key", frame_json_hex(f->key, 32));
	if (f->win_count != 0)
		bad |= fj_set(o, "window", fj_window(f));

	size_t tl = f->type_len < FRAME_TYPE_MAX ? f->type_len : FRAME_TYPE_MAX; /* frame_decode bounds it */
	memcpy(type, f->type, tl);
	type[tl] = '\0';
	const sc_msgdef *def = sc_lookup(type);
	sc_err se = { "" };
	json_t *body = def ? sc_body_to_json(def, f->body, f->body_len, &se) : NULL;
	if (body != NULL)
		return bad | fj_set(o, "body", body);
	bad |= fj_set(o, "body_hex", frame_json_hex(f->body, f->body_len));
	if (def != NULL) /* a known type that does not decode is worth saying why */
		bad |= fj_set(o, "body_error", json_string(se.text));
	return bad;
}
