#!/usr/bin/env python3
"""loader_driver: drive mmcache's read-through loader for the bug scenarios
(loadtest/bugs/05.sh 06.sh 07.sh 19.sh 20.sh 25.sh). mmcache-load does not
know about the loader: this sends GETs of keys the cache does not hold, so
each one is loaded, and checks every answer against what the origin gives.

The synthetic origin answers "key:<key>:v<N>" padded with '.' to
loader-synthetic-value-size (N: the config generation it was built in), so
an answer can be checked knowing only the key. A file origin written by
the scenario holds "key:<key>:file".

Modes (one line of results on stdout, "name=value" pairs, then details):
  waiters  rounds of fresh keys; every connection GETs all of a round's keys
           at once (many waiters per load); every value checked
  burst    one burst: every connection GETs its own fresh keys at once (a
           fresh server: the first misses); every answer checked
  flip     GET+DEL of keys that exist as files while another connection
           flips `loader` between synthetic and file DIR
  fire     send GETs of fresh keys on many connections, then close them
  lone     a fresh server's first miss, alone, on one worker, while a
           connection on another worker polls INFO loader (bug 7's natural
           form: a reader of the pool pointer with no lock in common with
           the thread that creates the pool, so TSan can see the race)
"""
import argparse
import os
import random
import re
import socket
import sys
import threading
import time

from resp_client import Conn, encode


def show(b, n=60):
    s = b[:n].decode("latin-1").encode("unicode_escape").decode()
    return s + ("..." if len(b) > n else "")


class Checker:
    """Counts answers and keeps the first few wrong ones."""

    def __init__(self, size, file_ok=False):
        self.size = size
        self.file_ok = file_ok
        self.lock = threading.Lock()
        self.total = self.ok = self.wrong = self.errors = self.nils = self.lost = 0
        self.kinds = {}
        self.examples = []

    def expect(self, key, kind, v):
        k = key.encode()
        if kind == "bulk":
            good = False
            m = re.match(rb"key:" + re.escape(k) + rb":v(\d+)(\.*)\Z", v)
            if m:
                base = 4 + len(k) + 2 + len(m.group(1))
                good = len(v) == max(base, self.size)
            elif self.file_ok and v == b"key:" + k + b":file":
                good = True
            if good:
                return "ok", None
            if len(v) == 0:
                return "empty", "empty value"
            if v.startswith(b"$"):
                return "framed", "value %s" % show(v)
            if v.startswith(b"key:" + k + b":"):
                return "partial", "value %s" % show(v)
            if v.startswith(b"key:"):
                return "another-key", "value %s" % show(v)
            if v.count(0) == len(v):
                return "unwritten", "%d zero bytes" % len(v)
            return "garbage", "value %s" % show(v)
        if kind == "err":
            return "error", "-%s" % v
        if kind == "nil":
            return "nil", "nil"
        return "other", "%s %r" % (kind, v)

    def add(self, key, kind, v):
        what, why = self.expect(key, kind, v)
        with self.lock:
            self.total += 1
            if what == "ok":
                self.ok += 1
                return True
            self.kinds[what] = self.kinds.get(what, 0) + 1
            if what == "error":
                self.errors += 1
            elif what == "nil":
                self.nils += 1
            else:
                self.wrong += 1
            if len(self.examples) < 3:
                self.examples.append("GET %s -> %s" % (key, why))
            return False

    def add_lost(self, n, why):
        with self.lock:
            self.lost += n
            if len(self.examples) < 3:
                self.examples.append(why)

    def bad(self):
        return self.total - self.ok + self.lost

    def summary(self, extra=""):
        kinds = ",".join("%s:%d" % kv for kv in sorted(self.kinds.items())) or "-"
        print("answers=%d ok=%d wrong=%d errors=%d nil=%d lost=%d kinds=%s%s" %
              (self.total, self.ok, self.wrong, self.errors, self.nils, self.lost, kinds, extra))
        for e in self.examples:
            print("example: %s" % e)


def connect_all(a):
    conns = []
    for _ in range(a.clients):
        conns.append(Conn(a.port, a.timeout))
    return conns


