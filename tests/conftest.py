"""Root of the pytest suite: the framework-free core and the Meta simulator.

The core lives inside the Odoo addon (``meta_graph_connector/graph``) but never
imports Odoo; importing ``meta_graph_connector`` itself would run the addon's
``__init__`` (which does import Odoo), so the addon folder goes on ``sys.path``
and the core is imported as the top-level package ``graph``, exactly the way
its relative imports allow.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "meta_graph_connector"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from meta_simulator import MetaSimulator  # noqa: E402

APP_ID = "111111"
APP_SECRET = "sim_app_secret"


@pytest.fixture
def sim():
    """A started simulator with its own port, stopped after the test."""
    simulator = MetaSimulator(seed=7, app_id=APP_ID, app_secret=APP_SECRET)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


class _RecordedSleeps:
    """A client's ``sleep``: records backoff delays instead of sleeping."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


@pytest.fixture
def page(sim):
    return sim.add_page(name="Kadıköy Mobilya")


@pytest.fixture
def page_client(sim, page):
    """The core's Graph client with the Page's token, backoff not slept."""
    from graph.client import GraphClient

    return GraphClient(
        page["access_token"],
        app_secret=APP_SECRET,
        base_url=sim.base_url,
        sleep=_RecordedSleeps(),
        timeout=(2, 2),
    )
