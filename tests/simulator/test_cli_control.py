"""The CLI (``python -m meta_simulator``) and the ``/_sim/`` control API."""

import json
import os
import subprocess
import sys

import pytest
import requests
from sim_helpers import Graph, proof_for

from meta_simulator import payloads

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def demo_process(tmp_path):
    state = tmp_path / "state.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "meta_simulator", "--port", "0", "--seed", "0",
         "--fixture", "demo", "--state-file", str(state)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        yield json.loads(line), state
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_demo_fixture_serves_graph_and_control(demo_process):
    info, state = demo_process
    assert json.loads(state.read_text()) == info
    base, token = info["base_url"], info["system_user_token"]
    proof = proof_for(info["app_secret"], token)
    accounts = requests.get(
        f"{base}/v26.0/me/accounts",
        params={"access_token": token, "appsecret_proof": proof,
                "fields": "id,access_token,instagram_business_account"},
        timeout=5,
    ).json()["data"]  # fmt: skip
    assert accounts[0]["id"] == info["page_id"]
    assert accounts[0]["access_token"] == info["page_token"]
    assert accounts[0]["instagram_business_account"]["id"] == info["ig_account_id"]
    assert len(info["form_ids"]) == 2 and len(info["lead_ids"]) >= 2
    created = requests.post(
        f"{base}/_sim/leads",
        json={"form_id": info["form_ids"][0], "webhook": False},
        timeout=5,
    ).json()["leads"][0]
    page_proof = proof_for(info["app_secret"], info["page_token"])
    lead = requests.get(
        f"{base}/v26.0/{created['id']}",
        params={"access_token": info["page_token"], "appsecret_proof": page_proof},
        timeout=5,
    ).json()
    assert lead["id"] == created["id"]
    log = requests.get(f"{base}/_sim/requests", timeout=5).json()
    assert log["count"] == 2
    assert requests.get(f"{base}/_sim/fixture", timeout=5).json() == info


def test_cli_demo_is_deterministic(demo_process):
    info, _ = demo_process
    from meta_simulator import MetaSimulator
    from meta_simulator.fixtures import demo

    again = demo(MetaSimulator(seed=0))
    for key in ("page_id", "system_user_token", "page_token", "form_ids", "lead_ids"):
        assert again[key] == info[key]


def test_control_faults_clock_and_deny(world, graph):
    base = world.sim.base_url
    state = requests.post(
        f"{base}/_sim/faults",
        json={"throttle": {"code": 17, "calls": 1, "regain_minutes": 3}},
        timeout=5,
    ).json()
    assert state["throttles"][0]["code"] == 17
    assert graph.get("me").json()["error"]["code"] == 17
    assert graph.get("me").status_code == 200
    now = requests.post(f"{base}/_sim/clock", json={"advance": 60}, timeout=5).json()
    assert now["now"] == world.sim.clock.now()
    requests.post(f"{base}/_sim/deny", json={"object_id": world.form_id}, timeout=5)
    assert graph.get(world.form_id).json()["error"]["code"] == 10
    reset = requests.post(f"{base}/_sim/faults", json={"reset": True}, timeout=5)
    assert reset.json()["throttles"] == []
    bad = requests.post(f"{base}/_sim/deny", json={}, timeout=5)
    assert bad.status_code == 400
    assert requests.get(f"{base}/_sim/nothing", timeout=5).status_code == 404


def test_control_callback_leads_and_webhooks(world, receiver):
    base = world.sim.base_url
    config = requests.post(
        f"{base}/_sim/callback",
        json={"url": receiver.url, "verify_token": "hush", "verify": True},
        timeout=5,
    ).json()
    assert config["url"] == receiver.url
    requests.post(
        f"{base}/_sim/subscriptions",
        json={"page_id": world.page_id, "fields": ["leadgen"]},
        timeout=5,
    )
    answer = requests.post(
        f"{base}/_sim/leads", json={"form_id": world.form_id, "n": 3}, timeout=10
    ).json()
    assert len(answer["leads"]) == 3 and answer["webhook"]["delivered_updates"] == 3
    sent_ids = {
        change["value"]["leadgen_id"]
        for body in receiver.payloads()
        for entry in body["entry"]
        for change in entry["changes"]
    }
    assert sent_ids == {lead["id"] for lead in answer["leads"]}
    raw = payloads.instagram_mention("1784", "1790")
    result = requests.post(
        f"{base}/_sim/webhooks", json={"payloads": [raw]}, timeout=10
    ).json()
    assert result["sent"] is True and result["counts"]["succeeded"] == 1
    log = requests.get(f"{base}/_sim/webhooks/log", timeout=5).json()["data"]
    assert len(log) == 2 and log[-1]["status"] == 200
    shake = requests.post(f"{base}/_sim/handshake", json={}, timeout=5).json()
    assert shake["status"] == 200 and shake["body"] == shake["challenge"]
    requests.post(f"{base}/_sim/drop_webhooks", json={"drop": True}, timeout=5)
    dropped = requests.post(
        f"{base}/_sim/leads", json={"form_id": world.form_id}, timeout=5
    ).json()
    assert dropped["webhook"] is None and len(receiver.posts) == 2


def test_control_state_and_tokens(world):
    base = world.sim.base_url
    token = requests.post(
        f"{base}/_sim/tokens",
        json={"pages": [world.page_id], "scopes": ["pages_show_list"]},
        timeout=5,
    ).json()["access_token"]
    assert Graph(world.sim, token).get("me/accounts").json()["data"]
    requests.post(
        f"{base}/_sim/tokens/invalidate",
        json={"token": token, "subcode": 467},
        timeout=5,
    )
    error = Graph(world.sim, token).get("me").json()["error"]
    assert error["error_subcode"] == 467
    state = requests.get(f"{base}/_sim/state", timeout=5).json()
    assert state["pages"][0]["id"] == world.page_id
    assert state["forms"][0]["id"] == world.form_id
