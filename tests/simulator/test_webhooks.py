"""Webhook delivery: signing, batching, duplicates, retries, handshake and
lead events (docs/meta-facts.md §4.2-§4.4)."""

import hashlib
import hmac
import json

from sim_helpers import Graph

from meta_simulator import RETRY_OFFSETS, WebhookSender, payloads

SCALE = 1 / 360000  # 36 h in 0.36 s


def _comments(count, pages=("1111",)):
    return [
        payloads.feed_comment(
            pages[n % len(pages)],
            "add",
            comment_id=f"5_{n}",
            post_id="1111_5",
            from_id=str(7000 + n),
            from_name="Şükrü Öztürk",
            message=f"yorum {n}",
            created_time=1790000000 + n,
        )
        for n in range(count)
    ]


def _keys(post_body):
    out = []
    for entry in json.loads(post_body)["entry"]:
        out += [c["value"]["comment_id"] for c in entry.get("changes", [])]
    return out


def test_send_signs_the_exact_bytes(receiver):
    sender = WebhookSender("test_app_secret")
    delivery = sender.send(
        receiver.url, payloads.feed_comment("1111", message="Çok güzel")
    )
    assert delivery.ok and delivery.status == 200
    post = receiver.posts[0]
    assert post.body == delivery.body
    expected = hmac.new(b"test_app_secret", post.body, hashlib.sha256).hexdigest()
    assert post.headers["X-Hub-Signature-256"] == f"sha256={expected}"
    assert post.headers["X-Hub-Signature"].startswith("sha1=")
    assert post.headers["Content-Type"] == "application/json"
    assert b"\\u00c7ok g\\u00fczel" in post.body
    assert sender.log == [delivery]


def test_batches_hold_at_most_batch_size_updates_across_pages(receiver):
    sender = WebhookSender("s")
    report = sender.deliver_changes(
        receiver.url, _comments(25, pages=("1111", "2222")), batch_size=10
    )
    assert report.counts["posts"] == 3 and report.counts["dropped"] == 0
    sizes = [len(_keys(post.body)) for post in receiver.posts]
    assert sizes == [10, 10, 5]
    first = json.loads(receiver.posts[0].body)
    assert {entry["id"] for entry in first["entry"]} == {"1111", "2222"}
    delivered = [key for post in receiver.posts for key in _keys(post.body)]
    assert sorted(delivered) == sorted(f"5_{n}" for n in range(25))


def test_messaging_and_changes_objects_are_posted_separately(receiver):
    events = _comments(2) + [
        payloads.instagram_message("1784", "IG1", "m_1", "selam", timestamp_ms=1),
        payloads.messenger_message("1111", "P1", "m_2", "selam", None, 2),
    ]
    WebhookSender("s").deliver_changes(receiver.url, events, batch_size=100)
    bodies = receiver.payloads()
    assert [body["object"] for body in bodies] == ["page", "instagram"]
    page_entries = bodies[0]["entry"]
    kinds = {
        kind
        for entry in page_entries
        for kind in ("changes", "messaging")
        if kind in entry
    }
    assert kinds == {"changes", "messaging"}


def test_duplicates_rebatching_and_shuffle(receiver):
    events = _comments(60)
    sender = WebhookSender("s", seed=3)
    report = sender.deliver_changes(
        receiver.url,
        events,
        batch_size=7,
        duplicate_rate=0.5,
        rebatch_rate=0.2,
        shuffle=True,
    )
    duplicates = [d for d in report.deliveries if d.kind == "duplicate"]
    assert duplicates
    originals = {d.body for d in report.deliveries if d.kind == "original"}
    assert all(d.body in originals for d in duplicates)  # byte-identical resend
    assert report.rebatched > 0
    bodies_by_key = {}
    for post in receiver.posts:
        for key in _keys(post.body):
            bodies_by_key.setdefault(key, set()).add(post.body)
    assert any(len(bodies) > 1 for bodies in bodies_by_key.values())
    assert set(bodies_by_key) == {f"5_{n}" for n in range(60)}
    first_order = [k for post in receiver.posts[:3] for k in _keys(post.body)]
    assert first_order != [f"5_{n}" for n in range(len(first_order))]


def test_same_seed_same_delivery_plan(receiver):
    def plan():
        sender = WebhookSender("s", seed=11)
        report = sender.deliver_changes(
            receiver.url, _comments(30), batch_size=4, duplicate_rate=0.3, shuffle=True
        )
        return [d.body for d in report.deliveries]

    assert plan() == plan()


