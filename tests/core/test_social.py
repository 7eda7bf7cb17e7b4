"""Comments of Pages and Instagram accounts (docs/meta-facts.md §4.5, §6.3).

Deliveries are built with the simulator's payload builders, which follow
Meta's documented shapes independently of the code under test.
"""

import json
from datetime import datetime, timedelta, timezone

import pytest

from graph import social
from graph.client import GraphClient
from graph.errors import GraphError
from graph.webhook import event_from_record, parse_delivery
from meta_simulator import payloads

from ..conftest import APP_SECRET

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def one(delivery):
    [event] = parse_delivery(delivery)
    return social.change_from_event(event)


def test_a_facebook_comment_and_a_reply():
    top = one(
        payloads.feed_comment(
            "1111",
            comment_id="5555_1",
            post_id="1111_5555",
            from_id="7777",
            from_name="Ayşe Yılmaz",
            message="Fiyat nedir?",
            created_time=T0,
        )
    )
    assert (top.platform, top.account_id, top.comment_id) == (
        "facebook",
        "1111",
        "5555_1",
    )
    assert (top.object_id, top.parent_id, top.verb) == ("1111_5555", "", "add")
    assert (top.author_id, top.author_label, top.text) == (
        "7777",
        "Ayşe Yılmaz",
        "Fiyat nedir?",
    )
    assert top.created_at == T0 == top.event_at
    assert not top.from_account
    reply = one(
        payloads.feed_comment(
            "1111", comment_id="5555_2", post_id="1111_5555", parent_id="5555_1",
            from_id="1111", from_name="Sayfa", message="DM attık", created_time=T0,
        )
    )  # fmt: skip
    assert reply.parent_id == "5555_1"
    assert reply.from_account, "the Page's own reply is recognised"


@pytest.mark.parametrize("verb", ["edited", "remove", "hide", "unhide"])
def test_facebook_verbs(verb):
    change = one(
        payloads.feed_comment(
            "1111", verb=verb, comment_id="5555_1", post_id="1111_5555",
            message="Yeni metin", created_time=T0 + timedelta(minutes=5),
        )
    )  # fmt: skip
    assert change.verb == verb
    assert change.event_at == T0 + timedelta(minutes=5)
    assert change.created_at is None  # a change is not the comment's birth
    assert change.text == ("Yeni metin" if verb == "edited" else None)


@pytest.mark.parametrize(
    ("spelled", "verb"),
    [("edit", "edited"), ("DELETE", "remove"), ("removed", "remove"), ("Hide", "hide")],
)
def test_other_spellings_of_a_verb(spelled, verb):
    delivery = payloads.feed_comment("1111", comment_id="5555_1", created_time=T0)
    delivery["entry"][0]["changes"][0]["value"]["verb"] = spelled
    assert one(delivery).verb == verb


def test_an_unknown_verb_reads_as_an_addition():
    change = one(
        payloads.feed_comment("1111", verb="add", comment_id="5555_1", created_time=T0)
    )
    assert change.verb == "add"


def test_an_instagram_comment_on_an_ad_and_a_mention():
    change = one(
        payloads.instagram_comment(
            "17841400000000001", "17890000000000001", "Stokta mı?", "IGSID_1",
            "ayse.y", "17900000000000001", ad_id="120000000000001",
            time=int(T0.timestamp()),
        )
    )  # fmt: skip
    assert change.platform == "instagram"
    assert (change.author_id, change.author_label) == ("IGSID_1", "@ayse.y")
    assert (change.object_id, change.ad_id, change.text) == (
        "17900000000000001",
        "120000000000001",
        "Stokta mı?",
    )
    [mention] = parse_delivery(
        payloads.instagram_mention("17841400000000001", "1790", "1789")
    )
    assert social.change_from_event(mention) is None
    assert social.mention_target(mention) == ("1790", "1789")


def test_changes_out_of_order_end_in_the_right_state():
    t1, t2 = T0, T0 + timedelta(seconds=30)
    # an edit arriving after a later removal never revives the comment
    assert not social.supersedes(t1, "edited", t2, "remove")
    assert not social.supersedes(t2 + timedelta(days=1), "add", t1, "remove")
    # an older edit arriving late does not overwrite a newer one
    assert not social.supersedes(t1, "edited", t2, "edited")
    assert social.supersedes(t2, "edited", t1, "edited")
    # the addition arriving after its edit (same second) does not undo it
    assert not social.supersedes(t1, "add", t1, "edited")
    assert social.supersedes(t1, "edited", t1, "add")
    assert social.supersedes(t1, "hide", None, None)


