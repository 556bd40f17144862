/* gen_vectors: (re)generates the golden vectors of schemas/vectors/ from their "json" views.
 *
 * Not built by the Makefile on purpose: vectors are generated ONCE and checked in, and the tests
 * (schemas/schema_test.c) then hold every later build to them. Run it only when adding a vector or
 * a field (and review the diff):
 *   cc -std=gnu11 -I. schemas/vectors/gen_vectors.c build/lib/libschemas.a $(pkg-config --libs msgpack jansson) \
 *      -o /tmp/gen_vectors && /tmp/gen_vectors schemas/vectors/[a-z]*.json
 * For each vector of each file it parses "json", encodes it, writes "hex", and replaces "json"
 * with the full JSON view of the decoded record (every field, zeros included). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/messages.h"
#include "schemas/schema.h"

int
main(int argc, char **argv)
{
	for (int a = 1; a < argc; a++) {
		json_error_t je;
		json_t *root = json_load_file(argv[a], 0, &je);
		if (!root || !json_is_array(root)) {
			fprintf(stderr, "%s: %s\n", argv[a], root ? "not an array" : je.text);
			return 1;
		}
		size_t i;
		json_t *vec;
		json_array_foreach(root, i, vec)
		{
			const char *type = json_string_value(json_object_get(vec, "type"));
			const sc_msgdef *d = sc_lookup(type ? type : "");
			sc_err e;
			static uint8_t buf[SC_MAX_BODY];
			size_t len;
			void *rec = calloc(1, d ? sc_size(d) : 1);
			if (!d || sc_from_json(d, json_object_get(vec, "json"), rec, &e) ||
			    sc_encode(d, rec, buf, sizeof buf, &len, &e)) {
				fprintf(stderr, "%s[%zu]: %s\n", argv[a], i, d ? e.text : "unknown type");
				return 1;
			}
			char *hex = malloc(len * 2 + 1);
			for (size_t k = 0; k < len; k++)
				sprintf(hex + 2 * k, "%02x", buf[k]);
			hex[len * 2] = 0;
			json_object_set_new(vec, "json", sc_to_json(d, rec));
			json_object_set_new(vec, "hex", json_string(hex));
			free(hex);
			free(rec);
		}
		if (json_dump_file(root, argv[a], JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
			fprintf(stderr, "%s: write failed\n", argv[a]);
			return 1;
		}
		json_decref(root);
	}
	return 0;
}
