"""Carrier module profiles: the shipped ones load, and a user's file with a wrong value is
refused with FILE:LINE naming the key."""

import pytest

from meterrig.datafile import DataFileError
from meterrig.protocols.gdw13762.profile import profile, profiles


def test_the_shipped_profiles():
    assert {p.edition for p in profiles().values()} == {2009, 2013}
    assert profile("hplc-2013").mode == 3


def test_a_wrong_value_names_file_line_and_key(tmp_path):
    path = tmp_path / "module.yaml"
    path.write_text("my-module:\n  edition: 2011\n  mode: 1\n  monitor_timeout_s: 60\n")
    with pytest.raises(DataFileError, match=r"module.yaml:2: my-module.edition: got 2011; "
                                            r"expected one of 2013, 2009"):
        profile(str(path))


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="narrowband-2013"):
        profile("plc-2020")


def test_an_unknown_key_is_named_with_a_suggestion(tmp_path):
    path = tmp_path / "module.yaml"
    path.write_text("my-module:\n  edition: 2013\n  mode: 1\n  monitor_timeout: 60\n")
    with pytest.raises(DataFileError, match=r"module.yaml:4: my-module.monitor_timeout: "
                                            r"unknown key .*did you mean 'monitor_timeout_s'"):
        profile(str(path))
