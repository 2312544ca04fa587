"""SMS (API.md, Messages): the dispatch news to a shipping address's international number, through a
Twilio-compatible Messages API (form POST, basic auth from the URL) or a JSON receiver signed as
Standard Webhooks, both played by a real local receiver.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import pytest

from cart_api import ADMIN_ENV, Api, complete, ready_cart, wait_for
from receivers import WebhookReceiver


@pytest.fixture
def receiver():
    made = WebhookReceiver()
    yield made
    made.stop()


def dispatch_order(api: Api, phone: str) -> dict:
    order = complete(api, ready_cart(api, "SMS", price=500, phone=phone))
    for status in ("confirmed", "packed"):
        api.ok("POST", f"/v1/orders/{order['id']}/transitions", {"to": status})
    api.ok("POST", f"/v1/orders/{order['id']}/transitions", {"to": "dispatched", "tracking_number": "RM1GB"})
    return order


def test_twilio_compatible_gateway_gets_a_form_with_basic_auth(launch, receiver):
    url = f"http://AC123:s3cret@127.0.0.1:{receiver.port}/2010-04-01/Accounts/AC123/Messages.json"
    api = Api(launch({"allow_private_webhooks": True, "sms_url": url, "sms_from": "+15005550006"}, env=ADMIN_ENV))
    order = dispatch_order(api, "+44 7700 900123")
    request = wait_for(lambda: receiver.received(), timeout=15, what="the SMS request")[0]
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["headers"]["authorization"] == "Basic " + base64.b64encode(b"AC123:s3cret").decode()
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request["body"]).items()}
    assert form["To"] == "+447700900123" and form["From"] == "+15005550006"
    assert form["Body"].startswith(f"Your order {order['number']} is on its way. Tracking number: RM1GB.")
    sent = wait_for(lambda: [m for m in api.ok("GET", f"/v1/messages?channel=sms&order={order['id']}")["items"] if m["status"] == "sent"],
                    timeout=10, what="sent")
    assert sent[0]["to"] == "+447700900123" and sent[0]["template"] == "order_status"


def test_a_signed_json_gateway_verifies_and_a_local_number_gets_no_sms(launch, receiver):
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    receiver.control(secrets=[secret], script=[500])
    api = Api(launch({"allow_private_webhooks": True, "enable_test_clock": True, "sms_url": receiver.url("/sms"), "sms_secret": secret},
                     env=ADMIN_ENV))
    order = dispatch_order(api, "+1 (202) 555-0143")
    wait_for(lambda: receiver.received(), timeout=15, what="the first, failed SMS request")
    api.ok("POST", "/v1/test/clock", {"advance": "12s"})
    requests_ = wait_for(lambda: receiver.received() if len(receiver.received()) == 2 else None, timeout=15, what="the retried SMS")
    body = json.loads(requests_[1]["body"])
    assert body["to"] == "+12025550143" and body["text"].startswith(f"Your order {order['number']} is on its way.")
    assert requests_[0]["verified"] and requests_[1]["signature_valid"]
    assert requests_[0]["headers"]["webhook-id"] == requests_[1]["headers"]["webhook-id"] == body["id"]
    local = dispatch_order(api, "020 7946 0958")
    assert api.ok("GET", f"/v1/messages?channel=sms&order={local['id']}")["items"] == []


def test_a_gateway_on_loopback_is_refused_at_connect_without_the_flag(launch, receiver):
    """`--sms-url` is the operator's, but the same guard holds: `localhost` resolves to loopback, and
    the address is refused just before connecting unless --allow-private-webhooks."""
    api = Api(launch({"sms_url": f"http://localhost:{receiver.port}/sms", "sms_secret": "whsec_" + base64.b64encode(b"k" * 32).decode()},
                     env=ADMIN_ENV))
    order = dispatch_order(api, "+44 7700 900123")
    failed = wait_for(lambda: [m for m in api.ok("GET", f"/v1/messages?channel=sms&order={order['id']}")["items"] if m["status"] == "failed"],
                      timeout=15, what="the refused SMS")
    assert "refuses" in failed[0]["last_error"] and failed[0]["attempts"] == 1
    assert receiver.received() == []
