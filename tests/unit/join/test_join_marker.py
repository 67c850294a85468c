"""The ownership marker in host descriptions (novajoin.join.marker)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novajoin.join.marker import (
    Marker,
    parse,
    search_term,
    valid_instance_id,
    valid_project_id,
    with_marker,
)

UUID = "0b7b2cbe-2f1d-4c55-9a4c-8d6c1f2e3a4b"
MARK = Marker(UUID, "6f1e2d3c4b5a", "00ff00ff00ff00ff00ff00ff")


def test_round_trip_and_format():
    text = MARK.format()
    assert text == (f"novajoin:v1 instance={UUID} project=6f1e2d3c4b5a "
                    "nonce=00ff00ff00ff00ff00ff00ff")
    assert parse(text) == MARK
    assert parse([text]) == MARK  # IPA returns description as a list


def test_instance_is_case_insensitive():
    upper = Marker(UUID.upper(), "p", "abcdefgh12")
    assert upper.instance_id == UUID
    assert upper.owned_by(UUID.upper()) and upper.owned_by(UUID)
    assert not upper.owned_by("another")


@pytest.mark.parametrize("description", [
    f"built by hand\n{MARK.format()}\nowner: ops team",
    f"  {MARK.format()}  ",
    f"{MARK.format()} extra=field",
    [f"note\n{MARK.format()}"],
    f"{MARK.format()}\n{MARK.format()}",  # the same marker twice is still unambiguous
])
def test_marker_found_among_other_text(description):
    found = parse(description)
    assert found is not None and found.instance_id == UUID and found.nonce == MARK.nonce


@pytest.mark.parametrize("description", [
    None, "", "web server", 42, {"x": 1}, [None, 3],
    "novajoin:v1",
    "novajoin:v1 instance=abc project=p",  # no nonce
    f"novajoin:v1 instance={UUID} project=p nonce=short",
    f"novajoin:v1 instance={UUID} instance={UUID} project=p nonce=abcdefgh12",
    f"novajoin:v1 instance={UUID} project=p nonce=abcdefgh12 garbage",
    "novajoin:v1 instance=a_b project=p nonce=abcdefgh12",
    f"novajoin:v2 instance={UUID} project=p nonce=abcdefgh12",
    f"copied: {MARK.format()}",
    f"{MARK.format()}\nnovajoin:v1 instance=other project=p nonce=abcdefgh12",
    f"{MARK.format()}\nnovajoin:v1 broken",
])
def test_garbage_or_ambiguous_descriptions_have_no_owner(description):
    assert parse(description) is None


def test_invalid_values_cannot_be_formatted():
    for bad in (("has space", "p", "abcdefgh12"), (UUID, "p p", "abcdefgh12"),
                (UUID, "p", "no"), (UUID, "", "abcdefgh12")):
        with pytest.raises(ValueError):
            Marker(*bad)


def test_with_marker_replaces_only_the_marker_line():
    new = Marker(UUID, "6f1e2d3c4b5a", "11ee11ee11ee11ee11ee11ee")
    text = with_marker([f"owner: ops\n{MARK.format()}\n\n"], new)
    assert text.splitlines() == [new.format(), "owner: ops"]
    assert parse(text) == new
    assert with_marker(None, new) == new.format()


def test_ids_and_search_term():
    assert valid_instance_id(UUID) and valid_instance_id(UUID.upper())
    assert not valid_instance_id("a b") and not valid_instance_id(None)
    assert valid_project_id("6f1e2d3c_4b-5a") and not valid_project_id("")
    assert search_term(UUID.upper()) == f"instance={UUID}"
    assert search_term(UUID) in MARK.format()


_description = st.one_of(
    st.none(), st.text(max_size=300), st.lists(st.text(max_size=100), max_size=3),
    st.builds(lambda a, b: f"{a}\n{MARK.format()}\n{b}", st.text(max_size=50),
              st.text(max_size=50)),
    st.integers(), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@given(_description)
def test_parse_never_raises(description):
    found = parse(description)
    assert found is None or isinstance(found, Marker)


@given(st.uuids(), st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
       st.from_regex(r"[A-Za-z0-9]{8,64}", fullmatch=True), st.text(max_size=100))
def test_round_trip_with_other_lines(instance, project, nonce, other):
    mark = Marker(str(instance), project, nonce)
    text = with_marker(other, mark)
    assert parse(text) == mark or "novajoin:v1" in other
