/* payments/iso20022.c: pacs.008 / pain.001 reader on libxml2's SAX2 interface (see iso20022.h).
 *
 * Why SAX and not a tree: no tree is built, so the reader costs less than a bare xmlReadMemory of the
 * same bytes, and the depth / element limits are enforced while parsing (the parser is stopped at the
 * first element over a limit, before anything behind it is read).
 *
 * How: every open element gets a state. States form a small trie over the element paths we read
 * (px_edges: from-state, element name, to-state); an element with no edge gets PX_SKIP and so does its
 * whole subtree, at the cost of one comparison per element. A state may capture its text into one field
 * of the payment being built. Transactions are kept in a buffer and handed to the sink only once the
 * whole document has been read: a message is refused as a whole or not at all. */
#include "payments/iso20022.h"

#include "payments/validate.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PX_NS_PREFIX "urn:iso:std:iso:20022:tech:xsd:"
#define PX_DEPTH_CAP 256u
#define PX_TEXT_CAP  600 /* > 4 x 140: a longer UTF-8 text has more than 140 characters */

/* ---- element names ------------------------------------------------------------------------- */

/* Sorted (strcmp order) so px_name can bsearch; iso20022_test checks the order. */
static const char *const px_names[] = {
	"Amt",
	"AppHdr",
	"BICFI",
	"BizMsgIdr",
	"BizSvc",
	"CdtTrfTxInf",
	"Cdtr",
	"CdtrAcct",
	"CdtrAgt",
	"ChrgBr",
	"CstmrCdtTrfInitn",
	"Dbtr",
	"DbtrAcct",
	"DbtrAgt",
	"Document",
	"Dt",
	"DtTm",
	"EndToEndId",
	"EqvtAmt",
	"FIId",
	"FIToFICstmrCdtTrf",
	"FinInstnId",
	"Fr",
	"GrpHdr",
	"IBAN",
	"Id",
	"InstdAgt",
	"InstdAmt",
	"InstgAgt",
	"InstrId",
	"IntrBkSttlmAmt",
	"IntrBkSttlmDt",
	"MsgId",
	"NbOfTxs",
	"Nm",
	"Othr",
	"PmtId",
	"PmtInf",
	"PmtInfId",
	"ReqdExctnDt",
	"RmtInf",
	"To",
	"TxId",
	"UETR",
	"Ustrd",
};
enum {
	N_Amt = 1,
	N_AppHdr,
	N_BICFI,
	N_BizMsgIdr,
	N_BizSvc,
	N_CdtTrfTxInf,
	N_Cdtr,
	N_CdtrAcct,
	N_CdtrAgt,
	N_ChrgBr,
	N_CstmrCdtTrfInitn,
	N_Dbtr,
	N_DbtrAcct,
	N_DbtrAgt,
	N_Document,
	N_Dt,
	N_DtTm,
	N_EndToEndId,
	N_EqvtAmt,
	N_FIId,
	N_FIToFICstmrCdtTrf,
	N_FinInstnId,
	N_Fr,
	N_GrpHdr,
	N_IBAN,
	N_Id,
	N_InstdAgt,
	N_InstdAmt,
	N_InstgAgt,
	N_InstrId,
	N_IntrBkSttlmAmt,
	N_IntrBkSttlmDt,
	N_MsgId,
	N_NbOfTxs,
	N_Nm,
	N_Othr,
	N_PmtId,
	N_PmtInf,
	N_PmtInfId,
	N_ReqdExctnDt,
	N_RmtInf,
	N_To,
	N_TxId,
	N_UETR,
	N_Ustrd,
};

static int
px_cmp(const void *k, const void *e)
{
	return strcmp((const char *)k, *(const char *const *)e);
}

/* 0 for a name we never read. Exported to the test through iso20022_names_sorted below. */
static int
px_name(const xmlChar *n)
{
	const char *const *e = bsearch(n, px_names, sizeof px_names / sizeof px_names[0], sizeof px_names[0], px_cmp);
	return e ? (int)(e - px_names) + 1 : 0;
}

/* For iso20022_test only (not in the header): 1 when px_names is in strcmp order. */
int pm_xml_names_sorted(void);
int
pm_xml_names_sorted(void)
{
	for (size_t i = 1; i < sizeof px_names / sizeof px_names[0]; i++)
		if (strcmp(px_names[i - 1], px_names[i]) >= 0)
			return 0;
	return 1;
}

/* ---- states and fields ------------------------------------------------------------------------ */

enum {
	PX_SKIP = 0,
	PX_OUTER,
	/* Business Application Header */
	PX_AH,
	PX_AH_FR,
	PX_AH_FR_FIID,
	PX_AH_FR_FIN,
	PX_AH_FR_BIC,
	PX_AH_TO,
	PX_AH_TO_FIID,
	PX_AH_TO_FIN,
	PX_AH_TO_BIC,
	PX_AH_BIZ,
	PX_AH_SVC,
	/* Document roots */
	PX_DOC8,
	PX_DOC1,
	PX_P8,
	PX_P1,
	/* group header */
	PX_GH,
	PX_GH_MSGID,
	PX_GH_NB,
	PX_GH_DATE,
	PX_GH_INSTG,
	PX_GH_INSTG_FIN,
	PX_GH_INSTG_BIC,
	PX_GH_INSTD,
	PX_GH_INSTD_FIN,
	PX_GH_INSTD_BIC,
	/* pain.001 payment information */
	PX_PI,
	PX_PI_ID,
	PX_PI_DATE,
	PX_PI_DT,
	PX_PI_DTTM,
	PX_PI_CHRGBR,
	PX_PI_DBTR,
	PX_PI_DBTR_NM,
	PX_PI_DACCT,
	PX_PI_DACCT_ID,
	PX_PI_DACCT_IBAN,
	PX_PI_DACCT_OTHR,
	PX_PI_DACCT_OTHR_ID,
	PX_PI_DAGT,
	PX_PI_DAGT_FIN,
	PX_PI_DAGT_BIC,
	/* a transaction (CdtTrfTxInf) of either message */
	PX_TX8,
	PX_TX1,
	PX_PMTID,
	PX_INSTRID,
	PX_E2E,
	PX_TXID,
	PX_UETR,
	PX_AMT,
	PX_AMTCH,
	PX_EQVT,
	PX_DATE,
	PX_CHRGBR,
	PX_INSTG,
	PX_INSTG_FIN,
	PX_INSTG_BIC,
	PX_INSTD,
	PX_INSTD_FIN,
	PX_INSTD_BIC,
	PX_DBTR,
	PX_DBTR_NM,
	PX_DACCT,
	PX_DACCT_ID,
	PX_DACCT_IBAN,
	PX_DACCT_OTHR,
	PX_DACCT_OTHR_ID,
	PX_DAGT,
	PX_DAGT_FIN,
	PX_DAGT_BIC,
	PX_CDTR,
	PX_CDTR_NM,
	PX_CACCT,
	PX_CACCT_ID,
	PX_CACCT_IBAN,
	PX_CACCT_OTHR,
	PX_CACCT_OTHR_ID,
	PX_CAGT,
	PX_CAGT_FIN,
	PX_CAGT_BIC,
	PX_RMT,
	PX_USTRD,
	PX_NSTATES
};

