#!/usr/bin/env python3
"""Live shoppers (issue 25) against a release Shopfloor on loopback: presence memory, the back office's
latency, the live list, and stored activity in a burst.

    bench/shoppers.py [--shoppers 10000] [--processes 4] [--probes 200] [--products 20] [--ramp 500]
                      [--live-seconds 40] [--list-requests 20] [--burst-seconds 10] [--burst-processes 4]
                      [--burst-connections 8] [--burst-visitors both|left|live] [--binary .build/release/shopfloor]
                      [--json]
    bench/shoppers.py --url http://127.0.0.1:PORT --admin-key KEY [--pid SERVER_PID] [same options]
    bench/shoppers.py load --url URL --shoppers N --duration S [--admin-key KEY] [--processes P]
                      [--ramp 500] [--ready-file FILE]

Without --url it starts --binary (`serve` on 127.0.0.1, port 0, read from its `listening on` line, a
temporary data dir, SHOPFLOOR_ADMIN_KEY set, --max-connections room for every socket) and stops it at
the end; with --url it attaches to a running server, and --pid gives it the server's memory and CPU.
It makes --products products (POST /v1/products) so product.viewed names real ids, then:

1. One admin socket: {"op":"auth"}, then subscribes to `shoppers` and `stats`; it reads everything for
   the whole run.
2. Warm-up: --warmup shoppers connect, say hello, view a product and leave; it waits for their
   `shopper.left` (10 s grace), so first-use allocations are not counted below. Server RSS (VmRSS and
   RssAnon from /proc/PID/status): `idle`.
3. Phase A: --shoppers WebSockets to /v1/events/ws from --processes client processes (an asyncio loop
   each, N/P sockets), plus --probes in this process, opened at --ramp a second in all, no
   permessage-deflate. They say nothing. RSS: `sockets` (just upgraded).
4. Phase B: every socket says {"op":"hello"}, waits for `welcome` and sends a product.viewed, at --ramp
   a second. Then each shopper sends a `track` every ~10 s (jittered ±20 %): mostly product.viewed and
   page.viewed, some search; on 5 % of ticks page.hidden, then page.visible 2..5 s later. RSS: `live`.
   KiB per live shopper beyond an idle socket = (live - sockets) / shoppers live (probes included).
5. Live period (--live-seconds): the probes (in this process, so one clock) track every ~10 s too,
   alternating a page.viewed with a path used once and a product.viewed of a product other than their
   last. Each send is timed just before it is written, and matched on the admin socket to the
   `shopper.updated`/`shopper.viewed` whose entry has that visitor and that page path or product id:
   latency p50/p99/max; a send with no match 10 s later is missed. Server CPU over the period.
6. GET /v1/shoppers/live (admin) --list-requests times, one after another on one keep-alive
   connection, with every shopper live: p50/p99/max to the last byte, the items and the size.
7. Bursts: --burst-processes processes with --burst-connections keep-alive connections each post
   POST /v1/activity with 50 events a request (product.viewed and page.viewed), closed loop, for
   --burst-seconds: events accepted (the `accepted` of each 202) per second, statuses, request
   latency, server CPU. By default twice (--burst-visitors both): first for the warm-up's visitors,
   who are gone (stored activity alone), then for the live visitors (each event of a live visitor is
   also a `shoppers` event in the log and on the admin socket). The shoppers keep ticking meanwhile
   and the admin keeps reading (it only counts by then); an admin socket the server closes for being
   too far behind is reported with the phase it happened in.
8. Prints a summary with the targets, and one JSON line (the last line on stdout; with --json the
   summary goes to stderr). Exits non-zero if a shopper failed to connect or say hello, the admin
   socket was closed, or no latency was measured; a missed target is reported, not an error.

Targets (issue 25): RSS per live shopper < 16 KiB beyond an idle socket; shopper.updated to the admin
p99 < 250 ms; GET /v1/shoppers/live with 10,000 live < 50 ms; >= 20,000 activity events/s in a burst.

`load` runs only the live shoppers against an existing server: N sockets (hello, a product.viewed,
then a track every ~10 s as above) opened at --ramp a second. If any failed it stops at once and
exits 1; else it writes a JSON line to --ready-file (if given), keeps them for --duration seconds or
until SIGTERM/SIGINT, closes them and prints one JSON line. With --admin-key it makes a few products
to view; without, it views the public catalogue's (GET /v1/products), or only pages when there is
none. bench/ab.sh --beside shoppers[:N] runs it beside the cart loop.

Loopback only; stops by itself (--max-seconds); raises RLIMIT_NOFILE; closes every socket at the end.
Needs the `websockets` package: run by a python3 without it, it runs itself again with
.build/venv/bin/python (made by `make venv`).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import heapq
import http.client
import itertools
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import random
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]

try:
    import websockets
    from websockets.asyncio.client import connect as ws_connect
except ImportError:  # run by a python3 without it: the test venv's has it
    VENV = ROOT / ".build/venv"
    if (VENV / "bin/python").exists() and Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(VENV / "bin/python"), [str(VENV / "bin/python"), *sys.argv])
    sys.exit("shoppers.py: needs the `websockets` package: make venv, then run it with .build/venv/bin/python")
PER_PROCESS = 2_500           # sockets one client process holds comfortably
TRACK_EVERY = 10.0            # seconds between a shopper's tracks, jittered by JITTER
JITTER = 0.2
HIDE_SHARE = 0.05             # ticks that hide the tab (page.visible follows 2..5 s later)
MATCH_TIMEOUT = 10.0          # a probe's send unmatched this long is missed
EVENTS_PER_REQUEST = 50       # POST /v1/activity's most
PAGES = ["/", "/collections/kitchen", "/collections/home", "/collections/textiles", "/collections/lighting",
         "/pages/about", "/pages/delivery", "/cart", "/search"]
WORDS = ["mug", "linen", "oak", "lamp", "throw", "bowl", "apron", "candle", "vase", "teapot"]
TARGETS = {"kib_per_live_shopper": 16, "latency_p99_ms": 250, "live_list_p99_ms": 50, "burst_events_per_s": 20_000}


def log(message: str) -> None:
    print(f"shoppers.py: {message}", file=sys.stderr, flush=True)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def proc_status(pid: int | None) -> dict | None:
    """VmRSS, RssAnon and VmHWM of a process, in KiB."""
    if not pid:
        return None
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "RssAnon", "VmHWM"):
                    fields[name] = int(value.split()[0])
    except OSError:
        return None
    return {"rss_kib": fields.get("VmRSS"), "anon_kib": fields.get("RssAnon"), "hwm_kib": fields.get("VmHWM")}


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(fraction * len(sorted_values)) - 1))]


def spread_ms(seconds: list[float]) -> dict:
    """p50, p99 and max, in milliseconds, of durations in seconds."""
    values = sorted(seconds)

    def ms(fraction):
        value = percentile(values, fraction)
        return None if value is None else round(value * 1000, 2)
    return {"count": len(values), "p50_ms": ms(0.50), "p99_ms": ms(0.99), "max_ms": ms(1.0)}


def loopback(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if parsed.scheme != "http" or not (host.startswith("127.") or host == "localhost"):
        sys.exit("shoppers.py: http://127.x.x.x (or localhost) targets only")
    return host, parsed.port or 80


# HTTP (setup, the live list) ----------------------------------------------------------------------


class HTTP:
    """One keep-alive connection for the setup calls and the timed reads."""

    def __init__(self, host: str, port: int, key: str | None):
        self.host, self.port, self.key = host, port, key
        self.conn = http.client.HTTPConnection(host, port, timeout=30)

    def raw(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()  # a stale keep-alive connection: one retry on a new one
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        return response.status, response.read()

    def call(self, method: str, path: str, body=None, expect=(200, 201)):
        status, payload = self.raw(method, path, body)
        if status not in expect:
            raise RuntimeError(f"{method} {path} -> {status} {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def close(self):
        self.conn.close()


def seed_products(http_client: HTTP, count: int) -> list[str]:
    run = secrets.token_hex(3).upper()
    ids = []
    for n in range(count):
        word = WORDS[n % len(WORDS)]
        product = http_client.call("POST", "/v1/products", {
            "title": f"Shoppers bench {word} {n}", "status": "active",
            "variants": [{"sku": f"SHOP-{run}-{n}", "title": "One size", "price": {"amount": 1000 + 100 * n, "currency": "GBP"},
                          "initial_stock": {"main": 1000}}]}, expect=(201,))
        ids.append(product["id"])
    return ids


def public_products(http_client: HTTP) -> list[str]:
    page = http_client.call("GET", "/v1/products?limit=50", expect=(200,))
    return [item["id"] for item in page.get("items", [])]


class Server:
    """A release server on 127.0.0.1, port 0, with its own temporary data dir."""

    def __init__(self, binary: str, key: str, max_connections: int):
        self.work = Path(tempfile.mkdtemp(prefix="shopfloor-shoppers."))
        (self.work / "data").mkdir()
        self.log_path = self.work / "server.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(self.work / "data"),
             "--log-level", "notice", "--max-connections", str(max_connections)],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, "SHOPFLOOR_ADMIN_KEY": key})
        self.pid = self.process.pid
        deadline = time.time() + 60
        while True:
            match = re.search(r"listening on http://([0-9.]+):(\d+)", self.log_path.read_text(errors="replace"))
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                break
            if self.process.poll() is not None or time.time() > deadline:
                text = self.log_path.read_text(errors="replace")[-3000:]
                self.stop()
                raise SystemExit("shoppers.py: the server did not start:\n" + text)
            time.sleep(0.05)
        http_client = HTTP(self.host, self.port, None)
        try:
            for _ in range(600):
                try:
                    if http_client.raw("GET", "/ready")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            else:
                raise SystemExit("shoppers.py: the server was not ready after 30 s")
        finally:
            http_client.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.work, ignore_errors=True)


# Shoppers: one asyncio loop holds a crowd of them --------------------------------------------------


class Shopper:
    __slots__ = ("ws", "visitor", "welcome", "hidden", "product", "reader")

    def __init__(self, ws):
        self.ws = ws
        self.visitor: str | None = None
        self.welcome: asyncio.Future | None = None
        self.hidden = False
        self.product: str | None = None
        self.reader: asyncio.Task | None = None


class Crowd:
    """Shoppers on one asyncio loop: opens them at a given rate, says hello, and ticks them from one
    heap of due times (one task for all, not one per shopper)."""

    hide_share = HIDE_SHARE

    def __init__(self, host: str, port: int, products: list[str], seed: int):
        self.url = f"ws://{host}:{port}/v1/events/ws"
        self.products = products
        self.rng = random.Random(seed)
        self.shoppers: list[Shopper] = []
        self.heap: list = []
        self.order = itertools.count()
        self.ticker: asyncio.Task | None = None
        self.stopping = False
        self.sent: collections.Counter = collections.Counter()      # tracks by type
        self.errors: collections.Counter = collections.Counter()    # {"op":"error"} by code
        self.error_examples: list[str] = []
        self.server_closed: collections.Counter = collections.Counter()  # close codes of sockets the server closed
        self.other = 0                                              # anything else the server sent

    # Opening and hello

    async def open_one(self, hello: bool) -> Shopper:
        ws = await ws_connect(self.url, compression=None, proxy=None, open_timeout=30, ping_interval=None,
                              ping_timeout=None, close_timeout=2, user_agent_header=None, max_queue=16)
        shopper = Shopper(ws)
        shopper.reader = asyncio.create_task(self.read(shopper))
        if hello:
            try:
                await self.say_hello(shopper)
            except BaseException:
                await self.drop(shopper)
                raise
        self.shoppers.append(shopper)
        return shopper

    async def say_hello(self, shopper: Shopper) -> None:
        shopper.welcome = asyncio.get_running_loop().create_future()
        await shopper.ws.send('{"op":"hello"}')
        await asyncio.wait_for(shopper.welcome, 30)
        await self.track(shopper, *self.first_view(shopper))
        self.schedule(shopper, "tick", self.jitter())

    @staticmethod
    async def drop(shopper: Shopper) -> None:
        shopper.ws.transport.abort()
        if shopper.reader:
            shopper.reader.cancel()

    async def ramp(self, count: int, rate: float, work) -> dict:
        """Runs `work(i)` for i < count, started at `rate` a second; counts what failed."""
        started = time.monotonic()
        tasks = []
        for i in range(count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(work(i)))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        return {"ok": count - len(failures), "failures": len(failures),
                "errors": [repr(e)[:200] for e in failures[:3]], "seconds": round(time.monotonic() - started, 2)}

    async def open(self, count: int, rate: float, hello: bool) -> dict:
        if hello:
            self.start_ticking()
        return await self.ramp(count, rate, lambda _: self.open_one(hello))

    async def hello_all(self, rate: float) -> dict:
        self.start_ticking()
        waiting = [s for s in self.shoppers if not s.reader.done() and s.visitor is None]
        return await self.ramp(len(waiting), rate, lambda i: self.say_hello(waiting[i]))

    # Reading

    async def read(self, shopper: Shopper) -> None:
        try:
            async for message in shopper.ws:
                if '"welcome"' in message:
                    reply = json.loads(message)
                    if reply.get("op") == "welcome":
                        shopper.visitor = reply.get("visitor")
                        if shopper.welcome is not None and not shopper.welcome.done():
                            shopper.welcome.set_result(shopper.visitor)
                        continue
                if '"error"' in message:
                    reply = json.loads(message)
                    if reply.get("op") == "error":
                        code = str(reply.get("code"))
                        self.errors[code] += 1
                        if len(self.error_examples) < 5:
                            self.error_examples.append(message[:200])
                        if shopper.welcome is not None and not shopper.welcome.done():
                            shopper.welcome.set_exception(RuntimeError(f"hello answered {message[:200]}"))
                        continue
                self.other += 1
        except websockets.ConnectionClosed:
            pass
        finally:
            # A socket this side dropped (cancelled reader) or is closing is not the server's doing.
            if not self.stopping and not asyncio.current_task().cancelling():
                self.server_closed[str(shopper.ws.close_code)] += 1
            if shopper.welcome is not None and not shopper.welcome.done():
                shopper.welcome.set_exception(ConnectionError(f"closed before welcome ({shopper.ws.close_code})"))

    # Tracking

    def jitter(self) -> float:
        return TRACK_EVERY * self.rng.uniform(1 - JITTER, 1 + JITTER)

    def schedule(self, shopper: Shopper, action: str, delay: float) -> None:
        heapq.heappush(self.heap, (asyncio.get_running_loop().time() + delay, next(self.order), shopper, action))

    def start_ticking(self, spread: bool = False) -> None:
        """Starts the ticker; with `spread`, every shopper's next tick is put somewhere in the next
        interval first (so shoppers that waited do not all tick at once)."""
        if spread:
            live = {id(entry[2]): entry[2] for entry in self.heap}
            self.heap = []
            for shopper in live.values():
                self.schedule(shopper, "tick", self.rng.uniform(0, TRACK_EVERY))
        if self.ticker is None:
            self.ticker = asyncio.create_task(self.tick_loop())

    def stop_ticking(self) -> None:
        if self.ticker is not None:
            self.ticker.cancel()
            self.ticker = None

    async def tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self.heap and self.heap[0][0] <= now:
                _, _, shopper, action = heapq.heappop(self.heap)
                if shopper.reader.done():
                    continue
                try:
                    await self.act(shopper, action)
                except websockets.ConnectionClosed:
                    pass
            wait = self.heap[0][0] - loop.time() if self.heap else 0.1
            await asyncio.sleep(min(0.1, max(0.001, wait)))

    async def act(self, shopper: Shopper, action: str) -> None:
        if action == "visible":
            shopper.hidden = False
            self.schedule(shopper, "tick", self.jitter())
            await self.track(shopper, "page.visible", {})
        elif self.rng.random() < self.hide_share:
            shopper.hidden = True
            self.schedule(shopper, "visible", self.rng.uniform(2, 5))
            await self.track(shopper, "page.hidden", {})
        else:
            self.schedule(shopper, "tick", self.jitter())
            await self.track(shopper, *self.next_view(shopper))

    async def track(self, shopper: Shopper, kind: str, data: dict) -> None:
        message = json.dumps({"op": "track", "type": kind, "data": data}, separators=(",", ":"))
        self.before_send(shopper, kind, data)
        await shopper.ws.send(message)
        self.sent[kind] += 1

    def before_send(self, shopper: Shopper, kind: str, data: dict) -> None:
        """A hook for the probes: called just before a track is written."""

    def first_view(self, shopper: Shopper) -> tuple[str, dict]:
        if not self.products:
            return "page.viewed", {"path": "/"}
        shopper.product = self.rng.choice(self.products)
        return "product.viewed", {"product_id": shopper.product}

    def next_view(self, shopper: Shopper) -> tuple[str, dict]:
        r = self.rng.random()
        if r < 0.6 and self.products:
            shopper.product = self.rng.choice(self.products)
            return "product.viewed", {"product_id": shopper.product}
        if r < 0.9 or not self.products:
            path = self.rng.choice(PAGES)
            return "page.viewed", {"path": path, "title": path.strip("/").replace("/", " ").title() or "Home"}
        return "search", {"query": self.rng.choice(WORDS)}

    # The end

    def alive(self) -> int:
        return sum(1 for s in self.shoppers if not s.reader.done())

    def live(self) -> int:
        return sum(1 for s in self.shoppers if not s.reader.done() and s.visitor is not None)

    def visitors(self) -> list[str]:
        return [s.visitor for s in self.shoppers if s.visitor is not None and not s.reader.done()]

    def stats(self) -> dict:
        return {"open": self.alive(), "live": self.live(), "sent": dict(self.sent), "errors": dict(self.errors),
                "error_examples": self.error_examples, "server_closed": dict(self.server_closed), "other": self.other}

    async def close_all(self) -> None:
        self.stopping = True
        self.stop_ticking()

        async def close(shopper: Shopper):
            try:
                await shopper.ws.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        for start in range(0, len(self.shoppers), 500):
            part = self.shoppers[start:start + 500]
            try:
                await asyncio.wait_for(asyncio.gather(*(close(s) for s in part)), 10)
            except asyncio.TimeoutError:
                pass
        for shopper in self.shoppers:
            await self.drop(shopper)


class Probes(Crowd):
    """Shoppers whose track sends are timed and matched on the admin socket: a page.viewed with a path
    used once, or a product.viewed of a product other than the shopper's last. No hidden tabs."""

    hide_share = 0.0

    def __init__(self, host, port, products, seed):
        super().__init__(host, port, products, seed)
        self.measuring = False
        self.serial = itertools.count()
        self.pending: dict[tuple, float] = {}   # (visitor, "page"|"product", path or id) -> monotonic send time
        self.visitor_set: set[str] = set()
        self.latencies: list[float] = []
        self.matched_by: collections.Counter = collections.Counter()
        self.sends = 0

    def next_view(self, shopper):
        n = next(self.serial)
        others = [p for p in self.products if p != shopper.product]
        if n % 2 == 0 or not others:
            return "page.viewed", {"path": f"/bench/probe/{n}", "title": "Probe"}
        shopper.product = self.rng.choice(others)
        return "product.viewed", {"product_id": shopper.product}

    def before_send(self, shopper, kind, data):
        if not self.measuring or shopper.visitor is None:
            return
        if kind == "page.viewed":
            key = (shopper.visitor, "page", data["path"])
        elif kind == "product.viewed":
            key = (shopper.visitor, "product", data["product_id"])
        else:
            return
        self.visitor_set.add(shopper.visitor)
        self.pending[key] = time.monotonic()
        self.sends += 1

    def match(self, kind: str, entry: dict, received: float) -> None:
        visitor = entry.get("visitor")
        if visitor not in self.visitor_set:
            return
        page, product = entry.get("page") or {}, entry.get("product") or {}
        for key in ((visitor, "page", page.get("path")), (visitor, "product", product.get("id"))):
            sent = self.pending.pop(key, None)
            if sent is not None:
                self.latencies.append(received - sent)
                self.matched_by[f"{key[1]} -> {kind}"] += 1

    def missed(self) -> int:
        return len(self.pending)


