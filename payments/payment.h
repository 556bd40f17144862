/* payments/payment.h: one customer credit transfer, whatever format it arrived in.
 *
 * The tokenizer accepts ISO 20022 XML (pacs.008 FIToFICstmrCdtTrf, pain.001 CstmrCdtTrfInitn, with or
 * without the Business Application Header) and SWIFT FIN MT103 text. Each parser (mt.h, iso20022.h)
 * turns every payment it finds into one pm_payment and hands it to a pm_sink callback, or hands the
 * sink a pm_error naming the ISO 20022 reason code, the field and the line/offset of the problem.
 * Everything downstream (key rule, mapping to a token operation, pacs.002) reads only pm_payment.
 *
 * Amounts are exact decimals (pm_amount, amount.h): no floating point anywhere.
 *
 * Memory: pm_payment and pm_error are plain values with fixed-size, NUL-terminated text fields; a
 * parser owns the one it passes to the sink only for the duration of the call (copy what you keep).
 * Nothing here allocates. */
#ifndef OB_PAYMENTS_PAYMENT_H
#define OB_PAYMENTS_PAYMENT_H

#include <stddef.h>
#include <stdint.h>

#include "payments/amount.h"

typedef enum {
	PM_FMT_PACS008 = 1, /* ISO 20022 pacs.008.001.08 and later */
	PM_FMT_PAIN001,     /* ISO 20022 pain.001.001.09 and later */
	PM_FMT_MT103,       /* SWIFT FIN MT103 (plain, STP, REMIT) */
	PM_FMT_JSON,        /* a token.request from the bus */
} pm_format;

/* Sizes follow the ISO 20022 data types: Max35Text ids, Max140Text names, Max34Text accounts. */
enum {
	PM_ID_CAP = 36,     /* Max35Text + NUL */
	PM_UETR_CAP = 37,   /* 36 chars, lowercase canonical 8-4-4-4-12, + NUL */
	PM_NAME_CAP = 141,  /* Max140Text + NUL */
	PM_ACCT_CAP = 35,   /* IBAN (<= 34) or Othr/Id (Max34Text) + NUL */
	PM_BIC_CAP = 12,    /* BIC8 or BIC11 + NUL */
	PM_MSGDEF_CAP = 36, /* "pacs.008.001.08" */
};

typedef struct {
	pm_format format;
	char msgdef[PM_MSGDEF_CAP];    /* message definition: "pacs.008.001.08", "pain.001.001.09", "MT103" */
	char msg_id[PM_ID_CAP];        /* GrpHdr/MsgId; MT: :20: */
	char pmt_inf_id[PM_ID_CAP];    /* pain.001 PmtInf/PmtInfId; "" otherwise */
	char instr_id[PM_ID_CAP];      /* PmtId/InstrId; MT: :20: */
	char end_to_end_id[PM_ID_CAP]; /* PmtId/EndToEndId; MT: :70: /ROC/ or "NOTPROVIDED" */
	char tx_id[PM_ID_CAP];         /* PmtId/TxId; "" when absent */
	char uetr[PM_UETR_CAP];        /* PmtId/UETR; MT: block 3 {121:}; "" when absent */
	char ccy[4];                   /* ISO 4217 alphabetic code of the settled amount */
	pm_amount amount;              /* IntrBkSttlmAmt (pacs.008), InstdAmt (pain.001), :32A: (MT) */
	char value_date[11];           /* YYYY-MM-DD: IntrBkSttlmDt / ReqdExctnDt / :32A: date; "" if none */
	char debtor_name[PM_NAME_CAP];
	char debtor_account[PM_ACCT_CAP];  /* IBAN, else Othr/Id; MT: the /account line of :50a: */
	char debtor_agent_bic[PM_BIC_CAP]; /* DbtrAgt; MT: :52A: or the sender's BIC */
	char creditor_name[PM_NAME_CAP];
	char creditor_account[PM_ACCT_CAP];  /* IBAN, else Othr/Id; MT: the /account line of :59a: */
	char creditor_agent_bic[PM_BIC_CAP]; /* CdtrAgt; MT: :57A: or the receiver's BIC */
	char instg_agent_bic[PM_BIC_CAP];    /* InstgAgt / BAH Fr; MT: sender (block 2 output / block 1) */
	char instd_agent_bic[PM_BIC_CAP];    /* InstdAgt / BAH To; MT: receiver */
	char charge_bearer[5];               /* DEBT, CRED, SHAR, SLEV; MT :71A: OUR/BEN/SHA mapped */
	char remittance[PM_NAME_CAP];        /* RmtInf/Ustrd (first line); MT :70: */
	char variant[8];                     /* MT: "", "STP" or "REMIT" (block 3 {119:}) */
	char biz_svc[PM_ID_CAP];             /* BAH BizSvc ("swift.cbprplus.03"); "" when absent or MT.
	                                            CBPR+ ("swift.cbprplus.*") makes the UETR mandatory */
	uint32_t line;                       /* 1-based line where this payment starts in the input */
	uint32_t offset;                     /* byte offset where it starts */
} pm_payment;

/* A refusal: what, where, and the ISO 20022 external status reason code a pacs.002 RJCT carries
 * (FF01 invalid format, AM03 currency, AM01 zero amount, RC01 BIC, AC01 account, DT01 date, ...). */
typedef struct {
	char reason[5];           /* ISO external status reason code, e.g. "FF01" */
	char field[48];           /* "32A", "GrpHdr/MsgId", "CdtTrfTxInf/IntrBkSttlmAmt", "xml", "block4" */
	uint32_t line;            /* 1-based, 0 when unknown */
	uint32_t offset;          /* byte offset in the input */
	char text[200];           /* human text: "amount has 3 decimals, EUR allows 2" */
	char msg_id[PM_ID_CAP];   /* the message's id when it was read before the error, else "" */
	char instr_id[PM_ID_CAP]; /* the transaction's ids when known (for the pacs.002 RJCT) */
	char end_to_end_id[PM_ID_CAP];
	char uetr[PM_UETR_CAP];
	char msgdef[PM_MSGDEF_CAP];
} pm_error;

/* Called once per payment (p != NULL, e == NULL) or per refused payment/message (p == NULL).
 * Return 0 to go on, non-zero to stop the parser (which then returns that value). */
typedef int (*pm_sink)(void *ctx, const pm_payment *p, const pm_error *e);

/* Fills e (zeroing it first). */
void pm_error_set(pm_error *e, const char *reason, const char *field, uint32_t line, uint32_t offset, const char *fmt,
                  ...) __attribute__((format(printf, 6, 7)));

#endif