def test_reads_of_both_platforms():
    fb = social.change_from_read(
        "facebook",
        "1111",
        {
            "id": "5555_3",
            "message": "<b>selam</b>",
            "created_time": "2026-12-01T10:00:00+0000",
            "from": {"id": "7777", "name": "Ayşe"},
            "parent": {"id": "5555_1"},
            "is_hidden": True,
            "permalink_url": "https://www.facebook.com/1111/posts/5555?comment_id=3",
        },
        "1111_5555",
    )
    assert (fb.comment_id, fb.parent_id, fb.hidden, fb.created_at) == (
        "5555_3",
        "5555_1",
        True,
        T0,
    )
    assert fb.text == "<b>selam</b>", "kept as text: the Odoo layer escapes it"
    ig = social.change_from_read(
        "instagram",
        "1784",
        {
            "id": "1789",
            "text": "harika",
            "timestamp": "2026-12-01T10:00:00+0000",
            "username": "ayse.y",
            "media": {"id": "1790"},
        },
    )
    assert (ig.object_id, ig.author_username, ig.author_id) == ("1790", "ayse.y", "")
    with pytest.raises(social.UnknownGraphError):
        social.change_from_read("instagram", "1784", {"text": "no id"})


def test_urls():
    assert social.post_url("facebook", "1111_5555") == (
        "https://www.facebook.com/1111/posts/5555"
    )
    assert social.comment_url("facebook", "1111_5555", "5555_3") == (
        "https://www.facebook.com/1111/posts/5555?comment_id=3"
    )
    assert social.post_url("instagram", "1790") == ""
    assert social.post_url("instagram", "1790", "https://www.instagram.com/p/x/") == (
        "https://www.instagram.com/p/x/"
    )
    assert social.post_url("instagram", "1790", "javascript:alert(1)") == ""


def test_reply_texts():
    assert social.clean_reply("  Merhaba  ") == "Merhaba"
    with pytest.raises(ValueError, match="empty"):
        social.clean_reply("   ")
    social.clean_reply("ş" * 2000, private=True)
    with pytest.raises(ValueError, match="too_long"):
        social.clean_reply("a" * 2001, private=True)
    # Instagram counts bytes: 501 "ş" are 1002 bytes
    with pytest.raises(ValueError, match="too_long"):
        social.clean_reply("ş" * 501, private=True, platform="instagram")
    social.clean_reply("ş" * 500, private=True, platform="instagram")
    with pytest.raises(ValueError, match="too_long"):
        social.clean_reply("a" * 2201)


def test_private_reply_rules():
    now = T0 + timedelta(days=6)
    assert social.private_reply_refusal(T0, now, already=False) is None
    assert social.private_reply_refusal(T0, now, already=True) == "already"
    assert (
        social.private_reply_refusal(
            T0, T0 + timedelta(days=7, seconds=1), already=False
        )
        == "too_old"
    )
    assert (
        social.private_reply_refusal(T0, now, already=False, from_account=True)
        == "own_comment"
    )


# ------------------------------------------------------------------ calls


@pytest.fixture
def page(sim):
    """A Page with its Instagram account and the Page's client."""
    page = sim.add_page("Anadolu Mobilya", ig_account_id=True)
    user = sim.add_user_token(pages=[page["id"]])
    client = GraphClient(
        sim.page_token(user, page["id"]),
        app_secret=APP_SECRET,
        base_url=sim.base_url,
        max_retries=0,
    )
    return page, client


def test_history_pages_of_posts_comments_and_replies(sim, page):
    info, client = page
    now = datetime.now(timezone.utc)
    posts = [
        sim.add_post(
            info["id"],
            message=f"Gönderi {n}",
            created_time=int(now.timestamp()) - n * 86400,
        )
        for n in range(3)
    ]
    old = sim.add_post(
        info["id"], message="Eski", created_time=int(now.timestamp()) - 90 * 86400
    )
    for n in range(3):
        sim.add_comment(
            posts[0]["id"],
            f"Yorum {n}",
            created_time=int(now.timestamp()) + n,
            deliver=False,
        )
    first, after = social.posts_page(
        client, "facebook", info["id"], since=now - timedelta(days=30), limit=2
    )
    assert [p["message"] for p in first] == ["Gönderi 0", "Gönderi 1"]
    rest, end = social.posts_page(
        client,
        "facebook",
        info["id"],
        since=now - timedelta(days=30),
        after=after,
        limit=2,
    )
    assert [p["message"] for p in rest] == ["Gönderi 2"] and end is None
    assert old["id"] not in {p["id"] for p in first + rest}
    ref, text, posted, url = social.post_of_read("facebook", first[0])
    assert (ref, text) == (posts[0]["id"], "Gönderi 0") and url.startswith("https://")
    nodes, after = social.comments_page(client, "facebook", ref, limit=2)
    changes = [social.change_from_read("facebook", info["id"], n, ref) for n in nodes]
    assert [c.text for c in changes] == ["Yorum 0", "Yorum 1"] and after
    nodes, after = social.comments_page(client, "facebook", ref, after=after, limit=2)
    assert [n["message"] for n in nodes] == ["Yorum 2"] and after is None
    # Instagram: media, top-level comments, their replies
    ig = info["ig_account_id"]
    media = sim.add_ig_media(ig, caption="Yaz", created_time=int(now.timestamp()))
    top = sim.add_comment(
        media["id"], "Stokta?", from_id="IGSID_1", username="ayse", deliver=False
    )
    sim.add_comment(top["id"], "Evet", deliver=False)
    [listed], _ = social.posts_page(
        client, "instagram", ig, since=now - timedelta(days=1)
    )
    assert social.post_of_read("instagram", listed)[:2] == (media["id"], "Yaz")
    [node], _ = social.comments_page(client, "instagram", media["id"])
    assert social.change_from_read("instagram", ig, node).author_username == "ayse"
    [reply], _ = social.replies_page(client, top["id"])
    assert social.change_from_read("instagram", ig, reply).parent_id == top["id"]


