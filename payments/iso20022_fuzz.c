/* iso20022_fuzz.c: libFuzzer: pm_xml_parse never crashes or leaks on any bytes, hands the sink either a
 * payment or an error (never both, never neither), every text field it hands over is NUL-terminated
 * inside its array, a refused message gives exactly one error and no payment, and every payment or
 * error turns into a pacs.002 that is either refused by the writer or well-formed XML.
 * Seeds: tests/fuzz/seeds/iso20022_fuzz/ (small pacs.008 / pain.001 / hostile messages). */
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payments/iso20022.h"
#include "payments/pacs002.h"

#define FZ_TERMINATED(a) (memchr((a), 0, sizeof(a)) != NULL)

typedef struct {
	int pays, errs;
} fz_count;

static void
fz_report(const pm_status_report *r)
{
	static char out[8192];
	int n = pm_pacs002_write(r, out, sizeof out, NULL, 0);
	if (n < 0)
		return;
	xmlDocPtr d = xmlReadMemory(out, n, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!d)
		abort(); /* the writer produced XML that does not parse */
	xmlFreeDoc(d);
}

static int
fz_sink(void *ctx, const pm_payment *p, const pm_error *e)
{
	fz_count *c = ctx;
	if ((p == NULL) == (e == NULL))
		abort();
	pm_status_report r;
	if (p) {
		c->pays++;
		if (!FZ_TERMINATED(p->msgdef) || !FZ_TERMINATED(p->msg_id) || !FZ_TERMINATED(p->pmt_inf_id) ||
		    !FZ_TERMINATED(p->instr_id) || !FZ_TERMINATED(p->end_to_end_id) || !FZ_TERMINATED(p->tx_id) ||
		    !FZ_TERMINATED(p->uetr) || !FZ_TERMINATED(p->ccy) || !FZ_TERMINATED(p->value_date) ||
		    !FZ_TERMINATED(p->debtor_name) || !FZ_TERMINATED(p->debtor_account) ||
		    !FZ_TERMINATED(p->debtor_agent_bic) || !FZ_TERMINATED(p->creditor_name) ||
		    !FZ_TERMINATED(p->creditor_account) || !FZ_TERMINATED(p->creditor_agent_bic) ||
		    !FZ_TERMINATED(p->instg_agent_bic) || !FZ_TERMINATED(p->instd_agent_bic) ||
		    !FZ_TERMINATED(p->charge_bearer) || !FZ_TERMINATED(p->remittance) || !FZ_TERMINATED(p->biz_svc))
			abort();
		if (!p->end_to_end_id[0] || !p->msg_id[0] || p->amount.scale > 5)
			abort(); /* a payment handed over always carries what validation requires */
		pm_status_from_payment(&r, p);
		memcpy(r.msg_id, "FUZZ", 5);
		memcpy(r.cre_dt_tm, "2026-01-01T00:00:00Z", 21);
		memcpy(r.tx_sts, "ACSC", 5);
	} else {
		c->errs++;
		if (!FZ_TERMINATED(e->reason) || !FZ_TERMINATED(e->field) || !FZ_TERMINATED(e->text) ||
		    !FZ_TERMINATED(e->msg_id) || !FZ_TERMINATED(e->instr_id) || !FZ_TERMINATED(e->end_to_end_id) ||
		    !FZ_TERMINATED(e->uetr) || !FZ_TERMINATED(e->msgdef) || !e->reason[0] || !e->text[0])
			abort();
		pm_status_from_error(&r, e);
		memcpy(r.msg_id, "FUZZ", 5);
		memcpy(r.cre_dt_tm, "2026-01-01T00:00:00Z", 21);
	}
	fz_report(&r);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		xmlInitParser();
		init = 1;
	}
	fz_count c = { 0, 0 };
	int rc = pm_xml_parse((const char *)data, size, NULL, fz_sink, &c);
	if (rc == PM_XML_REFUSED && (c.errs != 1 || c.pays != 0))
		abort();
	if (rc != 0 && rc != PM_XML_REFUSED)
		abort(); /* our sink never stops the parser */
	return 0;
}
