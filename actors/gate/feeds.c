/* feeds.c - the gate's per-feed configuration from FEEDS_FILE or the environment (feeds.h). */
#include "actors/gate/feeds.h"

#include <stdio.h>
#include <string.h>

#include "bus/frame.h"
#include "base/rt_config.h"
#include "base/hex.h"

static int
gf_name_ok(const char *s)
{
	size_t n = strlen(s);
	char topic[FRAME_TOPIC_MAX + 1];
	if (n == 0 || n > SC_NAME_CAP)
		return 0;
	/* The feed is a topic suffix: price.update.<feed> must be a valid topic. */
	snprintf(topic, sizeof topic, "price.update.%s", s);
	return frame_topic_valid(topic, strlen(topic));
}

int
gf_parse_abs(const char *text, u256 *out, char *err, size_t errlen)
{
	/* A non-negative integer in the feed's fixed point ("0" = no absolute threshold). */
	if (text == NULL || *text == 0) {
		u256_from_u64(out, 0);
		return 0;
	}
	if (u256_from_dec(out, text, strlen(text)) != 0) {
		snprintf(err, errlen, "'%s' is not a non-negative integer (fixed point)", text);
		return -1;
	}
	return 0;
}

static int
gf_abs(const char *s, u256 *out)
{
	return u256_from_dec(out, s, strlen(s)); /* in a file, "" is not a number */
}

int
gf_from_env(const char *feed, const char *aggregator, const gf_feed *dflt, gf_feed *out, char *err, size_t errlen)
{
	*out = *dflt;
	if (feed == NULL || !gf_name_ok(feed)) {
		snprintf(err, errlen, "FEED: '%s' is not a feed name (letters, digits, . _ : -; <= 31)",
		         feed ? feed : "");
		return -1;
	}
	snprintf(out->feed, sizeof out->feed, "%s", feed);
	if (aggregator == NULL || aggregator[0] == '\0') {
		snprintf(err, errlen, "AGGREGATOR_ADDRESS: required (the feed's aggregator contract)");
		return -1;
	}
	if (hex_addr_parse(aggregator, strlen(aggregator), out->aggregator) != HEX_OK) {
		snprintf(err, errlen, "AGGREGATOR_ADDRESS: not an address: '%s'", aggregator ? aggregator : "");
		return -1;
	}
	return 0;
}

/* Reads an optional string field; 1 if present, 0 if absent, -1 if not a string. */
static int
gf_str(const json_t *o, const char *k, const char **v)
{
	const json_t *x = json_object_get(o, k);
	if (x == NULL)
		return 0;
	if (!json_is_string(x))
		return -1;
	*v = json_string_value(x);
	return 1;
}

int
gf_parse(const json_t *root, const gf_feed *dflt, gf_feed *out, size_t cap, char *err, size_t errlen)
{
	const json_t *arr = json_is_object(root) ? json_object_get(root, "feeds") : NULL;
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		snprintf(err, errlen, "want {\"feeds\":[{...}, ...]} with at least one feed");
		return -1;
	}
	if (json_array_size(arr) > cap) {
		snprintf(err, errlen, "%zu feeds, at most %zu", json_array_size(arr), cap);
		return -1;
	}
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e)
	{
		gf_feed *f = &out[i];
		const char *s = NULL, *what = NULL;
		*f = *dflt;
		if (!json_is_object(e)) {
			snprintf(err, errlen, "feeds[%zu]: not an object", i);
			return -1;
		}
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)e, k, v)
		{
			static const char *const known[] = { "feed",         "aggregator",         "decimals",
				                             "deviation",    "deviation_absolute", "heartbeat",
				                             "min_interval", "transmitter" };
			int ok = 0;
			for (size_t j = 0; j < sizeof known / sizeof known[0]; j++)
				ok |= strcmp(k, known[j]) == 0;
			if (!ok) {
				snprintf(err, errlen, "feeds[%zu]: unknown field '%s'", i, k);
				return -1;
			}
		}
		if (gf_str(e, "feed", &s) != 1 || !gf_name_ok(s)) {
			what = "feed: required, a feed name";
			goto bad;
		}
		snprintf(f->feed, sizeof f->feed, "%s", s);
		for (size_t j = 0; j < i; j++)
			if (strcmp(out[j].feed, f->feed) == 0) {
				what = "feed: listed twice";
				goto bad;
			}
		if (gf_str(e, "aggregator", &s) != 1 || hex_addr_parse(s, strlen(s), f->aggregator) != HEX_OK) {
			what = "aggregator: required, a 0x address";
			goto bad;
		}
		const json_t *d = json_object_get(e, "decimals");
		if (d) {
			if (!json_is_integer(d) || json_integer_value(d) < 0 ||
			    json_integer_value(d) > U256_MAX_DECIMALS) {
				what = "decimals: an integer 0..77";
				goto bad;
			}
			f->decimals = (uint64_t)json_integer_value(d);
		}
		int r;
		if ((r = gf_str(e, "deviation", &s)) < 0 || (r == 1 && rt_parse_ppm(s, &f->threshold_ppm) != 0)) {
			what = "deviation: a percent string such as \"0.5\"";
			goto bad;
		}
		if ((r = gf_str(e, "deviation_absolute", &s)) < 0 || (r == 1 && gf_abs(s, &f->threshold_abs) != 0)) {
			what = "deviation_absolute: a non-negative integer string in the feed's fixed point";
			goto bad;
		}
		if ((r = gf_str(e, "heartbeat", &s)) < 0 ||
		    (r == 1 && rt_parse_duration_ms(s, &f->heartbeat_ms) != 0)) {
			what = "heartbeat: a duration string such as \"60s\"";
			goto bad;
		}
		if ((r = gf_str(e, "min_interval", &s)) < 0 ||
		    (r == 1 && rt_parse_duration_ms(s, &f->min_interval_ms) != 0)) {
			what = "min_interval: a duration string such as \"5s\"";
			goto bad;
		}
		if ((r = gf_str(e, "transmitter", &s)) < 0 ||
		    (r == 1 && hex_addr_parse(s, strlen(s), f->transmitter) != HEX_OK)) {
			what = "transmitter: a 0x address (the signer's, for eth_estimateGas and oracleRoundState)";
			goto bad;
		}
		if (r == 1)
			f->has_transmitter = 1;
		continue;
	bad:
		snprintf(err, errlen, "feeds[%zu]: %s", i, what);
		return -1;
	}
	return (int)json_array_size(arr);
}
