"""Custom Audiences: the customer file, normalised and hashed as Meta matches.

https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
(docs/meta-facts.md §7): each identifier is normalised per key, then hashed
as the lower-case hex SHA-256 of its UTF-8 bytes; ``EXTERN_ID`` is sent as
it is. A value that cannot be normalised (an e-mail without a domain, a
phone ``phonenumbers`` finds invalid, an unknown country) becomes ``""``:
Meta reads an empty cell as "unknown", a wrong value would only never match.

Choices where Meta leaves room:

* Names (FN, LN) and places (CT, ST) are romanised (``ç→c ğ→g ı→i ö→o
  ş→s ü→u``, other accents dropped) and keep ``a–z`` only: Meta accepts
  UTF-8 names but recommends the Roman alphabet, and one rule for both
  keeps a person's hash stable whichever way their name was typed.
* Lower-casing is Turkish-aware: ``"İSTANBUL"`` gives ``"istanbul"``, not
  ``"i̇stanbul"`` (Python's ``lower()`` keeps a combining dot).
* A value that already is a SHA-256 (64 lower-case hex digits) is passed
  through, never hashed twice.
"""

import hashlib
import json
import re
import unicodedata
from datetime import date

from .phone import normalize_phone, phone_digits_for_hash
from .text import casefold_tr, romanize_tr

#: Keys of a multi-key customer file, in Meta's spelling (§7.3).
SCHEMA_KEYS = (
    "EMAIL",
    "PHONE",
    "FN",
    "LN",
    "FI",
    "CT",
    "ST",
    "ZIP",
    "COUNTRY",
    "GEN",
    "DOBY",
    "DOBM",
    "DOBD",
    "MADID",
    "EXTERN_ID",
)
#: Keys sent as they are (§7.5).
UNHASHED_KEYS = frozenset({"EXTERN_ID", "MADID"})
#: Keys that find a person on their own: a removal by one of them alone
#: works (§7.3), and a value of them uploaded once stays at Meta until a
#: removal names it.
IDENTIFYING_KEYS = frozenset({"EMAIL", "PHONE", "MADID", "EXTERN_ID"})
#: Rows per ``/users`` request (§7.3).
MAX_ROWS_PER_REQUEST = 10_000

_SHA256_RE = re.compile(r"[a-f0-9]{64}")
_EMAIL_RE = re.compile(r"[a-z0-9_.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_NOT_AZ_RE = re.compile(r"[^a-z]")
_SPACES_RE = re.compile(r"\s+")
_GENDERS = {
    "m": "m",
    "male": "m",
    "man": "m",
    "erkek": "m",
    "e": "m",
    "f": "f",
    "female": "f",
    "woman": "f",
    "kadin": "f",
    "k": "f",
}


def is_sha256(value):
    return isinstance(value, str) and bool(_SHA256_RE.fullmatch(value))


def _text(value):
    if value is None or value is False:
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def _ascii_letters(value):
    """Turkish-aware lower case, romanised, accents dropped, ``a–z`` only."""
    folded = romanize_tr(casefold_tr(_text(value)))
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    )
    return _NOT_AZ_RE.sub("", plain)


def _ascii_lower(value):
    """Lower case for values that are ASCII by nature (e-mail addresses,
    country and postal codes): their capital I is i. Turkish folding (I → ı)
    made "INFO@ISTANBUL.COM" and Italy's "IT" unusable; a Turkish keyboard's
    İ (and ı) typed in them still mean i."""
    return _text(value).replace("İ", "i").replace("ı", "i").lower()


def normalize_email(value):
    text = _ascii_lower(value).replace(" ", "")
    return text if _EMAIL_RE.fullmatch(text) else ""


def normalize_phone_key(value, country=None):
    """Digits with the country code, no ``+`` nor leading zeros, for a
    number ``phonenumbers`` finds valid (read in ``country``, default TR)."""
    digits = phone_digits_for_hash(normalize_phone(value, country or "TR"))
    return digits or ""


def normalize_name(value):
    return _ascii_letters(value)


def normalize_first_initial(value):
    return normalize_name(value)[:1]


def normalize_city(value):
    return _ascii_letters(value)


def normalize_state(value, country=None):
    """US: the 2-letter code; elsewhere the name, ``a–z`` only."""
    return _ascii_letters(value)


def normalize_zip(value, country=None):
    text = _SPACES_RE.sub("", _ascii_lower(value))
    country = (country or "").upper()
    if country == "US":
        text = text.split("-")[0][:5]
    elif country == "GB" and len(text) > 3:
        # area, district and sector: the inward code loses its unit letters
        text = text[:-2]
    return text if re.fullmatch(r"[a-z0-9-]+", text or "-") else ""


def normalize_country(value):
    text = _NOT_AZ_RE.sub("", _ascii_lower(value))
    return text if len(text) == 2 else ""


def normalize_gender(value):
    return _GENDERS.get(_ascii_letters(value), "")


