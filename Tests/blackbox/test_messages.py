"""Messages (API.md, Messages): order emails through a real SMTP server, the outbox's listing,
retries after a temporary failure, bounces, retry by hand, templates.

The SMTP server is `Tests/support/smtp_sink.py` (aiosmtpd) on a free loopback port, with STARTTLS
on a self-signed certificate for localhost (trusted by the server through `--outbound-ca-file`)
and AUTH required; every accepted message lands in a directory as `<n>.eml` with `<n>.json`
(envelope, connection number, TLS, user). Tests read the delivered MIME.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cart_api import ADMIN_ENV, Api, assert_problem, complete, ready_cart, wait_for

SINK = Path(__file__).resolve().parents[1] / "support" / "smtp_sink.py"


class Sink:
    """One smtp_sink.py process."""

    def __init__(self, directory: Path, *args: str):
        self.maildir = directory / "mail"
        self.maildir.mkdir(parents=True)
        self.proc = subprocess.Popen(
            [sys.executable, str(SINK), "--port", "0", "--maildir", str(self.maildir), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        match = re.match(r"PORT (\d+)", line)
        assert match, f"smtp_sink did not start: {line}{self.proc.stdout.read() if self.proc.poll() is not None else ''}"
        self.port = int(match.group(1))

    def messages(self) -> list[tuple[email.message.EmailMessage, dict]]:
        out = []
        for path in sorted(self.maildir.glob("*.eml"), key=lambda p: int(p.stem)):
            envelope = json.loads(path.with_suffix(".json").read_text())
            out.append((email.message_from_bytes(path.read_bytes(), policy=email.policy.default), envelope))
        return out

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=5)


@pytest.fixture
def sink_factory(tmp_path, tls_files):
    cert, key = tls_files
    sinks = []

    def make(*extra: str) -> Sink:
        sink = Sink(tmp_path / f"sink{len(sinks)}", "--tls-cert", str(cert), "--tls-key", str(key), "--auth", "shop:s3cret pass", *extra)
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.stop()


def mail_server(launch, tls_files, sink: Sink):
    server = launch({
        "enable_test_clock": True,
        "smtp_url": f"smtp://shop:s3cret%20pass@localhost:{sink.port}",
        "mail_from": "Test Shop <shop@test.example>",
        "shop_name": "Test Shop",
        "public_url": "https://shop.test.example",
        "outbound_ca_file": str(tls_files[0]),
    }, env=ADMIN_ENV)
    return Api(server)


def place_order(api: Api, name: str = "Ada Lovelace", address: str | None = None) -> dict:
    return complete(api, ready_cart(api, "MAIL", price=1250, quantity=2, name=name, email=address))


def messages_of(api: Api, order_id: str) -> list[dict]:
    return api.ok("GET", f"/v1/messages?order={order_id}")["items"]


def test_a_placed_order_sends_its_confirmation_over_starttls_with_auth(launch, tls_files, sink_factory):
    sink = sink_factory()
    api = mail_server(launch, tls_files, sink)
    order = place_order(api)
    wait_for(lambda: len(sink.messages()) == 1, timeout=15, what="the confirmation email")
    mail, envelope = sink.messages()[0]
    assert envelope["rcpt_tos"] == [order["email"]]
    assert envelope["mail_from"] == "shop@test.example"
    assert envelope["tls"] is True and envelope["user"] == "shop"
    assert mail["Subject"] == f"Your order {order['number']} at Test Shop"
    assert mail["From"] == "Test Shop <shop@test.example>"
    assert mail["To"] == order["email"]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    link = f"https://shop.test.example/v1/track/{order['tracking_token']}"
    assert "Hello Ada," in text
    assert link in text and f'href="{link}"' in html
    assert "2 x " in text and "Total: 25.00 GBP" in text

    # The outbox says so, and the Message-ID carries the message's id.
    listed = wait_for(lambda: [m for m in messages_of(api, order["id"]) if m["status"] == "sent"], timeout=10, what="sent status")
    message = listed[0]
    assert message["template"] == "order_confirmation" and message["attempts"] == 1 and message["to"] == order["email"]
    assert mail["Message-ID"] == f"<{message['id']}@test.example>"
    detail = api.ok("GET", f"/v1/messages/{message['id']}")
    assert [a["outcome"] for a in detail["delivery_attempts"]] == ["sent"]

    # A later status change mails the customer again; dispatch carries its tracking number.
    for status in ("confirmed", "packed"):
        api.ok("POST", f"/v1/orders/{order['id']}/transitions", {"to": status})
    api.ok("POST", f"/v1/orders/{order['id']}/transitions", {"to": "dispatched", "tracking_number": "TRK-42"})
    wait_for(lambda: len(sink.messages()) == 4, timeout=15, what="three status emails")
    # Sent side by side, so in any order.
    subjects = sorted(mail["Subject"] for mail, _ in sink.messages()[1:])
    assert subjects == [f"Your order {order['number']} is {words}" for words in ("confirmed", "on its way", "packed")]
    dispatched = next(mail for mail, _ in sink.messages() if mail["Subject"].endswith("on its way"))
    assert "Tracking number: TRK-42" in dispatched.get_body(("plain",)).get_content()


def test_a_temporary_failure_is_retried_with_the_same_message_id(launch, tls_files, sink_factory):
    sink = sink_factory("--fail", "451,250")
    api = mail_server(launch, tls_files, sink)
    order = place_order(api)
    queued = wait_for(lambda: [m for m in messages_of(api, order["id"]) if m["attempts"] == 1 and m["status"] == "queued"],
                      timeout=15, what="the first, failed attempt")[0]
    assert "451" in queued["last_error"] and queued["next_attempt_at"] is not None
    assert sink.messages() == []
    # The schedule's first retry is 10 s (up to 11 s) later: move the clock on rather than wait.
    api.ok("POST", "/v1/test/clock", {"advance": "12s"})
    wait_for(lambda: len(sink.messages()) == 1, timeout=10, what="the retried email")
    mail, _ = sink.messages()[0]
    assert mail["Message-ID"] == f"<{queued['id']}@test.example>"
    sent = wait_for(lambda: [m for m in messages_of(api, order["id"]) if m["status"] == "sent"], timeout=10, what="sent")[0]
    assert sent["attempts"] == 2
    outcomes = [a["outcome"] for a in api.ok("GET", f"/v1/messages/{sent['id']}")["delivery_attempts"]]
    assert outcomes == ["temporary_failure", "sent"]


def test_a_refused_recipient_fails_the_message_and_a_retry_by_hand_queues_it(launch, tls_files, sink_factory):
    sink = sink_factory("--reject-rcpt", "550")
    api = mail_server(launch, tls_files, sink)
    order = place_order(api)
    failed = wait_for(lambda: [m for m in messages_of(api, order["id"]) if m["status"] == "failed"], timeout=15, what="failed")[0]
    assert "550" in failed["last_error"] and failed["attempts"] == 1 and failed["next_attempt_at"] is None
    assert sink.messages() == []
    events = api.ok("GET", "/v1/events?topics=messages")["items"]
    assert [e["type"] for e in events if e["data"]["message_id"] == failed["id"]] == ["message.failed"]
    retried = api.ok("POST", f"/v1/messages/{failed['id']}/retry")
    assert retried["status"] in ("queued", "sending") and retried["id"] == failed["id"]
    wait_for(lambda: api.ok("GET", f"/v1/messages/{failed['id']}")["attempts"] == 2, timeout=15, what="the second attempt")

    # The bounce marked the address: the next order's confirmation to it is skipped, until lifted.
    suppressions = api.ok("GET", "/v1/suppressions")["items"]
    assert [(s["address"], s["channel"], s["reason"], s["message_id"]) for s in suppressions] == [
        (failed["to"], "email", "bounced", failed["id"])]
    again = place_order(api, address=failed["to"].upper())
    assert [(m["status"], m["skip_reason"]) for m in messages_of(api, again["id"])] == [("skipped", "undeliverable")]
    assert api.call("DELETE", f"/v1/suppressions/email/{failed['to']}").status_code == 204
    assert_problem(api.call("DELETE", f"/v1/suppressions/email/{failed['to']}"), 404, "not_found")
    third = place_order(api, address=failed["to"])
    assert [m["status"] for m in messages_of(api, third["id"])] != ["skipped"]


def test_without_a_mail_server_messages_are_skipped(launch):
    api = Api(launch(env=ADMIN_ENV))
    order = place_order(api)
    listed = messages_of(api, order["id"])
    assert [(m["template"], m["status"], m["skip_reason"]) for m in listed] == [("order_confirmation", "skipped", "channel_unavailable")]
    assert_problem(api.call("GET", "/v1/messages?status=nope"), 400, "invalid_request")
    assert_problem(api.call("GET", "/v1/messages/msg_unknown"), 404, "not_found")
    assert_problem(api.call("GET", "/v1/messages", key=api.api_key("pos", "main")), 403, "forbidden")


def test_templates_are_listed_changed_and_checked(launch, tls_files, sink_factory):
    sink = sink_factory()
    api = mail_server(launch, tls_files, sink)
    names = {t["name"] for t in api.ok("GET", "/v1/templates")["items"]}
    assert names == {"order_confirmation", "order_status", "receipt", "sign_in_code", "abandoned_cart", "replenishment", "back_in_stock", "order_follow_up", "campaign"}
    broken = api.call("PUT", "/v1/templates/order_confirmation", {"text": "{{#order}}never closed"})
    problem = assert_problem(broken, 422, "invalid_request")
    assert problem["errors"][0]["field"] == "template"
    assert_problem(api.call("PUT", "/v1/templates/nope", {"text": "x"}), 404, "not_found")
    saved = api.ok("PUT", "/v1/templates/order_confirmation", {
        "subject": "Danke, {{customer.first_name}}: {{order.number}}",
        "text": "Bestellung {{order.number}} für {{customer.first_name}}",
    })
    assert saved["customised"] is True
    order = place_order(api, name="Zoë <b>Ünal</b>")
    wait_for(lambda: len(sink.messages()) == 1, timeout=15, what="the email from the edited template")
    mail, _ = sink.messages()[0]
    # Non-ASCII subject travels as encoded words and decodes back; no HTML part without an html template.
    assert mail["Subject"] == f"Danke, Zoë: {order['number']}"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().strip() == f"Bestellung {order['number']} für Zoë"


def test_a_crash_mid_delivery_loses_nothing_and_a_resent_mail_keeps_its_id(launch, tls_files, sink_factory, tmp_path):
    """kill -9 while most confirmations are due and the receiver is slow: after a restart every
    message arrives at least once, and a message that arrives twice has the same Message-ID."""
    slow = sink_factory("--delay", "0.5")
    data = tmp_path / "data"
    options = {
        "enable_test_clock": True, "data_dir": str(data), "mail_from": "Test Shop <shop@test.example>",
        "outbound_ca_file": str(tls_files[0]),
    }
    server = launch({**options, "smtp_url": f"smtp://shop:s3cret%20pass@localhost:{slow.port}"}, env=ADMIN_ENV)
    api = Api(server)
    orders = [place_order(api) for _ in range(120)]
    due = [m for m in api.ok("GET", "/v1/messages?status=queued&limit=200")["items"]]
    assert len(due) > 40, f"only {len(due)} messages left due: the receiver was not slow enough to catch mid-delivery"
    server.expected_exit = True
    server.proc.kill()
    server.proc.wait(timeout=5)
    slow.stop()

    fast = sink_factory()
    again = Api(launch({**options, "smtp_url": f"smtp://shop:s3cret%20pass@localhost:{fast.port}"}, env=ADMIN_ENV))
    wait_for(lambda: again.ok("GET", "/v1/messages?status=queued&limit=1")["items"] == [], timeout=60, what="the outbox to drain")
    outbox = again.ok("GET", "/v1/messages?limit=200")["items"]
    assert len(outbox) == len(orders) and {m["status"] for m in outbox} == {"sent"}
    expected = {f"<{m['id']}@test.example>" for m in outbox}
    arrived = [mail["Message-ID"] for sink in (slow, fast) for mail, _ in sink.messages()]
    assert set(arrived) == expected, "a message was lost, or one arrived that was never queued"
    duplicates = len(arrived) - len(set(arrived))
    # Some arrive twice: those the sink had stored when the process died but whose attempt was not yet
    # recorded, at most the 8 in flight on the email channel. (More, 18 once in CI, came from a claim
    # race that sent a message a second time while its first attempt was being recorded; fixed by
    # InFlightClaims.)
    assert duplicates <= 8, duplicates
    # A duplicate is the same mail: the same recipient for the same id.
    by_id = {}
    for sink in (slow, fast):
        for mail, envelope in sink.messages():
            by_id.setdefault(mail["Message-ID"], set()).add(tuple(envelope["rcpt_tos"]))
    assert all(len(recipients) == 1 for recipients in by_id.values())
