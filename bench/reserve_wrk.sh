#!/usr/bin/env bash
# The hot-SKU cart loop driven by wrk (bench/reserve.lua), so the client takes little of the machine:
# makes a product with one SKU and a large stock, CARTS carts, then wrk adds one unit to a cart and
# removes the line again, over and over, on CONNS connections. Prints one markdown table row and
# checks that `reserved` afterwards equals the units left in carts.
#
#   bench/reserve_wrk.sh URL ADMIN_KEY [--duration 10s] [--conns 256] [--carts 600] [--rates "50% 6000"] [--no-closed] [--server-log FILE]
#
# The first run is closed: each connection sends its next request when the last is answered, so it
# finds the throughput, and its latency is connections / throughput. Each of --rates is then an open
# run (WRK_RATE in bench/reserve.lua) offered that many operations a second, or that share of the
# closed run's throughput: the latency a client sees at that load. One row per run. --no-closed skips
# the closed run (the rates are then all absolute).
#
# --server-log names the server's log: each row then counts the server's slow-WAL-sync warnings logged
# during its run (syncs of 100 ms or more, and the slowest): a disk that stalls every acknowledgement
# shows there, not in the server's CPU. A warning comes up to a second after its sync, so one near the
# end of a run may land in the next row.
#
# Loopback URLs only; stops by itself.
set -euo pipefail

url=$1 key=$2; shift 2
duration=10s conns=256 carts=600 rates="" server_log="" closed_run=1
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --carts) carts=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --server-log) server_log=$2; shift 2 ;;
    --no-closed) closed_run=0; shift ;;
    *) echo "reserve_wrk.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case $url in http://127.*|http://localhost*|http://\[::1\]*) ;; *) echo "reserve_wrk.sh: loopback URLs only" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d -t shopfloor-reserve.XXXXXX)
trap 'rm -rf "$work"' EXIT
sku=WRK-HOT-$$-$RANDOM

python3 - "$url" "$key" "$sku" "$carts" >"$work/carts.txt" <<'PY'
import json, sys, urllib.request
url, key, sku, carts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def call(path, body, auth=True):
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers=headers)
    return json.load(urllib.request.urlopen(request))
call("/v1/products", {"title": "Hot", "status": "active", "variants": [{"sku": sku, "price": {"amount": 1299, "currency": "GBP"}}]})
call(f"/v1/inventory/{sku}/adjustments", {"delta": 1000000, "reason": "received"})
for _ in range(carts):
    print(call("/v1/carts", {"channel": "online"}, auth=False)["id"])
PY

# wrk_run RATE: one run, closed when RATE is empty; prints wrk's summary line with the offered rate.
wrk_run() {
  local out before=0
  [ -z "$server_log" ] || before=$(wc -l <"$server_log")
  out=$(WRK_CARTS="$work/carts.txt" WRK_SKU=$sku WRK_THREADS=2 WRK_RATE=$1 wrk -t2 -c"$conns" -d"$duration" -s "$here/reserve.lua" "$url")
  tail -1 <<<"$out" | python3 -c '
import json, re, sys
r = json.load(sys.stdin)
r["offered"] = sys.argv[1] or None
if sys.argv[2]:
    lines = open(sys.argv[2], errors="replace").read().splitlines()[int(sys.argv[3]):]
    counts = [int(m.group(1)) for m in (re.search(r"slow_syncs=(\d+)", l) for l in lines if "slow WAL sync" in l) if m]
    slowest = [int(m.group(1)) for m in (re.search(r"slowest_ms=(\d+)", l) for l in lines if "slow WAL sync" in l) if m]
    r["stalls"] = f"{sum(counts)}, slowest {max(slowest)} ms" if counts else "0"
print(json.dumps(r))' "$1" "$server_log" "$before"
}
: >"$work/runs.jsonl"
if [ "$closed_run" = 1 ]; then
  wrk_run "" >"$work/runs.jsonl"
  closed=$(python3 -c 'import json, sys; r = json.loads(open(sys.argv[1]).readline()); print(round(r["requests"] / r["seconds"]))' "$work/runs.jsonl")
fi
for rate in $rates; do
  case $rate in *%)
    [ "$closed_run" = 1 ] || { echo "reserve_wrk.sh: $rate needs the closed run" >&2; exit 2; }
    rate=$(( closed * ${rate%\%} / 100 )) ;;
  esac
  [ "$rate" -gt 0 ] || continue
  wrk_run "$rate" >>"$work/runs.jsonl"
done

python3 - "$url" "$key" "$sku" "$work/runs.jsonl" "$conns" "$work/carts.txt" <<'PY'
import json, sys, urllib.request
url, key, sku, runs, conns, carts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
def get(path):
    request = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {key}"})
    return json.load(urllib.request.urlopen(request))
held = 0
for cart in open(carts).read().split():
    held += sum(line["quantity"] for line in get(f"/v1/carts/{cart}")["lines"] if line["sku"] == sku)
reserved = get(f"/v1/inventory/{sku}")["reserved"]
books = "reserved = units in carts" if reserved == held else f"MISMATCH reserved {reserved} vs {held} in carts"
for line in open(runs):
    result = json.loads(line)
    offered = f"{int(result['offered']):,} open" if result["offered"] else "closed"
    print(f"| wrk + bench/reserve.lua | {conns} | {offered} | {result['requests'] / result['seconds']:,.0f} | {result['p50_ms']:.1f} "
          f"| {result['p99_ms']:.1f} | {result['errors']} | {result.get('stalls', '—')} | {books} |")
PY