def normalize_birthdate(value):
    """(DOBY, DOBM, DOBD) of a ``date`` (or ISO string), else empty strings."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            value = None
    if not isinstance(value, date) or not 1900 <= value.year <= date.today().year:
        return "", "", ""
    return f"{value.year:04d}", f"{value.month:02d}", f"{value.day:02d}"


def normalize(key, value, *, country=None):
    """The normalised ``value`` of schema ``key`` (``""`` when unusable)."""
    if isinstance(value, str) and is_sha256(value.strip()):
        return value.strip()
    if key == "EMAIL":
        return normalize_email(value)
    if key == "PHONE":
        return normalize_phone_key(value, country)
    if key in ("FN", "LN"):
        return normalize_name(value)
    if key == "FI":
        return normalize_first_initial(value)
    if key == "CT":
        return normalize_city(value)
    if key == "ST":
        return normalize_state(value, country)
    if key == "ZIP":
        return normalize_zip(value, country)
    if key == "COUNTRY":
        return normalize_country(value)
    if key == "GEN":
        return normalize_gender(value)
    if key in ("DOBY", "DOBM", "DOBD"):
        year, month, day = normalize_birthdate(value)
        return {"DOBY": year, "DOBM": month, "DOBD": day}[key]
    if key == "MADID":
        return casefold_tr(_text(value))
    if key == "EXTERN_ID":
        return _text(value)
    raise ValueError(f"Unknown customer file key {key!r}")


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_value(key, normalized):
    """What is sent for a normalised value: its SHA-256, or the value itself
    for ``EXTERN_ID``/``MADID``; ``""`` stays ``""``."""
    if not normalized or key in UNHASHED_KEYS or is_sha256(normalized):
        return normalized
    return sha256_hex(normalized)


def person_row(schema, person, *, country=None):
    """One customer-file row: ``person`` maps schema keys to raw values
    (a ``"BIRTHDATE"`` entry feeds DOBY/DOBM/DOBD). ``country`` (ISO code)
    reads national phone numbers and ZIP rules."""
    row = []
    for key in schema:
        raw = person.get(key)
        if raw is None and key in ("DOBY", "DOBM", "DOBD"):
            raw = person.get("BIRTHDATE")
        if raw is None and key == "FI":
            raw = person.get("FN")
        row.append(hash_value(key, normalize(key, raw, country=country)))
    return row


def row_is_usable(schema, row):
    """Does the row give Meta a key to match a person on? An e-mail, a phone
    or a mobile advertiser id: names, places, a country or an ``EXTERN_ID``
    alone match nobody."""
    strong = {"EMAIL", "PHONE", "MADID"}
    return any(value for key, value in zip(schema, row, strict=True) if key in strong)


def fillable_keys(person_keys):
    """The schema keys :func:`person_row` can fill from a person with these
    raw keys (FI comes from FN, DOBY/DOBM/DOBD from BIRTHDATE)."""
    keys = set(person_keys) & set(SCHEMA_KEYS)
    if "FN" in keys:
        keys.add("FI")
    if "BIRTHDATE" in person_keys:
        keys |= {"DOBY", "DOBM", "DOBD"}
    return keys


def retired_row(schema, old_row, new_row):
    """The row that removes what a person no longer is: the identifying
    values (:data:`IDENTIFYING_KEYS`) of ``old_row`` that ``new_row`` no
    longer has, every other cell empty; None when none was dropped.

    Uploading a person's new row does not take their old e-mail out of an
    audience: whoever Meta matched with it stays until a removal names it."""
    width = len(schema)
    if not old_row or len(old_row) != width or len(new_row) != width:
        return None
    retired = [
        old if key in IDENTIFYING_KEYS and old and old != new else ""
        for key, old, new in zip(schema, old_row, new_row, strict=True)
    ]
    return retired if any(retired) else None


def row_digest(row):
    """A stable digest of a sent row: a member whose digest changed is sent
    again, one whose digest is known is not (the delta)."""
    return sha256_hex(json.dumps(row, separators=(",", ":")))


def batches(rows, size=MAX_ROWS_PER_REQUEST):
    """``rows`` in lists of at most ``size`` (Meta's per-request cap)."""
    size = max(1, min(int(size), MAX_ROWS_PER_REQUEST))
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def users_params(schema, rows, *, session_id, batch_seq, last_batch, total=None):
    """The form parameters of ``POST|DELETE /{audience}/users`` and
    ``/usersreplace`` for one batch (§7.3, §7.4)."""
    if len(rows) > MAX_ROWS_PER_REQUEST:
        raise ValueError(f"At most {MAX_ROWS_PER_REQUEST} rows per request")
    session = {
        "session_id": int(session_id),
        "batch_seq": int(batch_seq),
        "last_batch_flag": bool(last_batch),
    }
    if total is not None:
        session["estimated_num_total"] = int(total)
    return {
        "payload": json.dumps(
            {"schema": list(schema), "data": [list(r) for r in rows]}
        ),
        "session": json.dumps(session),
    }
