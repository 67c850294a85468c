"""The comment-keeping INI editor and the nova/neutron settings."""

from __future__ import annotations

from novajoin.install import nova_conf
from novajoin.install.nova_conf import IniDocument, Setting

TEXT = """\
# header comment
[DEFAULT]
debug = true

[api]
# keep me
vendordata_providers = StaticJSON
vendordata_dynamic_targets = join@http://old:9999/v1/,
    other@http://x/

[other]
a = 1
"""


def test_get_handles_continuation_lines_and_defaults():
    doc = IniDocument(TEXT)
    assert doc.get("DEFAULT", "debug") == "true"
    assert nova_conf.split_list(doc.get("api", "vendordata_dynamic_targets")) == [
        "join@http://old:9999/v1/", "other@http://x/"]
    assert doc.get("api", "missing") is None


def test_merge_keeps_comments_and_other_entries_and_is_idempotent():
    doc = IniDocument(TEXT)
    settings = nova_conf.nova_settings(join_host="nj.example.test")
    changes = nova_conf.merge(doc, settings)
    text = doc.text()
    assert "# header comment" in text and "# keep me" in text and "a = 1" in text
    assert doc.get("api", "vendordata_providers") == "StaticJSON,DynamicJSON"
    # our target replaced the old join@ entry, the other target kept
    assert doc.get("api", "vendordata_dynamic_targets") == (
        "other@http://x/,join@http://nj.example.test:9999/v1/")
    assert doc.get("vendordata_dynamic_auth", "password") == nova_conf.PLACEHOLDER
    assert any("password = <placeholder>" in c for c in changes)
    assert text.index("vendordata_dynamic_connect_timeout") < text.index("[other]")
    assert nova_conf.merge(doc, settings) == []
    assert doc.text() == text
    assert nova_conf.check(doc, settings, "nova.conf") == []


def test_default_mode_keeps_operator_values():
    doc = IniDocument("[vendordata_dynamic_auth]\nauth_type = v3token\n")
    nova_conf.merge(doc, [Setting("vendordata_dynamic_auth", "auth_type", "password",
                                  "default")])
    assert doc.get("vendordata_dynamic_auth", "auth_type") == "v3token"


def test_check_names_the_wrong_setting():
    doc = IniDocument("[api]\nvendordata_dynamic_targets = join@http://wrong:9999/v1/\n")
    problems = nova_conf.check(doc, nova_conf.nova_settings(join_host="nj.example.test"),
                               "/etc/nova/nova.conf")
    assert ("/etc/nova/nova.conf [api] vendordata_dynamic_targets = join@http://wrong:9999/"
            "v1/, must include join@http://nj.example.test:9999/v1/") in problems
    assert "/etc/nova/nova.conf [notifications] notification_format is not set " \
           "(expected both)" in problems


def test_new_section_and_default_without_header():
    doc = IniDocument("debug = true\n")
    assert doc.set("DEFAULT", "verbose", "1")
    assert doc.set("oslo_messaging_notifications", "driver", "messagingv2")
    assert doc.text() == ("debug = true\nverbose = 1\n\n[oslo_messaging_notifications]\n"
                          "driver = messagingv2\n")


def test_ipv6_target():
    assert nova_conf.target_url("fd00::1") == "http://[fd00::1]:9999/v1/"
