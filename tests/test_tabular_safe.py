"""CSV written for spreadsheets never opens as a formula (issue 14 §3).

The report's CSV escaped only a leading ``= + - @``: ``X;=cmd|…`` was written unquoted (and
German Excel splits on ``;``), and a fullwidth ``＝`` or a no-break space before ``=``
went through.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from efa_core.tabular import SafeCsvWriter, defuse, undefuse

TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20"
SPACES = " \t\u00a0\u2007\u202f\u3000\ufeff\u200b"


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+1+cmd", "'+1+cmd"),
        ("\uff1dSUM(1)", "'\uff1dSUM(1)"),  # fullwidth =
        ("\u00a0=1+1", "'\u00a0=1+1"),  # no-break space before =
        ("  -2+3", "'  -2+3"),
        ("\tx", "'\tx"),
        ("X;=cmd|' /C calc'!A0", "X;'=cmd|' /C calc'!A0"),
        ("a, @x;\u00a0\uff0by", "a, '@x;\u00a0'\uff0by"),
        ("Zeile 1\n=2", "Zeile 1\n'=2"),
        ("Weimar", "Weimar"),
        ("Sachsen-Anhalt", "Sachsen-Anhalt"),
        ("a=b", "a=b"),
    ],
)
def test_defuse(text: str, safe: str) -> None:
    assert defuse(text) == safe


def _line(cells: list[object], delimiter: str = ",") -> str:
    out = io.StringIO()
    SafeCsvWriter(out, delimiter=delimiter).writerow(cells)
    return out.getvalue()


def test_values_with_a_delimiter_are_quoted_whatever_the_writers_own() -> None:
    assert _line(["X;=cmd", "b,c", "plain", None, 3, True]) == (
        '"X;\'=cmd","b,c",plain,,3,true\r\n'
    )
    assert _line(["a;b", "c,d", 'say "hi"'], ";") == '"a;b";"c,d";"say ""hi"""\r\n'
    assert _line([-5, 0.5]) == "-5,0.5\r\n"  # numbers are no formulas


#: A field (maybe opened by the CSV quote) whose value starts a formula.
_SPACE = f"[{re.escape(SPACES)}]*"
_FORMULA_START = re.compile(f'^{_SPACE}"?{_SPACE}[{re.escape(TRIGGERS)}]')


@given(
    st.lists(
        st.text(alphabet=st.sampled_from(f"ab1;,\"'\n\r{TRIGGERS}{SPACES}|!"), max_size=12),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([",", ";"]),
)
def test_no_split_of_the_line_starts_a_formula_and_a_csv_reader_reads_it_back(
    cells: list[str], delimiter: str
) -> None:
    text = _line(list(cells), delimiter)
    # a spreadsheet that ignores the quotes and splits on any of these
    for piece in re.split("[;,\t\r\n]", text):
        assert not _FORMULA_START.match(piece), (cells, text)
    (row,) = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    assert row == [defuse(c) for c in cells]
    # and efa, reading back what it wrote (a plan export), gets the values themselves
    assert [undefuse(c) for c in row] == cells


@pytest.mark.parametrize(
    ("text", "safe"),
    [("'=1", "''=1"), ("a;'=1", "a;''=1"), ("'", "'"), ("it's", "it's"), ("\n=", "'\n'=")],
)
def test_a_quote_of_the_value_itself_survives_the_round_trip(text: str, safe: str) -> None:
    assert defuse(text) == safe
    assert undefuse(safe) == text


def test_xlsx_rows_keep_text_as_text(tmp_path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from efa_core.tabular import append_row_as_text

    book = openpyxl.Workbook()
    sheet = book.active
    append_row_as_text(sheet, ['=HYPERLINK("http://x")', "Weimar", 3, None])
    book.save(tmp_path / "out.xlsx")
    again = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    first = again["A1"]
    assert (first.value, first.data_type) == ('=HYPERLINK("http://x")', "s")
    assert [again["B1"].value, again["C1"].value, again["D1"].value] == ["Weimar", 3, None]
