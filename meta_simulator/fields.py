"""``fields=`` parsing and projection (docs/meta-facts.md §1.1, §11 item 9).

Meta answers only the fields asked for (plus ``id``), so a client that
forgets a field really does not get it here either.  Supported syntax:
``a,b``, nesting ``instagram_business_account{id,username}`` and modifiers
``messages.limit(10){message}`` (modifiers are parsed and handed to the
field's builder; unknown ones are ignored like most of Meta's are).

Fields a newer Graph version removed (``MetaSimulator.drop_field``, §1.2)
are set for the call being answered with :func:`dropped_fields`: asked for,
they are "nonexisting" like any unknown name; among the defaults they are
left out.
"""

from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from . import errors


@dataclass
class FieldSel:
    """One requested field with its optional sub-selection and modifiers."""

    name: str
    sub: dict[str, "FieldSel"] | None = None
    modifiers: dict[str, str] = field(default_factory=dict)


class Ref(dict):
    """A nested node (page, IG account): rendered as ``{"id"}`` by default.

    Meta expands a referenced object to its id unless subfields are asked
    for with ``{…}``; structs such as ``questions`` come back whole.
    """

    def __init__(self, node_type: str, data: dict):
        super().__init__(data)
        self.node_type = node_type


#: node type (internal name or label) -> (label, names removed at the served
#: version); set per Graph call by :func:`dropped_fields`.
_DROPPED: ContextVar[Mapping[str, tuple[str, frozenset]] | None] = ContextVar(
    "meta_simulator_dropped_fields", default=None
)


@contextmanager
def dropped_fields(mapping: Mapping[str, tuple[str, frozenset]] | None):
    """Within the block, :func:`project` treats these fields as removed."""
    token = _DROPPED.set(mapping or None)
    try:
        yield
    finally:
        _DROPPED.reset(token)


def parse_fields(text: str | None) -> dict[str, FieldSel] | None:
    """Parse a ``fields`` value; ``None``/empty means "default fields"."""
    if text is None or not str(text).strip():
        return None
    return _Parser(str(text)).parse_list(top=True)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def _error(self):
        return errors.invalid_param(f"Syntax error in fields parameter: {self.text!r}")

    def _peek(self) -> str:
        self._skip_spaces()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _skip_spaces(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _name(self) -> str:
        self._skip_spaces()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "_-"
        ):
            self.pos += 1
        if start == self.pos:
            raise self._error()
        return self.text[start : self.pos]

    def _modifier_args(self) -> str:
        depth, start = 1, self.pos
        while self.pos < len(self.text) and depth:
            depth += {"(": 1, ")": -1}.get(self.text[self.pos], 0)
            self.pos += 1
        if depth:
            raise self._error()
        return self.text[start : self.pos - 1]

    def parse_list(self, top: bool) -> dict[str, FieldSel]:
        selection: dict[str, FieldSel] = {}
        while True:
            sel = FieldSel(self._name())
            while self._peek() == ".":
                self.pos += 1
                modifier = self._name()
                if self._peek() != "(":
                    raise self._error()
                self.pos += 1
                sel.modifiers[modifier] = self._modifier_args()
            if self._peek() == "{":
                self.pos += 1
                sel.sub = self.parse_list(top=False)
                if self._peek() != "}":
                    raise self._error()
                self.pos += 1
            selection[sel.name] = sel
            char = self._peek()
            if char == ",":
                self.pos += 1
                continue
            if (top and char == "") or (not top and char == "}"):
                return selection
            raise self._error()


def project(
    full: dict,
    selection: dict[str, FieldSel] | None,
    default: Iterable[str],
    node_type: str,
    *,
    strict: bool = True,
) -> dict:
    """Keep the requested (or default) fields of ``full``; ``id`` always.

    Unknown names raise Meta's "nonexisting field" error when ``strict``;
    ``None`` values are left out, as Meta omits empty fields.  Values may be
    callables taking the sub-selection, for fields that are costly to build.
    Meta appends ``id`` after the requested fields when it was not asked.
    A field the served version removed (:func:`dropped_fields`) is a
    nonexisting one when asked for and is left out of the defaults.
    """
    dropped = _DROPPED.get()
    label, gone = dropped.get(node_type, (node_type, ())) if dropped else ("", ())
    if selection:
        names = list(selection)
    else:
        names = [name for name in default if name not in gone]
    out = {}
    for name in names:
        if name in gone:
            if strict:
                raise errors.nonexisting_field(name, label)
            continue
        if name not in full:
            if strict:
                raise errors.nonexisting_field(name, node_type)
            continue
        sel = selection.get(name) if selection else None
        value = full[name]
        if callable(value):
            value = value(sel)
        if value is None:
            continue
        out[name] = _shape(value, sel.sub if sel else None)
    if full.get("id") is not None and "id" not in out:
        out["id"] = full["id"]
    return out


def _shape(value, sub: dict[str, FieldSel] | None):
    if isinstance(value, Ref):
        if sub is None:
            return {"id": value["id"]}
        return project(value, sub, (), value.node_type)
    if isinstance(value, list):
        return [_shape(item, sub) for item in value]
    if isinstance(value, dict) and sub is not None:
        # Structs (questions, options …) filtered leniently: their inner
        # schema is not a node type Meta validates against.
        return {k: _shape(v, sub[k].sub) for k, v in value.items() if k in sub}
    return value