/* What a state's text is read into. */
enum {
	F_NONE = 0,
	F_AH_FR,
	F_AH_TO,
	F_AH_BIZ,
	F_AH_SVC,
	F_MSGID,
	F_NBOFTXS,
	F_GH_DATE,
	F_GH_INSTG,
	F_GH_INSTD,
	F_PMTINFID,
	F_INSTRID,
	F_E2E,
	F_TXID,
	F_UETR,
	F_AMT,
	F_DATE,
	F_DTTM,
	F_CHRGBR,
	F_INSTG,
	F_INSTD,
	F_DBTR_NM,
	F_DBTR_ACCT,
	F_DBTR_BIC,
	F_CDTR_NM,
	F_CDTR_ACCT,
	F_CDTR_BIC,
	F_USTRD,
	F_EQVT,
};

typedef struct {
	uint8_t from, name, to;
} px_edge;

/* The paths we read. PX_OUTER -> PX_AH / PX_DOC8 / PX_DOC1 are decided in code (namespaces). */
static const px_edge px_edges[] = {
	{ PX_AH, N_Fr, PX_AH_FR },
	{ PX_AH_FR, N_FIId, PX_AH_FR_FIID },
	{ PX_AH_FR_FIID, N_FinInstnId, PX_AH_FR_FIN },
	{ PX_AH_FR_FIN, N_BICFI, PX_AH_FR_BIC },
	{ PX_AH, N_To, PX_AH_TO },
	{ PX_AH_TO, N_FIId, PX_AH_TO_FIID },
	{ PX_AH_TO_FIID, N_FinInstnId, PX_AH_TO_FIN },
	{ PX_AH_TO_FIN, N_BICFI, PX_AH_TO_BIC },
	{ PX_AH, N_BizMsgIdr, PX_AH_BIZ },
	{ PX_AH, N_BizSvc, PX_AH_SVC },

	{ PX_DOC8, N_FIToFICstmrCdtTrf, PX_P8 },
	{ PX_DOC1, N_CstmrCdtTrfInitn, PX_P1 },
	{ PX_P8, N_GrpHdr, PX_GH },
	{ PX_P1, N_GrpHdr, PX_GH },
	{ PX_GH, N_MsgId, PX_GH_MSGID },
	{ PX_GH, N_NbOfTxs, PX_GH_NB },
	{ PX_GH, N_IntrBkSttlmDt, PX_GH_DATE },
	{ PX_GH, N_InstgAgt, PX_GH_INSTG },
	{ PX_GH_INSTG, N_FinInstnId, PX_GH_INSTG_FIN },
	{ PX_GH_INSTG_FIN, N_BICFI, PX_GH_INSTG_BIC },
	{ PX_GH, N_InstdAgt, PX_GH_INSTD },
	{ PX_GH_INSTD, N_FinInstnId, PX_GH_INSTD_FIN },
	{ PX_GH_INSTD_FIN, N_BICFI, PX_GH_INSTD_BIC },

	{ PX_P8, N_CdtTrfTxInf, PX_TX8 },
	{ PX_P1, N_PmtInf, PX_PI },
	{ PX_PI, N_PmtInfId, PX_PI_ID },
	{ PX_PI, N_ReqdExctnDt, PX_PI_DATE },
	{ PX_PI_DATE, N_Dt, PX_PI_DT },
	{ PX_PI_DATE, N_DtTm, PX_PI_DTTM },
	{ PX_PI, N_ChrgBr, PX_PI_CHRGBR },
	{ PX_PI, N_Dbtr, PX_PI_DBTR },
	{ PX_PI_DBTR, N_Nm, PX_PI_DBTR_NM },
	{ PX_PI, N_DbtrAcct, PX_PI_DACCT },
	{ PX_PI_DACCT, N_Id, PX_PI_DACCT_ID },
	{ PX_PI_DACCT_ID, N_IBAN, PX_PI_DACCT_IBAN },
	{ PX_PI_DACCT_ID, N_Othr, PX_PI_DACCT_OTHR },
	{ PX_PI_DACCT_OTHR, N_Id, PX_PI_DACCT_OTHR_ID },
	{ PX_PI, N_DbtrAgt, PX_PI_DAGT },
	{ PX_PI_DAGT, N_FinInstnId, PX_PI_DAGT_FIN },
	{ PX_PI_DAGT_FIN, N_BICFI, PX_PI_DAGT_BIC },
	{ PX_PI, N_CdtTrfTxInf, PX_TX1 },

	/* pacs.008 CreditTransferTransaction */
	{ PX_TX8, N_PmtId, PX_PMTID },
	{ PX_TX8, N_IntrBkSttlmAmt, PX_AMT },
	{ PX_TX8, N_IntrBkSttlmDt, PX_DATE },
	{ PX_TX8, N_ChrgBr, PX_CHRGBR },
	{ PX_TX8, N_InstgAgt, PX_INSTG },
	{ PX_INSTG, N_FinInstnId, PX_INSTG_FIN },
	{ PX_INSTG_FIN, N_BICFI, PX_INSTG_BIC },
	{ PX_TX8, N_InstdAgt, PX_INSTD },
	{ PX_INSTD, N_FinInstnId, PX_INSTD_FIN },
	{ PX_INSTD_FIN, N_BICFI, PX_INSTD_BIC },
	{ PX_TX8, N_Dbtr, PX_DBTR },
	{ PX_TX8, N_DbtrAcct, PX_DACCT },
	{ PX_TX8, N_DbtrAgt, PX_DAGT },
	{ PX_TX8, N_CdtrAgt, PX_CAGT },
	{ PX_TX8, N_Cdtr, PX_CDTR },
	{ PX_TX8, N_CdtrAcct, PX_CACCT },
	{ PX_TX8, N_RmtInf, PX_RMT },
	/* pain.001 CreditTransferTransaction */
	{ PX_TX1, N_PmtId, PX_PMTID },
	{ PX_TX1, N_Amt, PX_AMTCH },
	{ PX_AMTCH, N_InstdAmt, PX_AMT },
	{ PX_AMTCH, N_EqvtAmt, PX_EQVT },
	{ PX_TX1, N_ChrgBr, PX_CHRGBR },
	{ PX_TX1, N_CdtrAgt, PX_CAGT },
	{ PX_TX1, N_Cdtr, PX_CDTR },
	{ PX_TX1, N_CdtrAcct, PX_CACCT },
	{ PX_TX1, N_RmtInf, PX_RMT },
	/* shared by both */
	{ PX_PMTID, N_InstrId, PX_INSTRID },
	{ PX_PMTID, N_EndToEndId, PX_E2E },
	{ PX_PMTID, N_TxId, PX_TXID },
	{ PX_PMTID, N_UETR, PX_UETR },
	{ PX_DBTR, N_Nm, PX_DBTR_NM },
	{ PX_DACCT, N_Id, PX_DACCT_ID },
	{ PX_DACCT_ID, N_IBAN, PX_DACCT_IBAN },
	{ PX_DACCT_ID, N_Othr, PX_DACCT_OTHR },
	{ PX_DACCT_OTHR, N_Id, PX_DACCT_OTHR_ID },
	{ PX_DAGT, N_FinInstnId, PX_DAGT_FIN },
	{ PX_DAGT_FIN, N_BICFI, PX_DAGT_BIC },
	{ PX_CDTR, N_Nm, PX_CDTR_NM },
	{ PX_CACCT, N_Id, PX_CACCT_ID },
	{ PX_CACCT_ID, N_IBAN, PX_CACCT_IBAN },
	{ PX_CACCT_ID, N_Othr, PX_CACCT_OTHR },
	{ PX_CACCT_OTHR, N_Id, PX_CACCT_OTHR_ID },
	{ PX_CAGT, N_FinInstnId, PX_CAGT_FIN },
	{ PX_CAGT_FIN, N_BICFI, PX_CAGT_BIC },
	{ PX_RMT, N_Ustrd, PX_USTRD },
};

