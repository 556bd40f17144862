/*
 * format.h - bus-replay's parsing of range arguments and rendering of journal records
 * (format.c). Kept apart from main.c so format_test.c can test them without a journal or a bus.
 */
#ifndef OB_TOOLS_BUS_REPLAY_FORMAT_H
#define OB_TOOLS_BUS_REPLAY_FORMAT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store/journal.h"

/* Each parser returns 0 and sets *out, or -1 (nothing written) on malformed input. */
/* Strict unsigned decimal: no sign, no spaces, no trailing bytes, no overflow. */
int rp_parse_u64(const char *s, uint64_t *out);
/* A positive number up to 1e9 (rates, speed factors). */
int rp_parse_double(const char *s, double *out);
/* YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM), not before 1970 -> ns since the epoch. */
int rp_parse_rfc3339(const char *s, uint64_t *out);
/* -500ms, -30s, -10m, -2h, -1d: that long before now (ns). */
int rp_parse_relative(const char *s, uint64_t now, uint64_t *out);
/* Any of the above, "now", or ns since the epoch. */
int rp_parse_time(const char *s, uint64_t now, uint64_t *out);

/* RFC 3339 in UTC with milliseconds: 2026-11-27T17:00:00.123Z */
void rp_fmt_time(uint64_t ns, char out[40]);

/* One `list` line: index, receive time, topic, type, origin, seq, size; a frame that does not
 * decode shows "!error" as its type and the reason after a '#'. */
void rp_list_line(FILE *out, const jn_rec *rec);

/* One `dump` object (a new reference; NULL only when out of memory): index, recv_ts, topic, type,
 * id, origin, seq, ts, signed, [key], then body (decoded via schemas) or body_hex [+ body_error];
 * a frame that does not decode gives index, recv_ts, error, hex. Bytes are "0x..." hex. */
json_t *rp_dump_obj(const jn_rec *rec);

#endif
