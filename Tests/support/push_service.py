"""A Web Push service for tests: hands out subscriptions, checks VAPID, decrypts what it is sent.

Plays both the push service (RFC 8030) and the browser behind it: it makes each subscription's keys
itself (with `cryptography`), so it can decrypt every message (RFC 8291, with `http_ece`) and keep the
plaintext for a test to read. Prints one JSON line `{"port": <n>}` on stdout once listening on
127.0.0.1, so a test can start it with `--port 0` and read the port it got. Runs until killed.

    --port 0                a free loopback port (printed), or a fixed one
    --store DIR             each accepted message as DIR/<n>.json, each refused request as
                            DIR/rejected-<n>.json (written whole, then renamed into place)
    --throttle N            the next N push requests are answered 429 with Retry-After
    --retry-after SECONDS   the Retry-After of those answers (default 1)
    --fail N                the next N push requests (after any throttled ones) are answered 500
    --delay SECONDS         a slow service: wait this long before answering each push request

HTTP interface (JSON bodies, each answer one line ending in a line feed):

    POST /subscriptions     201 {"id", "endpoint": "http://127.0.0.1:<port>/push/<id>",
                            "keys": {"p256dh", "auth"}}; a body {"application_server_key": "<base64url>"}
                            restricts the subscription to that VAPID key (RFC 8292 §4), as a browser does
    POST /push/<id>         a push message (RFC 8030 §5): 201 with Location once decrypted and stored;
                            404 unknown subscription, 410 gone, 413 body over 4096 bytes, 415 not
                            Content-Encoding aes128gcm, 400 no valid TTL or undecryptable body,
                            403 VAPID missing or wrong (bad token or signature, aud not this service's
                            origin, exp past or more than 24 hours ahead, no sub, key not the
                            subscription's), 429 or 500 when asked to; every refusal records its reason
    GET /messages           the accepted messages, in order
    GET /rejections         the refused push requests, in order: status, reason, subscription
    POST /control           change failure modes while running: {"gone": [<id>, ...], "throttle": N,
                            "retry_after": S, "fail": N, "delay": S, "reset": true}; answers the state

A stored message holds its number, subscription id, plaintext (text, and base64 of the bytes), the
request's header fields (names lowercase), TTL, urgency, topic, the verified VAPID claims and key, and
when it arrived (Unix seconds, float).
"""

import argparse
import base64
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_BODY = 4096
MAX_VAPID_VALIDITY = 24 * 60 * 60
TTL_PATTERN = re.compile(r"^[0-9]{1,10}$")


