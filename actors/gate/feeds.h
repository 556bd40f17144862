/* feeds.h - the gate's per-feed configuration: from a JSON file (FEEDS_FILE)
 *
 *   {"feeds":[{"feed":"ETH-USD","aggregator":"0x..","decimals":8,"deviation":"0.5",
 *              "deviation_absolute":"0","heartbeat":"60s","min_interval":"5s",
 *              "transmitter":"0x.."}]}
 *
 * or, for one feed, from the environment (FEED, AGGREGATOR_ADDRESS, ...). Fields missing from a
 * file entry take the environment's values (the defaults passed in). "deviation" is a percent
 * string parsed exactly (RT_PPM), "deviation_absolute" an integer in the feed's fixed point,
 * durations as rt_parse_duration_ms ("60", "60s", "2m").
 *
 * Memory: gf_feed is a plain value; gf_parse fills the caller's array. No allocation kept. */
#ifndef OB_ACTORS_GATE_FEEDS_H
#define OB_ACTORS_GATE_FEEDS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "schemas/messages.h"
#include "base/u256.h"

#define GF_MAX_FEEDS 1024 /* feeds of one gate (FEEDS_FILE); its arrays are allocated to the count */

typedef struct {
	char feed[SC_NAME_CAP + 1];
	uint8_t aggregator[20];
	uint64_t decimals;
	uint64_t threshold_ppm;
	u256 threshold_abs;
	uint64_t heartbeat_ms;
	uint64_t min_interval_ms;
	uint8_t transmitter[20]; /* the signer's address sending this feed's updates (TRANSMITTER) */
	int has_transmitter;
} gf_feed;

/* Parses the file's JSON (borrowed). dflt gives every field's default (feed and aggregator are
 * required per entry). Returns the number of feeds (>= 1) or -1 with err naming the entry and
 * field. Duplicate feed names are an error. */
int gf_parse(const json_t *root, const gf_feed *dflt, gf_feed *out, size_t cap, char *err, size_t errlen);

/* One feed from already-parsed environment values (dflt, whose threshold_abs the caller parsed
 * with gf_parse_abs); the aggregator as text. 0 or -1 with err. */
int gf_from_env(const char *feed, const char *aggregator, const gf_feed *dflt, gf_feed *out, char *err, size_t errlen);

/* DEVIATION_ABSOLUTE / "deviation_absolute": a non-negative integer in the feed's fixed point;
 * NULL or "" = 0. 0, or -1 with err saying why. */
int gf_parse_abs(const char *text, u256 *out, char *err, size_t errlen);

#endif
