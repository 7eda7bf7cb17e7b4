"""Custom Audiences: terms, customer-file audiences, their people, replace
sessions and lookalikes, over real HTTP (docs/meta-facts.md §7)."""

import hashlib
import json

import pytest

from meta_simulator.routes import audiences as audience_routes

MINUTE = 60


def sha(text: str) -> str:
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()


def email(n: int) -> str:
    return sha(f"kisi{n}@example.com.tr")


def phone(n: int) -> str:
    return sha(f"90532{n:07d}")


def multi(rows, schema=("EMAIL", "PHONE", "EXTERN_ID")) -> str:
    return json.dumps({"schema": list(schema), "data": rows})


def session(session_id, batch_seq, last, total=None) -> str:
    value = {
        "session_id": session_id,
        "batch_seq": batch_seq,
        "last_batch_flag": last,
    }
    if total is not None:
        value["estimated_num_total"] = total
    return json.dumps(value)


def error_of(answer):
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    return error["code"], error.get("error_subcode")


def ok(answer):
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def ads(simulator, user_graph):
    business = simulator.add_business("Ege Holding")
    account = simulator.add_ad_account("Ege Reklam", business["id"])
    other = simulator.add_ad_account("Yeni Hesap", business["id"])
    token = simulator.add_user_token(
        token_type="SYSTEM_USER", business_id=business["id"]
    )
    graph = user_graph.as_token(token)

    def create(name="Müşteriler", account_id=account["id"], **params):
        params.setdefault("subtype", "CUSTOM")
        params.setdefault("customer_file_source", "USER_PROVIDED_ONLY")
        answer = graph.post(f"{account_id}/customaudiences", name=name, **params)
        return ok(answer)["id"]

    return type(
        "Ads",
        (),
        {
            "sim": simulator,
            "graph": graph,
            "account": account["id"],
            "account_digits": account["account_id"],
            "other": other["id"],
            "business": business["id"],
            "create": staticmethod(create),
        },
    )


# --- terms (§7.1) --------------------------------------------------------------


def test_terms_flag_is_read_on_the_ad_account(ads):
    answer = ok(ads.graph.get(ads.account, fields="tos_accepted"))
    assert answer == {"tos_accepted": {"custom_audience_tos": 1}, "id": ads.account}
    ads.sim.set_custom_audience_tos(ads.account, False)
    assert ok(ads.graph.get(ads.account, fields="tos_accepted")) == {"id": ads.account}


def test_without_terms_creating_and_uploading_fail(ads):
    audience_id = ads.create()
    ads.sim.set_custom_audience_tos(ads.account, False)
    answer = ads.graph.post(
        f"{ads.account}/customaudiences",
        name="X",
        subtype="CUSTOM",
        customer_file_source="USER_PROVIDED_ONLY",
    )
    assert error_of(answer) == (200, 1870090)
    assert answer.json()["error"]["error_user_title"] == (
        "Custom Audience Terms Not Accepted"
    )
    upload = ads.graph.post(f"{audience_id}/users", payload=multi([[email(1), "", ""]]))
    assert error_of(upload) == (200, 1870090)
    # Reading still works; accepting again unblocks.
    ok(ads.graph.get(audience_id))
    ads.sim.set_custom_audience_tos(ads.account, True)
    ok(ads.graph.post(f"{audience_id}/users", payload=multi([[email(1), "", ""]])))


def test_add_ad_account_can_start_without_terms(simulator):
    account = simulator.add_ad_account("Taze", custom_audience_tos=False)
    assert simulator.store.ad_accounts[account["id"]].custom_audience_tos is False


# --- create, read, list, delete (§7.2) ------------------------------------------