/* Per state: the field it captures and its path for error messages (relative to the message root). */
typedef struct {
	uint8_t field;
	const char *path;
} px_stinfo;

static const px_stinfo px_st[PX_NSTATES] = {
	[PX_AH_FR_BIC] = { F_AH_FR, "AppHdr/Fr/FIId/FinInstnId/BICFI" },
	[PX_AH_TO_BIC] = { F_AH_TO, "AppHdr/To/FIId/FinInstnId/BICFI" },
	[PX_AH_BIZ] = { F_AH_BIZ, "AppHdr/BizMsgIdr" },
	[PX_AH_SVC] = { F_AH_SVC, "AppHdr/BizSvc" },
	[PX_GH_MSGID] = { F_MSGID, "GrpHdr/MsgId" },
	[PX_GH_NB] = { F_NBOFTXS, "GrpHdr/NbOfTxs" },
	[PX_GH_DATE] = { F_GH_DATE, "GrpHdr/IntrBkSttlmDt" },
	[PX_GH_INSTG_BIC] = { F_GH_INSTG, "GrpHdr/InstgAgt/FinInstnId/BICFI" },
	[PX_GH_INSTD_BIC] = { F_GH_INSTD, "GrpHdr/InstdAgt/FinInstnId/BICFI" },
	[PX_PI_ID] = { F_PMTINFID, "PmtInf/PmtInfId" },
	[PX_PI_DT] = { F_DATE, "PmtInf/ReqdExctnDt/Dt" },
	[PX_PI_DTTM] = { F_DTTM, "PmtInf/ReqdExctnDt/DtTm" },
	[PX_PI_CHRGBR] = { F_CHRGBR, "PmtInf/ChrgBr" },
	[PX_PI_DBTR_NM] = { F_DBTR_NM, "PmtInf/Dbtr/Nm" },
	[PX_PI_DACCT_IBAN] = { F_DBTR_ACCT, "PmtInf/DbtrAcct/Id/IBAN" },
	[PX_PI_DACCT_OTHR_ID] = { F_DBTR_ACCT, "PmtInf/DbtrAcct/Id/Othr/Id" },
	[PX_PI_DAGT_BIC] = { F_DBTR_BIC, "PmtInf/DbtrAgt/FinInstnId/BICFI" },
	[PX_INSTRID] = { F_INSTRID, "CdtTrfTxInf/PmtId/InstrId" },
	[PX_E2E] = { F_E2E, "CdtTrfTxInf/PmtId/EndToEndId" },
	[PX_TXID] = { F_TXID, "CdtTrfTxInf/PmtId/TxId" },
	[PX_UETR] = { F_UETR, "CdtTrfTxInf/PmtId/UETR" },
	[PX_AMT] = { F_AMT, NULL }, /* path depends on the message: px_amt_path */
	[PX_EQVT] = { F_EQVT, "CdtTrfTxInf/Amt/EqvtAmt" },
	[PX_DATE] = { F_DATE, "CdtTrfTxInf/IntrBkSttlmDt" },
	[PX_CHRGBR] = { F_CHRGBR, "CdtTrfTxInf/ChrgBr" },
	[PX_INSTG_BIC] = { F_INSTG, "CdtTrfTxInf/InstgAgt/FinInstnId/BICFI" },
	[PX_INSTD_BIC] = { F_INSTD, "CdtTrfTxInf/InstdAgt/FinInstnId/BICFI" },
	[PX_DBTR_NM] = { F_DBTR_NM, "CdtTrfTxInf/Dbtr/Nm" },
	[PX_DACCT_IBAN] = { F_DBTR_ACCT, "CdtTrfTxInf/DbtrAcct/Id/IBAN" },
	[PX_DACCT_OTHR_ID] = { F_DBTR_ACCT, "CdtTrfTxInf/DbtrAcct/Id/Othr/Id" },
	[PX_DAGT_BIC] = { F_DBTR_BIC, "CdtTrfTxInf/DbtrAgt/FinInstnId/BICFI" },
	[PX_CDTR_NM] = { F_CDTR_NM, "CdtTrfTxInf/Cdtr/Nm" },
	[PX_CACCT_IBAN] = { F_CDTR_ACCT, "CdtTrfTxInf/CdtrAcct/Id/IBAN" },
	[PX_CACCT_OTHR_ID] = { F_CDTR_ACCT, "CdtTrfTxInf/CdtrAcct/Id/Othr/Id" },
	[PX_CAGT_BIC] = { F_CDTR_BIC, "CdtTrfTxInf/CdtrAgt/FinInstnId/BICFI" },
	[PX_USTRD] = { F_USTRD, "CdtTrfTxInf/RmtInf/Ustrd" },
};

