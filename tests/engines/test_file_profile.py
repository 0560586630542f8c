"""`invoke FileProfile()` from a FileProfile table the user provides (Defender's columns and types; rows
worked out by hand: a match gets the profile, a miss is "Missing", a row without a file ID is empty)."""

from __future__ import annotations

import pyarrow as pa
import pytest

import kqlhunt

PROFILES = pa.table({"SHA1": ["aa", "bb"], "SHA256": ["a256", "b256"], "GlobalPrevalence": [5, 100000],
                     "Signer": ["Evil Corp", "Microsoft"], "IsExecutable": [True, False]})
EVENTS = pa.table({"InitiatingProcessSHA1": ["aa", "cc", ""], "InitiatingProcessSHA256": ["b256", "zz", "a256"],
                   "n": [1, 2, 3]})


def test_enriches_by_sha1_with_defender_columns() -> None:
    q = ("T | invoke FileProfile(InitiatingProcessSHA1, 1000) "
         "| project n, SHA1, GlobalPrevalence, Signer, IsExecutable, ProfileAvailability")
    got = kqlhunt.query(q, tables={"T": EVENTS, "FileProfile": PROFILES})
    assert got.to_pylist() == [
        {"n": 1, "SHA1": "aa", "GlobalPrevalence": 5, "Signer": "Evil Corp", "IsExecutable": True,
         "ProfileAvailability": "Available"},
        {"n": 2, "SHA1": "", "GlobalPrevalence": None, "Signer": "", "IsExecutable": None,
         "ProfileAvailability": "Missing"},
        {"n": 3, "SHA1": "", "GlobalPrevalence": None, "Signer": "", "IsExecutable": None,
         "ProfileAvailability": ""},
    ]
    types = {f.name: f.metadata[b"kql_type"].decode() for f in got.schema}
    assert types["GlobalPrevalence"] == "int" and types["IsExecutable"] == "bool"


def test_sha256_column_matches_sha256() -> None:
    q = "T | invoke FileProfile(InitiatingProcessSHA256) | where GlobalPrevalence < 10 | project n"
    assert kqlhunt.query(q, tables={"T": EVENTS, "FileProfile": PROFILES}).to_pylist() == [{"n": 3}]


def test_without_profile_data_it_is_refused() -> None:
    with pytest.raises(kqlhunt.KqlError) as info:
        kqlhunt.query("T | invoke FileProfile(InitiatingProcessSHA1)", tables={"T": EVENTS})
    assert info.value.code == "KH300"
    assert "FileProfile" in info.value.render()
