#!/usr/bin/env python3
"""info_crosstalk: many clients ask INFO for different sections at once and
check that every reply is well formed and belongs to the section asked for.

    info_crosstalk.py --port P [--clients 8] [--duration 6]
                      [--sections server,stats,clients,memory]

First, on one connection and with nothing else running, it reads each
section once as the reference: its header and its field names in order.
Then each client (a thread with its own connection; client i asks for
section i mod n) sends INFO <section> back to back and checks the reply:
a bulk string whose lines are the reference's header and fields, in the
same order, each "name:value" of printable characters. Values may change;
names, order and format may not. A line that is another section's field is
cross-talk (bytes formatted for another client). Stops at the first bad
reply (after a short grace to count a few more) or at --duration.

Prints "checked N replies, B bad" and, for the first bad replies,
"bad: ..." lines. Exit 1 when a reply was bad, 0 otherwise, 2 on a set-up
error (the server not answering is reported as "error: ...").
"""
import argparse
import sys
import threading
import time

from resp_client import Conn, encode


def parse(data):
    """(header, [field names]) or raise ValueError(what is wrong)."""
    if not data.endswith(b"\r\n"):
        raise ValueError("reply ends %r, not CRLF" % data[-40:])
    lines = data[:-2].split(b"\r\n")
    header, names = lines[0], []
    if not header.startswith(b"# "):
        raise ValueError("first line %r is not a '# Section' header" % header[:80])
    for ln in lines[1:]:
        name, sep, value = ln.partition(b":")
        if not sep or not name or not all(c == 95 or 48 <= c <= 57 or 97 <= c <= 122 for c in name):
            raise ValueError("malformed line %r" % ln[:80])
        if any(c < 32 or c > 126 for c in value):
            raise ValueError("line %r has control bytes" % ln[:80])
        names.append(name.decode())
    return header.decode(), names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=6)
    ap.add_argument("--sections", default="server,stats,clients,memory")
    ap.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args()
    sections = a.sections.split(",")

    ref, owner = {}, {}
    try:
        c = Conn(a.port, a.timeout)
        for sec in sections:
            c.s.sendall(encode("INFO", sec))
            data, head = c.bulk()
            if data is None:
                print("error: INFO %s answered %r" % (sec, head))
                return 2
            ref[sec] = parse(data)
            for n in ref[sec][1]:
                owner.setdefault(n, sec)
        c.s.close()
    except (OSError, ValueError, ConnectionError) as e:
        print("error: reference INFO: %s" % e)
        return 2

    lock = threading.Lock()
    stats = {"checked": 0, "bad": 0, "errors": []}
    bad_lines = []
    stop = threading.Event()
    stop_at = [time.monotonic() + a.duration]

    def judge(sec, data):
        """None if the reply is right, else what is wrong."""
        want_head, want = ref[sec]
        try:
            head, names = parse(data)
        except ValueError as e:
            # Name another section's field found in the bad bytes, if any.
            text = data.decode("latin-1")
            mine = set(want)
            for n in sorted(owner, key=len, reverse=True):
                if n not in mine and len(n) >= 6 and n in text:
                    return ("INFO %s: %s, and the reply holds '%s', a field of INFO %s (cross-talk)"
                            % (sec, e, n, owner[n]))
            return "INFO %s: %s" % (sec, e)
        if head != want_head:
            return "INFO %s: header %r, expected %r" % (sec, head, want_head)
        if names == want:
            return None
        for i, n in enumerate(names):
            if i >= len(want) or n != want[i]:
                exp = want[i] if i < len(want) else "(end of section)"
                where = owner.get(n)
                if where and where != sec:
                    return ("INFO %s: line %d is '%s', a field of INFO %s (cross-talk), expected '%s'"
                            % (sec, i + 2, n, where, exp))
                return "INFO %s: line %d is '%s', expected '%s'" % (sec, i + 2, n, exp)
        return "INFO %s: %d fields, expected %d" % (sec, len(names), len(want))

    def client(i):
        sec = sections[i % len(sections)]
        req = encode("INFO", sec)
        checked = bad = 0
        try:
            c = Conn(a.port, a.timeout)
            while not stop.is_set() and time.monotonic() < stop_at[0]:
                c.s.sendall(req)
                data, head = c.bulk()
                checked += 1
                what = ("INFO %s: reply %r is not a bulk string" % (sec, head[:80])
                        if data is None else judge(sec, data))
                if what:
                    bad += 1
                    with lock:
                        if len(bad_lines) < 5:
                            bad_lines.append(what)
                        # a short grace to count a few more, then stop
                        stop_at[0] = min(stop_at[0], time.monotonic() + 0.3)
        except (OSError, ConnectionError, ValueError) as e:
            with lock:
                stats["errors"].append("client %d (INFO %s): %s" % (i, sec, e))
        with lock:
            stats["checked"] += checked
            stats["bad"] += bad

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    print("checked %d replies in %.1f s on %d clients (sections %s), %d bad"
          % (stats["checked"], secs, a.clients, ",".join(sections), stats["bad"]))
    for b in bad_lines:
        print("bad: " + b)
    for e in stats["errors"][:3]:
        print("error: " + e)
    return 1 if stats["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
