#!/usr/bin/env python3
"""Reservation throughput of the live cart, against a running Shopfloor on loopback.

    bench/reserve.py --url http://127.0.0.1:8080 --admin-key KEY [--connections 256] [--duration 10]
                     [--scenario a|b|both] [--skus 10000] [--hot-stock 10000000] [--processes N]
                     [--pid SERVER_PID] [--keep-carts]

Every connection is a raw HTTP/1.1 keep-alive socket (asyncio) with a cart of its own, looping:
POST /v1/carts/{id}/lines {"sku", "quantity": 1} (a reservation), then DELETE the line (a release).
A successful add + remove pair counts as two operations.

  (a) hot SKU: every connection reserves the same SKU (one SKU actor serialises them all), stocked
      with --hot-stock units so it never runs out.
  (b) spread: --skus SKUs seeded through POST /v1/products/import (400 products per request, one
      variant each, with initial_stock), a random SKU per add.

When the time is up each connection ends with an add, so its cart holds one unit; the check
then compares `reserved` from GET /v1/inventory/{sku} with the units in active carts
(GET /v1/carts?status=active): for the hot SKU, and in (b) for the SKUs left in carts plus a sample.
Then it deletes its carts (unless --keep-carts) and checks that everything was released.

Prints one markdown table row per scenario: adds/s, total ops/s, p50/p99 per request (adds and
removes together, and adds alone), refusals and errors. With --pid it also reports the server's
RSS growth. Loopback targets only; stops by itself; raises RLIMIT_NOFILE for the sockets.
Standard library only.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import secrets
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse


# Raw HTTP/1.1 ---------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection. `request` returns (status, body bytes)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes | None = None, key: str | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if key:
            head += f"Authorization: Bearer {key}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    fields[name.strip().lower()] = value.strip()
            if "content-length" in fields:
                data = await self.reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    chunk = await self.reader.readexactly(size + 2)
                    data += chunk[:-2]
                    if size == 0:  # no trailers: the CRLF after the last chunk ends the body
                        break
            else:
                data = b""
            if fields.get("connection", "").lower() == "close":
                await self.close()
            return status, data
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self.reader = self.writer = None


# Setup over plain urllib ----------------------------------------------------------------------------


def call(base: str, key: str | None, method: str, path: str, body=None, expect=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    if status not in expect:
        raise RuntimeError(f"{method} {path} -> {status} {payload[:300]!r}")
    return json.loads(payload) if payload else None


def active_units(base: str, key: str, skus: set[str]) -> dict[str, int]:
    """SKU -> units over every active cart (all pages), for the SKUs asked about."""
    units: dict[str, int] = {sku: 0 for sku in skus}
    cursor = None
    while True:
        page = call(base, key, "GET", "/v1/carts?status=active&limit=200" + (f"&cursor={cursor}" if cursor else ""))
        for cart in page["items"]:
            for line in cart["lines"]:
                if line["sku"] in units:
                    units[line["sku"]] += line["quantity"]
        cursor = page["next_cursor"]
        if not cursor:
            return units


def seed_hot(base: str, key: str, stock: int, run: str) -> list[str]:
    sku = f"BENCH-HOT-{run}"
    call(base, key, "POST", "/v1/products", {
        "title": f"Bench hot {run}", "variants": [{"sku": sku, "price": {"amount": 999, "currency": "GBP"},
                                                    "initial_stock": {"main": stock}}]})
    return [sku]


def seed_spread(base: str, key: str, count: int, stock: int, run: str, batch: int = 400) -> list[str]:
    skus = [f"BENCH-{run}-{i:05d}" for i in range(count)]
    started = time.perf_counter()
    for start in range(0, count, batch):
        products = [{"title": f"Bench {sku}", "variants": [{"sku": sku, "price": {"amount": 100 + i % 5000, "currency": "GBP"},
                                                             "initial_stock": {"main": stock}}]}
                    for i, sku in enumerate(skus[start:start + batch], start=start)]
        result = call(base, key, "POST", "/v1/products/import", {"products": products})
        assert result["created"] == len(products), result
    print(f"seeded {count} SKUs in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return skus


# Load -----------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


async def run_worker_group(host: str, port: int, connections: int, skus: list[str], ready, go, duration: float, seed: int) -> dict:
    rng = random.Random(seed)
    stats = {"adds": 0, "removes": 0, "refused": 0, "errors": 0, "add_latency": [], "remove_latency": [],
             "carts": [], "held": {}, "elapsed": 0.0, "error_samples": []}
    conns = [Connection(host, port) for _ in range(connections)]
    carts: list[str] = []
    for conn in conns:
        await conn.open()
        status, body = await conn.request("POST", "/v1/carts", b'{"channel":"online"}')
        if status != 201:
            raise RuntimeError(f"cart create -> {status} {body[:200]!r}")
        carts.append(json.loads(body)["id"])
    stats["carts"] = carts
    ready.put(True)
    while not go.is_set():  # a multiprocessing.Event: poll without blocking the loop
        await asyncio.sleep(0.005)
    start = time.perf_counter()
    deadline = start + duration

    async def loop(conn: Connection, cart: str):
        add_path = f"/v1/carts/{cart}/lines"
        last = False  # time is up: one more add, kept
        while True:
            sku = skus[0] if len(skus) == 1 else rng.choice(skus)
            body = b'{"sku":"' + sku.encode() + b'","quantity":1}'
            t0 = time.perf_counter()
            try:
                status, data = await conn.request("POST", add_path, body)
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as error:
                stats["errors"] += 1
                stats["error_samples"].append(repr(error))
                if time.perf_counter() >= deadline:
                    return
                await asyncio.sleep(0.01)
                continue
            t1 = time.perf_counter()
            stats["add_latency"].append(t1 - t0)
            if status != 200:
                if status == 409 and b"insufficient_stock" in data:
                    stats["refused"] += 1
                else:
                    stats["errors"] += 1
                    stats["error_samples"].append(f"add {status} {data[:200]!r}")
                if last or t1 >= deadline:
                    return
                continue
            stats["adds"] += 1
            if last or t1 >= deadline:  # stop holding one unit, for the end-of-run check
                stats["held"][cart] = sku
                return
            line = next(line for line in json.loads(data)["lines"] if line["sku"] == sku)
            t2 = time.perf_counter()
            try:
                status, data = await conn.request("DELETE", f"{add_path}/{line['id']}")
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as error:
                stats["errors"] += 1
                stats["error_samples"].append(repr(error))
                return  # the line's fate is unknown: stop this connection
            stats["remove_latency"].append(time.perf_counter() - t2)
            if status == 200:
                stats["removes"] += 1
            else:
                stats["errors"] += 1
                stats["error_samples"].append(f"remove {status} {data[:200]!r}")
                return
            last = time.perf_counter() >= deadline

    await asyncio.gather(*(loop(conn, cart) for conn, cart in zip(conns, carts)))
    stats["elapsed"] = time.perf_counter() - start
    for conn in conns:
        await conn.close()
    stats["error_samples"] = stats["error_samples"][:5]
    return stats


def process_main(host, port, connections, skus, ready, go, duration, seed, results):
    try:
        results.put(asyncio.run(run_worker_group(host, port, connections, skus, ready, go, duration, seed)))
    except BaseException as error:  # noqa: BLE001 - reported by the parent
        ready.put(False)
        results.put({"fatal": repr(error)})


def rss_kib(pid: int | None) -> int | None:
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_scenario(args, name: str, skus: list[str], on_hand: int) -> dict:
    url = urlparse(args.url)
    host, port = url.hostname, url.port or 80
    processes = max(1, min(args.processes, args.connections))
    shares = [args.connections // processes + (1 if i < args.connections % processes else 0) for i in range(processes)]
    context = multiprocessing.get_context("fork")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    workers = [context.Process(target=process_main, args=(host, port, share, skus, ready, go, args.duration, i, results), daemon=True)
               for i, share in enumerate(shares)]
    for worker in workers:
        worker.start()
    for _ in workers:
        if not ready.get(timeout=120):
            raise RuntimeError(results.get(timeout=10))
    rss_before = rss_kib(args.pid)
    go.set()
    parts = [results.get(timeout=args.duration + 120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    fatal = [p["fatal"] for p in parts if "fatal" in p]
    if fatal:
        raise RuntimeError(fatal[0])
    rss_after = rss_kib(args.pid)

    adds = sum(p["adds"] for p in parts)
    removes = sum(p["removes"] for p in parts)
    elapsed = max(p["elapsed"] for p in parts)
    add_latency = sorted(x for p in parts for x in p["add_latency"])
    all_latency = sorted(add_latency + [x for p in parts for x in p["remove_latency"]])
    carts = [c for p in parts for c in p["carts"]]
    held: dict[str, str] = {}
    for p in parts:
        held.update(p["held"])

    # The books: reserved == units in active carts, for the SKUs left in carts (and a sample).
    check_skus = set(held.values()) | set(random.Random(1).sample(skus, min(len(skus), 50)))
    units = active_units(args.url, args.admin_key, check_skus)
    mismatches = []
    for sku in sorted(check_skus):
        level = call(args.url, args.admin_key, "GET", f"/v1/inventory/{sku}")
        expected_held = sum(1 for s in held.values() if s == sku)
        if not (level["reserved"] == units[sku] and 0 <= level["reserved"] <= level["on_hand"] == on_hand
                and units[sku] >= expected_held):
            mismatches.append((sku, level["on_hand"], level["reserved"], units[sku], expected_held))
    released_ok = True
    if not args.keep_carts:
        for cart in carts:
            call(args.url, None, "DELETE", f"/v1/carts/{cart}", expect=(204,))
        # Released: what is still reserved is exactly what other clients' active carts hold.
        left = active_units(args.url, args.admin_key, set(held.values()))
        for sku in sorted(set(held.values())):
            level = call(args.url, args.admin_key, "GET", f"/v1/inventory/{sku}")
            released_ok = released_ok and level["reserved"] == left[sku]
    return {
        "scenario": name, "connections": args.connections, "processes": processes, "skus": len(skus),
        "elapsed": elapsed, "adds": adds, "removes": removes,
        "adds_per_s": adds / elapsed, "ops_per_s": (adds + removes) / elapsed,
        "p50_ms": percentile(all_latency, 0.50) * 1000, "p99_ms": percentile(all_latency, 0.99) * 1000,
        "add_p50_ms": percentile(add_latency, 0.50) * 1000, "add_p99_ms": percentile(add_latency, 0.99) * 1000,
        "refused": sum(p["refused"] for p in parts), "errors": sum(p["errors"] for p in parts),
        "error_samples": [e for p in parts for e in p["error_samples"]][:5],
        "held": len(held), "checked_skus": len(check_skus), "mismatches": mismatches, "released": released_ok,
        "rss_growth_mib": None if rss_before is None or rss_after is None else (rss_after - rss_before) / 1024,
    }


def raise_fd_limit(want: int = 65536) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


HEADER = ("| scenario | conns | SKUs | adds/s | ops/s | p50 ms | p99 ms | add p50 ms | add p99 ms | 409 | errors "
          "| books | RSS +MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def row(r: dict) -> str:
    books = f"ok ({r['held']} held)" if not r["mismatches"] and r["released"] else f"MISMATCH {r['mismatches'][:3]}"
    rss = "" if r["rss_growth_mib"] is None else f"{r['rss_growth_mib']:.1f}"
    return (f"| {r['scenario']} | {r['connections']} | {r['skus']} | {r['adds_per_s']:,.0f} | {r['ops_per_s']:,.0f} "
            f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['add_p50_ms']:.2f} | {r['add_p99_ms']:.2f} "
            f"| {r['refused']} | {r['errors']} | {books} | {rss} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("SHOPFLOOR_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--admin-key", default=os.environ.get("SHOPFLOOR_ADMIN_KEY"))
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--scenario", choices=["a", "b", "both"], default="both")
    parser.add_argument("--skus", type=int, default=10_000, help="SKUs for scenario (b)")
    parser.add_argument("--sku-stock", type=int, default=100_000, help="units of each scenario (b) SKU")
    parser.add_argument("--hot-stock", type=int, default=10_000_000, help="units of the scenario (a) SKU")
    parser.add_argument("--processes", type=int, default=1, help="client processes sharing the connections")
    parser.add_argument("--pid", type=int, help="server pid, to report its RSS growth")
    parser.add_argument("--keep-carts", action="store_true", help="leave the bench carts in place")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()

    url = urlparse(args.url)
    if url.scheme != "http" or not ((url.hostname or "").startswith("127.") or url.hostname in ("localhost", "::1")):
        sys.exit("reserve.py: plain http:// loopback targets only")
    if not args.admin_key:
        sys.exit("reserve.py: --admin-key or SHOPFLOOR_ADMIN_KEY is required")
    if not (1 <= args.connections <= 20_000) or not (0 < args.duration <= 600):
        sys.exit("reserve.py: --connections 1..20000 and --duration up to 600 s")
    raise_fd_limit(max(4096, args.connections * 2 + 256))
    args.url = f"{url.scheme}://{url.hostname}:{url.port or 80}"
    call(args.url, None, "GET", "/ready")

    run = secrets.token_hex(3)
    results = []
    print(HEADER)
    if args.scenario in ("a", "both"):
        results.append(run_scenario(args, "(a) hot SKU", seed_hot(args.url, args.admin_key, args.hot_stock, run), args.hot_stock))
        print(row(results[-1]), flush=True)
    if args.scenario in ("b", "both"):
        results.append(run_scenario(args, "(b) random SKU", seed_spread(args.url, args.admin_key, args.skus, args.sku_stock, run),
                                    args.sku_stock))
        print(row(results[-1]), flush=True)
    for r in results:
        if r["error_samples"]:
            print(f"{r['scenario']} errors, e.g.: {r['error_samples']}", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
    if any(r["mismatches"] or not r["released"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
