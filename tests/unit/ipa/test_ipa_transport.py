"""IPAClient against an in-process fake IPA (httpx.MockTransport)."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from typing import Any

import httpx
import pytest
from ipa_fake import NAME, PASSWORD, URL, USER, FakeIPA, RecordingBackoff

from novajoin.ipa import (
    AuthenticationFailed,
    BatchItem,
    IPAClient,
    IPAServer,
    KerberosAuth,
    PasswordAuth,
    ProtocolError,
    TransportError,
    errors,
)

OTP = "OTP-7f3a9c-NEVER-LOGGED"


def _reset() -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError("Server disconnected without sending a response.")


# -- request shape ------------------------------------------------------------


def test_request_shape_and_headers(fake: FakeIPA, make_client: Any) -> None:
    fake.commands["host_show"] = lambda a, o: {"result": {"fqdn": a}, "value": a[0],
                                               "summary": None}
    client = make_client()
    result = client.call("host_show", "vm1.example.test", all=True)
    assert result == {"result": {"fqdn": ["vm1.example.test"]}, "value": "vm1.example.test",
                      "summary": None}
    login, call = fake.requests
    assert str(login.url) == f"{URL}/session/login_password"
    assert login.headers["Referer"] == f"https://{NAME}/ipa"
    assert login.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.method == "POST"
    assert str(call.url) == f"{URL}/session/json"
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["Accept"] == "application/json"
    assert call.headers["Referer"] == "https://ipa.example.test/ipa"
    assert call.headers["Cookie"] == "ipa_session=MagBearerToken=cookie1=="
    assert call.headers["Host"] == httpx.URL(URL).netloc.decode()
    assert call.headers["User-Agent"] == "novajoin-ipa-client"
    assert call.headers["Content-Length"] == str(len(call.content))
    body = json.loads(call.content)
    assert body["method"] == "host_show"
    assert body["params"] == [["vm1.example.test"], {"all": True, "version": "2.251"}]
    assert isinstance(body["id"], int)


def test_user_agent_is_configurable(fake: FakeIPA, make_client: Any) -> None:
    make_client(user_agent="novajoin-test/1.0").ping()
    assert [r.headers["User-Agent"] for r in fake.requests] == ["novajoin-test/1.0"] * 2


def test_api_version_is_configurable_and_caller_may_override(
    fake: FakeIPA, make_client: Any
) -> None:
    client = make_client(api_version="2.257")
    client.ping()
    client.call("ping", version="2.230")
    assert [b["params"][1]["version"] for b in fake.json_requests] == ["2.257", "2.230"]


def test_request_ids_are_unique(fake: FakeIPA, make_client: Any) -> None:
    client = make_client()
    for _ in range(5):
        client.ping()
    ids = [b["id"] for b in fake.json_requests]
    assert len(set(ids)) == 5


def test_servers_given_as_json_endpoints_are_normalised(fake: FakeIPA, make_client: Any) -> None:
    client = make_client((f"{URL}/session/json", NAME))
    client.ping()
    assert str(fake.requests[-1].url) == f"{URL}/session/json"


def test_one_login_per_session(fake: FakeIPA, make_client: Any) -> None:
    client = make_client()
    for _ in range(10):
        client.ping()
    assert fake.logins == 1


def test_context_manager_closes(fake: FakeIPA) -> None:
    with IPAClient(IPAServer(URL, name=NAME), auth=PasswordAuth(USER, PASSWORD),
                   transport=httpx.MockTransport(fake.handler)) as client:
        client.ping()
    with pytest.raises(RuntimeError):
        client.ping()  # the session is still cached: the JSON call itself refuses
    with pytest.raises(RuntimeError):
        client._http.post(f"{URL}/session/json")


# -- IPA errors ---------------------------------------------------------------


@pytest.mark.parametrize("cls", sorted(errors._BY_CODE.values(), key=lambda c: c.code))
def test_every_ipa_error_maps_to_its_class_without_retry(
    cls: type[errors.IPAError], fake: FakeIPA, make_client: Any, recorder: RecordingBackoff
) -> None:
    fake.fail_with["host_add"] = {"code": cls.code, "name": cls.name, "message": "boom",
                                  "data": {"reason": "x"}}
    client = make_client()
    with pytest.raises(cls) as info:
        client.call("host_add", "vm1.example.test", force=True)
    exc = info.value
    assert type(exc) is cls
    assert (exc.code, exc.name, exc.message, exc.data) == (cls.code, cls.name, "boom",
                                                           {"reason": "x"})
    assert exc.attempts == 1
    assert len(fake.json_requests) == 1  # command errors are never retried
    assert recorder.sleeps == []


def test_unknown_command_is_command_error(make_client: Any) -> None:
    with pytest.raises(errors.CommandError):
        make_client().call("no_such_command")


def test_non_json_answer_is_protocol_error(fake: FakeIPA, make_client: Any) -> None:
    client = make_client()
    client.ping()
    fake.commands["weird"] = lambda a, o: "not an object"
    with pytest.raises(ProtocolError):
        client.call("weird")


def test_unexpected_http_status_is_protocol_error(fake: FakeIPA, make_client: Any) -> None:
    fake.script["127.0.0.1:8443"] = [400]
    with pytest.raises(ProtocolError, match="HTTP 400"):
        make_client().ping()
    assert fake.json_hosts() == ["127.0.0.1:8443"]


# -- retries ------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [500, 502, 503, _reset, lambda: httpx.ConnectError("refused"),
     lambda: httpx.ReadTimeout("slow"), lambda: httpx.ConnectTimeout("slow"),
     lambda: httpx.ReadError("reset by peer")],
)
def test_transport_failures_are_retried(
    failure: Any, fake: FakeIPA, make_client: Any, recorder: RecordingBackoff
) -> None:
    fake.script["127.0.0.1:8443"] = [failure, failure]
    assert "summary" in make_client().ping()
    assert len(fake.json_hosts()) == 3
    # Full jitter: uniform in [0, base * 2**n]; the fake rng returns 0.5.
    assert recorder.sleeps == pytest.approx([0.05, 0.1])


def test_retries_are_bounded(fake: FakeIPA, make_client: Any, recorder: RecordingBackoff) -> None:
    fake.script["127.0.0.1:8443"] = [503] * 10
    client = make_client(connect_retries=2)
    with pytest.raises(TransportError, match=r"after 3 attempt\(s\): HTTP 503"):
        client.ping()
    assert len(fake.json_hosts()) == 3
    assert len(recorder.sleeps) == 2


def test_zero_retries_means_one_attempt(fake: FakeIPA, make_client: Any) -> None:
    fake.script["127.0.0.1:8443"] = [_reset]
    with pytest.raises(TransportError):
        make_client(connect_retries=0).ping()
    assert len(fake.json_hosts()) == 1


def test_backoff_is_capped(fake: FakeIPA, make_client: Any) -> None:
    recorder = RecordingBackoff(base=0.1, cap=0.3, jitter=1.0)
    fake.script["127.0.0.1:8443"] = [500] * 5
    make_client(connect_retries=5, backoff=recorder.backoff).ping()
    assert recorder.sleeps == pytest.approx([0.1, 0.2, 0.3, 0.3, 0.3])


def test_deadline_stops_retrying_early(fake: FakeIPA, make_client: Any) -> None:
    recorder = RecordingBackoff(base=10.0, cap=10.0, jitter=1.0)
    fake.script["127.0.0.1:8443"] = [500] * 10
    client = make_client(connect_retries=5, backoff=recorder.backoff, deadline=2.0)
    began = time.monotonic()
    with pytest.raises(TransportError, match="deadline"):
        client.ping()
    assert time.monotonic() - began < 1.0
    assert recorder.sleeps == []  # a 10 s pause would overrun the 2 s deadline
    assert len(fake.json_hosts()) == 1


def test_deadline_bounds_a_hanging_read(fake: FakeIPA) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        timeout = request.extensions["timeout"]
        assert timeout["read"] <= 0.5 and timeout["connect"] <= 0.5
        if request.url.path.endswith("/json"):
            raise httpx.ReadTimeout("timed out")
        return fake.handler(request)

    client = IPAClient(IPAServer(URL, name=NAME), auth=PasswordAuth(USER, PASSWORD),
                       transport=httpx.MockTransport(slow), timeout=30.0)
    began = time.monotonic()
    with pytest.raises(TransportError):
        client.request("ping", deadline=0.5)
    assert time.monotonic() - began < 1.5


def test_attempts_tell_a_retried_write_may_have_been_applied(
    fake: FakeIPA, make_client: Any
) -> None:
    fake.script["127.0.0.1:8443"] = [lambda: httpx.ReadTimeout("slow")]
    fake.fail_with["host_add"] = {"code": 4002, "name": "DuplicateEntry",
                                  "message": 'host with name "vm1" already exists', "data": {}}
    with pytest.raises(errors.DuplicateEntry) as info:
        make_client().call("host_add", "vm1.example.test")
    assert info.value.attempts == 2


def test_attempts_do_not_count_requests_that_never_left(fake: FakeIPA, make_client: Any) -> None:
    fake.script["127.0.0.1:8443"] = [lambda: httpx.ConnectError("refused"), 401]
    fake.fail_with["host_add"] = {"code": 4002, "name": "DuplicateEntry", "message": "dup",
                                  "data": {}}
    with pytest.raises(errors.DuplicateEntry) as info:
        make_client().call("host_add", "vm1.example.test")
    assert info.value.attempts == 1


# -- failover -----------------------------------------------------------------


def test_failover_to_next_server_and_stick_to_it(
    fake: FakeIPA, make_client: Any, recorder: RecordingBackoff
) -> None:
    servers = [("https://127.0.0.1:1/ipa", NAME), ("https://127.0.0.1:2/ipa", NAME)]
    fake.script["127.0.0.1:1"] = [lambda: httpx.ConnectError("refused")] * 10
    client = make_client(servers)
    client.ping()
    client.ping()
    assert fake.json_hosts() == ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:2"]
    assert recorder.sleeps == []  # no pause when moving to another server


def test_backoff_between_rounds_over_all_servers(
    fake: FakeIPA, make_client: Any, recorder: RecordingBackoff
) -> None:
    servers = [("https://127.0.0.1:1/ipa", NAME), ("https://127.0.0.1:2/ipa", NAME)]
    fake.script["127.0.0.1:1"] = [503] * 10
    fake.script["127.0.0.1:2"] = [503] * 10
    with pytest.raises(TransportError):
        make_client(servers, connect_retries=3).ping()
    assert fake.json_hosts() == ["127.0.0.1:1", "127.0.0.1:2"] * 2
    assert len(recorder.sleeps) == 1


def test_every_server_is_tried_even_with_few_retries(fake: FakeIPA, make_client: Any) -> None:
    servers = [(f"https://127.0.0.1:{p}/ipa", NAME) for p in (1, 2, 3)]
    fake.script["127.0.0.1:1"] = [503]
    fake.script["127.0.0.1:2"] = [503]
    make_client(servers, connect_retries=0).ping()
    assert fake.json_hosts() == ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]


def test_sessions_are_per_server(fake: FakeIPA, make_client: Any) -> None:
    servers = [("https://127.0.0.1:1/ipa", NAME), ("https://127.0.0.1:2/ipa", NAME)]
    fake.script["127.0.0.1:1"] = [lambda: httpx.ConnectError("refused")]
    client = make_client(servers)
    client.ping()
    logins = [r.url.netloc.decode() for r in fake.requests if "login" in r.url.path]
    assert logins == ["127.0.0.1:1", "127.0.0.1:2"]


# -- sessions and login -------------------------------------------------------


def test_401_logs_in_again_once_and_retries(fake: FakeIPA, make_client: Any) -> None:
    client = make_client()
    client.ping()
    fake.expire_sessions()
    client.ping()
    assert fake.logins == 2
    assert len(fake.json_requests) == 2
    assert fake.requests[-1].headers["Cookie"] == "ipa_session=MagBearerToken=cookie2=="


def test_persistent_401_fails_after_one_relogin(fake: FakeIPA, make_client: Any) -> None:
    fake.always_401 = True
    with pytest.raises(AuthenticationFailed, match="401"):
        make_client().ping()
    assert fake.logins == 2
    assert len(fake.json_hosts()) == 2


def test_wrong_password_is_authentication_failed_without_retry(
    fake: FakeIPA, make_client: Any, recorder: RecordingBackoff
) -> None:
    client = make_client(auth=PasswordAuth(USER, "wrong-" + PASSWORD))
    with pytest.raises(AuthenticationFailed) as info:
        client.ping()
    assert "invalid-password" in str(info.value)
    assert PASSWORD not in str(info.value) and PASSWORD not in repr(client)
    assert recorder.sleeps == [] and fake.json_hosts() == []


def test_login_5xx_is_retried(fake: FakeIPA, make_client: Any) -> None:
    failures = iter([httpx.Response(503), httpx.Response(502)])

    def handler(request: httpx.Request) -> httpx.Response:
        if "login" in request.url.path:
            response = next(failures, None)
            if response is not None:
                return response
        return fake.handler(request)

    make_client(transport=httpx.MockTransport(handler)).ping()
    assert fake.logins == 1


def test_secure_cookie_over_plain_http_is_refused(fake: FakeIPA, make_client: Any) -> None:
    with pytest.raises(AuthenticationFailed, match="plain http"):
        make_client(("http://127.0.0.1:8080/ipa", NAME)).ping()


def test_concurrent_first_calls_and_401_storm_cause_one_login_each(
    fake: FakeIPA, make_client: Any
) -> None:
    fake.login_delay = 0.05  # keep the login window open while threads pile up
    client = make_client()
    barrier = threading.Barrier(32)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            client.ping()
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    def run() -> None:
        threads = [threading.Thread(target=worker) for _ in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    run()
    assert failures == [] and fake.logins == 1
    fake.expire_sessions()
    run()
    assert failures == [] and fake.logins == 2
    assert len(fake.json_requests) == 64


def test_shared_client_under_load_with_expiring_sessions(fake: FakeIPA, make_client: Any) -> None:
    """Sessions keep ending while 16 threads call: no error, one login per expiry."""

    def slow_ping(args: list[Any], options: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.002)
        return {"summary": "pong"}

    fake.commands["ping"] = slow_ping
    client = make_client()
    expirations = 0
    failures: list[BaseException] = []

    def worker() -> None:
        for _ in range(25):
            try:
                client.ping()
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        time.sleep(0.02)
        # Sessions live at least 10 ms, as real ones live for minutes: a
        # session never ends between a login and the call that follows it.
        fake.expire_sessions(older_than=0.01)
        expirations += 1
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert len(fake.json_requests) == 400
    assert expirations >= 3
    assert 2 <= fake.logins <= expirations + 1


# -- batch --------------------------------------------------------------------


def test_batch_items_carry_results_or_typed_errors(fake: FakeIPA, make_client: Any) -> None:
    def batch(args: list[Any], options: dict[str, Any]) -> dict[str, Any]:
        results = []
        for method in args:
            name = method["method"]
            if name == "host_show":
                results.append({"result": {"fqdn": method["params"][0]}, "value": "a",
                                "summary": None, "error": None})
            else:
                results.append({"error": "a.example.test: host not found", "error_code": 4001,
                                "error_name": "NotFound", "error_kw": {"reason": "x"}})
        return {"count": len(results), "results": results}

    fake.commands["batch"] = batch
    items = make_client().batch([("host_show", ["a.example.test"]),
                                 ("host_del", ["b.example.test"], {"updatedns": True})])
    sent = fake.json_requests[0]
    assert sent["method"] == "batch"
    assert sent["params"][0] == [
        {"method": "host_show", "params": [["a.example.test"], {}]},
        {"method": "host_del", "params": [["b.example.test"], {"updatedns": True}]},
    ]
    assert sent["params"][1] == {"version": "2.251"}
    ok, failed = items
    assert isinstance(ok, BatchItem) and ok.ok
    assert ok.result == {"result": {"fqdn": ["a.example.test"]}, "value": "a", "summary": None}
    assert ok.unwrap() == ok.result
    assert not failed.ok and isinstance(failed.error, errors.NotFound)
    assert failed.error.message == "a.example.test: host not found"
    assert failed.error.data == {"reason": "x"}
    with pytest.raises(errors.NotFound):
        failed.unwrap()


def test_empty_batch_makes_no_request(fake: FakeIPA, make_client: Any) -> None:
    assert make_client().batch([]) == []
    assert fake.requests == []


def test_batch_with_wrong_item_count_is_protocol_error(fake: FakeIPA, make_client: Any) -> None:
    fake.commands["batch"] = lambda a, o: {"count": 0, "results": []}
    with pytest.raises(ProtocolError):
        make_client().batch([("ping", [])])


# -- Kerberos (GSSAPI replaced by a fake context) ------------------------------


class FakeContext:
    def __init__(self) -> None:
        self.complete = False
        self.steps: list[bytes | None] = []

    def step(self, token: bytes | None = None) -> bytes:
        self.steps.append(token)
        if token is not None:
            if token != b"server-token":
                import gssapi.exceptions

                raise gssapi.exceptions.GSSError(851968, 100001)
            self.complete = True
        return b"client-token"


def _kerberos_fake(fake: FakeIPA, mutual: str | None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/session/login_kerberos"):
            fake.requests.append(request)
            if request.headers.get("Authorization") != "Negotiate " + base64.b64encode(
                b"client-token"
            ).decode():
                return httpx.Response(401, headers={"WWW-Authenticate": "Negotiate"})
            fake.logins += 1
            fake.cookies["krb"] = time.monotonic()
            headers = [("Set-Cookie", "ipa_session=krb; Path=/ipa; Secure; HttpOnly")]
            if mutual is not None:
                headers.append(("WWW-Authenticate", f"Negotiate {mutual}"))
            return httpx.Response(200, headers=headers)
        return fake.handler(request)

    return httpx.MockTransport(handler)


def test_kerberos_login_sends_negotiate_and_checks_mutual_auth(
    fake: FakeIPA, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    contexts: list[FakeContext] = []
    auth = KerberosAuth("nova/novajoin.example.test@EXAMPLE.TEST", "/nonexistent.keytab")
    targets: list[str] = []

    def context(server: IPAServer) -> FakeContext:
        targets.append(server.gssapi_target)
        contexts.append(FakeContext())
        return contexts[-1]

    monkeypatch.setattr(auth, "_context", context)
    mutual = base64.b64encode(b"server-token").decode()
    client = make_client(auth=auth, transport=_kerberos_fake(fake, mutual))
    client.ping()
    client.ping()
    assert targets == ["HTTP@ipa.example.test"]  # one negotiation per session
    assert contexts[0].steps == [None, b"server-token"] and contexts[0].complete
    login = fake.requests[0]
    assert login.headers["Referer"] == "https://ipa.example.test/ipa"
    assert auth.ccache.startswith("MEMORY:novajoin-")


def test_kerberos_bad_mutual_token_fails(
    fake: FakeIPA, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = KerberosAuth("nova/novajoin.example.test@EXAMPLE.TEST", "/nonexistent.keytab")
    monkeypatch.setattr(auth, "_context", lambda server: FakeContext())
    bad = base64.b64encode(b"forged").decode()
    with pytest.raises(AuthenticationFailed, match="mutual authentication"):
        make_client(auth=auth, transport=_kerberos_fake(fake, bad)).ping()
    assert fake.json_requests == []


def test_kerberos_without_credentials_is_authentication_failed(
    fake: FakeIPA, make_client: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "krb5.conf"
    config.write_text("[libdefaults]\n default_realm = EXAMPLE.TEST\n dns_lookup_kdc = false\n")
    monkeypatch.setenv("KRB5_CONFIG", str(config))
    auth = KerberosAuth("nova/novajoin.example.test@EXAMPLE.TEST", tmp_path / "missing.keytab")
    with pytest.raises(AuthenticationFailed, match="Kerberos"):
        make_client(auth=auth, transport=_kerberos_fake(fake, None)).ping()


# -- logging ------------------------------------------------------------------


def test_debug_logs_and_errors_hold_no_secrets(
    fake: FakeIPA, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.commands["host_add"] = lambda a, o: {"result": {"randompassword": OTP}, "value": a[0],
                                              "summary": "Added host"}
    fake.fail_with["host_mod"] = {"code": 3009, "name": "ValidationError",
                                  "message": "invalid 'userpassword'", "data": {}}
    client = make_client()
    fake.script["127.0.0.1:8443"] = [503, _reset]
    client.call("host_add", "vm1.example.test", userpassword=OTP, force=True)
    with pytest.raises(errors.ValidationError) as info:
        client.call("host_mod", "vm1.example.test", userpassword=OTP)
    fake.expire_sessions()
    client.ping()
    text = caplog.text
    for secret in (PASSWORD, OTP, "MagBearerToken", "cookie1", "cookie2"):
        assert secret not in text
        assert secret not in str(info.value) and secret not in repr(info.value)
    commands = [r.getMessage() for r in caplog.records if r.name == "novajoin.ipa"]
    assert any("IPA host_add server=ipa.example.test attempt=3" in m and "outcome=ok" in m
               for m in commands)
    assert any("IPA host_add server=ipa.example.test attempt=1" in m and "HTTP 503" in m
               for m in commands)
    assert any("IPA host_mod" in m and "ValidationError (3009)" in m for m in commands)
    assert sum("IPA login" in m and "outcome=ok" in m for m in commands) == 2
    assert all("duration=" in m for m in commands if m.startswith("IPA host_add"))