def test_create_and_read_back(ads, clock):
    audience_id = ads.create("Sadık Müşteriler", description="CRM'den")
    fields = (
        "id,name,subtype,description,customer_file_source,"
        "approximate_count_lower_bound,approximate_count_upper_bound,"
        "operation_status,delivery_status,time_updated"
    )
    audience = ok(ads.graph.get(audience_id, fields=fields))
    assert audience["name"] == "Sadık Müşteriler"
    assert audience["subtype"] == "CUSTOM"
    assert audience["description"] == "CRM'den"
    assert audience["customer_file_source"] == "USER_PROVIDED_ONLY"
    assert audience["approximate_count_lower_bound"] == 1000
    assert audience["approximate_count_upper_bound"] == 1000
    assert audience["operation_status"]["code"] == 200
    assert audience["delivery_status"]["code"] == 300  # empty: too small
    assert audience["time_updated"] == int(clock.now())
    assert ok(ads.graph.get(audience_id)) == {"id": audience_id}


def test_list_is_paged_newest_first(ads, clock):
    ids = []
    for n in range(3):
        ids.append(ads.create(f"Liste {n}"))
        clock.advance(MINUTE)
    first = ok(ads.graph.get(f"{ads.account}/customaudiences", limit=2))
    assert [row["id"] for row in first["data"]] == ids[::-1][:2]
    after = first["paging"]["cursors"]["after"]
    second = ok(ads.graph.get(f"{ads.account}/customaudiences", limit=2, after=after))
    assert [row["id"] for row in second["data"]] == [ids[0]]
    assert "next" not in second.get("paging", {})
    assert ok(ads.graph.get(f"{ads.other}/customaudiences")) == {"data": []}


@pytest.mark.parametrize(
    "params",
    [
        {"customer_file_source": ""},
        {"customer_file_source": "FROM_A_FRIEND"},
        {"name": ""},
        {"subtype": "WEBSITE"},
    ],
)
def test_create_validates_parameters(ads, params):
    data = {
        "name": "Liste",
        "subtype": "CUSTOM",
        "customer_file_source": "USER_PROVIDED_ONLY",
        **params,
    }
    answer = ads.graph.post(f"{ads.account}/customaudiences", **data)
    assert error_of(answer)[0] == 100


def test_create_needs_ads_management_and_the_account(ads, simulator):
    reader = ads.graph.as_token(
        simulator.add_user_token(
            scopes=["ads_read"], token_type="SYSTEM_USER", business_id=ads.business
        )
    )
    answer = reader.post(
        f"{ads.account}/customaudiences",
        name="X",
        subtype="CUSTOM",
        customer_file_source="USER_PROVIDED_ONLY",
    )
    assert error_of(answer)[0] == 200
    audience_id = ads.create()
    ok(reader.get(audience_id, fields="name"))
    assert error_of(reader.delete(audience_id))[0] == 200
    stranger = ads.graph.as_token(simulator.add_user_token())
    assert error_of(stranger.get(audience_id)) == (100, 33)
    assert error_of(stranger.post(f"{ads.account}/customaudiences", name="X")) == (
        100,
        33,
    )


def test_account_holds_at_most_500_customer_file_audiences(ads, simulator):
    for n in range(500):
        simulator.add_custom_audience(ads.account, f"Liste {n}")
    answer = ads.graph.post(
        f"{ads.account}/customaudiences",
        name="Bir fazla",
        subtype="CUSTOM",
        customer_file_source="USER_PROVIDED_ONLY",
    )
    assert error_of(answer)[0] == 2654
    ads.create(account_id=ads.other)  # another account is not full


def test_delete_audience(ads):
    audience_id = ads.create()
    assert ok(ads.graph.delete(audience_id)) == {"success": True}
    assert error_of(ads.graph.get(audience_id)) == (100, 33)
    assert audience_id not in ads.sim.audience_ids(ads.account)


# --- people (§7.3) ---------------------------------------------------------------