def test_retries_follow_the_compressed_schedule(receiver):
    receiver.fail_first = 4
    report = WebhookSender("s").deliver_changes(
        receiver.url, _comments(1), time_scale=SCALE
    )
    attempts = [(d.attempt, d.status, d.kind) for d in report.deliveries]
    assert attempts == [
        (1, 500, "original"),
        (2, 500, "retry"),
        (3, 500, "retry"),
        (4, 500, "retry"),
        (5, 200, "retry"),
    ]
    assert len({post.body for post in receiver.posts}) == 1
    elapsed = [d.elapsed for d in report.deliveries]
    for attempt, at in enumerate(elapsed):
        assert at >= RETRY_OFFSETS[attempt] * SCALE - 0.005
    assert report.dropped == [] and report.counts["retries"] == 4


def test_updates_are_dropped_after_36_hours_of_failures(receiver):
    receiver.fail_first = 10**6
    report = WebhookSender("s").deliver_changes(
        receiver.url, _comments(3), time_scale=SCALE
    )
    assert len(report.deliveries) == len(RETRY_OFFSETS)
    assert report.deliveries[-1].elapsed >= 129600 * SCALE - 0.01
    assert [u.key for u in report.dropped] == [
        f"feed:5_{n}:add:{1790000000 + n}" for n in range(3)
    ]


def test_no_retry_when_disabled(receiver):
    receiver.fail_first = 1
    report = WebhookSender("s").deliver_changes(receiver.url, _comments(2), retry=False)
    assert len(report.deliveries) == 1 and len(report.dropped) == 2


def test_response_timeout_counts_as_failure(receiver):
    receiver.sleep = 0.5
    report = WebhookSender("s").deliver_changes(
        receiver.url, _comments(1), response_timeout=0.1, retry=False
    )
    assert report.deliveries[0].status is None
    assert report.deliveries[0].error == "timeout"
    assert len(report.dropped) == 1


def test_disable_after_failures_unsubscribes_the_page(simulator, receiver):
    page = simulator.add_page("Sayfa")
    simulator.set_subscription(page["id"], ["feed"])
    simulator.set_callback(receiver.url, "hush")
    receiver.fail_first = 10**6
    events = [payloads.feed_comment(page["id"], "add", f"c_{n}") for n in range(3)]
    report = simulator.webhooks.deliver_changes(
        receiver.url, events, batch_size=1, disable_after_failures=2, time_scale=SCALE
    )
    assert report.disabled is True
    assert len(report.deliveries) == 2
    assert len(report.dropped) == 3
    assert simulator.subscriptions(page["id"]) == []
    assert simulator.callback.disabled is True


def test_handshake(receiver):
    sender = WebhookSender("s", seed=1)
    status, body, challenge = sender.handshake(receiver.url, "hush")
    assert status == 200 and body == challenge and challenge.isdigit()
    status, body, _ = sender.handshake(receiver.url, "wrong")
    assert status == 403


def test_submit_lead_delivers_leadgen_only_when_subscribed(world, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, "hush", verify=True)
    sim.submit_lead(world.form_id)
    assert receiver.posts == []  # the Page has not subscribed the app
    Graph(sim, world.page_token).post(
        f"{world.page_id}/subscribed_apps", subscribed_fields="leadgen"
    )
    lead = sim.submit_lead(world.form_id, created_time=1790000000)
    assert len(receiver.posts) == 1
    post = receiver.posts[0]
    expected = hmac.new(sim.app_secret.encode(), post.body, hashlib.sha256).hexdigest()
    assert post.headers["X-Hub-Signature-256"] == f"sha256={expected}"
    value = json.loads(post.body)["entry"][0]["changes"][0]["value"]
    assert value["leadgen_id"] == lead["id"] and value["form_id"] == world.form_id
    assert value["ad_id"] == lead["ad_id"] == value["adgroup_id"]
    sim.drop_webhooks = True
    sim.submit_lead(world.form_id)
    assert len(receiver.posts) == 1


def test_submit_lead_to_an_explicit_url_in_background(world, receiver):
    lead = world.sim.submit_lead(
        world.form_id, callback_url=receiver.url, background=True, is_organic=True
    )
    receiver.wait_for(1)
    value = receiver.payloads()[0]["entry"][0]["changes"][0]["value"]
    assert value["leadgen_id"] == lead["id"] and "ad_id" not in value


def test_test_lead_fires_the_leadgen_webhook(world, receiver, graph):
    world.sim.set_callback(receiver.url, "hush")
    world.sim.set_subscription(world.page_id, ["leadgen"])
    created = graph.post(f"{world.form_id}/test_leads").json()
    receiver.wait_for(1)
    value = receiver.payloads()[0]["entry"][0]["changes"][0]["value"]
    assert value["leadgen_id"] == created["id"] and "ad_id" not in value
