#!/usr/bin/env python3
"""demo-events: the `make demo` event view - one human line per event that matters.

Reads bus-tap's JSON frames (one per line, `bus-tap --format json`, bus/frame_json.h) on stdin and
prints, in human units (prices and amounts with their decimals, times as local HH:MM:SS):

  price    the median's aggregate moved              (price.agg.<feed>, only when it changed)
  decide   the gate decided an update, and why       (price.update.<feed>: first, deviation, heartbeat)
  tx       a transaction was sent / landed / failed  (tx.status: pending, confirmed, failed, dropped)
  payment  a payment was accepted / settled / failed (token.request + token.status)
  ccip     a CCIP message changed state               (ccip.msg.<state>)
  ALERT    an alert fired or resolved                 (alert.<severity>.<kind>)
  alerter  the alerter delivered an alert to a sink   (--sink-record FILE: alert-sink-double's record)

Only the Python standard library; big integers are exact (Python ints). Stops quietly on EOF,
SIGTERM or SIGINT. Usage: bus-tap --format json ... | demo-events.py [--sink-record FILE]
"""
import json
import os
import select
import signal
import sys
import time

DECIMALS = {}  # feed -> decimals of its answers (from price.agg / price.update)
LAST_PRICE = {}  # feed -> last printed median
PAYMENTS = {}  # idempotency key -> token.request body (currency, decimals, kind, to)
SEEN = set()  # (tx hash, state) / (message id, state): the submitter and ccip-tail repeat some


