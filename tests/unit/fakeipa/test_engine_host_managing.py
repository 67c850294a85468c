"""``managing`` on host_show / host_find (and host_add / host_mod) with ``all``, as IPA 4.x.

IPA's post-callbacks add the hosts whose managedBy names the host (``get_managed_hosts``,
which includes the host itself: host_add makes every host manage itself); like every
member attribute the DNs become ``managing_host`` names unless ``raw``.  Without ``all``
there is no such key; nothing managed gives no key either.
"""

from __future__ import annotations

from typing import Any

import pytest

VIP = "vip.example.test"
VM = "vm1.example.test"
OTHER = "vm2.example.test"
BASE = "cn=computers,cn=accounts,dc=example,dc=test"


def dn(fqdn: str) -> str:
    return f"fqdn={fqdn},{BASE}"


@pytest.fixture
def hosts(call) -> None:
    for name in (VIP, VM, OTHER):
        call("host_add", name, force=True, description=f"about {name}")
    call("host_add_managedby", VIP, host=[VM])


def find_one(call, fqdn: str, **options: Any) -> dict[str, Any]:
    answer = call("host_find", fqdn, **options)
    [entry] = [e for e in answer["result"] if e["fqdn"] == [fqdn]]
    return entry


def test_show_with_all_lists_managed_hosts_itself_included(call, hosts) -> None:
    assert call("host_show", VM, all=True)["result"]["managing_host"] == [VIP, VM]
    assert call("host_show", OTHER, all=True)["result"]["managing_host"] == [OTHER]
    raw = call("host_show", VM, all=True, raw=True)["result"]
    assert raw["managing"] == [dn(VIP), dn(VM)]
    assert "managing_host" not in raw
    assert "managing" not in call("host_show", VM, all=True)["result"]


def test_without_all_there_is_no_managing(call, hosts) -> None:
    for options in ({}, {"raw": True}, {"no_members": True}):
        entry = call("host_show", VM, **options)["result"]
        assert "managing" not in entry and "managing_host" not in entry
        entry = find_one(call, VM, **options)
        assert "managing" not in entry and "managing_host" not in entry


def test_find_with_all_renders_it_per_entry_whatever_no_members(call, hosts) -> None:
    for no_members in (True, False):
        assert find_one(call, VM, all=True, no_members=no_members)["managing_host"] == [VIP, VM]
        assert find_one(call, VIP, all=True, no_members=no_members)["managing_host"] == [VIP]
    assert find_one(call, VM, all=True, raw=True)["managing"] == [dn(VIP), dn(VM)]
    # pkey_only: IPA's post-callback returns before adding it.
    answer = call("host_find", VM, all=True, pkey_only=True)
    assert all(set(e) == {"dn", "fqdn"} for e in answer["result"])


def test_nothing_managed_means_no_key(call, hosts) -> None:
    call("host_remove_managedby", OTHER, host=[OTHER])  # allowed, if odd
    entry = call("host_show", OTHER, all=True)["result"]
    assert "managing_host" not in entry and "managing" not in entry
    assert "managing" not in call("host_show", OTHER, all=True, raw=True)["result"]


def test_follows_managedby_changes_and_deletes(call, hosts) -> None:
    call("host_add_managedby", OTHER, host=[VM])
    assert call("host_show", VM, all=True)["result"]["managing_host"] == [VIP, VM, OTHER]
    call("host_remove_managedby", VIP, host=[VM])
    call("host_del", OTHER)
    assert call("host_show", VM, all=True)["result"]["managing_host"] == [VM]


def test_add_and_mod_with_all_render_it_too(call, hosts) -> None:
    added = call("host_add", "vm3.example.test", force=True, all=True)["result"]
    assert added["managing_host"] == ["vm3.example.test"]
    modified = call("host_mod", VM, description="changed", all=True)["result"]
    assert modified["managing_host"] == [VIP, VM]
    assert "managing_host" not in call("host_mod", VM, description="again")["result"]


def test_member_commands_do_not_render_it(call, hosts) -> None:
    result = call("host_add_managedby", OTHER, host=[VM], all=True)["result"]
    assert "managing_host" not in result and "managing" not in result


def test_a_long_find_renders_each_entry_its_own(call, hosts) -> None:
    for i in range(6):
        call("host_add", f"extra{i}.example.test", force=True)
    call("host_add_managedby", "extra0.example.test", host=[VM, OTHER])
    answer = call("host_find", "example.test", all=True, sizelimit=0)
    managing = {e["fqdn"][0]: e.get("managing_host") for e in answer["result"]}
    assert len(managing) == 10  # the 9 above and the IPA server
    assert managing[VM] == ["extra0.example.test", VIP, VM]
    assert managing[OTHER] == ["extra0.example.test", OTHER]
    assert managing["extra3.example.test"] == ["extra3.example.test"]
    assert managing[VIP] == [VIP]
