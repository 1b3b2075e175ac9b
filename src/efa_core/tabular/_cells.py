"""Cell values of spreadsheets and CSV exports: text, German dates and numbers, keys.

Every parser takes a *cell* (a string from CSV, or a typed spreadsheet value) and raises
:class:`ValueError` with a message meant for people; callers put it into a
:class:`~efa_core.connectors.Rejected` problem or a warning.  Blank cells are the caller's
business (:func:`blank`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Final, Union

from efa_core.ids import Ars, Land, LeikaKey, OzgId

__all__ = [
    "BERLIN",
    "Cell",
    "blank",
    "cell_text",
    "parse_ars",
    "parse_date",
    "parse_identifiers",
    "parse_land",
    "parse_leika_keys",
    "parse_number",
    "parse_ozg_ids",
    "parse_price",
    "parse_url",
    "single_line",
    "slugify",
]

#: A raw cell value as the readers deliver it: text from CSV; text, numbers, booleans,
#: dates and times from XLSX; ``None`` for an empty cell.
Cell = Union[str, int, float, bool, date, datetime, time, None]  # noqa: UP007 - runtime alias

#: Valid ARS lengths; a number with one digit less lost its leading zero in a spreadsheet.
_ARS_LENGTHS: Final = (2, 3, 5, 9, 12)
_LEIKA_LENGTH: Final = 14
#: ``9,91E+13``, ``9.9108E+13``: what a spreadsheet shows (and exports) for a long number.
_SCIENTIFIC: Final = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+\Z")


@lru_cache(maxsize=1)
def _berlin() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Berlin")
    except Exception:  # pragma: no cover - no time zone database (install tzdata)
        return timezone.utc


#: The time zone of dates without time: ``Europe/Berlin`` (UTC if no tz database exists).
BERLIN: Final[tzinfo] = _berlin()


def blank(cell: Cell) -> bool:
    """Return whether *cell* holds nothing (``None`` or only whitespace)."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _integral(cell: float) -> int | None:
    if cell != cell or cell in (float("inf"), float("-inf")):
        return None
    return int(cell) if cell == int(cell) else None


