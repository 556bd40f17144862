/* intake.h - from raw message bytes to prepared payments, and from outcomes to answers.
 *
 * Format detection (tk_detect): by content, Content-Type only breaking ties. After a UTF-8 BOM and
 * white space: '<' is ISO 20022 XML (with or without the Business Application Header); "{1:", "{2:"
 * ... "{5:", ':' or '$' (RJE separators) is SWIFT FIN (MT103, several messages RJE-style, ACK-wrapped);
 * '{' followed by '"' or white space is a JSON token.request (sc_from_json); anything else is refused
 * (FF01). A Content-Type naming another format than the content is logged by the caller, never
 * obeyed: the content decides.
 *
 * A batch (tk_batch) holds one entry per payment found and one per refusal the parser reported (a
 * whole refused message is one entry), in input order; each is a tk_item (core.h) already prepared
 * (key, mapping, hash) or refused.
 *
 * Answers: tk_render renders a batch after tk_commit as the HTTP/status-file JSON and picks the HTTP
 * status; tk_rec_json renders one stored payment; tk_pacs002_rec / tk_pacs002_err write the pacs.002.
 *
 * Memory: a tk_batch owns its items (tk_batch_free). Renderers append to the caller's rt_buf. */
#ifndef OB_ACTORS_TOKENIZER_INTAKE_H
#define OB_ACTORS_TOKENIZER_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "actors/tokenizer/config.h"
#include "actors/tokenizer/core.h"
#include "base/rt_buf.h"
#include "payments/iso20022.h"
#include "schemas/messages.h"

enum {
	TK_IN_UNKNOWN,
	TK_IN_XML,
	TK_IN_MT,
	TK_IN_JSON
};

typedef struct {
	tk_item **items;
	size_t n, cap;
	int format; /* TK_IN_* of the input */
	int oom;
} tk_batch;

int tk_detect(const uint8_t *b, size_t n, const char *ctype);
const char *tk_in_name(int in); /* "xml", "mt", "json", "unknown" (metric label) */

/* Parses body into b (appending), preparing every payment against c. received_ns is the intake time.
 * Returns the number of entries added (payments and refusals), or -1 on out of memory. */
int tk_batch_parse(tk_batch *b, const tk_config *c, const uint8_t *body, size_t len, const char *ctype,
                   const pm_xml_limits *lim, uint64_t received_ns);
/* A token.request published on the bus by another system (JSON source format): one entry. */
int tk_batch_add_request(tk_batch *b, const tk_config *c, const sc_token_request *q, uint64_t received_ns);
void tk_batch_free(tk_batch *b);

/* A payment from a token.request: 0, or -1 with e (FF01 field / AM03 currency / AC01 account ...). */
int tk_payment_from_request(const tk_config *c, const sc_token_request *q, pm_payment *p, pm_error *e);

/* JSON answer for a committed batch; returns the HTTP status: 202 when at least one payment is new,
 * 200 when all are known duplicates, else 409 (a conflict), 400 (malformed: FF01) or 422 (refused). */
int tk_render(const tk_batch *b, rt_buf *out);
void tk_rec_json(const tk_rec *r, rt_buf *out);

/* pacs.002.001.10 of a stored payment's state / of a refusal. Length, or -1 with err. */
int tk_pacs002_rec(const tk_rec *r, char *out, size_t cap, char *err, size_t errlen);
int tk_pacs002_err(const pm_error *e, const char *instg_bic, const char *instd_bic, char *out, size_t cap, char *err,
                   size_t errlen);
/* ACTC (accepted), ACSP (pending), PDNG (pending with a retryable backend problem), ACSC (confirmed),
 * RJCT (failed). */
const char *tk_tx_status(const tk_rec *r);

#endif
