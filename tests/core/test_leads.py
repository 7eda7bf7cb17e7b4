"""Graph lead → NormalizedLead (docs/meta-facts.md §5.1–§5.3)."""

import copy
import json
import random
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from graph.errors import InvalidLeadError, MalformedPayloadError
from graph.leads import (
    CANONICAL_FIELDS,
    MAX_FIELDS,
    MAX_VALUE_LENGTH,
    MAX_VALUES,
    STANDARD_FIELDS,
    Answer,
    Consent,
    NormalizedLead,
    humanize_key,
    normalize_country,
    normalize_email,
    normalize_lead,
)

SAMPLES = Path(__file__).parent / "samples"


def load(name):
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture
def lead():
    return load("lead_5_1.json")


@pytest.fixture
def form():
    return load("form_3333.json")


def make_lead(*fields, **extra):
    """A minimal valid lead with ``fields`` as (name, values) pairs."""
    return {
        "id": "1",
        "field_data": [{"name": name, "values": values} for name, values in fields],
        **extra,
    }


def custom_answers(result):
    """The answers to questions that are not a standard field."""
    return tuple(answer for answer in result.answers if answer.field is None)


def norm(*fields, questions=None, **kwargs):
    return normalize_lead(make_lead(*fields), questions, **kwargs)


# ---------------------------------------------------------------- §5.1 example


def test_reference_lead_without_form(lead):
    result = normalize_lead(lead)
    assert isinstance(result, NormalizedLead)
    assert result.lead_id == "900000000000001"
    assert result.form_id == "3333"
    assert result.page_id is None
    assert result.created_time == datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
    assert (result.ad_id, result.adset_id, result.campaign_id) == (
        "4444",
        "4440",
        "4400",
    )
    assert result.ad_name is None
    assert result.platform == "instagram"
    assert result.is_organic is False
    assert result.full_name == "Ayşe Yılmaz"
    assert (result.first_name, result.last_name) == ("Ayşe", "Yılmaz")
    assert result.email == result.email_raw == "ayse@example.com"
    assert result.phone == result.phone_raw == "+905321234567"
    assert [a.key for a in result.answers] == [
        "full_name",
        "email",
        "phone_number",
        "hangi_hizmet_ile_ilgileniyorsunuz?",
    ]
    custom = custom_answers(result)
    assert len(custom) == 1
    assert custom[0].label == "Hangi hizmet ile ilgileniyorsunuz?"
    assert custom[0].values == ("kurumsal_paket",)  # no form: the key as is
    assert custom[0].question_type is None
    assert result.consents == (
        Consent("kvkk_pazarlama", "Kvkk pazarlama", True),
        Consent("optional_2", "Optional 2", False),
    )


def test_reference_lead_with_form(lead, form):
    result = normalize_lead(
        lead,
        form["questions"],
        locale=form["locale"],
        checkboxes=form["legal_content"]["custom_disclaimer"]["checkboxes"],
    )
    labels = [(a.label, a.field, a.question_type) for a in result.answers]
    assert labels == [
        ("Ad soyad", "full_name", "FULL_NAME"),
        ("E-posta", "email", "EMAIL"),
        ("Telefon numarası", "phone", "PHONE"),
        ("Hangi hizmet ile ilgileniyorsunuz?", None, "CUSTOM"),
    ]
    service = custom_answers(result)[0]
    assert service.values == ("Kurumsal paket",)
    assert service.raw_values == ("kurumsal_paket",)
    assert service.value == "Kurumsal paket"
    assert [(c.label, c.checked) for c in result.consents] == [
        ("Pazarlama amaçlı iletişim için açık rıza veriyorum.", True),
        ("Ortaklarla paylaşım", False),
    ]


def test_to_dict_is_json_serialisable(lead, form):
    lead["field_data"].append({"name": "date_of_birth", "values": ["1990-05-17"]})
    data = normalize_lead(lead, form["questions"]).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["created_time"] == "2026-10-01T12:00:00+00:00"
    assert data["date_of_birth"] == "1990-05-17"
    assert data["answers"][3] == {
        "key": "hangi_hizmet_ile_ilgileniyorsunuz?",
        "label": "Hangi hizmet ile ilgileniyorsunuz?",
        "values": ["Kurumsal paket"],
        "raw_values": ["kurumsal_paket"],
        "question_type": "CUSTOM",
        "field": None,
    }
    assert data["consents"][0] == {
        "key": "kvkk_pazarlama",
        "label": "Kvkk pazarlama",
        "checked": True,
    }
    assert set(data) == {
        f for f in NormalizedLead.__dataclass_fields__
    }  # every field, nothing else


