"""Pure parts of managed services and placement: metadata parsing, policy, subhost marker."""

from __future__ import annotations

import json

from oslo_config import cfg

from novajoin.conf import projects
from novajoin.join import marker, placement, services
from novajoin.join.placement import PlacementPolicy, ProjectRule

DOMAIN, REALM = "example.test", "EXAMPLE.TEST"
FQDN = f"vm1.{DOMAIN}"


def parse(metadata: dict[str, str]):
    requests, errors = services.parse(metadata, hostname=FQDN, domain=DOMAIN, realm=REALM)
    return [r.principal for r in requests], {e.item: e.error for e in errors}


def test_managed_service_principals() -> None:
    found, errors = parse({"managed_service_a": "HTTP/VIP.Example.Test",
                           "managed_service_b": f"nfs/vip.{DOMAIN}@{REALM}",
                           "managed_service_c": f"nfs/vip.{DOMAIN}@OTHER.TEST",
                           "managed_service_d": "HTTP",
                           "managed_service_e": "HTTP/vip.other.org",
                           "managed_service_f": f"host/vip.{DOMAIN}",
                           "managed_service_g": f"bad name/vip.{DOMAIN}",
                           "managed_service_h": f"HTTP/under_score.{DOMAIN}",
                           "unrelated": "x"})
    assert found == [f"HTTP/vip.{DOMAIN}", f"nfs/vip.{DOMAIN}"]
    assert set(errors) == {"managed_service_c", "managed_service_d", "managed_service_e",
                           "managed_service_f", "managed_service_g", "managed_service_h"}
    assert "realm" in errors["managed_service_c"]


def test_compact_formats_and_legacy_precedence() -> None:
    found, errors = parse({"compact_service_http": json.dumps(["internalapi", "Storage"]),
                           "compact_services": json.dumps({"mysql": ["internalapi"]})})
    assert found == [f"http/vm1.internalapi.{DOMAIN}", f"http/vm1.storage.{DOMAIN}"]
    assert errors == {}
    found, errors = parse({"compact_services": json.dumps({"mysql": ["internalapi"],
                                                           "x": "notalist"})})
    assert found == [f"mysql/vm1.internalapi.{DOMAIN}"]
    assert list(errors) == ["compact_services:x"]
    found, errors = parse({"compact_service_http": "{bad", "compact_service_a": '"str"',
                           "compact_service_b": json.dumps(["ok", "not a label", 3])})
    assert found == [f"b/vm1.ok.{DOMAIN}"]
    assert set(errors) == {"compact_service_http", "compact_service_a", "compact_service_b"}


def test_duplicates_and_bound() -> None:
    found, _ = parse({"managed_service_a": f"HTTP/vm1.net.{DOMAIN}",
                      "compact_service_HTTP": json.dumps(["net"])})
    assert len(found) == 1
    many = {"compact_service_s": json.dumps([f"n{i}" for i in range(40)])}
    found, errors = parse(many)
    assert len(found) == services.MAX_SERVICES and "services" in errors


def test_requested_needs_no_policy_for_plain_metadata() -> None:
    assert not services.requested({"ipa_enroll": "true"})
    assert not placement.requested({"ipa_hostgroups": " , "})
    assert placement.requested({"ipa_hostclass": "web"})


def test_placement_decisions() -> None:
    rule = ProjectRule.from_lists(["web"], ["WebServers", "db"])
    chosen = placement.decide({"ipa_hostclass": "web,db", "ipa_hostgroups": "webservers,x y"},
                              rule)
    assert chosen.classes == ("web",) and chosen.hostgroups == ("webservers",)
    assert {e.item: e.error for e in chosen.errors} == {
        "ipa_hostclass:db": "not allowed for this project",
        "ipa_hostgroups:x y": "not a valid name"}
    anything = ProjectRule.from_lists(["*"], ["*"])
    assert placement.decide({"ipa_hostgroups": "a,b"}, anything).hostgroups == ("a", "b")
    refused = placement.decide({"ipa_hostclass": "web"}, None)
    assert refused.empty and len(refused.errors) == 1


def test_policy_by_id_then_name() -> None:
    by_id, by_name = ProjectRule.from_lists(["a"], []), ProjectRule.from_lists(["b"], [])
    policy = PlacementPolicy({"p1": by_id, "demo": by_name})
    assert policy.rule_for("p1", "demo") is by_id
    assert policy.rule_for("p2", "demo") is by_name
    assert policy.rule_for("p2") is None and policy.needs_name("p2")
    assert not policy.needs_name("p1")


def test_policy_from_config_sections(tmp_path) -> None:
    path = tmp_path / "join.conf"
    path.write_text("[DEFAULT]\ndomain = example.test\n"
                    "[6f1e2d3c4b5a69788796a5b4c3d2e1f0]\nallowed_classes = web, db\n"
                    "[demo]\nallowed_hostgroups = *\n"
                    "[keystone_authtoken]\nauth_type = password\n")
    conf = cfg.ConfigOpts()
    conf([], project="novajoin", default_config_files=[str(path)])
    policy = projects.build_policy(conf)
    assert set(policy.rules) == {"6f1e2d3c4b5a69788796a5b4c3d2e1f0", "demo"}
    rule = policy.rules["6f1e2d3c4b5a69788796a5b4c3d2e1f0"]
    assert rule.allows_class("db") and not rule.allows_hostgroup("web")
    assert policy.rules["demo"].hostgroups is None


def test_subhost_marker_is_never_a_host_marker() -> None:
    sub = marker.SubhostMarker("proj1", "0f3c4a5e-1b2c-4d5e-8f90-a1b2c3d4e5f6")
    text = sub.format()
    assert marker.parse_subhost(["admin note", text]) == sub
    assert marker.parse(text) is None
    assert marker.parse_subhost(text + "\n" + text.replace("proj1", "proj2")) is None
    assert marker.parse_subhost("novajoin:subhost:v1 project=proj1") is None
    assert marker.parse_subhost(None) is None