/* ---- parser state ---------------------------------------------------------------------------- */

/* One transaction read: the payment, which fields were seen, and its first error if any. */
typedef struct {
	pm_payment p;
	uint32_t seen; /* 1u << F_* */
	int bad;
	pm_error e;
} px_tx;

typedef struct {
	xmlParserCtxtPtr ctxt;
	unsigned max_depth, max_elements;
	unsigned depth, elements;
	uint8_t stack[PX_DEPTH_CAP + 1];
	int stopped;

	/* the message */
	pm_format fmt;
	char msgdef[PM_MSGDEF_CAP];
	char doc_ns[96];
	int docs;      /* Document elements seen */
	int root_seen; /* FIToFICstmrCdtTrf / CstmrCdtTrfInitn */
	char ah_ns[96];
	char ah_fr[PM_BIC_CAP], ah_to[PM_BIC_CAP], ah_biz[PM_ID_CAP], ah_svc[PM_ID_CAP];
	char msg_id[PM_ID_CAP];
	char nb_of_txs[16];
	char gh_date[11], gh_instg[PM_BIC_CAP], gh_instd[PM_BIC_CAP];
	uint32_t gh_seen;
	pm_error fatal; /* the message-level refusal, when fatal_set */
	int fatal_set;

	/* the pain.001 PmtInf being read: its fields, copied into each of its transactions */
	px_tx pi;
	int in_pi;

	/* the transaction being read */
	px_tx tx;
	int in_tx;

	/* text of the capturing element */
	uint8_t cap_state;
	unsigned cap_depth;
	size_t text_len;
	char text[PX_TEXT_CAP + 1];
	char ccy[4];
	int ccy_state; /* 0 none, 1 ok, -1 bad */

	/* transactions read, in document order */
	px_tx *txs;
	size_t ntx, captx;
	int oom;
} px_state;

static uint32_t
px_line(px_state *st)
{
	return st->ctxt && st->ctxt->input ? (uint32_t)st->ctxt->input->line : 0;
}

static uint32_t
px_offset(px_state *st)
{
	long n = st->ctxt ? xmlByteConsumed(st->ctxt) : 0;
	return n > 0 ? (uint32_t)n : 0;
}

static void
px_stop(px_state *st)
{
	st->stopped = 1;
	xmlStopParser(st->ctxt);
}

/* Fills *e: reason, field, where the parser is, and the text. */
__attribute__((format(printf, 5, 0))) static void
px_error_at(px_state *st, pm_error *e, const char *reason, const char *field, const char *fmt, va_list ap)
{
	memset(e, 0, sizeof *e);
	snprintf(e->reason, sizeof e->reason, "%s", reason);
	snprintf(e->field, sizeof e->field, "%s", field);
	e->line = px_line(st);
	e->offset = px_offset(st);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
}

/* The whole message is refused: keep the first reason, stop the parser. */
__attribute__((format(printf, 4, 5))) static void
px_fatal(px_state *st, const char *reason, const char *field, const char *fmt, ...)
{
	if (!st->fatal_set) {
		va_list ap;
		va_start(ap, fmt);
		px_error_at(st, &st->fatal, reason, field, fmt, ap);
		va_end(ap);
		st->fatal_set = 1;
	}
	px_stop(st);
}

/* An error in one transaction (or in the PmtInf that holds it): keep its first one, read on. */
__attribute__((format(printf, 4, 5))) static void
px_txerr(px_state *st, const char *reason, const char *field, const char *fmt, ...)
{
	px_tx *t = st->in_tx ? &st->tx : &st->pi;
	if (t->bad)
		return;
	t->bad = 1;
	va_list ap;
	va_start(ap, fmt);
	px_error_at(st, &t->e, reason, field, fmt, ap);
	va_end(ap);
}

/* ---- text checks ----------------------------------------------------------------------------- */