def test_answers_and_moderation_reach_meta(sim, page):
    info, client = page
    post = sim.add_post(info["id"])
    comment = sim.add_comment(post["id"], "Fiyat?", from_id="7001", deliver=False)
    reply = social.reply_to_comment(client, "facebook", comment["id"], "12.000 TL")
    assert sim.comment(comment["id"])["replies"] == [reply["id"]]
    sent = social.private_reply(client, info["id"], comment["id"], "Detaylar DM'de")
    assert sent["recipient_id"] == "7001"
    assert sim.private_replies(comment["id"])[0]["text"] == "Detaylar DM'de"
    with pytest.raises(GraphError) as again:
        social.private_reply(client, info["id"], comment["id"], "Bir daha")
    assert again.value.code == 10900
    assert social.set_comment_hidden(client, "facebook", comment["id"], True) == {
        "success": True
    }
    assert sim.comment(comment["id"])["hidden"]
    assert social.delete_comment(client, "facebook", reply["id"]) == {"success": True}
    assert sim.comment(reply["id"])["deleted"]
    ig = info["ig_account_id"]
    media = sim.add_ig_media(ig)
    top = sim.add_comment(
        media["id"], "Harika", from_id="IGSID_2", username="elif", deliver=False
    )
    answer = social.reply_to_comment(client, "instagram", top["id"], "Teşekkürler")
    assert sim.comment(top["id"])["replies"] == [answer["id"]]
    social.set_comment_hidden(client, "instagram", top["id"], True)
    assert sim.comment(top["id"])["hidden"]


def test_a_profile_is_read_once_the_person_has_written(sim, page):
    info, client = page
    media = sim.add_ig_media(info["ig_account_id"])
    sim.add_comment(
        media["id"], "Harika", from_id="17841000000003", username="can", deliver=False
    )
    with pytest.raises(GraphError) as refused:
        social.get_profile(client, "17841000000003")
    assert refused.value.code == 230
    sim.set_messaged("17841000000003", name="Can Demir")
    profile = social.get_profile(client, "17841000000003")
    assert (profile["name"], profile["username"]) == ("Can Demir", "can")
    assert profile["picture_url"].startswith("https://")


def test_a_post_is_read_by_its_id_on_both_platforms(sim, page):
    info, client = page
    post = sim.add_post(info["id"], message="Kış indirimi: köşe koltuk %20")
    ref, text, posted, url = social.get_post(client, "facebook", post["id"])
    assert (ref, text) == (post["id"], "Kış indirimi: köşe koltuk %20")
    assert posted and url.startswith("https://")
    media = sim.add_ig_media(info["ig_account_id"], caption="Yeni sezon")
    ref, text, posted, url = social.get_post(client, "instagram", media["id"])
    assert (ref, text) == (media["id"], "Yeni sezon") and url.startswith("https://")
    with pytest.raises(GraphError):
        social.get_post(client, "facebook", f"{info['id']}_404")


def test_a_comment_event_without_its_words_is_still_the_same_change():
    """A removed comment's stored events keep what ordered them, never what
    the person wrote."""
    [feed] = parse_delivery(
        payloads.feed_comment(
            "1001",
            comment_id="5555_1",
            post_id="1001_5555",
            message="Numaram 0532 111 22 33",
            from_id="7001",
            from_name="Ayşe",
        )
    )
    [instagram] = parse_delivery(
        payloads.instagram_comment(
            "17841", "18000000001", "Numaram 0532 111 22 33", "IGSID_1", "ayse", "1790"
        )
    )
    for event in (feed, instagram):
        record = event.to_record()
        kept = social.without_words(record)
        assert "0532" not in json.dumps(kept, ensure_ascii=False)
        assert "0532" in json.dumps(record, ensure_ascii=False), "a copy"
        again = social.change_from_event(event_from_record(kept))
        before = social.change_from_event(event)
        assert again.text in (None, "")
        assert (again.comment_id, again.verb, again.event_at) == (
            before.comment_id,
            before.verb,
            before.event_at,
        )
    assert social.without_words({"item": "odd"}) == {"item": "odd"}
