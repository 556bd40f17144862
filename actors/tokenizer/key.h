/* key.h - what makes two payment messages the same payment (the key) and the same content (the hash).
 *
 * Key rule:
 *   1. the UETR when the payment carries one (pacs.008/pain.001 PmtId/UETR, MT103 block 3 {121:}), in
 *      its canonical lowercase form: an MT103 and a pacs.008 with the same UETR are ONE payment;
 *   2. else "<BIC>/<value date>/<reference>": BIC = instructing agent (MT sender, InstgAgt, BAH Fr),
 *      else the debtor agent, as BIC8 when the branch is XXX; value date YYYY-MM-DD ("-" when the
 *      message has none); reference = InstrId (MT :20:), else EndToEndId unless NOTPROVIDED. A
 *      payment with neither a BIC nor a reference has no key and is refused (NARR): a key is never
 *      made up from content, since real traffic reuses :20: references across payments;
 *   3. a token.request from the bus (JSON source format): its idempotency_key when it is a UETR,
 *      else "json/-/<idempotency_key>" (1..30 characters).
 * The key id is the first 16 bytes of SHA-256("oraclebus/payment-key" NUL key): the LMDB key, the
 * outbox and token.request frame id, and the <id> of GET /payments/<id> (32 hex digits).
 *
 * Content hash: SHA-256 over the economically relevant fields, each length-prefixed: the operation
 * kind, currency, amount (trailing fraction zeros dropped, so 100.00 == 100), debtor and creditor
 * account (normalized like the configuration's ids). Same key + same hash = duplicate; same key +
 * another hash = conflict (AM05).
 *
 * Memory: plain values, nothing allocates. */
#ifndef OB_ACTORS_TOKENIZER_KEY_H
#define OB_ACTORS_TOKENIZER_KEY_H

#include <stdint.h>

#include "payments/payment.h"

#define TK_KEY_CAP 80 /* sc_token_request.idempotency_key */

/* 0, or -1 with e filled (NARR: no key can be formed). */
int tk_key(const pm_payment *p, char key[TK_KEY_CAP], pm_error *e);
void tk_key_id(const char *key, uint8_t id[16]);
void tk_content_hash(const pm_payment *p, int kind, uint8_t out[32]);
/* 1 when s is a canonical lowercase UUID (8-4-4-4-12 hex). */
int tk_is_uetr(const char *s);

#endif
