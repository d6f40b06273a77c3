"""Every tracking URL Anymail exposes answers junk with a 4xx, never a 500, and records nothing
(subscribers/tracking/urls.py): a body that is not JSON, JSON of another shape, a form or bytes
where JSON was expected, a body over Django's size limit, or the ESP's own shape with junk in it;
an ESP that is not set up here answers 404; inbound URLs are not routed.

The junk comes from a caller who knows the shared secret (the worst case: a stranger without it
is refused first), with every ESP's own key configured so that each view gets past its start.
"""

from __future__ import annotations

import base64
import json

import pytest
from anymail import urls as anymail_urls
from django.urls import Resolver404, resolve, reverse

from subscribers import suppression
from subscribers.models import Delivery, DeliveryEvent, Subscriber
from subscribers.tracking import urls as webhook_urls
from tests.test_webhooks import EVENT_TIME, mailgun_sign, make_delivery, payload

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning"),
]

SECRET = "anymail:junk-test-secret"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
# Every ESP's own keys, so that each of Anymail's views can be made (Resend's signing secret is
# left out: it needs the svix package, see test_an_esp_whose_package_is_missing_answers_404).
EVERY_KEY = {
    "WEBHOOK_SECRET": [SECRET],
    "BREVO_API_KEY": "k",
    "MAILERSEND_SIGNING_SECRET": "k",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "key-junk",
    "MAILTRAP_API_TOKEN": "k",
    "MANDRILL_WEBHOOK_KEY": "k",
    "MANDRILL_WEBHOOK_URL": "https://news.example.org/webhooks/anymail/mandrill/",
    "POSTAL_WEBHOOK_KEY": "k",
    "UNISENDER_GO_API_KEY": "k",
}
# The ESPs whose views need a key of their own besides the shared secret.
OWN_KEY_NEEDED = {"mailersend", "mailgun", "postal", "unisender_go"}

TRACKING = [pattern.name for pattern in webhook_urls.urlpatterns]
INBOUND = [pattern.name for pattern in anymail_urls.urlpatterns if "inbound" in (pattern.name or "")]

# Never the ESP's events: always 400.
NOT_EVENTS = [
    ("application/json", b"this is not json"),
    ("application/json", b""),
    ("application/json", b'{"unterminated": '),
    ("application/json", b"null"),
    ("application/json", b"123"),
    ("application/json", b'"a string"'),
    ("application/json", b'[1, "x", null, {}]'),
    ("application/octet-stream", b"\xff\xfe\x00\x01binary"),
    ("application/x-www-form-urlencoded", b"a=1&mandrill_events=junk&event-data=x"),
    (
        "multipart/form-data; boundary=xyz",
        b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--xyz--",
    ),
]
# JSON of another shape (whatever the content type says: SNS posts JSON as text/plain): 400, or
# 200 where the ESP's parser takes no event from it (an empty batch, the `[{"msys": {}}]`
# SparkPost sends to check a new webhook); never anything recorded.
OTHER_SHAPES = [
    ("application/json", b"{}"),
    ("application/json", b"[]"),
    ("application/json", b'{"a": {"b": [1, 2, {"c": null}]}}'),
    ("application/json", b'[{"msys": {}}]'),
    ("application/json", b'{"RecordType": "Delivery", "Recipient": 123, "MessageID": [1], "DeliveredAt": 5}'),
    ("application/json", json.dumps([{"event": "open", "email": 5, "sg_event_id": {"x": 1}}]).encode()),
    ("text/plain", b'{"Type": "Notification", "MessageId": "m-1", "Message": "junk"}'),
    ("application/json", '{"\\ud800": "\u202e"}'.encode()),
]


@pytest.fixture(autouse=True)
def every_key(settings):
    settings.ANYMAIL = EVERY_KEY


@pytest.fixture
def delivery():
    return make_delivery_for("ann@example.org")


def make_delivery_for(email: str) -> Delivery:
    from subscribers.models import Send
    from tests.factories import make_issue

    send = Send.objects.create(issue=make_issue(), recipient_count=1)
    return make_delivery(send, email, esp_message_id="2706ee8a-737c-4285-b032-ccd317af53ed")


