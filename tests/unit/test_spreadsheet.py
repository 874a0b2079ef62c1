"""The CSV export's formula rule (webapp/spreadsheet.py): inert wherever a piece starts, exact
to read back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.spreadsheet import SEPARATORS, TRIGGERS, inert, restore

#: Text rich in what the rule is about: formula characters, separators, spaces, apostrophes.
tricky = st.text(alphabet=st.sampled_from("=+-@\t\r\n,;| 'aZ1(\"!"), max_size=40) | st.text()


def pieces(text: str, separator: str) -> list[str]:
    """What a spreadsheet splitting on ``separator`` (and trimming spaces) puts in its cells."""
    return [piece.lstrip(" ") for piece in text.split(separator)]


@settings(max_examples=500, derandomize=True, database=None)
@given(tricky)
def test_reading_back_is_exact(text):
    assert restore(inert(text)) == text


@settings(max_examples=500, derandomize=True, database=None)
@given(tricky)
def test_no_piece_starts_a_formula_whatever_the_spreadsheet_splits_on(text):
    made = inert(text)
    for separator in ("", *SEPARATORS):
        for piece in pieces(made, separator) if separator else [made.lstrip(" ")]:
            assert piece[:1] not in TRIGGERS, (text, separator, piece)


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("acme;=1+1;", "acme;'=1+1;"),
        ("=SUM(A1)", "'=SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("a|@x", "a|'@x"),
        ("a; +1", "a; '+1"),
        ("a\t\t=1", "a\t'\t'=1"),
        ("'quoted", "''quoted"),
        ("it's=fine", "it's=fine"),
        ("a-b+c=d@e", "a-b+c=d@e"),
        ("Etc/GMT-5", "Etc/GMT-5"),
        ("", ""),
    ],
)
def test_the_rule_by_example(text, cell):
    assert inert(text) == cell
    assert restore(cell) == text
