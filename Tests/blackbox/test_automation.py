"""Automation (issue 26; API.md, Automation): flows entered by their triggers, stepping on the test
clock through waits, sends with fallback, offers, branches, splits and tasks, exiting when the shopper
orders or comes back, with caps and quiet hours, against the real SMTP server, SMS receiver and push
service the messages tests use.

Time only moves with `POST /v1/test/clock`. Between two moves a test waits (by polling, never by
sleeping a fixed time) until the server has done what the last move made due: the run reached its
next step, a message arrived. Quiet hours are turned off (`quiet_hours: null`) except in their own
test, so a run of the suite at 22:00 behaves as one at noon.
"""

from __future__ import annotations

import base64
import json
import html
import os
import re
import signal
from datetime import datetime, timedelta, timezone

import pytest

from cart_api import ADMIN_ENV, Api, assert_problem, complete, unique, wait_for
from customer_api import advance, clock_now, create_customer, online_order, phone_number, pos_sale, set_consent, when
from receivers import PushService, WebhookReceiver
from test_messages import Sink

PUBLIC = "https://shop.test.example"
SMS_SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
ADDRESS = {"name": "Ada Lovelace", "line1": "1 High St", "city": "London", "postal_code": "N1", "country": "GB"}

CASCADE = {
    "name": "Abandoned cart",
    "status": "active",
    "trigger": {"type": "cart.abandoned", "after": "1h"},
    "steps": [
        {"send": {"channel": "push", "template": "abandoned_cart", "fallback": ["sms", "email"]}},
        {"wait": "3h"},
        {"send": {"channel": "sms", "template": "abandoned_cart", "fallback": ["email"]}},
        {"wait": "20h"},
        {"offer": {"kind": "percent", "value": 10, "expires_in": "3d"}},
        {"send": {"channel": "email", "template": "abandoned_cart"}},
    ],
}


class Channels:
    """The SMTP sink, the signed SMS receiver and the push service one server sends to."""

    def __init__(self, directory, tls_files):
        cert, key = tls_files
        self.sink = Sink(directory / "sink", "--tls-cert", str(cert), "--tls-key", str(key), "--auth", "shop:s3cret pass")
        self.sms = WebhookReceiver()
        self.sms.control(secrets=[SMS_SECRET])
        self.push = PushService()
        self.tls_files = tls_files

    def options(self) -> dict:
        return {
            "enable_test_clock": True,
            "allow_private_webhooks": True,
            "smtp_url": f"smtp://shop:s3cret%20pass@localhost:{self.sink.port}",
            "mail_from": "Test Shop <shop@test.example>",
            "outbound_ca_file": str(self.tls_files[0]),
            "sms_url": self.sms.url("/sms"),
            "sms_secret": SMS_SECRET,
            "shop_name": "Test Shop",
            "public_url": "https://shop.test.example",
        }

    def mails(self, to: str | None = None) -> list:
        return [m for m, envelope in self.sink.messages() if to is None or to in envelope["rcpt_tos"]]

    def texts(self, to: str | None = None) -> list[dict]:
        return [json.loads(r["body"]) for r in self.sms.received() if r["path"] == "/sms" and (to is None or json.loads(r["body"])["to"] == to)]

    def pushes(self) -> list[dict]:
        return [json.loads(m["plaintext"]) for m in self.push.messages()]

    def stop(self):
        self.sink.stop()
        self.sms.stop()
        self.push.stop()


@pytest.fixture
def channels(tmp_path, tls_files):
    made = Channels(tmp_path, tls_files)
    yield made
    made.stop()


def automation_server(launch, channels: Channels, quiet_hours=None, **options) -> Api:
    api = Api(launch({**channels.options(), **options}, env=ADMIN_ENV))
    api.ok("PATCH", "/v1/settings", {"quiet_hours": quiet_hours})
    return api


def make_flow(api: Api, body: dict) -> dict:
    return api.ok("POST", "/v1/flows", body, status=201)


def shopper(api: Api, channels: Channels, email: bool = True, phone: bool = True, push: bool = True, **fields) -> tuple[dict, dict]:
    """A customer subscribed on the channels they have, with an online cart holding one line (and a
    browser subscribed to push for it): the customer and the cart."""
    details = {"first_name": "Ada", **fields}
    if email:
        details["email"] = f"{unique('ada').lower()}@example.com"
    if phone:
        details["phone"] = phone_number()[1]
    customer = create_customer(api, **details)
    for channel, has in (("email", email), ("sms", phone), ("push", push)):
        if has:
            set_consent(api, customer["id"], channel, "subscribed", source="test")
    sku = unique("AB")
    api.product(sku, price=1500, stock=5)
    cart = api.new_cart(customer_id=customer["id"])
    assert api.add(cart["id"], sku, 1).status_code == 200
    if push:
        browser = channels.push.subscribe(api.public("GET", "/v1/push/key").json()["public_key"])
        response = api.public("POST", "/v1/push/subscriptions", {"endpoint": browser["endpoint"], "keys": browser["keys"], "cart": cart["id"]})
        assert response.status_code == 201, response.text
    return customer, api.cart(cart["id"])


