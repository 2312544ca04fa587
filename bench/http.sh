#!/usr/bin/env bash
# HTTP throughput and latency with wrk, one markdown table row per run.
#
#   bench/http.sh [--label NAME] [--endpoints "health ready echo"] [--conns "64 256"]
#                 [--duration 10s] [--no-header] BASE_URL
#
# Endpoints: health = GET /health, ready = GET /ready, echo = POST /v1/echo with a small JSON body
# (bench/echo.lua), product = GET /v1/products/{id} over the paths in $BENCH_PRODUCT_PATHS, search =
# GET /v1/products?q=… over the paths in $BENCH_SEARCH_PATHS (both through bench/paths.lua; write
# them with bench/seed.py --out); page = GET /shop/ taking gzip, asset = the storefront's script as
# the page stamps it (`/shop/shop.js?v=…`, cached a year) taking gzip, revalidate = GET /shop/ with
# its ETag in If-None-Match (304). Each runs `wrk --latency -t2 -c<conns> -d<duration>`. Loopback only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
label=${BENCH_LABEL:-shopfloor}
endpoints=${BENCH_ENDPOINTS:-"health ready echo"}
conns=${BENCH_CONNS:-"64 256"}
duration=${BENCH_DURATION:-10s}
header=1

while [ $# -gt 0 ]; do
  case $1 in
    --label) label=$2; shift 2 ;;
    --endpoints) endpoints=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --no-header) header=0; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "http.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
base=${1:-${URL:-}}
[ -n "$base" ] || { echo "usage: bench/http.sh [options] BASE_URL" >&2; exit 2; }
base=${base%/}

case $base in
  http://127.*|http://localhost[:/]*|http://localhost|http://\[::1\]*) ;;
  *) echo "http.sh: refusing $base: benchmarks target loopback only" >&2; exit 2 ;;
esac
command -v wrk >/dev/null || { echo "http.sh: wrk not found (apt-get install -y wrk)" >&2; exit 127; }

# wrk prints latencies as 812.00us, 1.23ms, 2.01s, 1.50m; print milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}

# Seconds, with a margin, for the watchdog around each wrk run.
secs=$(awk -v d="$duration" 'BEGIN { n = d + 0; if (d ~ /m$/) n *= 60; else if (d ~ /h$/) n *= 3600; print int(n) + 30 }')

if [ "$header" = 1 ]; then
  echo "| server | endpoint | conns | req/s | p50 ms | p99 ms | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|"
fi

for ep in $endpoints; do
  headers=()
  case $ep in
    health) path=/health; name="GET /health"; script=() ;;
    ready) path=/ready; name="GET /ready"; script=() ;;
    echo) path=/v1/echo; name="POST /v1/echo"; script=(-s "$here/echo.lua") ;;
    product) path=/; name="GET /v1/products/{id}"; script=(-s "$here/paths.lua"); export WRK_PATHS=$BENCH_PRODUCT_PATHS ;;
    search) path=/; name="GET /v1/products?q="; script=(-s "$here/paths.lua"); export WRK_PATHS=$BENCH_SEARCH_PATHS ;;
    page) path=/shop/; name="GET /shop/ (gzip)"; script=(); headers=(-H "Accept-Encoding: gzip") ;;
    asset)
      path=$(curl -fsS "$base/shop/" | grep -o 'shop\.js?v=[0-9a-f]*' | head -1)
      [ -n "$path" ] || { echo "http.sh: /shop/ names no stamped shop.js" >&2; exit 1; }
      path=/shop/$path; name="GET /shop/shop.js?v= (gzip)"; script=(); headers=(-H "Accept-Encoding: gzip") ;;
    revalidate)
      etag=$(curl -fsS -o /dev/null -D - "$base/shop/" | awk 'tolower($1) == "etag:" { sub(/\r$/, ""); print $2 }')
      [ -n "$etag" ] || { echo "http.sh: /shop/ has no ETag" >&2; exit 1; }
      path=/shop/; name="GET /shop/ If-None-Match (304)"; script=(); headers=(-H "If-None-Match: $etag") ;;
    *) echo "http.sh: unknown endpoint $ep" >&2; exit 2 ;;
  esac
  for c in $conns; do
    out=$(timeout "$secs" wrk --latency -t2 -c"$c" -d"$duration" "${script[@]}" "${headers[@]}" "$base$path" 2>&1) || {
      echo "http.sh: wrk failed for $name -c$c:" >&2; echo "$out" >&2; exit 1; }
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    # Socket errors (connect/read/write/timeout) plus non-2xx/3xx answers.
    errs=$(awk '/Socket errors:/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
                /Non-2xx or 3xx responses:/ { s += $NF }
                END { print s + 0 }' <<<"$out")
    [ -n "$rps" ] && [ -n "$p50" ] && [ -n "$p99" ] || {
      echo "http.sh: could not parse wrk output:" >&2; echo "$out" >&2; exit 1; }
    echo "| $label | $name | $c | $rps | $(to_ms "$p50") | $(to_ms "$p99") | $errs |"
  done
done
