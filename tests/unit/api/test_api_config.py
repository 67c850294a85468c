"""Configuration: options, defaults, committed samples up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from novajoin import conf as novajoin_conf
from novajoin.api import deploy

ROOT = Path(__file__).resolve().parents[3]
ETC = ROOT / "etc" / "novajoin"
BIN = Path(sys.executable).parent


def test_original_options_and_defaults():
    conf = novajoin_conf.load([], config_files=[])
    assert conf.join_listen_port == 9999
    assert conf.api_paste_config == "join-api-paste.ini"
    assert conf.debug is False
    assert conf.auth_strategy == "keystone"
    assert conf.url == []
    assert conf.keytab == "/etc/krb5.keytab"
    assert conf.domain is None
    assert conf.connect_retries == 2
    assert conf.project_subdomain is False
    assert conf.normalize_project is True
    assert conf.cafile == "/etc/ipa/ca.crt"
    assert conf.otp_key_file == "/etc/novajoin/otp.key"
    assert conf.ipa_deadline < 5.0  # nova's read timeout
    assert conf.healthcheck.backends == ["novajoin_ipa"]
    assert conf.max_request_body_size > 64 * 1024 + 128 * 512


def test_config_file_and_several_urls(tmp_path):
    path = tmp_path / "join.conf"
    path.write_text("[DEFAULT]\nurl = https://a.example/ipa, https://b.example/ipa\n"
                    "auth_strategy = noauth\ndomain = example.test\n"
                    "[service_credentials]\nauth_type = password\nusername = novajoin\n")
    conf = novajoin_conf.load(["--config-file", str(path)])
    assert conf.url == ["https://a.example/ipa", "https://b.example/ipa"]
    assert conf.auth_strategy == "noauth"
    assert conf.service_credentials.auth_type == "password"


def test_bad_auth_strategy_is_refused(tmp_path):
    path = tmp_path / "join.conf"
    path.write_text("[DEFAULT]\nauth_strategy = none\n")
    conf = novajoin_conf.load(["--config-file", str(path)])
    with pytest.raises(ValueError):
        _ = conf.auth_strategy


@pytest.mark.parametrize(("text", "words"), [
    ("", "url"),
    ("url = https://ipa.example.test/ipa\n", "domain"),
    ("url = https://ipa.example.test/ipa\ndomain = example.test\notp_key_file = /nonexistent/k\n",
     "does not exist"),
])
def test_config_errors_are_clear(tmp_path, text, words):
    path = tmp_path / "join.conf"
    path.write_text("[DEFAULT]\n" + text)
    conf = novajoin_conf.load(["--config-file", str(path)])
    with pytest.raises(deploy.ConfigError, match=words):
        deploy.build_context(conf)


def test_packaged_paste_file_matches_etc():
    assert (ETC / "join-api-paste.ini").read_text() == deploy.DEFAULT_PASTE.read_text()


def test_paste_file_lookup(tmp_path):
    conf = novajoin_conf.load([], config_files=[])
    assert deploy.paste_config_path(conf) == str(deploy.DEFAULT_PASTE)
    local = tmp_path / "join-api-paste.ini"
    local.write_text(deploy.DEFAULT_PASTE.read_text())
    config = tmp_path / "join.conf"
    config.write_text("[DEFAULT]\n")
    conf = novajoin_conf.load(["--config-file", str(config)])
    assert deploy.paste_config_path(conf) == str(local)


def _generated(tool: str, config: Path, tmp_path: Path) -> str:
    out = tmp_path / "sample"
    subprocess.run([str(BIN / tool), "--config-file", str(config), "--output-file", str(out)],
                   check=True, cwd=ROOT, capture_output=True)
    return out.read_text()


def test_config_sample_is_up_to_date(tmp_path):
    generated = _generated("oslo-config-generator", ETC / "novajoin-config-generator.conf",
                           tmp_path)
    assert generated == (ETC / "join.conf.sample").read_text(), (
        "etc/novajoin/join.conf.sample is out of date: run oslo-config-generator "
        "--config-file etc/novajoin/novajoin-config-generator.conf")


def test_policy_sample_is_up_to_date(tmp_path):
    generated = _generated("oslopolicy-sample-generator",
                           ETC / "novajoin-policy-generator.conf", tmp_path)
    assert generated == (ETC / "policy.yaml.sample").read_text(), (
        "etc/novajoin/policy.yaml.sample is out of date: run oslopolicy-sample-generator "
        "--config-file etc/novajoin/novajoin-policy-generator.conf")
