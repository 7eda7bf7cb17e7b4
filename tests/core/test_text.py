"""Turkish-aware casing, romanization and name splitting (docs/meta-facts.md §7.5)."""

import pytest

from graph.text import (
    casefold_tr,
    collapse_whitespace,
    is_turkish,
    lower_tr,
    normalize_person_name,
    place_key,
    romanize_tr,
    split_full_name,
    title_tr,
    upper_tr,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("İSTANBUL", "istanbul"),
        ("IŞIK", "ışık"),
        ("IĞDIR", "ığdır"),
        ("İzmir", "izmir"),
        ("ÇAĞRI ÖZTÜRK", "çağrı öztürk"),
        ("I\u0307STANBUL", "istanbul"),  # decomposed İ
        ("already lower ı i", "already lower ı i"),
        ("", ""),
    ],
)
def test_lower_tr(raw, expected):
    assert lower_tr(raw) == expected
    assert "\u0307" not in lower_tr(raw)


def test_python_default_lower_is_wrong_for_turkish():
    # The reason the helpers exist; if this ever changes the docs are stale.
    assert "İSTANBUL".lower() == "i\u0307stanbul"
    assert "IŞIK".lower() == "işik"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("İSTANBUL", "istanbul"),
        ("IŞIK", "ışık"),
        ("STRASSE Straße", "strasse strasse"),
    ],
)
def test_casefold_tr(raw, expected):
    assert casefold_tr(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("istanbul", "İSTANBUL"),
        ("ışık", "IŞIK"),
        ("iğdır", "İĞDIR"),
        ("çağrı öztürk", "ÇAĞRI ÖZTÜRK"),
        ("İzmir", "İZMİR"),
    ],
)
def test_upper_tr(raw, expected):
    assert upper_tr(raw) == expected


@pytest.mark.parametrize(
    ("raw", "turkish", "expected"),
    [
        ("AYŞE YILMAZ", True, "Ayşe Yılmaz"),
        ("ibrahim ışık", True, "İbrahim Işık"),
        ("ibrahim işık", True, "İbrahim İşık"),  # dotted i typed: kept dotted
        ("ömer faruk", True, "Ömer Faruk"),
        ("ayşe-nur yılmaz", True, "Ayşe-Nur Yılmaz"),
        ("İLKER IŞIK", True, "İlker Işık"),
        ("JOHN SMITH", False, "John Smith"),
        ("JOHN SMITH", True, "John Smıth"),  # why the locale decision matters
        ("ian", False, "Ian"),
        ("ian", True, "İan"),
        ("o'neil", False, "O'Neil"),
        ("jean-luc picard", False, "Jean-Luc Picard"),
        ("ǆemal", False, "ǅemal"),
        ("josé", False, "José"),
        ("jose\u0301 maria", False, "José Maria"),  # NFC-composed
        ("q\u0301ab", False, "Q\u0301ab"),  # a mark does not start a word
        ("İSMAİL", False, "İsmail"),  # İ never lowers to i + U+0307
    ],
)
def test_title_tr(raw, turkish, expected):
    assert title_tr(raw, turkish=turkish) == expected


@pytest.mark.parametrize(
    ("raw", "locale", "expected"),
    [
        ("AYŞE YILMAZ", "tr_TR", "Ayşe Yılmaz"),
        ("AYŞE YILMAZ", None, "Ayşe Yılmaz"),
        ("ayşe yılmaz", "en_US", "Ayşe Yılmaz"),
        ("ibrahim ışık", None, "İbrahim Işık"),  # ı is Turkish evidence
        ("ömer faruk", None, "Ömer Faruk"),
        ("AYDIN YILMAZ", "tr_TR", "Aydın Yılmaz"),
        ("AYDIN", "tr-TR", "Aydın"),
        ("AYDIN", "TR", "Aydın"),
        ("AYDIN", None, "Aydin"),  # no evidence, unknown locale: standard
        ("JOHN SMITH", "en_US", "John Smith"),
        ("JOHN SMITH", None, "John Smith"),
        ("john smith", "de_DE", "John Smith"),
        ("JOHN SMITH", "tr_TR", "John Smıth"),  # documented limitation
        ("FRANÇOIS MÜLLER", None, "François Müller"),  # ç/ü are not evidence
        ("ÖMER ÇELIK", None, "Ömer Çelik"),
        ("ŞEVKI", None, "Şevkı"),  # Ş means a Turkish keyboard: I is ı
        ("McDonald", "tr_TR", "McDonald"),  # mixed case kept as typed
        ("Ayşe Nur", "tr_TR", "Ayşe Nur"),
        ("Ludwig van Beethoven", None, "Ludwig van Beethoven"),
        ("  ayşe \u00a0  nur\t yılmaz \n", "tr_TR", "Ayşe Nur Yılmaz"),
        ("李小龙", "tr_TR", "李小龙"),
        ("", "tr_TR", ""),
        ("   ", "tr_TR", ""),
        (None, "tr_TR", ""),
        (42, "tr_TR", ""),
    ],
)
def test_normalize_person_name(raw, locale, expected):
    assert normalize_person_name(raw, locale) == expected


def test_normalize_person_name_default_locale_is_turkish():
    assert normalize_person_name("AYDIN") == "Aydın"


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("John", "tr_TR", True),
        ("John", "en_US", False),
        ("John", None, False),
        ("John", 5, False),
        ("Işık", None, True),
        ("Ağa", None, True),
        ("Müller", None, False),
        ("Çelik", None, False),
        (None, None, False),
    ],
)
def test_is_turkish(text, locale, expected):
    assert is_turkish(text, locale) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("çğıöşü", "cgiosu"),
        ("ÇĞİÖŞÜ", "CGIOSU"),
        ("Işık Güneş", "Isik Gunes"),
        ("i\u0307stanbul", "istanbul"),  # what "İSTANBUL".lower() produces
        ("Zürich café", "Zurich café"),  # only Turkish letters are mapped
        ("", ""),
    ],
)
def test_romanize_tr(raw, expected):
    assert romanize_tr(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ayşe Nur Yılmaz", ("Ayşe Nur", "Yılmaz")),
        ("Ayşe Yılmaz", ("Ayşe", "Yılmaz")),
        ("  Ayşe   Yılmaz  ", ("Ayşe", "Yılmaz")),
        ("Cher", ("Cher", "")),
        ("", ("", "")),
        ("   ", ("", "")),
        (None, ("", "")),
    ],
)
def test_split_full_name(raw, expected):
    assert split_full_name(raw) == expected


def test_collapse_whitespace():
    assert collapse_whitespace(" a \u00a0\t b\n\nc ") == "a b c"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("İstanbul", "istanbul"),
        ("İSTANBUL", "istanbul"),
        ("istanbul", "istanbul"),
        ("Istanbul", "istanbul"),
        ("  ŞANLIURFA ", "sanliurfa"),
        ("Şanlıurfa", "sanliurfa"),
        ("Afyon  karahisar", "afyon karahisar"),
        ("Ağrı", "agri"),
        ("AGRI", "agri"),
        ("Zürich", "zurich"),
        (None, ""),
    ],
)
def test_place_key(typed, key):
    assert place_key(typed) == key
