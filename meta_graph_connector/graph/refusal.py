"""Meta's words about a request it refused, for the person who can fix it.

Meta's ``message`` is generic ("Invalid parameter"); the same error often
carries ``error_user_title`` and ``error_user_msg``, written for people,
which name the field and what is wrong with it ("Server-side API parameter
error: The parameter $['data'][0]['event_time'] …"). Those are shown when
Meta gave them, its ``message`` otherwise (docs/meta-facts.md §8).
"""

from .errors import GraphError, quoted


def _clean(text):
    return " ".join(str(text or "").split()).rstrip(" .")


def words(error):
    """Meta's words about ``error``, unquoted: ``"<title>: <message>"`` from
    its ``error_user_title``/``error_user_msg``, else its ``message``."""
    if isinstance(error, GraphError):
        said = [_clean(part) for part in (error.user_title, error.user_message)]
        said = [part for part in said if part]
        if said:
            return ": ".join(said)
    return quoted(error).strip("“”")


def quoted_words(error):
    """:func:`words` as a quotation inside a sentence of ours (see
    :func:`~.errors.quoted`)."""
    text = words(error)
    return f"“{text}”" if text else ""
