#!/usr/bin/python3
"""Smoke test of Zhifu with Debian's python3-stripe (the official Stripe Python library, 5.x).

Run against a started gateway and sandbox (test/python/stripe-python.test.ts starts both):

    ZHIFU_API_BASE=http://127.0.0.1:8080 ZHIFU_SECRET_KEY=sk_test_... \
    ZHIFU_SANDBOX_URL=http://127.0.0.1:8081 ZHIFU_WEBHOOK_URL=http://127.0.0.1:8082/hook \
    /usr/bin/python3 test/python/stripe_smoke.py

Optional: ZHIFU_DECLINE_PAYMENT_INTENT, a PaymentIntent whose confirm Alipay+ refuses (for the
402 CardError); ZHIFU_PAGE_COUNT, how many PaymentIntents the auto-paging step creates (105).

Each step is run and reported on its own, so one failure does not hide the others. The report is
one JSON object on stdout: {"library": ..., "steps": [{"name", "ok", "detail" | "error"}]}. The
exit code is 0 when every step passed, 1 otherwise. Only the standard library and stripe are used.
"""
import json
import os
import sys
import time
import traceback
import urllib.request
import uuid

import stripe
from stripe import version as stripe_version

API_BASE = os.environ["ZHIFU_API_BASE"].rstrip("/")
SECRET_KEY = os.environ["ZHIFU_SECRET_KEY"]
SANDBOX_URL = os.environ["ZHIFU_SANDBOX_URL"].rstrip("/")
WEBHOOK_URL = os.environ["ZHIFU_WEBHOOK_URL"]
DECLINE_PI = os.environ.get("ZHIFU_DECLINE_PAYMENT_INTENT")
PAGE_COUNT = int(os.environ.get("ZHIFU_PAGE_COUNT", "105"))
WAIT_S = 20

stripe.api_key = SECRET_KEY
stripe.api_base = API_BASE
stripe.max_network_retries = 0

steps = []
state = {}


class StepFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def step(name):
    """Runs the decorated function now as one reported step; its return value is the detail."""

    def run(fn):
        started = time.time()
        try:
            detail = fn()
            steps.append({"name": name, "ok": True, "detail": detail, "seconds": round(time.time() - started, 3)})
        except Exception as error:  # every failure is reported, none ends the run
            entry = {"name": name, "ok": False, "error": "%s: %s" % (type(error).__name__, error)}
            if isinstance(error, stripe.error.StripeError):
                entry["http_status"] = error.http_status
                entry["code"] = error.code
                entry["param"] = getattr(error, "param", None)
            elif not isinstance(error, StepFailed):
                entry["trace"] = traceback.format_exc(limit=3)
            steps.append(entry)
        return fn

    return run


def needs(*keys):
    missing = [key for key in keys if key not in state]
    check(not missing, "skipped: an earlier step did not produce %s" % ", ".join(missing))


def wait_for(what, fetch, done):
    deadline = time.time() + WAIT_S
    while True:
        value = fetch()
        if done(value):
            return value
        if time.time() > deadline:
            raise StepFailed("timed out after %ss waiting for %s (last: %s)" % (WAIT_S, what, value))
        time.sleep(0.2)


def http_json(method, url, body=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode("utf-8") or "null")


# The seed's Direct API request (api.md §2), as a Python integration writes it.
SEED = dict(
    amount=20,
    currency="CNY",
    payment_method_types=["alipay"],
    payment_method_data={"type": "alipay"},
    payment_method_options={"alipay": {"client_ip": "192.168.0.1", "terminal_type": "WEB", "os_type": "IOS"}},
    return_url="https://wooshpay.com",
    metadata={"order": "py-smoke-%s" % uuid.uuid4().hex[:8]},
)


@step("webhook_endpoint")
def _():
    endpoint = stripe.WebhookEndpoint.create(url=WEBHOOK_URL, enabled_events=["payment_intent.succeeded", "charge.refunded"])
    check(endpoint.secret.startswith("whsec_"), "no signing secret: %r" % endpoint.secret)
    state["webhook_secret"] = endpoint.secret
    return {"id": endpoint.id, "enabled_events": list(endpoint.enabled_events)}


@step("confirm_true")
def _():
    # python3-stripe sends confirm=True as the form value "True".
    intent = stripe.PaymentIntent.create(confirm=True, **SEED)
    check(intent.status == "requires_action", "status %s, want requires_action" % intent.status)
    state["intent"] = intent
    return {"id": intent.id, "status": intent.status}


