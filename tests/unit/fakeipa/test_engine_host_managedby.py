"""host_add_managedby / host_remove_managedby: IPA's member semantics on ``managedby``."""

from __future__ import annotations

import pytest

from novajoin.ipa import errors

VIP = "vip.example.test"
VM = "vm1.example.test"


@pytest.fixture
def hosts(call) -> None:
    call("host_add", VIP, force=True)
    call("host_add", VM, force=True)


def test_add_and_remove_managedby(call, hosts) -> None:
    added = call("host_add_managedby", VIP, host=[VM, "ghost.example.test", VIP])
    assert added["completed"] == 1
    assert added["failed"] == {"managedby": {"host": [
        ["ghost.example.test", "no such entry"], [VIP, "This entry is already a member"]]}}
    assert added["result"]["managedby_host"] == [VIP, VM]
    again = call("host_add_managedby", VIP, host=[VM])
    assert again["completed"] == 0
    assert call("host_find", man_by_host=[VM])["count"] == 2  # VM manages itself and VIP

    removed = call("host_remove_managedby", VIP, host=[VM, VM.replace("vm1", "vm2")])
    assert removed["completed"] == 1
    assert removed["failed"]["managedby"]["host"] == [["vm2.example.test", "no such entry"]]
    assert removed["result"]["managedby_host"] == [VIP]
    gone = call("host_remove_managedby", VIP, host=[VM])
    assert gone["failed"]["managedby"]["host"] == [[VM, "This entry is not a member"]]


def test_managedby_of_missing_host(call) -> None:
    with pytest.raises(errors.NotFound, match=r"ghost\.example\.test: host not found"):
        call("host_add_managedby", "ghost.example.test", host=[VM])


def test_host_del_drops_manager_links(call, hosts) -> None:
    call("host_add_managedby", VIP, host=[VM])
    call("service_add", f"HTTP/{VIP}", force=True)
    call("service_add_host", f"HTTP/{VIP}", host=[VM])
    call("host_del", VM)
    assert call("host_show", VIP)["result"]["managedby_host"] == [VIP]
    assert call("service_show", f"HTTP/{VIP}")["result"]["managedby_host"] == [VIP]

