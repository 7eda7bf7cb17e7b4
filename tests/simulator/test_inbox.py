"""Messenger and Instagram conversations and the Send API's window rules
(docs/meta-facts.md §6, §13), through real HTTP."""

import json
import time

import requests
from sim_helpers import START, proof_for


def send(world, body, token=None):
    token = token or world.page_token
    return requests.post(
        f"{world.sim.base_url}/v26.0/{world.page_id}/messages",
        json=body,
        params={"appsecret_proof": proof_for(world.sim.app_secret, token)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()


def text(user, words, **extra):
    return {"recipient": {"id": user}, "message": {"text": words}, **extra}


def test_inside_24_hours_a_response_then_human_agent_then_closed(world, clock):
    sim = world.sim
    sim.receive_dm(world.page_id, "PSID_1", "Merhaba", deliver=False)
    answer = send(
        world,
        text("PSID_1", "Size nasıl yardımcı olabilirim?", messaging_type="RESPONSE"),
    )
    assert answer["recipient_id"] == "PSID_1" and answer["message_id"].startswith("m_")
    clock.advance(24 * 3600)  # exactly 24 h: closed for a RESPONSE
    late = send(world, text("PSID_1", "Geç", messaging_type="RESPONSE"))["error"]
    assert (late["code"], late["error_subcode"]) == (10, 2018278)
    tagged = text("PSID_1", "Temsilci", messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert send(world, tagged)["error"]["code"] == 200, "the feature is not granted"
    sim.human_agent_enabled = True
    assert "message_id" in send(world, tagged)
    removed = text("PSID_1", "x", messaging_type="MESSAGE_TAG", tag="ACCOUNT_UPDATE")
    assert send(world, removed)["error"]["code"] == 100
    clock.advance(6 * 86400)  # 7 days after the last inbound message
    assert send(world, tagged)["error"]["error_subcode"] == 2018278
    [ours] = [
        m for m in sim.conversation(world.page_id, "PSID_1")["messages"] if m.get("tag")
    ]
    assert ours["text"] == "Temsilci"


def test_an_ad_opens_seven_days_and_instagram_has_its_own_subcode(world, clock):
    sim = world.sim
    sim.receive_dm(
        world.page_id,
        "PSID_2",
        "Reklamdan geldim",
        ad_id="120000000000001",
        deliver=False,
    )
    too_long = send(world, text("PSID_2", "a" * 2001))["error"]
    assert too_long["code"] == 100
    clock.advance(5 * 86400)
    assert "message_id" in send(
        world, text("PSID_2", "Hâlâ açık", messaging_type="RESPONSE")
    )
    assert sim.conversation(world.page_id, "PSID_2")["ad_id"] == "120000000000001"
    sim.receive_dm(
        world.page_id, "IGSID_1", "Selam", channel="instagram", deliver=False
    )
    clock.advance(2 * 86400)
    closed = send(world, text("IGSID_1", "Geç"))["error"]
    assert (closed["code"], closed["error_subcode"]) == (10, 2534022)
    assert send(world, text("PSID_404", "Kimse"))["error"]["code"] == 100


def test_messages_and_echoes_are_webhooks(world, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush")
    sim.set_subscription(world.page_id, ["messages", "message_echoes"])
    sim.receive_dm(world.page_id, "PSID_3", "Fiyat?", ad_id="120000000000002", at=START)
    send(
        world,
        text("PSID_3", "12.000 TL", messaging_type="RESPONSE")
        | {"message": {"text": "12.000 TL", "metadata": "odoo:mail.message:7"}},
    )
    deadline = time.monotonic() + 5  # the echo goes in the background
    while len(receiver.posts) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    events = [json.loads(p.body)["entry"][0]["messaging"][0] for p in receiver.posts]
    inbound, echo = events
    assert inbound["message"]["text"] == "Fiyat?"
    assert inbound["message"]["referral"]["ad_id"] == "120000000000002"
    assert echo["message"]["is_echo"] is True
    assert echo["message"]["metadata"] == "odoo:mail.message:7"
    assert str(echo["message"]["app_id"]) == sim.app_id


def test_standby_events_need_the_standby_field(world, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush")
    sim.set_subscription(world.page_id, ["messages", "message_echoes"])
    sim.set_thread_owner(world.page_id, "PSID_4", "999000999")
    sim.receive_dm(world.page_id, "PSID_4", "Bot ile konuşuyorum")
    assert receiver.posts == [], "another app owns the thread: standby only"
    sim.set_subscription(world.page_id, ["messages", "standby"])
    mid = sim.receive_dm(world.page_id, "PSID_4", "Hâlâ botla")["mid"]
    receiver.wait_for(1)
    [entry] = json.loads(receiver.posts[0].body)["entry"]
    assert "messaging" not in entry
    assert entry["standby"][0]["message"]["mid"] == mid


def test_messenger_names_a_person_who_wrote_to_the_page(world, graph):
    """Messenger's User Profile API: ``GET {psid}`` answers the name and
    picture of someone who wrote to the Page (writing is the consent)."""
    world.sim.receive_dm(
        world.page_id, "PSID_5", "Merhaba", name="Ayşe Yılmaz", deliver=False
    )
    profile = graph.get("PSID_5", fields="first_name,last_name,profile_pic").json()
    assert (profile["first_name"], profile["last_name"]) == ("Ayşe", "Yılmaz")
    assert profile["profile_pic"].startswith("https://")
    assert set(graph.get("PSID_5").json()) == {
        "id",
        "first_name",
        "last_name",
        "profile_pic",
    }
    # someone who never wrote to the Page is nobody it may look up
    unknown = graph.get("PSID_6", fields="first_name").json()["error"]
    assert unknown["code"] == 803
