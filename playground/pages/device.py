"""The device authorization grant (RFC 8628): the device authorization request, the page with the
user code, the links and QR code of the verification URI and the expiry, and the polls of the token
endpoint. No server-side state: what a poll needs travels in the page's form (works behind a load
balancer). Thin: form -> client call -> Exchange -> page."""

from __future__ import annotations

import time
from dataclasses import replace

import segno

from .. import client, results
from ..forms import DEVICE_FIELDS, FlowForm
from .code import FLOW_RESULTS, token_page
from .common import bp, call, credentials, new_form, outbound, page, record, skip_tls_verification

#: RFC 8628 §3.2: without an interval the client waits 5 seconds; §3.5: slow_down adds 5 for good.
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5
#: Bounds on what a server may set (a day's lifetime, an hour between polls): the fields stay small.
MAX_LIFETIME, MAX_INTERVAL = 86400, 3600
#: §3.5: the answers after which the device polls again.
WAITING = ("authorization_pending", "slow_down")
#: Polls listed on the page (the transcript keeps every one).
MAX_POLLS = 40
POLL_TITLE = "Token request (device code, RFC 8628 §3.4)"


def start(form: FlowForm):
    """Authorize with the device grant: the device authorization request (RFC 8628 §3.1), then the page
    that shows the codes (§3.3) and polls."""
    if not form.check_device_step():
        return page("oauth2.html", form, 400)
    for name in FLOW_RESULTS:  # nothing of an earlier flow is checked against this one's tokens
        form[name].data = ""
    outcome = call(
        lambda: results.read_device_authorization_response(
            client.device_authorization(
                outbound(form),
                form.value("device_authorization_endpoint"),
                credentials(form),
                scope=form.value("scope"),
                insecure=skip_tls_verification(form),
            )
        )
    )
    data = outcome.data
    if data and outcome.exchange:
        # The device code is a credential (§3.2): masked wherever the page shows the exchange.
        exchange = replace(outcome.exchange, secrets=(*outcome.exchange.secrets, data["device_code"]))
        outcome = replace(outcome, exchange=exchange)
        form.device_code.data = data["device_code"]
        form.user_code.data = data["user_code"]
        form.verification_uri.data = data["verification_uri"]
        form.verification_uri_complete.data = results.safe_link(data.get("verification_uri_complete")) or ""
        lifetime = min(max(data["expires_in"], 0), MAX_LIFETIME)
        form.device_expires_at.data = str(int(time.time()) + lifetime)
        interval = data.get("interval")
        usable = isinstance(interval, int) and not isinstance(interval, bool) and 0 < interval
        form.poll_interval.data = str(min(interval, MAX_INTERVAL) if usable else DEFAULT_INTERVAL)
    note_poll(form, outcome, f"device authorization: user_code {data['user_code']}" if data else "")
    record(form, outcome.exchange, "Device authorization request (RFC 8628 §3.1)")
    return device_page(form, outcome, "started" if data else "not_sent", 200)


@bp.post("/playground2/device/poll")
def device_poll():
    """Poll now: one token request with the device code (RFC 8628 §3.4), answered as §3.5 says."""
    form = new_form()
    form.validate()
    if not form.check_poll_step():
        return device_page(form, None, "not_sent", 400)
    outcome = call(
        lambda: results.read_token_response(
            client.poll_device(
                outbound(form),
                form.value("token_endpoint"),
                credentials(form),
                form.value("device_code"),
                insecure=skip_tls_verification(form),
            ),
            results.DEVICE_TOKEN_RESPONSE,
        )
    )
    error = outcome.error.error if outcome.error else ""
    note_poll(form, outcome, "tokens" if outcome.data else error)
    if outcome.data:
        for name in DEVICE_FIELDS:  # redeemed: a device code gives its tokens once (§3.5)
            form[name].data = ""
        return token_page(form, outcome, POLL_TITLE)
    if error == "slow_down":  # §3.5: 5 seconds more, for this and every later poll
        form.poll_interval.data = str(min(interval_of(form) + SLOW_DOWN_STEP, MAX_INTERVAL))
    record(form, outcome.exchange, POLL_TITLE)
    if error in WAITING:
        return device_page(form, outcome, "waiting")
    if outcome.error:  # access_denied, expired_token, or any other error: polling stops (§3.5)
        form.device_code.data = ""
        return device_page(form, outcome, "ended")
    return device_page(form, outcome, "poll_problem")  # no OAuth answer: Poll now by hand, no auto-poll


def interval_of(form: FlowForm) -> int:
    """The seconds to wait between polls, as carried in the form."""
    value = form.value("poll_interval")
    return min(int(value), MAX_INTERVAL) if value.isdigit() and int(value) > 0 else DEFAULT_INTERVAL


def note_poll(form: FlowForm, outcome: results.Outcome, what: str) -> None:
    """One line for the page's list of exchanges: when, the status, and what the answer was."""
    exchange = outcome.exchange
    status = f"HTTP {exchange.response.status}" if exchange and exchange.response else "no answer"
    what = what or (outcome.problem.title if outcome.problem else "")
    line = f"{time.strftime('%H:%M:%S UTC', time.gmtime())} · {status} · {what}"
    lines = [*(form.device_polls.data or "").splitlines(), line]
    form.device_polls.data = "\n".join(lines[-MAX_POLLS:])


def qr_code(uri: str) -> str | None:
    """A QR code of `uri`, drawn here (no external service) as an SVG data URI: an <img> the strict
    CSP allows (img-src data:), with no inline style or script."""
    if not uri:
        return None
    try:
        return segno.make_qr(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff")
    except segno.DataOverflowError:  # longer than a QR code holds
        return None


def device_page(form: FlowForm, outcome: results.Outcome | None, state: str, status: int = 200):
    """The device page: the codes and how to reach the verification URI, the polls so far, the last
    exchange; `state` is started, waiting, ended, poll_problem or not_sent."""
    now = int(time.time())
    expires_at = form.value("device_expires_at")
    remaining = max(int(expires_at) - now, 0) if expires_at.isdigit() else None
    link = form.value("verification_uri_complete") or form.value("verification_uri")
    auto = (
        state in ("started", "waiting")
        and bool(form.value("device_code"))
        and form.value("poll_stopped") != "1"
        and (remaining is None or remaining > 0)
    )
    return page(
        "device.html",
        form,
        status,
        outcome=outcome,
        state=state,
        qr=qr_code(link) if form.value("device_code") else None,
        remaining=remaining,
        expires_at=int(expires_at) if expires_at.isdigit() else None,
        interval=interval_of(form),
        auto=auto,
        polls=(form.device_polls.data or "").splitlines(),
    )
