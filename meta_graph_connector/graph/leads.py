"""Graph lead JSON + form questions → :class:`NormalizedLead`.

Input shapes (docs/meta-facts.md §5):

* the lead, as read with ``GET /{leadgen_id}?fields=id,created_time,
  field_data,form_id,ad_id,…`` (§5.1): ``field_data`` is a list of
  ``{"name": <question key>, "values": [<str>, …]}``;
* optionally the form's ``questions`` (§5.2/§5.3): ``{key, label, type,
  options: [{key, value}]}``;
* optionally the form's consent checkboxes
  (``legal_content.custom_disclaimer.checkboxes``: ``{key, text}``) to
  label ``custom_disclaimer_responses``.

Decisions (where the API reference is silent or marked [U]/[R]):

* Only structural problems raise :class:`~.errors.InvalidLeadError`: lead
  not an object, missing id, ``field_data`` missing or not a list, an item
  without a name, ``values`` not a list of scalars.  Every other oddity
  (bad phone, email, country, date, time, hostile ``questions``) degrades to
  None while the value stays visible in :attr:`NormalizedLead.answers`.
* Every text value is stripped of control characters (newline and tab are
  kept, ``\\r\\n`` becomes ``\\n``), bidi override/isolate characters and
  lone surrogates (PostgreSQL rejects NUL and surrogates in UTF-8), trimmed
  and capped at :data:`MAX_VALUE_LENGTH`; at most :data:`MAX_VALUES` values
  per field and :data:`MAX_FIELDS` fields are kept.  No HTML escaping here:
  that is the renderer's job.
* Multiple-choice answers arrive as option keys (§5.3); ``Answer.values``
  holds the option labels (what a human reads), ``Answer.raw_values`` the
  keys as received (stable, for mapping to selection fields).
* A question is a standard field when its ``type`` is a standard type (even
  with a custom key), else when its key is a standard key
  (:data:`STANDARD_FIELDS`).  ``work_email``/``work_phone_number`` are
  fallbacks used only when no personal email/phone is valid.
* CSV export prefixes (``p:``, ``z:``, ``e:``…, §5.2 [R]) are stripped from
  standard fields only; a custom free-text answer may legitimately look like
  ``a:b``.
* ``created_time``: ISO-8601 (``+0000``, ``Z``, ``+03:00``; naive = timezone.utc) or
  Unix seconds (int/float/digit string; values above 10^11 are taken as
  milliseconds).  Unparseable → None.
* ``is_organic``: the lead's flag when present, otherwise "has no ad_id"
  (§4.5: organic/test leads have no ``ad_id``).
* ``date_of_birth`` is a :class:`datetime.date` parsed only from unambiguous
  spellings (``YYYY-MM-DD``, ``DD.MM.YYYY``, ``DD/MM/YYYY`` or
  ``MM/DD/YYYY`` when one side is > 12 or both are equal); ``gender`` is
  ``"male"``/``"female"`` from common English/Turkish spellings.  Both are
  None otherwise (the raw answer stays in ``answers``).
"""

import math
import re
from dataclasses import dataclass, fields
from datetime import date, datetime, timezone
from types import MappingProxyType

import phonenumbers

from .errors import InvalidLeadError
from .ids import as_id, is_node_id
from .phone import normalize_phone
from .text import (
    casefold_tr,
    collapse_whitespace,
    is_turkish,
    normalize_person_name,
    romanize_tr,
    split_full_name,
    strip_export_prefix,
    upper_tr,
)
from .times import parse_time

__all__ = [
    "CANONICAL_FIELDS",
    "MAX_FIELDS",
    "MAX_VALUES",
    "MAX_VALUE_LENGTH",
    "STANDARD_FIELDS",
    "Answer",
    "Consent",
    "NormalizedLead",
    "humanize_key",
    "normalize_country",
    "normalize_email",
    "normalize_lead",
]

#: cap of every text value (hostile input must not bloat records)
MAX_VALUE_LENGTH = 4096
#: cap of values kept per field (a multi-select has a handful)
MAX_VALUES = 100
#: cap of field_data items kept (Meta forms have a few dozen questions at most)
MAX_FIELDS = 500
_MAX_KEY_LENGTH = 255

#: canonical field names, in display order (for a per-form mapping UI)
CANONICAL_FIELDS = (
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "street",
    "city",
    "zip",
    "state",
    "country",
    "date_of_birth",
    "gender",
)

