"""page.py: turns loadtest/micro/run's results into docs/hands-on.md and its
plots. Usage (run does this):
page.py DATA TEMPLATE PAGE PLOTDIR REPS CPUS SECS LOAD0 LOAD1

Template syntax (hands-on.md.in):
  @TABLE{name}            the results of `name` (DATA/name.tsv) as a table
  @PLOT{name}             the plot of `name` (made here with gnuplot)
  @{name|k=v,k=v|col}     one figure: column col of the row where k == v
  @R{ref/ref}             the ratio of two such figures (refs without @{})
  @FILE{name}             the text of DATA/name.txt (the hoist runs)
  @HOIST                  bug 1's wait_plain at -O0 and -O3, side by side
  @META{reps|cpus|secs|date|load0|load1}
Every figure in the page comes from this run: no number is typed in."""
import datetime, os, re, statistics, subprocess, sys

data, tmpl, page, plotdir, reps, cpus, secs, load0, load1 = sys.argv[1:10]


def load(name):
    with open(os.path.join(data, name + ".tsv")) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    head = [h.lstrip("#") for h in lines[0]]
    return head, [dict(zip(head, l)) for l in lines[1:]]


tables = {n: load(n) for n in ("counter", "falseshare", "shardlock", "bufpool", "ring", "lockwait")}

# The lock-wait runs: one row per run; the page shows medians per key shape.
head, rows = tables["lockwait"]
med = []
for p, d in ((p, d) for p in ("1", "16") for d in ("uniform", "zipf")):
    rs = [r for r in rows if r["dist"] == d and r["pipeline"] == p]
    m = {"dist": d, "pipeline": p, "runs": str(len(rs))}
    for c in ("commands", "lock_waits", "waits_per_1k", "allocs_per_cmd"):
        m[c] = "%g" % statistics.median(float(r[c]) for r in rs)
    med.append(m)
tables["lockwait"] = (["dist", "pipeline", "runs", "commands", "lock_waits", "waits_per_1k", "allocs_per_cmd"], med)


def lookup(ref):
    name, conds, col = ref.split("|")
    head, rows = tables[name]
    want = dict(c.split("=", 1) for c in conds.split(",")) if conds else {}
    hit = [r for r in rows if all(r[k] == v for k, v in want.items())]
    if len(hit) != 1:
        sys.exit("page.py: %s matches %d rows" % (ref, len(hit)))
    return hit[0][col]


def md_table(name):
    head, rows = tables[name]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(out)


def bars(name, rowkeys, colkey, val, ylabel, title, logy=False, where=None):
    """Clustered bars: one group per distinct rowkeys, one bar per colkey
    (of the rows where the column where[0] is where[1])."""
    head, rows = tables[name]
    rows = [r for r in rows if not where or r[where[0]] == where[1]]
    groups, cols = [], []
    for r in rows:
        g = " ".join(r[k] for k in rowkeys)
        if g not in groups:
            groups.append(g)
        if r[colkey] not in cols:
            cols.append(r[colkey])
    cell = {(" ".join(r[k] for k in rowkeys), r[colkey]): r[val] for r in rows}
    dat = os.path.join(data, name + ".dat")
    with open(dat, "w") as f:
        f.write("group\t" + "\t".join("%s=%s" % (colkey, c) for c in cols) + "\n")
        for g in groups:
            f.write('"%s"\t' % g + "\t".join(cell.get((g, c), "NaN") for c in cols) + "\n")
    png = os.path.join(plotdir, name + ".png")
    script = """set terminal pngcairo size 900,420 font ",10"
set output '%s'
set title "%s"
set ylabel "%s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside right top noenhanced
set xtics rotate by -25 noenhanced
set grid ytics
%s
plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)
""" % (png, title, ylabel, "set logscale y" if logy else "set yrange [0:*]", len(cols) + 1, dat)
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


bars("counter", ["variant"], "threads", "ns_per_op", "ns per increment (wall, all threads)",
     "A shared counter, 1 vs 2 threads", logy=True)