def test_dataclasses_are_frozen(lead):
    result = normalize_lead(lead)
    with pytest.raises(AttributeError):
        result.email = "x@example.com"
    with pytest.raises(AttributeError):
        result.answers[0].values = ()


def test_answer_raw_values_default_to_values():
    answer = Answer("k", "K", ("a", "b"), "CUSTOM")
    assert answer.raw_values == ("a", "b")
    assert answer.field is None


# ------------------------------------------------------ standard field mapping


def test_standard_fields_constant():
    assert set(STANDARD_FIELDS.values()) == set(CANONICAL_FIELDS)
    for key in ("email", "phone_number", "zip_code", "post_code", "province"):
        assert key in STANDARD_FIELDS
    for qtype in ("EMAIL", "PHONE", "DOB", "WORK_PHONE_NUMBER", "POST_CODE"):
        assert qtype in STANDARD_FIELDS
    with pytest.raises(TypeError):
        STANDARD_FIELDS["x"] = "y"  # read-only


def test_custom_keys_for_standard_types():
    questions = [
        {"key": "adiniz", "label": "Adınız", "type": "FULL_NAME"},
        {"key": "eposta_adresi", "label": "E-posta", "type": "EMAIL"},
        {"key": "cep", "label": "Cep telefonu", "type": "phone"},
        {"key": "sehir", "label": "Şehir", "type": "CITY"},
        {"key": "firma", "label": "Firma", "type": "COMPANY_NAME"},
        {"key": "ulke", "label": "Ülke", "type": "COUNTRY"},
        {"key": "email", "label": "Not an email", "type": "CUSTOM"},
    ]
    result = norm(
        ("adiniz", ["MEHMET ÖZ"]),
        ("eposta_adresi", ["Mehmet@Example.COM"]),
        ("cep", ["0532 123 45 67"]),
        ("sehir", ["İstanbul"]),
        ("firma", ["Öz Ltd."]),
        ("ulke", ["Türkiye"]),
        ("email", ["ikinci@example.com"]),  # CUSTOM type, standard key
        questions=questions,
        locale="tr_TR",
    )
    assert result.full_name == "Mehmet Öz"
    assert result.email == "mehmet@example.com"
    assert result.email_raw == "Mehmet@Example.COM"
    assert result.phone == "+905321234567"
    assert result.city == "İstanbul"
    assert result.company == "Öz Ltd."
    assert result.country_code == "TR"
    assert custom_answers(result) == ()
    assert [a.field for a in result.answers] == [
        "full_name",
        "email",
        "phone",
        "city",
        "company",
        "country",
        "email",
    ]


def test_all_standard_keys():
    result = norm(
        ("first_name", ["Ayşe"]),
        ("last_name", ["Yılmaz"]),
        ("company_name", ["  Acme   A.Ş. "]),
        ("job_title", ["CEO"]),
        ("street_address", ["Bağdat Cd.\nNo: 5"]),
        ("city", ["Kadıköy"]),
        ("province", ["İstanbul"]),
        ("post_code", ["34710"]),
        ("country", ["TR"]),
        ("date_of_birth", ["17.05.1990"]),
        ("gender", ["Kadın"]),
    )
    assert result.full_name == "Ayşe Yılmaz"
    assert result.company == "Acme A.Ş."
    assert result.job_title == "CEO"
    assert result.street == "Bağdat Cd. No: 5"
    assert (result.city, result.state, result.zip) == ("Kadıköy", "İstanbul", "34710")
    assert result.country_code == result.country_raw == "TR"
    assert result.date_of_birth == date(1990, 5, 17)
    assert result.gender == "female"
    assert result.email is result.email_raw is None
    assert result.phone is result.phone_raw is None


@pytest.mark.parametrize("key", ["zip_code", "zip", "post_code"])
def test_zip_keys(key):
    assert norm((key, ["z:06100"])).zip == "06100"


@pytest.mark.parametrize("key", ["state", "province"])
def test_state_keys(key):
    assert norm((key, ["Ankara"])).state == "Ankara"


# ------------------------------------------------------- email / phone rules