#: standard question keys (lower case, §5.3 [R]) and question ``type`` enums
#: (upper case, §5.3 [U]) → canonical field name.
STANDARD_FIELDS = MappingProxyType(
    {
        # keys seen in field_data[].name
        "full_name": "full_name",
        "first_name": "first_name",
        "last_name": "last_name",
        "email": "email",
        "work_email": "email",
        "phone_number": "phone",
        "work_phone_number": "phone",
        "company_name": "company",
        "job_title": "job_title",
        "street_address": "street",
        "city": "city",
        "zip_code": "zip",
        "post_code": "zip",
        "zip": "zip",
        "state": "state",
        "province": "state",
        "country": "country",
        "date_of_birth": "date_of_birth",
        "gender": "gender",
        # questions[].type enums
        "FULL_NAME": "full_name",
        "FIRST_NAME": "first_name",
        "LAST_NAME": "last_name",
        "EMAIL": "email",
        "WORK_EMAIL": "email",
        "PHONE": "phone",
        "WORK_PHONE_NUMBER": "phone",
        "COMPANY_NAME": "company",
        "JOB_TITLE": "job_title",
        "STREET_ADDRESS": "street",
        "CITY": "city",
        "ZIP": "zip",
        "POST_CODE": "zip",
        "STATE": "state",
        "PROVINCE": "state",
        "COUNTRY": "country",
        "DOB": "date_of_birth",
        "DATE_OF_BIRTH": "date_of_birth",
        "GENDER": "gender",
    }
)

#: sources used only when the personal email/phone is missing or invalid
_FALLBACK_SOURCES = frozenset(
    {"work_email", "work_phone_number", "WORK_EMAIL", "WORK_PHONE_NUMBER"}
)

# C0/C1 controls except tab/newline, bidi embeddings/overrides/isolates
# ("trojan source" reordering) and lone surrogates.
_STRIP_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_EMAIL_RE = re.compile(
    r"[^@\s\"(),:;<>\[\\\]]{1,64}@"
    r"(?:[^@\s\"(),:;<>\[\\\]._-][^@\s\"(),:;<>\[\\\].]{0,62}\.)+"
    r"[^\W\d_]{2,63}"
)
_MAILTO_RE = re.compile(r"^mailto:", re.IGNORECASE)
_TRUE_STRINGS = frozenset({"1", "true", "yes", "on", "checked"})
_PLATFORMS = MappingProxyType(
    {
        "fb": "facebook",
        "facebook": "facebook",
        "ig": "instagram",
        "instagram": "instagram",
    }
)
_GENDERS = MappingProxyType(
    {
        "m": "male",
        "male": "male",
        "man": "male",
        "erkek": "male",
        "bay": "male",
        "f": "female",
        "female": "female",
        "woman": "female",
        "kadin": "female",
        "bayan": "female",
    }
)

