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
#               [--beside shoppers[:N]]
#
# --load checkout puts bench/checkout_load.py's orders (cart, line, details, completion; 16 workers)
# in place of the cart loop: an operation is then an order placed, its email one of --customers.
#
# --beside shoppers[:N] (N 10,000 by default) measures the load with N live shoppers beside it: before
# each measured run, `bench/shoppers.py load` connects N WebSockets to that server (hello, then a track
# every ~10 s; the same N for A and B; needs `make venv`), and they stay until the run ends. The CPU
# ticks then count from the start of the run, so the shoppers' ramp-up is left out (setup is
# otherwise included), and each server may hold N + conns + 1,000 connections.
#
# A ratio above 1 means B does more work per CPU tick. Ratios within about 3 % of 1 are noise here.
# Loopback only; stops by itself.
set -euo pipefail
. "$(dirname "$0")/limits.env"

[ $# -ge 2 ] || { sed -n '2,24p' "$0" >&2; exit 2; }
customers=1000
a=$1 b=$2; shift 2
passes=3 duration=10s conns=128 workload=carts beside=""
while [ $# -gt 0 ]; do
  case $1 in
    --passes) passes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --load) workload=$2; shift 2 ;;
    --customers) customers=$2; shift 2 ;;
    --beside) beside=$2; shift 2 ;;
    *) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
# --beside shoppers[:N]: N live shoppers per server (0: none).
shoppers=0
case $beside in
  "") ;;
  shoppers) shoppers=10000 ;;
  shoppers:*) shoppers=${beside#shoppers:} ;;
  *) echo "ab.sh: --beside takes shoppers or shoppers:N" >&2; exit 2 ;;
esac
case $shoppers in ''|*[!0-9]*) echo "ab.sh: --beside shoppers:N needs a whole number" >&2; exit 2 ;; esac
if [ "$shoppers" -gt 0 ]; then
  # The shoppers speak WebSocket through the test venv's `websockets`; each server needs a descriptor a socket.
  venv_python=$here/../.build/venv/bin/python
  [ -x "$venv_python" ] || { echo "ab.sh: --beside shoppers needs .build/venv (make venv)" >&2; exit 2; }
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
key=ab-admin-key-$RANDOM$RANDOM
work=$(mktemp -d -t shopfloor-ab.XXXXXX)
pids=()
# (With --beside shoppers, the shoppers loads still running are stopped too.)
trap 'kill "${pids[@]}" 2>/dev/null || true; for f in "$work"/*.shoppers.pid; do { [ -e "$f" ] && kill -TERM "$(cat "$f")"; } 2>/dev/null || true; done; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start BINARY NAME: a fresh server; prints its pid and port.
start() {
  local port
  port=$(free_port)
  mkdir -p "$work/$2"
  local room=()
  [ "$shoppers" -gt 0 ] && room=(--max-connections $((shoppers + conns + 1000)))
  SHOPFLOOR_ADMIN_KEY=$key "$1" serve --host 127.0.0.1 --port "$port" --data-dir "$work/$2" --log-level warning \
    "${room[@]}" >"$work/$2.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$2.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$pid $port"
}

# thread_ticks PID: the server's CPU ticks so far, in all and by thread (writer, flusher, event loops,
# the rest: the executor), as JSON.
thread_ticks() {
  python3 - "$1" <<'PY'
import json, os, sys
pid = sys.argv[1]
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
print(json.dumps(ticks))
PY
}

# shoppers_up NAME PORT: bench/shoppers.py load against the server, in the background; returns once
# every shopper is live (its pid in $work/NAME.shoppers.pid). They stop on SIGTERM, or by themselves
# 300 s after the run should have ended.
shoppers_up() {
  local spid
  rm -f "$work/$1.ready"
  "$venv_python" "$here/shoppers.py" load --url "http://127.0.0.1:$2" --admin-key "$key" --shoppers "$shoppers" \
    --duration $(( ${duration%s} + 300 )) --ready-file "$work/$1.ready" >"$work/$1.shoppers" 2>&1 &
  spid=$!
  echo "$spid" >"$work/$1.shoppers.pid"
  for _ in $(seq $(( (shoppers / 100 + 120) * 5 ))); do
    [ -s "$work/$1.ready" ] && return 0
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.2
  done
  echo "ab.sh: $shoppers shoppers did not all go live on $1:" >&2
  cat "$work/$1.shoppers" >&2
  kill -TERM "$spid" 2>/dev/null || true
  exit 1
}

# shoppers_down NAME: stops NAME's shoppers (started by another subshell, so polled rather than
# waited for) and says on stderr whether they all stayed live.
shoppers_down() {
  local spid
  spid=$(cat "$work/$1.shoppers.pid")
  kill -TERM "$spid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$spid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$spid" 2>/dev/null || true
  rm -f "$work/$1.shoppers.pid"
  python3 - "$work/$1.shoppers" "$1" <<'PY' >&2
import json, sys
path, name = sys.argv[1:]
try:
    r = json.loads(open(path).read().strip().splitlines()[-1])
    print(f"ab.sh: {name}: {r['live']:,} shoppers went live, {r['open']:,} still open at the end, {r['tracks']:,} tracks, "
          f"errors {r['errors'] or 'none'}, closed by the server {r['server_closed'] or 'none'}")
except (IndexError, KeyError, ValueError):
    print(f"ab.sh: {name}: the shoppers load failed:\n" + open(path).read()[-2000:])
PY
}

# load NAME PID PORT: the cart loop; leaves ops/s and the server's CPU ticks, in all and by thread
# (writer, flusher, event loops, the rest: the executor), in $work/NAME.result. With --beside shoppers
# (already live: see pair) the ticks count from the start of the cart loop, and the shoppers stop after it.
load() {
  local row ops base='{}'
  if [ "$shoppers" -gt 0 ]; then
    base=$(thread_ticks "$2")
  fi
  if [ "$workload" = checkout ]; then
    ops=$(python3 "$here/checkout_load.py" "http://127.0.0.1:$3" "$key" --duration "${duration%s}" --customers "$customers" | tail -1)
  else
    row=$("$here/reserve_wrk.sh" "http://127.0.0.1:$3" "$key" --duration "$duration" --conns "$conns" | tail -1)
    ops=$(awk -F'|' '{gsub(/[, ]/, "", $5); print $5}' <<<"$row")
  fi
  python3 - "$ops" "$(thread_ticks "$2")" "$base" >"$work/$1.result" <<'PY'
import json, sys
ops, ticks, base = float(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(json.dumps({"ops": ops, "ticks": {group: used - base.get(group, 0) for group, used in ticks.items()}}))
PY
  if [ "$shoppers" -gt 0 ]; then
    shoppers_down "$1"
  fi
}

# pair FIRST SECOND: both at once; prints B's ratio.
pair() {
  local p1 p2 port1 port2
  read -r p1 port1 < <(start "$1" first)
  read -r p2 port2 < <(start "$2" second)
  pids=("$p1" "$p2")
  if [ "$shoppers" -gt 0 ]; then
    # Both servers' shoppers go live before either cart loop starts, so the loops overlap each other only.
    shoppers_up first "$port1" & local s1=$!
    shoppers_up second "$port2" & local s2=$!
    wait "$s1" || exit 1
    wait "$s2" || exit 1
  fi
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