def b64url_decode(text):
    if not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise ValueError("not base64url")
    text = text.rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Refusal(Exception):
    def __init__(self, status, reason, headers=None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


def verify_vapid(authorization, origin, restricted_key):
    """The verified claims and key of a `vapid t=..., k=...` header (RFC 8292 §3), or a 403 Refusal."""
    if not authorization:
        raise Refusal(403, "no Authorization")
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise Refusal(403, f"Authorization scheme {scheme!r} is not vapid")
    parameters = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if not equals:
            raise Refusal(403, f"malformed Authorization parameter {part.strip()!r}")
        parameters[name.strip().lower()] = value.strip()
    if "t" not in parameters or "k" not in parameters:
        raise Refusal(403, "Authorization lacks t or k")
    try:
        key_bytes = b64url_decode(parameters["k"])
    except ValueError:
        raise Refusal(403, "k is not base64url")
    if len(key_bytes) != 65 or key_bytes[0] != 4:
        raise Refusal(403, "k is not an uncompressed point")
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key_bytes)
    except ValueError:
        raise Refusal(403, "k is not a point on P-256")
    pieces = parameters["t"].split(".")
    if len(pieces) != 3:
        raise Refusal(403, "t is not a JWS in compact form")
    try:
        header = json.loads(b64url_decode(pieces[0]))
        claims = json.loads(b64url_decode(pieces[1]))
        signature = b64url_decode(pieces[2])
    except ValueError:
        raise Refusal(403, "t does not decode")
    if not isinstance(header, dict) or header.get("alg") != "ES256" or header.get("typ", "JWT") != "JWT":
        raise Refusal(403, f"JWT header {header!r} is not typ JWT, alg ES256")
    if len(signature) != 64:
        raise Refusal(403, "signature is not 64 bytes of r || s")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{pieces[0]}.{pieces[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refusal(403, "signature does not verify with k")
    if not isinstance(claims, dict):
        raise Refusal(403, "claims are not an object")
    if claims.get("aud") != origin:
        raise Refusal(403, f"aud {claims.get('aud')!r} is not {origin!r}")
    exp = claims.get("exp")
    now = time.time()
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise Refusal(403, "exp is not an integer")
    if exp <= now:
        raise Refusal(403, "exp has passed")
    if exp > now + MAX_VAPID_VALIDITY:
        raise Refusal(403, "exp is more than 24 hours ahead")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Refusal(403, "no sub")
    if restricted_key is not None and key_bytes != restricted_key:
        raise Refusal(403, "k is not the subscription's application server key")
    return {"claims": claims, "k": parameters["k"]}


class PushService:
    """The service's state, shared by the handler threads under one lock."""

    def __init__(self, args):
        self.store = args.store
        self.lock = threading.Lock()
        self.subscriptions = {}
        self.gone = set()
        self.messages = []
        self.rejections = []
        self.throttle = args.throttle
        self.retry_after = args.retry_after
        self.fail = args.fail
        self.delay = args.delay
        self.origin = None

    def subscribe(self, request):
        restricted = None
        if request.get("application_server_key") is not None:
            restricted = b64url_decode(request["application_server_key"])
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        subscription_id = secrets.token_urlsafe(12)
        public = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        with self.lock:
            self.subscriptions[subscription_id] = {"private_key": private_key, "auth": auth, "restricted": restricted}
        return {
            "id": subscription_id,
            "endpoint": f"{self.origin}/push/{subscription_id}",
            "keys": {"p256dh": b64url_encode(public), "auth": b64url_encode(auth)},
        }

    def control(self, request):
        with self.lock:
            if request.get("reset"):
                self.gone.clear()
                self.throttle = self.fail = 0
                self.delay = 0.0
            self.gone.update(request.get("gone", []))
            for name in ("throttle", "fail"):
                if name in request:
                    setattr(self, name, int(request[name]))
            if "retry_after" in request:
                self.retry_after = int(request["retry_after"])
            if "delay" in request:
                self.delay = float(request["delay"])
            return {"gone": sorted(self.gone), "throttle": self.throttle, "retry_after": self.retry_after,
                    "fail": self.fail, "delay": self.delay}

    def failure_mode(self, subscription_id):
        """A Refusal the test asked for, taken in order: gone, then throttled, then failing."""
        with self.lock:
            if subscription_id in self.gone:
                return Refusal(410, "subscription gone (control)")
            if self.throttle > 0:
                self.throttle -= 1
                return Refusal(429, "throttled (control)", {"Retry-After": str(self.retry_after)})
            if self.fail > 0:
                self.fail -= 1
                return Refusal(500, "failure (control)")
        return None

    def push(self, subscription_id, headers, body):
        refusal = self.failure_mode(subscription_id)
        if refusal:
            raise refusal
        with self.lock:
            subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            raise Refusal(404, "no such subscription")
        if len(body) > MAX_BODY:
            raise Refusal(413, f"body of {len(body)} bytes exceeds {MAX_BODY}")
        if headers.get("content-encoding", "").lower() != "aes128gcm":
            raise Refusal(415, f"Content-Encoding {headers.get('content-encoding')!r} is not aes128gcm")
        if not TTL_PATTERN.match(headers.get("ttl", "")):
            raise Refusal(400, f"TTL {headers.get('ttl')!r} is missing or not delta-seconds")
        vapid = verify_vapid(headers.get("authorization"), self.origin, subscription["restricted"])
        try:
            plaintext = http_ece.decrypt(body, private_key=subscription["private_key"],
                                         auth_secret=subscription["auth"], version="aes128gcm")
        except Exception as error:  # http_ece raises ECEError, cryptography InvalidTag, struct errors
            raise Refusal(400, f"decryption failed: {type(error).__name__}: {error}")
        with self.lock:
            number = len(self.messages) + 1
            message = {
                "number": number,
                "subscription": subscription_id,
                "plaintext": plaintext.decode("utf-8", errors="replace"),
                "plaintext_base64": base64.b64encode(plaintext).decode(),
                "headers": headers,
                "ttl": int(headers["ttl"]),
                "urgency": headers.get("urgency"),
                "topic": headers.get("topic"),
                "vapid": vapid,
                "received_at": time.time(),
            }
            self.messages.append(message)
            self.write("", number, message)
        return number

    def reject(self, subscription_id, refusal):
        with self.lock:
            number = len(self.rejections) + 1
            rejection = {"number": number, "subscription": subscription_id, "status": refusal.status,
                         "reason": refusal.reason, "received_at": time.time()}
            self.rejections.append(rejection)
            self.write("rejected-", number, rejection)

    def write(self, prefix, number, record):
        """Writes one record under the store directory; the caller holds the lock."""
        if not self.store:
            return
        path = os.path.join(self.store, f"{prefix}{number}.json")
        with open(path + ".tmp", "w") as file:
            json.dump(record, file)
        os.rename(path + ".tmp", path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    service = None

    def log_message(self, format, *args):
        pass

    def answer(self, status, document, headers=None):
        body = (json.dumps(document) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length) if length else b""

    def read_json(self):
        body = self.read_body()
        return json.loads(body) if body else {}

    def do_GET(self):
        if self.path == "/messages":
            with self.service.lock:
                self.answer(200, list(self.service.messages))
        elif self.path == "/rejections":
            with self.service.lock:
                self.answer(200, list(self.service.rejections))
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        if self.path == "/subscriptions":
            self.answer(201, self.service.subscribe(self.read_json()))
        elif self.path == "/control":
            self.answer(200, self.service.control(self.read_json()))
        elif self.path.startswith("/push/"):
            self.push(self.path[len("/push/"):])
        else:
            self.read_body()
            self.answer(404, {"error": "not found"})

    def push(self, subscription_id):
        body = self.read_body()
        with self.service.lock:
            delay = self.service.delay
        if delay:
            time.sleep(delay)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            number = self.service.push(subscription_id, headers, body)
        except Refusal as refusal:
            self.service.reject(subscription_id, refusal)
            self.answer(refusal.status, {"error": refusal.reason}, refusal.headers)
            return
        self.answer(201, {"message": number}, {"Location": f"/messages/{number}"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--store")
    parser.add_argument("--throttle", type=int, default=0, metavar="N")
    parser.add_argument("--retry-after", type=int, default=1, metavar="SECONDS")
    parser.add_argument("--fail", type=int, default=0, metavar="N")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    if args.store:
        os.makedirs(args.store, exist_ok=True)
    # A parent may spawn us from a thread that blocks these; SIGTERM and Ctrl-C must still stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    service = PushService(args)
    Handler.service = service
    # A server restarted with a backlog opens its delivery connections all at once: the default
    # listen queue of 5 overflowed and reset a test's own control request among them.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    service.origin = f"http://127.0.0.1:{port}"
    print(json.dumps({"port": port}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
