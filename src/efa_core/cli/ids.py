"""``efa ids``: explain identifiers (LeiKa key, ARS, AGS, Land, OZG-ID)."""

from __future__ import annotations

import json
from typing import Any

import click

from efa_core.cli._common import config_option, lang_of, lang_option
from efa_core.errors import InvalidIdentifier
from efa_core.i18n import M, Message, Text, Translator, translator
from efa_core.ids import (
    AGS_URN_PREFIX,
    ARS_URN_PREFIX,
    LAND_URN_PREFIX,
    LEIKA_URN_PREFIX,
    Ags,
    Ars,
    ArsLevel,
    Land,
    LeikaKey,
    OzgId,
)

__all__ = ["KINDS", "detect_kind", "explain", "ids"]

KINDS = ("leika", "ars", "ags", "land", "ozg")
"""The kinds ``efa ids`` knows, as used in ``--as`` and in the JSON ``kind`` field."""

_URN_KINDS = (
    (LEIKA_URN_PREFIX, "leika"),
    (ARS_URN_PREFIX, "ars"),
    (AGS_URN_PREFIX, "ags"),
    (LAND_URN_PREFIX, "land"),
)
_UNKNOWN_RULE = (
    "is not a LeiKa key (14 digits), ARS (2, 3, 5, 9 or 12 digits), AGS (8 digits), "
    "Land (code, abbreviation or name) or the URN of one; use --as ozg for an OZG-ID"
)


def detect_kind(text: str) -> str:
    """Guess which kind of identifier ``text`` is meant to be (one of :data:`KINDS`).

    URNs go by prefix; digit strings by length (14 LeiKa key, 8 AGS, 2/3/5/9/12 ARS;
    other lengths are reported as a broken ARS, or a broken LeiKa key from 13 digits
    on); other text is a Land if it names one.  Raises InvalidIdentifier otherwise.
    OZG-IDs are never detected (they clash with ARS); ask for them with ``--as ozg``.
    """
    s = text.strip()
    low = s.lower()
    if low.startswith("urn:"):
        for prefix, kind in _URN_KINDS:
            if low.startswith(prefix):
                return kind
        raise InvalidIdentifier("identifier", s, _UNKNOWN_RULE)
    n = len(s)
    if s.isascii() and s.isdigit():
        if n == 8:
            return "ags"
        return "leika" if n >= 13 else "ars"
    try:
        Land.parse(s)
    except InvalidIdentifier:
        pass
    else:
        return "land"
    if any(ch.isdigit() for ch in s):
        # Mostly digits with a typo: report against the kind the length suggests.
        if n == 14:
            return "leika"
        if n == 8:
            return "ags"
        if n in (2, 3, 5, 9, 12):
            return "ars"
    raise InvalidIdentifier("identifier", s, _UNKNOWN_RULE)


def _land_info(land: Land) -> dict[str, str]:
    return {"code": land.code, "name": land.name_de, "abbreviation": land.abbreviation}


def _explain_leika(key: LeikaKey) -> dict[str, Any]:
    return {
        "kind": "leika",
        "value": str(key),
        "summary": M.IDS_LEIKA.fill(federal=M.IDS_FEDERAL if key.is_federal else M.IDS_NOT_FEDERAL),
        "parts": key.parts(),
        "federal": key.is_federal,
        "urn": key.urn,
        "notes": [],
    }


