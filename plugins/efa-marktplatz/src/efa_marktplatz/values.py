"""Parsers for the cell values of registry exports: German dates and numbers, keys, Länder.

Every parser takes a *cell*: a string (CSV, YAML) or a typed spreadsheet value (``int``,
``float``, :class:`~datetime.date`, :class:`~datetime.datetime`) and raises
:class:`ValueError` with a message meant for people (it becomes the problem text of a
:class:`~efa_core.connectors.Rejected` row).  Blank cells are the caller's business:
:func:`blank` tells them apart.

Dates without a time of day are taken as midnight in Germany (``Europe/Berlin``), since
the model requires timezone-aware datetimes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from efa_core.ids import Ars, LeikaKey, OzgId
from efa_core.ids import Land as Land
from efa_core.model import ReuseChannel

__all__ = [
    "BERLIN",
    "Cell",
    "blank",
    "cell_text",
    "parse_ars",
    "parse_channel",
    "parse_channels",
    "parse_date",
    "parse_identifiers",
    "parse_land",
    "parse_leika_keys",
    "parse_number",
    "parse_ozg_ids",
    "slugify",
]

#: A raw cell value as the readers deliver it.
Cell = str | int | float | date | datetime | time | bool | None

#: Valid ARS lengths; a number with one digit less lost its leading zero in a spreadsheet.
_ARS_LENGTHS = (2, 3, 5, 9, 12)
_LEIKA_LENGTH = 14


@lru_cache(maxsize=1)
def _berlin() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Berlin")
    except Exception:  # pragma: no cover - no time zone database (install tzdata)
        return timezone.utc


#: The time zone of dates without time: ``Europe/Berlin`` (UTC if no tz database exists).
BERLIN: tzinfo = _berlin()


def blank(cell: Cell) -> bool:
    """Return whether *cell* holds nothing (``None`` or only whitespace)."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _integral(cell: float) -> int | None:
    return int(cell) if cell == int(cell) else None


def cell_text(cell: Cell) -> str:
    """Return the text of *cell* as a person would read it (numbers without ``.0``)."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "ja" if cell else "nein"
    if isinstance(cell, float):
        whole = _integral(cell)
        return str(whole) if whole is not None else repr(cell)
    if isinstance(cell, datetime):
        return cell.isoformat()
    if isinstance(cell, (date, time)):
        return cell.isoformat()
    return str(cell).strip()


def _digits_of_number(cell: Cell) -> str | None:
    """Return the digits of a spreadsheet number (``int`` or integral ``float``), else ``None``."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        whole = _integral(cell)
        return str(whole) if whole is not None else None
    return None


# -- dates ----------------------------------------------------------------------------------

_GERMAN_DATE = re.compile(
    r"(?P<d>\d{1,2})\.\s*(?P<m>\d{1,2})\.\s*(?P<y>\d{4}|\d{2})"
    r"(?:[ ,]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*Uhr)?)?\Z"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=BERLIN)


