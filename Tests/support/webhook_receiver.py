"""An HTTP receiver for tests of integrator webhooks and the signed SMS channel.

Listens on loopback and prints `PORT <n>` on stdout once listening, so a test can start it with
`--port 0`. Every POST is recorded with its headers and body; with secrets configured its Standard
Webhooks signature is checked with the reference library (`standardwebhooks`, Tests/blackbox/
requirements.txt): `verified` is what `Webhook.verify` says (signature and a timestamp within five
minutes of now), `signature_valid` whether any of the `v1,` signatures is the reference `sign()` of
the request under any configured secret (true also for a timestamp a test clock moved on).

    POST /_control {"secrets": ["whsec_…"], "script": [503, 200], "delay": 0.2, "retry_after": 60}
        secrets to check with; statuses for the next requests (then 200); seconds to wait before each
        answer; a Retry-After to send with 429 and 503 answers. Members left out keep their values.
    GET /_received      every request so far, oldest first, as JSON
    POST anything else  recorded, then answered from the script (`{"ok":true}` for a 2xx)

Runs until killed.
"""

import argparse
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.secrets: list[str] = []
        self.script: list[int] = []
        self.delay = 0.0
        self.retry_after: int | None = None
        self.received: list[dict] = []


STATE = State()


def check(secrets: list[str], headers: dict, body: bytes) -> tuple[bool, bool]:
    verified = False
    signature_valid = False
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "").split(" ")
    for secret in secrets:
        hook = Webhook(secret)
        try:
            hook.verify(body, headers)
            verified = True
        except WebhookVerificationError:
            pass
        try:
            expected = hook.sign(msg_id, _timestamp(int(timestamp)), body.decode())
        except (ValueError, UnicodeDecodeError):
            continue
        if expected in given:
            signature_valid = True
    return verified, signature_valid


def _timestamp(seconds: int):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, payload: dict | list, extra: dict | None = None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_received":
            with STATE.lock:
                self._answer(200, list(STATE.received))
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self):
        body = self._body()
        if self.path == "/_control":
            control = json.loads(body or b"{}")
            with STATE.lock:
                if "secrets" in control:
                    STATE.secrets = list(control["secrets"])
                if "script" in control:
                    STATE.script = list(control["script"])
                if "delay" in control:
                    STATE.delay = float(control["delay"])
                if "retry_after" in control:
                    STATE.retry_after = control["retry_after"]
            self._answer(200, {"ok": True})
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        with STATE.lock:
            secrets = list(STATE.secrets)
            status = STATE.script.pop(0) if STATE.script else 200
            delay = STATE.delay
            retry_after = STATE.retry_after
        verified, signature_valid = check(secrets, headers, body) if secrets else (False, False)
        record = {
            "path": self.path,
            "headers": headers,
            "body": body.decode("utf-8", errors="replace"),
            "body_base64": base64.b64encode(body).decode(),
            "verified": verified,
            "signature_valid": signature_valid,
            "status": status,
            "received_at": time.time(),
        }
        with STATE.lock:
            STATE.received.append(record)
        if delay:
            time.sleep(delay)
        extra = {"Retry-After": str(retry_after)} if retry_after is not None and status in (429, 503) else None
        self._answer(status, {"ok": 200 <= status < 300}, extra)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    # A server restarted with a backlog opens its delivery connections all at once: the default
    # listen queue of 5 overflowed and reset a test's own control request among them.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
