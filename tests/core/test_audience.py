"""Customer-file normalisation and hashing: Meta's vectors and Turkish data."""

import hashlib
import json
from datetime import date

import pytest

from graph import audience as ca

# Meta's own examples (docs/meta-facts.md §7.5)
META_VECTORS = {
    ("EMAIL", "mary@example.com"): (
        "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"
    ),
    ("EMAIL", "john_smith@gmail.com"): (
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    ),
    ("PHONE", "15559876543"): (
        "1ef970831d7963307784fa8688e8fce101a15685d62aa765fed23f3a2c576a4e"
    ),
    ("PHONE", "16505551212"): (
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
    ),
    ("FN", "mary"): "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec",
    ("COUNTRY", "us"): (
        "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"
    ),
}


@pytest.mark.parametrize(("key", "normalized"), list(META_VECTORS))
def test_meta_vectors(key, normalized):
    assert ca.hash_value(key, normalized) == META_VECTORS[key, normalized]


@pytest.mark.parametrize(
    ("key", "raw", "normalized"),
    [
        ("EMAIL", "  Mary@Example.COM ", "mary@example.com"),
        ("EMAIL", "John_Smith@gmail.com", "john_smith@gmail.com"),
        ("FN", "MARY!", "mary"),
        ("FN", "Mary-", "mary"),
        ("COUNTRY", "US", "us"),
        ("COUNTRY", "u.s.", "us"),
    ],
)
def test_spellings_of_meta_vectors_hash_the_same(key, raw, normalized):
    assert ca.normalize(key, raw) == normalized
    assert ca.hash_value(key, ca.normalize(key, raw)) == META_VECTORS[key, normalized]


@pytest.mark.parametrize(
    "raw",
    [
        "0532 123 45 67",
        "+90 (532) 123-45-67",
        "0090 532 123 45 67",
        "905321234567",
        "5321234567",
        "+90 532 123 4567",
        "p:+905321234567",
        "(0532) 123 45 67",
    ],
)
def test_every_turkish_spelling_of_a_mobile_is_one_phone(raw):
    assert ca.normalize("PHONE", raw, country="TR") == "905321234567"
    assert (
        ca.hash_value("PHONE", ca.normalize("PHONE", raw, country="TR"))
        == hashlib.sha256(b"905321234567").hexdigest()
    )


def test_a_national_number_is_read_in_the_persons_country():
    assert ca.normalize("PHONE", "030 1234567", country="DE") == "49301234567"
    # never guessed into another country, never uploaded as national digits
    assert ca.normalize("PHONE", "123", country="TR") == ""
    assert ca.normalize("PHONE", "call me", country="TR") == ""


@pytest.mark.parametrize(
    ("key", "raw", "normalized"),
    [
        ("FN", "İSMAİL", "ismail"),
        ("FN", "Ayşe Nur", "aysenur"),
        ("LN", "IŞIK", "isik"),
        ("LN", "Çağlayan-Öztürk", "caglayanozturk"),
        ("LN", "Ünlü", "unlu"),
        ("FN", "Gülşen", "gulsen"),
        ("FI", "Şule", "s"),
        ("CT", "İSTANBUL", "istanbul"),
        ("CT", "istanbul", "istanbul"),
        ("CT", "Istanbul", "istanbul"),
        ("CT", "ŞANLIURFA", "sanliurfa"),
        ("CT", "Kadıköy", "kadikoy"),
        ("CT", "Ağrı Dağı 4.", "agridagi"),
        ("ST", "Muğla", "mugla"),
        ("COUNTRY", "TR", "tr"),
        ("COUNTRY", "Türkiye", ""),
        ("GEN", "Kadın", "f"),
        ("GEN", "Erkek", "m"),
        ("GEN", "F", "f"),
        ("GEN", "belirtilmemiş", ""),
        ("ZIP", "34 710", "34710"),
    ],
)
def test_turkish_letters_case_and_punctuation(key, raw, normalized):
    assert ca.normalize(key, raw) == normalized


