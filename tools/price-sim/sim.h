/* sim: the price simulator's model and its HTTP answers, free of any server so it is unit tested
 * directly. Prices are exact fixed-point integers with PS_DEC (18) decimals, rendered as exact
 * decimal text (never a double): each source speaks its real format at its real path:
 *
 *   coingecko  GET /api/v3/simple/price?ids=ethereum&vs_currencies=usd[&include_last_updated_at=true]
 *   binance    GET /api/v3/ticker/price?symbol=ETHUSDT   (ETHUSD works too); ?symbols=["A","B"]; no
 *              parameter: every ticker
 *   coinbase   GET /v2/prices/ETH-USD/spot
 *   kraken     GET /0/public/Ticker?pair=XETHZUSD,SOLUSD (ETHUSD, XXBTZUSD for BTC-USD...)
 *   generic    GET /generic/ETH-USD  -> {"feed":"ETH-USD","data":{"price":"3000.12","ts":1700000000}}
 *
 * and the control API (what a test or the demo scripts):
 *   POST /ctl/set?feed=ETH-USD&price=3000.12[&source=kraken]  base price, or one source's own
 *   POST /ctl/mode?source=binance&mode=ok|down|slow|garbage|stale|ratelimit[&delay_ms=N][&age_s=N]
 *        [&retry_after=S][&retry_form=seconds|date|none]  ratelimit: 429 with Retry-After
 *   POST /ctl/lie?source=kraken&offset=10    serve price * (1 + offset/100); offset=0 stops
 *   GET  /ctl/state                           every feed's base and served price, every source
 * A missing or "all" source applies to every source.
 *
 * Thread-safe: one mutex inside. Memory: ps_new/ps_free; answers go to the caller's rt_buf. */
#ifndef OB_TOOLS_PRICE_SIM_SIM_H
#define OB_TOOLS_PRICE_SIM_SIM_H

#include <stdint.h>

#include "base/rt_buf.h"

#define PS_DEC       18
#define PS_MAX_FEEDS 1024
#define PS_QUERY_MAX 16384 /* a query parameter's decoded length (ids=..., symbols=[...], pair=...) */

typedef struct ps_sim ps_sim;

ps_sim *ps_new(void);
void ps_free(ps_sim *s);

/* What an answer needs besides status and body. */
typedef struct {
	uint64_t delay_ms;    /* hold the answer back this long (mode slow) */
	char retry_after[64]; /* a Retry-After header to send ("" = none; mode ratelimit) */
} ps_reply;

/* Answers one request: returns the HTTP status, writes the body, fills r. */
int ps_handle(ps_sim *s, const char *method, const char *path, const char *query, uint64_t now_ms, rt_buf *out,
              ps_reply *r);

/* A control command as the API takes it ("set", "feed=ETH-USD&price=3000"); for --script.
 * Returns the HTTP status the API would (200 or 400 with the reason in out). */
int ps_command(ps_sim *s, const char *verb, const char *query, rt_buf *out);

/* Moves every base price by a uniform random step within +-max_ppm, rounded to `decimals`
 * decimals (a price never reaches zero). rng: caller's xorshift state. */
void ps_walk(ps_sim *s, uint64_t *rng, uint64_t max_ppm, unsigned decimals);

#endif