def test_email_falls_back_to_work_email():
    result = norm(("work_email", ["ayse@firma.com.tr"]), ("email", ["not-an-email"]))
    assert result.email == "ayse@firma.com.tr"
    assert result.email_raw == "ayse@firma.com.tr"


def test_personal_email_wins_over_work_email():
    result = norm(("work_email", ["ayse@firma.com.tr"]), ("email", ["Ayse@Ev.com "]))
    assert result.email == "ayse@ev.com"


def test_bad_email_keeps_raw():
    result = norm(("email", ["ayse at example"]))
    assert result.email is None
    assert result.email_raw == "ayse at example"


def test_phone_falls_back_to_work_phone():
    result = norm(("phone_number", ["12"]), ("work_phone_number", ["0212 555 12 34"]))
    assert result.phone == "+902125551234"
    assert result.phone_raw == "0212 555 12 34"


def test_garbage_phone_keeps_raw():
    result = norm(("phone_number", ["bilmiyorum"]))
    assert result.phone is None
    assert result.phone_raw == "bilmiyorum"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("0532 123 45 67", "TR", "+905321234567"),
        ("030 123456", "DE", "+4930123456"),
        ("030 123456", "TR", None),
    ],
)
def test_phone_default_region(raw, region, expected):
    assert norm(("phone_number", [raw]), default_region=region).phone == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ayse@example.com", "ayse@example.com"),
        ("  AYSE@EXAMPLE.COM ", "ayse@example.com"),
        ("mailto:Ayse@Example.com", "ayse@example.com"),
        ("AYŞE.İNCE@örnek.com.tr", "ayşe.ince@örnek.com.tr"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
        ("ayse@example", None),
        ("ayse@example.c", None),
        ("ayse@@example.com", None),
        ("ayse @example.com", None),
        ("@example.com", None),
        ("ayse@.example.com", None),
        ("ayse@example..com", None),
        ("ayse@example.123", None),
        ("a" * 65 + "@example.com", None),
        ("a@" + "b" * 250 + ".com", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


# ----------------------------------------------------------- csv prefixes


def test_csv_prefixes_stripped_from_standard_fields():
    result = norm(
        ("phone_number", ["p:+905321234567"]),
        ("email", ["e:ayse@example.com"]),
        ("zip_code", ["z:34000"]),
        ("city", ["c:İzmir"]),
    )
    assert result.phone == "+905321234567"
    assert result.phone_raw == "+905321234567"
    assert result.email == "ayse@example.com"
    assert result.zip == "34000"
    assert result.city == "İzmir"
    assert result.answers[0].values == ("+905321234567",)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("p:", None),  # prefix without data is not stripped: "p:" stays, no zip
        ("a: b", "a: b"),
        ("P:34000", "P:34000"),  # upper-case letters are not export prefixes
        ("ab:34000", "ab:34000"),
    ],
)
def test_csv_prefix_needs_lowercase_letter_and_data(raw, expected):
    result = norm(("zip_code", [raw]))
    assert result.zip == (expected if expected is not None else raw)


def test_csv_prefix_kept_in_custom_answers():
    result = norm(("notunuz", ["a:b"]))
    assert custom_answers(result)[0].values == ("a:b",)


# ------------------------------------------------------- multiple choice


def test_multiple_choice_option_key_to_label():
    questions = [
        {
            "key": "butce",
            "label": "Bütçeniz?",
            "type": "CUSTOM",
            "options": [
                {"key": "0_10k", "value": "0 – 10.000 TL"},
                {"key": "10k_plus", "value": "10.000 TL üzeri"},
            ],
        }
    ]
    answer = norm(("butce", ["10k_plus"]), questions=questions).answers[0]
    assert answer.label == "Bütçeniz?"
    assert answer.values == ("10.000 TL üzeri",)
    assert answer.raw_values == ("10k_plus",)


def test_multi_select_keeps_every_value_in_order():
    questions = [
        {
            "key": "ilgi_alanlari",
            "label": "İlgi alanları",
            "options": [
                {"key": "web", "value": "Web sitesi"},
                {"key": "seo", "value": "SEO"},
                {"key": "ads", "value": ""},  # empty label: key is kept
                {"key": 7, "value": "Seven"},
                {"key": "", "value": "ignored"},
                {"key": ["x"], "value": "ignored"},
                "not an option",
            ],
        }
    ]
    answer = norm(
        ("ilgi_alanlari", ["seo", "web", "ads", "7", "other", "", None]),
        questions=questions,
    ).answers[0]
    assert answer.values == ("SEO", "Web sitesi", "ads", "Seven", "other")
    assert answer.raw_values == ("seo", "web", "ads", "7", "other")
    assert answer.value == "SEO, Web sitesi, ads, Seven, other"
    assert answer.question_type is None


