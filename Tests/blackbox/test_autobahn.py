"""Autobahn|Testsuite conformance of the WebSocket transport, through `GET /v1/echo/ws`.

kosoku (a native runner of the Autobahn case files) drives a server started with `--enable-echo`.
This module runs a subset that takes about two minutes against a debug build: framing, pings,
reserved bits, opcodes, fragmentation, UTF-8, close handling, messages up to 1 MiB, permessage-deflate
with the default offer and with small messages under every offer. `make autobahn` runs the whole
suite against a release build. A case fails the test when its behaviour is FAILED (or ERROR, or
UNIMPLEMENTED) or its closing handshake is not OK / INFORMATIONAL; NON-STRICT and INFORMATIONAL are
counted and printed, as Autobahn itself allows them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

KOSOKU = Path(sys.executable).with_name("kosoku")

CASES = [
    "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*",
    "9.1.1", "9.1.2", "9.1.3", "9.2.1", "9.2.2", "9.2.3",  # text and binary up to 1 MiB
    "10.*",
    "12.1.*",  # compressed messages of every size, default offer
    # Messages of up to 16 KiB under each of the seven client offers. (kosoku's `*` matches a prefix:
    # `13.*.1` would also take 13.1.10-18, the large ones, so these are listed one by one.)
    *[f"13.{offer}.{size}" for offer in range(1, 8) for size in range(1, 9)],
]
GOOD_BEHAVIOR = {"OK", "NON-STRICT", "INFORMATIONAL"}
GOOD_CLOSE = {"OK", "INFORMATIONAL"}


def _run(server, outdir: Path) -> dict[str, dict]:
    if not KOSOKU.exists():
        pytest.fail(f"{KOSOKU} not found: install Tests/blackbox/requirements.txt (kosoku)")
    url = f"ws://{server.host}:{server.port}/v1/echo/ws"
    args = [str(KOSOKU), url, "-o", str(outdir)]
    for case in CASES:
        args += ["-i", case]
    result = subprocess.run(args, capture_output=True, text=True, timeout=420)
    index_path = outdir / "index.json"
    assert index_path.exists(), f"kosoku wrote no index (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    agents = json.loads(index_path.read_text())
    assert len(agents) == 1, agents.keys()
    return next(iter(agents.values()))


def _case_key(case_id: str) -> list[int]:
    return [int(part) for part in case_id.split(".")]


def test_autobahn_subset(launch, tmp_path):
    server = launch({"enable_echo": True})
    cases = _run(server, tmp_path / "autobahn")
    assert len(cases) > 250, f"only {len(cases)} cases ran"

    behaviors = Counter(c["behavior"] for c in cases.values())
    closes = Counter(c["behaviorClose"] for c in cases.values())
    print(f"\nautobahn: {len(cases)} cases; behavior {dict(behaviors)}; close {dict(closes)}")
    for label in ("NON-STRICT", "INFORMATIONAL"):
        ids = sorted((i for i, c in cases.items() if c["behavior"] == label), key=_case_key)
        if ids:
            print(f"  {label}: {len(ids)} ({', '.join(ids)})")

    failed = []
    for case_id in sorted(cases, key=_case_key):
        case = cases[case_id]
        if case["behavior"] in GOOD_BEHAVIOR and case["behaviorClose"] in GOOD_CLOSE:
            continue
        detail = json.loads((tmp_path / "autobahn" / case["reportfile"]).read_text())
        failed.append(f"{case_id}: behavior {case['behavior']}, close {case['behaviorClose']} "
                      f"(remote close code {case['remoteCloseCode']}): {detail.get('description', '')[:120]!r}; "
                      f"{detail.get('result', '')} / {detail.get('resultClose', '')}")
    assert not failed, f"{len(failed)} Autobahn cases failed:\n" + "\n".join(failed) + "\n\nserver log:\n" + server.log_tail(20)