bars("falseshare", ["layout"], "threads", "ns_per_op", "ns per increment of one thread",
     "Per-thread counters: adjacent vs padded")
bars("shardlock", ["impl", "kind", "mix"], "shards",
     "ns_per_op", "ns per operation (wall, 2 threads)", "Shard lock kind x mix x shards, 2 threads",
     where=("threads", "2"))
bars("bufpool", ["variant"], "threads", "ns_per_req", "ns per request (wall, all threads)",
     "Request buffers: malloc'd vs pooled")
bars("ring", ["queue"], "threads", "ns_per_item", "ns per item handed off",
     "Hand-off: SPSC ring vs mutex queue")
bars("lockwait", ["dist"], "pipeline", "waits_per_1k", "shard lock waits per 1000 commands",
     "Lock waits in the server: uniform vs zipf keys")


def hoist():
    a = open(os.path.join(data, "hoist_O0.s")).read().splitlines()
    b = open(os.path.join(data, "hoist_O3.s")).read().splitlines()
    w = max(len(x) for x in a + ["-O0 (Debug)"]) + 4
    out = ["%-*s%s" % (w, "-O0", "-O3 (Release)"), "%-*s%s" % (w, "---", "-------------")]
    for i in range(max(len(a), len(b))):
        out.append("%-*s%s" % (w, a[i] if i < len(a) else "", b[i] if i < len(b) else ""))
    return "\n".join(l.rstrip() for l in out)


def ratio(m):
    x, y = m.group(1).split("/")
    return "%.1f" % (float(lookup(x)) / float(lookup(y)))


# The shard-lock table, one row per setting: 1 and 2 threads side by side.
head, rows = tables["shardlock"]
piv = {}
for r in rows:
    k = (r["impl"], r["kind"], r["mix"], r["shards"])
    p = piv.setdefault(k, dict(zip(("impl", "kind", "mix", "shards"), k)))
    p["ns_1thread"] = r["ns_per_op"] if r["threads"] == "1" else p.get("ns_1thread", "")
    p["spread_1thread"] = r["spread_pct"] if r["threads"] == "1" else p.get("spread_1thread", "")
    if r["threads"] == "2":
        p["ns_2threads"], p["spread_2threads"] = r["ns_per_op"], r["spread_pct"]
        p["ops_2threads"], p["waits_2threads"] = r["ops"], r["waits"]
        p["cpu_share_2threads"] = r["cpu_share"]
tables["shardlock_pivot"] = (["impl", "kind", "mix", "shards", "ns_1thread", "spread_1thread",
                              "ns_2threads", "spread_2threads", "cpu_share_2threads",
                              "ops_2threads", "waits_2threads"],
                             list(piv.values()))

meta = {"reps": reps, "cpus": cpus, "secs": secs, "load0": load0, "load1": load1,
        # when the run measured (its first result's time), not when this ran
        "date": datetime.datetime.utcfromtimestamp(os.path.getmtime(
            os.path.join(data, "counter.tsv"))).strftime("%Y-%m-%d %H:%M UTC")}
text = open(tmpl).read()
text = text.replace("@HOIST", hoist())
text = re.sub(r"@TABLE\{(\w+)\}", lambda m: md_table(m.group(1)), text)
text = re.sub(r"@PLOT\{(\w+)\}", lambda m: "![%s](hands-on/%s.png)" % (m.group(1), m.group(1)), text)
text = re.sub(r"@FILE\{(\w+)\}", lambda m: open(os.path.join(data, m.group(1) + ".txt")).read().strip(), text)
text = re.sub(r"@R\{([^}]*)\}", ratio, text)
text = re.sub(r"@META\{(\w+)\}", lambda m: meta[m.group(1)], text)
text = re.sub(r"@\{([^}]*)\}", lambda m: lookup(m.group(1)), text)
with open(page, "w") as f:
    f.write(text)
