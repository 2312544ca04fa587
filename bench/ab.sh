#!/usr/bin/env bash
# Two server builds side by side under the hot-SKU cart loop, to tell a small change from the noise:
# on a shared 2-core machine the same binary varies by up to 30 % in CPU per operation minutes apart,
# more than most single changes. Both servers run at once, each on its own loopback port under its own
# closed bench/reserve_wrk.sh, so whatever slows the machine slows both; each pass runs the pair twice,
# A then B on the first port and swapped on the second, and prints operations per tick of server CPU
# (utime + stime from /proc/PID/task/*/stat, setup included) for each, and B's over A's, with the
# CPU per operation of each kind of thread (executor, writer, event loops, flusher) for A and for B:
# a change to one thread shows there more plainly than in the total.
#
#   bench/ab.sh BINARY_A BINARY_B [--passes 3] [--duration 10s] [--conns 128] [--load carts|checkout] [--customers 1000]
#
# --load checkout puts bench/checkout_load.py's orders (cart, line, details, completion; 16 workers)
# in place of the cart loop: an operation is then an order placed, its email one of --customers.
#
# A ratio above 1 means B does more work per CPU tick. Ratios within about 3 % of 1 are noise here.
# Loopback only; stops by itself.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
customers=1000
a=$1 b=$2; shift 2
passes=3 duration=10s conns=128 workload=carts
while [ $# -gt 0 ]; do
  case $1 in
    --passes) passes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --load) workload=$2; shift 2 ;;
    --customers) customers=$2; shift 2 ;;
    *) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
key=ab-admin-key-$RANDOM$RANDOM
work=$(mktemp -d -t shopfloor-ab.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start BINARY NAME: a fresh server; prints its pid and port.
start() {
  local port
  port=$(free_port)
  mkdir -p "$work/$2"
  SHOPFLOOR_ADMIN_KEY=$key "$1" serve --host 127.0.0.1 --port "$port" --data-dir "$work/$2" --log-level warning \
    >"$work/$2.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$2.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$pid $port"
}

# load NAME PID PORT: the cart loop; leaves ops/s and the server's CPU ticks, in all and by thread
# (writer, flusher, event loops, the rest: the executor), in $work/NAME.result.
load() {
  local row ops
  if [ "$workload" = checkout ]; then
    ops=$(python3 "$here/checkout_load.py" "http://127.0.0.1:$3" "$key" --duration "${duration%s}" --customers "$customers" | tail -1)
  else
    row=$("$here/reserve_wrk.sh" "http://127.0.0.1:$3" "$key" --duration "$duration" --conns "$conns" | tail -1)
    ops=$(awk -F'|' '{gsub(/[, ]/, "", $5); print $5}' <<<"$row")
  fi
  python3 - "$ops" "$2" >"$work/$1.result" <<'PY'
import json, os, sys
ops, pid = float(sys.argv[1]), sys.argv[2]
groups = {"sf-writer": "writer", "sf-wal-flusher": "flusher", "sf-event-loop": "loops"}
ticks = {"all": 0, "writer": 0, "flusher": 0, "loops": 0, "executor": 0}
for task in os.listdir(f"/proc/{pid}/task"):
    try:
        stat = open(f"/proc/{pid}/task/{task}/stat").read()
    except FileNotFoundError:
        continue
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    used = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    ticks["all"] += used
    if comm.startswith("sf-checkpointer"):
        continue
    ticks[groups.get(comm, "executor")] += used
print(json.dumps({"ops": ops, "ticks": ticks}))
PY
}

# pair FIRST SECOND: both at once; prints B's ratio.
pair() {
  local p1 p2 port1 port2
  read -r p1 port1 < <(start "$1" first)
  read -r p2 port2 < <(start "$2" second)
  pids=("$p1" "$p2")
  load first "$p1" "$port1" & local l1=$!
  load second "$p2" "$port2" & local l2=$!
  wait "$l1" "$l2"
  kill -TERM "$p1" "$p2"; wait "$p1" "$p2" 2>/dev/null || true
  pids=()
  rm -rf "$work/first" "$work/second"
  python3 - "$work/first.result" "$work/second.result" "$duration" "$1" "$2" "$a" "$work/runs.jsonl" <<'PY'
import sys
first, second, duration, bin1, bin2, a, runs = sys.argv[1:]
seconds = float(duration.rstrip("s"))
import json
r1, r2 = json.load(open(first)), json.load(open(second))
ra, rb = (r1, r2) if bin1 == a else (r2, r1)
# Microseconds of CPU per operation, by thread group (a tick is 10 ms).
def us(r, group):
    return r["ticks"][group] * 10_000 / (r["ops"] * seconds)
threads = ", ".join(f"{g} {us(ra, g):.1f}/{us(rb, g):.1f}" for g in ("executor", "writer", "loops", "flusher"))
ta, tb = 1 / us(ra, "all"), 1 / us(rb, "all")
order = "A first" if bin1 == a else "B first"
print(f"{order}: {r1['ops']:,.0f} + {r2['ops']:,.0f} ops/s; µs per op A/B: {threads}; B/A {tb / ta:.3f}")
with open(runs, "a") as log:
    log.write(json.dumps({g: [us(ra, g), us(rb, g)] for g in ("executor", "writer", "loops", "flusher")} | {"ratio": tb / ta}) + "\n")
PY
}

for _ in $(seq "$passes"); do
  pair "$a" "$b"
  pair "$b" "$a"
done
python3 - "$work/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
r = [run["ratio"] for run in runs]
print(f"B/A over {len(r)} runs: mean {statistics.mean(r):.3f}, min {min(r):.3f}, max {max(r):.3f}")
print("µs per op, mean A → B: " + ", ".join(
    f"{g} {statistics.mean(run[g][0] for run in runs):.1f} → {statistics.mean(run[g][1] for run in runs):.1f}"
    for g in ("executor", "writer", "loops", "flusher")))
PY
