"""Managed services, host classes and hostgroups end to end on the IPA simulator.

REST request (the real app in-process, ``direct_app``) → simulator state →
``InstanceLifecycle.instance_deleted`` (what novajoin-notify calls; one real
notification test lives in tests/functional/notify/test_notify_services.py)
→ clean state.  Round trips are counted from the simulator's call log.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import webob

from novajoin.api.deploy import direct_app
from novajoin.ipa import IPAClient
from novajoin.join import InstanceLifecycle, JoinService, JoinSettings
from novajoin.join.placement import PlacementPolicy, ProjectRule

PROJECT = "6f1e2d3c4b5a69788796a5b4c3d2e1f0"
OTHER_PROJECT = "0b8c1a4e6d1f4b0fa6a3d6d5c2b7e901"
WRITES = {"host_add", "host_mod", "host_del", "host_add_managedby", "host_remove_managedby",
          "service_add", "service_del", "service_add_host", "service_remove_host",
          "hostgroup_add_member"}


@pytest.fixture
def settings(fake_ipa: Any) -> JoinSettings:
    policy = PlacementPolicy({
        PROJECT: ProjectRule.from_lists(["webserver"], ["web", "db"]),
        OTHER_PROJECT: ProjectRule.from_lists(["*"], []),
    })
    return JoinSettings(domain=fake_ipa.domain, realm=fake_ipa.realm, ipa_server=fake_ipa.fqdn,
                        ipa_deadline=8.0, placement=policy)


@pytest.fixture
def post(ipa: IPAClient, settings: JoinSettings) -> Callable[..., dict[str, Any]]:
    app = direct_app(JoinService(ipa, settings, otp_key=secrets.token_bytes(32)))

    def call(instance: str, hostname: str, metadata: dict[str, str],
             project: str = PROJECT) -> dict[str, Any]:
        body = {"project-id": project, "instance-id": instance, "image-id": None,
                "user-data": None, "hostname": hostname, "boot-roles": "member",
                "metadata": {"ipa_enroll": "True", **metadata}}
        request = webob.Request.blank("/v1/", method="POST", body=json.dumps(body).encode(),
                                      content_type="application/json")
        response = request.get_response(app)
        assert response.status_int == 200, response.text
        return response.json

    return call


@pytest.fixture
def lifecycle(ipa: IPAClient, settings: JoinSettings) -> InstanceLifecycle:
    return InstanceLifecycle(ipa, settings, deadline=10.0)


def state(fake_ipa: Any) -> dict[str, Any]:
    return fake_ipa.admin.state()


def novajoin_objects(fake_ipa: Any) -> tuple[set[str], set[str]]:
    """Hosts (without the IPA server) and services (without the server's own)."""
    snap = state(fake_ipa)
    server = fake_ipa.fqdn
    hosts = {h for h in snap["hosts"] if h != server}
    services = {s for s in snap["services"] if f"/{server}@" not in s}
    return hosts, services


def calls_since(fake_ipa: Any, seq: int) -> list[dict[str, Any]]:
    return [c for c in fake_ipa.admin.calls(seq) if c["method"]]


def count_writes(calls: list[dict[str, Any]]) -> int:
    """Writes, including those inside a batch (its params list the nested calls)."""
    total = 0
    for call in calls:
        method = call["method"].split("/")[0]
        if method == "batch":
            nested = call["params"][0] if call["params"] else []
            total += sum(1 for item in nested
                         if isinstance(item, dict) and item.get("method", "").split("/")[0]
                         in WRITES)
        elif method in WRITES:
            total += 1
    return total


def test_managed_service_round_trip_and_counts(fake_ipa, post, lifecycle) -> None:
    instance = str(uuid.uuid4())
    vip = f"overcloud.internalapi.{fake_ipa.domain}"
    metadata = {"managed_service_http": f"HTTP/{vip}",
                "managed_service_own": f"nfs/web1.{fake_ipa.domain}"}
    seq = fake_ipa.admin.last_call_seq()
    answer = post(instance, "web1", metadata)
    first = calls_since(fake_ipa, seq)
    fqdn = f"web1.{fake_ipa.domain}"
    assert answer["hostname"] == fqdn and answer["ipaotp"]
    assert sorted(answer["services"]) == sorted([f"HTTP/{vip}@{fake_ipa.realm}",
                                                 f"nfs/{fqdn}@{fake_ipa.realm}"])
    assert "errors" not in answer
    snap = state(fake_ipa)
    assert sorted(snap["hosts"][vip]["managedby"]) == sorted([vip, fqdn])
    assert snap["hosts"][vip]["attrs"]["description"][0].startswith("novajoin:subhost:v1 ")
    http = snap["services"][f"http/{vip}@{fake_ipa.realm}".lower()]
    assert sorted(http["managedby"]) == sorted([vip, fqdn])
    # First request: batch of reads, host_add, batch of writes.
    assert [c["method"].split("/")[0] for c in first] == ["batch", "host_add", "batch"]
    # host; subhost + its manager; HTTP + its manager; nfs on the own host
    assert count_writes(first) == 6
    # Repeat requests (config drive x6, metadata): one batch read, no write.
    for _ in range(3):
        seq = fake_ipa.admin.last_call_seq()
        again = post(instance, "web1", metadata)
        repeat = calls_since(fake_ipa, seq)
        assert again["ipaotp"] == answer["ipaotp"] and again["services"] == answer["services"]
        assert [c["method"].split("/")[0] for c in repeat] == ["batch"]
        assert count_writes(repeat) == 0

    outcome = lifecycle.instance_deleted(instance)
    assert outcome.changed
    assert novajoin_objects(fake_ipa) == (set(), set())


def test_first_request_write_count(fake_ipa, post) -> None:
    vip = f"vip.ctlplane.{fake_ipa.domain}"
    seq = fake_ipa.admin.last_call_seq()
    post(str(uuid.uuid4()), "one", {"managed_service_a": f"HTTP/{vip}"})
    calls = calls_since(fake_ipa, seq)
    batch = calls[-1]["params"][0]
    assert [i["method"].split("/")[0] for i in batch] == [
        "host_add", "host_add_managedby", "service_add", "service_add_host"]


def test_compact_service_formats(fake_ipa, post, lifecycle) -> None:
    domain = fake_ipa.domain
    instance = str(uuid.uuid4())
    answer = post(instance, "ctl0", {
        "compact_service_http": json.dumps(["internalapi", "storage"]),
        "compact_service_haproxy": json.dumps(["ctlplane"]),
        # ignored: compact_service_ keys exist
        "compact_services": json.dumps({"mysql": ["internalapi"]}),
    })
    expected = {f"http/ctl0.internalapi.{domain}", f"http/ctl0.storage.{domain}",
                f"haproxy/ctl0.ctlplane.{domain}"}
    assert {s.split("@")[0].lower() for s in answer["services"]} == expected
    hosts, services = novajoin_objects(fake_ipa)
    assert hosts == {f"ctl0.{domain}", f"ctl0.internalapi.{domain}", f"ctl0.storage.{domain}",
                     f"ctl0.ctlplane.{domain}"}
    assert {s.split("@")[0] for s in services} == expected
    lifecycle.instance_deleted(instance)
    assert novajoin_objects(fake_ipa) == (set(), set())

    legacy = str(uuid.uuid4())
    answer = post(legacy, "ctl1", {
        "compact_services": json.dumps({"mysql": ["internalapi"], "http": ["external"]})})
    assert {s.split("@")[0].lower() for s in answer["services"]} == {
        f"mysql/ctl1.internalapi.{domain}", f"http/ctl1.external.{domain}"}
    lifecycle.instance_deleted(legacy)
    assert novajoin_objects(fake_ipa) == (set(), set())


def test_bad_items_are_reported_not_fatal(fake_ipa, post, caplog) -> None:
    answer = post(str(uuid.uuid4()), "bad1", {
        "compact_service_http": "[not json",
        "compact_services": "{}",
        "managed_service_x": "no-slash",
        "managed_service_y": "HTTP/outside.example.org",
        "managed_service_z": f"host/z.{fake_ipa.domain}",
        "managed_service_ok": f"ldap/ok.{fake_ipa.domain}",
    })
    assert answer["ipaotp"]
    items = {e["item"] for e in answer["errors"]}
    assert items == {"compact_service_http", "managed_service_x", "managed_service_y",
                     "managed_service_z"}
    assert answer["services"] == [f"ldap/ok.{fake_ipa.domain}@{fake_ipa.realm}"]
    lines = [r for r in caplog.records if "not applied" in r.getMessage()]
    assert len(lines) == 4


def test_shared_service_survives_first_delete(fake_ipa, post, lifecycle) -> None:
    vip = f"shared.internalapi.{fake_ipa.domain}"
    principal = f"http/{vip}@{fake_ipa.realm}".lower()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    post(first, "node1", {"managed_service_http": f"HTTP/{vip}"})
    post(second, "node2", {"managed_service_http": f"HTTP/{vip}",
                           "managed_service_nfs": f"nfs/{vip}"})
    node1, node2 = f"node1.{fake_ipa.domain}", f"node2.{fake_ipa.domain}"
    snap = state(fake_ipa)
    assert set(snap["services"][principal]["managedby"]) == {vip, node1, node2}
    assert set(snap["hosts"][vip]["managedby"]) == {vip, node1, node2}

    assert lifecycle.instance_deleted(first).changed
    snap = state(fake_ipa)
    assert node1 not in snap["hosts"] and vip in snap["hosts"]
    assert set(snap["services"][principal]["managedby"]) == {vip, node2}
    assert set(snap["hosts"][vip]["managedby"]) == {vip, node2}

    assert lifecycle.instance_deleted(second).changed
    assert novajoin_objects(fake_ipa) == (set(), set())


def test_subhost_not_ours_or_other_project_is_refused(fake_ipa, ipa, post, lifecycle) -> None:
    foreign = f"foreign.{fake_ipa.domain}"
    ipa.request("host_add", [foreign], {"force": True})
    vip = f"vip.{fake_ipa.domain}"
    post(str(uuid.uuid4()), "owner1", {"managed_service_a": f"HTTP/{vip}"})
    other = str(uuid.uuid4())
    answer = post(other, "intruder", {"managed_service_a": f"HTTP/{foreign}",
                                      "managed_service_b": f"HTTP/{vip}",
                                      "managed_service_c": f"HTTP/owner1.{fake_ipa.domain}"},
                  project=OTHER_PROJECT)
    errors = {e["item"]: e["error"] for e in answer["errors"]}
    assert "not a novajoin subhost" in errors["managed_service_a"]
    assert "another project" in errors["managed_service_b"]
    assert "not a novajoin subhost" in errors["managed_service_c"]
    assert "services" not in answer
    snap = state(fake_ipa)
    intruder = f"intruder.{fake_ipa.domain}"
    assert intruder not in snap["hosts"][vip]["managedby"]
    assert intruder not in snap["hosts"][foreign]["managedby"]
    lifecycle.instance_deleted(other)
    assert foreign in state(fake_ipa)["hosts"] and vip in state(fake_ipa)["hosts"]


def test_hostclass_and_hostgroups_policy(fake_ipa, ipa, post, lifecycle) -> None:
    for group in ("web", "db", "admins"):
        ipa.request("hostgroup_add", [group], {})
    instance = str(uuid.uuid4())
    answer = post(instance, "web7", {"ipa_hostclass": "webserver,dbserver",
                                     "ipa_hostgroups": "web, admins,DB, missing!"})
    assert answer["ipaotp"]
    assert answer["hostclass"] == ["webserver"] and answer["hostgroups"] == ["web", "db"]
    errors = {e["item"]: e["error"] for e in answer["errors"]}
    assert errors == {"ipa_hostclass:dbserver": "not allowed for this project",
                      "ipa_hostgroups:admins": "not allowed for this project",
                      "ipa_hostgroups:missing!": "not a valid name"}
    snap = state(fake_ipa)
    fqdn = f"web7.{fake_ipa.domain}"
    assert snap["hosts"][fqdn]["attrs"]["userclass"] == ["webserver"]
    assert fqdn in snap["hostgroups"]["web"]["members"]["host"]
    assert fqdn in snap["hostgroups"]["db"]["members"]["host"]
    assert "host" not in snap["hostgroups"]["admins"]["members"]
    # Repeat: no write; the refusals are reported again.
    seq = fake_ipa.admin.last_call_seq()
    again = post(instance, "web7", {"ipa_hostclass": "webserver,dbserver",
                                    "ipa_hostgroups": "web, admins,DB, missing!"})
    assert count_writes(calls_since(fake_ipa, seq)) == 0 and again["errors"] == answer["errors"]

    # Any class for OTHER_PROJECT, no group; a group that does not exist is reported.
    other = str(uuid.uuid4())
    seq = fake_ipa.admin.last_call_seq()
    answer = post(other, "any1", {"ipa_hostclass": "anything"}, project=OTHER_PROJECT)
    assert answer["hostclass"] == ["anything"] and "errors" not in answer
    assert [c["method"].split("/")[0] for c in calls_since(fake_ipa, seq)] == [
        "host_show", "host_add"]  # the class rides on host_add
    lifecycle.instance_deleted(instance)
    lifecycle.instance_deleted(other)
    snap = state(fake_ipa)
    assert "host" not in snap["hostgroups"]["web"]["members"]


def test_unknown_project_gets_nothing(fake_ipa, post) -> None:
    answer = post(str(uuid.uuid4()), "nobody", {"ipa_hostgroups": "web"},
                  project="a" * 32)
    assert answer["ipaotp"] and "hostgroups" not in answer
    assert answer["errors"] == [{"item": "ipa_hostgroups:web",
                                 "error": "not allowed for this project"}]


def test_update_adds_services_that_appeared(fake_ipa, post, lifecycle) -> None:
    instance = str(uuid.uuid4())
    post(instance, "grow1", {})
    metadata = {"ipa_enroll": "True", "compact_service_http": json.dumps(["internalapi"])}
    seq = fake_ipa.admin.last_call_seq()
    outcome = lifecycle.instance_updated(instance, metadata)
    assert outcome.changed and outcome.round_trips == 3
    principal = f"http/grow1.internalapi.{fake_ipa.domain}@{fake_ipa.realm}".lower()
    assert principal in state(fake_ipa)["services"]
    seq = fake_ipa.admin.last_call_seq()
    again = lifecycle.instance_updated(instance, metadata)
    assert not again.changed and again.round_trips == 2
    assert count_writes(calls_since(fake_ipa, seq)) == 0
    # A service that disappeared from the metadata stays until the instance goes.
    assert not lifecycle.instance_updated(instance, {"ipa_enroll": "True"}).changed
    assert principal in state(fake_ipa)["services"]
    lifecycle.instance_deleted(instance)
    assert novajoin_objects(fake_ipa) == (set(), set())
