#!/usr/bin/env python3
"""The whole Autobahn|Testsuite against /v1/echo/ws, with a summary table (`make autobahn`).

    bench/autobahn.py [--binary .build/release/shopfloor] [--outdir .build/autobahn] [-x CASE ...]
    bench/autobahn.py --summary-only .build/autobahn

Starts the binary on a free loopback port with `--enable-echo` and a temporary data dir, runs
kosoku (from Tests/blackbox/requirements.txt, in the venv this runs from) over every case, writes
its reports (index.json, index.html, one file per case) to --outdir, stops the server with SIGTERM
and prints, per case group, how many cases were OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED and
FAILED (a case counts as FAILED when its behaviour is FAILED or ERROR, or its closing handshake
is neither OK nor INFORMATIONAL), then every failed case. Exits 1 if any case failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {
    "1": "Framing", "2": "Pings/Pongs", "3": "Reserved bits", "4": "Opcodes", "5": "Fragmentation",
    "6": "UTF-8 handling", "7": "Close handling", "9": "Limits/performance", "10": "Miscellaneous",
    "12": "Compression (payloads)", "13": "Compression (parameters)",
}
COLUMNS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]


def case_key(case_id: str) -> list[int]:
    return [int(part) for part in case_id.split(".")]


def verdict(case: dict) -> str:
    if case["behavior"] in ("FAILED", "ERROR") or case["behaviorClose"] not in ("OK", "INFORMATIONAL"):
        return "FAILED"
    return case["behavior"]


def summarize(outdir: Path) -> int:
    agents = json.loads((outdir / "index.json").read_text())
    failed_total = 0
    for agent, cases in agents.items():
        rows: dict[str, Counter] = defaultdict(Counter)
        for case_id, case in cases.items():
            group = case_id.split(".")[0]
            rows[group][verdict(case)] += 1
        width = max(len(f"{g} {GROUPS.get(g, '')}") for g in rows)
        print(f"\nAutobahn|Testsuite: {agent}, {len(cases)} cases ({outdir})\n")
        sizes = [max(len(c), 5) for c in COLUMNS]
        print(f"{'group'.ljust(width)} | " + " | ".join(c.rjust(n) for c, n in zip(COLUMNS, sizes)))
        print("-" * width + "-|-" + "-|-".join("-" * n for n in sizes))
        totals = Counter()
        for group in sorted(rows, key=int):
            label = f"{group} {GROUPS.get(group, '')}".ljust(width)
            print(f"{label} | " + " | ".join(str(rows[group][c]).rjust(n) for c, n in zip(COLUMNS, sizes)))
            totals.update(rows[group])
        print(f"{'total'.ljust(width)} | " + " | ".join(str(totals[c]).rjust(n) for c, n in zip(COLUMNS, sizes)))
        failed = sorted((i for i, c in cases.items() if verdict(c) == "FAILED"), key=case_key)
        for case_id in failed:
            case = cases[case_id]
            print(f"FAILED {case_id}: behavior {case['behavior']}, close {case['behaviorClose']}, "
                  f"remote close code {case['remoteCloseCode']} ({outdir / case['reportfile']})")
        failed_total += len(failed)
    return failed_total


def find_binary(explicit: str | None) -> Path:
    candidates = [explicit] if explicit else [os.environ.get("SHOPFLOOR_BIN"), ".build/release/shopfloor", ".build/debug/shopfloor"]
    for candidate in candidates:
        if candidate and (ROOT / candidate).exists():
            return (ROOT / candidate).resolve()
    sys.exit(f"no shopfloor binary among {[c for c in candidates if c]}: build one first")


def start_server(binary: Path, data_dir: str, log_path: Path) -> tuple[subprocess.Popen, int]:
    log = open(log_path, "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPFLOOR_")}
    proc = subprocess.Popen([str(binary), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir,
                             "--enable-echo", "--log-level", "notice", "--drain-timeout", "3s"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(r"listening on https?://\S+:(\d+)", log_path.read_text(errors="replace"))
        if match:
            return proc, int(match.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    sys.exit(f"shopfloor did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", help="shopfloor binary (default: $SHOPFLOOR_BIN, else release, else debug)")
    parser.add_argument("--outdir", default=str(ROOT / ".build/autobahn"))
    parser.add_argument("-i", "--include", action="append", default=None, help="case id or glob (default: every case)")
    parser.add_argument("-x", "--exclude", action="append", default=[], help="case id or glob to leave out")
    parser.add_argument("--summary-only", metavar="DIR", help="only print the table for reports already in DIR")
    args = parser.parse_args()
    if args.summary_only:
        return 1 if summarize(Path(args.summary_only)) else 0

    kosoku = Path(sys.executable).with_name("kosoku")
    if not kosoku.exists():
        sys.exit(f"{kosoku} not found: run from the test venv (make venv), which installs kosoku")
    binary = find_binary(args.binary)
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("*"):
        if old.is_file():
            old.unlink()
    with tempfile.TemporaryDirectory(prefix="shopfloor-autobahn-") as data_dir:
        log_path = outdir / "server.log"
        proc, port = start_server(binary, data_dir, log_path)
        print(f"{binary} on 127.0.0.1:{port}; kosoku over {', '.join(args.include or ['*'])}"
              + (f" except {', '.join(args.exclude)}" if args.exclude else ""), flush=True)
        command = [str(kosoku), f"ws://127.0.0.1:{port}/v1/echo/ws", "-o", str(outdir)]
        for case in args.include or ["*"]:
            command += ["-i", case]
        for case in args.exclude:
            command += ["-x", case]
        started = time.monotonic()
        try:
            run = subprocess.run(command)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = "killed"
        print(f"kosoku exited {run.returncode} after {time.monotonic() - started:.0f} s; server exited {code} on SIGTERM")
        if code != 0:
            print(log_path.read_text(errors="replace")[-3000:])
    if not (outdir / "index.json").exists():
        sys.exit("kosoku wrote no index.json")
    failed = summarize(outdir)
    return 1 if failed or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