def test_empty_values_give_empty_answer():
    result = norm(("email", []), ("notunuz", ["", "   "]))
    assert result.answers[0].values == ()
    assert result.answers[1].values == ()
    assert result.email is None


# ------------------------------------------------------------------ consents


@pytest.mark.parametrize(
    ("is_checked", "expected"),
    [
        ("1", True),
        ("", False),
        ("0", False),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        (" TRUE ", True),
        ("yes", True),
        ("false", False),
        (None, False),
        ({"x": 1}, False),
    ],
)
def test_consent_checked_values(is_checked, expected):
    lead = make_lead(
        custom_disclaimer_responses=[{"checkbox_key": "kvkk", "is_checked": is_checked}]
    )
    assert normalize_lead(lead).consents == (Consent("kvkk", "Kvkk", expected),)


def test_consents_malformed_items_are_skipped():
    lead = make_lead(
        custom_disclaimer_responses=[
            "x",
            None,
            {"is_checked": "1"},
            {"checkbox_key": {"a": 1}, "is_checked": "1"},
            {"key": "alt_key", "is_checked": "1"},
            {"checkbox_key": 12, "is_checked": "1"},
        ]
    )
    consents = normalize_lead(lead).consents
    assert [(c.key, c.checked) for c in consents] == [("alt_key", True), ("12", True)]


@pytest.mark.parametrize("responses", [None, "1", {"checkbox_key": "a"}, 5])
def test_consents_not_a_list_are_ignored(responses):
    lead = make_lead(custom_disclaimer_responses=responses)
    assert normalize_lead(lead).consents == ()


def test_consent_labels_from_questions_or_checkboxes():
    lead = make_lead(
        custom_disclaimer_responses=[
            {"checkbox_key": "a", "is_checked": "1"},
            {"checkbox_key": "b", "is_checked": "1"},
            {"checkbox_key": "c", "is_checked": "1"},
        ]
    )
    result = normalize_lead(
        lead,
        [{"key": "a", "label": "From questions"}],
        checkboxes=[{"key": "b", "text": "From checkboxes"}, {"key": "c"}, "junk"],
    )
    assert [c.label for c in result.consents] == [
        "From questions",
        "From checkboxes",
        "C",
    ]


# -------------------------------------------------------- platform / organic


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("fb", "facebook"),
        ("FB", "facebook"),
        ("facebook", "facebook"),
        (" Facebook ", "facebook"),
        ("ig", "instagram"),
        ("IG", "instagram"),
        ("instagram", "instagram"),
        ("messenger", None),
        ("", None),
        (None, None),
        (1, None),
    ],
)
def test_platform_mapping(platform, expected):
    assert normalize_lead(make_lead(platform=platform)).platform == expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"is_organic": True, "ad_id": "4444"}, True),
        ({"is_organic": False}, False),
        ({"is_organic": "true"}, True),
        ({"is_organic": "false", "ad_id": "4444"}, False),
        ({"is_organic": 1}, True),
        ({}, True),  # no flag, no ad: organic/test lead (§4.5)
        ({"ad_id": "4444"}, False),
        ({"ad_id": 4444}, False),
    ],
)
def test_is_organic(extra, expected):
    assert normalize_lead(make_lead(**extra)).is_organic is expected


# ---------------------------------------------------------------------- ids


def test_numeric_ids_become_strings():
    lead = make_lead(
        id=900000000000001,
        form_id=3333,
        page_id=1111,
        ad_id=4444,
        adset_id=4440,
        campaign_id=4400,
    )
    result = normalize_lead(lead)
    assert result.lead_id == "900000000000001"
    assert (result.form_id, result.page_id, result.ad_id) == ("3333", "1111", "4444")
    assert (result.adset_id, result.campaign_id) == ("4440", "4400")


@pytest.mark.parametrize("bad", [None, "", "   ", True, 1.5, {"id": 1}, [1]])
def test_unusable_secondary_ids_become_none(bad):
    assert normalize_lead(make_lead(form_id=bad)).form_id is None


