"""The two phases bench/messages.py and bench/webhooks.py measure an outbox channel by.

1. latency: `count` causes (orders, stock changes) at about `rate` a second, so nothing waits; each
   delivery's delay is its arrival at the receiver minus the moment its cause's request was sent
   (before the commit, so an upper bound). p50, p99, max.
2. throughput: the receiver is paused (SIGSTOP) while `total` causes are made, so their deliveries wait
   in the outbox; then it resumes, and its arrivals per second over the middle 80 % of the drain are
   the rate the channel sustains, whatever the rate the causes came in.
"""

from __future__ import annotations

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable


def wait_listening(log: Path) -> str:
    deadline = time.time() + 20
    while time.time() < deadline:
        match = re.search(r"listening on (http://\S+):(\d+)", log.read_text(errors="replace"))
        if match:
            return f"{match.group(1)}:{match.group(2)}"
        time.sleep(0.05)
    raise SystemExit("server did not start:\n" + log.read_text(errors="replace")[-2000:])


def run(pool: ThreadPoolExecutor, cause: Callable[[int], tuple[str, float]], arrivals: Callable[[int, float], dict[str, float]],
        receiver_pid: int, count: int, total: int, rate: float, what: str, unit: str) -> tuple[list[str], dict]:
    """`cause(n)` makes one cause and returns its key and when its request was sent; `arrivals(count,
    timeout)` maps keys to arrival times once `count` have arrived. Returns markdown rows and results."""
    rows, result = [], {}
    futures = []
    start = time.time()
    for n in range(count):
        delay = start + n / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        futures.append(pool.submit(cause, n))
    placed = dict(f.result() for f in futures)
    arrived = arrivals(len(placed), 60)
    delays = sorted((arrived[key] - placed[key]) * 1000 for key in placed if key in arrived)
    p50, p99 = delays[len(delays) // 2], delays[int(len(delays) * 0.99) - 1]
    rows.append(f"| latency | {count} at {rate:.0f}/s | {len(delays)} | p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {delays[-1]:.1f} ms |")
    result["latency"] = {what: count, "p50_ms": p50, "p99_ms": p99, "max_ms": delays[-1], "missing": count - len(delays)}

    before = len(arrived)
    os.kill(receiver_pid, signal.SIGSTOP)
    try:
        t0 = time.time()
        placed2 = dict(pool.map(cause, range(count, count + total)))
        making = time.time() - t0
    finally:
        os.kill(receiver_pid, signal.SIGCONT)
    arrived = arrivals(before + len(placed2), 300)
    times = sorted(arrived[key] for key in placed2 if key in arrived)
    middle = times[len(times) // 10: len(times) * 9 // 10]
    per_second = (len(middle) - 1) / (middle[-1] - middle[0]) if len(middle) > 1 and middle[-1] > middle[0] else float("nan")
    rows.append(f"| throughput | {total} queued while the receiver paused ({total / making:.0f} {what}/s) | {len(times)} | "
                f"{per_second:.0f} {unit}/s over the middle 80 % |")
    result["throughput"] = {what: total, f"{what}_per_second": total / making, f"{unit}_per_second": per_second,
                            "missing": total - len(times)}
    return rows, result