static size_t
px_utf8_chars(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static int
px_is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/* YYYY-MM-DD (the calendar is validate.h's business). */
static int
px_date_shape(const char *s, size_t n)
{
	return n >= 10 && px_is_digits(s, 4) && s[4] == '-' && px_is_digits(s + 5, 2) && s[7] == '-' &&
	       px_is_digits(s + 8, 2);
}

/* xs:date may carry a time zone: "2021-05-11", "2021-05-11Z", "2021-05-11+01:00". */
static int
px_date_ok(const char *s, size_t n)
{
	if (!px_date_shape(s, n))
		return 0;
	if (n == 10)
		return 1;
	if (n == 11)
		return s[10] == 'Z';
	return n == 16 && (s[10] == '+' || s[10] == '-') && px_is_digits(s + 11, 2) && s[13] == ':' &&
	       px_is_digits(s + 14, 2);
}

/* Copies a Max<max>Text identifier: 1..max characters, and it must fit in cap-1 bytes. */
static int
px_copy_id(px_state *st, const char *path, const char *s, size_t n, size_t max, char *out, size_t cap)
{
	size_t chars = px_utf8_chars(s, n);
	if (n == 0) {
		px_txerr(st, "FF01", path, "%s is empty", path);
		return -1;
	}
	if (chars > max) {
		px_txerr(st, "FF01", path, "%s has %zu characters, at most %zu allowed", path, chars, max);
		return -1;
	}
	if (n >= cap) {
		px_txerr(st, "FF01", path, "%s is %zu bytes of UTF-8, at most %zu supported", path, n, cap - 1);
		return -1;
	}
	memcpy(out, s, n);
	out[n] = 0;
	return 0;
}

/* Copies a Max<max>Text name: at most max characters, cut at a character boundary to fit out. */
static void
px_copy_name(px_state *st, const char *path, const char *s, size_t n, size_t max, char *out, size_t cap)
{
	size_t chars = px_utf8_chars(s, n);
	if (chars > max) {
		px_txerr(st, "FF01", path, "%s has %zu characters, at most %zu allowed", path, chars, max);
		return;
	}
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = 0;
}

static void
px_copy_bic(px_state *st, const char *path, const char *s, size_t n, char *out)
{
	if (n != 8 && n != 11) {
		px_txerr(st, "RC01", path, "%s '%.*s' is not 8 or 11 characters", path, (int)(n > 20 ? 20 : n), s);
		return;
	}
	memcpy(out, s, n);
	out[n] = 0;
}

/* The fields that are plain copies, one row each: how the text is checked (PX_C_ID: an identifier of
 * 1..max characters; PX_C_NAME: a name of at most max characters, cut to fit; PX_C_BIC: 8 or 11
 * characters), and the member it goes to: of px_state for the message-level fields (an error
 * refuses the message), of pm_payment for a transaction's (an error refuses the transaction).
 * px_store does the rest (amounts, dates, codes) by hand. */
enum {
	PX_C_ID = 1,
	PX_C_NAME,
	PX_C_BIC
};
typedef struct {
	uint8_t how, max;
	uint32_t off, cap;
} px_copy;
#define PX_COPY(how, member, max)                                                                                      \
	{                                                                                                              \
		(how), (max), offsetof(pm_payment, member), sizeof(((pm_payment *)0)->member)                          \
	}
#define PX_MCOPY(how, member, max)                                                                                     \
	{                                                                                                              \
		(how), (max), offsetof(px_state, member), sizeof(((px_state *)0)->member)                              \
	}
static const px_copy px_msg_copies[] = {
	[F_AH_FR] = PX_MCOPY(PX_C_BIC, ah_fr, 11),       [F_AH_TO] = PX_MCOPY(PX_C_BIC, ah_to, 11),
	[F_AH_BIZ] = PX_MCOPY(PX_C_ID, ah_biz, 35),      [F_AH_SVC] = PX_MCOPY(PX_C_ID, ah_svc, 35),
	[F_MSGID] = PX_MCOPY(PX_C_ID, msg_id, 35),       [F_GH_INSTG] = PX_MCOPY(PX_C_BIC, gh_instg, 11),
	[F_GH_INSTD] = PX_MCOPY(PX_C_BIC, gh_instd, 11),
};
static const px_copy px_copies[] = {
	[F_PMTINFID] = PX_COPY(PX_C_ID, pmt_inf_id, 35),
	[F_INSTRID] = PX_COPY(PX_C_ID, instr_id, 35),
	[F_E2E] = PX_COPY(PX_C_ID, end_to_end_id, 35),
	[F_TXID] = PX_COPY(PX_C_ID, tx_id, 35),
	[F_DBTR_ACCT] = PX_COPY(PX_C_ID, debtor_account, 34),
	[F_CDTR_ACCT] = PX_COPY(PX_C_ID, creditor_account, 34),
	[F_DBTR_NM] = PX_COPY(PX_C_NAME, debtor_name, 140),
	[F_CDTR_NM] = PX_COPY(PX_C_NAME, creditor_name, 140),
	[F_USTRD] = PX_COPY(PX_C_NAME, remittance, 140),
	[F_INSTG] = PX_COPY(PX_C_BIC, instg_agent_bic, 11),
	[F_INSTD] = PX_COPY(PX_C_BIC, instd_agent_bic, 11),
	[F_DBTR_BIC] = PX_COPY(PX_C_BIC, debtor_agent_bic, 11),
	[F_CDTR_BIC] = PX_COPY(PX_C_BIC, creditor_agent_bic, 11),
};

static const char *
px_amt_path(const px_state *st)
{
	return st->fmt == PM_FMT_PAIN001 ? "CdtTrfTxInf/Amt/InstdAmt" : "CdtTrfTxInf/IntrBkSttlmAmt";
}

/* The text of a capturing element is complete: check it and store it. */
static void
px_store(px_state *st, uint8_t state)
{
	const px_stinfo *si = &px_st[state];
	const char *path = si->path ? si->path : px_amt_path(st);
	char *s = st->text;
	size_t n = st->text_len;
	if (st->text_len > PX_TEXT_CAP) { /* more than 150 characters: longer than any field we read */
		if (si->field == F_USTRD && (st->tx.seen & (1u << F_USTRD)))
			return;
		if (si->field <= F_GH_INSTD)
			px_fatal(st, "FF01", path, "%s is longer than any value it may hold", path);
		else
			px_txerr(st, "FF01", path, "%s is longer than any value it may hold", path);
		return;
	}

	/* XML whitespace around a value is layout, not data (xs:decimal and xs:date collapse it anyway). */
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, n--;

	/* message-level fields: an error refuses the whole message */
	if (si->field == F_MSGID) {
		if (st->gh_seen & (1u << F_MSGID)) {
			px_fatal(st, "FF01", path, "%s appears twice", path);
			return;
		}
		st->gh_seen |= 1u << F_MSGID;
	}
	const px_copy *mc =
	        si->field < sizeof px_msg_copies / sizeof px_msg_copies[0] ? &px_msg_copies[si->field] : NULL;
	if (mc && mc->how) {
		char *out = (char *)st + mc->off;
		if (mc->how == PX_C_BIC && n != 8 && n != 11)
			px_fatal(st, "RC01", path, "%s '%.*s' is not 8 or 11 characters", path, (int)(n > 20 ? 20 : n),
			         s);
		else if (mc->how == PX_C_ID && (n == 0 || px_utf8_chars(s, n) > mc->max || n >= mc->cap))
			px_fatal(st, "FF01", path, "%s must be 1 to %u characters", path, (unsigned)mc->max);
		else {
			memcpy(out, s, n);
			out[n] = 0;
		}
		return;
	}
	switch (si->field) {
	case F_NBOFTXS:
		if (n > 15 || !px_is_digits(s, n)) {
			px_fatal(st, "FF01", path, "%s '%.*s' is not 1 to 15 digits", path, (int)(n > 20 ? 20 : n), s);
			return;
		}
		memcpy(st->nb_of_txs, s, n);
		st->nb_of_txs[n] = 0;
		return;
	case F_GH_DATE:
		if (!px_date_ok(s, n)) {
			px_fatal(st, "DT01", path, "%s '%.*s' is not a date (YYYY-MM-DD)", path, (int)(n > 30 ? 30 : n),
			         s);
			return;
		}
		memcpy(st->gh_date, s, 10);
		st->gh_date[10] = 0;
		return;
	default:
		break;
	}

	/* transaction (or PmtInf) fields */
	px_tx *t = st->in_tx ? &st->tx : &st->pi;
	pm_payment *p = &t->p;
	uint32_t bit = 1u << si->field;
	if (t->seen & bit) {
		if (si->field == F_USTRD) /* unbounded: the first line is the one we keep */
			return;
		px_txerr(st, "FF01", path, "%s appears twice", path);
		return;
	}
	t->seen |= bit;
	const px_copy *c = si->field < sizeof px_copies / sizeof px_copies[0] ? &px_copies[si->field] : NULL;
	if (c && c->how) {
		char *out = (char *)p + c->off;
		if (c->how == PX_C_ID)
			px_copy_id(st, path, s, n, c->max, out, c->cap);
		else if (c->how == PX_C_NAME)
			px_copy_name(st, path, s, n, c->max, out, c->cap);
		else
			px_copy_bic(st, path, s, n, out);
		return;
	}
	switch (si->field) {
	case F_UETR:
		/* the UUIDv4 pattern is validate.h's; here it must at least be a 36-character value */
		if (n != 36) {
			px_txerr(st, "FF01", path, "%s '%.*s' is not a 36-character UUID", path, (int)(n > 40 ? 40 : n),
			         s);
			break;
		}
		memcpy(p->uetr, s, n);
		p->uetr[n] = 0;
		break;
	case F_AMT: {
		char err[96] = "";
		if (st->ccy_state == 0) {
			px_txerr(st, "FF01", path, "%s has no Ccy attribute", path);
			break;
		}
		if (st->ccy_state < 0) {
			px_txerr(st, "FF01", path, "%s Ccy is not three capital letters", path);
			break;
		}
		if (pm_amount_parse(s, n, '.', &p->amount, err, sizeof err) != 0) {
			px_txerr(st, "FF01", path, "%s '%.*s': %s", path, (int)(n > 30 ? 30 : n), s, err);
			break;
		}
		memcpy(p->ccy, st->ccy, 4);
		break;
	}
	case F_EQVT:
		px_txerr(st, "FF01", path, "%s (an amount in another currency) is not supported; send InstdAmt", path);
		break;
	case F_DATE:
		if (!px_date_ok(s, n)) {
			px_txerr(st, "DT01", path, "%s '%.*s' is not a date (YYYY-MM-DD)", path, (int)(n > 30 ? 30 : n),
			         s);
			break;
		}
		memcpy(p->value_date, s, 10);
		p->value_date[10] = 0;
		break;
	case F_DTTM:
		if (!px_date_shape(s, n) || n < 19 || s[10] != 'T') {
			px_txerr(st, "DT01", path, "%s '%.*s' is not a date and time", path, (int)(n > 30 ? 30 : n), s);
			break;
		}
		t->seen |= 1u << F_DATE; /* Dt and DtTm are a choice */
		memcpy(p->value_date, s, 10);
		p->value_date[10] = 0;
		break;
	case F_CHRGBR:
		if (n != 4 ||
		    (memcmp(s, "DEBT", 4) && memcmp(s, "CRED", 4) && memcmp(s, "SHAR", 4) && memcmp(s, "SLEV", 4))) {
			px_txerr(st, "FF01", path, "%s '%.*s' is not DEBT, CRED, SHAR or SLEV", path,
			         (int)(n > 10 ? 10 : n), s);
			break;
		}
		memcpy(p->charge_bearer, s, 4);
		p->charge_bearer[4] = 0;
		break;
	default:
		break;
	}
}

/* ---- namespaces ------------------------------------------------------------------------------- */

/* "pacs.008.001.NN" -> NN, when ns is PX_NS_PREFIX + that, else -1. */
static int
px_ns_version(const char *ns, const char *msg)
{
	size_t pl = sizeof PX_NS_PREFIX - 1, ml = strlen(msg);
	if (strncmp(ns, PX_NS_PREFIX, pl) || strncmp(ns + pl, msg, ml))
		return -1;
	const char *v = ns + pl + ml;
	size_t n = strlen(v);
	if (n < 2 || n > 3 || !px_is_digits(v, n))
		return -1;
	return atoi(v);
}

static uint8_t
px_document(px_state *st, const char *uri)
{
	if (st->docs++) {
		px_fatal(st, "FF01", "Document", "more than one Document in the message");
		return PX_SKIP;
	}
	if (!uri || !*uri) {
		px_fatal(st, "FF01", "Document",
		         "Document has no namespace; expected %spacs.008.001.NN or pain.001.001.NN", PX_NS_PREFIX);
		return PX_SKIP;
	}
	if (strlen(uri) >= sizeof st->doc_ns) {
		px_fatal(st, "FF01", "Document", "unsupported message: namespace '%.100s...'", uri);
		return PX_SKIP;
	}
	size_t pl = sizeof PX_NS_PREFIX - 1;
	int v8 = px_ns_version(uri, "pacs.008.001."), v1 = px_ns_version(uri, "pain.001.001.");
	if (v8 >= 8 || v1 >= 9) {
		strcpy(st->doc_ns, uri);
		snprintf(st->msgdef, sizeof st->msgdef, "%s", uri + pl);
		st->fmt = v8 >= 8 ? PM_FMT_PACS008 : PM_FMT_PAIN001;
		return v8 >= 8 ? PX_DOC8 : PX_DOC1;
	}
	if (v8 >= 0 || v1 >= 0)
		px_fatal(st, "FF01", "Document",
		         "unsupported version %s (accepted: pacs.008.001.08 and later, "
		         "pain.001.001.09 and later)",
		         uri + pl);
	else
		px_fatal(st, "FF01", "Document",
		         "unsupported message: namespace '%s' (accepted: pacs.008.001.08+, "
		         "pain.001.001.09+)",
		         uri);
	return PX_SKIP;
}

/* ---- transactions ----------------------------------------------------------------------------- */

static void
px_tx_begin(px_state *st)
{
	if (st->fmt == PM_FMT_PAIN001) {
		st->tx = st->pi; /* the PmtInf's debtor, account, agent, date and charge bearer */
		st->tx.seen = 0;
	} else {
		memset(&st->tx, 0, sizeof st->tx);
	}
	st->tx.p.format = st->fmt;
	st->tx.p.line = px_line(st);
	st->tx.p.offset = px_offset(st);
	st->in_tx = 1;
}

static void
px_tx_end(px_state *st)
{
	st->in_tx = 0;
	if (st->ntx == st->captx) {
		size_t nc = st->captx ? st->captx * 2 : 16;
		px_tx *n = realloc(st->txs, nc * sizeof *n);
		if (!n) {
			st->oom = 1;
			px_fatal(st, "FF01", "CdtTrfTxInf", "out of memory after %zu transactions", st->ntx);
			return;
		}
		st->txs = n;
		st->captx = nc;
	}
	st->txs[st->ntx++] = st->tx;
}

/* ---- SAX callbacks ---------------------------------------------------------------------------- */

static void
px_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int nb_ns, const xmlChar **ns,
         int nb_attr, int nb_def, const xmlChar **attrs)
{
	(void)prefix, (void)nb_ns, (void)ns, (void)nb_def;
	px_state *st = ctx;
	if (st->stopped)
		return;
	if (++st->elements > st->max_elements) {
		px_fatal(st, "FF01", "xml", "more than %u elements", st->max_elements);
		return;
	}
	if (st->depth >= st->max_depth) {
		px_fatal(st, "FF01", "xml", "elements nested deeper than %u", st->max_depth);
		return;
	}
	uint8_t parent = st->depth ? st->stack[st->depth] : PX_OUTER, s = PX_SKIP;
	const char *u = (const char *)uri;
	if (parent == PX_OUTER) {
		int nm = px_name(local);
		if (nm == N_Document)
			s = px_document(st, u);
		else if (nm == N_AppHdr && u && !strncmp(u, PX_NS_PREFIX "head.001.001.", sizeof PX_NS_PREFIX + 12) &&
		         strlen(u) < sizeof st->ah_ns && !st->ah_ns[0]) {
			strcpy(st->ah_ns, u);
			s = PX_AH;
		} else
			s = PX_OUTER; /* a wrapper: Envelope, BusMsgEnvlp, RequestPayload, ... */
	} else if (parent != PX_SKIP) {
		/* inside the Document (or AppHdr) only its own namespace counts: SplmtryData and the like skip */
		const char *want = parent >= PX_DOC8 ? st->doc_ns : st->ah_ns;
		if (u && (u == want || !strcmp(u, want))) {
			int nm = px_name(local);
			for (size_t i = 0; nm && i < sizeof px_edges / sizeof px_edges[0]; i++)
				if (px_edges[i].from == parent && px_edges[i].name == nm) {
					s = px_edges[i].to;
					break;
				}
		}
	}
	if (st->stopped)
		return;
	st->stack[++st->depth] = s;
	switch (s) {
	case PX_SKIP:
	case PX_OUTER:
		return;
	case PX_P8:
	case PX_P1:
		st->root_seen = 1;
		return;
	case PX_PI:
		memset(&st->pi, 0, sizeof st->pi);
		st->in_pi = 1;
		return;
	case PX_TX8:
	case PX_TX1:
		px_tx_begin(st);
		return;
	case PX_AMT:
		st->ccy_state = 0;
		for (int i = 0; i < nb_attr; i++) {
			const xmlChar **a = attrs + 5 * i; /* localname, prefix, URI, value, end */
			if (a[2] == NULL && !strcmp((const char *)a[0], "Ccy")) {
				const char *v = (const char *)a[3];
				size_t n = (size_t)(a[4] - a[3]);
				st->ccy_state = n == 3 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z' &&
				                                v[2] >= 'A' && v[2] <= 'Z'
				                        ? 1
				                        : -1;
				if (st->ccy_state > 0) {
					memcpy(st->ccy, v, 3);
					st->ccy[3] = 0;
				}
			}
		}
		break;
	default:
		break;
	}
	if (px_st[s].field != F_NONE) {
		st->cap_state = s;
		st->cap_depth = st->depth;
		st->text_len = 0;
	}
}

