#!/usr/bin/env python3
"""Closed-loop checkout load for bench/ab.sh --load checkout: orders placed back to back.

    bench/checkout_load.py URL ADMIN_KEY [--duration 10] [--workers 16] [--customers 1000]

Makes one product with stock enough for the run, then --workers threads each place orders over one
keep-alive connection for --duration seconds: create a cart, add a line, give an email and an address
(PATCH), complete with the test card (four requests an order). The emails cycle through --customers
addresses, so a server that links orders to customers mostly finds one and updates its stats and
purchases, and sometimes makes one: the work every order now does. Prints the orders per second as
its last line. Loopback only; stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import secrets
import sys
import threading
import time
from urllib.parse import urlsplit

ADDRESS = {"name": "Ada Lovelace", "line1": "1 High St", "city": "London", "postal_code": "N1 9GU", "country": "GB"}
CARD = {"method": "test_card", "card_number": "4242424242424242"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("key")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--customers", type=int, default=1000)
    args = parser.parse_args()
    target = urlsplit(args.url)

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(target.hostname, target.port, timeout=30)

    def call(connection, method: str, path: str, body=None, key: str | None = None, expect: int = 200) -> dict:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != expect:
            raise RuntimeError(f"{method} {path} -> {response.status} {data[:300]!r}")
        return json.loads(data) if data else {}

    sku = f"BENCH-{secrets.token_hex(4).upper()}"
    setup = connect()
    call(setup, "POST", "/v1/products", {"title": "Bench mug", "status": "active", "variants": [
        {"sku": sku, "title": "Mug", "price": {"amount": 1299, "currency": "GBP"}, "initial_stock": {"main": 10_000_000}}]},
         key=args.key, expect=201)
    setup.close()

    emails = itertools.cycle([f"bench{n}@example.com" for n in range(args.customers)])
    lock = threading.Lock()
    deadline = time.monotonic() + args.duration
    placed = [0] * args.workers
    failures: list[str] = []

    def worker(index: int) -> None:
        connection = connect()
        try:
            while time.monotonic() < deadline:
                with lock:
                    email = next(emails)
                cart = call(connection, "POST", "/v1/carts", {"channel": "online", "currency": "GBP"}, expect=201)["id"]
                call(connection, "POST", f"/v1/carts/{cart}/lines", {"sku": sku, "quantity": 1})
                call(connection, "PATCH", f"/v1/carts/{cart}", {"email": email, "shipping_address": ADDRESS})
                call(connection, "POST", f"/v1/carts/{cart}/complete", {"payment": CARD}, expect=201)
                placed[index] += 1
        except Exception as error:  # noqa: BLE001 - reported, and the run fails
            failures.append(str(error))
        finally:
            connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if failures:
        print(f"checkout_load: {len(failures)} workers failed, first: {failures[0]}", file=sys.stderr)
        return 1
    print(f"{sum(placed) / elapsed:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
