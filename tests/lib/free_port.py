#!/usr/bin/env python3
"""free_port.py - TCP ports for tests that can never collide, whatever else runs on the host.

  free_port.py [--count N] [--owner PID]   prints the first of N consecutive free ports (default 1)
  free_port.py --release PID               drops every reservation PID holds

Why not bind port 0: the kernel then hands out a port from the ephemeral range
(/proc/sys/net/ipv4/ip_local_port_range), which every outgoing connection (curl, an actor dialing,
anvil's clients) also takes. A port found free that way can be a connection's local port a moment
later, and the actor meant to listen on it fails ("cannot listen (address in use?)"). So ports come
from BELOW the ephemeral range (from 20000 up to its start; above its end if it starts too low),
where no connection is ever given a local port.

Two tests running at once (run-tests.sh TEST_JOBS) must not be handed the same port either: every
port handed out is reserved in a file shared by all tests of this user ($OB_PORTS_DIR, default
$TMPDIR/oraclebus-ports-UID), under an flock, for its owner: the test script's pid (--owner, default
the parent process), identified with its start time so a reused pid is not mistaken for it. A
reservation lasts until the owner releases it (common.sh does at exit) or is gone (then it is
dropped at the next call). A port is handed out only if no one holds it and it binds now on
0.0.0.0 without SO_REUSEADDR (so not even a TIME_WAIT connection of an earlier test holds it).
"""
import fcntl
import os
import random
import socket
import sys

FLOOR = 20000  # below: ports that services on a developer's machine tend to use (7701, 8000, 8545)


def port_dir():
    d = os.environ.get("OB_PORTS_DIR") or os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "oraclebus-ports-%d" % os.getuid())
    os.makedirs(d, mode=0o700, exist_ok=True)
    return d


def start_time(pid):
    """The process's start time (clock ticks since boot), or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (OSError, ValueError):
        return None
    # the command (field 2) may contain spaces and parentheses: fields after the last ')'
    return stat[stat.rindex(")") + 2:].split()[19]


def port_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = map(int, f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    if lo - FLOOR >= 1000:
        return FLOOR, lo - 1
    return hi + 1, 65535


def bindable(port):
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main(argv):
    count, owner, release = 1, os.getppid(), None
    i = 0
    while i < len(argv):
        if argv[i] == "--count":
            count = int(argv[i + 1])
            i += 2
        elif argv[i] == "--owner":
            owner = int(argv[i + 1])
            i += 2
        elif argv[i] == "--release":
            release = int(argv[i + 1])
            i += 2
        else:
            sys.exit("usage: free_port.py [--count N] [--owner PID] | --release PID")
    d = port_dir()
    table = os.path.join(d, "reserved")
    with open(os.path.join(d, "lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        held = {}  # port -> (pid, start time)
        try:
            with open(table) as f:
                for line in f:
                    p = line.split()
                    if len(p) == 3:
                        held[int(p[0])] = (int(p[1]), p[2])
        except OSError:
            pass
        # drop the reservations of owners that are gone (or whose pid now names another process)
        held = {port: o for port, o in held.items() if start_time(o[0]) == o[1]}
        found = None
        if release is not None:
            held = {port: o for port, o in held.items() if o[0] != release}
        else:
            me = start_time(owner)
            if me is None:
                sys.exit("free_port.py: owner %d is not running" % owner)
            lo, hi = port_range()
            for _ in range(2000):
                base = random.randint(lo, hi - count + 1)
                block = range(base, base + count)
                if any(p in held for p in block):
                    continue
                if all(bindable(p) for p in block):
                    found = base
                    for p in block:
                        held[p] = (owner, me)
                    break
        tmp = table + ".tmp"
        with open(tmp, "w") as f:
            for port in sorted(held):
                f.write("%d %d %s\n" % (port, held[port][0], held[port][1]))
        os.replace(tmp, table)
    if release is None:
        if found is None:
            sys.exit("free_port.py: no %d free port(s) in a row in %d-%d" % (count, lo, hi))
        print(found)


if __name__ == "__main__":
    main(sys.argv[1:])