def post(client, name: str, content_type: str, body: bytes, **headers):
    sns = {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification", "HTTP_X_AMZ_SNS_MESSAGE_ID": "m-1"}
    return client.post(reverse(f"anymail:{name}"), body, content_type=content_type, **sns, **AUTH, **headers)


def nothing_recorded() -> bool:
    return (
        not DeliveryEvent.objects.exists()
        and not suppression.is_suppressed("ann@example.org")
        and set(Subscriber.objects.values_list("status", flat=True)) <= {Subscriber.Status.ACTIVE}
    )


def test_anymail_exposes_tracking_urls_for_every_esp_and_all_are_routed():
    assert len(TRACKING) >= 14
    for pattern in anymail_urls.urlpatterns:
        if pattern.name.endswith("_tracking_webhook") or pattern.name == "mandrill_webhook":
            assert pattern.name in TRACKING


@pytest.mark.parametrize("name", TRACKING)
def test_a_body_that_is_not_the_esps_events_is_a_400_and_records_nothing(client, name, delivery):
    answers = [post(client, name, content_type, body).status_code for content_type, body in NOT_EVENTS]

    assert answers == [400] * len(NOT_EVENTS)
    assert nothing_recorded()


@pytest.mark.parametrize("name", TRACKING)
def test_json_of_another_shape_is_never_a_500_and_records_nothing(client, name, delivery):
    answers = [post(client, name, content_type, body).status_code for content_type, body in OTHER_SHAPES]

    assert set(answers) <= {200, 400}, answers
    assert nothing_recorded()


@pytest.mark.parametrize("name", TRACKING)
def test_a_body_over_the_size_limit_is_a_400(client, settings, name, delivery):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    body = json.dumps([{"event": "open", "email": "ann@example.org", "padding": "x" * 5_000}]).encode()

    assert post(client, name, "application/json", body).status_code == 400
    assert nothing_recorded()


def test_the_esps_shape_with_junk_in_it_is_a_400(client, delivery):
    bounce = payload("postmark", "hard_bounce", delivery)
    for field, junk in [("Email", 123), ("MessageID", ["x"]), ("Email", None)]:
        body = json.dumps({**bounce, field: junk, **({"MessageID": ""} if junk is None else {})}).encode()
        assert post(client, "postmark_tracking_webhook", "application/json", body).status_code == 400, field

    opened = mailgun_sign(
        payload("mailgun", "opened", delivery), key=EVERY_KEY["MAILGUN_WEBHOOK_SIGNING_KEY"]
    )
    opened["event-data"]["timestamp"] = "yesterday"
    assert (
        post(client, "mailgun_tracking_webhook", "application/json", json.dumps(opened).encode()).status_code
        == 400
    )
    assert nothing_recorded()


def test_a_batch_with_one_junk_event_records_none_of_it(client, delivery):
    good = {
        "email": "ann@example.org",
        "timestamp": int(EVENT_TIME.timestamp()),
        "event": "bounce",
        "type": "bounce",
        "sg_event_id": "sg-1",
        "sg_message_id": delivery.esp_message_id,
        "reason": "550 5.1.1 no such user",
    }
    body = json.dumps([good, {**good, "sg_event_id": "sg-2", "email": ["junk"]}]).encode()

    assert post(client, "sendgrid_tracking_webhook", "application/json", body).status_code == 400
    assert nothing_recorded()
    # The same batch without the junk event is recorded: the refusal was about the junk.
    assert (
        post(client, "sendgrid_tracking_webhook", "application/json", json.dumps([good]).encode()).status_code
        == 200
    )
    assert DeliveryEvent.objects.count() == 1 and suppression.is_suppressed("ann@example.org")


@pytest.mark.parametrize("name", TRACKING)
def test_no_webhook_answers_while_no_secret_is_set(client, settings, name):
    settings.ANYMAIL = {key: value for key, value in EVERY_KEY.items() if key != "WEBHOOK_SECRET"}

    for response in (post(client, name, "application/json", b"{}"), client.get(reverse(f"anymail:{name}"))):
        assert response.status_code == 404
        assert b"not set up on this site" in response.content


@pytest.mark.parametrize("name", sorted(f"{esp}_tracking_webhook" for esp in OWN_KEY_NEEDED))
def test_an_esp_whose_own_key_is_missing_answers_404(client, settings, name, delivery):
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET]}

    response = post(client, name, "application/json", b'{"event": "delivered"}')

    assert response.status_code == 404
    assert b"not set up on this site" in response.content
    assert nothing_recorded()


def test_an_esp_whose_package_is_missing_answers_404(client, settings):
    try:
        import svix  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("svix is installed: Resend's signed webhooks can be checked")
    settings.ANYMAIL = {**EVERY_KEY, "RESEND_SIGNING_SECRET": "whsec_aG9zdGlsZQ=="}

    response = post(client, "resend_tracking_webhook", "application/json", b"{}")

    assert response.status_code == 404


@pytest.mark.parametrize("name", INBOUND)
def test_inbound_urls_are_not_routed(name):
    route = next(pattern for pattern in anymail_urls.urlpatterns if pattern.name == name)
    path = "/webhooks/anymail/" + str(route.pattern).lstrip("^").replace("(_mime)?", "").rstrip("$")
    with pytest.raises(Resolver404):
        resolve(path)