def cell_text(cell: Cell) -> str:
    """Return the text of *cell* as a person reads it (stripped; numbers without ``.0``)."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "ja" if cell else "nein"
    if isinstance(cell, float):
        whole = _integral(cell)
        return str(whole) if whole is not None else repr(cell)
    if isinstance(cell, (datetime, date, time)):
        return cell.isoformat()
    return str(cell).strip()


def single_line(text: str) -> str:
    """Return *text* with every run of whitespace (line breaks too) as one space, stripped.

    Names typed into a spreadsheet cell often carry a line break (Alt+Enter) or double
    spaces: ``"Stadt<line break>Erfurt "`` becomes ``"Stadt Erfurt"``.
    """
    return " ".join(text.split())


def _digits_of_number(cell: Cell) -> str | None:
    """Return the digits of a spreadsheet whole number (``int``), else ``None``."""
    if isinstance(cell, bool) or not isinstance(cell, int):
        return None
    return str(cell) if cell >= 0 else None


def _digits_of_whole(cell: Cell) -> str | None:
    """Like :func:`_digits_of_number`, also for a float without fraction (``16.0``)."""
    if isinstance(cell, float):
        whole = _integral(cell)
        return str(whole) if whole is not None and whole >= 0 else None
    return _digits_of_number(cell)


def _lost_digits(what: str, cell: Cell) -> ValueError | None:
    """Return the error for a key a spreadsheet stored as a float or in scientific notation."""
    if isinstance(cell, float):
        shown = cell_text(cell)
    elif isinstance(cell, str) and _SCIENTIFIC.match(cell.strip().replace(" ", "")):
        shown = cell.strip()
    else:
        return None
    return ValueError(
        f"{shown!r}: the spreadsheet stored the {what} as a number and lost digits; "
        "format the column as text"
    )


# -- dates ----------------------------------------------------------------------------------

_GERMAN_DATE: Final = re.compile(
    r"(?P<d>\d{1,2})\.\s*(?P<m>\d{1,2})\.\s*(?P<y>\d{4}|\d{2})"
    r"(?:[ ,]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*Uhr)?)?\Z"
)
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=BERLIN)


def parse_date(cell: Cell) -> datetime:
    """Parse a German (``12.05.2024``, ``12.05.24``, ``12.05.2024 14:30``) or ISO date.

    ISO dates and datetimes (``2024-05-12``, ``2024-05-12T14:30:00+02:00``, ``...Z``) and
    spreadsheet date cells are accepted too.  Values without an offset are German local
    time (:data:`BERLIN`); a date alone is midnight.
    """
    if isinstance(cell, datetime):
        return _aware(cell)
    if isinstance(cell, date):
        return datetime.combine(cell, time(), tzinfo=BERLIN)
    if not isinstance(cell, str):
        raise ValueError(f"{cell_text(cell)!r} is not a date (expected dd.mm.yyyy or yyyy-mm-dd)")
    text = cell.strip()
    german = _GERMAN_DATE.match(text)
    try:
        if german is not None:
            year = int(german["y"])
            if len(german["y"]) == 2:
                year += 2000
            return datetime(
                year,
                int(german["m"]),
                int(german["d"]),
                int(german["H"] or 0),
                int(german["M"] or 0),
                int(german["S"] or 0),
                tzinfo=BERLIN,
            )
        if _ISO_DATE.match(text):
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=BERLIN)
        iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        if len(iso) >= 16 and iso[4] == "-" and iso[10] in "T ":
            return _aware(datetime.fromisoformat(iso))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date: {exc}") from None
    raise ValueError(f"{text!r} is not a date (expected dd.mm.yyyy or yyyy-mm-dd)")


# -- numbers --------------------------------------------------------------------------------

_GROUPED: Final = re.compile(r"\d{1,3}(?:\.\d{3})+\Z")
_GROUPED_DECIMAL: Final = re.compile(r"\d{1,3}(?:\.\d{3})*(?:,\d+)?\Z|\d+(?:,\d+)?\Z")
_PLAIN: Final = re.compile(r"\d+(?:\.\d+)?\Z")
_CURRENCY: Final = re.compile(r"(?i)\s|\u00a0|€|\beur\b|\beuro\b")


def parse_number(cell: Cell) -> Decimal:
    """Parse a German number such as ``1.234,56`` (also ``1234,56``, ``1.234``, ``12.5``).

    A comma is the decimal separator and dots group thousands; without a comma, dots in
    groups of three (``1.234``) group thousands and a single other dot (``12.5``) is a
    decimal point.  Currency signs (``€``, ``EUR``) and spaces are ignored, a trailing
    ``,-`` (``500,-``) means no cents.  Spreadsheet numbers are taken as they are.
    """
    if isinstance(cell, bool) or not isinstance(cell, (str, int, float)):
        raise ValueError(f"{cell_text(cell)!r} is not a number")
    if isinstance(cell, float) and (cell != cell or cell in (float("inf"), float("-inf"))):
        raise ValueError(f"{cell!r} is not a number")
    if isinstance(cell, (int, float)):
        return Decimal(str(cell))
    text = cell.strip()
    cleaned = _CURRENCY.sub("", text)
    if cleaned.endswith((",-", ",--", ",–")):
        cleaned = cleaned.rsplit(",", 1)[0]
    sign = ""
    if cleaned[:1] in ("-", "+") and cleaned:
        sign, cleaned = ("-" if cleaned[0] == "-" else ""), cleaned[1:]
    if "," in cleaned:
        if not _GROUPED_DECIMAL.match(cleaned):
            raise ValueError(f"{text!r} is not a number (expected e.g. 1.234,56)")
        number = cleaned.replace(".", "").replace(",", ".")
    elif _GROUPED.match(cleaned):
        number = cleaned.replace(".", "")
    elif _PLAIN.match(cleaned):
        number = cleaned
    else:
        raise ValueError(f"{text!r} is not a number (expected e.g. 1.234,56)")
    try:
        return Decimal(sign + number)
    except InvalidOperation:  # pragma: no cover - the patterns above exclude it
        raise ValueError(f"{text!r} is not a number") from None


_FREE: Final = frozenset(
    {"kostenfrei", "kostenlos", "gebuehrenfrei", "unentgeltlich", "frei", "ohne kosten", "gratis"}
)
_UNKNOWN_PRICE: Final = frozenset(
    {
        "auf anfrage",
        "nach anfrage",
        "preis auf anfrage",
        "nach vereinbarung",
        "individuell",
        "k a",
        "ka",
        "keine angabe",
        "unbekannt",
        "offen",
        "tbd",
        "n a",
    }
)


def _fold_words(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        folded = folded.replace(umlaut, plain)
    return " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())


def parse_price(cell: Cell) -> Decimal | None:
    """Parse a price in euros: a German number, ``kostenfrei`` (0) or ``auf Anfrage`` (unknown).

    :returns: the price, or ``None`` when the cell says it is not known (``auf Anfrage``,
        ``nach Vereinbarung``, ``k. A.``, ``-``).
    :raises ValueError: neither a number nor one of those words, or a negative number.
    """
    if isinstance(cell, str):
        words = _fold_words(cell)
        if words in _FREE:
            return Decimal(0)
        if not words or words in _UNKNOWN_PRICE:
            return None
    price = parse_number(cell)
    if price < 0:
        raise ValueError(f"{cell_text(cell)!r} is negative; a price is 0 or more")
    return price


# -- URLs -----------------------------------------------------------------------------------

_HOST: Final = re.compile(
    r"(?i)(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?::\d+)?(?:[/?#]|\Z)"
)


def parse_url(cell: Cell) -> str:
    """Parse a web address; one without scheme (``www.example.de/x``) gets ``https://``.

    Compare the result with the cell's text to tell whether a scheme was added.

    :raises ValueError: the cell is no absolute ``http(s)`` URL and no host name with a
        path (``siehe Portal``, ``intern``).
    """
    text = cell_text(cell)
    if any(ch.isspace() for ch in text):
        raise ValueError(f"{text!r} is not a URL (it contains spaces)")
    lowered = text.lower()
    if lowered.startswith(("https://", "http://")):
        if not text.split("//", 1)[1]:
            raise ValueError(f"{text!r} is not a URL (no host)")
        return text
    if "://" not in text and _HOST.match(text):
        return "https://" + text
    raise ValueError(f"{text!r} is not an absolute http(s) URL")


# -- identifiers ----------------------------------------------------------------------------

_SEPARATORS: Final = re.compile(r"[\s,;/|]+")


def _split_keys(what: str, cell: Cell, *, exact: bool = True) -> list[str]:
    if exact:
        lost = _lost_digits(what, cell)
        if lost is not None:
            raise lost
    digits = _digits_of_number(cell) if exact else _digits_of_whole(cell)
    if digits is not None:
        return [digits]
    return [part for part in _SEPARATORS.split(cell_text(cell)) if part]


def parse_leika_keys(cell: Cell) -> tuple[LeikaKey, ...]:
    """Parse one or more LeiKa keys separated by ``,``, ``;``, ``/``, ``|`` or whitespace.

    A spreadsheet whole number of 13 digits gets back the leading zero the spreadsheet
    dropped.  A key a spreadsheet turned into a floating or scientific number
    (``9,91E+13``, ``9.9108E+13``, a float cell) lost digits and is refused with a message
    that says so.  Repeated keys are kept once; every invalid key is named in the error.
    """
    keys: list[LeikaKey] = []
    problems: list[str] = []
    from_number = _digits_of_number(cell) is not None
    for part in _split_keys("LeiKa key", cell):
        lost_zero = from_number and len(part) == _LEIKA_LENGTH - 1
        text = "0" + part if lost_zero else part
        try:
            key = LeikaKey.parse(text)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if key not in keys:
            keys.append(key)
    if problems:
        raise ValueError("; ".join(problems))
    if not keys:
        raise ValueError("no LeiKa key given")
    return tuple(keys)


_ID_SEPARATORS: Final = re.compile(r"[\s,;|]+")


def parse_identifiers(cell: Cell) -> tuple[str, ...]:
    """Parse one or more opaque ids (offer or Onlinedienst ids); repeats are kept once.

    Ids are separated by ``,``, ``;``, ``|`` or whitespace, not by ``/``: registry ids may
    contain it.  A spreadsheet whole number is its digits.
    """
    digits = _digits_of_whole(cell)
    parts = [digits] if digits is not None else _ID_SEPARATORS.split(cell_text(cell))
    return tuple(dict.fromkeys(part for part in parts if part))


def parse_ozg_ids(cell: Cell) -> tuple[OzgId, ...]:
    """Parse one or more OZG-IDs (separated like LeiKa keys); repeats are kept once."""
    ids: list[OzgId] = []
    for part in _split_keys("OZG-ID", cell, exact=False):
        ozg_id = OzgId.parse(part)
        if ozg_id not in ids:
            ids.append(ozg_id)
    return tuple(ids)


def parse_ars(cell: Cell) -> Ars:
    """Parse an ARS (Regionalschlüssel) of 2, 3, 5, 9 or 12 digits.

    Digits one short of a valid length (1, 4, 8 or 11) lost their leading zero in a
    spreadsheet (Schleswig-Holstein's ``01...``) and get it back.  An ARS stored as a
    floating or scientific number lost digits and is refused.
    """
    lost = _lost_digits("ARS", cell)
    if lost is not None:
        raise lost
    digits = _digits_of_number(cell)
    text = digits if digits is not None else cell_text(cell).replace(" ", "")
    lost_zero = len(text) not in _ARS_LENGTHS and len(text) + 1 in _ARS_LENGTHS
    if text.isdigit() and text.isascii() and lost_zero:
        text = "0" + text
    return Ars.parse(text)


_LAND_PREFIXES: Final = re.compile(
    r"(?i)^(?:freistaat|land|bundesland|freie\s+und\s+hansestadt|freie\s+hansestadt)\s+"
)


def parse_land(cell: Cell) -> Land:
    """Parse a Land from its code (``16``), abbreviation (``TH``) or name (``Thüringen``).

    Official prefixes (``Freistaat``, ``Land``, ``Freie und Hansestadt`` ...) are ignored.
    """
    digits = _digits_of_whole(cell)
    text = digits.zfill(2) if digits is not None else single_line(cell_text(cell))
    try:
        return Land.parse(text)
    except ValueError:
        stripped = _LAND_PREFIXES.sub("", text)
        if stripped == text:
            raise
        return Land.parse(stripped)


# -- keys -----------------------------------------------------------------------------------

_UMLAUTS: Final = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))


def slugify(text: str) -> str:
    """Turn a name into a stable key.

    ``"Wohnsitz-Anmeldung (Ummeldung)"`` becomes ``wohnsitz-anmeldung-ummeldung``.
    Umlauts become ``ae``/``oe``/``ue``/``ss``; other accents are dropped; every run of
    other characters becomes one ``-``.

    :raises ValueError: the name has no letters or digits.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    for umlaut, plain in _UMLAUTS:
        folded = folded.replace(umlaut, plain)
    ascii_text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if not slug:
        raise ValueError(f"{text!r} gives no key (it has no letters or digits)")
    return slug