def test_ad_and_campaign_names():
    lead = make_lead(
        ad_name="  Yaz\u00a0kampanyası  ",
        adset_name="Set\x00 1",
        campaign_name={"x": 1},
    )
    result = normalize_lead(lead)
    assert result.ad_name == "Yaz kampanyası"
    assert result.adset_name == "Set 1"
    assert result.campaign_name is None


# ------------------------------------------------------------- created_time


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-10-01T12:00:00+0000", datetime(2026, 10, 1, 12, tzinfo=timezone.utc)),
        ("2026-10-01T12:00:00Z", datetime(2026, 10, 1, 12, tzinfo=timezone.utc)),
        (
            "2026-10-01T12:00:00.5z",
            datetime(2026, 10, 1, 12, 0, 0, 500000, tzinfo=timezone.utc),
        ),
        ("2026-10-01T14:00:00-0200", datetime(2026, 10, 1, 16, tzinfo=timezone.utc)),
        (
            "2026-10-01T12:00:00.1234567+00:00",
            datetime(2026, 10, 1, 12, 0, 0, 123456, tzinfo=timezone.utc),
        ),
        (
            "2026-10-01T12:00:00.123+0000",
            datetime(2026, 10, 1, 12, 0, 0, 123000, tzinfo=timezone.utc),
        ),
        ("2026-10-01T15:00:00+03:00", datetime(2026, 10, 1, 12, tzinfo=timezone.utc)),
        ("2026-10-01T12:00:00", datetime(2026, 10, 1, 12, tzinfo=timezone.utc)),
        ("2026-10-01", datetime(2026, 10, 1, tzinfo=timezone.utc)),
        (1790000000, datetime.fromtimestamp(1790000000, timezone.utc)),
        (1790000000.5, datetime.fromtimestamp(1790000000.5, timezone.utc)),
        ("1790000000", datetime.fromtimestamp(1790000000, timezone.utc)),
        (1790000000123, datetime.fromtimestamp(1790000000.123, timezone.utc)),  # ms
        ("yesterday", None),
        ("", None),
        (None, None),
        (True, None),
        ([1790000000], None),
        (10**30, None),
        (10**400, None),
        (float("nan"), None),
        ("0001-01-01T00:00:00+01:00", None),
        ("9" * 100, None),
    ],
)
def test_created_time(raw, expected):
    result = normalize_lead(make_lead(created_time=raw)).created_time
    assert result == expected
    if result is not None:
        assert result.tzinfo is timezone.utc


# -------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("fields", "locale", "expected"),
    [
        (
            [("full_name", ["AYŞE NUR YILMAZ"])],
            None,
            ("Ayşe Nur Yılmaz", "Ayşe Nur", "Yılmaz"),
        ),
        ([("full_name", ["ibrahim ışık"])], None, ("İbrahim Işık", "İbrahim", "Işık")),
        ([("full_name", ["AYDIN KAYA"])], "tr_TR", ("Aydın Kaya", "Aydın", "Kaya")),
        ([("full_name", ["JOHN SMITH"])], "en_US", ("John Smith", "John", "Smith")),
        ([("full_name", ["JOHN SMITH"])], None, ("John Smith", "John", "Smith")),
        ([("full_name", ["Cher"])], None, ("Cher", "Cher", None)),
        (
            [("first_name", ["ayşe"]), ("last_name", ["YILMAZ"])],
            None,
            ("Ayşe Yılmaz", "Ayşe", "Yılmaz"),
        ),
        ([("first_name", ["Ayşe"])], None, ("Ayşe", "Ayşe", None)),
        ([("last_name", ["Yılmaz"])], None, ("Yılmaz", None, "Yılmaz")),
        (
            [("full_name", ["Ayşe Nur Yılmaz"]), ("first_name", ["Ayşe Nur"])],
            None,
            ("Ayşe Nur Yılmaz", "Ayşe Nur", "Yılmaz"),
        ),
        (
            [("full_name", ["Ayşe Nur Yılmaz"]), ("last_name", ["Nur Yılmaz"])],
            None,
            ("Ayşe Nur Yılmaz", "Ayşe", "Nur Yılmaz"),
        ),
        (  # inconsistent parts: fall back to splitting the full name
            [("full_name", ["Ayşe Yılmaz"]), ("first_name", ["Fatma"])],
            None,
            ("Ayşe Yılmaz", "Fatma", "Yılmaz"),
        ),
        (
            [("full_name", ["Ayşe Nur Yılmaz"]), ("first_name", ["Ayşe"])],
            None,
            ("Ayşe Nur Yılmaz", "Ayşe", "Nur Yılmaz"),
        ),
        (  # no word boundary: "Ay" is not a prefix word of "Ayşe"
            [("full_name", ["Ayşe Yılmaz"]), ("first_name", ["Ay"])],
            None,
            ("Ayşe Yılmaz", "Ay", "Yılmaz"),
        ),
        (
            [("full_name", ["Ayşe Yılmaz"]), ("last_name", ["maz"])],
            None,
            ("Ayşe Yılmaz", "Ayşe", "Maz"),
        ),
        (
            [("full_name", ["Ayşe Yılmaz"]), ("last_name", ["Kaya"])],
            None,
            ("Ayşe Yılmaz", "Ayşe", "Kaya"),
        ),
        (
            [("full_name", ["Cher"]), ("first_name", ["Cher"])],
            None,
            ("Cher", "Cher", None),
        ),
        (
            [
                ("full_name", ["Ayşe Yılmaz"]),
                ("first_name", ["A"]),
                ("last_name", ["Y"]),
            ],
            None,
            ("Ayşe Yılmaz", "A", "Y"),
        ),
        ([("full_name", ["   "])], None, (None, None, None)),
        ([], None, (None, None, None)),
        ([("full_name", ["McDonald"])], "tr_TR", ("McDonald", "McDonald", None)),
    ],
)
def test_names(fields, locale, expected):
    result = norm(*fields, locale=locale)
    assert (result.full_name, result.first_name, result.last_name) == expected


