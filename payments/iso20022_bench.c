/* iso20022_bench.c: pm_xml_parse against a bare xmlReadMemory of the same bytes (the baseline: libxml2
 * building its tree, nothing else), as a ratio measured in this same process (never a pass/fail on
 * time). pm_xml_parse does everything it does in service: the checks, the limits, pm_payment_validate
 * on every payment, the sink call. Aim: >= 0.5 of the baseline's throughput.
 *   large: one pacs.008 with 2000 transactions (~2.0 MB, ~74k elements, under the default limits)
 *   small: one real one-transaction CBPR+ envelope (payments/testdata/iso, ~5 KB) */
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rt_buf.h"
#include "payments/iso20022.h"

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
count_sink(void *ctx, const pm_payment *p, const pm_error *e)
{
	(void)e;
	*(long *)ctx += p != NULL;
	return 0;
}

static char *
make_large(int ntx, size_t *len)
{
	size_t cap = (size_t)ntx * 1400 + 1024, n = 0;
	char *b = malloc(cap);
	if (!b)
		return NULL;
	n += (size_t)snprintf(
	        b + n, cap - n,
	        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">\n<FIToFICstmrCdtTrf>\n"
	        "<GrpHdr><MsgId>BENCH-1</MsgId><CreDtTm>2026-01-02T10:00:00Z</CreDtTm><NbOfTxs>%d</NbOfTxs>"
	        "<IntrBkSttlmDt>2026-01-02</IntrBkSttlmDt><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>\n",
	        ntx);
	for (int i = 0; i < ntx; i++)
		n += (size_t)snprintf(
		        b + n, cap - n,
		        "<CdtTrfTxInf>\n  <PmtId><InstrId>I%d</InstrId><EndToEndId>E2E-%d</EndToEndId>"
		        "<TxId>T%d</TxId><UETR>%08x-2682-4291-ad67-2a41e530cd27</UETR></PmtId>\n"
		        "  <IntrBkSttlmAmt Ccy=\"EUR\">%d.%02d</IntrBkSttlmAmt>\n  <ChrgBr>SHAR</ChrgBr>\n"
		        "  <InstgAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></InstgAgt>\n"
		        "  <InstdAgt><FinInstnId><BICFI>BNPAFRPPXXX</BICFI></FinInstnId></InstdAgt>\n"
		        "  <Dbtr><Nm>Debtor number %d GmbH</Nm><PstlAdr><StrtNm>Hauptstrasse</StrtNm>"
		        "<TwnNm>Frankfurt</TwnNm><Ctry>DE</Ctry></PstlAdr></Dbtr>\n"
		        "  <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>\n"
		        "  <DbtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></DbtrAgt>\n"
		        "  <CdtrAgt><FinInstnId><BICFI>BNPAFRPPXXX</BICFI></FinInstnId></CdtrAgt>\n"
		        "  <Cdtr><Nm>Creditor number %d SARL</Nm><PstlAdr><StrtNm>Rue de Rivoli</StrtNm>"
		        "<TwnNm>Paris</TwnNm><Ctry>FR</Ctry></PstlAdr></Cdtr>\n"
		        "  <CdtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></CdtrAcct>\n"
		        "  <RmtInf><Ustrd>Invoice %d of 2026</Ustrd></RmtInf>\n</CdtTrfTxInf>\n",
		        i, i, i, (unsigned)i, 1 + i % 100000, i % 100, i, i, i);
	n += (size_t)snprintf(b + n, cap - n, "</FIToFICstmrCdtTrf>\n</Document>\n");
	*len = n;
	return b;
}

/* Runs both for about secs each (interleaved rounds, so a change of machine load hits both alike). */
static int
compare(const char *name, const char *buf, size_t len, long want_pay, double secs)
{
	double t_base = 0, t_ours = 0;
	long n_base = 0, n_ours = 0;
	for (int round = 0; round < 10; round++) {
		double end = now() + secs / 10, t0;
		t0 = now();
		do {
			xmlDocPtr d = xmlReadMemory(buf, (int)len, NULL, NULL, XML_PARSE_NONET);
			if (!d)
				return fprintf(stderr, "%s: the baseline could not parse\n", name), -1;
			xmlFreeDoc(d);
			n_base++;
		} while (now() < end);
		t_base += now() - t0;
		end = now() + secs / 10;
		t0 = now();
		do {
			long pays = 0;
			if (pm_xml_parse(buf, len, NULL, count_sink, &pays) != 0 || pays != want_pay)
				return fprintf(stderr, "%s: %ld payments, want %ld\n", name, pays, want_pay), -1;
			n_ours++;
		} while (now() < end);
		t_ours += now() - t0;
	}
	double base = n_base / t_base, ours = n_ours / t_ours;
	printf("%-6s %8zu bytes  xmlReadMemory %9.1f docs/s (%6.1f MB/s)  pm_xml_parse %9.1f docs/s (%6.1f MB/s)"
	       "  ratio %.2f (aim >= 0.5)\n",
	       name, len, base, base * (double)len / 1e6, ours, ours * (double)len / 1e6, ours / base);
	return 0;
}

int
main(void)
{
	xmlInitParser();
	size_t len;
	char *large = make_large(2000, &len);
	if (!large || compare("large", large, len, 2000, 4.0))
		return 1;
	free(large);
	const char *dir = getenv("PM_TESTDATA") ? getenv("PM_TESTDATA") : "payments/testdata/iso";
	char path[512];
	snprintf(path, sizeof path, "%s/ballerina_p_2_1_2_mt103_pacs_008_A_B.xml", dir);
	char *small = rt_file_read(path, &len);
	if (!small || compare("small", small, len, 1, 2.0))
		return 1;
	free(small);
	xmlCleanupParser();
	return 0;
}