# The admin socket -------------------------------------------------------------------------------


class Admin:
    """One back-office socket on `shoppers` and `stats`; it reads for the whole run, matches the
    probes' events while they are measured and otherwise only counts by type."""

    def __init__(self, host: str, port: int, key: str, probes: Probes):
        self.url = f"ws://{host}:{port}/v1/events/ws"
        self.key = key
        self.probes = probes
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.types: collections.Counter = collections.Counter()
        self.left: set[str] = set()
        self.stats_times: list[float] = []
        self.visitors_now = None
        self.replies: asyncio.Queue = asyncio.Queue()
        self.closed: str | None = None
        self.stopping = False
        self.phase = "start"  # what the run was doing, for a close

    async def open(self) -> None:
        self.ws = await ws_connect(self.url, compression=None, proxy=None, open_timeout=30, ping_interval=None,
                                   ping_timeout=None, close_timeout=2, user_agent_header=None, max_queue=4096)
        self.reader = asyncio.create_task(self.read())
        await self.ws.send(json.dumps({"op": "auth", "key": self.key}))
        reply = await asyncio.wait_for(self.replies.get(), 10)
        if reply.get("op") != "authenticated":
            raise RuntimeError(f"admin auth answered {reply}")
        await self.ws.send(json.dumps({"op": "subscribe", "topics": ["shoppers", "stats"]}))
        reply = await asyncio.wait_for(self.replies.get(), 10)
        if reply.get("op") != "subscribed":
            raise RuntimeError(f"admin subscribe answered {reply}")

    @staticmethod
    def event_type(message: str) -> str | None:
        """The type of an event without parsing it: the server writes the envelope's keys sorted, so
        `type` comes last, after `data` (an entry has no `type` of its own)."""
        at = message.rfind('"type":"')
        if at >= 0:
            return message[at + 8:message.find('"', at + 8)]
        try:
            return json.loads(message).get("type")
        except ValueError:
            return None

    async def read(self) -> None:
        try:
            async for message in self.ws:
                received = time.monotonic()
                kind = self.event_type(message)
                if kind is None:  # an op: authenticated, subscribed, error
                    reply = json.loads(message)
                    self.types[f"op:{reply.get('op')}"] += 1
                    self.replies.put_nowait(reply)
                    continue
                self.types[kind] += 1
                if kind == "stats.live":
                    self.stats_times.append(received)
                    self.visitors_now = json.loads(message).get("data", {}).get("visitors_now")
                elif kind == "shopper.left":
                    self.left.add(json.loads(message).get("data", {}).get("visitor"))
                elif self.probes.pending and kind in ("shopper.updated", "shopper.viewed"):
                    self.probes.match(kind, json.loads(message).get("data") or {}, received)
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.stopping:
                self.closed = f"{self.ws.close_code} {self.ws.close_reason or ''}".strip() + f" during {self.phase}"

    async def wait(self, condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline or self.reader.done():
                return False
            await asyncio.sleep(0.05)
        return True

    def stats_summary(self) -> dict:
        changes = self.stats_times[1:]  # the first came with the subscription
        gaps = [b - a for a, b in zip(changes, changes[1:])]
        return {"messages": len(self.stats_times), "min_gap_s": round(min(gaps), 3) if gaps else None,
                "visitors_now": self.visitors_now}

    async def close(self) -> None:
        self.stopping = True
        try:
            await asyncio.wait_for(self.ws.close(), 5)
        except Exception:  # noqa: BLE001 - closing anyway
            self.ws.transport.abort()
        self.reader.cancel()


# Client processes --------------------------------------------------------------------------------


def worker_main(pipe, host, port, products, count, seed):
    """One process: `count` shoppers on its own asyncio loop, driven by the parent over a pipe."""
    raise_fd_limit()

    async def main():
        crowd = Crowd(host, port, products, seed)
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()

        def incoming():
            try:
                inbox.put_nowait(pipe.recv())
            except (EOFError, OSError):  # the parent is gone
                loop.remove_reader(pipe.fileno())
                inbox.put_nowait(("stop",))
        loop.add_reader(pipe.fileno(), incoming)
        try:
            while True:
                command = await inbox.get()
                if command[0] == "connect":   # ("connect", rate, hello)
                    pipe.send(("connected", await crowd.open(count, command[1], command[2])))
                elif command[0] == "hello":   # ("hello", rate)
                    pipe.send(("live", await crowd.hello_all(command[1])))
                elif command[0] == "visitors":
                    pipe.send(("visitors", crowd.visitors()))
                elif command[0] == "stats":
                    pipe.send(("stats", crowd.stats()))
                elif command[0] == "stop":
                    break
        finally:
            try:
                loop.remove_reader(pipe.fileno())
            except (ValueError, OSError):
                pass
            await crowd.close_all()
            try:
                pipe.send(("stopped", crowd.stats()))
            except OSError:
                pass

    try:
        asyncio.run(main())
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        try:
            pipe.send(("fatal", repr(error)))
        except OSError:
            pass
        raise SystemExit(1)


class Fleet:
    """The shopper processes (spawned, so they never inherit a running loop)."""

    def __init__(self, host, port, products, shoppers, processes, deadline):
        context = multiprocessing.get_context("spawn")
        self.shares = [shoppers // processes + (1 if i < shoppers % processes else 0) for i in range(processes)]
        self.pipes, self.procs = [], []
        for i, share in enumerate(self.shares):
            parent, child = context.Pipe()
            proc = context.Process(target=worker_main, daemon=True, args=(child, host, port, products, share, 1000 + i))
            proc.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(proc)
        self.deadline = deadline

    def ask(self, command, expect, timeout, per_process=None):
        """Sends `command` (or per_process(i) to process i) to every process; their answers in order."""
        command = command or per_process(0)
        for i, pipe in enumerate(self.pipes):
            pipe.send(per_process(i) if per_process else command)
        answers = [None] * len(self.pipes)
        waiting = dict(zip(self.pipes, range(len(self.pipes))))
        until = min(time.monotonic() + timeout, self.deadline)
        while waiting:
            left = until - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"shopper processes did not answer {command[0]!r} in time")
            for pipe in multiprocessing.connection.wait(list(waiting), timeout=left):
                try:
                    kind, value = pipe.recv()
                except EOFError:
                    raise RuntimeError("a shopper process died") from None
                if kind == "fatal":
                    raise RuntimeError(f"shopper process failed: {value}")
                if kind != expect:
                    raise RuntimeError(f"shopper process answered {kind!r} to {command[0]!r}")
                answers[waiting.pop(pipe)] = value
        return answers

    def stop(self) -> list:
        self.deadline = time.monotonic() + 30  # closing is bounded on its own
        stats = []
        try:
            stats = self.ask(("stop",), "stopped", 30)
        except Exception as error:  # noqa: BLE001 - the processes are ended below
            log(f"stopping shopper processes: {error}")
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        return stats

    def kill(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()


def merge_stats(parts: list[dict]) -> dict:
    total = {"open": 0, "live": 0, "sent": collections.Counter(), "errors": collections.Counter(),
             "error_examples": [], "server_closed": collections.Counter(), "other": 0}
    for part in parts:
        if not part:
            continue
        total["open"] += part["open"]
        total["live"] += part["live"]
        total["other"] += part["other"]
        for name in ("sent", "errors", "server_closed"):
            total[name].update(part[name])
        total["error_examples"] += part["error_examples"][:2]
    for name in ("sent", "errors", "server_closed"):
        total[name] = dict(total[name])
    total["tracks"] = sum(total["sent"].values())
    return total


# The activity burst -------------------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        body = b""
    return status, headers, body


def activity_requests(host, port, visitors, products, rng, count) -> list[bytes]:
    """Whole HTTP requests, made once: each posts 50 events for one visitor."""
    requests = []
    for _ in range(count):
        events = []
        for _ in range(EVENTS_PER_REQUEST):
            if products and rng.random() < 0.7:
                events.append({"type": "product.viewed", "data": {"product_id": rng.choice(products)}})
            else:
                events.append({"type": "page.viewed", "data": {"path": rng.choice(PAGES)}})
        body = json.dumps({"visitor": rng.choice(visitors), "events": events}, separators=(",", ":")).encode()
        head = (f"POST /v1/activity HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        requests.append(head + body)
    return requests


def burst_main(pipe, host, port, visitors, products, start_at, seconds, connections, seed):
    """One burst process: `connections` keep-alive connections posting activity until the deadline."""
    rng = random.Random(seed)
    requests = activity_requests(host, port, visitors, products, rng, 256)
    totals = {"requests": 0, "events_sent": 0, "accepted": 0, "status": collections.Counter(), "errors": 0,
              "examples": [], "latencies": [], "last": start_at}
    deadline = start_at + seconds

    async def connection(index: int):
        reader = writer = None
        i = index * 31
        while time.time() < deadline:
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
                request = requests[i % len(requests)]
                i += 1
                t0 = time.perf_counter()
                writer.write(request)
                status, headers, body = await asyncio.wait_for(read_response(reader), 30)
                totals["latencies"].append(time.perf_counter() - t0)
                totals["last"] = time.time()
                totals["requests"] += 1
                totals["events_sent"] += EVENTS_PER_REQUEST
                totals["status"][str(status)] += 1
                if status == 202:
                    totals["accepted"] += int(json.loads(body).get("accepted", 0))
                elif len(totals["examples"]) < 3:
                    totals["examples"].append(f"{status} {body[:200]!r}")
                if status == 429:
                    await asyncio.sleep(min(1.0, float(headers.get("retry-after") or 1)))
                if headers.get("connection", "").lower() == "close":
                    writer.close()
                    writer = None
            except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    ValueError) as error:
                totals["errors"] += 1
                if len(totals["examples"]) < 3:
                    totals["examples"].append(repr(error)[:200])
                if writer is not None:
                    writer.close()
                    writer = None
                await asyncio.sleep(0.05)
        if writer is not None:
            writer.close()

    async def main():
        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(*(connection(n) for n in range(connections)))

    try:
        asyncio.run(main())
        totals["status"] = dict(totals["status"])
        pipe.send(("burst", totals))
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        try:
            pipe.send(("fatal", repr(error)))
        except OSError:
            pass
        raise SystemExit(1)


def run_burst(host, port, visitors, products, seconds, processes, connections) -> dict:
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 2  # after every process has started
    pipes, procs = [], []
    for i in range(processes):
        parent, child = context.Pipe()
        proc = context.Process(target=burst_main, daemon=True,
                               args=(child, host, port, visitors, products, start_at, seconds, connections, 2000 + i))
        proc.start()
        child.close()
        pipes.append(parent)
        procs.append(proc)
    parts = []
    try:
        for pipe in pipes:
            if not pipe.poll(seconds + 60):
                raise TimeoutError("a burst process did not answer in time")
            kind, value = pipe.recv()
            if kind == "fatal":
                raise RuntimeError(f"burst process failed: {value}")
            parts.append(value)
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    status: collections.Counter = collections.Counter()
    for part in parts:
        status.update(part["status"])
    accepted = sum(p["accepted"] for p in parts)
    elapsed = max(p["last"] for p in parts) - start_at
    return {"processes": processes, "connections": processes * connections, "seconds": round(elapsed, 2),
            "requests": sum(p["requests"] for p in parts), "events_sent": sum(p["events_sent"] for p in parts),
            "accepted": accepted, "events_per_s": round(accepted / elapsed) if elapsed > 0 else None,
            "status": dict(status), "errors": sum(p["errors"] for p in parts),
            "examples": [e for p in parts for e in p["examples"]][:3],
            "request": spread_ms([s for p in parts for s in p["latencies"]])}


# The benchmark ----------------------------------------------------------------------------------


async def bench(args, host, port, pid, products, fleet: Fleet) -> dict:
    r: dict = {"shoppers": args.shoppers, "probes": args.probes, "processes": args.processes, "products": len(products)}
    total = args.shoppers + args.probes

    async def ask(command, expect, timeout, per_process=None):
        return await asyncio.to_thread(fleet.ask, command, expect, timeout, per_process)

    def rate_of(count):  # a share of --ramp, so every part finishes at about the same time
        return max(1.0, args.ramp * count / total)

    def settle():
        return asyncio.sleep(args.settle)

    # 1. The admin socket, first: it sees the warm-up's shoppers leave.
    probes = Probes(host, port, products, 7)
    admin = Admin(host, port, args.admin_key, probes)
    await admin.open()
    warm_visitors: list[str] = []
    try:
        admin.phase = "warm-up"
        # 2. Warm-up: first-use allocations, and visitors that are gone for the `left` burst.
        if args.warmup:
            log(f"warm-up: {args.warmup} shoppers say hello, view a product and leave…")
            warm = Crowd(host, port, products, 3)
            opened = await warm.open(args.warmup, args.ramp, hello=True)
            if opened["failures"]:
                raise RuntimeError(f"warm-up: {opened['failures']} shoppers failed: {opened['errors']}")
            warm_visitors = warm.visitors()
            await warm.close_all()
            gone = await admin.wait(lambda: admin.left.issuperset(warm_visitors), 20)
            r["warmup_left_seen"] = gone
            if not gone:
                log("warm-up: not every shopper.left seen within 20 s")
        await settle()
        r["rss_idle"] = proc_status(pid)

        admin.phase = "phase A"
        # 3. Phase A: sockets that only upgrade.
        log(f"phase A: {total:,} sockets at {args.ramp}/s, no hello…")
        cpu0 = cpu_seconds(pid)
        parts, mine = await asyncio.gather(
            ask(None, "connected", 600, per_process=lambda i: ("connect", rate_of(fleet.shares[i]), False)),
            probes.open(args.probes, rate_of(args.probes), hello=False))
        parts.append(mine)
        r["connected"] = sum(p["ok"] for p in parts)
        r["connect_failures"] = sum(p["failures"] for p in parts)
        r["connect_errors"] = [e for p in parts for e in p["errors"]][:3]
        r["connect_s"] = max(p["seconds"] for p in parts)
        await settle()
        r["rss_sockets"] = proc_status(pid)
        r["server_cpu_connect_s"] = None if cpu0 is None else round(cpu_seconds(pid) - cpu0, 2)

        admin.phase = "phase B"
        # 4. Phase B: hello, a product.viewed, then ticks.
        log(f"phase B: hello on {r['connected']:,} sockets at {args.ramp}/s…")
        joined_before = admin.types["shopper.joined"]
        cpu0 = cpu_seconds(pid)
        parts, mine = await asyncio.gather(
            ask(None, "live", 600, per_process=lambda i: ("hello", rate_of(fleet.shares[i]))),
            probes.hello_all(rate_of(args.probes)))
        parts.append(mine)
        r["live"] = sum(p["ok"] for p in parts)
        r["hello_failures"] = sum(p["failures"] for p in parts)
        r["hello_errors"] = [e for p in parts for e in p["errors"]][:3]
        r["hello_s"] = max(p["seconds"] for p in parts)
        if r["live"] == 0:
            raise RuntimeError(f"no shopper got a welcome (e.g. {r['hello_errors'][:1]}): does the server speak issue 25's hello?")
        await admin.wait(lambda: admin.types["shopper.joined"] - joined_before >= r["live"], 30)
        r["joined_seen"] = admin.types["shopper.joined"] - joined_before
        r["server_cpu_hello_s"] = None if cpu0 is None else round(cpu_seconds(pid) - cpu0, 2)
        await settle()
        r["rss_live"] = proc_status(pid)
        r["stats_after_hello"] = admin.stats_summary()

        admin.phase = "the live period"
        # 5. Live period: the probes are timed.
        log(f"live: {args.live_seconds:.0f} s, probes timed…")
        before = merge_stats(await ask(("stats",), "stats", 30))
        probe_tracks = sum(probes.sent.values())
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        probes.measuring = True
        probes.start_ticking(spread=True)
        await asyncio.sleep(args.live_seconds)
        probes.measuring = False
        probes.stop_ticking()
        await admin.wait(lambda: not probes.pending or
                         time.monotonic() - max(probes.pending.values()) > MATCH_TIMEOUT, MATCH_TIMEOUT + 1)
        after = merge_stats(await ask(("stats",), "stats", 30))
        elapsed = time.monotonic() - t0
        cpu = None if cpu0 is None else cpu_seconds(pid) - cpu0
        tracks = after["tracks"] - before["tracks"] + sum(probes.sent.values()) - probe_tracks
        r["live_period"] = {"seconds": round(elapsed, 1), "tracks": tracks,
                            "server_cpu_cores": None if cpu is None else round(cpu / elapsed, 3),
                            "server_cpu_us_per_track": None if cpu is None or not tracks else round(cpu * 1e6 / tracks, 1)}
        r["latency"] = {**spread_ms(probes.latencies), "sends": probes.sends, "missed": probes.missed(),
                        "matched_by": dict(probes.matched_by)}
        probes.pending.clear()

        admin.phase = "the live list"
        # 6. The live list, every shopper live. Blocking on purpose: no probe is pending, so the
        # admin's messages wait in the kernel meanwhile, and nothing in this process competes.
        log(f"GET /v1/shoppers/live × {args.list_requests}…")
        http_client = HTTP(host, port, args.admin_key)
        try:
            http_client.call("GET", "/v1/shoppers/live", expect=(200,))  # warm
            times, size, body = [], 0, b""
            for _ in range(args.list_requests):
                t = time.perf_counter()
                status, body = http_client.raw("GET", "/v1/shoppers/live")
                times.append(time.perf_counter() - t)
                if status != 200:
                    raise RuntimeError(f"GET /v1/shoppers/live -> {status} {body[:300]!r}")
                size = len(body)
            page = json.loads(body)
            r["live_list"] = {**spread_ms(times), "items": len(page.get("items", [])), "bytes": size, "seq": page.get("seq")}
        finally:
            http_client.close()

        # 7. The bursts.
        r["bursts"] = {}
        for kind in (["left", "live"] if args.burst_visitors == "both" else [args.burst_visitors]):
            if args.burst_seconds <= 0:
                break
            if kind == "left":
                visitors = warm_visitors
            else:
                visitors = [v for part in await ask(("visitors",), "visitors", 30) for v in part] + probes.visitors()
            if not visitors:
                log(f"burst: no {kind} visitors (left needs --warmup): skipped")
                continue
            admin.phase = f"burst ({kind})"
            log(f"burst: POST /v1/activity × {EVENTS_PER_REQUEST} events, {args.burst_processes} × "
                f"{args.burst_connections} connections, {args.burst_seconds:.0f} s, {len(visitors):,} {kind} visitors…")
            admin_before = sum(admin.types[t] for t in ("shopper.updated", "shopper.viewed"))
            cpu0 = cpu_seconds(pid)
            burst = await asyncio.to_thread(run_burst, host, port, visitors, products, args.burst_seconds,
                                            args.burst_processes, args.burst_connections)
            burst["visitors"] = kind
            burst["server_cpu_s"] = None if cpu0 is None else round(cpu_seconds(pid) - cpu0, 2)
            await asyncio.sleep(2)
            burst["admin_updates_seen"] = sum(admin.types[t] for t in ("shopper.updated", "shopper.viewed")) - admin_before
            r["bursts"][kind] = burst
        admin.phase = "end"

        # 8. The end.
        final = merge_stats(await ask(("stats",), "stats", 30) + [probes.stats()])
        r["shopper_stats"] = {k: final[k] for k in ("open", "live", "tracks", "sent", "errors", "error_examples",
                                                    "server_closed", "other")}
        r["rss_end"] = proc_status(pid)
        r["admin"] = {"types": dict(admin.types), "closed": admin.closed, "stats_live": admin.stats_summary()}
    finally:
        await probes.close_all()
        await admin.close()

    if r.get("rss_sockets") and r.get("rss_live") and r.get("rss_idle") and r.get("live"):
        r["kib_per_socket"] = round((r["rss_sockets"]["rss_kib"] - r["rss_idle"]["rss_kib"]) / r["connected"], 2)
        r["kib_per_live_shopper"] = round((r["rss_live"]["rss_kib"] - r["rss_sockets"]["rss_kib"]) / r["live"], 2)
        if r["rss_live"]["anon_kib"] is not None and r["rss_sockets"]["anon_kib"] is not None:
            r["anon_kib_per_live_shopper"] = round((r["rss_live"]["anon_kib"] - r["rss_sockets"]["anon_kib"]) / r["live"], 2)
    else:
        r["kib_per_socket"] = r["kib_per_live_shopper"] = None
    r["targets"] = {
        "kib_per_live_shopper": None if r["kib_per_live_shopper"] is None
        else r["kib_per_live_shopper"] < TARGETS["kib_per_live_shopper"],
        "latency_p99_ms": None if r["latency"]["p99_ms"] is None else r["latency"]["p99_ms"] < TARGETS["latency_p99_ms"],
        "live_list_p99_ms": r["live_list"]["p99_ms"] is not None and r["live_list"]["p99_ms"] < TARGETS["live_list_p99_ms"],
        **{f"burst_{kind}_events_per_s": None if b["events_per_s"] is None else b["events_per_s"] >= TARGETS["burst_events_per_s"]
           for kind, b in r["bursts"].items()},
    }
    return r


def report(r: dict, out) -> None:
    def f(value, spec=",.2f"):
        return "n/a" if value is None else format(value, spec)

    def verdict(ok):
        return "n/a" if ok is None else ("met" if ok else "MISSED")

    def rss(name):
        s = r.get(name)
        return "n/a" if not s else f"{f(s['rss_kib'], ',d')}/{f(s['anon_kib'], ',d')}"

    t = r["targets"]
    print(f"Live shoppers (bench/shoppers.py): {r['shoppers']:,} shoppers from {r['processes']} processes + {r['probes']} probes, "
          f"a track every ~{TRACK_EVERY:.0f} s, {r['products']} products", file=out)
    print(f"connect: {r['connected']:,} sockets in {r['connect_s']} s, {r['connect_failures']} failed"
          + (f" e.g. {r['connect_errors']}" if r["connect_errors"] else "")
          + f"; hello → welcome: {r['live']:,} live in {r['hello_s']} s, {r['hello_failures']} failed"
          + (f" e.g. {r['hello_errors']}" if r["hello_errors"] else "")
          + f"; shopper.joined seen by the admin {r['joined_seen']:,}", file=out)
    print(f"server RSS KiB (VmRSS/RssAnon): idle {rss('rss_idle')}, sockets {rss('rss_sockets')}, live {rss('rss_live')}, "
          f"end {rss('rss_end')}, peak {f((r.get('rss_end') or {}).get('hwm_kib'), ',d')}", file=out)
    print(f"  KiB per idle socket {f(r['kib_per_socket'])}; KiB per live shopper beyond an idle socket "
          f"{f(r['kib_per_live_shopper'])} (RssAnon {f(r.get('anon_kib_per_live_shopper'))}); target < "
          f"{TARGETS['kib_per_live_shopper']}: {verdict(t['kib_per_live_shopper'])}", file=out)
    lat = r["latency"]
    print(f"probe track → admin shopper.updated/viewed: {lat['count']} of {lat['sends']} sends, p50 {f(lat['p50_ms'])} ms, "
          f"p99 {f(lat['p99_ms'])} ms, max {f(lat['max_ms'])} ms, missed {lat['missed']}; target p99 < "
          f"{TARGETS['latency_p99_ms']} ms: {verdict(t['latency_p99_ms'])}  ({lat['matched_by']})", file=out)
    lp = r["live_period"]
    print(f"live period: {lp['seconds']} s, {lp['tracks']:,} tracks; server CPU {f(lp['server_cpu_cores'], '.3f')} cores, "
          f"{f(lp['server_cpu_us_per_track'], ',.1f')} µs per track", file=out)
    ll = r["live_list"]
    print(f"GET /v1/shoppers/live: {ll['count']} requests, {ll['items']:,} items, {ll['bytes'] / 1024:,.0f} KiB, "
          f"p50 {f(ll['p50_ms'])} ms, p99 {f(ll['p99_ms'])} ms, max {f(ll['max_ms'])} ms; target < "
          f"{TARGETS['live_list_p99_ms']} ms: {verdict(t['live_list_p99_ms'])}", file=out)
    for kind, b in r["bursts"].items():
        print(f"burst POST /v1/activity ({EVENTS_PER_REQUEST} events each, {b['visitors']} visitors, {b['processes']} procs × "
              f"{b['connections'] // b['processes']} conns, {b['seconds']} s): {b['requests']:,} requests, {b['accepted']:,} of "
              f"{b['events_sent']:,} events accepted → {f(b['events_per_s'], ',')} events/s; target ≥ "
              f"{TARGETS['burst_events_per_s']:,}: {verdict(t[f'burst_{kind}_events_per_s'])}", file=out)
        print(f"  statuses {b['status']}, {b['errors']} errors{' e.g. ' + str(b['examples']) if b['examples'] else ''}; "
              f"request p50 {f(b['request']['p50_ms'])} ms, p99 {f(b['request']['p99_ms'])} ms; server CPU "
              f"{f(b['server_cpu_s'])} s; shopper.updated/viewed seen by the admin {b['admin_updates_seen']:,}", file=out)
    s, a = r["shopper_stats"], r["admin"]
    print(f"shoppers at the end: {s['open']:,} open, {s['live']:,} live; tracks sent {s['tracks']:,} {s['sent']}; "
          f"errors {s['errors'] or 'none'}{' e.g. ' + str(s['error_examples'][:2]) if s['error_examples'] else ''}; "
          f"closed by the server {s['server_closed'] or 'none'}", file=out)
    print(f"admin: {a['types']}; stats.live {a['stats_live']['messages']} messages, shortest gap "
          f"{f(a['stats_live']['min_gap_s'], '.3f')} s, visitors_now {a['stats_live']['visitors_now']}; "
          f"{'closed by the server: ' + a['closed'] if a['closed'] else 'open to the end'}", file=out)


# Load mode (bench/ab.sh --beside shoppers) --------------------------------------------------------


def load(args) -> int:
    host, port = loopback(args.url)
    raise_fd_limit()
    http_client = HTTP(host, port, args.admin_key)
    try:
        http_client.call("GET", "/ready", expect=(200,))
        products = seed_products(http_client, args.products) if args.admin_key else public_products(http_client)
    finally:
        http_client.close()
    stop = {"now": False}

    def stopped(*_):
        stop["now"] = True
    signal.signal(signal.SIGTERM, stopped)
    signal.signal(signal.SIGINT, stopped)

    ramp_bound = args.shoppers / args.ramp + 120
    fleet = Fleet(host, port, products, args.shoppers, args.processes, time.monotonic() + ramp_bound + args.duration + 60)
    result = {"shoppers": args.shoppers, "processes": args.processes, "products": len(products)}
    ok = False
    try:
        parts = fleet.ask(None, "connected", ramp_bound,
                          per_process=lambda i: ("connect", max(1.0, args.ramp * fleet.shares[i] / args.shoppers), True))
        result.update(live=sum(p["ok"] for p in parts), failures=sum(p["failures"] for p in parts),
                      failure_examples=[e for p in parts for e in p["errors"]][:3], ramp_s=max(p["seconds"] for p in parts))
        log(f"load: {result['live']:,} live shoppers in {result['ramp_s']} s, {result['failures']} failed"
            + (f", e.g. {result['failure_examples'][0]}" if result["failures"] else ""))
        if result["failures"]:  # no ready file: a caller waiting for one sees the process end instead
            print(json.dumps(result), flush=True)
            return 1
        if args.ready_file:  # whole or not at all: a reader polls for it
            Path(args.ready_file + ".tmp").write_text(json.dumps(result) + "\n")
            os.replace(args.ready_file + ".tmp", args.ready_file)
        ready = time.monotonic()
        while not stop["now"] and time.monotonic() < ready + args.duration:
            time.sleep(0.2)
        result["seconds_live"] = round(time.monotonic() - ready, 1)
        stats = merge_stats(fleet.ask(("stats",), "stats", 30))
        result.update({k: stats[k] for k in ("open", "tracks", "sent", "errors", "error_examples", "server_closed")})
        ok = result["failures"] == 0
    finally:
        fleet.stop()
    print(json.dumps(result), flush=True)
    return 0 if ok else 1


# Main -------------------------------------------------------------------------------------------


def load_main(argv) -> int:
    parser = argparse.ArgumentParser(prog="shoppers.py load", description="Only the live shoppers, against an existing server.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--admin-key", default=os.environ.get("SHOPFLOOR_ADMIN_KEY"), help="makes products to view")
    parser.add_argument("--shoppers", type=int, default=10_000)
    parser.add_argument("--duration", type=float, required=True, help="seconds to keep them live once all are")
    parser.add_argument("--processes", type=int, help=f"client processes (default: {PER_PROCESS:,} shoppers each at most)")
    parser.add_argument("--ramp", type=float, default=500, help="new shoppers a second")
    parser.add_argument("--products", type=int, default=10, help="products made with --admin-key")
    parser.add_argument("--ready-file", help="a JSON line is written here once every shopper is live")
    args = parser.parse_args(argv)
    if not (1 <= args.shoppers <= 100_000) or args.duration <= 0 or args.ramp <= 0:
        sys.exit("shoppers.py load: --shoppers 1..100000, --duration and --ramp > 0")
    args.processes = max(1, min(args.processes or math.ceil(args.shoppers / PER_PROCESS), args.shoppers))
    signal.alarm(int(args.shoppers / args.ramp + args.duration + 300))  # a last resort; SIGALRM ends the process
    return load(args)


def main() -> int:
    if sys.argv[1:2] == ["load"]:
        return load_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="attach to this running server (else --binary is started)")
    parser.add_argument("--admin-key", default=os.environ.get("SHOPFLOOR_ADMIN_KEY"), help="with --url")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, for RSS and CPU")
    parser.add_argument("--binary", default=str(ROOT / ".build/release/shopfloor"))
    parser.add_argument("--shoppers", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4, help="client processes for the shoppers")
    parser.add_argument("--probes", type=int, default=200, help="timed shoppers, in this process")
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=100, help="shoppers that come and go first (0: none)")
    parser.add_argument("--ramp", type=float, default=500, help="sockets opened (and hellos said) a second, in all")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before each RSS reading")
    parser.add_argument("--live-seconds", type=float, default=40, help="the timed period of the probes")
    parser.add_argument("--list-requests", type=int, default=20)
    parser.add_argument("--burst-seconds", type=float, default=10, help="0: no burst")
    parser.add_argument("--burst-processes", type=int, default=4)
    parser.add_argument("--burst-connections", type=int, default=8, help="keep-alive connections per burst process")
    parser.add_argument("--burst-visitors", choices=["both", "left", "live"], default="both",
                        help="the warm-up's (gone) visitors, the live shoppers, or a burst for each")
    parser.add_argument("--max-seconds", type=float, default=900, help="the whole run stops after this")
    parser.add_argument("--json", action="store_true", help="the summary to stderr; stdout has only the JSON line")
    args = parser.parse_args()

    if not (1 <= args.shoppers <= 100_000) or not (1 <= args.probes <= 5_000) or args.products < 2:
        sys.exit("shoppers.py: --shoppers 1..100000, --probes 1..5000, --products 2 or more")
    if not (1 <= args.processes <= args.shoppers) or args.ramp <= 0 or args.list_requests < 1:
        sys.exit("shoppers.py: --processes 1..shoppers, --ramp > 0, --list-requests >= 1")
    if args.shoppers / args.processes > 2 * PER_PROCESS:
        log(f"{args.shoppers // args.processes:,} shoppers a process: more --processes would keep the clients quicker")
    raise_fd_limit()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < max(math.ceil(args.shoppers / args.processes), args.probes + args.warmup) + 256:
        sys.exit(f"shoppers.py: RLIMIT_NOFILE {soft} is too low for {args.shoppers} shoppers in {args.processes} processes")

    server = None
    fleet = None
    if args.url:
        host, port = loopback(args.url)
        if not args.admin_key:
            sys.exit("shoppers.py: --url needs --admin-key (or SHOPFLOOR_ADMIN_KEY)")
        pid = args.pid
    else:
        if not os.access(args.binary, os.X_OK):
            sys.exit(f"shoppers.py: {args.binary} not found (swift build -c release --product shopfloor)")
        args.admin_key = "bench-" + secrets.token_hex(16)
        room = args.shoppers + args.probes + args.warmup + args.burst_processes * args.burst_connections + 1000
        server = Server(args.binary, args.admin_key, room)
        host, port, pid = server.host, server.port, server.pid
        log(f"server up on port {port} (pid {pid})")

    # A last resort past --max-seconds: no orphan server, no orphan clients.
    def out_of_time(*_):
        print(f"shoppers.py: still running after {args.max_seconds + 60:.0f} s; stopping", file=sys.stderr, flush=True)
        if fleet is not None:
            fleet.kill()
        if server is not None and server.process.poll() is None:
            server.process.kill()
        os._exit(3)
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(args.max_seconds) + 60)

    try:
        http_client = HTTP(host, port, args.admin_key)
        try:
            http_client.call("GET", "/ready", expect=(200,))
            products = seed_products(http_client, args.products)
        finally:
            http_client.close()
        fleet = Fleet(host, port, products, args.shoppers, args.processes, time.monotonic() + args.max_seconds)
        try:
            result = asyncio.run(asyncio.wait_for(bench(args, host, port, pid, products, fleet), args.max_seconds))
        finally:
            fleet.stop()
    finally:
        if server is not None:
            server.stop()
    signal.alarm(0)

    report(result, sys.stderr if args.json else sys.stdout)
    print(json.dumps(result), flush=True)
    ok = (result["connect_failures"] == 0 and result["hello_failures"] == 0 and not result["admin"]["closed"]
          and result["latency"]["count"] > 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