def test_python_lower_would_not_match():
    # the trap: "İ".lower() is "i" plus a combining dot
    assert "İSTANBUL".lower() != "istanbul"
    assert ca.normalize("CT", "İSTANBUL") == "istanbul"


@pytest.mark.parametrize(
    ("raw", "country", "normalized"),
    [
        ("94103-1234", "US", "94103"),
        ("SW1A 1AA", "GB", "sw1a1"),
        ("M1 1AE", "GB", "m11"),
        ("06100", "TR", "06100"),
    ],
)
def test_zip_rules_per_country(raw, country, normalized):
    assert ca.normalize("ZIP", raw, country=country) == normalized


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        # an e-mail address is ASCII: its capital I is i, never the Turkish
        # dotless ı (which made every such address unusable)
        ("INFO@ISTANBUL.COM", "info@istanbul.com"),
        ("AYSE.YILMAZ@FIRMA.COM.TR", "ayse.yilmaz@firma.com.tr"),
        # a Turkish keyboard's capital İ typed in an address means i
        ("İNFO@FİRMA.COM", "info@firma.com"),
        (" Kemal.Isik @ Example.Com ", "kemal.isik@example.com"),
    ],
)
def test_emails_in_capitals_fold_as_ascii(raw, normalized):
    assert ca.normalize("EMAIL", raw) == normalized


@pytest.mark.parametrize(
    ("key", "raw", "normalized"),
    [
        ("COUNTRY", "IT", "it"),
        ("COUNTRY", "IE", "ie"),
        ("COUNTRY", "CI", "ci"),
        ("COUNTRY", "İT", "it"),
        ("ZIP", "I-00100", "i-00100"),
    ],
)
def test_codes_in_capitals_fold_as_ascii(key, raw, normalized):
    # Italy, Ireland, India… were dropped: "IT" folded to "ıt", then to "t"
    assert ca.normalize(key, raw, country="IT") == normalized


@pytest.mark.parametrize("raw", ["mary", "mary@", "@example.com", "a b@c", "", None])
def test_unusable_emails_become_empty_never_guessed(raw):
    assert ca.normalize("EMAIL", raw) == ""
    assert ca.hash_value("EMAIL", ca.normalize("EMAIL", raw)) == ""


def test_a_hash_is_never_hashed_twice():
    hashed = META_VECTORS["EMAIL", "mary@example.com"]
    assert ca.normalize("EMAIL", hashed) == hashed
    assert ca.hash_value("EMAIL", hashed) == hashed


def test_extern_id_and_madid_are_sent_as_they_are():
    assert ca.hash_value("EXTERN_ID", "odoo-partner-77") == "odoo-partner-77"
    assert ca.normalize("MADID", "AB-CD") == "ab-cd"
    assert ca.hash_value("MADID", "ab-cd") == "ab-cd"


def test_birthdate_gives_year_month_day():
    row = ca.person_row(["DOBY", "DOBM", "DOBD"], {"BIRTHDATE": date(1985, 3, 7)})
    assert row == [hashlib.sha256(v.encode()).hexdigest() for v in ("1985", "03", "07")]
    assert ca.normalize_birthdate("1850-01-01") == ("", "", "")
    assert ca.normalize_birthdate("not a date") == ("", "", "")


def test_a_person_row_follows_the_schema():
    schema = ["EMAIL", "PHONE", "FN", "LN", "CT", "COUNTRY", "EXTERN_ID"]
    row = ca.person_row(
        schema,
        {
            "EMAIL": "Ayse@Example.com ",
            "PHONE": "0532 123 45 67",
            "FN": "Ayşe",
            "LN": "Yılmaz",
            "CT": "İzmir",
            "COUNTRY": "TR",
            "EXTERN_ID": "odoo-partner-7",
        },
        country="TR",
    )
    expected = [
        "ayse@example.com",
        "905321234567",
        "ayse",
        "yilmaz",
        "izmir",
        "tr",
    ]
    assert row[:-1] == [hashlib.sha256(v.encode()).hexdigest() for v in expected]
    assert row[-1] == "odoo-partner-7"
    assert ca.row_is_usable(schema, row)
    empty = ca.person_row(schema, {"COUNTRY": "TR", "EXTERN_ID": "odoo-partner-8"})
    assert empty[:5] == ["", "", "", "", ""]
    assert not ca.row_is_usable(schema, empty)
    named = ca.person_row(schema, {"FN": "Cem", "LN": "Ak", "CT": "İzmir"})
    assert not ca.row_is_usable(schema, named)


