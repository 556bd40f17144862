/* payments/mt.h: strict SWIFT FIN parser for MT103 (plain, STP, REMIT) into pm_payment.
 *
 * Input: one or many FIN messages in one buffer, as banks and tools store them:
 *   - {1:} basic header (F01 application header, or F21 for an ACK/NAK), {2:} application header
 *     (input "I103..." or output "O103..."), optional {3:} user header ({103:} {108:} {111:} {113:}
 *     {119:STP|REMIT} {121:UETR} ...), {4: CRLF :tag:value lines ... CRLF -} text block, optional
 *     {5:} trailer and {S:} system block; CRLF or LF line ends; line breaks between blocks allowed;
 *   - RJE files: messages separated by '$' (on its own line or right after the message);
 *   - a message preceded by its ACK/NAK {1:F21...}{4:{177:...}{451:0}}: 451:0 accepts the original
 *     that follows, 451:1 (NAK) refuses it.
 * Each message yields exactly one sink call: a validated pm_payment (mapping in README.md), or a
 * pm_error naming the reason code (FF01 format, AM03 currency, AM01 zero amount, RC01 BIC, AC01
 * account, DT01 date), the field (MT tag such as "32A", or "block1".."block5", "rje", "ack") and the
 * 1-based line. Only MT103 is tokenizable: any other message type is refused by name.
 *
 * Memory: nothing allocates; the pm_payment / pm_error handed to the sink live on the parser's stack
 * for the duration of the call. The buffer needs no NUL terminator. */
#ifndef OB_PAYMENTS_MT_H
#define OB_PAYMENTS_MT_H

#include <stddef.h>

#include "payments/payment.h"

/* Parses every message in buf[0..len). Returns 0 when the whole buffer was read (refused messages
 * were reported to the sink), or the first non-zero value the sink returned (parsing stops there). */
int pm_mt_parse(const char *buf, size_t len, pm_sink sink, void *ctx);

#endif