# Common country names (English, Turkish, native), romanized, casefolded,
# letters only → ISO 3166-1 alpha-2.  Plain alpha-2 codes are validated
# against phonenumbers' region list instead of a table.
_COUNTRY_NAMES = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "turkiye",
                "turkey",
                "turkei",
                "turquie",
                "tur",
                "turkiyecumhuriyeti",
                "republicofturkey",
                "republicofturkiye",
            ),
            "TR",
        ),
        **dict.fromkeys(("germany", "almanya", "deutschland", "deu", "ger"), "DE"),
        **dict.fromkeys(
            (
                "unitedstates",
                "unitedstatesofamerica",
                "usa",
                "abd",
                "amerika",
                "amerikabirlesikdevletleri",
            ),
            "US",
        ),
        **dict.fromkeys(
            (
                "unitedkingdom",
                "uk",
                "greatbritain",
                "britain",
                "england",
                "ingiltere",
                "birlesikkrallik",
                "gbr",
            ),
            "GB",
        ),
        **dict.fromkeys(
            (
                "netherlands",
                "thenetherlands",
                "holland",
                "hollanda",
                "nederland",
                "nld",
            ),
            "NL",
        ),
        **dict.fromkeys(("france", "fransa", "fra"), "FR"),
        **dict.fromkeys(("italy", "italya", "italia", "ita"), "IT"),
        **dict.fromkeys(("spain", "ispanya", "espana", "esp"), "ES"),
        **dict.fromkeys(("austria", "avusturya", "osterreich", "aut"), "AT"),
        **dict.fromkeys(("switzerland", "isvicre", "schweiz", "suisse", "che"), "CH"),
        **dict.fromkeys(("belgium", "belcika", "belgique", "belgie", "bel"), "BE"),
        **dict.fromkeys(("sweden", "isvec", "sverige", "swe"), "SE"),
        **dict.fromkeys(("norway", "norvec", "norge"), "NO"),
        **dict.fromkeys(("denmark", "danimarka", "danmark"), "DK"),
        **dict.fromkeys(("greece", "yunanistan", "grc"), "GR"),
        **dict.fromkeys(("bulgaria", "bulgaristan"), "BG"),
        **dict.fromkeys(("romania", "romanya"), "RO"),
        **dict.fromkeys(("poland", "polonya", "polska"), "PL"),
        **dict.fromkeys(
            ("russia", "rusya", "russianfederation", "rusyafederasyonu"), "RU"
        ),
        **dict.fromkeys(("ukraine", "ukrayna"), "UA"),
        **dict.fromkeys(("azerbaijan", "azerbaycan"), "AZ"),
        **dict.fromkeys(("georgia", "gurcistan"), "GE"),
        **dict.fromkeys(("iran",), "IR"),
        **dict.fromkeys(("iraq", "irak"), "IQ"),
        **dict.fromkeys(("syria", "suriye"), "SY"),
        **dict.fromkeys(("saudiarabia", "suudiarabistan"), "SA"),
        **dict.fromkeys(
            ("unitedarabemirates", "uae", "birlesikarapemirlikleri", "bae"), "AE"
        ),
        **dict.fromkeys(("qatar", "katar"), "QA"),
        **dict.fromkeys(("kazakhstan", "kazakistan"), "KZ"),
        **dict.fromkeys(("uzbekistan", "ozbekistan"), "UZ"),
        **dict.fromkeys(("cyprus", "kibris"), "CY"),
        **dict.fromkeys(("egypt", "misir"), "EG"),
        **dict.fromkeys(("canada", "kanada"), "CA"),
        **dict.fromkeys(("australia", "avustralya"), "AU"),
        **dict.fromkeys(("china", "cin"), "CN"),
        **dict.fromkeys(("japan", "japonya"), "JP"),
    }
)


def _clean_text(value, limit=MAX_VALUE_LENGTH):
    """Scalar → safe, trimmed str (see module docstring); None → ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        # 34000.0 (a zip read by a spreadsheet) → "34000"; nan/inf → ""
        if not math.isfinite(value):
            return ""
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        try:
            text = str(value)
        except ValueError:  # int beyond sys.get_int_max_str_digits()
            return ""
    # Slice before the regex so that a multi-megabyte value costs little;
    # stripping can only shorten it further.
    text = text[: limit * 2].replace("\r\n", "\n").replace("\r", "\n")
    return _STRIP_RE.sub("", text).strip()[:limit].strip()


def _single_line(value):
    return collapse_whitespace(value) or None


def _key(value):
    """A key or id as Meta sends it (str or JSON number), cleaned; else None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return _clean_text(as_id(value), _MAX_KEY_LENGTH) or None


def humanize_key(key, locale=None):
    """Label for a question key without form metadata.

    ``"hangi_hizmet_ile_ilgileniyorsunuz?"`` → ``"Hangi hizmet ile
    ilgileniyorsunuz?"`` (auto-slugs of labels, §5.3); the first letter is
    upper-cased with Turkish rules when :func:`~.text.is_turkish` says so.
    """
    text = collapse_whitespace(str(key).replace("_", " "))
    if not text:
        return ""
    first = upper_tr(text[0]) if is_turkish(text, locale) else text[0].upper()
    return first + text[1:]


def normalize_email(value):
    """Trim and lower-case (§7.5); None unless it looks like an address.

    The check is deliberately simple (one ``@``, a dotted domain with a
    letter TLD, no spaces or quotes); it only filters obvious garbage.
    """
    if not isinstance(value, str):
        return None
    text = _MAILTO_RE.sub("", value.strip()).replace("İ", "i").lower()
    if len(text) > 254 or not _EMAIL_RE.fullmatch(text):
        return None
    return text


def normalize_country(value):
    """ISO alpha-2 (upper) from a code or a common English/Turkish name."""
    if not isinstance(value, str):
        return None
    key = re.sub(r"[^a-z]", "", romanize_tr(casefold_tr(value)))
    code = _COUNTRY_NAMES.get(key)
    if code:
        return code
    if len(key) == 2 and key.upper() in phonenumbers.SUPPORTED_REGIONS:
        return key.upper()
    return None