def mode_waiters(a):
    """Rounds: keys <tag>:<round>:<i>; every connection GETs every key of the
    round, pipelined, in its own order; all connections start together."""
    ck = Checker(a.size)
    conns = connect_all(a)
    end = time.time() + a.duration
    rnd = 0
    while time.time() < end:
        rnd += 1
        keys = ["%s:%d:%d" % (a.tag, rnd, i) for i in range(a.keys)]
        go = threading.Barrier(len(conns))

        def one(c, seed):
            order = keys[:]
            random.Random(seed).shuffle(order)
            try:
                go.wait()
                c.send(b"".join(encode("GET", k) for k in order))
                for k in order:
                    kind, v = c.reply()
                    ck.add(k, kind, v)
            except (OSError, ConnectionError, threading.BrokenBarrierError) as e:
                ck.add_lost(len(order), "connection: %s" % e)

        ts = [threading.Thread(target=one, args=(c, rnd * 1000 + i)) for i, c in enumerate(conns)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if ck.lost:
            break
        if ck.bad() and a.stop_early:
            break
    ck.summary(" rounds=%d" % rnd)
    for c in conns:
        c.close()


def mode_burst(a):
    """Each connection GETs its own `keys` fresh keys, all connections at once."""
    ck = Checker(a.size)
    conns = connect_all(a)
    go = threading.Barrier(len(conns))
    t0 = time.time()
    slow = [0.0]

    def one(c, ci):
        keys = ["%s:%d:%d" % (a.tag, ci, i) for i in range(a.keys)]
        try:
            go.wait()
            c.send(b"".join(encode("GET", k) for k in keys))
            for k in keys:
                kind, v = c.reply()
                ck.add(k, kind, v)
            with ck.lock:
                slow[0] = max(slow[0], time.time() - t0)
        except socket.timeout:
            ck.add_lost(1, "no answer within %.1f s on a connection" % a.timeout)
        except (OSError, ConnectionError, threading.BrokenBarrierError) as e:
            ck.add_lost(1, "connection: %s" % e)

    ts = [threading.Thread(target=one, args=(c, i)) for i, c in enumerate(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    ck.summary(" slowest_ms=%d" % int(slow[0] * 1000))
    for c in conns:
        c.close()


def mode_flip(a):
    """Clients GET then DEL keys f<i> (files in DIR, and synthetic values)
    while a flipper switches the loader; every answer checked."""
    ck = Checker(a.size, file_ok=True)
    conns = connect_all(a)
    ctl = Conn(a.port, a.timeout)
    end = time.time() + a.duration
    stop = threading.Event()
    flips = [0]

    def flipper():
        specs = ["file %s" % a.dir, "synthetic"]
        i = 0
        while not stop.is_set() and time.time() < end:
            try:
                ctl.send(encode("CONFIG", "SET", "loader", specs[i % 2]))
                kind, v = ctl.reply()
                if kind == "err":
                    ck.add_lost(0, "CONFIG SET loader: -%s" % v)
            except (OSError, ConnectionError) as e:
                ck.add_lost(0, "config connection: %s" % e)
                return
            i += 1
            flips[0] = i
            time.sleep(a.flip_ms / 1000.0)

    def one(c, ci):
        rng = random.Random(ci)
        try:
            while not stop.is_set() and time.time() < end:
                keys = ["f%d" % rng.randrange(a.keys) for _ in range(8)]
                c.send(b"".join(encode("GET", k) + encode("DEL", k) for k in keys))
                for k in keys:
                    kind, v = c.reply()
                    ck.add(k, kind, v)
                    c.reply()   # DEL
                if ck.bad() and a.stop_early:
                    stop.set()
        except (OSError, ConnectionError) as e:
            ck.add_lost(1, "connection: %s" % e)
            stop.set()

    ft = threading.Thread(target=flipper)
    ts = [threading.Thread(target=one, args=(c, i)) for i, c in enumerate(conns)]
    ft.start()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stop.set()
    ft.join()
    ck.summary(" flips=%d" % flips[0])
    for c in conns + [ctl]:
        c.close()


def worker_of(c):
    """The worker a connection is served by (CLIENT INFO's worker=N)."""
    c.send(encode("CLIENT", "INFO"))
    kind, v = c.reply()
    m = re.search(rb"worker=(\d+)", v or b"") if kind == "bulk" else None
    return int(m.group(1)) if m else None


def mode_lone(a):
    ck = Checker(a.size)
    conns, by = [], {}
    for _ in range(8):
        c = Conn(a.port, a.timeout)
        conns.append(c)
        by.setdefault(worker_of(c), c)
        if len(by) >= 2:
            break
    if len(by) < 2 or None in by:
        print("answers=0 ok=0 wrong=0 errors=0 nil=0 lost=0 kinds=- error=no two workers seen")
        return
    (_, miss), (_, poller) = list(by.items())[:2]
    stop = threading.Event()
    polls = [0]

    def poll():
        try:
            while not stop.is_set():
                poller.send(encode("INFO", "loader"))
                poller.reply()
                polls[0] += 1
        except (OSError, ConnectionError):
            pass

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.2)
    key = "%s:lone" % a.tag
    try:
        miss.send(encode("GET", key))
        kind, v = miss.reply()
        ck.add(key, kind, v)
    except (OSError, ConnectionError) as e:
        ck.add_lost(1, "connection: %s" % e)
    time.sleep(0.3)
    stop.set()
    t.join()
    ck.summary(" polls=%d" % polls[0])
    for c in conns:
        c.close()


def mode_fire(a):
    """Pipelined GETs of distinct fresh keys on each connection, unread;
    then close every connection."""
    conns = connect_all(a)
    n = 0
    for ci, c in enumerate(conns):
        c.send(b"".join(encode("GET", "%s:%d:%d" % (a.tag, ci, i)) for i in range(a.keys)))
        n += a.keys
    time.sleep(a.duration)
    for c in conns:
        c.close()
    print("sent=%d" % n)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["waiters", "burst", "flip", "fire", "lone"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--keys", type=int, default=20)
    p.add_argument("--size", type=int, default=64, help="loader-synthetic-value-size")
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--tag", default="k")
    p.add_argument("--dir", default="")
    p.add_argument("--flip-ms", type=float, default=2.0)
    p.add_argument("--stop-early", action="store_true",
                   help="stop at the first round with a wrong answer")
    a = p.parse_args()
    {"waiters": mode_waiters, "burst": mode_burst, "flip": mode_flip, "fire": mode_fire,
     "lone": mode_lone}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