static void
px_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	(void)local, (void)prefix, (void)uri;
	px_state *st = ctx;
	if (st->stopped || st->depth == 0)
		return;
	uint8_t s = st->stack[st->depth];
	if (st->cap_state && st->cap_depth == st->depth) {
		st->cap_state = 0;
		px_store(st, s);
	}
	st->depth--;
	if (s == PX_TX8 || s == PX_TX1)
		px_tx_end(st);
	else if (s == PX_PI)
		st->in_pi = 0;
}

static void
px_chars(void *ctx, const xmlChar *ch, int len)
{
	px_state *st = ctx;
	if (!st->cap_state || st->cap_depth != st->depth || st->stopped)
		return;
	size_t room = st->text_len < PX_TEXT_CAP ? PX_TEXT_CAP - st->text_len : 0;
	size_t n = (size_t)len < room ? (size_t)len : room;
	memcpy(st->text + st->text_len, ch, n);
	st->text_len += (size_t)len; /* keeps counting past the buffer: px_store sees the real length */
	st->text[st->text_len < PX_TEXT_CAP ? st->text_len : PX_TEXT_CAP] = 0;
}

/* A DOCTYPE: refused before its internal subset or external identifier is read. */
static void
px_doctype(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	(void)ext, (void)sys;
	px_state *st = ctx;
	px_fatal(st, "FF01", "xml", "DOCTYPE '%.40s' refused: DTDs and entities are not accepted", (const char *)name);
}

