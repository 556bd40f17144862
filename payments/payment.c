/* payments/payment.c: pm_error_set (payment.h). */
#include "payments/payment.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
pm_error_set(pm_error *e, const char *reason, const char *field, uint32_t line, uint32_t offset, const char *fmt, ...)
{
	memset(e, 0, sizeof *e);
	snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	e->line = line;
	e->offset = offset;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->text, sizeof e->text, fmt, ap);
		va_end(ap);
	}
}