def test_add_multi_key_rows_and_see_exactly_who_is_in(ads):
    audience_id = ads.create()
    rows = [
        [email(1), phone(1), "odoo-1"],
        [email(2), "", "odoo-2"],
        ["not-a-hash@example.com", phone(3), "odoo-3"],
        [email(4).upper(), "", ""],
        ["", "", ""],
    ]
    answer = ok(
        ads.graph.post(
            f"{audience_id}/users",
            payload=multi(rows),
            session=session(77, 1, True, total=5),
        )
    )
    assert answer == {
        "audience_id": audience_id,
        "session_id": 77,
        "num_received": 5,
        "num_invalid_entries": 3,
        "invalid_entry_samples": {
            "not-a-hash@example.com": "EMAIL",
            email(4).upper(): "EMAIL",
        },
    }
    assert ads.sim.audience_members(audience_id) == [
        {"EMAIL": email(1), "PHONE": phone(1), "EXTERN_ID": "odoo-1"},
        {"EMAIL": email(2), "EXTERN_ID": "odoo-2"},
    ]
    # The request log shows exactly what was sent.
    sent = [r for r in ads.sim.requests if r.path.endswith(f"{audience_id}/users")]
    assert sent[-1].json_param("payload") == {
        "schema": ["EMAIL", "PHONE", "EXTERN_ID"],
        "data": rows,
    }
    assert sent[-1].json_param("session")["estimated_num_total"] == 5
    info = ads.sim.audience(audience_id)
    assert info["schema_type"] == "MULTI_HASHES" and info["member_count"] == 2


def test_same_person_twice_is_one_member(ads):
    audience_id = ads.create()
    ok(ads.graph.post(f"{audience_id}/users", payload=multi([[email(1), "", ""]])))
    ok(
        ads.graph.post(
            f"{audience_id}/users", payload=multi([[email(1), phone(1), "odoo-1"]])
        )
    )
    assert ads.sim.audience_members(audience_id) == [
        {"EMAIL": email(1), "PHONE": phone(1), "EXTERN_ID": "odoo-1"}
    ]


def test_single_key_payload_and_the_schema_type_is_fixed(ads):
    single = ads.create("Tek anahtar")
    answer = ok(
        ads.graph.post(
            f"{single}/users",
            payload=json.dumps(
                {"schema": "EMAIL_SHA256", "data": [email(1), [email(2)]]}
            ),
        )
    )
    assert answer["num_received"] == 2 and answer["num_invalid_entries"] == 0
    assert isinstance(answer["session_id"], int)
    assert ads.sim.audience_members(single) == [
        {"EMAIL": email(1)},
        {"EMAIL": email(2)},
    ]
    refused = ads.graph.post(f"{single}/users", payload=multi([[email(3), "", ""]]))
    assert error_of(refused) == (2650, None)
    assert "FILE_IMPORTED.HASHES_OR_USER_IDS" in refused.json()["error"]["message"]

    multi_key = ads.create("Çok anahtar")
    ok(ads.graph.post(f"{multi_key}/users", payload=multi([[email(1), "", ""]])))
    refused = ads.graph.post(
        f"{multi_key}/users",
        payload=json.dumps({"schema": "EMAIL_SHA256", "data": [email(2)]}),
    )
    assert error_of(refused) == (2650, None)
    assert "FILE_IMPORTED.MULTI_HASHES" in refused.json()["error"]["message"]
    data_source = ok(ads.graph.get(multi_key, fields="data_source"))["data_source"]
    assert data_source == {"type": "FILE_IMPORTED", "sub_type": "MULTI_HASHES"}


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "not json",
        json.dumps({"schema": ["EMAIL", "SHOE_SIZE"], "data": [[email(1), "42"]]}),
        json.dumps({"schema": "EMAIL", "data": [email(1)]}),
        json.dumps({"schema": ["EMAIL", "PHONE"], "data": [[email(1)]]}),
        json.dumps({"schema": ["EMAIL"], "data": "x"}),
        json.dumps({"data": [[email(1)]]}),
    ],
)
def test_malformed_payloads_are_refused(ads, payload):
    audience_id = ads.create()
    params = {} if payload is None else {"payload": payload}
    assert error_of(ads.graph.post(f"{audience_id}/users", **params))[0] == 100
    assert ads.sim.audience_members(audience_id) == []