/* Parser errors: kept in the context (lastError), never printed. */
static void
px_serror(void *ctx, xmlErrorPtr err)
{
	(void)ctx, (void)err;
}

static const xmlSAXHandler px_sax = {
	.internalSubset = px_doctype,
	.externalSubset = px_doctype,
	.characters = px_chars,
	.cdataBlock = px_chars,
	.ignorableWhitespace = px_chars,
	.initialized = XML_SAX2_MAGIC,
	.startElementNs = px_start,
	.endElementNs = px_end,
	.serror = px_serror,
};

/* ---- delivery --------------------------------------------------------------------------------- */

static void
px_err_ids(const px_state *st, pm_error *e, const pm_payment *p)
{
	snprintf(e->msg_id, sizeof e->msg_id, "%s", st->msg_id);
	snprintf(e->msgdef, sizeof e->msgdef, "%s", st->msgdef);
	if (p) {
		memcpy(e->instr_id, p->instr_id, sizeof e->instr_id);
		memcpy(e->end_to_end_id, p->end_to_end_id, sizeof e->end_to_end_id);
		memcpy(e->uetr, p->uetr, sizeof e->uetr);
	}
}

static void
px_missing(px_tx *t, const char *path, const char *what)
{
	if (t->bad)
		return;
	t->bad = 1;
	memset(&t->e, 0, sizeof t->e);
	snprintf(t->e.reason, sizeof t->e.reason, "FF01");
	snprintf(t->e.field, sizeof t->e.field, "%s", path);
	t->e.line = t->p.line;
	t->e.offset = t->p.offset;
	snprintf(t->e.text, sizeof t->e.text, "%s", what);
}

