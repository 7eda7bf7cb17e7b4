"""Custom Audiences operations against the simulator (real HTTP)."""

import pytest

from graph import audience as ca
from graph import audience_api as api
from graph.client import GraphClient
from graph.errors import GraphError

from ..conftest import APP_SECRET

SCHEMA = ["EMAIL", "PHONE", "FN", "COUNTRY", "EXTERN_ID"]


def person(n, **extra):
    return ca.person_row(
        SCHEMA,
        {
            "EMAIL": f"kisi{n}@example.com",
            "PHONE": f"0532 100 {n // 100:02d} {n % 100:02d}",
            "FN": "Ayşe",
            "COUNTRY": "TR",
            "EXTERN_ID": f"odoo-partner-{n}",
            **extra,
        },
        country="TR",
    )


@pytest.fixture
def ads(sim):
    business = sim.add_business("Ege Holding")
    account = sim.add_ad_account("Ege Reklam", business["id"])
    token = sim.add_user_token(token_type="SYSTEM_USER", business_id=business["id"])
    client = GraphClient(
        token, app_secret=APP_SECRET, base_url=sim.base_url, max_retries=0
    )
    return client, account["id"]


def session(seq=1, last=True, session_id=1790000000123):
    return {"session_id": session_id, "batch_seq": seq, "last_batch": last}


def test_terms_are_read_on_the_ad_account(sim, ads):
    client, account = ads
    assert api.terms_accepted(client, account)
    sim.set_custom_audience_tos(account, False)
    assert not api.terms_accepted(client, account)
    with pytest.raises(GraphError) as caught:
        api.create_audience(client, account, "Teklif verildi, kazanılmadı")
    assert api.explain(caught.value) == "terms_not_accepted"


def test_an_audience_gets_exactly_the_rows_sent_and_loses_the_ones_removed(sim, ads):
    client, account = ads
    audience_id = api.create_audience(client, account, "Teklif verildi, kazanılmadı")
    rows = [person(n) for n in range(1, 6)]
    result = api.add_users(client, audience_id, SCHEMA, rows, **session())
    assert (result.received, result.invalid) == (5, 0)
    members = sim.audience_members(audience_id)
    assert sorted(m["EXTERN_ID"] for m in members) == [
        f"odoo-partner-{n}" for n in range(1, 6)
    ]
    # what left the segment: removed by its row
    api.remove_users(client, audience_id, SCHEMA, rows[:2], **session(session_id=2))
    assert len(sim.audience_members(audience_id)) == 3
    # the request carried hashes only, never a readable e-mail
    sent = [r for r in sim.requests if r.path.endswith("/users")]
    assert "kisi1@example.com" not in str(sent[0].json_param("payload"))
    info = api.get_audience(client, audience_id)
    assert info.audience_id == audience_id and info.subtype == "CUSTOM"
    assert info.size_lower is not None and info.operation_code == 200


def test_a_replace_session_reloads_the_audience(sim, ads):
    client, account = ads
    audience_id = api.create_audience(client, account, "Müşteriler")
    api.add_users(client, audience_id, SCHEMA, [person(1), person(2)], **session())
    api.replace_users(client, audience_id, SCHEMA, [person(3)], **session(1, False, 42))
    api.replace_users(client, audience_id, SCHEMA, [person(4)], **session(2, True, 42))
    assert sorted(m["EXTERN_ID"] for m in sim.audience_members(audience_id)) == [
        "odoo-partner-3",
        "odoo-partner-4",
    ]


def test_the_schema_type_is_kept_for_life(sim, ads):
    client, account = ads
    audience_id = api.create_audience(client, account, "Müşteriler")
    api.add_users(client, audience_id, SCHEMA, [person(1)], **session())
    params = {"payload": '{"schema": "EMAIL_SHA256", "data": ["' + "a" * 64 + '"]}'}
    with pytest.raises(GraphError) as caught:
        client.post(
            f"{audience_id}/users",
            data={
                **params,
                "session": '{"session_id": 9, "batch_seq": 1, "last_batch_flag": true}',
            },
        )
    assert api.explain(caught.value) == "schema_type_changed"


def test_a_flagged_audience_is_explained(sim, ads):
    client, account = ads
    audience_id = api.create_audience(client, account, "Müşteriler")
    sim.flag_audience(audience_id)
    with pytest.raises(GraphError) as caught:
        api.add_users(client, audience_id, SCHEMA, [person(1)], **session())
    assert api.explain(caught.value) == "flagged"


def test_a_lookalike_of_an_audience(sim, ads):
    client, account = ads
    seed = api.create_audience(client, account, "Kazanılan müşteriler")
    rows = [person(n) for n in range(1, 121)]
    api.add_users(client, seed, SCHEMA, rows, **session())
    lookalike = api.create_lookalike(client, account, "Benzer %2", seed, ["TR"], 0.02)
    info = api.get_audience(client, lookalike)
    assert info.subtype == "LOOKALIKE"
    two = api.create_lookalike(
        client, account, "Benzer TR+AZ", seed, ["tr", "az"], 0.05
    )
    assert api.get_audience(client, two).subtype == "LOOKALIKE"


def test_explain_other_errors():
    assert api.explain(ValueError("x")) == "other"
    assert api.explain(GraphError("x", code=1)) == "other"


def test_a_new_row_of_a_person_leaves_the_old_email_until_a_removal_names_it(sim, ads):
    """Uploading never takes anyone out: Meta keeps whoever the old e-mail
    matched; the retired row (the old e-mail alone) removes it."""
    client, account = ads
    audience_id = api.create_audience(client, account, "Teklif verildi")
    old = person(1)
    new = person(1, EMAIL="ayse.yilmaz@example.com")
    api.add_users(client, audience_id, SCHEMA, [old], **session())
    api.add_users(client, audience_id, SCHEMA, [new], **session(session_id=2))
    assert sim.audience_finds(audience_id, "EMAIL", old[0])
    retired = ca.retired_row(SCHEMA, old, new)
    assert retired == [old[0], "", "", "", ""]
    api.remove_users(client, audience_id, SCHEMA, [retired], **session(session_id=3))
    api.add_users(client, audience_id, SCHEMA, [new], **session(session_id=4))
    assert not sim.audience_finds(audience_id, "EMAIL", old[0])
    assert sim.audience_finds(audience_id, "EMAIL", new[0])
    assert [m["EXTERN_ID"] for m in sim.audience_members(audience_id)] == [
        "odoo-partner-1"
    ]
