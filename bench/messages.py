#!/usr/bin/env python3
"""Order confirmations through the outbox to a local SMTP server, against a release Shopfloor.

    bench/messages.py [--orders 2000] [--rate 100] [--workers 16] [--no-pipelining] [--binary .build/release/shopfloor]

Starts its own SMTP sink (Tests/support/smtp_sink.py, aiosmtpd, plain SMTP on loopback, offering
PIPELINING as mail servers do unless --no-pipelining, writing each accepted message with its arrival time) and a fresh server pointed at it (`?tls=none`), seeds one SKU,
then places orders from --workers threads (cart, line, email, complete: four requests each):

1. latency: --orders / 4 orders at about --rate a second, so the outbox has no backlog; each
   message's delay is its arrival in the sink minus the moment its order's completion request was
   sent (before the commit, so an upper bound). p50, p99, max.
2. throughput: the sink is paused (SIGSTOP) while --orders orders are placed, so their confirmations
   wait in the outbox; then it resumes, and its arrivals per second over the middle 80 % of the drain
   are the rate the email channel sustains, whatever the rate orders came in.

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
SINK = ROOT / "Tests" / "support" / "smtp_sink.py"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--binary", default=str(ROOT / ".build/release/shopfloor"))
    parser.add_argument("--no-pipelining", action="store_true", help="the sink does not offer PIPELINING (five round trips a mail)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="shopfloor-messages."))
    maildir = work / "mail"
    maildir.mkdir()
    sink = subprocess.Popen([sys.executable, str(SINK), "--port", "0", "--maildir", str(maildir),
                             *([] if args.no_pipelining else ["--pipelining"])],
                            stdout=subprocess.PIPE, text=True)
    port = int(re.match(r"PORT (\d+)", sink.stdout.readline()).group(1))
    key = "bench-" + secrets.token_hex(16)
    env = {**os.environ, "SHOPFLOOR_ADMIN_KEY": key, "SHOPFLOOR_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none"}
    log = open(work / "server.log", "wb")
    server = subprocess.Popen([args.binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(work / "data"),
                               "--log-level", "info", "--mail-from", "Bench <bench@bench.example>"],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        base = outbox_phases.wait_listening(work / "server.log")
        admin = {"Authorization": f"Bearer {key}"}
        sku = "BENCH-" + secrets.token_hex(3)
        r = requests.post(f"{base}/v1/products", json={"title": "Bench", "status": "active",
                          "variants": [{"sku": sku, "price": {"amount": 500, "currency": "GBP"}}]}, headers=admin)
        r.raise_for_status()
        requests.post(f"{base}/v1/inventory/{sku}/adjustments", json={"delta": 1_000_000, "reason": "received"},
                      headers=admin).raise_for_status()
        local = threading.local()

        def order(n: int) -> tuple[str, float]:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            cart = session.post(f"{base}/v1/carts", json={"channel": "online"}).json()["id"]
            session.post(f"{base}/v1/carts/{cart}/lines", json={"sku": sku, "quantity": 1}).raise_for_status()
            email = f"b{n}-{secrets.token_hex(4)}@bench.example"
            session.patch(f"{base}/v1/carts/{cart}", json={"email": email}).raise_for_status()
            sent = time.time()
            session.post(f"{base}/v1/carts/{cart}/complete", json={"payment": {"method": "test_card", "card_number": "4242424242424242"}}).raise_for_status()
            return email, sent

        with ThreadPoolExecutor(args.workers) as pool:
            rows, result = outbox_phases.run(
                pool, order, lambda count, timeout: wait_for_mail(maildir, count, timeout), sink.pid,
                count=max(1, args.orders // 4), total=args.orders, rate=args.rate, what="orders", unit="emails")
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


def wait_for_mail(maildir: Path, count: int, timeout: float) -> dict[str, float]:
    """Recipient -> arrival time, once `count` messages have arrived (or the timeout passed)."""
    deadline = time.time() + timeout
    while True:
        files = list(maildir.glob("*.json"))
        if len(files) >= count or time.time() > deadline:
            break
        time.sleep(0.2)
    out = {}
    for path in files:
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        out[record["rcpt_tos"][0]] = record["received_at"]
    return out


if __name__ == "__main__":
    sys.exit(main())
