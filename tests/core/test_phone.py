"""Phone normalization to E.164 (docs/meta-facts.md §5.2 CSV prefixes, §7.5 hashing)."""

import pytest

from graph.phone import normalize_phone, phone_digits_for_hash, phone_region

NBSP = "\u00a0"

TURKISH_SPELLINGS = [
    "0532 123 45 67",
    "05321234567",
    "532 123 45 67",
    "5321234567",
    "+90 532 123 45 67",
    "+905321234567",
    "0090 532 123 4567",
    "00905321234567",
    "90 532 123 45 67",
    "905321234567",
    "(0532) 123-45-67",
    "0 (532) 123 45 67",
    "+90-532-123-45-67",
    "532.123.45.67",
    f"0532{NBSP}123{NBSP}45{NBSP}67",
    f"+90{NBSP}532{NBSP}123{NBSP}45{NBSP}67",
    "0532\u202f123\u200945 67",  # narrow/thin spaces
    "p:+905321234567",
    "p:05321234567",
    "tel:+905321234567",
    "tel:+90-532-123-45-67",
    "TEL:+90-532-123-45-67;ext=12",
    "  +90 532 123 45 67  ",
    "+90 532 123 45 67 ext. 12",
    "0532 123 45 67 dahili 3",
    "０５３２ １２３ ４５ ６７",  # full-width digits
    "٠٥٣٢١٢٣٤٥٦٧",  # Arabic-Indic digits
    "+90 (532) 123–45–67",  # en dashes
    "0532/123 45 67",
    905321234567,  # a JSON number
]


@pytest.mark.parametrize("raw", TURKISH_SPELLINGS)
def test_turkish_mobile_spellings(raw):
    assert normalize_phone(raw) == "+905321234567"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0212 555 12 34", "+902125551234"),
        ("(0212) 555 12 34", "+902125551234"),
        ("212 555 12 34", "+902125551234"),
        ("902125551234", "+902125551234"),
        ("+90 312 555 12 34", "+903125551234"),
        ("0850 123 45 67", "+908501234567"),
    ],
)
def test_turkish_landlines_and_service_numbers(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+49 30 123456", "+4930123456"),
        ("0049 30 123456", "+4930123456"),
        ("+1 650 555 1212", "+16505551212"),
        ("+1 (650) 555-1212", "+16505551212"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_foreign_numbers_keep_their_country(raw, expected):
    assert normalize_phone(raw) == expected
    assert normalize_phone(raw, default_region="DE") == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("030 123456", "DE", "+4930123456"),
        ("030 123456", "de", "+4930123456"),
        ("4930123456", "DE", "+4930123456"),
        ("(650) 555-1212", "US", "+16505551212"),
        ("0532 123 45 67", "TR", "+905321234567"),
        ("0532 123 45 67", "DE", "+495321234567"),  # 05321 is Goslar
        ("030 123456", "TR", None),
        ("4930123456", "TR", None),  # other countries' codes are never guessed
        ("0532 123 45 67", None, None),  # no default region: national is unknown
        ("0532 123 45 67", "XX", None),
        ("+90 532 123 45 67", None, "+905321234567"),
        ("+90 532 123 45 67", 7, "+905321234567"),
    ],
)
def test_default_region(raw, region, expected):
    assert normalize_phone(raw, default_region=region) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "p:",
        "tel:",
        "-",
        "123",
        "0532",
        "+90 532 123",
        "+90 532 123 45 67 89",
        "0000000000",  # "possible" by length, not valid
        "+90 123 456 78 90",  # "possible" by length, not valid
        "9053212345670",
        "not a number",
        "call me 0532 123 45 67",
        "0532 123 45 67 or 0533 123 45 67",
        "1-800-FLOWERS",
        "+90 532 123 45 67" + " -" * 30,  # too long to be a phone
        "5" * 1000,
        "ayse@example.com",
        True,
        False,
        5.5,
        905321234567.0,
        [],
        {"phone": "05321234567"},
        b"05321234567",
    ],
)
def test_invalid_or_garbage_gives_none(raw):
    assert normalize_phone(raw) is None


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+905321234567", "905321234567"),
        ("+16505551212", "16505551212"),
        (" +4930123456 ", "4930123456"),
        ("905321234567", None),  # not E.164: normalize first
        ("+0905321234567", None),
        ("05321234567", None),
        ("", None),
        (None, None),
        (905321234567, None),
    ],
)
def test_phone_digits_for_hash(e164, expected):
    assert phone_digits_for_hash(e164) == expected


@pytest.mark.parametrize("raw", TURKISH_SPELLINGS[:10])
def test_hash_digits_round_trip(raw):
    assert phone_digits_for_hash(normalize_phone(raw)) == "905321234567"


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+905321234567", "TR"),
        ("+4930123456", "DE"),
        ("+12025550123", "US"),
        ("+80012345678", None),  # international freephone: no country
        ("05321234567", None),  # national spelling: not E.164
        ("+90", None),
        (None, None),
        (905321234567, None),
    ],
)
def test_phone_region(e164, region):
    assert phone_region(e164) == region


def _reference(raw, region):
    """What phonenumbers makes of the spelling itself, separators and all
    (normalize_phone parses the bare digits: the two must agree)."""
    import phonenumbers

    from graph.phone import _candidates, _clean, _region

    text = _clean(raw)
    if text is None:
        return None
    region = _region(region)
    for candidate in _candidates(text, region):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
    return None


def test_bare_digits_parse_as_the_spelling_does():
    """Random spellings (national, international, 00, separators anywhere,
    valid and invalid numbers) of many countries normalise exactly as
    phonenumbers reads them with their separators."""
    import random

    import phonenumbers

    rng = random.Random(20261204)
    separators = [" ", "-", ".", "/", "(", ")", "\u2013", "\u2212", "  ", " - "]
    regions = ["TR", "DE", "GB", "US", "FR", "IT", "NL", "AZ", "RU", "SA", "BR", None]
    kinds = [
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
    ]
    spellings = []
    for region in regions[:-1]:
        for kind in kinds:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for fmt in (
                phonenumbers.PhoneNumberFormat.NATIONAL,
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.E164,
            ):
                spellings.append(phonenumbers.format_number(example, fmt))
    for _ in range(1500):
        base = rng.choice(spellings)
        digits = list(base)
        # change digits (mostly making other, often invalid, numbers)
        for _ in range(rng.randint(0, 3)):
            at = rng.randrange(len(digits))
            if digits[at].isdigit():
                digits[at] = str(rng.randint(0, 9))
        text = "".join(digits).replace(" ", "")
        spelled = []
        for char in text:
            spelled.append(char)
            if rng.random() < 0.25:
                spelled.append(rng.choice(separators))
        variant = "".join(spelled)
        if rng.random() < 0.2 and variant.startswith("+"):
            variant = "00" + variant[1:]
        if rng.random() < 0.1 and variant.startswith("+"):
            variant = variant[1:]
        region = rng.choice(regions)
        assert normalize_phone(variant, region) == _reference(variant, region), (
            variant,
            region,
        )
