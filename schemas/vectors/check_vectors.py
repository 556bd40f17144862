#!/usr/bin/env python3
"""Independent check of the golden vectors, as a client in another language would read them.

A from-scratch msgpack reader (standard library only, written from the msgpack spec, sharing no
code with schemas/schema.c) decodes every "hex" and compares it with "json" under the wire rules
of schemas/README.md: bin(32) for (u)int256 fields shown as decimal strings, other bin as 0x-hex,
integers above 2^53 as decimal strings, optional zero fields absent on the wire.
Usage: python3 schemas/vectors/check_vectors.py [schemas/vectors]   (exit 0 when all agree)"""
import glob, json, os, struct, sys

def read(b, i):
    t = b[i]; i += 1
    if t <= 0x7f: return t, i
    if t >= 0xe0: return t - 0x100, i
    if 0x80 <= t <= 0x8f: return read_map(b, i, t & 15)
    if 0x90 <= t <= 0x9f: return read_arr(b, i, t & 15)
    if 0xa0 <= t <= 0xbf: n = t & 31; return b[i:i+n].decode('utf-8'), i + n
    if t == 0xc0: return None, i
    if t in (0xc2, 0xc3): return t == 0xc3, i
    if t in (0xc4, 0xc5, 0xc6):
        w = {0xc4: 1, 0xc5: 2, 0xc6: 4}[t]; n = int.from_bytes(b[i:i+w], 'big'); i += w
        return bytes(b[i:i+n]), i + n
    if t in (0xd9, 0xda, 0xdb):
        w = {0xd9: 1, 0xda: 2, 0xdb: 4}[t]; n = int.from_bytes(b[i:i+w], 'big'); i += w
        return b[i:i+n].decode('utf-8'), i + n
    if t in (0xcc, 0xcd, 0xce, 0xcf):
        w = 1 << (t - 0xcc); return int.from_bytes(b[i:i+w], 'big'), i + w
    if t in (0xd0, 0xd1, 0xd2, 0xd3):
        w = 1 << (t - 0xd0); return int.from_bytes(b[i:i+w], 'big', signed=True), i + w
    if t in (0xdc, 0xdd): w = 2 if t == 0xdc else 4; return read_arr(b, i + w, int.from_bytes(b[i:i+w], 'big'))
    if t in (0xde, 0xdf): w = 2 if t == 0xde else 4; return read_map(b, i + w, int.from_bytes(b[i:i+w], 'big'))
    raise ValueError('unsupported type byte %#x' % t)

def read_map(b, i, n):
    d = {}
    for _ in range(n):
        k, i = read(b, i); v, i = read(b, i)
        assert isinstance(k, str) and k not in d, k
        d[k] = v
    return d, i

def read_arr(b, i, n):
    a = []
    for _ in range(n):
        v, i = read(b, i); a.append(v)
    return a, i

def view(wire, js):
    """The JSON view implied by a wire value, given the expected JSON value's shape."""
    if isinstance(wire, bytes):
        if isinstance(js, str) and not js.startswith('0x'):  # (u)int256: decimal string
            assert len(wire) == 32
            v = int.from_bytes(wire, 'big', signed=js.startswith('-'))
            return str(v)
        return '0x' + wire.hex()
    if isinstance(wire, int) and not isinstance(wire, bool):
        return wire if abs(wire) <= 2**53 else str(wire)
    if isinstance(wire, dict):
        return {k: view(v, js.get(k) if isinstance(js, dict) else None) for k, v in wire.items()}
    if isinstance(wire, list):
        return [view(v, js[n] if isinstance(js, list) and n < len(js) else None) for n, v in enumerate(wire)]
    return wire

# Optional enums left out at their first value (README: "zero" of an enum is its first name).
ENUM_DEFAULTS = {('tx.status', 'error'): 'none', ('price.update', 'batch_call'): 'none'}

def empty(v):
    return v in (0, False, '', '0', [], {}) or (isinstance(v, str) and v.startswith('0x') and set(v[2:]) <= {'0'})

def same(js, wire):
    """wire == js, where a nested record's optional field left out on the wire is empty in js."""
    if isinstance(js, list) and isinstance(wire, list):
        return len(js) == len(wire) and all(same(a, b) for a, b in zip(js, wire))
    if isinstance(js, dict) and isinstance(wire, dict):
        return all(k in js and same(js[k], v) for k, v in wire.items()) and \
            all(k in wire or empty(v) for k, v in js.items())
    return js == wire

def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    bad = n = 0
    for f in sorted(glob.glob(os.path.join(d, '*.json'))):
        for k, vec in enumerate(json.load(open(f))):
            b = bytes.fromhex(vec['hex']); js = vec['json']
            wire, end = read(b, 0)
            assert end == len(b), 'trailing bytes'
            got = view(wire, js)
            # fields absent on the wire must be zero/empty in the JSON view (optional, left out)
            for key, val in js.items():
                if key not in got and not empty(val) and ENUM_DEFAULTS.get((vec['type'], key)) != val:
                    print('%s[%d]: %s missing on the wire but %r in json' % (f, k, key, val)); bad += 1
            for key, val in got.items():
                if not same(js.get(key), val):
                    print('%s[%d]: %s wire %r != json %r' % (f, k, key, val, js.get(key))); bad += 1
            n += 1
    print('%d vectors checked, %d mismatches' % (n, bad))
    return 1 if bad or n == 0 else 0

if __name__ == '__main__':
    sys.exit(main())