@step("create_then_confirm")
def _():
    # The other way an integration takes: create, then confirm() (an independent second payment;
    # the one paid below is confirm=True's).
    intent = stripe.PaymentIntent.create(**SEED)
    check(intent.status == "requires_confirmation", "status %s, want requires_confirmation" % intent.status)
    confirmed = intent.confirm()
    check(confirmed.status == "requires_action", "status %s after confirm(), want requires_action" % confirmed.status)
    return {"id": confirmed.id, "status": confirmed.status}


@step("pay_in_sandbox")
def _():
    needs("intent")
    intent = state["intent"]
    code_value = intent.next_action.alipay_handle_redirect.qr_code.data
    status, body = http_json("POST", SANDBOX_URL + "/sandbox/v1/wallet/pay", {"codeValue": code_value, "outcome": "success"})
    check(status == 200, "sandbox wallet/pay answered %s: %s" % (status, body))
    return {"code_value": code_value, "sandbox_status": body.get("status") if isinstance(body, dict) else None}


@step("wait_succeeded")
def _():
    needs("intent")
    intent = wait_for("the PaymentIntent to succeed", lambda: stripe.PaymentIntent.retrieve(state["intent"].id), lambda pi: pi.status == "succeeded")
    check(intent.amount_received == SEED["amount"], "amount_received %s" % intent.amount_received)
    check(isinstance(intent.latest_charge, str) and intent.latest_charge.startswith("ch_"), "latest_charge %r" % intent.latest_charge)
    state["charge_id"] = intent.latest_charge
    return {"id": intent.id, "status": intent.status, "amount_received": intent.amount_received, "latest_charge": intent.latest_charge}


@step("refund_twice")
def _():
    needs("intent", "charge_id")
    pi = state["intent"].id
    first = stripe.Refund.create(payment_intent=pi, amount=5, reason="requested_by_customer")
    check(first.amount == 5, "first refund amount %s" % first.amount)
    rest = stripe.Refund.create(payment_intent=pi)
    check(rest.amount == SEED["amount"] - 5, "second refund amount %s, want the rest" % rest.amount)
    refunds = [
        wait_for("refund %s to succeed" % r.id, lambda r=r: stripe.Refund.retrieve(r.id), lambda x: x.status == "succeeded")
        for r in (first, rest)
    ]
    charge = stripe.Charge.retrieve(state["charge_id"])
    check(charge.amount_refunded == SEED["amount"] and charge.refunded is True, "charge amount_refunded %s refunded %s" % (charge.amount_refunded, charge.refunded))
    listed = stripe.Refund.list(payment_intent=pi)
    check(sorted(r.id for r in listed.data) == sorted(r.id for r in refunds), "Refund.list(payment_intent=) lists %s" % [r.id for r in listed.data])
    return {"refunds": [[r.id, r.amount, r.status] for r in refunds], "amount_refunded": charge.amount_refunded}


@step("refund_beyond_charge_is_invalid_request")
def _():
    needs("intent", "charge_id")
    try:
        stripe.Refund.create(payment_intent=state["intent"].id, amount=1)
    except stripe.error.InvalidRequestError as error:
        check(error.http_status == 400, "http_status %s" % error.http_status)
        check(error.code == "charge_already_refunded", "code %s" % error.code)
        return {"code": error.code, "message": error.user_message}
    raise StepFailed("a refund beyond the charge was accepted")


@step("auto_paging")
def _():
    batch = uuid.uuid4().hex[:10]
    created = [stripe.PaymentIntent.create(amount=100 + i, currency="CNY", metadata={"smoke_batch": batch}).id for i in range(PAGE_COUNT)]
    seen = []
    pages = stripe.PaymentIntent.list(limit=100)
    for intent in pages.auto_paging_iter():
        seen.append(intent.id)
    check(len(seen) == len(set(seen)), "auto-paging returned %d duplicates" % (len(seen) - len(set(seen))))
    missing = set(created) - set(seen)
    check(not missing, "auto-paging missed %d of the %d created" % (len(missing), len(created)))
    check(len(seen) > 100, "only %d listed" % len(seen))
    return {"created": len(created), "listed": len(seen)}


@step("expand_latest_charge")
def _():
    needs("intent", "charge_id")
    intent = stripe.PaymentIntent.retrieve(state["intent"].id, expand=["latest_charge"])
    charge = intent.latest_charge
    check(isinstance(charge, stripe.Charge), "latest_charge is %r, not an expanded Charge" % (charge,))
    check(charge.id == state["charge_id"] and charge.amount == SEED["amount"], "expanded charge %s amount %s" % (charge.id, charge.amount))
    check(charge.payment_intent == intent.id, "charge.payment_intent %s" % charge.payment_intent)
    return {"latest_charge": charge.id, "amount": charge.amount, "amount_refunded": charge.amount_refunded}


