"""Backup and restore (issue 29): `shopfloor backup FILE` copies a serving data directory as of one
moment, under the cart load; `shopfloor restore FILE` writes it into an empty data directory; a server
started there keeps the books (every SKU's `reserved` is what active carts hold), its events go on
from the backup's newest `seq`, and a resume with `since` from a seq in the backup replays without a
gap. Both commands check the copy's integrity and refuse to overwrite anything."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import threading
import time

from cart_api import ADMIN_ENV, Api, unique
from conftest import BINARY
from test_cart_durability import assert_books
from test_events_ws import Channel, async_test


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def cart_load(api: Api, skus: list[str], stop: threading.Event) -> None:
    """Carts that take and give back units until told to stop."""
    worker = api.fork()
    while not stop.is_set():
        cart = worker.new_cart()
        for sku in skus:
            worker.add(cart["id"], sku, 1)
        if int(time.monotonic() * 10) % 2:
            worker.delete_cart(cart["id"])


@async_test(timeout=120)
async def test_a_backup_under_load_restores_into_a_server_that_keeps_the_books(launch, tmp_path):
    source = launch({}, env=ADMIN_ENV)
    api = Api(source)
    skus = [unique("BAK") for _ in range(3)]
    for sku in skus:
        api.product(sku, stock=400)
    stop = threading.Event()
    workers = [threading.Thread(target=cart_load, args=(api, skus, stop)) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(0.5)
        backup = tmp_path / "shop.backup"
        made = run("backup", "--data-dir", str(source.data_dir), str(backup))
        assert made.returncode == 0, made.stderr
        seq = int(re.search(r"events up to seq (\d+)", made.stdout).group(1))
        assert seq > 0
        time.sleep(0.3)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert backup.stat().st_mode & 0o077 == 0, "a backup holds customers' data and keys: owner only"
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # Refused: overwriting a file, restoring into a directory that holds anything.
    assert run("backup", "--data-dir", str(source.data_dir), str(backup)).returncode != 0
    assert run("restore", "--data-dir", str(source.data_dir), str(backup)).returncode != 0
    assert run("restore", "--data-dir", str(tmp_path / "nowhere"), str(tmp_path / "missing.backup")).returncode != 0

    target_dir = tmp_path / "restored"
    restored = run("restore", "--data-dir", str(target_dir), str(backup))
    assert restored.returncode == 0, restored.stderr
    assert {"secrets.key", "vapid.pem"} <= {p.name for p in target_dir.iterdir()}

    copy = launch({"data_dir": str(target_dir)}, env=ADMIN_ENV)
    again = Api(copy)
    # The books balance at the moment of the backup (the cart expiry recovery has run at start).
    assert_books(again, skus, on_hand=400)
    newest = again.ok("GET", f"/v1/events?since={seq - 1}&limit=5")["items"]
    assert newest[0]["seq"] == seq, newest
    async with await Channel.open(copy) as channel:
        replayed, subscribed = await channel.subscribe([f"stock:{sku}" for sku in skus], since=seq - 40)
        assert replayed and all(seq - 40 < event["seq"] <= subscribed["seq"] for event in replayed)
        assert [e["seq"] for e in replayed] == sorted(e["seq"] for e in replayed)
        cart = again.new_cart()
        assert again.add(cart["id"], skus[0], 2).status_code == 200
        live = await channel.event()
        assert live["seq"] > seq and live["seq"] > subscribed["seq"], (live, seq)
    assert_books(again, skus, on_hand=400)