def human(value, decimals, places=2):
    """An integer string in fixed point -> '3,012.45' (exact; rounded half up to `places`)."""
    try:
        v = int(value)
    except (TypeError, ValueError):
        return str(value)
    neg = v < 0
    v = abs(v)
    if decimals > places:
        q = 10 ** (decimals - places)
        v = (v + q // 2) // q
    elif decimals < places:
        v *= 10 ** (places - decimals)
    whole, frac = divmod(v, 10 ** places)
    s = f"{whole:,}" + (f".{frac:0{places}d}" if places else "")
    return "-" + s if neg else s


def short(h, n=6):
    h = str(h or "")
    return h if len(h) <= 2 + 2 * n else f"{h[:2 + n]}…{h[-4:]}"


def clock(ns):
    try:
        return time.strftime("%H:%M:%S", time.localtime(int(ns) / 1e9))
    except (TypeError, ValueError, OverflowError):
        return time.strftime("%H:%M:%S")


def say(ts, what, text):
    print(f"{clock(ts)}  {what:<8} {text}", flush=True)


def quote(feed):
    """The unit of a feed's answers: ETH-USD -> USD."""
    return feed.rsplit("-", 1)[1] if "-" in feed else ""


def feed_of(topic):
    return topic.split(".", 2)[2] if topic.count(".") >= 2 else topic


def on_agg(f, b):
    feed = b.get("feed") or feed_of(f["topic"])
    dec = int(b.get("decimals", 8))
    DECIMALS[feed] = dec
    med = int(b.get("median", 0))
    prev = LAST_PRICE.get(feed)
    if prev == med:
        return
    LAST_PRICE[feed] = med
    used = b.get("used") or []
    srcs = ", ".join(f"{u.get('source')} {human(u.get('value'), dec)}" for u in used)
    move = ""
    if prev:
        ppm = (med - prev) * 1_000_000 // prev
        move = f" ({'+' if ppm >= 0 else '-'}{human(abs(ppm), 4)} %)"
    dropped = b.get("dropped") or []
    drop = f"; outliers dropped: {', '.join(d.get('source', '?') for d in dropped)}" if dropped else ""
    say(f["ts"], "price", f"{feed} {human(med, dec)} {quote(feed)}{move}  median of {len(used)}: {srcs}{drop}")


def on_update(f, b):
    feed = b.get("feed") or feed_of(f["topic"])
    dec = int(b.get("decimals", 8))
    DECIMALS[feed] = dec
    key = (f.get("id"), "update")
    if key in SEEN:  # the gate's outbox re-publishes an unacknowledged update with the same id
        return
    SEEN.add(key)
    ans = f"{human(b.get('answer'), dec)} {quote(feed)}"
    reason = b.get("reason")
    thr = human(b.get("threshold_ppm", 0), 4)
    if reason == "first":
        why = "first answer (the contract has none yet)"
    elif reason == "deviation":
        why = (f"moved {human(b.get('deviation_ppm', 0), 4)} % from {human(b.get('previous_answer'), dec)}"
               f" (threshold {thr} %)")
    elif reason == "heartbeat":
        why = f"heartbeat: {b.get('since_update_s')} s since the last update (every {b.get('heartbeat_s')} s)"
    else:
        why = str(reason)
    say(f["ts"], "decide", f"{feed} update to {ans}: {why}; round {b.get('round_id')}")


def on_status(f, b):
    state = b.get("state")
    if state not in ("pending", "confirmed", "failed", "dropped"):
        return  # included / final / replaced: the same transaction again
    key = (b.get("tx_hash"), state)
    if key in SEEN:
        return
    SEEN.add(key)
    feed = b.get("feed") or ""
    what = f"{feed} {human(b.get('answer'), DECIMALS.get(feed, 8))} {quote(feed)}" if feed else "token tx"
    tx = short(b.get("tx_hash"))
    if state == "pending":
        say(f["ts"], "tx", f"{what} sent: tx {tx} nonce {b.get('nonce')}")
    elif state == "confirmed":
        say(f["ts"], "landed", f"{what} in block {b.get('block_number')}: tx {tx}, gas {b.get('gas_used')}")
    else:
        say(f["ts"], "tx", f"{what} {state}: tx {tx} {b.get('error_text') or b.get('error')}")


def on_token_request(f, b):
    PAYMENTS[b.get("idempotency_key")] = b


def on_token_status(f, b):
    key = b.get("idempotency_key")
    state = b.get("state")
    if state not in ("accepted", "confirmed", "failed", "rejected"):
        return
    if (key, state) in SEEN:
        return
    SEEN.add((key, state))
    req = PAYMENTS.get(key, {})
    cur = req.get("currency", "")
    amount = human(b.get("amount"), int(req.get("decimals", 6))) if req else b.get("amount")
    kind = b.get("kind")
    if state == "accepted":
        src = {"iso20022_pacs008": "pacs.008", "iso20022_pain001": "pain.001", "mt103": "MT103"}.get(
            req.get("source_format"), req.get("source_format", "payment"))
        to = f" to {short(req.get('to'), 4)}" if kind == "mint" and req.get("to") else ""
        say(f["ts"], "payment", f"{src} {req.get('message_ref', '')} accepted: {kind} {amount} {cur}{to} "
            f"via {req.get('backend', '?')} (key {key})")
    elif state == "confirmed":
        where = f"block {b['block_number']}" if b.get("block_number") else "FireFly"
        say(f["ts"], "payment", f"settled: {kind} {amount} {cur} confirmed on chain ({where}) (key {key})")
    else:
        say(f["ts"], "payment", f"{state}: {kind} {amount} {cur}: {b.get('error') or b.get('reason')} (key {key})")


def on_ccip(f, b):
    state = b.get("state")
    mid = b.get("message_id")
    key = (mid, state, b.get("block_number"))
    if key in SEEN:
        return
    SEEN.add(key)
    lane = f"{b.get('source_chain_selector')} -> {b.get('dest_chain_selector')}"
    m = short(mid)
    if state == "sent":
        fee = human(b.get("fee_amount", 0), 18, 6)
        text = (f"message {m} sent (CCIP {b.get('ccip_version')}): lane {lane}, seq {b.get('sequence_number')}, "
                f"{b.get('data_len', 0)} bytes of data, fee {fee} (native), block {b.get('block_number')}")
    elif state == "executed_failure":
        text = f"message {m} execution FAILED (revert data {short(b.get('return_data'), 8)}), block {b.get('block_number')}"
    elif state == "executed_success":
        text = f"message {m} executed on the destination, block {b.get('block_number')}"
    else:
        text = f"message {m} {state}, block {b.get('block_number')}"
    say(f["ts"], "ccip", text)


def on_alert(f, b):
    say(f["ts"], "ALERT", f"{b.get('severity')} {b.get('kind')} {b.get('status')}: {b.get('summary')}"
        f" (from {b.get('origin')})")


HANDLERS = (("price.agg.", on_agg), ("price.update.", on_update), ("tx.status", on_status),
            ("token.request", on_token_request), ("token.status", on_token_status), ("ccip.msg.", on_ccip),
            ("alert.", on_alert))


def on_frame(line):
    try:
        f = json.loads(line)
    except ValueError:
        return
    body = f.get("body")
    if not isinstance(body, dict):
        return
    for prefix, fn in HANDLERS:
        if f.get("topic", "").startswith(prefix):
            fn(f, body)
            return


def on_sink(line):
    """One request recorded by alert-sink-double: {"kind","status","verified","body",...}."""
    try:
        r = json.loads(line)
        b = json.loads(r.get("body") or "{}")
    except ValueError:
        return
    if not isinstance(b, dict):
        return
    ok = "verified" if r.get("verified") else "NOT verified"
    say(int(r.get("at", time.time())) * 10**9, "alerter",
        f"delivered to the {r.get('kind')} sink (HTTP {r.get('status')}, HMAC signature {ok}): "
        f"{b.get('status', '?')} {b.get('kind', '?')}: {b.get('summary', '')}")


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    record = None
    usage = "usage: demo-events.py [--sink-record FILE] < bus-tap --format json lines"
    if sys.argv[1:] in (["--help"], ["-h"]):
        print(usage + "\n" + __doc__.split("\n\n", 1)[1].rstrip())
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--sink-record":
        record = sys.argv[2]
    elif len(sys.argv) != 1:
        print(f"demo-events.py: unknown arguments: {' '.join(sys.argv[1:])}\n{usage}", file=sys.stderr)
        sys.exit(2)
    pos, pending, buf = 0, b"", b""
    fd = sys.stdin.fileno()
    while True:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for ln in lines:
                on_frame(ln.decode("utf-8", "replace"))
        if record:
            try:
                with open(record, "rb") as fh:
                    fh.seek(pos)
                    data = fh.read()
                    pos += len(data)
            except OSError:
                data = b""
            pending += data
            *lines, pending = pending.split(b"\n")
            for ln in lines:
                on_sink(ln.decode("utf-8", "replace"))


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(0)
