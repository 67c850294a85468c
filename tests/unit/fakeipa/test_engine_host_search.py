"""host_find's criteria: IPA's case-insensitive substring match over the search attributes.

The simulator answers it through a word index (``state.SubstringIndex``) kept up to date by
the host commands; these tests hold it to the plain definition (``_common.matches`` over
every host), through adds, changes, enrollment, deletes and a reset.
"""

from __future__ import annotations

import random
import uuid

import pytest

from novajoin.fakeipa.commands._common import matches
from novajoin.fakeipa.commands.host import SEARCH_ATTRS
from novajoin.fakeipa.engine import Engine
from novajoin.fakeipa.state import SubstringIndex
from novajoin.join.marker import Marker, search_term


def expected(engine: Engine, criteria: str) -> list[str]:
    """The definition: every host with ``criteria`` inside one of its search values."""
    return sorted(k for k, h in engine.state.hosts.items()
                  if matches(h.attrs, criteria, SEARCH_ATTRS))


def found(call, criteria: str, **options) -> list[str]:
    answer = call("host_find", criteria, sizelimit=0, **options)
    return [e["fqdn"][0] for e in answer["result"]]


def marker(instance: str) -> str:
    return Marker(instance, "proj", "nonce1234").format()


def test_marker_search_finds_exactly_the_owner(call) -> None:
    ids = [str(uuid.uuid4()) for _ in range(30)]
    for i, instance in enumerate(ids):
        call("host_add", f"vm{i}.example.test", force=True, description=marker(instance))
    for i, instance in enumerate(ids):
        assert found(call, search_term(instance)) == [f"vm{i}.example.test"]
        assert found(call, search_term(instance).upper()) == [f"vm{i}.example.test"]
    assert found(call, search_term(str(uuid.uuid4()))) == []


def test_matches_the_definition_on_random_needles(engine, call) -> None:
    rng = random.Random(7)
    words = ["alpha", "beta", "x1", "Ünïcode", "ΣΑΣ", "a-b", "web", "db", "instance=ab"]
    for i in range(60):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 5)))
        options = {"description": text} if text else {}
        if i % 3 == 0:
            options["nshostlocation"] = rng.choice(words) + "/" + rng.choice(words)
        call("host_add", f"h{i}.{rng.choice(['a', 'b'])}.example.test", force=True, **options)
    needles = ["a", "ab", "b c", "x1 w", "-b", "a-b web", "=ab", "instance=ab",
               "h1", "h1.", ".example.test", "host/h2", "@example.test", "example.test@",
               "ünï", "σας", "ΣΑΣ", "beta alpha", "lpha bet", "web/db", "zzz", "x"]
    for _ in range(40):
        start = rng.randrange(len(words))
        needles.append(" ".join(words[start:start + 2])[rng.randint(0, 2):].strip())
    for needle in filter(None, needles):  # IPA refuses leading / trailing spaces
        assert found(call, needle) == expected(engine, needle), needle


def test_no_match_across_two_values(engine, call) -> None:
    call("host_add", "vm1.example.test", force=True, description="end", nshostlocation="start")
    for needle in ("endstart", "end start", "end\x00start", "startend"):
        assert found(call, needle) == expected(engine, needle) == [], needle
    assert found(call, "d") == ["vm1.example.test"]


def test_follows_changes_enrollment_deletes_and_reset(engine, call) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    call("host_add", "vm1.example.test", force=True, description=marker(first),
         userpassword="Secret123")
    assert found(call, search_term(first)) == ["vm1.example.test"]
    call("host_mod", "vm1.example.test", description=marker(second))
    assert found(call, search_term(first)) == []
    assert found(call, search_term(second)) == ["vm1.example.test"]
    call("host_mod", "vm1.example.test", addattr=["description=extra line"])
    assert found(call, "extra line") == ["vm1.example.test"]
    call("host_mod", "vm1.example.test", setattr=["l=Lab 3"])
    assert found(call, "lab 3") == ["vm1.example.test"]

    # Enrollment gives the host its principal: searchable from then on.
    assert found(call, "host/vm1.example.test@") == []
    engine.enroll("vm1.example.test", "Secret123")
    assert found(call, "host/vm1.example.test@") == ["vm1.example.test"]

    call("host_del", "vm1.example.test")
    assert found(call, search_term(second)) == []
    call("host_add", "vm1.example.test", force=True, description=marker(first))
    assert found(call, search_term(first)) == ["vm1.example.test"]
    assert found(call, search_term(second)) == []

    engine.reset()
    assert found(call, search_term(first)) == []
    assert found(call, "ipa.example.test") == ["ipa.example.test"]  # the seeded master


def test_other_filters_and_relations_still_apply(call) -> None:
    instance = str(uuid.uuid4())
    call("host_add", "vm1.example.test", force=True, description=marker(instance),
         userclass=["web"])
    call("host_add", "vip.example.test", force=True, description=marker(instance))
    call("host_add_managedby", "vip.example.test", host=["vm1.example.test"])
    term = search_term(instance)
    assert found(call, term) == ["vip.example.test", "vm1.example.test"]
    assert found(call, term, userclass=["web"]) == ["vm1.example.test"]
    assert found(call, term, not_man_by_host=["vm1.example.test"]) == []
    assert found(call, term, man_by_host=["vip.example.test"]) == ["vip.example.test"]
    limited = call("host_find", term, sizelimit=1)
    assert limited["count"] == 1 and limited["truncated"] is True
    assert [e["fqdn"] for e in call("host_find", term, pkey_only=True)["result"]] == [
        ["vip.example.test"], ["vm1.example.test"]]


@pytest.mark.parametrize(("needle", "narrowed"), [
    ("instance=abc-def", True),   # "abc" sits between "=" and "-"
    ("x.example.test", True),     # "example"
    ("example.test", False),      # both words touch an edge
    ("vm1", False),
    ("", False),
])
def test_index_narrows_only_on_whole_inner_words(needle, narrowed) -> None:
    index = SubstringIndex()
    index.put("a", "instance=abc-def1 x.example.test")
    index.put("b", "instance=abcd-def")
    keys = index.candidates(needle)
    assert (keys is not None) is narrowed
    if narrowed:
        assert keys == {"a"}
    index.put("a", "other")
    index.drop("b")
    assert index.candidates("instance=abc-def") in (set(), None)
    assert index.texts == {"a": "other"}
