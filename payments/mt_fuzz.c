/* mt_fuzz.c: libFuzzer: pm_mt_parse never crashes or reads out of bounds, every payment it hands
 * out passes pm_payment_validate, every refusal names a reason, a field, a text and a line inside the
 * input, every string is NUL-terminated within its field, and the same input gives the same answers.
 * Seeds: tests/fuzz/seeds/mt_fuzz (the real samples of payments/testdata/mt). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payments/mt.h"
#include "payments/validate.h"

typedef struct {
	size_t size;
	uint32_t lines;
	unsigned calls, payments;
	uint32_t sig; /* order-sensitive digest of the answers, for the determinism check */
} fz_state;

static void
fz_str(const char *s, size_t cap)
{
	if (!memchr(s, '\0', cap))
		abort();
}

static int
fz_sink(void *ctx, const pm_payment *p, const pm_error *e)
{
	fz_state *st = ctx;
	if ((p == NULL) == (e == NULL))
		abort();
	st->calls++;
	if (p) {
		st->payments++;
		fz_str(p->msgdef, sizeof p->msgdef);
		fz_str(p->msg_id, sizeof p->msg_id);
		fz_str(p->end_to_end_id, sizeof p->end_to_end_id);
		fz_str(p->uetr, sizeof p->uetr);
		fz_str(p->debtor_name, sizeof p->debtor_name);
		fz_str(p->creditor_name, sizeof p->creditor_name);
		fz_str(p->debtor_account, sizeof p->debtor_account);
		fz_str(p->creditor_account, sizeof p->creditor_account);
		fz_str(p->remittance, sizeof p->remittance);
		pm_error ve;
		if (pm_payment_validate(p, &ve) != 0 || p->format != PM_FMT_MT103 || p->offset >= st->size ||
		    p->line < 1 || p->line > st->lines)
			abort();
		st->sig = st->sig * 31 + p->offset + 7;
	} else {
		fz_str(e->reason, sizeof e->reason);
		fz_str(e->field, sizeof e->field);
		fz_str(e->text, sizeof e->text);
		fz_str(e->msg_id, sizeof e->msg_id);
		fz_str(e->msgdef, sizeof e->msgdef);
		if (strlen(e->reason) != 4 || !e->field[0] || !e->text[0] || e->line < 1 || e->line > st->lines ||
		    e->offset > st->size)
			abort();
		st->sig = st->sig * 31 + e->offset + e->line;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_state a = { size, 1, 0, 0, 0 }, b;
	/* memchr: a loop comparing every byte is a traced call per byte, a good part of each run */
	for (const uint8_t *p = data, *e = data + size; size && (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		a.lines++;
	b = a;
	if (pm_mt_parse((const char *)data, size, fz_sink, &a) != 0)
		abort();
	/* every answer consumes input: at most one per byte */
	if (a.calls > size)
		abort();
	pm_mt_parse((const char *)data, size, fz_sink, &b);
	if (a.calls != b.calls || a.payments != b.payments || a.sig != b.sig)
		abort();
	return 0;
}