def test_at_most_10000_rows_a_request(ads):
    audience_id = ads.create()
    rows = [[f"odoo-{n}"] for n in range(10001)]
    too_many = ads.graph.post(
        f"{audience_id}/users", payload=multi(rows, schema=["EXTERN_ID"])
    )
    assert error_of(too_many)[0] == 100
    answer = ok(
        ads.graph.post(
            f"{audience_id}/users", payload=multi(rows[:10000], schema=["EXTERN_ID"])
        )
    )
    assert answer["num_received"] == 10000
    assert ads.sim.audience(audience_id)["member_count"] == 10000


def test_session_needs_last_batch_flag_and_closes(ads):
    audience_id = ads.create()
    no_flag = ads.graph.post(
        f"{audience_id}/users",
        payload=multi([[email(1), "", ""]]),
        session=json.dumps({"session_id": 5, "batch_seq": 1}),
    )
    assert error_of(no_flag)[0] == 100
    first = ok(
        ads.graph.post(
            f"{audience_id}/users",
            payload=multi([[email(1), "", ""]]),
            session=session(5, 1, False),
        )
    )
    last = ok(
        ads.graph.post(
            f"{audience_id}/users",
            payload=multi([[email(2), "", ""], ["bad", "", ""]]),
            session=session(5, 2, True),
        )
    )
    assert first["num_received"] == 1
    assert last["num_received"] == 3 and last["num_invalid_entries"] == 1
    again = ads.graph.post(
        f"{audience_id}/users",
        payload=multi([[email(3), "", ""]]),
        session=session(5, 3, True),
    )
    assert error_of(again) == (2650, 1870159)


def test_remove_people_and_by_extern_id_alone(ads):
    first = ads.create("Bir")
    second = ads.create("İki")
    ok(
        ads.graph.post(
            f"{first}/users",
            payload=multi([[email(1), phone(1), "odoo-1"], [email(2), "", "odoo-2"]]),
        )
    )
    # The second audience knows person 1 by e-mail only.
    ok(ads.graph.post(f"{second}/users", payload=multi([[email(1), "", ""]])))
    answer = ok(
        ads.graph.delete(
            f"{first}/users", payload=multi([["odoo-1"]], schema=["EXTERN_ID"])
        )
    )
    assert answer["num_received"] == 1
    assert ads.sim.audience_members(first) == [
        {"EMAIL": email(2), "EXTERN_ID": "odoo-2"}
    ]
    # EXTERN_ID is scoped to the ad account: it finds person 1 in the second too.
    ok(
        ads.graph.delete(
            f"{second}/users", payload=multi([["odoo-1"]], schema=["EXTERN_ID"])
        )
    )
    assert ads.sim.audience_members(second) == []


def test_remove_from_every_audience_of_the_account(ads):
    first, second = ads.create("Bir"), ads.create("İki")
    elsewhere = ads.create("Başka", account_id=ads.other)
    for audience_id in (first, second, elsewhere):
        ok(
            ads.graph.post(
                f"{audience_id}/users",
                payload=multi([[email(1), "", "odoo-1"], [email(2), "", "odoo-2"]]),
            )
        )
    answer = ads.graph.delete(
        f"{ads.account}/usersofanyaudience",
        payload=json.dumps({"schema": "EMAIL_SHA256", "data": [email(1)]}),
    )
    assert ok(answer) == {"success": True}
    for audience_id in (first, second):
        assert ads.sim.audience_members(audience_id) == [
            {"EMAIL": email(2), "EXTERN_ID": "odoo-2"}
        ]
    assert len(ads.sim.audience_members(elsewhere)) == 2