def _explain_ars(ars: Ars) -> dict[str, Any]:
    level = ars.level
    land = ars.land
    notes: list[Message] = []
    parent = ars.parent()
    rb = ars.regierungsbezirk
    if level is ArsLevel.REGIERUNGSBEZIRK and rb is None:
        notes.append(M.IDS_NO_RB.fill())
    try:
        ags: str | None = str(ars.to_ags())
    except InvalidIdentifier:
        ags = None
        notes.append(M.IDS_VERBAND_NO_AGS.fill())
    readings: list[dict[str, str]] = []
    if level is ArsLevel.GEMEINDE:
        found = Ars.padded_readings(ars.value)
        if len(found) > 1:
            readings = [{"value": r.value, "level": r.level.name.lower()} for r in found]
            listed = ", ".join(f"{r.level.label} {r.value}" for r in found)
            notes.append(M.IDS_ARS_READINGS.fill(readings=listed))
    if len(ars.value) == 5:
        notes.append(M.IDS_MAYBE_OZG.fill())
    summary = M.IDS_ARS.fill(
        level=level.label,
        code=land.code,
        name=land.name_de,
        ambiguous=M.IDS_AMBIGUOUS if readings else "",
    )
    return {
        "kind": "ars",
        "value": ars.value,
        "summary": summary,
        "level": level.name.lower(),
        "land": _land_info(land),
        "parts": ars.parts(),
        "regierungsbezirk": None if rb is None else rb.value,
        "kreis": None if ars.kreis is None else ars.kreis.value,
        "gemeindeverband": None if ars.gemeindeverband is None else ars.gemeindeverband.value,
        "parent": None if parent is None else parent.value,
        "ancestors": [a.value for a in ars.ancestors()],
        "ags": ags,
        "padded": ars.padded(),
        "urn": ars.urn,
        "ambiguous": bool(readings),
        "readings": readings,
        "notes": notes,
    }


def _explain_ags(ags: Ags) -> dict[str, Any]:
    level = ags.level
    land = ags.land
    notes: list[Message] = []
    parent = ags.parent()
    ars: str | None = None
    if level is ArsLevel.GEMEINDE:
        notes.append(M.IDS_AGS_NO_VERBAND.fill())
    else:
        ars = str(ags.to_ars())
    readings: list[dict[str, str]] = []
    if level is ArsLevel.GEMEINDE:
        found = Ags.padded_readings(ags.value)
        if len(found) > 1:
            readings = [{"value": r.value, "level": r.level.name.lower()} for r in found]
            listed = ", ".join(f"{r.level.label} {r.value}" for r in found)
            notes.append(M.IDS_AGS_READINGS.fill(readings=listed))
    summary = M.IDS_AGS.fill(
        level=level.label,
        code=land.code,
        name=land.name_de,
        ambiguous=M.IDS_AMBIGUOUS if readings else "",
    )
    return {
        "kind": "ags",
        "value": ags.value,
        "summary": summary,
        "level": level.name.lower(),
        "land": _land_info(land),
        "parts": ags.parts(),
        "kreis": ags.value[:5] if len(ags.value) >= 5 else None,
        "parent": None if parent is None else parent.value,
        "ars": ars,
        "urn": ags.urn,
        "ambiguous": bool(readings),
        "readings": readings,
        "notes": notes,
    }


def _explain_land(land: Land) -> dict[str, Any]:
    return {
        "kind": "land",
        "value": land.code,
        "summary": M.IDS_LAND.fill(
            code=land.code, name=land.name_de, abbreviation=land.abbreviation
        ),
        "land": _land_info(land),
        "ars": land.ars.value,
        "urn": land.urn,
        "notes": [],
    }


def _explain_ozg(ozg: OzgId) -> dict[str, Any]:
    return {
        "kind": "ozg",
        "value": ozg.value,
        "summary": M.IDS_OZG.fill(value=ozg.value),
        "notes": [M.IDS_OZG_NO_URN.fill()],
    }


def explain(text: str, kind: str | None = None) -> dict[str, Any]:
    """Explain ``text`` as ``kind`` (one of :data:`KINDS`; detected if None).

    Returns a JSON-ready dict with at least ``input``, ``kind``, ``value``, ``summary``
    and ``notes`` (``summary`` and ``notes`` in English).  Raises InvalidIdentifier for
    invalid input.
    """
    return _in_english(_explain(text, kind))


def _in_english(info: dict[str, Any]) -> dict[str, Any]:
    """*info* with its summary and notes rendered in English (the stable JSON text)."""
    return {**info, "summary": str(info["summary"]), "notes": [str(n) for n in info["notes"]]}


