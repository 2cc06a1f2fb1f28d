"""Secrets: the Secret type, ${VAR} expansion and masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterrig.secrets import MASK, ExpansionError, Secret, expand, mask, register


def test_secret_hides_its_value_but_reveals_it_on_request():
    secret = Secret("31C4A9", source="${METER_PW}")
    assert str(secret) == repr(secret) == f"{secret}" == MASK
    assert "31C4A9" not in repr([secret, {"pw": secret}])
    assert secret.reveal() == "31C4A9"
    assert secret.source == "${METER_PW}"


def test_secrets_compare_and_hash_by_value_only():
    assert Secret("31C4A9", source="${A}") == Secret("31C4A9")
    assert Secret("31C4A9") != Secret("31C4AA")
    assert Secret("31C4A9") != "31C4A9"  # never equal to the bare string: no accidental leaks
    assert len({Secret("31C4A9", source="${A}"), Secret("31C4A9")}) == 1


@pytest.mark.parametrize(("text", "environ", "expected"), [
    ("${METER_PW}", {"METER_PW": "123456"}, ("123456", True)),
    ("pre-${A}-${B}-post", {"A": "1", "B": "2"}, ("pre-1-2-post", True)),
    ("${METER_PW:-000000}", {}, ("000000", True)),
    ("${METER_PW:-000000}", {"METER_PW": ""}, ("000000", True)),  # empty counts as unset
    ("${METER_PW:-000000}", {"METER_PW": "654321"}, ("654321", True)),
    ("${EMPTY}", {"EMPTY": ""}, ("", True)),  # set but empty, no default: empty
    ("${A:-}", {}, ("", True)),
    ("costs $$5, $HOME is not expanded", {"HOME": "/root"}, ("costs $5, $HOME is not expanded",
                                                            False)),
    ("$${A}", {"A": "1"}, ("${A}", False)),
    ("plain", {}, ("plain", False)),
])
def test_expand(text, environ, expected):
    assert expand(text, environ) == expected


def test_expand_names_a_missing_variable():
    with pytest.raises(ExpansionError, match=r"METER_PW is not set.*\$\{METER_PW:-default\}"):
        expand("x${METER_PW}y", {"OTHER": "1"})


@pytest.mark.parametrize("text", ["${", "${1ABC}", "${A B}", "${A:default}"])
def test_expand_rejects_malformed_references(text):
    with pytest.raises(ExpansionError, match=r"malformed"):
        expand(text, {"A": "1"})


@given(st.text())
def test_doubling_every_dollar_escapes_any_text(text):
    assert expand(text.replace("$", "$$"), {}) == (text, False)


def test_mask_hides_registered_values_anywhere():
    register("7E57A1")
    assert mask('{"request": "pw=7E57A1;", "again": "x7E57A1x"}') == \
        f'{{"request": "pw={MASK};", "again": "x{MASK}x"}}'
    assert mask("nothing secret here") == "nothing secret here"


def test_mask_hides_a_longer_secret_whole():
    register("5EC0")
    register("5EC0B0B1")
    assert mask("5EC0B0B1 and 5EC0") == f"{MASK} and {MASK}"


def test_values_of_one_repeated_character_are_not_masked():
    register("00000000")
    register("999999")
    assert mask("operator 00000000, 99 99 99 99 99 99") == "operator 00000000, " \
                                                         "99 99 99 99 99 99"


# The registry is process-wide: values from an alphabet no other test's output uses.
UNUSUAL = "gjqvxzGJQVXZ"


@given(st.text(alphabet=UNUSUAL, min_size=6, max_size=12).filter(lambda v: len(set(v)) > 1),
       st.text(alphabet=UNUSUAL + "0123456789 *"), st.text(alphabet=UNUSUAL + "0123456789 *"))
def test_no_registered_value_survives_masking(value, before, after):
    register(value)
    assert value not in mask(before + value + after)