def test_sizes_are_coarse_and_follow_the_people(ads, simulator):
    small = simulator.add_custom_audience(
        ads.account, members=[{"EMAIL": email(n)} for n in range(150)]
    )
    big = simulator.add_custom_audience(
        ads.account, members=[{"EXTERN_ID": str(n)} for n in range(1234)]
    )
    fields = (
        "approximate_count_lower_bound,approximate_count_upper_bound,delivery_status"
    )
    small_view = ok(ads.graph.get(small["id"], fields=fields))
    assert small_view["approximate_count_lower_bound"] == 1000
    assert small_view["approximate_count_upper_bound"] == 1000
    assert small_view["delivery_status"]["code"] == 200
    big_view = ok(ads.graph.get(big["id"], fields=fields))
    assert big_view["approximate_count_lower_bound"] == 1200
    assert big_view["approximate_count_upper_bound"] == 1300
    ok(
        ads.graph.delete(
            f"{big['id']}/users",
            payload=multi([[str(n)] for n in range(100)], schema=["EXTERN_ID"]),
        )
    )
    view = ok(ads.graph.get(big["id"], fields=fields))
    assert view["approximate_count_lower_bound"] == 1100
    assert view["approximate_count_upper_bound"] == 1200
    assert simulator.audience(big["id"])["member_count"] == 1134


def test_flagged_audience_refuses_edits(ads, simulator):
    audience_id = ads.create()
    ok(ads.graph.post(f"{audience_id}/users", payload=multi([[email(1), "", ""]])))
    simulator.flag_audience(audience_id)
    status = ok(ads.graph.get(audience_id, fields="operation_status"))
    assert status["operation_status"]["code"] == 471
    for call in (ads.graph.post, ads.graph.delete):
        answer = call(f"{audience_id}/users", payload=multi([[email(2), "", ""]]))
        assert error_of(answer) == (100, 1713230)
        assert answer.json()["error"]["error_user_title"] == "Audience Upload Blocked"
    replace = ads.graph.post(
        f"{audience_id}/usersreplace",
        payload=multi([[email(2), "", ""]]),
        session=session(1, 1, True),
    )
    assert error_of(replace) == (100, 1713230)
    simulator.flag_audience(audience_id, code=200)
    ok(ads.graph.post(f"{audience_id}/users", payload=multi([[email(2), "", ""]])))


# --- replace (§7.4) --------------------------------------------------------------


def test_replace_swaps_the_people_when_the_session_closes(ads, simulator):
    audience_id = ads.create()
    ok(
        ads.graph.post(
            f"{audience_id}/users",
            payload=multi([[email(1), "", "odoo-1"], [email(2), "", "odoo-2"]]),
        )
    )
    first = ok(
        ads.graph.post(
            f"{audience_id}/usersreplace",
            payload=multi([[email(2), "", "odoo-2"], [email(3), "", "odoo-3"]]),
            session=session(900, 1, False, total=3),
        )
    )
    assert first["num_received"] == 2 and first["session_id"] == 900
    status = ok(ads.graph.get(audience_id, fields="operation_status"))
    assert status["operation_status"]["code"] == 300
    # Still the old people while the session runs.
    assert [m["EXTERN_ID"] for m in simulator.audience_members(audience_id)] == [
        "odoo-1",
        "odoo-2",
    ]
    busy = ads.graph.post(f"{audience_id}/users", payload=multi([[email(9), "", ""]]))
    assert error_of(busy) == (2650, 1870145)
    other = ads.graph.post(
        f"{audience_id}/usersreplace",
        payload=multi([[email(9), "", ""]]),
        session=session(901, 1, True),
    )
    assert error_of(other) == (2650, 1870145)
    last = ok(
        ads.graph.post(
            f"{audience_id}/usersreplace",
            payload=multi([[email(4), "", "odoo-4"]]),
            session=session(900, 2, True),
        )
    )
    assert last["num_received"] == 3
    assert [m["EXTERN_ID"] for m in simulator.audience_members(audience_id)] == [
        "odoo-2",
        "odoo-3",
        "odoo-4",
    ]
    status = ok(ads.graph.get(audience_id, fields="operation_status"))
    assert status["operation_status"]["code"] == 200
    finished = ads.graph.post(
        f"{audience_id}/usersreplace",
        payload=multi([[email(5), "", ""]]),
        session=session(900, 3, True),
    )
    assert error_of(finished) == (2650, 1870159)
    ok(ads.graph.post(f"{audience_id}/users", payload=multi([[email(5), "", ""]])))


