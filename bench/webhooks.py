#!/usr/bin/env python3
"""Webhook deliveries to a local receiver, against a release Shopfloor.

    bench/webhooks.py [--events 10000] [--rate 200] [--workers 8] [--binary .build/release/shopfloor]

Starts its own receiver (bench/webhook_sink.py: asyncio, keep-alive, 204 to every POST, each arrival
logged with its time) and a fresh server with `--allow-private-webhooks`, makes one endpoint for
`stock.changed`, and causes events with stock adjustments (one event each) from --workers threads:

1. latency: --events / 10 adjustments at about --rate a second, so nothing waits; each delivery's
   delay is its arrival minus the moment its adjustment request was sent (before the commit, so an
   upper bound). p50, p99, max.
2. throughput: the receiver is paused (SIGSTOP) while --events adjustments are made, so their
   deliveries wait; then it resumes, and its arrivals per second over the middle 80 % of the drain
   are the rate webhook delivery sustains.

Loopback only; stops by itself; prints a markdown table row per phase and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

import outbox_phases

ROOT = Path(__file__).resolve().parents[1]
SINK = ROOT / "bench" / "webhook_sink.py"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--binary", default=str(ROOT / ".build/release/shopfloor"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="shopfloor-webhooks."))
    arrivals_log = work / "arrivals.log"
    sink = subprocess.Popen([sys.executable, str(SINK), "--port", "0", "--log", str(arrivals_log)], stdout=subprocess.PIPE, text=True)
    port = int(re.match(r"PORT (\d+)", sink.stdout.readline()).group(1))
    key = "bench-" + secrets.token_hex(16)
    env = {**os.environ, "SHOPFLOOR_ADMIN_KEY": key}
    log = open(work / "server.log", "wb")
    server = subprocess.Popen([args.binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(work / "data"),
                               "--log-level", "info", "--allow-private-webhooks"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        base = outbox_phases.wait_listening(work / "server.log")
        admin = {"Authorization": f"Bearer {key}"}
        skus = [f"BENCH-{secrets.token_hex(3)}-{n}" for n in range(args.workers)]
        requests.post(f"{base}/v1/products", json={"title": "Bench", "status": "active",
                      "variants": [{"sku": sku, "price": {"amount": 500, "currency": "GBP"}} for sku in skus]},
                      headers=admin).raise_for_status()
        requests.post(f"{base}/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/hooks", "events": ["stock.changed"]},
                      headers=admin).raise_for_status()
        local = threading.local()

        def adjust(n: int) -> tuple[str, float]:
            """Each adjustment is known by its SKU and the stock on hand it left, which its event carries."""
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            sku = skus[n % len(skus)]
            sent = time.time()
            r = session.post(f"{base}/v1/inventory/{sku}/adjustments", json={"delta": 1, "reason": "received"}, headers=admin)
            r.raise_for_status()
            return f"{sku}:{r.json()['on_hand']}", sent

        with ThreadPoolExecutor(args.workers) as pool:
            rows, result = outbox_phases.run(
                pool, adjust, lambda count, timeout: wait_for_arrivals(arrivals_log, count, timeout), sink.pid,
                count=max(1, args.events // 10), total=args.events, rate=args.rate, what="events", unit="deliveries")
        print("| phase | load | delivered | result |")
        print("|---|---|---:|---|")
        for row in rows:
            print(row)
        print(json.dumps(result))
        return 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        sink.kill()
        sink.wait()


EVENT = re.compile(rb'"sku":"([^"]+)".*?"on_hand":(\d+)')


def wait_for_arrivals(path: Path, count: int, timeout: float) -> dict[str, float]:
    """`sku:on_hand` -> first arrival time, once `count` have arrived (or the timeout passed)."""
    deadline = time.time() + timeout
    while True:
        out: dict[str, float] = {}
        if path.exists():
            for line in path.read_bytes().splitlines():
                match = EVENT.search(line)
                if match:
                    out.setdefault(f"{match.group(1).decode()}:{int(match.group(2))}", float(line.split(b" ", 1)[0]))
        if len(out) >= count or time.time() > deadline:
            return out
        time.sleep(0.25)


if __name__ == "__main__":
    sys.exit(main())
