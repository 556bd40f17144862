/* payments/iso20022.h: the ISO 20022 XML reader of the tokenizer (pacs.008 and pain.001).
 *
 * pm_xml_parse reads one XML message and hands every credit transfer in it to a pm_sink as a
 * pm_payment (payment.h), or as a pm_error when that transaction is refused. It accepts a bare
 * <Document>, or a Business Application Header envelope: an <AppHdr> (head.001.001.NN) and a
 * <Document> inside any wrapper elements (<Envelope>, <BusMsgEnvlp>, <RequestPayload>, ...).
 * It dispatches on the Document's namespace, never on the AppHdr's MsgDefIdr (public samples disagree):
 *   urn:iso:std:iso:20022:tech:xsd:pacs.008.001.NN  with NN >= 08   (FIToFICstmrCdtTrf)
 *   urn:iso:std:iso:20022:tech:xsd:pain.001.001.NN  with NN >= 09   (CstmrCdtTrfInitn)
 * Anything else is refused naming the namespace.
 *
 * Security: libxml2 is driven as a SAX parser that builds no tree, with XML_PARSE_NONET and without
 * XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE. Any DOCTYPE is refused the moment the parser
 * sees it (before an internal subset or external identifier is read), so no entity is ever declared,
 * expanded or fetched. The input size, element depth and element count are capped (pm_xml_limits).
 * A message is all or nothing at the XML level: payments are handed to the sink only after the whole
 * document has been read and found well-formed and within the limits; a refused message gives the sink
 * exactly one pm_error (reason FF01 unless said otherwise) and no payment.
 *
 * Errors name the element path ("CdtTrfTxInf/PmtId/UETR") and the 1-based line of the parser when it
 * met the problem. Amounts are read exactly with pm_amount_parse (no floating point). Here the reader
 * checks the shape of each value (lengths, patterns, codes the schema lists); then every payment goes
 * through pm_payment_validate (validate.h: currency and minor units, BIC, IBAN, calendar dates, the UETR
 * CBPR+ asks for, ...), so the sink sees only payments that passed, and a pm_error for the others.
 *
 * Memory: the input is only read during the call. pm_payment / pm_error values handed to the sink live
 * only for the duration of that call. The reader allocates (libxml2's parser context and a buffer of the
 * transactions read so far) and frees everything before it returns. Thread-safe: no global state is
 * changed (xmlInitParser is called, which is idempotent; call it once from the main thread before
 * starting threads, as libxml2 asks). */
#ifndef OB_PAYMENTS_ISO20022_H
#define OB_PAYMENTS_ISO20022_H

#include <stddef.h>

#include "payments/payment.h"

typedef struct {
	size_t max_bytes;      /* input size; default 4 MiB */
	unsigned max_depth;    /* element nesting; default 64 (clamped to 256, libxml2's own limit) */
	unsigned max_elements; /* elements in the whole document; default 100000 */
} pm_xml_limits;

#define PM_XML_MAX_BYTES    (4u << 20)
#define PM_XML_MAX_DEPTH    64u
#define PM_XML_MAX_ELEMENTS 100000u

/* pm_xml_parse's result when the whole message was refused (the sink got one pm_error). */
#define PM_XML_REFUSED (-1)

/* Reads buf[0..len). lim NULL (or any field 0) means the defaults above.
 * Returns 0 when the message was read (every transaction went to the sink as a payment or an error),
 * PM_XML_REFUSED when the whole message was refused, or the sink's non-zero return if it stopped. */
int pm_xml_parse(const char *buf, size_t len, const pm_xml_limits *lim, pm_sink sink, void *ctx);

#endif
