from __future__ import annotations

import pytest

from novajoin.ipa import Backoff, IPAServer
from novajoin.ipa.servers import parse_servers


@pytest.mark.parametrize(
    "url",
    [
        "https://ipa.example.com/ipa",
        "https://ipa.example.com/ipa/",
        "https://ipa.example.com/ipa/json",
        "https://ipa.example.com/ipa/session/json",
        "https://IPA.example.com/ipa/session/json/",
        "https://ipa.example.com",
    ],
)
def test_urls_normalise_to_the_base(url: str) -> None:
    server = IPAServer(url)
    assert server.url == "https://ipa.example.com/ipa"
    assert server.name == "ipa.example.com"
    assert server.json_url == "https://ipa.example.com/ipa/session/json"
    assert server.kerberos_login_url == "https://ipa.example.com/ipa/session/login_kerberos"
    assert server.password_login_url == "https://ipa.example.com/ipa/session/login_password"
    assert server.referer == "https://ipa.example.com/ipa"
    assert server.gssapi_target == "HTTP@ipa.example.com"


def test_name_override_for_an_ip_url() -> None:
    server = IPAServer("https://127.0.0.1:8443/ipa/json", name="IPA.Example.Test.")
    assert server.url == "https://127.0.0.1:8443/ipa"
    assert server.name == "ipa.example.test"
    assert server.referer == "https://ipa.example.test/ipa"  # no port, no IP
    assert server.gssapi_target == "HTTP@ipa.example.test"
    assert server.secure


def test_plain_http_only_when_the_url_says_so() -> None:
    assert not IPAServer("http://ipa.example.com/ipa").secure


@pytest.mark.parametrize(
    "url",
    ["ftp://ipa/ipa", "ipa.example.com/ipa", "https:///ipa", "https://u:pw@ipa/ipa",
     "https://ipa/ipa?x=1"],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError) as info:
        IPAServer(url)
    assert "pw" not in str(info.value).replace("pwd", "")


def test_parse_servers_forms() -> None:
    one = parse_servers("https://a.example/ipa")
    assert [s.name for s in one] == ["a.example"]
    pair = parse_servers(("https://127.0.0.1:1/ipa", "a.example"))
    assert [s.name for s in pair] == ["a.example"]
    many = parse_servers(
        ["https://a.example/ipa", ("https://127.0.0.1:2/ipa", "b.example"),
         IPAServer("https://c.example/ipa")]
    )
    assert [s.name for s in many] == ["a.example", "b.example", "c.example"]
    with pytest.raises(ValueError):
        parse_servers([])
    with pytest.raises(ValueError):
        parse_servers(["https://a.example/ipa", "https://a.example/ipa/json"])


def test_backoff_is_full_jitter_and_capped() -> None:
    low = Backoff(base=0.1, cap=1.0, random=lambda: 0.0)
    high = Backoff(base=0.1, cap=1.0, random=lambda: 0.999999)
    assert [low.delay(n) for n in range(6)] == [0.0] * 6
    bounds = [high.bound(n) for n in range(6)]
    assert bounds == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert all(high.delay(n) <= bounds[n] for n in range(6))
    real = Backoff(base=0.1, cap=1.0)
    samples = [real.delay(3) for _ in range(200)]
    assert all(0 <= s <= 0.8 for s in samples) and len(set(samples)) > 100
