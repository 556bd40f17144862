/* payments/pacs002.h: the tokenizer's answer to one payment, as an ISO 20022 pacs.002.001.10
 * FIToFIPmtStsRpt (FI to FI payment status report) with one TxInfAndSts.
 *
 * Shape (element order as in the schema):
 *   Document(xmlns=urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10)/FIToFIPmtStsRpt
 *     GrpHdr/{MsgId, CreDtTm}
 *     TxInfAndSts/{OrgnlGrpInf/{OrgnlMsgId, OrgnlMsgNmId}, [OrgnlInstrId], [OrgnlEndToEndId],
 *                  [OrgnlUETR], TxSts, [StsRsnInf/{[Rsn/Cd], AddtlInf*}],
 *                  [InstgAgt/FinInstnId/BICFI], [InstdAgt/FinInstnId/BICFI]}
 * AddtlInf is Max105Text: a longer text is split over several AddtlInf (the schema allows any number),
 * cut after a space or at a character boundary, so nothing of it is lost.
 *
 * Memory: pm_status_report is a plain value; pm_pacs002_write writes into the caller's buffer and
 * allocates nothing. */
#ifndef OB_PAYMENTS_PACS002_H
#define OB_PAYMENTS_PACS002_H

#include <stddef.h>

#include "payments/payment.h"

#define PM_PACS002_NS "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"

typedef struct {
	char msg_id[PM_ID_CAP];              /* GrpHdr/MsgId of this report (required) */
	char cre_dt_tm[36];                  /* GrpHdr/CreDtTm, ISODateTime "2026-12-06T09:40:19Z"; "" = now (UTC) */
	char orgnl_msg_id[PM_ID_CAP];        /* OrgnlGrpInf/OrgnlMsgId (required) */
	char orgnl_msg_nm_id[PM_MSGDEF_CAP]; /* OrgnlGrpInf/OrgnlMsgNmId: "pacs.008.001.08", "MT103" (required) */
	char orgnl_instr_id[PM_ID_CAP];      /* "" = omitted */
	char orgnl_end_to_end_id[PM_ID_CAP]; /* "" = omitted */
	char orgnl_uetr[PM_UETR_CAP];        /* "" = omitted; else a lowercase UUIDv4 */
	char tx_sts[5];                      /* ACTC, ACSP, ACSC, PDNG or RJCT */
	char reason[5];                      /* StsRsnInf/Rsn/Cd: required for RJCT, "" = none */
	char addtl_inf[400];                 /* StsRsnInf/AddtlInf, UTF-8; "" = none */
	char instg_agt_bic[PM_BIC_CAP];      /* TxInfAndSts/InstgAgt: who sends this report; "" = omitted */
	char instd_agt_bic[PM_BIC_CAP];      /* TxInfAndSts/InstdAgt: who receives it; "" = omitted */
} pm_status_report;

/* Fills the Orgnl* fields and the agents from a payment we received: the report goes back, so its
 * instructing agent is the payment's instructed agent and the other way round. Leaves msg_id,
 * cre_dt_tm, tx_sts, reason and addtl_inf to the caller (zeroes them). */
void pm_status_from_payment(pm_status_report *r, const pm_payment *p);

/* The same for a refused payment: Orgnl* ids from the error, TxSts RJCT, reason and AddtlInf from
 * e->reason and "<field>: <text>". The agents are unknown here: set them if the caller knows them. */
void pm_status_from_error(pm_status_report *r, const pm_error *e);

/* Writes the report as UTF-8 XML (with an XML declaration, two-space indentation, a final newline)
 * into out[0..cap). Returns its length (out is NUL-terminated), or -1 with a reason in err (errlen
 * bytes) when a field would make the report invalid (missing, too long, not the pattern its schema
 * type asks, characters XML cannot carry) or cap is too small. */
int pm_pacs002_write(const pm_status_report *r, char *out, size_t cap, char *err, size_t errlen);

#endif