# ----------------------------------------------------------------- countries


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("TR", "TR"),
        ("tr", "TR"),
        ("Türkiye", "TR"),
        ("TÜRKİYE", "TR"),
        ("turkiye", "TR"),
        ("Turkey", "TR"),
        ("Türkiye Cumhuriyeti", "TR"),
        ("Almanya", "DE"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("DE", "DE"),
        ("United States", "US"),
        ("U.S.A.", "US"),
        ("ABD", "US"),
        ("UK", "GB"),
        ("İngiltere", "GB"),
        ("Hollanda", "NL"),
        ("Azerbaycan", "AZ"),
        ("KKTC", None),
        ("XX", None),
        ("Narnia", None),
        ("", None),
        (None, None),
        (90, None),
    ],
)
def test_normalize_country(raw, expected):
    assert normalize_country(raw) == expected


def test_unknown_country_keeps_raw():
    result = norm(("country", ["Narnia"]))
    assert result.country_code is None
    assert result.country_raw == "Narnia"


# --------------------------------------------------------- dob / gender


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1990-05-17", date(1990, 5, 17)),
        ("1990/05/17", date(1990, 5, 17)),
        ("1990-05-17T00:00:00", date(1990, 5, 17)),
        ("17.05.1990", date(1990, 5, 17)),
        ("17/05/1990", date(1990, 5, 17)),
        ("05/17/1990", date(1990, 5, 17)),
        ("05/05/1990", date(1990, 5, 5)),
        ("03/04/1990", None),  # ambiguous
        ("1990-02-30", None),
        ("1850-01-01", None),
        ("2999-01-01", None),
        ("yesterday", None),
    ],
)
def test_date_of_birth(raw, expected):
    assert norm(("date_of_birth", [raw])).date_of_birth == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("male", "male"),
        ("Female", "female"),
        ("M", "male"),
        ("f", "female"),
        ("Erkek", "male"),
        ("KADIN", "female"),
        ("Kadın", "female"),
        ("other", None),
    ],
)
def test_gender(raw, expected):
    assert norm(("gender", [raw])).gender == expected


# ---------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("key", "locale", "expected"),
    [
        (
            "hangi_hizmet_ile_ilgileniyorsunuz?",
            None,
            "Hangi hizmet ile ilgileniyorsunuz?",
        ),
        ("ilce", "tr_TR", "İlce"),
        ("ilce", None, "Ilce"),
        ("__a__b__", None, "A b"),
        ("___", None, ""),
        ("full_name", None, "Full name"),
    ],
)
def test_humanize_key(key, locale, expected):
    assert humanize_key(key, locale) == expected


