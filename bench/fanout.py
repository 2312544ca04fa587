#!/usr/bin/env python3
"""Fan-out of one event to many idle WebSocket subscribers, against a running Shopfloor on loopback.

    bench/fanout.py --url http://127.0.0.1:8080 --admin-key KEY [--clients 1000] [--processes P]
                    [--events 20] [--pid SERVER_PID] [--no-deflate] [--json]

Creates a product with one SKU (POST /v1/products, then an adjustment for stock), warms the server
up with a few subscribers, then connects --clients WebSockets to /v1/events/ws from --processes
client processes (default: at most 2,500 each, each with its own asyncio loop), in batches so the
listen backlog is never overrun. Each subscribes to `stock:<sku>` and waits for `subscribed`.
With --pid, the server's VmRSS before connecting and once all are connected and idle gives the
memory per idle connection.

Then --events times: POST /v1/inventory/{sku}/adjustments {"delta":1,"reason":"received"} (admin),
timed from just before the request is written; every client records when the `stock.changed` event
with the new seq reached it, and the next write waits until all clients have it (10 s at most per
event; clients without it count as missed).

The receive time is the kernel's arrival time of the segment that carried the event (SO_TIMESTAMPNS
on the client socket), so it does not depend on how fast Python reads thousands of sockets. By default
the clients do not even read while the server fans out (reading is paused before each write; a private
epoll says when every socket has data), so they do not take the cores from the server: on loopback
they share the machine with it. --live-read keeps them reading and also reports the client-observed
time (when the asyncio loop handed over the message), which adds the clients' own queueing.

Delay = receive time - time the HTTP request was sent (so it includes the commit before the event is
published). Prints p50/p99/max over all clients x events, the slowest client per event, the write's
own request -> 200 time and the server's CPU time per delivery (/proc/PID/stat), then one JSON line
(the last line on stdout). Exits non-zero if any event was missed or any client failed to connect. Loopback only;
stops by itself (--max-seconds); raises RLIMIT_NOFILE; closes every socket at the end.
Needs the `websockets` package (in .build/venv after `make venv`).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import http.client
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import resource
import secrets
import select
import socket
import struct
import sys
import time
from urllib.parse import urlparse

import websockets
from websockets.asyncio.client import connect as ws_connect

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; SCM_TIMESTAMPNS has the same value
PER_PROCESS = 2_500
EVENT_TIMEOUT = 10.0


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


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


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(fraction * len(sorted_values)) - 1))]


# HTTP (setup and the timed writes) ------------------------------------------------------------------


class HTTP:
    """One keep-alive connection for the setup calls and the timed writes."""

    def __init__(self, host: str, port: int, key: str):
        self.host, self.port, self.key = host, port, key
        self.conn = http.client.HTTPConnection(host, port, timeout=30)

    def call(self, method: str, path: str, body=None, expect=(200, 201)):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()  # a stale keep-alive connection: one retry on a new one
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        payload = response.read()
        if response.status not in expect:
            raise RuntimeError(f"{method} {path} -> {response.status} {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def close(self):
        self.conn.close()


# Client processes -----------------------------------------------------------------------------------


class StampedSocket(socket.socket):
    """A TCP socket whose recv() keeps the kernel's arrival time of the last segment read (asyncio's
    selector transport reads through sock.recv)."""

    stamp = 0.0
    _space = socket.CMSG_SPACE(16)

    def recv(self, size, flags=0):
        data, ancillary, _, _ = self.recvmsg(size, self._space, flags)
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                seconds, nanoseconds = struct.unpack_from("qq", value)
                self.stamp = seconds + nanoseconds / 1e9
        return data


class Client:
    __slots__ = ("ws", "sock", "baseline", "first", "task")

    def __init__(self, ws, sock):
        self.ws, self.sock = ws, sock
        self.baseline = 0  # events with a seq above this are new
        self.first = None  # (seq, kernel time, client time) of the first new stock.changed
        self.task = None


class Worker:
    """One process: `count` subscribers on its own asyncio loop, driven by the parent over a pipe."""

    def __init__(self, pipe, host, port, sku, count, deflate, batch, live):
        self.pipe, self.host, self.port, self.sku = pipe, host, port, sku
        self.count, self.deflate, self.batch, self.live = count, deflate, batch, live
        self.quiet: select.epoll | None = None
        self.clients: list[Client] = []
        self.pending = 0
        self.armed = False
        self.all_in = asyncio.Event()
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.subscribe = json.dumps({"op": "subscribe", "topics": [f"stock:{sku}"]})

    async def open_client(self) -> Client:
        loop = asyncio.get_running_loop()
        sock = StampedSocket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await asyncio.wait_for(loop.sock_connect(sock, (self.host, self.port)), 30)
            ws = await ws_connect(f"ws://{self.host}:{self.port}/v1/events/ws", sock=sock, proxy=None,
                                  compression="deflate" if self.deflate else None, open_timeout=30,
                                  ping_interval=None, ping_timeout=None, close_timeout=2,
                                  user_agent_header=None, max_queue=64)
        except BaseException:
            sock.close()
            raise
        client = Client(ws, sock)
        try:
            await ws.send(self.subscribe)
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if reply.get("op") != "subscribed":
                raise RuntimeError(f"subscribe answered {reply}")
            client.baseline = int(reply["seq"])
        except BaseException:
            await ws.close()
            raise
        client.task = asyncio.create_task(self.read(client))
        return client

    async def read(self, client: Client):
        try:
            async for message in client.ws:
                now = time.time()
                if client.first is not None or '"stock.changed"' not in message:
                    continue
                seq = json.loads(message)["seq"]
                if seq > client.baseline:
                    client.first = (seq, client.sock.stamp, now)
                    if self.armed:
                        self.pending -= 1
                        if self.pending == 0:
                            self.all_in.set()
        except websockets.ConnectionClosed:
            pass

    async def connect_all(self) -> dict:
        started = time.time()
        failures, errors = 0, []
        remaining = self.count
        while remaining > 0:
            n = min(self.batch, remaining)
            results = await asyncio.gather(*(self.open_client() for _ in range(n)), return_exceptions=True)
            for result in results:
                if isinstance(result, Client):
                    self.clients.append(result)
                else:
                    failures += 1
                    if len(errors) < 3:
                        errors.append(repr(result)[:200])
            remaining -= n
        return {"connected": len(self.clients), "failures": failures, "errors": errors,
                "seconds": time.time() - started}

    def arm(self):
        """Before a write: what each client has seen is old; the next new stock.changed is the one."""
        for client in self.clients:
            if client.first is not None:
                client.baseline = max(client.baseline, client.first[0])
            client.first = None
        open_clients = [c for c in self.clients if not c.task.done()]
        self.pending = len(open_clients)
        self.armed = True
        self.all_in = asyncio.Event()
        if self.pending == 0:
            self.all_in.set()
        if not self.live:
            # Quiet: nobody reads while the server fans out (the kernel stamps arrivals anyway), so
            # thousands of Python readers do not take the cores from the server. A private epoll
            # (one-shot per socket) says when every socket has data.
            self.quiet = select.epoll(len(open_clients) + 1)
            for client in open_clients:
                client.ws.transport.pause_reading()
                self.quiet.register(client.sock.fileno(), select.EPOLLIN | select.EPOLLONESHOT)

    async def collect(self) -> list:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EVENT_TIMEOUT
        if self.quiet is not None:
            quiet, self.quiet = self.quiet, None
            waiting = {c.sock.fileno() for c in self.clients if not c.task.done()}
            arrived = asyncio.Event()

            def ready():
                for fd, _ in quiet.poll(0, 4096):
                    waiting.discard(fd)
                if not waiting:
                    arrived.set()
            loop.add_reader(quiet.fileno(), ready)
            try:
                ready()
                await asyncio.wait_for(arrived.wait(), EVENT_TIMEOUT)
            except asyncio.TimeoutError:
                pass
            finally:
                loop.remove_reader(quiet.fileno())
                quiet.close()
                for client in self.clients:
                    if not client.task.done():
                        client.ws.transport.resume_reading()
        try:
            await asyncio.wait_for(self.all_in.wait(), max(0.5, deadline - loop.time()))
        except asyncio.TimeoutError:
            pass
        self.armed = False
        return [c.first for c in self.clients]

    async def close_all(self):
        async def close(client: Client):
            try:
                await client.ws.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        for start in range(0, len(self.clients), 500):
            part = self.clients[start:start + 500]
            try:
                await asyncio.wait_for(asyncio.gather(*(close(c) for c in part)), 10)
            except asyncio.TimeoutError:
                pass
        for client in self.clients:
            client.ws.transport.abort()
            client.task.cancel()
            client.sock.close()

    async def main(self):
        loop = asyncio.get_running_loop()
        def incoming():
            try:
                self.inbox.put_nowait(self.pipe.recv())
            except (EOFError, OSError):  # the parent is gone
                loop.remove_reader(self.pipe.fileno())
                self.inbox.put_nowait(("stop", "orphaned"))
        loop.add_reader(self.pipe.fileno(), incoming)
        try:
            while True:
                command = await self.inbox.get()
                if command[0] == "connect":
                    self.pipe.send(("connected", await self.connect_all()))
                elif command[0] == "alive":
                    self.pipe.send(("alive", sum(1 for c in self.clients if not c.task.done())))
                elif command[0] == "arm":
                    self.arm()
                    self.pipe.send(("armed", None))
                elif command[0] == "collect":
                    self.pipe.send(("collected", await self.collect()))
                elif command[0] == "stop":
                    break
        finally:
            loop.remove_reader(self.pipe.fileno())
            await self.close_all()
            try:
                self.pipe.send(("stopped", None))
            except OSError:
                pass


def worker_main(pipe, host, port, sku, count, deflate, batch, live):
    raise_fd_limit()
    try:
        asyncio.run(Worker(pipe, host, port, sku, count, deflate, batch, live).main())
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        try:
            pipe.send(("fatal", repr(error)))
        except OSError:
            pass
        raise SystemExit(1)


# Parent ---------------------------------------------------------------------------------------------


class Fleet:
    """The client processes of one phase."""

    def __init__(self, args, host, port, sku, clients, processes):
        context = multiprocessing.get_context("fork")
        shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
        self.pipes, self.procs = [], []
        for share in shares:
            parent, child = context.Pipe()
            proc = context.Process(target=worker_main, daemon=True,
                                   args=(child, host, port, sku, share, not args.no_deflate, args.batch, args.live_read))
            proc.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(proc)
        self.deadline = args.deadline

    def ask(self, command, expect, timeout):
        for pipe in self.pipes:
            pipe.send(command)
        answers = [None] * len(self.pipes)
        waiting = dict(zip(self.pipes, range(len(self.pipes))))
        until = min(time.monotonic() + timeout, self.deadline)
        while waiting:
            left = until - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"client processes did not answer {command[0]!r} in time")
            for pipe in multiprocessing.connection.wait(list(waiting), timeout=left):
                kind, value = pipe.recv()
                if kind == "fatal":
                    raise RuntimeError(f"client process failed: {value}")
                if kind != expect:
                    raise RuntimeError(f"client process answered {kind!r} to {command[0]!r}")
                answers[waiting.pop(pipe)] = value
        return answers

    def stop(self):
        self.deadline = time.monotonic() + 30  # closing is bounded on its own
        try:
            self.ask(("stop",), "stopped", 30)
        except Exception as error:  # noqa: BLE001 - the processes are ended below
            print(f"fanout.py: stopping clients: {error}", file=sys.stderr)
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)


def write(http_client: HTTP, sku: str) -> tuple[float, float]:
    sent = time.time()
    http_client.call("POST", f"/v1/inventory/{sku}/adjustments", {"delta": 1, "reason": "received"}, expect=(200,))
    return sent, time.time()


def run(args) -> dict:
    url = urlparse(args.url)
    host, port = url.hostname, url.port or 80
    http_client = HTTP(host, port, args.admin_key)
    http_client.call("GET", "/ready", expect=(200,))

    run_id = secrets.token_hex(4)
    sku = f"FANOUT-{run_id}"
    http_client.call("POST", "/v1/products", {
        "title": f"Fan-out bench {run_id}",
        "variants": [{"sku": sku, "price": {"amount": 999, "currency": "GBP"}}]}, expect=(201,))
    http_client.call("POST", f"/v1/inventory/{sku}/adjustments", {"delta": 100, "reason": "received"}, expect=(200,))

    # Warm-up: a few subscribers get one event, then leave, so first-use allocations are not counted.
    warm = Fleet(args, host, port, sku, min(args.warmup, args.clients), 1)
    try:
        connected = warm.ask(("connect",), "connected", 60)[0]
        if connected["failures"]:
            raise RuntimeError(f"warm-up: {connected['failures']} clients failed to connect: {connected['errors']}")
        warm.ask(("arm",), "armed", 10)
        write(http_client, sku)
        warm.ask(("collect",), "collected", EVENT_TIMEOUT + 5)
    finally:
        warm.stop()
    time.sleep(args.settle)
    rss_before = rss_kib(args.pid)

    fleet = Fleet(args, host, port, sku, args.clients, args.processes)
    try:
        started = time.time()
        parts = fleet.ask(("connect",), "connected", max(60, fleet.deadline - time.monotonic()))
        connect_seconds = time.time() - started
        connected = sum(p["connected"] for p in parts)
        failures = sum(p["failures"] for p in parts)
        errors = [e for p in parts for e in p["errors"]][:3]
        time.sleep(args.settle)
        rss_idle = rss_kib(args.pid)
        alive_idle = sum(fleet.ask(("alive",), "alive", 30))

        kernel, client, http_ms, last_ms, missed, seqs = [], [], [], [], 0, []
        cpu_before = cpu_seconds(args.pid)
        for _ in range(args.events):
            fleet.ask(("arm",), "armed", 30)
            sent, answered = write(http_client, sku)
            firsts = [f for part in fleet.ask(("collect",), "collected", EVENT_TIMEOUT + 20) for f in part]
            # The event of this write: the seq most clients got (a straggler of an earlier event is not it).
            counts = collections.Counter(f[0] for f in firsts if f is not None)
            seq = counts.most_common(1)[0][0] if counts else None
            got = [f for f in firsts if f is not None and f[0] == seq]
            missed += connected - len(got)
            seqs.append(seq)
            http_ms.append((answered - sent) * 1000)
            delays = [(f[1] - sent) * 1000 for f in got]
            kernel += delays
            client += [(f[2] - sent) * 1000 for f in got]
            if delays:
                last_ms.append(max(delays))
            time.sleep(args.pause)
        cpu_after = cpu_seconds(args.pid)
        alive_end = sum(fleet.ask(("alive",), "alive", 30))
        rss_end = rss_kib(args.pid)
    finally:
        fleet.stop()
        http_client.close()

    kernel.sort()
    client.sort()
    http_ms.sort()
    last_ms.sort()
    per_conn = None
    if rss_before is not None and rss_idle is not None and connected:
        per_conn = (rss_idle - rss_before) / connected

    def ms(values, fraction):
        value = percentile(values, fraction)
        return None if math.isnan(value) else round(value, 2)

    return {
        "clients": args.clients, "processes": args.processes, "read": "live" if args.live_read else "quiet", "deflate": not args.no_deflate,
        "connected": connected, "connect_failures": failures, "connect_errors": errors,
        "connect_s": round(connect_seconds, 2),
        "rss_before_kib": rss_before, "rss_idle_kib": rss_idle, "rss_end_kib": rss_end,
        "kib_per_conn": None if per_conn is None else round(per_conn, 2),
        "events": args.events, "deliveries": len(kernel), "missed": missed,
        "alive_idle": alive_idle, "alive_end": alive_end,
        "delivery_p50_ms": ms(kernel, 0.50), "delivery_p99_ms": ms(kernel, 0.99), "delivery_max_ms": ms(kernel, 1.0),
        **({"client_p50_ms": ms(client, 0.50), "client_p99_ms": ms(client, 0.99), "client_max_ms": ms(client, 1.0)}
           if args.live_read else {}),
        "last_client_p50_ms": ms(last_ms, 0.50), "last_client_max_ms": ms(last_ms, 1.0),
        "http_p50_ms": ms(http_ms, 0.50), "http_max_ms": ms(http_ms, 1.0),
        "server_cpu_us_per_delivery": None if cpu_before is None or cpu_after is None or not kernel
        else round((cpu_after - cpu_before) * 1e6 / len(kernel), 1),
        "seqs_increasing": all(b is not None and a is not None and b > a for a, b in zip(seqs, seqs[1:])),
    }


def report(r: dict, out) -> None:
    def f(value, spec=".2f"):
        return "n/a" if value is None else format(value, spec)

    print(f"clients: {r['connected']}/{r['clients']} connected from {r['processes']} processes"
          f"{'' if r['deflate'] else ' (no permessage-deflate)'}, {r['connect_failures']} failed"
          + (f" e.g. {r['connect_errors']}" if r["connect_errors"] else ""), file=out)
    print(f"connect time: {r['connect_s']:.2f} s", file=out)
    print(f"server RSS: {f(r['rss_before_kib'], 'd')} KiB before, {f(r['rss_idle_kib'], 'd')} KiB with all idle "
          f"-> {f(r['kib_per_conn'])} KiB per idle connection; {f(r['rss_end_kib'], 'd')} KiB after the events", file=out)
    print(f"events: {r['events']}, deliveries {r['deliveries']}, missed {r['missed']}; "
          f"clients still open {r['alive_end']}/{r['connected']}", file=out)
    print(f"delivery (kernel arrival - HTTP send): p50 {f(r['delivery_p50_ms'])} ms, p99 {f(r['delivery_p99_ms'])} ms, "
          f"max {f(r['delivery_max_ms'])} ms; last client per event p50 {f(r['last_client_p50_ms'])} ms, "
          f"max {f(r['last_client_max_ms'])} ms", file=out)
    if r["read"] == "live":
        print(f"client-observed (Python loop - HTTP send): p50 {f(r['client_p50_ms'])} ms, p99 {f(r['client_p99_ms'])} ms, "
              f"max {f(r['client_max_ms'])} ms", file=out)
    print(f"HTTP write (request -> 200): p50 {f(r['http_p50_ms'])} ms, max {f(r['http_max_ms'])} ms; "
          f"server CPU {f(r['server_cpu_us_per_delivery'], '.1f')} us per delivery", file=out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("SHOPFLOOR_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--admin-key", default=os.environ.get("SHOPFLOOR_ADMIN_KEY"))
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--processes", type=int, help=f"client processes (default: {PER_PROCESS:,} clients each at most)")
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--pid", type=int, help="server pid, for VmRSS from /proc/PID/status")
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    parser.add_argument("--live-read", action="store_true",
                        help="clients read while the server fans out (they then compete with it for the cores)")
    parser.add_argument("--batch", type=int, default=100, help="connections opened at once per process")
    parser.add_argument("--warmup", type=int, default=100, help="subscribers in the warm-up round")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before each RSS reading")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between writes")
    parser.add_argument("--max-seconds", type=float, default=170, help="the whole run stops after this")
    parser.add_argument("--json", action="store_true", help="the summary to stderr; stdout has only the JSON line")
    args = parser.parse_args()

    url = urlparse(args.url)
    if url.scheme != "http" or url.hostname != "127.0.0.1":
        sys.exit("fanout.py: http://127.0.0.1 targets only")
    if not args.admin_key:
        sys.exit("fanout.py: --admin-key or SHOPFLOOR_ADMIN_KEY is required")
    if not (1 <= args.clients <= 50_000) or not (1 <= args.events <= 1000):
        sys.exit("fanout.py: --clients 1..50000, --events 1..1000")
    args.processes = args.processes or math.ceil(args.clients / PER_PROCESS)
    args.processes = max(1, min(args.processes, args.clients))
    args.deadline = time.monotonic() + args.max_seconds
    raise_fd_limit()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < math.ceil(args.clients / args.processes) + 64:
        sys.exit(f"fanout.py: RLIMIT_NOFILE {soft} is too low for {args.clients} clients in {args.processes} processes")

    # The whole run is bounded: SIGALRM ends it (the client processes are daemons and die with it).
    import signal

    def out_of_time(*_):
        raise TimeoutError(f"fanout.py: still running after {args.max_seconds + 20:.0f} s")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(args.max_seconds) + 20)

    result = run(args)
    signal.alarm(0)
    report(result, sys.stderr if args.json else sys.stdout)
    print(json.dumps(result), flush=True)
    ok = result["missed"] == 0 and result["connect_failures"] == 0 and result["alive_end"] == args.clients
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
