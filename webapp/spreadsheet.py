"""CSV cells that no spreadsheet runs as a formula, and how to read them back.

A spreadsheet reads text as a formula when it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return; and a spreadsheet set to split on ``;``, ``|``, a tab or a line break splits a
cell too, so ``acme;=1+1`` becomes ``acme`` and the formula ``=1+1``. The rule: wherever a piece
of a cell starts (the cell's start, or just after one of those separators, spaces skipped), an
apostrophe goes before a formula character there, and before an apostrophe there, so that
reading back is exact: ``restore`` drops the one apostrophe at each such start.
``restore(inert(text)) == text`` for every text.
"""

from __future__ import annotations

#: What makes a spreadsheet read the text that follows as a formula.
TRIGGERS = frozenset("=+-@\t\r")
#: What a spreadsheet may split a cell on (a comma only outside quotes, but a cell's own
#: quotes are the CSV writer's).
SEPARATORS = frozenset(",;|\t\r\n")
MARK = "'"


def _starts(ch: str, at_start: bool) -> bool:
    """Whether a piece of the cell starts after ``ch``."""
    return ch in SEPARATORS or (at_start and ch == " ")


def inert(text: str) -> str:
    """``text`` with an apostrophe before each formula character or apostrophe that starts a
    piece of it."""
    out, at_start = [], True
    for ch in text:
        if at_start and (ch in TRIGGERS or ch == MARK):
            out.append(MARK)
        out.append(ch)
        at_start = _starts(ch, at_start)
    return "".join(out)


def restore(text: str) -> str:
    """The text ``inert`` was given: the apostrophe that starts a piece is dropped."""
    out, at_start, chars = [], True, iter(text)
    for ch in chars:
        if at_start and ch == MARK:
            ch = next(chars, "")
        out.append(ch)
        at_start = _starts(ch, at_start)
    return "".join(out)