@step("webhook_construct_event")
def _():
    needs("intent", "webhook_secret")
    pi = state["intent"].id

    def deliveries():
        status, body = http_json("GET", WEBHOOK_URL)
        check(status == 200, "receiver answered %s" % status)
        return body

    def ours(received):
        for delivery in received:
            event = json.loads(delivery["body"])
            if event.get("type") == "payment_intent.succeeded" and event["data"]["object"]["id"] == pi:
                return delivery
        return None

    delivery = ours(wait_for("the payment_intent.succeeded webhook", deliveries, ours))
    event = stripe.Webhook.construct_event(delivery["body"], delivery["signature"], state["webhook_secret"])
    check(event.type == "payment_intent.succeeded" and event.data.object.id == pi, "event %s for %s" % (event.type, event.data.object.id))
    check(event.data.object.status == "succeeded", "event object status %s" % event.data.object.status)
    for label, body, secret in (("tampered body", delivery["body"].replace('"succeeded"', '"canceled"', 1), state["webhook_secret"]), ("wrong secret", delivery["body"], "whsec_wrong")):
        try:
            stripe.Webhook.construct_event(body, delivery["signature"], secret)
        except stripe.error.SignatureVerificationError:
            continue
        raise StepFailed("construct_event accepted a delivery with a %s" % label)
    return {"event": event.id, "type": event.type}


@step("error_invalid_request_param")
def _():
    try:
        stripe.PaymentIntent.create(currency="CNY", payment_method_types=["alipay"])
    except stripe.error.InvalidRequestError as error:
        check(error.http_status == 400 and error.param == "amount" and error.code == "parameter_missing", "status %s param %s code %s" % (error.http_status, error.param, error.code))
        return {"param": error.param, "code": error.code}
    raise StepFailed("a PaymentIntent without amount was created")


@step("error_resource_missing")
def _():
    try:
        stripe.PaymentIntent.retrieve("pi_0000000000000000001")
    except stripe.error.InvalidRequestError as error:
        check(error.http_status == 404 and error.code == "resource_missing", "status %s code %s" % (error.http_status, error.code))
        return {"code": error.code}
    raise StepFailed("retrieved a PaymentIntent that does not exist")


@step("error_authentication")
def _():
    try:
        stripe.PaymentIntent.list(limit=1, api_key="sk_test_" + "x" * 32)
    except stripe.error.AuthenticationError as error:
        check(error.http_status == 401, "http_status %s" % error.http_status)
        return {"http_status": error.http_status}
    raise StepFailed("an unknown secret key was accepted")


@step("error_idempotency")
def _():
    key = "py-smoke-%s" % uuid.uuid4().hex
    first = stripe.PaymentIntent.create(amount=300, currency="CNY", idempotency_key=key)
    replay = stripe.PaymentIntent.create(amount=300, currency="CNY", idempotency_key=key)
    check(replay.id == first.id, "the replay made another PaymentIntent (%s, %s)" % (first.id, replay.id))
    try:
        stripe.PaymentIntent.create(amount=301, currency="CNY", idempotency_key=key)
    except stripe.error.IdempotencyError as error:
        check(error.http_status == 400, "http_status %s" % error.http_status)
        return {"replayed": replay.id, "http_status": error.http_status}
    raise StepFailed("the same Idempotency-Key with other parameters was accepted")


@step("error_card_declined")
def _():
    check(DECLINE_PI is not None, "ZHIFU_DECLINE_PAYMENT_INTENT is not set")
    try:
        stripe.PaymentIntent.confirm(DECLINE_PI)
    except stripe.error.CardError as error:
        check(error.http_status == 402 and error.code == "payment_intent_payment_attempt_failed", "status %s code %s" % (error.http_status, error.code))
        decline = error.error.decline_code if error.error is not None else None
        intent = error.error.payment_intent if error.error is not None else None
        check(intent is not None and intent["id"] == DECLINE_PI and intent["status"] == "requires_payment_method", "error.payment_intent %r" % (intent,))
        return {"code": error.code, "decline_code": decline}
    raise StepFailed("the confirm Alipay+ refuses went through")


print(json.dumps({"library": "stripe-python %s" % stripe_version.VERSION, "api_base": API_BASE, "steps": steps}, default=str))
sys.exit(0 if all(s["ok"] for s in steps) else 1)