def _explain(text: str, kind: str | None) -> dict[str, Any]:
    """:func:`explain`, with the summary and notes as :class:`Message` (any language)."""
    kind = kind or detect_kind(text)
    info: dict[str, Any]
    if kind == "leika":
        info = _explain_leika(LeikaKey.parse(text))
    elif kind == "ars":
        info = _explain_ars(Ars.parse(text))
    elif kind == "ags":
        info = _explain_ags(Ags.parse(text))
    elif kind == "land":
        info = _explain_land(Land.parse(text))
    elif kind == "ozg":
        info = _explain_ozg(OzgId.parse(text))
    else:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return {"input": text, **info}


_LABELS: tuple[tuple[str, Text | str], ...] = (
    ("parts", M.IDS_PARTS),
    ("federal", M.IDS_FEDERAL_LABEL),
    ("land", "Land"),
    ("regierungsbezirk", "Regierungsbezirk"),
    ("kreis", "Kreis"),
    ("gemeindeverband", "Gemeindeverband"),
    ("parent", M.IDS_PARENT),
    ("ags", "AGS"),
    ("ars", "ARS"),
    ("padded", M.IDS_PADDED),
    ("urn", "URN"),
)


def _render_value(key: str, value: Any, info: dict[str, Any], tr: Translator) -> str | None:
    if key == "parts":
        return " ".join(f"{name}={digits}" for name, digits in value.items())
    if key == "federal":
        return tr(M.IDS_YES if value else M.IDS_NO)
    if key == "land":
        return f"{value['code']} {value['name']} ({value['abbreviation']})"
    if key == "regierungsbezirk" and value is None:
        return tr(M.IDS_NO_RB_VALUE) if len(info["value"]) >= 3 else None
    if value is None:
        return tr(M.IDS_NONE) if key in ("parent", "ags", "ars") else None
    if key == "parent" and info["kind"] in ("ars", "ags"):
        return f"{value} ({_level_label(info['kind'], value)})"
    return str(value)


def _level_label(kind: str, value: str) -> str:
    return (Ars(value) if kind == "ars" else Ags(value)).level.label


def _render(info: dict[str, Any], tr: Translator) -> list[str]:
    lines = [f"{info['input'].strip()}: {tr.render(info['summary'])}"]
    rows: list[tuple[str, str]] = []
    for key, label in _LABELS:
        if key not in info or (key == "land" and info["kind"] == "land"):
            continue
        text = _render_value(key, info[key], info, tr)
        if text is not None:
            rows.append((label if isinstance(label, str) else tr(label), text))
    rows.extend((tr(M.IDS_NOTE), tr.render(note)) for note in info["notes"])
    width = max((len(label) for label, _ in rows), default=0)
    lines.extend(f"  {label.ljust(width)}  {text}" for label, text in rows)
    return lines


@click.command("ids")
@click.argument("values", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects.")
@click.option(
    "--as",
    "kind",
    type=click.Choice(KINDS),
    default=None,
    help="Read every VALUE as this kind instead of detecting it (needed for OZG-IDs).",
)
@lang_option
@config_option
@click.pass_context
def ids(
    ctx: click.Context,
    values: tuple[str, ...],
    as_json: bool,
    kind: str | None,
    lang: str | None,
    config_path: str | None,
) -> None:
    """Explain identifiers: kind, level, parts, Land, parent, URN.

    VALUE is a LeiKa key (14 digits), an ARS (2, 3, 5, 9 or 12 digits), an AGS
    (8 digits), a Land ('16', 'TH', 'Thüringen'), or the URN of one of them.
    A 12-digit ARS that may be zero-filled is flagged with all its readings.
    Invalid values are reported on stderr (exit code 2); valid ones are still printed.
    """
    tr = translator("en") if as_json else lang_of(lang, config_path)
    results: list[dict[str, Any]] = []
    failed = False
    for value in values:
        try:
            results.append(_explain(value, kind))
        except InvalidIdentifier as exc:
            failed = True
            click.echo(f"Error: {exc}", err=True)
            continue
        if not as_json:
            click.echo("\n".join(_render(results[-1], tr)))
    if as_json:
        english = [_in_english(info) for info in results]
        click.echo(json.dumps(english, ensure_ascii=False, indent=2))
    if failed:
        ctx.exit(2)