def test_label_falls_back_to_key_when_humanized_label_is_empty():
    assert norm(("___", ["x"])).answers[0].label == "___"


# ---------------------------------------------------- untrusted content


def test_control_characters_are_stripped():
    result = norm(
        ("notunuz", ["a\x00b\x1bc\td\r\ne\u202ef\ud800g\x7f\x85h"]),
        ("full_name", ["Ayşe\x00 Yılmaz"]),
    )
    assert result.answers[0].values == ("abc\td\nefgh",)
    assert result.full_name == "Ayşe Yılmaz"


def test_values_are_capped():
    huge = "x" * (MAX_VALUE_LENGTH * 10)
    result = norm(("notunuz", [huge]), ("city", [huge]))
    assert len(result.answers[0].values[0]) == MAX_VALUE_LENGTH
    assert len(result.city) == MAX_VALUE_LENGTH


def test_number_of_values_and_fields_is_capped():
    lead = make_lead(
        *[(f"q{i}", ["v"] * (MAX_VALUES + 5)) for i in range(MAX_FIELDS + 5)]
    )
    result = normalize_lead(lead)
    assert len(result.answers) == MAX_FIELDS
    assert len(result.answers[0].values) == MAX_VALUES


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (34000, "34000"),
        (34000.0, "34000"),
        (1.5, "1.5"),
        (float("inf"), ""),
        (True, "true"),
        (False, "false"),
    ],
)
def test_scalar_values_become_strings(value, expected):
    values = norm(("notunuz", [value])).answers[0].values
    assert values == ((expected,) if expected else ())


def test_giant_int_value_is_dropped():
    assert norm(("notunuz", [10**5000])).answers[0].values == ()


def test_long_and_odd_keys():
    result = norm(("k" * 1000, ["v"]), (12, ["v"]))
    assert len(result.answers[0].key) == 255
    assert result.answers[1].key == "12"


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("lead", "message"),
    [
        (None, "lead must be a JSON object, not NoneType"),
        ([], "lead must be a JSON object, not list"),
        ("lead", "lead must be a JSON object, not str"),
        ({}, "lead has no id"),
        ({"id": ""}, "lead has no id"),
        ({"id": None, "field_data": []}, "lead has no id"),
        ({"id": True, "field_data": []}, "lead has no id"),
        ({"id": 1.0, "field_data": []}, "lead has no id"),
        ({"id": {"a": 1}, "field_data": []}, "lead has no id"),
        ({"id": "1"}, "lead 1: field_data must be a list, not NoneType"),
        ({"id": "1", "field_data": {}}, "lead 1: field_data must be a list, not dict"),
        ({"id": "1", "field_data": ["x"]}, "field_data[0] is not an object"),
        ({"id": "1", "field_data": [{"values": []}]}, "field_data[0] has no name"),
        ({"id": "1", "field_data": [{"name": "", "values": []}]}, "has no name"),
        ({"id": "1", "field_data": [{"name": None, "values": []}]}, "has no name"),
        ({"id": "1", "field_data": [{"name": ["a"], "values": []}]}, "has no name"),
        (
            {"id": "1", "field_data": [{"name": "a", "values": []}, {"name": "b"}]},
            "field_data[1] ('b'): values must be a list of scalars",
        ),
        (
            {"id": "1", "field_data": [{"name": "a", "values": "x"}]},
            "values must be a list of scalars",
        ),
        (
            {"id": "1", "field_data": [{"name": "a", "values": [["x"]]}]},
            "values must be a list of scalars",
        ),
        (
            {"id": "1", "field_data": [{"name": "a", "values": [{"x": 1}]}]},
            "values must be a list of scalars",
        ),
    ],
)
def test_invalid_leads(lead, message):
    with pytest.raises(InvalidLeadError, match=re.escape(message)):
        normalize_lead(lead)


def test_invalid_lead_error_is_a_malformed_payload():
    with pytest.raises(MalformedPayloadError):
        normalize_lead({"id": "1"})
    with pytest.raises(ValueError):
        normalize_lead({"id": "1"})


@pytest.mark.parametrize(
    "questions",
    [
        None,
        [],
        "questions",
        {"key": "email"},
        [None, 1, "x", []],
        [{"key": None}, {"key": ["a"]}, {"label": "no key"}],
        [{"key": "notunuz", "label": {"x": 1}, "type": ["EMAIL"], "options": "x"}],
        [{"key": "notunuz", "label": 5, "type": 5, "options": [{"key": "a"}]}],
    ],
)
def test_hostile_questions_never_raise(questions):
    result = norm(("notunuz", ["a"]), questions=questions)
    answer = result.answers[0]
    assert answer.values == ("a",)
    assert answer.field is None


