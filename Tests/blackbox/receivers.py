"""Local receivers the server sends to in tests: `Tests/support/webhook_receiver.py` (webhooks and
signed SMS) and `Tests/support/push_service.py` (Web Push), each a subprocess on a free loopback port."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

SUPPORT = Path(__file__).resolve().parents[1] / "support"


class WebhookReceiver:
    """One webhook_receiver.py process."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, str(SUPPORT / "webhook_receiver.py"), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        match = re.match(r"PORT (\d+)", line)
        assert match, f"webhook_receiver did not start: {line}{self.proc.stdout.read() if self.proc.poll() is not None else ''}"
        self.port = int(match.group(1))
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/hooks") -> str:
        return self.base + path

    def control(self, **settings) -> None:
        requests.post(self.base + "/_control", json=settings, timeout=5).raise_for_status()

    def received(self) -> list[dict]:
        return requests.get(self.base + "/_received", timeout=5).json()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=5)


class PushService:
    """One push_service.py process: a push service and the browser behind it."""

    def __init__(self, *args: str):
        import json as _json
        self.proc = subprocess.Popen([sys.executable, str(SUPPORT / "push_service.py"), "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        try:
            self.port = int(_json.loads(line)["port"])
        except (ValueError, KeyError) as error:
            raise AssertionError(f"push_service did not start: {line}{self.proc.stdout.read() if self.proc.poll() is not None else ''}") from error
        self.base = f"http://127.0.0.1:{self.port}"

    def subscribe(self, application_server_key: str) -> dict:
        response = requests.post(self.base + "/subscriptions", json={"application_server_key": application_server_key}, timeout=5)
        assert response.status_code == 201, response.text
        return response.json()

    def messages(self) -> list[dict]:
        return requests.get(self.base + "/messages", timeout=5).json()

    def rejections(self) -> list[dict]:
        return requests.get(self.base + "/rejections", timeout=5).json()

    def control(self, **settings) -> dict:
        return requests.post(self.base + "/control", json=settings, timeout=5).json()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=5)
