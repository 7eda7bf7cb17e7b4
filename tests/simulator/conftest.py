"""Fixtures for the simulator tests (helpers live in ``sim_helpers``)."""

import pathlib
import sys
from types import SimpleNamespace

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sim_helpers import START, Graph, Receiver  # noqa: E402

from meta_simulator import FakeClock, MetaSimulator  # noqa: E402


@pytest.fixture
def clock():
    return FakeClock(start=START)


@pytest.fixture
def simulator(clock):
    with MetaSimulator(seed=0, clock=clock) as sim:
        yield sim


@pytest.fixture
def world(simulator):
    """One Page with IG, a user token managing it, one form, its page token."""
    page = simulator.add_page("Demo Mağaza", ig_account_id=True)
    user_token = simulator.add_user_token(pages=[page["id"]])
    page_token = simulator.page_token(user_token, page["id"])
    form = simulator.add_form(page["id"], "Kurumsal Teklif")
    return SimpleNamespace(
        sim=simulator,
        page=page,
        page_id=page["id"],
        user_token=user_token,
        page_token=page_token,
        form=form,
        form_id=form["id"],
    )


@pytest.fixture
def graph(world):
    """A client using the page token derived from the user token."""
    return Graph(world.sim, world.page_token)


@pytest.fixture
def user_graph(world):
    return Graph(world.sim, world.user_token)


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()
