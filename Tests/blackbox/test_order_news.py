"""Issue 23's "done": an order placed through the API produces a real email in an SMTP server, a push
message that decrypts in a push service, and a signed webhook in a receiver, each at least once and with
one identity after a kill -9 while all three were under way.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from cart_api import ADMIN_ENV, Api, complete, ready_cart, unique, wait_for
from receivers import PushService, WebhookReceiver
from test_messages import Sink


@pytest.fixture
def receivers(tmp_path, tls_files):
    cert, key = tls_files
    sink = Sink(tmp_path / "sink", "--tls-cert", str(cert), "--tls-key", str(key), "--auth", "shop:s3cret pass")
    push = PushService()
    hooks = WebhookReceiver()
    yield sink, push, hooks
    for process in (sink.proc, push.proc, hooks.proc):
        try:
            os.kill(process.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    sink.stop()
    push.stop()
    hooks.stop()


def test_an_order_is_emailed_pushed_and_hooked_once_each_across_a_crash(launch, tls_files, tmp_path, receivers):
    sink, push, hooks = receivers
    options = {
        "data_dir": str(tmp_path / "data"), "allow_private_webhooks": True, "shop_name": "Test Shop",
        "public_url": "https://shop.test.example", "mail_from": "Test Shop <shop@test.example>",
        "smtp_url": f"smtp://shop:s3cret%20pass@localhost:{sink.port}", "outbound_ca_file": str(tls_files[0]),
    }
    server = launch(dict(options), env=ADMIN_ENV)
    api = Api(server)
    hook = api.ok("POST", "/v1/webhooks", {"url": hooks.url(), "events": ["order.placed"]}, status=201)
    hooks.control(secrets=[hook["secret"]])
    browser = push.subscribe(api.public("GET", "/v1/push/key").json()["public_key"])

    email = f"{unique('ada').lower()}@example.com"
    cart = ready_cart(api, "NEWS", price=1500, email=email)
    assert api.public("POST", "/v1/push/subscriptions", {"endpoint": browser["endpoint"], "keys": browser["keys"], "cart": cart["id"]}).status_code == 201

    # Every receiver stops answering; the order is placed; all three are then under way when the server dies.
    for process in (sink.proc, push.proc, hooks.proc):
        os.kill(process.pid, signal.SIGSTOP)
    order = complete(api, cart)
    wait_for(lambda: len(api.ok("GET", f"/v1/messages?order={order['id']}&status=sending")["items"]) == 2, timeout=15,
             what="email and push being sent")
    wait_for(lambda: api.ok("GET", f"/v1/webhooks/{hook['id']}/deliveries")["items"], timeout=15, what="the webhook delivery made")
    server.expected_exit = True
    server.proc.kill()
    server.proc.wait(timeout=5)
    for process in (sink.proc, push.proc, hooks.proc):
        os.kill(process.pid, signal.SIGCONT)

    api = Api(launch(dict(options), env=ADMIN_ENV))
    outbox = wait_for(lambda: (lambda items: items if items and all(m["status"] == "sent" for m in items) and len(items) == 2 else None)(
        api.ok("GET", f"/v1/messages?order={order['id']}")["items"]), timeout=60, what="email and push sent after the restart")
    by_channel = {m["channel"]: m for m in outbox}

    mails = [mail for mail, _ in sink.messages()]
    assert mails and {m["Message-ID"] for m in mails} == {f"<{by_channel['email']['id']}@test.example>"}
    assert mails[0]["To"] == email and mails[0]["Subject"] == f"Your order {order['number']} at Test Shop"

    pushed = wait_for(lambda: push.messages(), timeout=15, what="the push message")
    notifications = {m["plaintext"] for m in pushed}
    assert len(notifications) == 1
    assert json.loads(notifications.pop())["title"] == f"Your order {order['number']} at Test Shop"

    delivered = wait_for(lambda: [r for r in hooks.received() if r["status"] == 200], timeout=30, what="the webhook")
    ids = {r["headers"]["webhook-id"] for r in hooks.received()}
    assert len(ids) == 1 and all(r["verified"] for r in delivered)
    assert json.loads(delivered[0]["body"])["data"]["order_id"] == order["id"]
