"""One door to Meta: every Graph call, app call, page and download of the
addon goes through ``meta.connection``'s door (models/meta_connection.py),
which throttles, flags token and app errors and observes usage. A client
built, or an HTTP call made, anywhere else is a side door that skips all of
that: this scan lists them."""

import ast
from pathlib import Path

ADDON = Path(__file__).resolve().parents[2] / "meta_graph_connector"
DOOR = ADDON / "models" / "meta_connection.py"
LAYERS = ("models", "wizard", "controllers", "report")

#: Calls that reach Meta (or any address) by themselves, by the end of their
#: dotted name: a client, an HTTP library, the checked file fetch, and the
#: door's own private builders.
SIDE_DOOR_CALLS = (
    "GraphClient",
    "GraphClient.for_app",
    "requests.get",
    "requests.post",
    "requests.put",
    "requests.delete",
    "requests.head",
    "requests.request",
    "requests.Session",
    "requests.session",
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
    "urllib.request.urlopen",
    "messaging.download",
    "fetch.fetch",
    "_meta_client",
    "_meta_app_client",
    "_meta_open_client",
)

#: Modules whose import outside the door is already a side door.
SIDE_DOOR_MODULES = ("requests", "http.client", "urllib.request", "urllib3")


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _side_doors(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if any(
                name == call or name.endswith(f".{call}") for call in SIDE_DOOR_CALLS
            ):
                found.append((node.lineno, f"{name}(...)"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(SIDE_DOOR_MODULES):
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {alias.name for alias in node.names}
            if (
                module.startswith(SIDE_DOOR_MODULES)
                or module.endswith("graph.client")
                and "GraphClient" in names
                or module.endswith("graph")
                and "fetch" in names
                or module.endswith("graph.fetch")
            ):
                found.append((node.lineno, f"from {module} import ..."))
    return sorted(found)


def test_every_call_to_meta_goes_through_the_door():
    side_doors = [
        f"{path.relative_to(ADDON)}:{line}: {what}"
        for layer in LAYERS
        for path in sorted((ADDON / layer).rglob("*.py"))
        if path != DOOR
        for line, what in _side_doors(path)
    ]
    assert not side_doors, "Calls to Meta outside meta.connection's door:\n" + (
        "\n".join(side_doors)
    )


def test_the_scan_sees_a_side_door(tmp_path):
    """The scan is not blind: each kind of side door is reported."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import requests\n"
        "from ..graph.client import GraphClient\n"
        "def f(self, token):\n"
        "    GraphClient(token).get('me')\n"
        "    GraphClient.for_app('1', 's')\n"
        "    requests.get('https://graph.facebook.com/me')\n"
        "    self.env['meta.connection']._meta_app_client()\n"
        "    messaging.download('https://cdn.example/x')\n",
        encoding="utf-8",
    )
    assert [line for line, _what in _side_doors(sample)] == [1, 2, 4, 5, 6, 7, 8]