def parse_date(cell: Cell) -> datetime:
    """Parse a German (``12.05.2024``, ``12.05.24``, ``12.05.2024 14:30``) or ISO date.

    ISO dates and datetimes (``2024-05-12``, ``2024-05-12T14:30:00+02:00``, ``...Z``) and
    spreadsheet date cells are accepted too.  Values without an offset are taken as German
    local time; a date alone is midnight.
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

_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+\Z")
_GROUPED_DECIMAL = re.compile(r"\d{1,3}(?:\.\d{3})*(?:,\d+)?\Z|\d+(?:,\d+)?\Z")
_PLAIN = re.compile(r"\d+(?:\.\d+)?\Z")


def parse_number(cell: Cell) -> Decimal:
    """Parse a German number such as ``1.234,56`` (also ``1234,56``, ``1.234``, ``12.5``).

    A comma is the decimal separator and dots group thousands; without a comma, dots in
    groups of three (``1.234``) group thousands and a single other dot (``12.5``) is a
    decimal point.  Currency signs (``€``, ``EUR``) and spaces are ignored.  Spreadsheet
    numbers are taken as they are.
    """
    if isinstance(cell, bool) or not isinstance(cell, (str, int, float)):
        raise ValueError(f"{cell_text(cell)!r} is not a number")
    if isinstance(cell, (int, float)):
        return Decimal(str(cell))
    text = cell.strip()
    cleaned = re.sub(r"(?i)\s|\u00a0|€|eur\b", "", text)
    sign = ""
    if cleaned[:1] in "-+" and cleaned:
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


# -- identifiers ----------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,;/|]+")


def _split(cell: Cell) -> list[str]:
    digits = _digits_of_number(cell)
    if digits is not None:
        return [digits]
    if isinstance(cell, float):
        # 9.9115005104e13 written by a spreadsheet as a float with a fraction: not a key
        raise ValueError(f"{cell!r} is not a key (a number with a fraction)")
    return [part for part in _SEPARATORS.split(cell_text(cell)) if part]


def parse_leika_keys(cell: Cell) -> tuple[LeikaKey, ...]:
    """Parse one or more LeiKa keys separated by ``,``, ``;``, ``/``, ``|`` or whitespace.

    A spreadsheet number of 13 digits gets back the leading zero a spreadsheet dropped.
    Repeated keys are kept once.  Every invalid key is named in the error.
    """
    keys: list[LeikaKey] = []
    problems: list[str] = []
    from_number = _digits_of_number(cell) is not None
    for part in _split(cell):
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


_ID_SEPARATORS = re.compile(r"[\s,;|]+")


def parse_identifiers(cell: Cell) -> tuple[str, ...]:
    """Parse one or more opaque ids (offer or Onlinedienst ids); repeats are kept once.

    Ids are separated by ``,``, ``;``, ``|`` or whitespace, not by ``/``: registry ids
    may contain it.
    """
    digits = _digits_of_number(cell)
    parts = [digits] if digits is not None else _ID_SEPARATORS.split(cell_text(cell))
    return tuple(dict.fromkeys(part for part in parts if part))


def parse_ozg_ids(cell: Cell) -> tuple[OzgId, ...]:
    """Parse one or more OZG-IDs (separated like LeiKa keys); repeats are kept once."""
    ids: list[OzgId] = []
    for part in _split(cell):
        ozg_id = OzgId.parse(part)
        if ozg_id not in ids:
            ids.append(ozg_id)
    return tuple(ids)


def parse_ars(cell: Cell) -> Ars:
    """Parse an ARS (Regionalschlüssel) of 2, 3, 5, 9 or 12 digits.

    Digits one short of a valid length (1, 4, 8 or 11) lost their leading zero in a
    spreadsheet (Schleswig-Holstein's ``01...``) and get it back.
    """
    digits = _digits_of_number(cell)
    text = digits if digits is not None else cell_text(cell).replace(" ", "")
    lost_zero = len(text) not in _ARS_LENGTHS and len(text) + 1 in _ARS_LENGTHS
    if text.isdigit() and text.isascii() and lost_zero:
        text = "0" + text
    return Ars.parse(text)


_LAND_PREFIXES = re.compile(
    r"(?i)^(?:freistaat|land|bundesland|freie\s+und\s+hansestadt|freie\s+hansestadt)\s+"
)


def parse_land(cell: Cell) -> Land:
    """Parse a Land from its code (``16``), abbreviation (``TH``) or name (``Thüringen``).

    Official prefixes (``Freistaat``, ``Land``, ``Freie und Hansestadt`` ...) are ignored.
    """
    digits = _digits_of_number(cell)
    text = digits.zfill(2) if digits is not None else cell_text(cell)
    try:
        return Land.parse(text)
    except ValueError:
        stripped = _LAND_PREFIXES.sub("", text)
        if stripped == text:
            raise
        return Land.parse(stripped)


# -- channels -------------------------------------------------------------------------------

_CHANNEL_WORDS: dict[str, ReuseChannel] = {
    "fitstore": ReuseChannel.FIT_STORE,
    "fitkofitstore": ReuseChannel.FIT_STORE,
    "govdigital": ReuseChannel.MARKTPLATZ_GOVDIGITAL,
    "govdigitaleg": ReuseChannel.MARKTPLATZ_GOVDIGITAL,
    "marktplatzgovdigital": ReuseChannel.MARKTPLATZ_GOVDIGITAL,
    "efamarktplatzgovdigital": ReuseChannel.MARKTPLATZ_GOVDIGITAL,
    "fitko": ReuseChannel.MARKTPLATZ_FITKO,
    "marktplatzfitko": ReuseChannel.MARKTPLATZ_FITKO,
    "efamarktplatzfitko": ReuseChannel.MARKTPLATZ_FITKO,
    "verwaltungsabkommen": ReuseChannel.VERWALTUNGSABKOMMEN,
    "va": ReuseChannel.VERWALTUNGSABKOMMEN,
    "blaupauseverwaltungsabkommen": ReuseChannel.VERWALTUNGSABKOMMEN,
    "beitrittverwaltungsabkommen": ReuseChannel.VERWALTUNGSABKOMMEN,
}


def _word(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def parse_channel(cell: Cell) -> ReuseChannel:
    """Parse one reuse channel: ``FIT-Store``, ``govdigital``, ``FITKO``, ``Verwaltungsabkommen``.

    The values of :class:`~efa_core.model.ReuseChannel` (``fit_store``, ...) work too.
    On the EfA-Marktplatz, the *Anbieter* ``govdigital`` and ``FITKO`` are the channels
    ``marktplatz_govdigital`` and ``marktplatz_fitko``.
    """
    text = cell_text(cell)
    word = _word(text)
    for channel in ReuseChannel:
        if word == _word(channel.value):
            return channel
    found = _CHANNEL_WORDS.get(word)
    if found is None:
        known = "FIT-Store, govdigital, FITKO, Verwaltungsabkommen, " + ", ".join(
            channel.value for channel in ReuseChannel
        )
        raise ValueError(f"{text!r} is not a reuse channel; known: {known}")
    return found


def parse_channels(cell: Cell) -> tuple[ReuseChannel, ...]:
    """Parse channels separated by ``,``, ``;``, ``/``, ``|`` or ``und``; repeats kept once."""
    channels: list[ReuseChannel] = []
    for part in re.split(r"[,;/|]+|\s+und\s+", cell_text(cell)):
        if part.strip():
            channel = parse_channel(part)
            if channel not in channels:
                channels.append(channel)
    return tuple(channels)


# -- keys -----------------------------------------------------------------------------------

_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))


def slugify(text: str) -> str:
    """Turn a name into a stable key.

    ``"Wohnsitz-Anmeldung (Ummeldung)"`` becomes ``wohnsitz-anmeldung-ummeldung``.
    Umlauts become ``ae``/``oe``/``ue``/``ss``; other accents are dropped; every run of
    other characters becomes one ``-``.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    for umlaut, plain in _UMLAUTS:
        folded = folded.replace(umlaut, plain)
    ascii_text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if not slug:
        raise ValueError(f"{text!r} gives no key (it has no letters or digits)")
    return slug
