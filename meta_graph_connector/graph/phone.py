"""Phone normalization to E.164 with ``phonenumbers``.

Lead forms, CSV exports and CRM users spell the same Turkish mobile in many
ways ("0532 123 45 67", "+90 532…", "0090 532…", "905321234567",
"p:+905321234567", …).  We need one canonical E.164 value to deduplicate
partners and, without the ``+``, to hash for Custom Audiences
(docs/meta-facts.md §7.5: digits only, country code included, no leading zeros).

Decisions:

* Only numbers that ``phonenumbers.is_valid_number`` accepts are returned.
  There is no fallback to ``is_possible_number``: "possible" only checks the
  length, so ``"0000000000"`` or ``"+90 123 456 78 90"`` would pass.  A
  real number missing from the metadata is fixed by upgrading
  ``phonenumbers``, not by loosening the rule (§7.5: "drop the value if
  invalid rather than uploading a national number").
* Input is first checked against a whitelist (digits, spaces, ``+ ( ) . /``
  and dashes), after removing the CSV export prefix (``p:``, §5.2), a
  ``tel:`` URI scheme and its parameters, and a trailing extension (E.164
  has no extension, it is dropped).  Anything else with letters ("call me
  at 0532…", vanity numbers) is rejected rather than guessed at.
* "905321234567" (country code without ``+`` or ``00``): current
  ``phonenumbers`` already recognises the default region's country code,
  but we do not depend on that: when the plain parse is invalid and the
  digits start with the default region's calling code, ``+digits`` is
  tried as well (and must itself be valid).  Other countries' codes are
  never guessed: "4930123456" with region TR stays invalid.
* ``default_region`` that is not a known ISO 3166-1 alpha-2 region (or is
  None) means "no default": only international spellings can be parsed.
"""

import re
import unicodedata

import phonenumbers

from .text import strip_export_prefix

__all__ = ["normalize_phone", "phone_digits_for_hash", "phone_region"]

#: longer input cannot be a phone number (15 digits + separators)
_MAX_PHONE_INPUT = 64

_TEL_URI_RE = re.compile(r"^tel:", re.IGNORECASE)
_EXTENSION_RE = re.compile(
    r"\s*(?:;?ext[.=]?|x|#|dahili)\s*\d{1,7}$",
    re.IGNORECASE,
)
_ALLOWED_RE = re.compile(r"[\d\s+().\/\-\u2010-\u2015\u2212]+")
_E164_RE = re.compile(r"\+([1-9]\d{6,14})")
#: the separators ``_ALLOWED_RE`` lets through: phonenumbers drops them too,
#: and parses the bare digits a third faster (a full audience sync parses
#: every partner's phone)
_SEPARATORS_RE = re.compile(r"[\s().\/\-\u2010-\u2015\u2212]+")


def _clean(raw):
    """Return the text to parse, or None when ``raw`` cannot be a phone."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        # A JSON number (905321234567) is a plausible Graph/CSV spelling.
        raw = str(raw)
    if not isinstance(raw, str):
        return None
    # NFKC turns NBSP/thin spaces into spaces and full-width digits/plus
    # into ASCII ones.
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or len(text) > _MAX_PHONE_INPUT:
        return None
    text = strip_export_prefix(text)
    if _TEL_URI_RE.match(text):
        # RFC 3966: tel:+90-532-123-45-67;ext=12;phone-context=…
        text = text[4:].split(";", 1)[0]
    text = _EXTENSION_RE.sub("", text).strip()
    if not text or not _ALLOWED_RE.fullmatch(text):
        return None
    return text


def _region(default_region):
    if isinstance(default_region, str):
        region = default_region.strip().upper()
        if region in phonenumbers.SUPPORTED_REGIONS:
            return region
    return None


def _candidates(text, region):
    yield text
    if region is None:
        return
    digits = re.sub(r"\D", "", text)
    calling_code = str(phonenumbers.country_code_for_region(region))
    if (
        not text.lstrip().startswith("+")
        and not digits.startswith("00")
        and digits.startswith(calling_code)
    ):
        yield "+" + digits


def normalize_phone(raw, default_region="TR"):
    """Return ``raw`` as E.164 (``"+905321234567"``) or None; never raises.

    ``default_region`` (ISO alpha-2, e.g. the partner's country) decides how
    national spellings are read: ``"030 123456"`` is German with ``"DE"``.
    Numbers written with ``+``/``00`` keep their own country.
    """
    text = _clean(raw)
    if text is None:
        return None
    text = _SEPARATORS_RE.sub("", text)
    region = _region(default_region)
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


def phone_digits_for_hash(e164):
    """``"+905321234567"`` → ``"905321234567"`` (docs/meta-facts.md §7.5 PHONE).

    Expects the output of :func:`normalize_phone`; anything that is not an
    E.164 string gives None (hashing a national number would never match).
    """
    if not isinstance(e164, str):
        return None
    match = _E164_RE.fullmatch(e164.strip())
    return match.group(1) if match else None


def phone_region(e164):
    """The ISO alpha-2 country of an E.164 number (``"+905321234567"`` →
    ``"TR"``), or None when it is not one or belongs to no single country."""
    if not isinstance(e164, str) or not _E164_RE.fullmatch(e164.strip()):
        return None
    try:
        number = phonenumbers.parse(e164.strip(), None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region if region and region != "001" else None