def test_question_label_number_is_text():
    questions = [{"key": "notunuz", "label": 5, "type": 5}]
    answer = norm(("notunuz", ["a"]), questions=questions).answers[0]
    assert answer.label == "5"
    assert answer.question_type is None


# ------------------------------------------------ property-style fuzzing


def _random_scalar(rng):
    return rng.choice(
        [
            None,
            True,
            False,
            rng.randint(-(10**20), 10**20),
            rng.random() * 10 ** rng.randint(-5, 30),
            float("nan"),
            "",
            "p:+905321234567",
            "İSTANBUL",
            "0532 123 45 67",
            "ayse@example.com",
            "2026-10-01T12:00:00+0000",
            "\x00\ud800\u202e" * rng.randint(1, 5),
            "x" * rng.randint(0, 20000),
            "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 50))),
        ]
    )


def _random_json(rng, depth=0):
    kind = rng.randint(0, 3 if depth < 4 else 0)
    if kind == 0:
        return _random_scalar(rng)
    if kind == 1:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = [
        "id",
        "name",
        "values",
        "key",
        "label",
        "type",
        "options",
        "value",
        "checkbox_key",
        "is_checked",
        "field_data",
        "created_time",
        "platform",
        "is_organic",
    ]
    return {
        rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))
    }


def _random_lead(rng):
    """Mostly well-formed leads with hostile leaves, so the deep code runs."""
    names = [*STANDARD_FIELDS, "custom_q", 7, None, ""]
    lead = {
        "id": rng.choice(["1", 1, None, "", _random_scalar(rng)]),
        "field_data": [
            {
                "name": rng.choice(names),
                "values": [_random_scalar(rng) for _ in range(rng.randint(0, 3))]
                if rng.random() < 0.9
                else _random_json(rng),
            }
            for _ in range(rng.randint(0, 6))
        ],
    }
    for key in (
        "created_time",
        "platform",
        "is_organic",
        "ad_id",
        "ad_name",
        "form_id",
        "custom_disclaimer_responses",
    ):
        if rng.random() < 0.5:
            lead[key] = _random_json(rng)
    return lead


def _random_questions(rng):
    if rng.random() < 0.3:
        return _random_json(rng)
    return [
        {
            "key": rng.choice([*STANDARD_FIELDS, "custom_q", None, 3]),
            "label": _random_scalar(rng),
            "type": rng.choice([*STANDARD_FIELDS, "CUSTOM", None, 1]),
            "options": _random_json(rng),
        }
        for _ in range(rng.randint(0, 5))
    ]


@pytest.mark.parametrize("seed", range(40))
def test_fuzz_only_invalid_lead_error_or_success(seed):
    rng = random.Random(seed)
    for _ in range(50):
        lead = _random_lead(rng) if rng.random() < 0.8 else _random_json(rng)
        questions = _random_questions(rng)
        snapshot = copy.deepcopy(lead) if rng.random() < 0.1 else None
        try:
            result = normalize_lead(
                lead,
                questions,
                default_region=rng.choice(["TR", "DE", None, "XX", 5]),
                locale=rng.choice(["tr_TR", "en_US", None, 3]),
                checkboxes=_random_questions(rng),
            )
        except InvalidLeadError:
            continue
        data = result.to_dict()
        json.dumps(data)  # always serialisable
        for answer in result.answers:
            assert all(len(v) <= MAX_VALUE_LENGTH for v in answer.values)
        if snapshot is not None:
            assert lead == snapshot  # input is never mutated


def test_test_leads_are_recognised():
    dummy = [
        ("full_name", ["<test lead: dummy data for full_name>"]),
        ("email", ["test@fb.com"]),
    ]
    assert normalize_lead(make_lead(*dummy, is_organic=True), None).is_test
    # a paid lead is never a test lead, whatever someone typed
    paid = make_lead(*dummy, is_organic=False, ad_id="120200000000001")
    assert not normalize_lead(paid, None).is_test
    real = make_lead(("full_name", ["Ayşe Yılmaz"]), is_organic=True)
    assert not normalize_lead(real, None).is_test