def _gender(value):
    key = re.sub(r"[^a-z]", "", romanize_tr(casefold_tr(value)))
    return _GENDERS.get(key)


def _make_date(year, month, day):
    try:
        result = date(year, month, day)
    except ValueError:
        return None
    if result.year < 1900 or result > datetime.now(timezone.utc).date():
        return None
    return result


def _date_of_birth(value):
    text = value.strip()
    match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?", text)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return _make_date(year, month, day)
    match = re.fullmatch(r"(\d{1,2})([./])(\d{1,2})\2(\d{4})", text)
    if not match:
        return None
    first, sep, second, year = match.groups()
    first, second, year = int(first), int(second), int(year)
    if sep == "." or first > 12:
        return _make_date(year, second, first)
    if second > 12 or first == second:
        return _make_date(year, first, second)
    return None  # 03/04/1990: March 4th or 3 April?  Refuse to guess.


def _flag(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_STRINGS
    return False


def _platform(value):
    if not isinstance(value, str):
        return None
    return _PLATFORMS.get(value.strip().lower())


@dataclass(frozen=True)
class Answer:
    """One ``field_data`` item, labelled from the form.

    ``values`` are display values (option labels for multiple choice),
    ``raw_values`` the values as received (option keys); ``field`` is the
    canonical standard field (:data:`CANONICAL_FIELDS`) or None for a
    custom question; ``question_type`` comes from the form, None if unknown.
    """

    key: str
    label: str
    values: tuple[str, ...]
    question_type: str | None = None
    field: str | None = None
    raw_values: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.raw_values is None:
            object.__setattr__(self, "raw_values", self.values)

    @property
    def value(self):
        """The values joined with ", " (multi-select) for display."""
        return ", ".join(self.values)

    def to_dict(self):
        return {
            "key": self.key,
            "label": self.label,
            "values": list(self.values),
            "raw_values": list(self.raw_values),
            "question_type": self.question_type,
            "field": self.field,
        }


@dataclass(frozen=True)
class Consent:
    """One optional consent checkbox (``custom_disclaimer_responses``, §5.1)."""

    key: str
    label: str
    checked: bool

    def to_dict(self):
        return {"key": self.key, "label": self.label, "checked": self.checked}


@dataclass(frozen=True)
class NormalizedLead:
    """A lead ready to be mapped to CRM records; see :func:`normalize_lead`."""

    lead_id: str
    form_id: str | None = None
    page_id: str | None = None
    created_time: datetime | None = None
    ad_id: str | None = None
    ad_name: str | None = None
    adset_id: str | None = None
    adset_name: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    platform: str | None = None
    is_organic: bool = False
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    email_raw: str | None = None
    phone: str | None = None
    phone_raw: str | None = None
    company: str | None = None
    job_title: str | None = None
    street: str | None = None
    city: str | None = None
    zip: str | None = None
    state: str | None = None
    country_code: str | None = None
    country_raw: str | None = None
    date_of_birth: date | None = None
    gender: str | None = None
    answers: tuple[Answer, ...] = ()
    consents: tuple[Consent, ...] = ()

    @property
    def is_test(self):
        """A test lead (Meta's Lead Ads Testing Tool, ``POST {form}/test_leads``):
        organic, its answers Meta's placeholders
        ("<test lead: dummy data for email>"), no real person behind it."""
        return self.is_organic and any(
            _TEST_LEAD_RE.match(value or "")
            for answer in self.answers
            for value in answer.raw_values
        )

    def to_dict(self):
        """JSON-serialisable dict (datetimes/dates as ISO-8601 strings)."""
        result = {}
        for name in (item.name for item in fields(self)):
            value = getattr(self, name)
            if isinstance(value, datetime | date):
                value = value.isoformat()
            elif name in ("answers", "consents"):
                value = [item.to_dict() for item in value]
            result[name] = value
        return result


#: the placeholder Meta's test leads carry in their answers
_TEST_LEAD_RE = re.compile(r"\s*<test lead: dummy data for ", re.IGNORECASE)


# --------------------------------------------------------------- form metadata


def _index_questions(questions, checkboxes):
    """key → (label, type, {option key → label}); never raises."""
    index = {}
    for item in _dicts(checkboxes):
        key = _key(item.get("key"))
        if key:
            text = item.get("text") or item.get("label")
            index[key] = (_clean_text(text) if _is_scalar(text) else "", None, {})
    for item in _dicts(questions):
        key = _key(item.get("key"))
        if not key:
            continue
        label = item.get("label")
        qtype = item.get("type")
        index[key] = (
            _clean_text(label) if _is_scalar(label) else "",
            (_clean_text(qtype, 64) or None) if isinstance(qtype, str) else None,
            _options(item.get("options")),
        )
    return index


def _options(options):
    result = {}
    for option in _dicts(options):
        key, value = option.get("key"), option.get("value")
        if _is_scalar(key) and _is_scalar(value):
            option_key = _clean_text(key)
            if option_key:
                result[option_key] = _clean_text(value) or option_key
    return result


def _dicts(items):
    if not isinstance(items, list | tuple):
        return []
    return [item for item in items if isinstance(item, dict)]


def _is_scalar(value):
    return value is None or isinstance(value, str | int | float | bool)


def _standard_field(key, qtype):
    """(canonical field, is fallback source) for a question, or (None, False)."""
    if qtype and qtype.upper() in STANDARD_FIELDS:
        source = qtype.upper()
    elif key.lower() in STANDARD_FIELDS:
        source = key.lower()
    else:
        return None, False
    return STANDARD_FIELDS[source], source in _FALLBACK_SOURCES


# ------------------------------------------------------------------- answers


def _answer(position, item, index, locale):
    if not isinstance(item, dict):
        raise InvalidLeadError(f"field_data[{position}] is not an object")
    key = _key(item.get("name"))
    if key is None:
        raise InvalidLeadError(f"field_data[{position}] has no name")
    values = item.get("values")
    if not isinstance(values, list) or not all(_is_scalar(v) for v in values):
        raise InvalidLeadError(
            f"field_data[{position}] ({key!r}): values must be a list of scalars"
        )
    label, qtype, options = index.get(key, ("", None, {}))
    canonical, _fallback = _standard_field(key, qtype)
    raw = []
    for value in values[:MAX_VALUES]:
        text = _clean_text(value)
        if canonical is not None:
            text = strip_export_prefix(text)
        if text:
            raw.append(text)
    return Answer(
        key=key,
        label=label or humanize_key(key, locale) or key,
        values=tuple(options.get(text, text) for text in raw),
        question_type=qtype,
        field=canonical,
        raw_values=tuple(raw),
    )


def _standard_values(answers):
    """canonical field → non-empty values, personal sources before work ones."""
    collected = {}
    for answer in answers:
        if answer.field is None:
            continue
        _field, fallback = _standard_field(answer.key, answer.question_type)
        for value in answer.values:
            collected.setdefault(answer.field, []).append((fallback, value))
    return {
        name: [value for _fallback, value in sorted(items, key=lambda i: i[0])]
        for name, items in collected.items()
    }


def _first_valid(candidates, normalize):
    """(normalized, raw) of the first candidate that normalizes, else raw of first."""
    for candidate in candidates:
        normalized = normalize(candidate)
        if normalized:
            return normalized, candidate
    return None, (candidates[0] if candidates else None)


def _person(std, name, locale):
    values = std.get(name)
    return (normalize_person_name(values[0], locale) or None) if values else None


def _names(std, locale):
    """(full, first, last): each derived from the others when missing.

    Turkish casing is decided for the person, not per part: "ayşe" +
    "YILMAZ" must give "Yılmaz" although "YILMAZ" alone has no Turkish
    letter (see text.is_turkish).
    """
    parts = [
        std.get(name, [""])[0] for name in ("full_name", "first_name", "last_name")
    ]
    if is_turkish(" ".join(parts), locale):
        locale = "tr"
    full, first, last = (
        _person(std, name, locale) for name in ("full_name", "first_name", "last_name")
    )
    if not full:
        return " ".join(part for part in (first, last) if part) or None, first, last
    split_first, split_last = split_full_name(full)
    if not first and not last:
        return full, split_first, split_last or None
    # One part given: the rest of the full name at a word boundary, else the
    # plain split ("Ayşe Nur Yılmaz" + first "Ayşe" → last "Nur Yılmaz").
    if not first:
        suffix = " " + last
        first = full[: -len(suffix)] if full.endswith(suffix) else split_first
    elif not last:
        prefix = first + " "
        last = full[len(prefix) :] if full.startswith(prefix) else split_last or None
    return full, first, last


def _consents(responses, index, locale):
    consents = []
    for item in _dicts(responses)[:MAX_FIELDS]:
        key = _key(item.get("checkbox_key", item.get("key")))
        if key is None:
            continue
        label = index.get(key, ("",))[0]
        consents.append(
            Consent(
                key=key,
                label=label or humanize_key(key, locale) or key,
                checked=_flag(item.get("is_checked")),
            )
        )
    return tuple(consents)


def _text_field(lead, name):
    value = lead.get(name)
    return _single_line(_clean_text(value)) if _is_scalar(value) else None


def normalize_lead(
    lead,
    questions=None,
    *,
    default_region="TR",
    locale=None,
    checkboxes=None,
):
    """Normalize a Graph lead (docs/meta-facts.md §5.1) with its form's questions.

    :param lead: the lead JSON (``id``, ``field_data``, ``created_time``…).
    :param questions: the form's ``questions`` (§5.3), for labels, option
        labels and standard types; optional.
    :param default_region: ISO alpha-2 region for national phone spellings.
    :param locale: the form's locale (``"tr_TR"``) for name casing and
        humanized labels; None → decided from the text itself.
    :param checkboxes: the form's consent checkboxes (``{key, text}``) for
        consent labels; optional.
    :raises InvalidLeadError: only for structural problems (module docstring).
    """
    lead_id, field_data = _checked_lead(lead)
    index = _index_questions(questions, checkboxes)
    answers = tuple(
        _answer(position, item, index, locale)
        for position, item in enumerate(field_data[:MAX_FIELDS])
    )
    return NormalizedLead(
        lead_id=lead_id,
        **_origin_fields(lead),
        **_contact_fields(_standard_values(answers), default_region, locale),
        answers=answers,
        consents=_consents(lead.get("custom_disclaimer_responses"), index, locale),
    )


def _checked_lead(lead):
    """(lead id, field_data) of a structurally sound lead, else InvalidLeadError."""
    if not isinstance(lead, dict):
        raise InvalidLeadError(f"lead must be a JSON object, not {type(lead).__name__}")
    lead_id = _key(lead.get("id"))
    if lead_id is None:
        raise InvalidLeadError("lead has no id")
    if not is_node_id(lead_id):
        # the id becomes a unique key and a Graph path: it must be Meta's
        raise InvalidLeadError("lead id is not a Meta object id")
    field_data = lead.get("field_data")
    if not isinstance(field_data, list):
        raise InvalidLeadError(
            f"lead {lead_id}: field_data must be a list, "
            f"not {type(field_data).__name__}"
        )
    return lead_id, field_data


def _origin_fields(lead):
    """Where the lead came from: form, page, ad/ad set/campaign, platform, time."""
    ad_id = _key(lead.get("ad_id"))
    organic = lead.get("is_organic")
    return {
        "form_id": _key(lead.get("form_id")),
        "page_id": _key(lead.get("page_id")),
        "created_time": parse_time(lead.get("created_time")),
        "ad_id": ad_id,
        "ad_name": _text_field(lead, "ad_name"),
        "adset_id": _key(lead.get("adset_id")),
        "adset_name": _text_field(lead, "adset_name"),
        "campaign_id": _key(lead.get("campaign_id")),
        "campaign_name": _text_field(lead, "campaign_name"),
        "platform": _platform(lead.get("platform")),
        "is_organic": _flag(organic) if organic is not None else ad_id is None,
    }


def _contact_fields(std, default_region, locale):
    """The person's standard fields, normalized, from ``_standard_values``."""
    full_name, first_name, last_name = _names(std, locale)
    email, email_raw = _first_valid(std.get("email", []), normalize_email)
    phone, phone_raw = _first_valid(
        std.get("phone", []), lambda raw: normalize_phone(raw, default_region)
    )
    country_code, country_raw = _first_valid(std.get("country", []), normalize_country)
    result = {
        "full_name": full_name,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "email_raw": email_raw,
        "phone": phone,
        "phone_raw": phone_raw,
        "country_code": country_code,
        "country_raw": country_raw,
        "date_of_birth": _first_valid(std.get("date_of_birth", []), _date_of_birth)[0],
        "gender": _first_valid(std.get("gender", []), _gender)[0],
    }
    for name in ("company", "job_title", "street", "city", "zip", "state"):
        values = std.get(name)
        result[name] = _single_line(values[0]) if values else None
    return result
