"""redis-py's transactions against the server on 127.0.0.1:PORT (argv[1]):
pipeline(transaction=True) is one MULTI/EXEC, a run-time error comes back
in its place, and WATCH retry loops in two threads (two connections: on
mmcache, likely two workers) lose no increment. Exit 0 when all hold."""
import sys
import threading

import redis

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
r.flushall()
fails = []


def check(name, got, want):
    print(("ok   - " if got == want else "FAIL - ") + name)
    if got != want:
        print("  want %r\n  got  %r" % (want, got))
        fails.append(name)


p = r.pipeline(transaction=True)
p.set("a", "1").incr("a").mset({"b": "x", "c": "y"}).mget("a", "b", "c")
check("pipeline(transaction=True)", p.execute(), [True, 2, True, ["2", "x", "y"]])

p = r.pipeline(transaction=True)
p.incr("b").set("d", "1")
res = p.execute(raise_on_error=False)
check("run-time error in its place, the rest ran",
      [type(res[0]).__name__, res[1], r.get("d")], ["ResponseError", True, "1"])


def incr_loop(n, gave_up):
    c = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    for _ in range(n):
        with c.pipeline() as pipe:
            for _tries in range(10000):
                try:
                    pipe.watch("counter")
                    v = int(pipe.get("counter") or 0)
                    pipe.multi()
                    pipe.set("counter", v + 1)
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
            else:
                gave_up.append(1)


gave_up = []
ts = [threading.Thread(target=incr_loop, args=(300, gave_up)) for _ in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
check("WATCH retry loops in two threads: every increment kept",
      [r.get("counter"), len(gave_up)], ["600", 0])

r.set("w", "1")
with r.pipeline() as pipe:
    pipe.watch("w")
    redis.Redis(host="127.0.0.1", port=port).set("w", "2")   # another client
    pipe.multi()
    pipe.set("w", "3")
    try:
        pipe.execute()
        got = "ran"
    except redis.WatchError:
        got = "WatchError"
check("a watched key changed by another client: WatchError", got, "WatchError")
check("... and the queued SET did not run", r.get("w"), "2")
sys.exit(1 if fails else 0)
