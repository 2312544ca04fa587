#!/usr/bin/env bash
# Two server builds side by side under the hot-SKU cart loop, to tell a small change from the noise:
# on a shared 2-core machine the same binary varies by up to 30 % in CPU per operation minutes apart,
# more than most single changes. Both servers run at once, each on its own loopback port under its own
# closed bench/reserve_wrk.sh, so whatever slows the machine slows both; each pass runs the pair twice,
# A then B on the first port and swapped on the second, and prints operations per tick of server CPU
# (utime + stime from /proc/PID/stat, setup included) for each, and B's over A's.
#
#   bench/ab.sh BINARY_A BINARY_B [--passes 3] [--duration 10s] [--conns 128]
#
# A ratio above 1 means B does more work per CPU tick. Ratios within about 3 % of 1 are noise here.
# Loopback only; stops by itself.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
a=$1 b=$2; shift 2
passes=3 duration=10s conns=128
while [ $# -gt 0 ]; do
  case $1 in
    --passes) passes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
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

# load NAME PID PORT: the cart loop; leaves ops/s and the server's CPU ticks in $work/NAME.result.
load() {
  local row ops
  row=$("$here/reserve_wrk.sh" "http://127.0.0.1:$3" "$key" --duration "$duration" --conns "$conns" | tail -1)
  ops=$(awk -F'|' '{gsub(/[, ]/, "", $5); print $5}' <<<"$row")
  echo "$ops $(awk '{print $14 + $15}' "/proc/$2/stat")" >"$work/$1.result"
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
  python3 - "$work/first.result" "$work/second.result" "$duration" "$1" "$2" "$a" <<'PY'
import sys
first, second, duration, bin1, bin2, a = sys.argv[1:]
seconds = float(duration.rstrip("s"))
def per_tick(path):
    ops, ticks = open(path).read().split()
    return float(ops), float(ops) * seconds / float(ticks)
(o1, t1), (o2, t2) = per_tick(first), per_tick(second)
ta, tb = (t1, t2) if bin1 == a else (t2, t1)
order = "A first" if bin1 == a else "B first"
print(f"{order}: {o1:,.0f} + {o2:,.0f} ops/s; ops per CPU tick A {ta:.1f}, B {tb:.1f}; B/A {tb / ta:.3f}")
PY
}

ratios=()
for _ in $(seq "$passes"); do
  for order in ab ba; do
    if [ $order = ab ]; then line=$(pair "$a" "$b"); else line=$(pair "$b" "$a"); fi
    echo "$line"
    ratios+=("${line##* }")
  done
done
python3 -c 'import statistics, sys; r = [float(x) for x in sys.argv[1:]]; print(f"B/A over {len(r)} runs: mean {statistics.mean(r):.3f}, min {min(r):.3f}, max {max(r):.3f}")' "${ratios[@]}"