def test_unknown_key_is_a_programming_error():
    with pytest.raises(ValueError):
        ca.normalize("SSN", "x")


def test_row_digest_tells_a_changed_row():
    row = ["a" * 64, "", "odoo-partner-1"]
    assert ca.row_digest(row) == ca.row_digest(list(row))
    assert ca.row_digest(row) != ca.row_digest(["b" * 64, "", "odoo-partner-1"])


def test_batches_respect_meta_cap():
    sizes = [len(b) for b in ca.batches(iter([[str(i)] for i in range(25_001)]))]
    assert sizes == [10_000, 10_000, 5_001]
    assert [len(b) for b in ca.batches([[1]] * 5, size=2)] == [2, 2, 1]
    assert list(ca.batches([])) == []


def test_users_params_for_one_batch():
    params = ca.users_params(
        ["EMAIL", "EXTERN_ID"],
        [["a" * 64, "odoo-partner-1"]],
        session_id=1790000000123,
        batch_seq=1,
        last_batch=True,
        total=1,
    )
    assert json.loads(params["payload"]) == {
        "schema": ["EMAIL", "EXTERN_ID"],
        "data": [["a" * 64, "odoo-partner-1"]],
    }
    assert json.loads(params["session"]) == {
        "session_id": 1790000000123,
        "batch_seq": 1,
        "last_batch_flag": True,
        "estimated_num_total": 1,
    }
    with pytest.raises(ValueError):
        ca.users_params(
            ["EMAIL"], [["x"]] * 10_001, session_id=1, batch_seq=1, last_batch=True
        )


def test_the_retired_row_holds_only_the_identifiers_a_person_no_longer_has():
    schema = ["EMAIL", "PHONE", "FN", "COUNTRY", "EXTERN_ID"]
    old = ["e1", "p1", "f1", "c1", "odoo-partner-7"]
    assert ca.retired_row(schema, old, list(old)) is None
    # a changed name or country matches nobody on its own: nothing to retire
    assert (
        ca.retired_row(schema, old, ["e1", "p1", "f2", "c2", "odoo-partner-7"]) is None
    )
    assert ca.retired_row(schema, old, ["e2", "p1", "f1", "c1", "odoo-partner-7"]) == [
        "e1",
        "",
        "",
        "",
        "",
    ]
    # an e-mail cleared, an EXTERN_ID renamed
    assert ca.retired_row(schema, old, ["", "p2", "f1", "c1", "odoo-x-partner-7"]) == [
        "e1",
        "p1",
        "",
        "",
        "odoo-partner-7",
    ]
    # an identifier added is no retirement
    assert ca.retired_row(schema, ["", "p1", "", "", "x"], old[:4] + ["x"]) is None
    # a row of another width (another schema) is left alone
    assert ca.retired_row(schema, old[:3], old) is None
    assert ca.retired_row(schema, None, old) is None


def test_fillable_keys_are_the_schema_keys_a_person_gives():
    person = {"EMAIL": "", "PHONE": "", "FN": "", "CT": "", "EXTERN_ID": ""}
    assert ca.fillable_keys(person) == {"EMAIL", "PHONE", "FN", "FI", "CT", "EXTERN_ID"}
    assert {"DOBY", "DOBM", "DOBD"} <= ca.fillable_keys({"BIRTHDATE": ""})
    assert "GEN" not in ca.fillable_keys(person)
