#!/usr/bin/env python3
"""Automation (issue 26) against a release Shopfloor on loopback: how fast the durable scheduler fires
due flow steps when many runs fall due at once.

    bench/automation.py [--entries 100000] [--connections 16] [--binary .build/release/shopfloor] [--json]

Starts --binary (`--enable-test-clock`, 127.0.0.1, port 0 read from its `listening on` line, a
temporary data dir, SHOPFLOOR_ADMIN_KEY set) and stops it at the end. Then:

1. Makes an active flow: trigger `customer.created`, steps `wait 1h`, `offer` (a single-use code for
   the customer), `wait 1h`.
2. Makes --entries customers (POST /v1/customers from --connections keep-alive connections): each
   enters the flow, which issues nothing yet and sets its run's timer an hour on. Waits until the
   flow's stats count every entry. Reports customers made per second (each a customer, its event,
   and a run entered through the engine).
3. Moves the test clock 1 h: every run falls due at once. Times, from the clock move, until the
   stats show every run at step 2 (each firing removed a timer, read the run, issued a discount,
   stored the run and set its next timer, in one job), polling the stats every 50 ms. Due steps
   fired per second = entries / that time. Server CPU over the firing.
4. Prints a summary with the target (>= 10,000 due steps/s) and one JSON line (the last line on
   stdout; with --json the summary goes to stderr). A missed target is reported, not an error.

Loopback only; stops by itself (--max-seconds).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ADMIN_KEY = "bench-admin-" + os.urandom(8).hex()


def request(conn: http.client.HTTPConnection, method: str, path: str, body=None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    raw = response.read()
    return response.status, (json.loads(raw) if raw else {})


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--binary", default=".build/release/shopfloor")
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = sys.stderr if args.json else sys.stdout
    started = time.monotonic()

    def left() -> float:
        remaining = args.max_seconds - (time.monotonic() - started)
        if remaining <= 0:
            raise SystemExit("bench/automation.py: --max-seconds reached")
        return remaining

    data_dir = tempfile.mkdtemp(prefix="shopfloor-bench-automation-")
    env = {**os.environ, "SHOPFLOOR_ADMIN_KEY": ADMIN_KEY}
    server = subprocess.Popen([args.binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir, "--enable-test-clock",
                               "--log-level", "notice"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    try:
        for line in server.stdout:
            match = re.search(r"listening on https?://\S+:(\d+)", line)
            if match:
                port = int(match.group(1))
                break
        if port is None:
            raise SystemExit("bench/automation.py: the server did not start")
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        status, flow = request(conn, "POST", "/v1/flows", {
            "name": "Bench", "status": "active", "trigger": {"type": "customer.created"},
            "steps": [{"wait": "1h"}, {"offer": {"kind": "percent", "value": 10, "expires_in": "7d"}}, {"wait": "1h"}]})
        assert status == 201, flow

        def stats() -> dict:
            status, body = request(conn, "GET", f"/v1/flows/{flow['id']}/stats")
            assert status == 200, body
            return body

        def step_entered(body: dict, step: str) -> int:
            return next((s["entered"] for s in body["steps"] if s["step"] == step), 0)

        # Entries, from several connections at once.
        failures: list[str] = []
        per = (args.entries + args.connections - 1) // args.connections
        prefix = os.urandom(4).hex()

        def make(worker: int) -> None:
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for index in range(worker * per, min(args.entries, (worker + 1) * per)):
                status, body = request(client, "POST", "/v1/customers", {"email": f"b{prefix}-{index}@example.com"})
                if status != 201:
                    failures.append(f"{status} {body}")
                    return
            client.close()

        made_at = time.monotonic()
        threads = [threading.Thread(target=make, args=(worker,)) for worker in range(args.connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(left())
        if failures:
            raise SystemExit(f"bench/automation.py: making customers failed: {failures[0]}")
        while stats()["entered"] < args.entries:
            left()
            time.sleep(0.1)
        entry_seconds = time.monotonic() - made_at

        cpu_before = cpu_seconds(server.pid)
        moved_at = time.monotonic()
        status, body = request(conn, "POST", "/v1/test/clock", {"advance": "1h"})
        assert status == 200, body
        while step_entered(stats(), "2") < args.entries:
            left()
            time.sleep(0.05)
        fire_seconds = time.monotonic() - moved_at
        cpu = cpu_seconds(server.pid) - cpu_before
        rate = args.entries / fire_seconds
        result = {
            "entries": args.entries, "entries_per_s": round(args.entries / entry_seconds), "fire_seconds": round(fire_seconds, 2),
            "due_steps_per_s": round(rate), "server_cpu_s": round(cpu, 2), "cores": os.cpu_count(),
        }
        print(f"| {args.entries:,} runs entered (customer.created) | {result['entries_per_s']:,}/s |", file=out)
        print(f"| all due at once: fired in | {fire_seconds:.2f} s |", file=out)
        print(f"| due steps fired | {result['due_steps_per_s']:,}/s (target >= 10,000/s: {'met' if rate >= 10_000 else 'missed'}) |", file=out)
        print(f"| server CPU while firing | {cpu:.1f} s over {fire_seconds:.1f} s |", file=out)
        print(json.dumps(result))
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
