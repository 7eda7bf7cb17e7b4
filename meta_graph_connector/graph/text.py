"""Turkish-aware text helpers (casing, romanization, name splitting).

Why this module exists (docs/meta-facts.md §7.5): Python's default case mapping is
wrong for Turkish dotted/dotless i.  ``"İSTANBUL".lower()`` gives
``"i̇stanbul"`` (an ``i`` followed by U+0307 COMBINING DOT ABOVE) and
``"IŞIK".lower()`` gives ``"işik"``.  Both break matching keys, audience
hashes and the display of names typed in ALL CAPS.  The fix is to map
``İ→i`` / ``I→ı`` before lowering and ``i→İ`` / ``ı→I`` before upper-casing.

The Turkish mapping is, however, wrong for most other languages ("SMITH"
would become "Smıth"), and a lead form does not tell us the language of a
name.  :func:`normalize_person_name` therefore decides per value:

* Turkish rules when the locale starts with ``tr`` (the form's locale, e.g.
  ``tr_TR``) or when the text contains a letter that only a Turkish-aware
  writer produces: ``ğ Ğ ş Ş ı İ``.  ``ç ö ü`` are deliberately *not*
  evidence: they are common in French/German/Portuguese names
  ("FRANÇOIS", "JÜRGEN KLINSMANN") and would wrongly dot-less their ``I``.
* standard (Unicode default) rules otherwise.

Known limitation: on a Turkish form an ALL-CAPS foreign name containing
``I`` ("JOHN SMITH") becomes "John Smıth"; we accept that because on such
forms ALL-CAPS Turkish names without other Turkish letters ("AYDIN") are far
more common.  Mixed-case input is never re-cased, so a name typed properly
(or pre-filled from the profile by Meta) is kept as is.
"""

import functools
import re
import unicodedata

__all__ = [
    "TURKISH_EVIDENCE_LETTERS",
    "casefold_tr",
    "collapse_whitespace",
    "is_turkish",
    "lower_tr",
    "normalize_person_name",
    "romanize_tr",
    "split_full_name",
    "title_tr",
    "upper_tr",
]

#: letters whose presence means the writer distinguishes dotted/dotless i
#: (see module docstring for why ç, ö, ü are not in this set).
TURKISH_EVIDENCE_LETTERS = frozenset("ğĞşŞıİ")

_TO_LOWER_TR = str.maketrans({"İ": "i", "I": "ı"})
_TO_UPPER_TR = str.maketrans({"i": "İ", "ı": "I"})
_ROMANIZE_TR = str.maketrans(
    {
        "ç": "c",
        "ğ": "g",
        "ı": "i",
        "ö": "o",
        "ş": "s",
        "ü": "u",
        "Ç": "C",
        "Ğ": "G",
        "İ": "I",
        "Ö": "O",
        "Ş": "S",
        "Ü": "U",
        # left over by a non-Turkish lower() of "İ" (see module docstring)
        "\u0307": None,
    }
)
_WHITESPACE_RE = re.compile(r"\s+")


def _nfc(s):
    # "I" + U+0307 typed on some keyboards is the same letter as "İ": compose
    # first so that the translation tables see a single code point.
    return unicodedata.normalize("NFC", s)


#: Meta's CSV/spreadsheet lead exports prefix values by type ("p:+90…",
#: "z:34000", "e:…"); a value copied from one may carry it.
_EXPORT_PREFIX_RE = re.compile(r"^[a-z]:(?=\S)")


def strip_export_prefix(s):
    """``"p:+905321234567"`` → ``"+905321234567"``; other text unchanged."""
    return _EXPORT_PREFIX_RE.sub("", s, count=1)


def collapse_whitespace(s):
    """Strip and collapse every whitespace run (incl. NBSP, newlines) to one space."""
    return _WHITESPACE_RE.sub(" ", s).strip()


def lower_tr(s):
    """Lower-case with Turkish rules: ``İ→i``, ``I→ı`` (``"IŞIK"`` → ``"ışık"``)."""
    return _nfc(s).translate(_TO_LOWER_TR).lower()


def casefold_tr(s):
    """Case-fold for comparisons with Turkish rules (like :func:`lower_tr`).

    Unlike :func:`lower_tr` it also folds e.g. ``ß`` to ``ss``; use it for
    matching keys, never for display.
    """
    return _nfc(s).translate(_TO_LOWER_TR).casefold()


def upper_tr(s):
    """Upper-case with Turkish rules: ``i→İ``, ``ı→I`` ("istanbul" → "İSTANBUL")."""
    return _nfc(s).translate(_TO_UPPER_TR).upper()


