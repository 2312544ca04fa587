#!/usr/bin/env python3
"""Memory cost of idle keep-alive connections.

Reads the server's VmRSS, opens N connections to 127.0.0.1:PORT, sends one GET on each and reads the
whole answer (so each connection has served a request and is now idle in keep-alive), waits for the
server to settle, reads VmRSS again, prints KiB per connection, then closes them all.

    bench/idle_conns.py --port PORT --pid PID [--count 1000] [--path /health] [--json]
"""
import argparse
import json
import resource
import socket
import sys
import time


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def read_response(sock: socket.socket) -> int:
    """Reads one HTTP/1.1 response with a Content-Length (or chunked) body; returns the status."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    if "content-length" in headers:
        want = int(headers["content-length"])
        while len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            body += chunk
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            body += chunk
    if headers.get("connection", "").lower() == "close":
        raise ConnectionError("server closed a keep-alive connection")
    return status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="server process id (for /proc/PID/status)")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--path", default="/health")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait before the second reading")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.count + 64
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    request = f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n\r\n".encode()
    before = rss_kib(args.pid)
    socks = []
    try:
        for _ in range(args.count):
            s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
            s.sendall(request)
            status = read_response(s)
            if status != 200:
                raise RuntimeError(f"GET {args.path} answered {status}")
            socks.append(s)
        time.sleep(args.settle)
        after = rss_kib(args.pid)
        # Every connection must still be open: a closed one reads EOF at once.
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    raise RuntimeError("the server closed an idle connection during the measurement")
            except BlockingIOError:
                pass
    finally:
        for s in socks:
            s.close()

    per_conn = (after - before) / args.count
    result = {"connections": args.count, "rss_before_kib": before, "rss_after_kib": after,
              "kib_per_connection": round(per_conn, 2)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.count} idle keep-alive connections: VmRSS {before} KiB -> {after} KiB, "
              f"{per_conn:.2f} KiB per connection")
    return 0


if __name__ == "__main__":
    sys.exit(main())