def test_replace_needs_its_first_batch_and_one_schema(ads):
    audience_id = ads.create()
    missing = ads.graph.post(
        f"{audience_id}/usersreplace",
        payload=multi([[email(1), "", ""]]),
        session=session(10, 2, False),
    )
    assert error_of(missing) == (2650, 1870147)
    no_session = ads.graph.post(
        f"{audience_id}/usersreplace", payload=multi([[email(1), "", ""]])
    )
    assert error_of(no_session)[0] == 100
    ok(
        ads.graph.post(
            f"{audience_id}/usersreplace",
            payload=multi([[email(1), "", ""]]),
            session=session(10, 1, False),
        )
    )
    changed = ads.graph.post(
        f"{audience_id}/usersreplace",
        payload=multi([[email(2)]], schema=["EMAIL"]),
        session=session(10, 2, True),
    )
    assert error_of(changed)[0] == 2650


def test_replace_session_times_out_after_90_minutes(ads, simulator, clock):
    audience_id = ads.create()
    ok(ads.graph.post(f"{audience_id}/users", payload=multi([[email(1), "", ""]])))
    ok(
        ads.graph.post(
            f"{audience_id}/usersreplace",
            payload=multi([[email(2), "", ""]]),
            session=session(20, 1, False),
        )
    )
    clock.advance(89 * MINUTE)
    ok(
        ads.graph.post(
            f"{audience_id}/usersreplace",
            payload=multi([[email(3), "", ""]]),
            session=session(20, 2, False),
        )
    )
    clock.advance(MINUTE)
    late = ads.graph.post(
        f"{audience_id}/usersreplace",
        payload=multi([[email(4), "", ""]]),
        session=session(20, 3, True),
    )
    assert error_of(late) == (2650, 1870158)
    # The session closed with what it had received.
    assert simulator.audience_members(audience_id) == [
        {"EMAIL": email(2)},
        {"EMAIL": email(3)},
    ]
    info = simulator.audience(audience_id)
    assert info["replace_session"] is None
    assert info["sessions"][20]["ended_by"] == "timeout"
    assert info["operation_status"]["code"] == 200


# --- lookalikes (§7.6) -----------------------------------------------------------


@pytest.fixture
def seed(ads, simulator):
    return simulator.add_custom_audience(
        ads.account, "Tohum", members=[{"EMAIL": email(n)} for n in range(100)]
    )["id"]


def _lookalike(ads, seed_id, spec, name="Benzer"):
    return ads.graph.post(
        f"{ads.account}/customaudiences",
        name=name,
        subtype="LOOKALIKE",
        origin_audience_id=seed_id,
        lookalike_spec=json.dumps(spec),
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"type": "similarity", "country": "TR"},
            {"type": "similarity", "ratio": 0.01, "starting_ratio": 0, "country": "TR"},
        ),
        (
            {"ratio": 0.02, "starting_ratio": 0.01, "country": "TR"},
            {
                "type": "custom_ratio",
                "ratio": 0.02,
                "starting_ratio": 0.01,
                "country": "TR",
            },
        ),
        (
            {
                "ratio": 0.05,
                "location_spec": {"geo_locations": {"countries": ["TR", "AZ"]}},
            },
            {
                "type": "custom_ratio",
                "ratio": 0.05,
                "starting_ratio": 0,
                "location_spec": {"geo_locations": {"countries": ["TR", "AZ"]}},
            },
        ),
    ],
)
def test_lookalike_is_created_and_read_back(ads, seed, spec, expected):
    lookalike_id = ok(_lookalike(ads, seed, spec))["id"]
    view = ok(
        ads.graph.get(
            lookalike_id,
            fields="subtype,lookalike_spec,approximate_count_lower_bound,"
            "delivery_status",
        )
    )
    assert view["subtype"] == "LOOKALIKE"
    origin = view["lookalike_spec"].pop("origin")
    assert origin == [{"id": seed, "name": "Tohum", "type": "custom_audience"}]
    assert view["lookalike_spec"] == expected
    assert view["approximate_count_lower_bound"] > 100000
    assert view["delivery_status"]["code"] == 200
    seed_view = ok(ads.graph.get(seed, fields="lookalike_audience_ids"))
    assert seed_view["lookalike_audience_ids"] == [lookalike_id]
    # A lookalike takes no uploads.
    upload = ads.graph.post(
        f"{lookalike_id}/users", payload=multi([[email(1), "", ""]])
    )
    assert error_of(upload) == (2650, None)