def _upper_first(ch, turkish):
    if turkish and ch in "iı":
        return "İ" if ch == "i" else "I"
    # title() rather than upper(): right for digraphs such as "ǆ" → "ǅ".
    return ch.title()


def _lower_rest(ch, turkish):
    if ch == "İ":
        # Never produce "i" + U+0307, whatever the language.
        return "i"
    if turkish and ch == "I":
        return "ı"
    return ch.lower()


def title_tr(s, turkish=True):
    """Title-case a name: first letter of each word upper, the rest lower.

    A word starts at the beginning or after any character that is neither a
    letter nor a combining mark, so hyphenated and apostrophe names work:
    ``"ayşe-nur"`` → ``"Ayşe-Nur"``, ``"o'neil"`` → ``"O'Neil"``.  With
    ``turkish=True`` the dotted/dotless i pairs use Turkish rules
    (``"ibrahim işık"`` → ``"İbrahim Işık"``); with ``turkish=False`` the
    standard ones (``"JOHN SMITH"`` → ``"John Smith"``).  Particles such as
    "van", "de" or "Mc" are not special-cased.
    """
    out = []
    at_word_start = True
    for ch in _nfc(s):
        if ch.isalpha():
            if at_word_start:
                out.append(_upper_first(ch, turkish))
            else:
                out.append(_lower_rest(ch, turkish))
            at_word_start = False
        elif unicodedata.category(ch).startswith("M"):
            # combining marks belong to the letter before them
            out.append(ch)
        else:
            out.append(ch)
            at_word_start = True
    return "".join(out)


def is_turkish(s, locale=None):
    """Should Turkish casing rules apply to ``s``? (see module docstring)."""
    if isinstance(locale, str) and locale.strip().lower().startswith("tr"):
        return True
    return any(ch in TURKISH_EVIDENCE_LETTERS for ch in _nfc(s or ""))


def normalize_person_name(s, locale="tr_TR"):
    """Clean a person's name for display.

    Whitespace is collapsed and stripped.  The name is re-cased with
    :func:`title_tr` only when all its cased letters are upper case or all
    are lower case (``"AYŞE YILMAZ"`` → ``"Ayşe Yılmaz"``); a mixed-case name
    ("McDonald", "Ludwig van Beethoven") is kept as typed.  Turkish rules
    apply according to :func:`is_turkish`.  Returns ``""`` for ``None``,
    non-strings and blank input.
    """
    if not isinstance(s, str):
        return ""
    s = collapse_whitespace(_nfc(s))
    cased = [ch for ch in s if ch.isupper() or ch.islower()]
    if not cased:
        return s
    if all(ch.isupper() for ch in cased) or all(ch.islower() for ch in cased):
        return title_tr(s, turkish=is_turkish(s, locale))
    return s


def romanize_tr(s):
    """Transliterate Turkish letters to ASCII for matching keys.

    ``ç→c ğ→g ı→i ö→o ş→s ü→u`` and their capitals (``İ→I``), case is kept
    (docs/meta-facts.md §7.5: CT/ST are romanized before hashing; FN/LN match
    better romanized).  Other characters are left alone.
    """
    return _nfc(s).translate(_ROMANIZE_TR)


def place_key(s):
    """A matching key for place names typed any way: Turkish-aware case
    folding, Turkish letters romanized, other accents dropped, whitespace
    collapsed ("İSTANBUL", "istanbul", "Istanbul" → "istanbul";
    "ŞANLIURFA" → "sanliurfa"). For comparisons only, never for display."""
    if not isinstance(s, str):
        return ""
    return _place_key(str(s))


@functools.lru_cache(maxsize=4096)
def _place_key(s):
    # the same few names (a country's provinces, the cities typed) are keyed
    # for every lead of a backfill: a pure function of the text, kept
    folded = romanize_tr(casefold_tr(s))
    decomposed = unicodedata.normalize("NFKD", folded)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return collapse_whitespace(plain)


def split_full_name(full):
    """Split a full name: the last word is the last name, the rest the first.

    ``"Ayşe Nur Yılmaz"`` → ``("Ayşe Nur", "Yılmaz")``; a single word gives
    ``(word, "")``; blank or non-string input gives ``("", "")``.  Compound
    surnames ("de la Cruz") cannot be recognised reliably and are not tried.
    """
    if not isinstance(full, str):
        return "", ""
    words = collapse_whitespace(full).split(" ")
    if len(words) == 1:
        return words[0], ""
    return " ".join(words[:-1]), words[-1]
