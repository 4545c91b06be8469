#!/usr/bin/env python3
"""close_churn: connect/disconnect churn with replies still in flight.

Used by loadtest/bugs/18.sh (closing from the receiver). Each client
thread, over and over: connects, pipelines GETs of one big value (more
bytes than the socket buffers hold, so the server has a write in flight),
reads the first byte of the replies (the server is writing now), then goes
away: with a reset (SO_LINGER 0) or a plain close (which resets too, with
unread data). The server sees the reset on the read side while its write
is pending.

    close_churn.py --port P [--seconds S] [--clients N] [--value-size B]
                   [--gets K] [--rcvbuf B] [--pid PID]

A small receive buffer (--rcvbuf, default 8 KiB) keeps the TCP window
small, so the server's replies cannot all fit in the kernel: a write is
left in flight whatever the machine's buffer autotuning would allow.

Stops early when the server stops accepting (or PID is gone). Prints one
line:  connections=N refused_after=T|- seconds=S
"""
import argparse
import os
import random
import socket
import struct
import threading
import time

from resp_client import encode


def read_reply_line(s):
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = s.recv(1)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--value-size", type=int, default=1 << 20)
    ap.add_argument("--gets", type=int, default=8)
    ap.add_argument("--rcvbuf", type=int, default=8192)
    ap.add_argument("--pid", type=int, default=0)
    a = ap.parse_args()

    addr = ("127.0.0.1", a.port)
    s = socket.create_connection(addr, timeout=5)
    s.sendall(encode("SET", "churn:big", b"x" * a.value_size))
    read_reply_line(s)
    s.close()

    pipeline = encode("GET", "churn:big") * a.gets
    t0 = time.monotonic()
    deadline = t0 + a.seconds
    lock = threading.Lock()
    state = {"conns": 0, "refused": None}
    stop = threading.Event()

    def alive():
        if a.pid:
            try:
                os.kill(a.pid, 0)
            except OSError:
                return False
        return True

    def client(seed):
        rnd = random.Random(seed)
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
                c.settimeout(2)
                c.connect(addr)
            except OSError:
                with lock:
                    if state["refused"] is None:
                        state["refused"] = time.monotonic() - t0
                stop.set()
                return
            try:
                c.sendall(pipeline)
                # Wait for the first bytes of the replies: the server has
                # read and run the GETs and is writing (it cannot finish:
                # the window is small and nobody reads on). Then leave.
                c.recv(1)
                time.sleep(rnd.uniform(0, 0.005))
                if rnd.random() < 0.5:
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
            except OSError:
                pass
            finally:
                c.close()
            with lock:
                state["conns"] += 1
            if not alive():
                stop.set()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = state["refused"]
    print("connections=%d refused_after=%s seconds=%.1f" % (
        state["conns"], "-" if refused is None else "%.1f" % refused,
        time.monotonic() - t0))


if __name__ == "__main__":
    main()