@pytest.mark.parametrize(
    "spec",
    [
        {"ratio": 0.25, "country": "TR"},
        {"ratio": 0.015, "country": "TR"},
        {"ratio": 0.0, "country": "TR"},
        {"ratio": 0.02, "starting_ratio": 0.02, "country": "TR"},
        {"ratio": 0.02},
        {"ratio": 0.02, "country": "Türkiye"},
        {"country": "TR"},
        {"ratio": 0.02, "location_spec": {"geo_locations": {"countries": []}}},
    ],
)
def test_lookalike_spec_is_validated(ads, seed, spec):
    assert error_of(_lookalike(ads, seed, spec))[0] == 100


def test_lookalike_needs_a_seed_of_100_people(ads, simulator, seed):
    small = simulator.add_custom_audience(
        ads.account, members=[{"EMAIL": email(n)} for n in range(99)]
    )["id"]
    assert error_of(_lookalike(ads, small, {"ratio": 0.01, "country": "TR"}))[0] == (
        2654
    )
    missing = _lookalike(ads, "23800000000000000", {"ratio": 0.01, "country": "TR"})
    assert error_of(missing)[0] == 100
    lookalike_id = ok(_lookalike(ads, seed, {"ratio": 0.01, "country": "TR"}))["id"]
    of_lookalike = _lookalike(ads, lookalike_id, {"ratio": 0.01, "country": "TR"})
    assert error_of(of_lookalike)[0] == 100


def test_lookalike_of_a_flagged_seed_is_refused(ads, simulator, seed):
    simulator.flag_audience(seed)
    answer = _lookalike(ads, seed, {"ratio": 0.01, "country": "TR"})
    assert error_of(answer) == (100, 1713232)


def test_lookalikes_are_capped_per_account(ads, seed, monkeypatch):
    monkeypatch.setattr(audience_routes, "MAX_LOOKALIKES", 2)
    ok(_lookalike(ads, seed, {"ratio": 0.01, "country": "TR"}))
    ok(_lookalike(ads, seed, {"ratio": 0.02, "country": "TR"}))
    assert error_of(_lookalike(ads, seed, {"ratio": 0.03, "country": "TR"}))[0] == (
        2654
    )


# --- usage and throttling ----------------------------------------------------------


def test_audience_calls_count_in_the_ad_accounts_custom_audience_bucket(ads):
    audience_id = ads.create()
    answer = ads.graph.get(audience_id)
    usage = json.loads(answer.headers["X-Business-Use-Case-Usage"])
    (row,) = usage[ads.account_digits]
    assert row["type"] == "custom_audience"


def test_custom_audience_throttle_80003(ads, simulator):
    audience_id = ads.create()
    simulator.faults.throttle(code=80003, calls=1, page_id=ads.account_digits)
    answer = ads.graph.post(f"{audience_id}/users", payload=multi([[email(1), "", ""]]))
    assert error_of(answer) == (80003, None)
    assert answer.json()["error"]["is_transient"] is True
    usage = json.loads(answer.headers["X-Business-Use-Case-Usage"])
    (row,) = usage[ads.account_digits]
    assert row["type"] == "custom_audience" and row["call_count"] == 100
    assert simulator.audience_members(audience_id) == []
    ok(ads.graph.post(f"{audience_id}/users", payload=multi([[email(1), "", ""]])))
