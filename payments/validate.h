/* payments/validate.h: identifier checks (BIC, IBAN, ISO 4217, dates, UETR) and the business rules
 * every pm_payment must pass before the tokenizer acts on it, whatever format it came in.
 *
 * The parsers (mt.h, iso20022.h) call pm_payment_validate on each payment they build and hand the
 * sink a pm_error instead when it fails, so a sink only ever sees payments that passed.
 *
 * Memory: nothing allocates; every output buffer is the caller's. Inputs are (pointer, length) and
 * need no NUL. */
#ifndef OB_PAYMENTS_VALIDATE_H
#define OB_PAYMENTS_VALIDATE_H

#include <stddef.h>

#include "payments/payment.h"

/* ISO 9362 BIC: 4 letters (institution), 2 letters (country), 2 letters/digits (location), optional
 * 3 letters/digits (branch); uppercase only, 8 or 11 characters. 1 when valid, else 0. */
int pm_bic_valid(const char *s, size_t n);

/* IBAN in electronic form (uppercase, no spaces): a country of the SWIFT IBAN registry, that
 * country's length, 2 check digits, an alphanumeric BBAN, and ISO 7064 mod-97 == 1.
 * 0, or -1 with the reason in why (whylen bytes; why may be NULL). */
int pm_iban_check(const char *s, size_t n, char *why, size_t whylen);

/* 1 when s looks like an IBAN (2 letters, 2 digits, then 11..30 letters/digits): such an account
 * must then pass pm_iban_check; anything else is taken as a proprietary account id (Othr/Id). */
int pm_iban_like(const char *s, size_t n);

/* 1 when the 3 bytes at ccy3 are an active ISO 4217 code with minor units (EUR, JPY, BHD, ...);
 * XAU, XDR, XXX and unknown codes answer 0. */
int pm_ccy_known(const char *ccy3);

/* SWIFT MT date YYMMDD (a real calendar day) to ISO "YYYY-MM-DD" (11 bytes with the NUL). The
 * century follows POSIX %y: 69..99 are 19xx, 00..68 are 20xx. 0, or -1 when not a date. */
int pm_date_yymmdd(const char *s, size_t n, char out[11]);

/* 1 when s is an ISO date YYYY-MM-DD that exists (leap years by the Gregorian rule), else 0. */
int pm_date_iso_valid(const char *s, size_t n);

/* UETR (ISO 20022 UUIDv4Identifier, SWIFT gpi): 8-4-4-4-12 hex, version nibble 4, variant 8/9/a/b.
 * Uppercase hex is accepted and written lowercase into out (PM_UETR_CAP bytes, NUL-terminated).
 * 0, or -1 when not a version-4 UUID. */
int pm_uetr_normalise(const char *s, size_t n, char out[PM_UETR_CAP]);

/* 1 for the ISO 20022 charge bearer codes DEBT, CRED, SHAR, SLEV; else 0. */
int pm_charge_bearer_valid(const char *s);

/* The business rules (each failure names the reason code a pacs.002 RJCT carries):
 *   ids: message id mandatory, end-to-end id mandatory ("NOTPROVIDED" allowed)       FF01
 *   currency: active ISO 4217 code with minor units                                   AM03
 *   amount: > 0                                                                       AM01
 *   amount: fraction digits <= the currency's minor units     AM03 (ISO 20022), FF01 (MT: T43)
 *   BICs (agents, instructing/instructed): BIC8/BIC11                                 RC01
 *   accounts that look like IBANs: registry country, length, mod-97                   AC01
 *   value date: real calendar day                                                     DT01
 *   UETR: well formed when present; mandatory for MT103 and for CBPR+ pacs.008        FF01
 *   charge bearer: DEBT/CRED/SHAR/SLEV; mandatory for pacs.008 and MT103              FF01
 *   MT variant: "", "STP" or "REMIT"                                                  FF01
 * Field names are the MT tags for MT103 ("32A", "59a", "121") and ISO 20022 paths otherwise.
 * 0 when the payment passes, else -1 with e filled (line/offset: where the payment starts; the
 * payment's ids copied for the pacs.002). */
int pm_payment_validate(const pm_payment *p, pm_error *e);

#endif