def runs(api: Api, flow: dict, **params) -> list[dict]:
    response = api.call("GET", f"/v1/flows/{flow['id']}/runs", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def the_run(api: Api, flow: dict, step: str | None = None, status: str = "active", timeout: float = 15) -> dict:
    """The flow's one run, once it is at `step` with `status`."""
    def ready():
        found = runs(api, flow)
        if len(found) == 1 and found[0]["status"] == status and (step is None or found[0]["step"] == step):
            return found[0]
        return None
    return wait_for(ready, timeout=timeout, what=f"the run at step {step} ({status}): {runs(api, flow)}")


def follow(api: Api, link: str, **kwargs):
    """GETs a link the server wrote for the public (`https://shop.test.example/…`) from this server."""
    assert link.startswith(PUBLIC + "/v1/m/"), link
    return api.public("GET", link[len(PUBLIC):], allow_redirects=False, **kwargs)


def links_in(text: str) -> list[str]:
    return re.findall(r"https://shop\.test\.example/v1/m/[^\s\"<>]+", text)


def messages(api: Api, **params) -> list[dict]:
    return api.call("GET", "/v1/messages", params=params).json()["items"]


def test_a_shopper_with_push_phone_and_email_gets_the_whole_cascade(launch, channels):
    api = automation_server(launch, channels)
    flow = make_flow(api, CASCADE)
    assert flow["id"].startswith("flw_") and flow["version"] == 1 and flow["exit_on"] == ["order.placed"]
    customer, cart = shopper(api, channels)

    advance(api, "59m")
    assert runs(api, flow) == [] and channels.pushes() == []
    advance(api, "2m")
    run = the_run(api, flow, step="1")
    assert run["customer_id"] == customer["id"] and run["cart_id"] == cart["id"] and run["entry_key"] == f"cart:{cart['id']}"
    pushed = wait_for(channels.pushes, timeout=15, what="the push")
    cart_url = f"{PUBLIC}/shop/?cart={cart['id']}"
    assert pushed[0]["title"] == "You left something in your basket"
    tapped = follow(api, pushed[0]["url"])
    assert tapped.status_code == 302 and tapped.headers["Location"] == cart_url
    assert channels.texts() == [] and channels.mails() == []

    advance(api, "3h")
    text = wait_for(lambda: channels.texts(customer["phone"]), timeout=15, what="the SMS")[0]
    assert text["text"].startswith("Your basket at Test Shop is waiting for you:")
    assert [follow(api, link).headers["Location"] for link in links_in(text["text"])] == [cart_url]
    the_run(api, flow, step="3")
    assert channels.mails() == [] and len(channels.pushes()) == 1

    advance(api, "20h")
    mail = wait_for(lambda: channels.mails(customer["email"]), timeout=15, what="the email")[0]
    run = the_run(api, flow, status="completed")
    code = run["offer_code"]
    assert code.startswith("FLOW-")
    body = mail.get_body(("plain",)).get_content()
    assert f"Use {code} for 10 % off" in body
    assert mail["List-Unsubscribe"] and mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(channels.texts()) == 1 and len(channels.pushes()) == 1

    # The pixel records an open, a tracked link a click; a tampered link is no redirect.
    pixel = re.search(r'<img src="([^"]+)" width="1" height="1"', mail.get_body(("html",)).get_content())
    opened = follow(api, html.unescape(pixel.group(1)))
    assert opened.status_code == 200 and opened.headers["Content-Type"] == "image/gif" and opened.content.startswith(b"GIF89a")
    [link] = links_in(body)
    assert follow(api, link.replace("cart%3D", "cart%3Dx")).status_code == 404
    clicked = follow(api, link)
    assert clicked.status_code == 302 and clicked.headers["Location"] == cart_url
    assert follow(api, link).status_code == 302, "a link works as often as it is followed"

    sent = [m for m in messages(api, customer=customer["id"]) if m["run_id"] == run["id"]]
    assert sorted((m["step"], m["channel"], m["status"]) for m in sent) == [("0", "push", "clicked"), ("2", "sms", "clicked"), ("5", "email", "clicked")]
    assert all(m["flow_id"] == flow["id"] and not m["transactional"] and m["opened_at"] and m["clicked_at"] for m in sent)
    types = [e["type"] for e in api.events("messages") if e["data"].get("run_id") == run["id"]]
    assert types.count("message.opened") == 3 and types.count("message.clicked") == 3

    # The order comes within 5 days of the email's click: credited to that step.
    api.public("PATCH", f"/v1/carts/{cart['id']}", {"email": customer["email"], "shipping_address": ADDRESS, "discount_codes": [code]})
    order = complete(api, api.cart(cart["id"]))
    assert order["totals"]["discount"]["amount"] == 150
    stats = wait_for(lambda: (s := api.ok("GET", f"/v1/flows/{flow['id']}/stats"))["steps"][5]["converted"] == 1 and s, timeout=10,
                     what="the order credited")
    assert stats["entered"] == 1
    assert [(s["step"], s["type"], s["entered"], s["sent"], s["opened"], s["clicked"], s["converted"]) for s in stats["steps"]] == [
        ("0", "send", 1, 1, 1, 1, 0), ("1", "wait", 1, 0, 0, 0, 0), ("2", "send", 1, 1, 1, 1, 0), ("3", "wait", 1, 0, 0, 0, 0),
        ("4", "offer", 1, 0, 0, 0, 0), ("5", "send", 1, 1, 1, 1, 1)]
    assert stats["steps"][5]["revenue"] == order["totals"]["total"]


def test_a_shopper_with_email_only_gets_email_and_a_capped_one_waits(launch, channels):
    api = automation_server(launch, channels)
    flow = make_flow(api, CASCADE)
    customer, cart = shopper(api, channels, phone=False, push=False)

    advance(api, "61m")
    first = wait_for(lambda: channels.mails(customer["email"]), timeout=15, what="the first email")[0]
    assert first["Subject"] == "You left something in your basket"
    run = the_run(api, flow, step="1")
    assert [(e["what"], e["detail"]) for e in run["log"] if e["step"] == "0"][:2] == [
        ("passed over", "push: no_recipient"), ("passed over", "sms: no_recipient")]

    sent_at = when(wait_for(lambda: [m for m in messages(api, customer=customer["id"]) if m["status"] == "sent"], timeout=10,
                            what="sent")[0]["sent_at"])
    advance(api, "3h")
    run = the_run(api, flow, step="2")
    deferred = wait_for(lambda: [m for m in messages(api, customer=customer["id"]) if m["status"] == "queued"], timeout=10, what="deferred")[0]
    assert deferred["channel"] == "email" and deferred["step"] == "2"
    assert when(deferred["next_attempt_at"]) == sent_at + timedelta(hours=16)
    assert any(e["what"] == "deferred" and e["detail"].startswith("email: capped until") for e in run["log"])
    assert len(channels.mails()) == 1

    advance(api, "13h")
    wait_for(lambda: len(channels.mails(customer["email"])) == 2, timeout=15, what="the capped email, once its cap lifted")
    the_run(api, flow, step="3")


def test_no_reminder_while_the_shopper_is_live_then_one_after_they_leave(launch, channels):
    import asyncio
    import websockets

    api = automation_server(launch, channels)
    flow = make_flow(api, CASCADE)
    customer, cart = shopper(api, channels, phone=False, push=False)

    async def browse():
        async with websockets.connect(api.server.url("/v1/events/ws").replace("http", "ws", 1)) as socket:
            await socket.send(json.dumps({"op": "hello", "cart": cart["id"]}))
            welcome = json.loads(await socket.recv())
            assert welcome["op"] == "welcome"
            advance(api, "2h")
            # The abandonment check found the shopper live and looks again a minute later.
            await asyncio.sleep(1.0)
            advance(api, "2m")
            await asyncio.sleep(1.0)
            assert runs(api, flow) == [] and channels.mails() == []

    asyncio.run(browse())
    advance(api, "11s")
    wait_for(lambda: not api.ok("GET", "/v1/shoppers/live")["items"], timeout=10, what="the shopper to leave")
    advance(api, "61s")
    wait_for(lambda: channels.mails(customer["email"]), timeout=15, what="the reminder after the shopper left")
    assert the_run(api, flow, step="1")["customer_id"] == customer["id"]


def test_a_run_exits_when_the_shopper_orders_between_steps(launch, channels):
    api = automation_server(launch, channels)
    flow = make_flow(api, CASCADE)
    customer, cart = shopper(api, channels, push=False)
    advance(api, "61m")
    wait_for(lambda: channels.texts(customer["phone"]), timeout=15, what="the first reminder, by SMS")
    the_run(api, flow, step="1")

    api.public("PATCH", f"/v1/carts/{cart['id']}", {"email": customer["email"], "shipping_address": ADDRESS})
    order = complete(api, api.cart(cart["id"]))
    run = the_run(api, flow, status="exited")
    assert run["exit_reason"] == "order.placed" and run["step"] is None
    advance(api, "3h")
    advance(api, "21h")
    assert len(channels.texts()) == 1
    assert [m for m in messages(api, customer=customer["id"]) if m["run_id"] and m["status"] == "queued"] == []
    assert order["customer_id"] == customer["id"]


def test_caps_defer_a_second_flows_email(launch, channels):
    api = automation_server(launch, channels)
    first = make_flow(api, {"name": "First", "status": "active", "trigger": {"type": "cart.abandoned", "after": "1h"},
                            "steps": [{"send": {"channel": "email", "template": "abandoned_cart"}}]})
    second = make_flow(api, {"name": "Second", "status": "active", "trigger": {"type": "cart.abandoned", "after": "2h"},
                             "steps": [{"send": {"channel": "email", "template": "abandoned_cart"}}]})
    customer, cart = shopper(api, channels, phone=False, push=False)
    advance(api, "61m")
    wait_for(lambda: channels.mails(customer["email"]), timeout=15, what="the first flow's email")
    the_run(api, first, status="completed")
    sent_at = when([m for m in messages(api, customer=customer["id"]) if m["status"] == "sent"][0]["sent_at"])

    advance(api, "1h")
    run = the_run(api, second, step="0")
    queued = [m for m in messages(api, customer=customer["id"]) if m["flow_id"] == second["id"]]
    assert [(m["status"], when(m["next_attempt_at"])) for m in queued] == [("queued", sent_at + timedelta(hours=16))]
    assert any(e["what"] == "deferred" and "capped" in e["detail"] for e in run["log"])

    advance(api, "14h")
    assert len(channels.mails()) == 1
    advance(api, "1h")
    wait_for(lambda: len(channels.mails(customer["email"])) == 2, timeout=15, what="the second flow's email")
    the_run(api, second, status="completed")


def test_quiet_hours_move_an_sms_to_eight_in_the_customers_zone(launch, channels):
    api = automation_server(launch, channels, quiet_hours={"start": "21:00", "end": "08:00"})
    flow = make_flow(api, {"name": "SMS", "status": "active", "trigger": {"type": "cart.abandoned", "after": "1h"},
                           "steps": [{"send": {"channel": "sms", "template": "abandoned_cart"}}]})
    # A fixed-offset zone where the reminder falls due at about 23:00 local time.
    due = clock_now(api) + timedelta(minutes=61)
    offset = (23 - due.hour) % 24
    offset = offset - 24 if offset > 14 else offset
    zone = "Etc/GMT" + ("+" if offset <= 0 else "-") + str(abs(offset)) if offset else "UTC"
    customer, cart = shopper(api, channels, email=False, push=False, timezone=zone)
    advance(api, "61m")
    run = the_run(api, flow, step="0")
    queued = wait_for(lambda: [m for m in messages(api, customer=customer["id"]) if m["status"] == "queued"], timeout=10, what="held SMS")[0]
    local = when(queued["next_attempt_at"]).astimezone(timezone(timedelta(hours=offset)))
    assert (local.hour, local.minute) == (8, 0) and local - due.astimezone(local.tzinfo) < timedelta(hours=10)
    assert any(e["what"] == "deferred" and e["detail"].startswith("sms: quiet_hours until") for e in run["log"])
    assert channels.texts() == []
    advance(api, str(int((when(queued["next_attempt_at"]) - clock_now(api)).total_seconds()) + 1) + "s")
    wait_for(lambda: channels.texts(customer["phone"]), timeout=15, what="the SMS at 08:00")
    the_run(api, flow, status="completed")


def test_a_run_goes_on_from_where_it_was_after_a_crash_and_sends_nothing_twice(launch, channels):
    server = launch(channels.options(), env=ADMIN_ENV)
    api = Api(server)
    api.ok("PATCH", "/v1/settings", {"quiet_hours": None, "email_cap_hours": 0})
    flow = make_flow(api, {"name": "Twice", "status": "active", "trigger": {"type": "cart.abandoned", "after": "1h"},
                           "steps": [{"send": {"channel": "email", "template": "abandoned_cart"}}, {"wait": "2h"},
                                     {"send": {"channel": "email", "template": "abandoned_cart"}}]})
    customer, cart = shopper(api, channels, phone=False, push=False)
    advance(api, "61m")
    wait_for(lambda: channels.mails(customer["email"]), timeout=15, what="the first email")
    waiting = the_run(api, flow, step="1")

    server.signal(signal.SIGKILL)
    assert server.wait_exit(10) == -signal.SIGKILL
    revived = Api(launch({**channels.options(), "data_dir": server.data_dir}, env=ADMIN_ENV))
    assert the_run(revived, flow, step="1")["next_at"] == waiting["next_at"]
    assert len(revived.ok("GET", "/v1/flows")["items"]) == 6, "the shipped flows are made once, not again at a restart"
    advance(revived, "2h")
    wait_for(lambda: len(channels.mails(customer["email"])) == 2, timeout=15, what="the second email, after the restart")
    assert the_run(revived, flow, status="completed")["id"] == waiting["id"]
    advance(revived, "1d")
    assert len(channels.mails()) == 2
    assert len([m for m in messages(revived, customer=customer["id"]) if m["status"] == "sent"]) == 2


def test_an_order_flow_branches_on_a_segment_and_makes_tasks_for_staff(launch, channels):
    api = automation_server(launch, channels)
    flow = make_flow(api, {"name": "After the order", "status": "active", "trigger": {"type": "order.placed"},
                           "steps": [{"if": {"tag": "vip"}, "then": [{"task": {"text": "Ring our VIP"}}], "else": []},
                                     {"wait": "1d"}, {"task": {"text": "Ask how it went"}}]})
    vip = create_customer(api, email=f"{unique('vip').lower()}@example.com", tags=["vip"])
    plain = create_customer(api, email=f"{unique('plain').lower()}@example.com")
    pos = api.api_key("pos", location="main")
    orders = {}
    for customer in (vip, plain):
        sku = unique("ORD")
        api.product(sku, price=2000, stock=5)
        cart = api.new_cart(customer_id=customer["id"])
        assert api.add(cart["id"], sku, 1).status_code == 200
        api.public("PATCH", f"/v1/carts/{cart['id']}", {"email": customer["email"], "shipping_address": ADDRESS})
        orders[customer["id"]] = complete(api, api.cart(cart["id"]))

    def open_tasks():
        return api.ok("GET", "/v1/tasks?status=open", key=pos)["items"]

    rung = wait_for(lambda: [t for t in open_tasks() if t["text"] == "Ring our VIP"], timeout=15, what="the VIP task")
    assert len(rung) == 1 and rung[0]["customer_id"] == vip["id"] and rung[0]["order_id"] == orders[vip["id"]]["id"]
    assert rung[0]["flow_id"] == flow["id"] and rung[0]["status"] == "open" and rung[0]["done_at"] is None
    wait_for(lambda: len(runs(api, flow)) == 2 and all(r["step"] == "1" for r in runs(api, flow)), timeout=15, what="both runs waiting")
    assert all(r["status"] == "active" for r in runs(api, flow)), "a run is not ended by the order that started it"

    advance(api, "1d")
    follow_ups = wait_for(lambda: (found := [t for t in open_tasks() if t["text"] == "Ask how it went"]) and len(found) == 2 and found,
                          timeout=15, what="both follow-up tasks")
    assert {t["customer_id"] for t in follow_ups} == {vip["id"], plain["id"]}
    done = api.ok("POST", f"/v1/tasks/{rung[0]['id']}/done", key=pos)
    assert done["status"] == "done" and done["done_at"] and done["done_by"]
    again = api.ok("POST", f"/v1/tasks/{rung[0]['id']}/done")
    assert again == done
    assert [t["id"] for t in api.ok("GET", "/v1/tasks?status=done")["items"]] == [rung[0]["id"]]
    assert_problem(api.call("POST", "/v1/tasks/tsk_nope/done"), 404, "not_found")
    assert_problem(api.call("GET", "/v1/tasks?status=later"), 400, "invalid_request")
    types = [(e["type"], e["data"]["task_id"]) for e in api.events("tasks")]
    assert ("task.created", rung[0]["id"]) in types and ("task.done", rung[0]["id"]) in types
    storefront = api.api_key("storefront")
    assert_problem(api.call("GET", "/v1/tasks", key=storefront), 403, "forbidden")
    stats = api.ok("GET", f"/v1/flows/{flow['id']}/stats")
    assert [(s["step"], s["type"], s["entered"]) for s in stats["steps"]] == [("0", "if", 2), ("0.0.0", "task", 1), ("1", "wait", 2), ("2", "task", 2)]


def test_runs_exit_when_the_shopper_comes_back_or_empties_the_cart(launch, channels):
    import asyncio
    import websockets

    api = automation_server(launch, channels)
    flow = make_flow(api, {"name": "Exits", "status": "active", "trigger": {"type": "cart.abandoned", "after": "1h"},
                           "exit_on": ["shopper.live", "cart.emptied"],
                           "steps": [{"send": {"channel": "email", "template": "abandoned_cart"}}, {"wait": "1d"},
                                     {"send": {"channel": "email", "template": "abandoned_cart"}}]})
    back, back_cart = shopper(api, channels, phone=False, push=False)
    gone, gone_cart = shopper(api, channels, phone=False, push=False)
    advance(api, "61m")
    wait_for(lambda: len(runs(api, flow)) == 2 and all(r["step"] == "1" for r in runs(api, flow)), timeout=15, what="both runs waiting")

    async def come_back():
        async with websockets.connect(api.server.url("/v1/events/ws").replace("http", "ws", 1)) as socket:
            await socket.send(json.dumps({"op": "hello", "cart": back_cart["id"]}))
            assert json.loads(await socket.recv())["op"] == "welcome"
            wait_for(lambda: [r for r in runs(api, flow) if r["cart_id"] == back_cart["id"] and r["status"] == "exited"], timeout=15,
                     what="the run of the shopper who came back to exit")

    asyncio.run(come_back())
    line = api.cart(gone_cart["id"])["lines"][0]
    assert api.remove_line(gone_cart["id"], line["id"]).status_code in (200, 204)
    wait_for(lambda: [r for r in runs(api, flow) if r["cart_id"] == gone_cart["id"] and r["status"] == "exited"], timeout=15,
             what="the run whose cart emptied to exit")
    reasons = {r["cart_id"]: r["exit_reason"] for r in runs(api, flow)}
    assert reasons == {back_cart["id"]: "shopper.live", gone_cart["id"]: "cart.emptied"}
    advance(api, "1d")
    assert len(channels.mails()) == 2


def test_checkout_and_expiry_triggers(launch, channels):
    api = automation_server(launch, channels)
    checkout = make_flow(api, {"name": "Checkout", "status": "active", "trigger": {"type": "checkout.abandoned", "after": "30m"},
                               "steps": [{"send": {"channel": "email", "template": "abandoned_cart"}}]})
    expired = make_flow(api, {"name": "Expired", "status": "active", "trigger": {"type": "cart.expired"},
                              "steps": [{"task": {"text": "Cart expired"}}]})
    browsing, browsing_cart = shopper(api, channels, phone=False, push=False)
    paying, paying_cart = shopper(api, channels, phone=False, push=False)
    api.public("PATCH", f"/v1/carts/{paying_cart['id']}", {"email": paying["email"], "shipping_address": ADDRESS, "checkout_step": "payment"})
    advance(api, "31m")
    wait_for(lambda: channels.mails(paying["email"]), timeout=15, what="the abandoned checkout's email")
    assert [r["cart_id"] for r in runs(api, checkout)] == [paying_cart["id"]]
    # Both carts expire (15 minutes after their last write): each enters the expiry flow once.
    wait_for(lambda: {r["cart_id"] for r in runs(api, expired)} == {browsing_cart["id"], paying_cart["id"]}, timeout=15,
             what="both expired carts to enter")
    advance(api, "1h")
    assert len(runs(api, expired)) == 2 and channels.mails(browsing["email"]) == []


def test_flows_are_checked_whole_versioned_and_for_admins_only(launch, channels):
    api = automation_server(launch, channels)
    bad = api.call("POST", "/v1/flows", {"name": "", "trigger": {"type": "cart.left"},
                                          "steps": [{"send": {"channel": "fax", "template": "abandoned_cart"}}, {"wait": "soon"}]})
    problem = assert_problem(bad, 422, "invalid_request")
    assert {e["field"] for e in problem["errors"]} >= {"name", "trigger.type", "steps[0].send.channel", "steps[1].wait"}
    assert_problem(api.call("POST", "/v1/flows", {"name": "x", "trigger": {"type": "order.placed"}, "steps": [{"wait": "1h"}], "colour": "red"}),
                   422, "invalid_request")
    assert_problem(api.call("POST", "/v1/flows", {"name": "x", "trigger": {"type": "order.placed"}, "steps": [{"wait": "1h"}], "status": "on"}),
                   422, "invalid_request")
    shipped = api.ok("GET", "/v1/flows")["items"]
    assert sorted((f["name"], f["status"], f["trigger"]["type"]) for f in shipped) == [
        ("Abandoned cart", "draft", "cart.abandoned"), ("Abandoned checkout", "draft", "checkout.abandoned"),
        ("Back in stock", "draft", "back_in_stock"), ("Post-purchase follow-up", "draft", "order.delivered"),
        ("Replenishment", "draft", "replenishment.due")]
    cascade = next(f for f in shipped if f["name"] == "Abandoned cart")
    assert [list(s)[0] for s in cascade["steps"]] == ["send", "wait", "send", "wait", "offer", "send"]
    storefront = api.api_key("storefront")
    pos = api.api_key("pos", location="main")
    body = {"name": "Hello", "trigger": {"type": "customer.created"}, "steps": [{"wait": "1h"}, {"task": {"text": "Say hello"}}]}
    for key in (storefront, pos):
        assert_problem(api.call("POST", "/v1/flows", body, key=key), 403, "forbidden")
    assert_problem(api.call("GET", "/v1/flows", key=None), 401, "unauthorized")
    flow = make_flow(api, body)
    assert flow["status"] == "draft" and flow["version"] == 1
    create_customer(api, email=f"{unique('d').lower()}@example.com")
    assert runs(api, flow) == [], "a draft takes no entries"

    active = api.ok("PATCH", f"/v1/flows/{flow['id']}", {"status": "active", "name": "Hello there"})
    assert active["version"] == 1 and active["name"] == "Hello there"
    first = create_customer(api, email=f"{unique('a').lower()}@example.com")
    wait_for(lambda: len(runs(api, flow)) == 1 and runs(api, flow)[0]["step"] == "0", timeout=15, what="the first entry")
    edited = api.ok("PATCH", f"/v1/flows/{flow['id']}", {"steps": [{"task": {"text": "Say hello at once"}}]})
    assert edited["version"] == 2 and edited["steps"] == [{"task": {"text": "Say hello at once"}}] and edited["trigger"] == body["trigger"]
    assert api.ok("GET", f"/v1/flows/{flow['id']}") == edited
    second = create_customer(api, email=f"{unique('b').lower()}@example.com")
    wait_for(lambda: any(t["text"] == "Say hello at once" and t["customer_id"] == second["id"] for t in api.ok("GET", "/v1/tasks")["items"]),
             timeout=15, what="the second version's task")
    advance(api, "61m")
    wait_for(lambda: any(t["text"] == "Say hello" and t["customer_id"] == first["id"] for t in api.ok("GET", "/v1/tasks")["items"]),
             timeout=15, what="the first version's run finishing on its own version")
    by_customer = {r["customer_id"]: r["version"] for r in runs(api, flow)}
    assert by_customer == {first["id"]: 1, second["id"]: 2}
    assert_problem(api.call("PATCH", f"/v1/flows/{flow['id']}", {"steps": []}), 422, "invalid_request")
    assert api.ok("GET", f"/v1/flows/{flow['id']}")["version"] == 2
    assert_problem(api.call("GET", "/v1/flows/flw_nope"), 404, "not_found")
    assert_problem(api.call("GET", f"/v1/flows/{flow['id']}/runs?status=paused"), 400, "invalid_request")
    one = runs(api, flow)[0]
    assert api.ok("GET", f"/v1/flows/{flow['id']}/runs/{one['id']}") == one
    assert_problem(api.call("GET", "/v1/flows/flw_nope/runs/" + one["id"]), 404, "not_found")


def test_a_campaign_reaches_a_segment_with_consent_caps_and_a_later_send_at(launch, channels):
    api = automation_server(launch, channels)
    tag = unique("news").lower()
    subscribed = [create_customer(api, email=f"{unique('c').lower()}@example.com", first_name=name, tags=[tag]) for name in ("Ada", "Grace")]
    for customer in subscribed:
        set_consent(api, customer["id"], "email", "subscribed", source="test")
    unasked = create_customer(api, email=f"{unique('u').lower()}@example.com", tags=[tag])
    phoneless = create_customer(api, phone=phone_number()[0], tags=[tag])
    outsider = create_customer(api, email=f"{unique('o').lower()}@example.com")
    set_consent(api, outsider["id"], "email", "subscribed", source="test")
    segment = api.ok("POST", "/v1/segments", {"name": "News", "filter": {"tag": tag}}, status=201)

    first = api.ok("POST", "/v1/campaigns", {"segment": segment["id"], "channel": "email", "template": "campaign"}, status=201)
    assert first["id"].startswith("cmp_") and first["name"] == "News" and first["status"] == "scheduled"
    done = wait_for(lambda: (c := api.ok("GET", f"/v1/campaigns/{first['id']}"))["status"] == "sent" and c, timeout=15, what="the campaign sent")
    assert done["stats"]["recipients"] == 4
    assert done["stats"]["passed_over"] == {"not_consented": 1, "no_recipient": 1}
    mails = wait_for(lambda: len(channels.mails()) == 2 and channels.mails(), timeout=15, what="two campaign emails")
    assert sorted(m["To"] for m in mails) == sorted(c["email"] for c in subscribed)
    mail = channels.mails(subscribed[0]["email"])[0]
    assert mail["Subject"] == "News from Test Shop" and mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = mail.get_body(("plain",)).get_content()
    assert body.startswith("Hello Ada,")
    [link] = links_in(body)
    assert follow(api, link).headers["Location"] == f"{PUBLIC}/shop/"
    stats = wait_for(lambda: (c := api.ok("GET", f"/v1/campaigns/{first['id']}"))["stats"]["sent"] == 2 and c["stats"]["clicked"] == 1 and c,
                     timeout=10, what="the figures")["stats"]
    assert (stats["opened"], stats["failed"], stats["skipped"]) == (1, 0, 0)

    # A second campaign at once is held by the 16 h email cap: queued, not lost; cancelling skips it.
    second = api.ok("POST", "/v1/campaigns", {"name": "Again", "segment": segment["id"], "channel": "email", "template": "campaign"}, status=201)
    wait_for(lambda: api.ok("GET", f"/v1/campaigns/{second['id']}")["status"] == "sent", timeout=15, what="the second campaign handled")
    held = [m for m in messages(api, status="queued") if m["template"] == "campaign"]
    assert len(held) == 2 and all(when(m["next_attempt_at"]) > clock_now(api) + timedelta(hours=15) for m in held)
    assert api.ok("POST", f"/v1/campaigns/{second['id']}/cancel")["status"] == "sent", "a campaign handled whole is no longer cancelled"

    later = api.ok("POST", "/v1/campaigns", {"segment": segment["id"], "channel": "email", "template": "campaign",
                                             "send_at": (clock_now(api) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}, status=201)
    advance(api, "1h")
    assert api.ok("GET", f"/v1/campaigns/{later['id']}")["status"] == "scheduled"
    cancelled = api.ok("POST", f"/v1/campaigns/{later['id']}/cancel")
    assert cancelled["status"] == "cancelled" and cancelled["stats"]["recipients"] == 0
    advance(api, "2h")
    assert api.ok("GET", f"/v1/campaigns/{later['id']}")["status"] == "cancelled"

    advance(api, "14h")
    wait_for(lambda: len(channels.mails()) == 4, timeout=15, what="the held emails, once the cap lifted")
    assert [c["id"] for c in api.ok("GET", "/v1/campaigns")["items"]] == [later["id"], second["id"], first["id"]]
    assert_problem(api.call("POST", "/v1/campaigns", {"segment": "seg_nope", "channel": "email", "template": "campaign"}), 404, "not_found")
    assert_problem(api.call("POST", "/v1/campaigns", {"segment": segment["id"], "channel": "fax", "template": "campaign"}), 422, "invalid_request")
    assert_problem(api.call("POST", "/v1/campaigns", {"segment": segment["id"], "channel": "email", "template": "nope", "send_at": "soon"}),
                   422, "invalid_request")
    assert_problem(api.call("GET", "/v1/campaigns/cmp_nope"), 404, "not_found")
    assert_problem(api.call("GET", "/v1/campaigns", key=api.api_key("pos", location="main")), 403, "forbidden")


def test_stock_cover_lists_what_runs_out_before_its_lead_time_and_alerts_once(launch, channels):
    api = automation_server(launch, channels)
    slow, fast = unique("SLOW"), unique("FAST")
    api.product(slow, price=500, stock=100)
    fast_product = api.product(fast, price=500, stock=30)
    till = api.api_key("pos", location="main")
    online_order(api, {fast: 12, slow: 1}, f"{unique('s').lower()}@example.com")
    pos_sale(api, till, {fast: 2})
    # 14 sold over a 28-day window: half a unit a day; 16 left last 32 days, past the default 7.
    [row] = [r for r in api.ok("GET", "/v1/stock-cover?below=365d")["items"] if r["sku"] == fast]
    assert row == {"sku": fast, "location": "main", "available": 16, "sold_per_day": 0.5, "days_of_cover": 32.0, "lead_time_days": 7}
    assert [r["sku"] for r in api.ok("GET", "/v1/stock-cover")["items"] if r["sku"] in (slow, fast)] == []
    assert [r["sku"] for r in api.ok("GET", "/v1/stock-cover?below=40d")["items"] if r["sku"] in (slow, fast)] == [fast]
    assert api.ok("GET", "/v1/stock-cover?below=40d&location=elsewhere")["items"] == []

    answer = api.ok("PUT", f"/v1/products/{fast_product['id']}/lead-time", {"days": 45})
    assert answer == {"product_id": fast_product["id"], "days": 45, "is_default": False}
    assert [r["sku"] for r in api.ok("GET", "/v1/stock-cover")["items"] if r["sku"] in (slow, fast)] == [fast]
    advance(api, "16m")
    task = wait_for(lambda: [t for t in api.ok("GET", "/v1/tasks?status=open")["items"] if fast in t["text"]], timeout=15, what="the reorder task")
    assert task[0]["text"] == f"Reorder {fast} for main: 32.0 days of stock left, lead time 45 days"
    low = [e for e in api.events("tasks") if e["type"] == "stock.low_cover" and e["data"]["sku"] == fast]
    assert [e["data"] for e in low] == [{"sku": fast, "location": "main", "available": 16, "sold_per_day": 0.5, "days_of_cover": 32.0,
                                          "lead_time_days": 45, "task_id": task[0]["id"]}]
    advance(api, "16m")
    advance(api, "16m")
    assert len([t for t in api.ok("GET", "/v1/tasks")["items"] if fast in t["text"]]) == 1, "alerted once while it stays low"

    assert api.ok("PUT", f"/v1/products/{fast_product['id']}/lead-time", {"days": None}) == {
        "product_id": fast_product["id"], "days": 7, "is_default": True}
    assert_problem(api.call("PUT", f"/v1/products/{fast_product['id']}/lead-time", {"days": 400}), 422, "invalid_request")
    assert_problem(api.call("PUT", f"/v1/products/{fast_product['id']}/lead-time", {}), 422, "invalid_request")
    assert_problem(api.call("PUT", "/v1/products/prod_nope/lead-time", {"days": 3}), 404, "not_found")
    assert_problem(api.call("GET", "/v1/stock-cover?below=soon"), 400, "invalid_request")
    assert_problem(api.call("GET", "/v1/stock-cover", key=till), 403, "forbidden")


def proposal_token(api: Api, mail) -> str:
    """The proposal token of a replenishment email's (tracked) link, by following it."""
    [link] = links_in(mail.get_body(("plain",)).get_content())
    location = follow(api, link).headers["Location"]
    assert location.startswith(f"{PUBLIC}/shop/?proposal="), location
    return location.split("proposal=", 1)[1]


def test_replenishment_turns_a_buying_rhythm_into_a_proposal_confirmed_with_one_click(launch, channels):
    """Seed 001: two orders 30 days apart → a proposal in the weekly run → an email with its link →
    confirm → an order (placed, manual payment pending) with its stock sold, and a task to call the
    customer; another customer postpones; stock that ran out is refused with what is missing. The
    weekly run is set to come a day and a half after the one that proposes (as a run late after a
    restart does): it sends nobody a second proposal beside the open one."""
    second_run = datetime.now(timezone.utc) + timedelta(days=75, hours=12)
    api = automation_server(launch, channels, replenishment_schedule=second_run.strftime("%a %H:%M").lower())
    coffee, tea = unique("COFFEE"), unique("TEA")
    coffee_product = api.product(coffee, price=900, stock=50)
    tea_product = api.product(tea, price=400, stock=3)
    for product in (coffee_product, tea_product):
        assert api.ok("PUT", f"/v1/products/{product['id']}/replenishment", {"interval_days": 60}) == {
            "product_id": product["id"], "interval_days": 60}
    # The shipped flow, switched on: the link, then follow-ups for not opened (2 days), opened and not
    # clicked (3 days), clicked with no decision (3 days).
    shipped = next(f for f in api.ok("GET", "/v1/flows")["items"] if f["name"] == "Replenishment")
    assert api.ok("PATCH", f"/v1/flows/{shipped['id']}", {"status": "active"})["status"] == "active"
    people = {name: f"{unique(name).lower()}@example.com" for name in ("ada", "grace", "hedy", "ida")}
    buys = {"ada": {coffee: 2}, "grace": {coffee: 1}, "hedy": {tea: 1}, "ida": {coffee: 1}}
    customers = {}
    for name, email in people.items():
        order = online_order(api, buys[name], email, name=f"{name.title()} Lovelace")
        customers[name] = order["customer_id"]
        set_consent(api, order["customer_id"], "email", "subscribed", source="test")
    # A weekly run falls in this month: one purchase with a 60-day product interval is not due yet.
    advance(api, "30d")
    for name, email in people.items():
        online_order(api, buys[name], email, name=f"{name.title()} Lovelace")
    assert api.ok("GET", "/v1/replenishment/report")["proposals"]["open"] == 0
    # (2·60 + 30) / 3 = 50 days after the second order; the run 44 days on proposes what falls due within its week.
    advance(api, "44d")
    def reminders(name: str) -> list:
        return [m for m in channels.mails(people[name]) if m["Subject"] == "Time to stock up?"]

    wait_for(lambda: all(reminders(name) for name in people), timeout=20, what="four replenishment emails")
    by_person = {name: reminders(name)[0] for name in people}
    body = by_person["ada"].get_body(("plain",)).get_content()
    assert f"2 x {coffee_product['title']} — V {coffee}" in body

    token = proposal_token(api, by_person["ada"])
    proposal = api.public("GET", f"/v1/proposals/{token}").json()
    assert proposal["status"] == "open" and [(i["sku"], i["quantity"]) for i in proposal["items"]] == [(coffee, 2)]
    assert proposal["total"] == {"amount": 1800, "currency": "GBP"}
    before = api.inventory(coffee)["available"]
    confirmed = api.public("POST", f"/v1/proposals/{token}/confirm")
    assert confirmed.status_code == 201, confirmed.text
    order = confirmed.json()["order"]
    assert confirmed.json()["proposal"]["status"] == "confirmed" and order["status"] == "placed"
    assert api.inventory(coffee)["available"] == before - 2
    placed = api.ok("GET", f"/v1/orders/{order['id']}")
    assert placed["customer_id"] == customers["ada"] and placed["payments"][0]["method"] == "manual"
    assert placed["payments"][0]["status"] == "pending"
    again = api.public("POST", f"/v1/proposals/{token}/confirm")
    assert again.status_code == 201 and again.json()["order"]["id"] == order["id"], "a repeat is the same order"
    task = wait_for(lambda: [t for t in api.ok("GET", "/v1/tasks?status=open")["items"] if t["order_id"] == order["id"]], timeout=10,
                    what="the call task")[0]
    assert task["text"].startswith("Call Ada Lovelace about order") and task["customer_id"] == customers["ada"]

    grace = proposal_token(api, by_person["grace"])
    postponed = api.public("POST", f"/v1/proposals/{grace}/postpone", {"days": 30})
    assert postponed.status_code == 200 and postponed.json()["status"] == "postponed"
    assert_problem(api.public("POST", f"/v1/proposals/{grace}/confirm"), 409, "conflict")

    hedy = proposal_token(api, by_person["hedy"])
    assert api.adjust(tea, -api.inventory(tea)["available"]).status_code == 200
    short = assert_problem(api.public("POST", f"/v1/proposals/{hedy}/confirm"), 409, "insufficient_stock")
    assert short["missing"] == [{"sku": tea, "requested": 1, "available": 0}]
    assert api.inventory(tea)["reserved"] == 0
    assert api.public("GET", f"/v1/proposals/{hedy}").json()["status"] == "open"

    # Follow-ups: Ida never opened hers (2 days on); Hedy clicked and could not confirm (3 days on).
    # Ada ordered (her run ended) and Grace decided: nothing more for them.
    advance(api, "2d")
    wait_for(lambda: len(reminders("ida")) == 2, timeout=15, what="Ida's follow-up")
    assert len(reminders("hedy")) == 1
    advance(api, "1d")
    wait_for(lambda: len(reminders("hedy")) == 2, timeout=15, what="Hedy's follow-up")
    assert (len(reminders("ada")), len(reminders("grace")), len(reminders("ida"))) == (1, 1, 2)

    # Next week's run: Ada ordered, Grace put it off a month; the open proposals expired.
    advance(api, "4d")
    wait_for(lambda: api.ok("GET", "/v1/replenishment/report")["proposals"]["expired"] >= 1, timeout=10, what="an expired proposal")
    report = api.ok("GET", "/v1/replenishment/report")
    assert report["proposals"]["confirmed"] == 1 and report["proposals"]["postponed"] == 1
    assert report["confirmed_revenue"] == placed["totals"]["total"]
    assert report["reminders"]["sent"] >= 6 and report["reminders"]["clicked"] == 3
    assert_problem(api.public("GET", "/v1/proposals/prp_nope.AAAA"), 404, "not_found")
    assert_problem(api.public("GET", f"/v1/proposals/{token[:-2]}xx"), 404, "not_found")
    assert_problem(api.call("PUT", f"/v1/products/{tea_product['id']}/replenishment", {"interval_days": 0}), 422, "invalid_request")
    assert_problem(api.call("PUT", "/v1/products/prod_nope/replenishment", {"interval_days": 7}), 404, "not_found")


def test_a_held_message_is_not_sent_after_the_customer_unsubscribes(launch, channels):
    api = automation_server(launch, channels)
    customer = create_customer(api, email=f"{unique('held').lower()}@example.com", first_name="Ada", tags=["held"])
    set_consent(api, customer["id"], "email", "subscribed", source="test")
    segment = api.ok("POST", "/v1/segments", {"name": "Held", "filter": {"tag": "held"}}, status=201)
    api.ok("POST", "/v1/campaigns", {"segment": segment["id"], "channel": "email", "template": "campaign"}, status=201)
    first = wait_for(lambda: channels.mails(customer["email"]), timeout=15, what="the first campaign email")[0]
    api.ok("POST", "/v1/campaigns", {"segment": segment["id"], "channel": "email", "template": "campaign"}, status=201)
    held = wait_for(lambda: [m for m in messages(api, customer=customer["id"]) if m["status"] == "queued"], timeout=15, what="the held email")[0]
    unsubscribe = first["List-Unsubscribe"].strip("<>")
    assert api.public("POST", unsubscribe[len(PUBLIC):], data="List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code in (200, 204)
    advance(api, "17h")
    skipped = wait_for(lambda: [m for m in messages(api, customer=customer["id"]) if m["id"] == held["id"] and m["status"] == "skipped"],
                       timeout=15, what="the held email skipped")[0]
    assert skipped["skip_reason"] == "unsubscribed"
    assert len(channels.mails(customer["email"])) == 1


def test_a_customer_made_by_their_first_order_stays_in_a_welcome_flow(launch, channels):
    api = automation_server(launch, channels)
    flow = make_flow(api, {"name": "Welcome", "status": "active", "trigger": {"type": "customer.created"},
                           "steps": [{"wait": "1h"}, {"task": {"text": "Welcome them"}}]})
    sku = unique("WEL")
    api.product(sku, price=500, stock=5)
    order = online_order(api, {sku: 1}, f"{unique('new').lower()}@example.com")
    run = the_run(api, flow, step="0")
    assert run["customer_id"] == order["customer_id"], "the order that made the customer started the run, it did not end it"
    advance(api, "61m")
    wait_for(lambda: [t for t in api.ok("GET", "/v1/tasks")["items"] if t["text"] == "Welcome them"], timeout=15, what="the welcome task")


def test_wishlisted_items_are_reminded_once_when_back_in_stock(launch, channels):
    """Seed 001's "Add to wishlist": the proposal's items are put off and go on the customer's wishlist;
    when the SKU comes back in stock the shipped back-in-stock flow emails them a link to it, once."""
    api = automation_server(launch, channels)
    soap = unique("SOAP")
    product = api.product(soap, price=350, stock=20)
    api.ok("PUT", f"/v1/products/{product['id']}/replenishment", {"interval_days": 60})
    flows = {f["name"]: f for f in api.ok("GET", "/v1/flows")["items"]}
    for name in ("Replenishment", "Back in stock"):
        assert api.ok("PATCH", f"/v1/flows/{flows[name]['id']}", {"status": "active"})["status"] == "active"
    people = {name: f"{unique(name).lower()}@example.com" for name in ("ada", "grace")}
    ids = {name: online_order(api, {soap: 1}, email)["customer_id"] for name, email in people.items()}
    for customer in ids.values():
        set_consent(api, customer, "email", "subscribed", source="test")
    advance(api, "30d")
    for email in people.values():
        online_order(api, {soap: 1}, email)
    advance(api, "44d")

    def mails(name: str, subject: str) -> list:
        return [m for m in channels.mails(people[name]) if m["Subject"] == subject]

    back = f"{product['title']} — V {soap} is back"
    wait_for(lambda: all(mails(name, "Time to stock up?") for name in people), timeout=20, what="both replenishment emails")
    tokens = {name: proposal_token(api, mails(name, "Time to stock up?")[0]) for name in people}
    wished = api.public("POST", f"/v1/proposals/{tokens['ada']}/postpone", {"wishlist": True})
    assert wished.status_code == 200 and wished.json()["status"] == "wishlisted", wished.text

    # Sold out, then a delivery: Ada hears of it (once the 16-hour email cap since her reminder
    # allows), with a link to the product.
    assert api.adjust(soap, -api.inventory(soap)["available"]).status_code == 200
    assert api.adjust(soap, 6).status_code == 200
    held = wait_for(lambda: [m for m in messages(api, customer=ids["ada"]) if m["template"] == "back_in_stock"], timeout=15,
                    what="the back-in-stock email, held by the cap")
    assert [m["status"] for m in held] == ["queued"] and held[0]["next_attempt_at"] is not None
    advance(api, "16h")
    [mail] = wait_for(lambda: mails("ada", back), timeout=15, what="Ada's back-in-stock email")
    [link] = links_in(mail.get_body(("plain",)).get_content())
    assert follow(api, link).headers["Location"] == f"{PUBLIC}/shop/?product={product['id']}"
    assert mails("grace", back) == [], "only those who wished for it"

    # Grace wishes for it too; it sells out and comes back again: Grace hears, Ada (reminded already) does not.
    assert api.public("POST", f"/v1/proposals/{tokens['grace']}/postpone", {"wishlist": True}).status_code == 200
    assert api.adjust(soap, -api.inventory(soap)["available"]).status_code == 200
    assert api.adjust(soap, 2).status_code == 200
    wait_for(lambda: mails("grace", back), timeout=15, what="Grace's back-in-stock email")
    assert len(mails("ada", back)) == 1
    assert sorted(r["customer_id"] for r in runs(api, flows["Back in stock"])) == sorted(ids.values())
    assert_problem(api.public("POST", f"/v1/proposals/{tokens['ada']}/confirm"), 409, "conflict")


def test_a_sale_parked_at_the_till_makes_a_task_and_online_carts_do_not(launch, channels):
    api = automation_server(launch, channels)
    parked = make_flow(api, {"name": "Parked", "status": "active", "trigger": {"type": "cart.abandoned", "after": "30m", "channel": "pos"},
                             "steps": [{"task": {"text": "A sale is parked at the till"}}]})
    assert parked["trigger"] == {"type": "cart.abandoned", "after": "30m", "channel": "pos"}
    till = api.api_key("pos", location="main")
    sku = unique("PARK")
    api.product(sku, price=800, stock=5)
    sale = api.new_cart("pos", key=till)
    assert api.call("POST", f"/v1/carts/{sale['id']}/lines", {"sku": sku, "quantity": 1}, key=till).status_code == 200
    _, online = shopper(api, channels, phone=False, push=False)
    advance(api, "31m")
    task = wait_for(lambda: [t for t in api.ok("GET", "/v1/tasks?status=open")["items"] if t["flow_id"] == parked["id"]], timeout=15,
                    what="the parked sale's task")
    assert len(task) == 1 and task[0]["text"] == "A sale is parked at the till"
    assert [r["cart_id"] for r in runs(api, parked, status="completed")] == [sale["id"]]
    assert online["id"] not in {r["cart_id"] for r in runs(api, parked)}
    assert_problem(api.call("POST", "/v1/flows", {"name": "x", "trigger": {"type": "cart.abandoned", "channel": "phone"},
                                                  "steps": [{"wait": "1h"}]}), 422, "invalid_request")
    assert_problem(api.call("POST", "/v1/flows", {"name": "x", "trigger": {"type": "checkout.abandoned", "channel": "pos"},
                                                  "steps": [{"wait": "1h"}]}), 422, "invalid_request")