/* Fills what the transaction inherits (dates, agents) and checks what it must carry. */
static void
px_finish(const px_state *st, px_tx *t)
{
	pm_payment *p = &t->p;
	snprintf(p->msgdef, sizeof p->msgdef, "%s", st->msgdef);
	memcpy(p->msg_id, st->msg_id, sizeof p->msg_id);
	memcpy(p->biz_svc, st->ah_svc, sizeof p->biz_svc);
	if (!p->value_date[0])
		memcpy(p->value_date, st->gh_date, sizeof p->value_date);
	if (!p->instg_agent_bic[0])
		memcpy(p->instg_agent_bic, st->gh_instg[0] ? st->gh_instg : st->ah_fr, sizeof p->instg_agent_bic);
	if (!p->instd_agent_bic[0])
		memcpy(p->instd_agent_bic, st->gh_instd[0] ? st->gh_instd : st->ah_to, sizeof p->instd_agent_bic);
	if (!(t->seen & (1u << F_E2E)))
		px_missing(t, "CdtTrfTxInf/PmtId/EndToEndId", "CdtTrfTxInf/PmtId/EndToEndId is missing");
	if (!(t->seen & (1u << F_AMT)) && !(t->seen & (1u << F_EQVT)))
		px_missing(t, px_amt_path(st),
		           st->fmt == PM_FMT_PAIN001 ? "CdtTrfTxInf/Amt/InstdAmt is missing"
		                                     : "CdtTrfTxInf/IntrBkSttlmAmt is missing");
	/* the business rules every format shares (CBPR+ UETR, currency, minor units, BIC, IBAN, ...) */
	if (!t->bad && pm_payment_validate(p, &t->e) != 0)
		t->bad = 1;
}

static int
px_refuse(pm_sink sink, void *ctx, const px_state *st, pm_error *e)
{
	px_err_ids(st, e, NULL);
	int r = sink(ctx, NULL, e);
	return r ? r : PM_XML_REFUSED;
}

int
pm_xml_parse(const char *buf, size_t len, const pm_xml_limits *lim, pm_sink sink, void *ctx)
{
	size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : PM_XML_MAX_BYTES;
	px_state *st = calloc(1, sizeof *st);
	pm_error e;
	if (!st) {
		pm_error_set(&e, "FF01", "xml", 0, 0, "out of memory");
		int r = sink(ctx, NULL, &e);
		return r ? r : PM_XML_REFUSED;
	}
	st->max_depth = lim && lim->max_depth ? lim->max_depth : PM_XML_MAX_DEPTH;
	if (st->max_depth > PX_DEPTH_CAP)
		st->max_depth = PX_DEPTH_CAP;
	st->max_elements = lim && lim->max_elements ? lim->max_elements : PM_XML_MAX_ELEMENTS;
	int rc;

	if (len > max_bytes || len > (size_t)INT32_MAX) {
		pm_error_set(&e, "FF01", "xml", 0, 0, "message of %zu bytes refused: the limit is %zu", len, max_bytes);
		rc = px_refuse(sink, ctx, st, &e);
		goto out;
	}
	if (len == 0) {
		pm_error_set(&e, "FF01", "xml", 0, 0, "empty message");
		rc = px_refuse(sink, ctx, st, &e);
		goto out;
	}

	xmlInitParser();
	xmlParserCtxtPtr c = xmlCreateMemoryParserCtxt(buf, (int)len);
	if (!c) {
		pm_error_set(&e, "FF01", "xml", 0, 0, "out of memory");
		rc = px_refuse(sink, ctx, st, &e);
		goto out;
	}
	xmlSAXHandler *h = xmlMalloc(sizeof *h);
	if (!h) {
		xmlFreeParserCtxt(c);
		pm_error_set(&e, "FF01", "xml", 0, 0, "out of memory");
		rc = px_refuse(sink, ctx, st, &e);
		goto out;
	}
	memcpy(h, &px_sax, sizeof *h);
	xmlFree(c->sax);
	c->sax = h; /* freed with the context */
	c->userData = st;
	st->ctxt = c;
	/* NONET: never fetch; no NOENT / DTDLOAD / HUGE: no entity substitution, no DTD, libxml2's limits */
	xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlParseDocument(c);
	int wf = c->wellFormed;
	xmlErrorPtr le = &c->lastError;
	if (!st->fatal_set && !wf) {
		/* libxml2's own message, without its trailing newline */
		char msg[160];
		snprintf(msg, sizeof msg, "%s", le->message ? le->message : "not well-formed");
		size_t ml = strlen(msg);
		while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' '))
			msg[--ml] = 0;
		pm_error_set(&st->fatal, "FF01", "xml", le->line > 0 ? (uint32_t)le->line : 0, 0,
		             "not well-formed XML: %s", msg);
		st->fatal_set = 1;
	}
	st->ctxt = NULL;
	xmlFreeParserCtxt(c);

	if (!st->fatal_set) {
		if (!st->docs)
			pm_error_set(&st->fatal, "FF01", "Document", 0, 0,
			             "no ISO 20022 Document element in the message");
		else if (!st->root_seen)
			pm_error_set(&st->fatal, "FF01", "Document", 0, 0, "Document holds no %s",
			             st->fmt == PM_FMT_PACS008 ? "FIToFICstmrCdtTrf" : "CstmrCdtTrfInitn");
		else if (!st->msg_id[0])
			pm_error_set(&st->fatal, "FF01", "GrpHdr/MsgId", 0, 0, "GrpHdr/MsgId is missing");
		else if (!st->ntx)
			pm_error_set(&st->fatal, "FF01", "CdtTrfTxInf", 0, 0, "the message holds no CdtTrfTxInf");
		else if (st->nb_of_txs[0] && strtoull(st->nb_of_txs, NULL, 10) != st->ntx)
			pm_error_set(&st->fatal, "AM18", "GrpHdr/NbOfTxs", 0, 0,
			             "GrpHdr/NbOfTxs says %s, the message holds %zu transactions", st->nb_of_txs,
			             st->ntx);
		else
			goto deliver;
		st->fatal_set = 1;
	}
	rc = px_refuse(sink, ctx, st, &st->fatal);
	goto out;

deliver:
	rc = 0;
	for (size_t i = 0; i < st->ntx && !rc; i++) {
		px_tx *t = &st->txs[i];
		px_finish(st, t);
		if (t->bad) {
			px_err_ids(st, &t->e, &t->p);
			rc = sink(ctx, NULL, &t->e);
		} else {
			rc = sink(ctx, &t->p, NULL);
		}
	}
out:
	free(st->txs);
	free(st);
	return rc;
}
