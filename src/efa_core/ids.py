"""Identifiers of the German administration: LeiKa keys, ARS, AGS, Länder and OZG-IDs.

Every identifier is a small immutable value: hashable, ordered, printed in its canonical
form by ``str()``, and parsed from text by ``Type.parse(text)``, which ignores surrounding
whitespace and also accepts the identifier's URN form.  The plain constructor
(``Ars("16055")``) is strict: it accepts only the canonical form.  Both raise
:class:`~efa_core.errors.InvalidIdentifier` (a :class:`ValueError`) whose message names
the kind, the value and the rule it broke::

    >>> Ars.parse(" 16055 ").level
    <ArsLevel.KREIS: 5>
    >>> Ars("1605")
    Traceback (most recent call last):
    ...
    efa_core.errors.InvalidIdentifier: ARS '1605' has 4 digits; an ARS has 2, 3, 5, 9 or 12 digits

Serialising: ``str(x)`` and ``Type.parse(text)`` are exact inverses for every type here
(:class:`Land` serialises to its code, e.g. ``"16"``).

**ARS hierarchy and the Regierungsbezirk digit.**  An ARS (Amtlicher Regionalschlüssel)
is read position by position: Land (2 digits) | Regierungsbezirk (1) | Kreis (2) |
Gemeindeverband (4) | Gemeinde (3); its valid prefixes have 2, 3, 5, 9 or 12 digits.
Position 3 is ``0`` where a Land has no Regierungsbezirke (e.g. Thüringen), so ``"160"``
is syntactically valid but names no real area.  Hence :meth:`Ars.parent` of a Kreis is
its Regierungsbezirk only when position 3 is not ``0``, and the Land otherwise; the
parent chain always ends at the Land, and every ARS :meth:`~Ars.contains` its parent
chain (containment is prefix containment).  The digit is taken as given: former
Regierungsbezirke that still shape the keys (Niedersachsen, Rheinland-Pfalz, Sachsen)
count as Regierungsbezirke too.  No catalogue is consulted: an ARS here is valid when it
is well-formed, not when the area exists.

**Zero-filled ARS are ambiguous.**  The OZG-Dashboard wants every ARS as 12 digits,
zero-filled on the right (:meth:`Ars.padded`).  Reading such a value back is ambiguous,
because a kreisfreie Stadt is its own Gemeinde with Gemeindeverband ``0000`` and Gemeinde
``000``: ``160550000000`` is the Gemeinde Weimar, the zero-filled Gemeindeverband
``160550000`` and the zero-filled Kreis ``16055`` (the Stadtstaaten are even zero-filled
Länder: ``110000000000`` is Berlin).  The ARS alone cannot tell which area was meant, so:

* :meth:`Ars.from_padded` takes a ``level``; without it, it returns the *shortest*
  reading (``16055``), which is the exact inverse of :meth:`Ars.padded` for every ARS
  that does not itself end in a zero-filled part.  Pass ``level=`` whenever the source
  says what kind of area its rows describe.
* :meth:`Ars.padded_readings` returns every reading, shortest first, for callers that
  must flag or resolve the ambiguity themselves (``efa ids`` shows all of them).

The same holds for an 8-digit AGS ending in ``000`` (:meth:`Ags.from_padded`).

**ARS and AGS.**  The AGS (Amtlicher Gemeindeschlüssel) is the ARS without the
Gemeindeverband: for a Gemeinde ``AGS = ARS[0:5] + ARS[9:12]``; for a Land,
Regierungsbezirk or Kreis the two are equal.  A Gemeindeverband (9-digit ARS) has no AGS,
and an 8-digit AGS needs the 4-digit Gemeindeverband part to become an ARS: it is passed
explicitly (:meth:`Ars.from_ags`), never guessed.

**OZG-IDs** are positive whole numbers (the OZG-Dashboard's ``ozgid`` is an integer).
The canonical form has no leading zeros; :meth:`OzgId.parse` strips them.  They sort by
number.  No URN for OZG-IDs is published, so :class:`OzgId` has none.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import ClassVar

import attrs

from efa_core.errors import InvalidIdentifier

__all__ = [
    "AGS_URN_PREFIX",
    "ARS_URN_PREFIX",
    "LAND_URN_PREFIX",
    "LEIKA_URN_PREFIX",
    "Ags",
    "Ars",
    "ArsLevel",
    "Land",
    "LeikaKey",
    "OzgId",
]

LEIKA_URN_PREFIX = "urn:de:fim:leika:leistung:"
"""URN prefix of a LeiKa key (FIT-Connect, XZuFi)."""
ARS_URN_PREFIX = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"
"""URN prefix of an ARS (XZuFi, FIT-Connect)."""
AGS_URN_PREFIX = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:ags:"
"""URN prefix of an AGS.  Inferred from the ARS and Bundesland code lists; not seen in use."""
LAND_URN_PREFIX = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland:"
"""URN prefix of a Land code (Bundesland code list)."""

_LAND_CODES = frozenset(f"{n:02d}" for n in range(1, 17))
_LAND_RULE = "a Land code is 01 to 16"


# -- helpers ----------------------------------------------------------------------------


def _is_digits(text: str) -> bool:
    # str.isdigit alone accepts "²" and non-ASCII digits.
    return text.isascii() and text.isdigit()


def _as_str(kind: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(kind, value, f"is a {type(value).__name__}, not a str")
    return value


def _digits_rule(text: str, lengths: frozenset[int], expected: str) -> str | None:
    """Return the rule ``text`` breaks as a digit string of one of ``lengths``, or None."""
    if not _is_digits(text):
        return f"is empty; {expected}" if not text else f"contains non-digits; {expected}"
    if len(text) not in lengths:
        return f"has {len(text)} digits; {expected}"
    return None


def _land_rule(text: str) -> str | None:
    land = text[:2]
    return None if land in _LAND_CODES else f"has Land {land!r}; {_LAND_RULE}"


def _prepare(kind: str, text: object, prefix: str | None) -> tuple[str, str]:
    """Strip ``text`` and remove the URN ``prefix``; return ``(stripped, body)``."""
    stripped = _as_str(kind, text).strip()
    head = stripped[:4].lower()
    if head == "urn:":
        if prefix is None:
            raise InvalidIdentifier(kind, stripped, "is a URN; there is no URN form for it")
        if stripped[: len(prefix)].lower() != prefix:
            raise InvalidIdentifier(
                kind,
                stripped,
                f"is not {_article(kind)} {kind} URN; expected {prefix + '<' + kind + '>'!r}",
            )
        return stripped, stripped[len(prefix) :]
    return stripped, stripped


def _article(kind: str) -> str:
    return "an" if kind[:1] in "AEIOU" else "a"


def _raise(kind: str, stripped: str, body: str, rule: str) -> InvalidIdentifier:
    if body is stripped:
        return InvalidIdentifier(kind, stripped, rule)
    return InvalidIdentifier(kind, stripped, f"ends in {body!r}, which {rule}")


def _zero_filled_readings(text: str, lengths: tuple[int, ...]) -> tuple[str, ...]:
    """Every prefix of ``text`` with a length in ``lengths`` followed only by zeros."""
    return tuple(text[:n] for n in lengths if text[n:].strip("0") == "")


# -- LeiKa key --------------------------------------------------------------------------

_LEIKA_LENGTHS = frozenset({14})
_LEIKA_EXPECTED = "a LeiKa key has 14 digits"


def _leika_rule(text: str) -> str | None:
    if len(text) == 14 and _is_digits(text):  # fast path
        return None
    if _is_digits(text):
        return f"has {len(text)} digits; a LeiKa key has 14"
    return _digits_rule(text, _LEIKA_LENGTHS, _LEIKA_EXPECTED)


def _validate_leika(_inst: object, _attr: object, value: str) -> None:
    if value.__class__ is str and len(value) == 14 and value.isascii() and value.isdigit():
        return  # fast path: what _leika_rule accepts first
    _as_str("LeiKa key", value)
    rule = _leika_rule(value)
    if rule is not None:
        raise InvalidIdentifier("LeiKa key", value, rule)


@attrs.frozen(slots=True, order=True, repr=False)
class LeikaKey:
    """A Leistungsschlüssel of the Leistungskatalog (LeiKa): exactly 14 digits.

    Layout: Kennung (2) | Leistungsgruppierung (3) | Leistungskennung (3) |
    Verrichtung (3) | Verrichtungsdetail (3).  Federal keys ("99er-Schlüssel") start
    with ``99``; Länder and Kommunen use other prefixes.  There is no check digit.
    """

    value: str = attrs.field(validator=_validate_leika)
    """The 14 digits."""

    KIND: ClassVar[str] = "LeiKa key"

    @classmethod
    def parse(cls, text: str) -> LeikaKey:
        """Parse ``text`` (whitespace ignored; also ``urn:de:fim:leika:leistung:<key>``)."""
        stripped, body = _prepare(cls.KIND, text, LEIKA_URN_PREFIX)
        rule = _leika_rule(body)
        if rule is not None:
            raise _raise(cls.KIND, stripped, body, rule)
        return cls._unchecked(body)

    @classmethod
    def _unchecked(cls, value: str) -> LeikaKey:
        obj = object.__new__(cls)
        object.__setattr__(obj, "value", value)
        return obj

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"LeikaKey({self.value!r})"

    @property
    def kennung(self) -> str:
        """The first 2 digits (``"99"`` for federal keys)."""
        return self.value[0:2]

    @property
    def leistungsgruppierung(self) -> str:
        """Digits 3-5: the Leistungsgruppierung."""
        return self.value[2:5]

    @property
    def leistungskennung(self) -> str:
        """Digits 6-8: the Leistungskennung (Leistungsobjekt)."""
        return self.value[5:8]

    @property
    def verrichtung(self) -> str:
        """Digits 9-11: the Verrichtungskennung."""
        return self.value[8:11]

    @property
    def verrichtungsdetail(self) -> str:
        """Digits 12-14: the Verrichtungsdetail."""
        return self.value[11:14]

    @property
    def is_federal(self) -> bool:
        """Whether this is a federal ("99er") key."""
        return self.value.startswith("99")

    @property
    def urn(self) -> str:
        """``urn:de:fim:leika:leistung:<key>``."""
        return LEIKA_URN_PREFIX + self.value

    def parts(self) -> dict[str, str]:
        """Return the five parts by name, in key order."""
        return {
            "kennung": self.kennung,
            "leistungsgruppierung": self.leistungsgruppierung,
            "leistungskennung": self.leistungskennung,
            "verrichtung": self.verrichtung,
            "verrichtungsdetail": self.verrichtungsdetail,
        }


# -- Land -------------------------------------------------------------------------------

_LAND_NAMES: Mapping[str, str] = {
    "01": "Schleswig-Holstein",
    "02": "Hamburg",
    "03": "Niedersachsen",
    "04": "Bremen",
    "05": "Nordrhein-Westfalen",
    "06": "Hessen",
    "07": "Rheinland-Pfalz",
    "08": "Baden-Württemberg",
    "09": "Bayern",
    "10": "Saarland",
    "11": "Berlin",
    "12": "Brandenburg",
    "13": "Mecklenburg-Vorpommern",
    "14": "Sachsen",
    "15": "Sachsen-Anhalt",
    "16": "Thüringen",
}


def _name_key(name: str) -> str:
    key = name.casefold()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        key = key.replace(umlaut, plain)
    return "".join(ch for ch in key if ch.isalnum())


class Land(enum.Enum):
    """One of the 16 Länder, with its two-digit code as value.

    ``str(land)`` is the code (``"16"``); :meth:`parse` also accepts the abbreviation
    (``"TH"``) and the name (``"Thüringen"``, ``"thueringen"``), case-insensitively.
    Members sort by code.
    """

    SH = "01"
    HH = "02"
    NI = "03"
    HB = "04"
    NW = "05"
    HE = "06"
    RP = "07"
    BW = "08"
    BY = "09"
    SL = "10"
    BE = "11"
    BB = "12"
    MV = "13"
    SN = "14"
    ST = "15"
    TH = "16"

    _value_: str

    @classmethod
    def _missing_(cls, value: object) -> Land:
        # Land("17") raises InvalidIdentifier (a ValueError) instead of a bare ValueError.
        _as_str("Land", value)
        raise InvalidIdentifier("Land", value, f"is not a Land code; {_LAND_RULE}")

    @classmethod
    def parse(cls, text: str) -> Land:
        """Parse a code (``"16"``), abbreviation (``"TH"``), name or bundesland URN."""
        stripped, body = _prepare("Land", text, LAND_URN_PREFIX)
        if body in _LAND_CODES:
            return cls(body)
        if body is stripped:
            found = _LAND_LOOKUP.get(_name_key(body))
            if found is not None:
                return found
            rule = (
                "is not a Land code (01 to 16), abbreviation (e.g. 'TH') or name (e.g. 'Thüringen')"
            )
        else:
            rule = f"is not a Land code; {_LAND_RULE}"
        raise _raise("Land", stripped, body, rule)

    def __str__(self) -> str:
        return self._value_

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Land):
            return NotImplemented
        return self._value_ < other._value_

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Land):
            return NotImplemented
        return self._value_ <= other._value_

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Land):
            return NotImplemented
        return self._value_ > other._value_

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Land):
            return NotImplemented
        return self._value_ >= other._value_

    @property
    def code(self) -> str:
        """The two-digit code, ``"01"`` to ``"16"``."""
        return self._value_

    @property
    def name_de(self) -> str:
        """The German name, e.g. ``"Thüringen"``."""
        return _LAND_NAMES[self._value_]

    @property
    def abbreviation(self) -> str:
        """The usual two-letter abbreviation, e.g. ``"TH"``."""
        return self.name

    @property
    def urn(self) -> str:
        """``urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland:<code>``."""
        return LAND_URN_PREFIX + self._value_

    @property
    def ars(self) -> Ars:
        """The Land-level ARS (the code)."""
        return Ars._unchecked(self._value_)


_LAND_LOOKUP: Mapping[str, Land] = {
    **{_name_key(land.name_de): land for land in Land},
    **{land.abbreviation.casefold(): land for land in Land},
}


# -- ARS levels -------------------------------------------------------------------------


class ArsLevel(enum.Enum):
    """The level of an ARS or AGS; the value is the ARS length.  Ordered coarse to fine."""

    LAND = 2
    REGIERUNGSBEZIRK = 3
    KREIS = 5
    GEMEINDEVERBAND = 9
    GEMEINDE = 12

    _value_: int

    @classmethod
    def parse(cls, text: str | ArsLevel) -> ArsLevel:
        """Return ``text`` if it is a level, else the level named ``text`` (any case)."""
        if isinstance(text, ArsLevel):
            return text
        try:
            return cls[text.strip().upper()]
        except (KeyError, AttributeError):
            names = ", ".join(level.name.lower() for level in cls)
            raise ValueError(f"ARS level {text!r} is not one of {names}") from None

    @property
    def length(self) -> int:
        """The number of digits of an ARS at this level."""
        return self._value_

    @property
    def ags_length(self) -> int | None:
        """The number of digits of an AGS at this level (None for a Gemeindeverband)."""
        return _AGS_LENGTH_BY_LEVEL.get(self)

    @property
    def label(self) -> str:
        """The German name, e.g. ``"Kreis"``."""
        return self.name.capitalize()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ArsLevel):
            return NotImplemented
        return self._value_ < other._value_

    def __le__(self, other: object) -> bool:
        if not isinstance(other, ArsLevel):
            return NotImplemented
        return self._value_ <= other._value_

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, ArsLevel):
            return NotImplemented
        return self._value_ > other._value_

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, ArsLevel):
            return NotImplemented
        return self._value_ >= other._value_


_ARS_LEVEL_BY_LENGTH: Mapping[int, ArsLevel] = {level.length: level for level in ArsLevel}
_AGS_LENGTH_BY_LEVEL: Mapping[ArsLevel, int] = {
    ArsLevel.LAND: 2,
    ArsLevel.REGIERUNGSBEZIRK: 3,
    ArsLevel.KREIS: 5,
    ArsLevel.GEMEINDE: 8,
}
_AGS_LEVEL_BY_LENGTH: Mapping[int, ArsLevel] = {n: lv for lv, n in _AGS_LENGTH_BY_LEVEL.items()}


# -- ARS --------------------------------------------------------------------------------

_ARS_LENGTHS = frozenset(_ARS_LEVEL_BY_LENGTH)
_ARS_LENGTHS_SORTED = tuple(sorted(_ARS_LENGTHS))
_ARS_EXPECTED = "an ARS has 2, 3, 5, 9 or 12 digits"


def _ars_rule(text: str) -> str | None:
    rule = _digits_rule(text, _ARS_LENGTHS, _ARS_EXPECTED)
    return rule if rule is not None else _land_rule(text)


def _validate_ars(_inst: object, _attr: object, value: str) -> None:
    if (
        value.__class__ is str
        and len(value) in _ARS_LENGTHS
        and value.isascii()
        and value.isdigit()
        and value[:2] in _LAND_CODES
    ):
        return  # fast path: what _ars_rule accepts
    _as_str("ARS", value)
    rule = _ars_rule(value)
    if rule is not None:
        raise InvalidIdentifier("ARS", value, rule)


def _parent_length(value: str) -> int | None:
    n = len(value)
    if n == 12:
        return 9
    if n == 9:
        return 5
    if n == 5:
        return 3 if value[2] != "0" else 2
    if n == 3:
        return 2
    return None


def _verband_part(ags: str, verband: str | Ars | None) -> str:
    """Return the 4 Gemeindeverband digits for the 8-digit AGS ``ags``."""
    if verband is None:
        raise InvalidIdentifier(
            "AGS",
            ags,
            "is a Gemeinde AGS, which lacks the 4-digit Gemeindeverband part of its ARS; "
            "pass verband= (e.g. '0000' for a kreisfreie Stadt)",
        )
    if isinstance(verband, Ars):
        if verband.level is not ArsLevel.GEMEINDEVERBAND or verband.value[:5] != ags[:5]:
            raise InvalidIdentifier(
                "Gemeindeverband",
                verband.value,
                f"is not a 9-digit ARS in Kreis {ags[:5]!r} of AGS {ags!r}",
            )
        return verband.value[5:9]
    verband = _as_str("Gemeindeverband part", verband)
    if len(verband) != 4 or not _is_digits(verband):
        raise InvalidIdentifier(
            "Gemeindeverband part",
            verband,
            "is not 4 digits; the Gemeindeverband part of an ARS (positions 6-9) has 4 digits",
        )
    return verband


@attrs.frozen(slots=True, order=True, repr=False)
class Ars:
    """An Amtlicher Regionalschlüssel: 2, 3, 5, 9 or 12 digits, Land ``01`` to ``16``.

    See the module docstring for the hierarchy and the zero-filling ambiguity.
    Instances sort by their digits, which puts every area right before the areas it
    contains.
    """

    value: str = attrs.field(validator=_validate_ars)
    """The digits, in the shortest form for the level."""

    KIND: ClassVar[str] = "ARS"

    @classmethod
    def _unchecked(cls, value: str) -> Ars:
        obj = object.__new__(cls)
        object.__setattr__(obj, "value", value)
        return obj

    @classmethod
    def parse(cls, text: str) -> Ars:
        """Parse ``text`` (whitespace ignored; also the ``…:schluessel:rs:<ars>`` URN).

        A 12-digit text is taken literally as a Gemeinde; use :meth:`from_padded` for
        zero-filled values.
        """
        stripped, body = _prepare(cls.KIND, text, ARS_URN_PREFIX)
        rule = _ars_rule(body)
        if rule is not None:
            raise _raise(cls.KIND, stripped, body, rule)
        return cls._unchecked(body)

    @classmethod
    def from_padded(cls, text: str, level: ArsLevel | str | None = None) -> Ars:
        """Read a 12-digit zero-filled ARS (the inverse of :meth:`padded`).

        ``level`` says which reading is meant (an :class:`ArsLevel` or its name, e.g.
        ``"kreis"``); the digits after that level must all be zero.  Without ``level``
        the shortest reading is returned: ``from_padded("160550000000")`` is the Kreis
        ``16055``, though the same digits are also the Gemeinde Weimar.  Use
        :meth:`padded_readings` to see every reading.
        """
        digits = cls._padded_digits(text)
        if level is None:
            return cls._unchecked(_zero_filled_readings(digits, _ARS_LENGTHS_SORTED)[0])
        lvl = ArsLevel.parse(level)
        if digits[lvl.length :].strip("0"):
            raise InvalidIdentifier(
                "zero-filled ARS",
                digits,
                f"has non-zero digits after position {lvl.length}, so it is not a "
                f"zero-filled {lvl.label}",
            )
        return cls._unchecked(digits[: lvl.length])

    @classmethod
    def padded_readings(cls, text: str) -> tuple[Ars, ...]:
        """Every ARS whose :meth:`padded` form is ``text``, shortest (coarsest) first.

        More than one reading means the value is ambiguous, e.g. ``160550000000`` reads
        as Kreis ``16055``, Gemeindeverband ``160550000`` and Gemeinde ``160550000000``.
        """
        digits = cls._padded_digits(text)
        return tuple(cls._unchecked(r) for r in _zero_filled_readings(digits, _ARS_LENGTHS_SORTED))

    @classmethod
    def _padded_digits(cls, text: str) -> str:
        digits = _as_str("zero-filled ARS", text).strip()
        rule = _digits_rule(digits, frozenset({12}), "a zero-filled ARS has 12 digits")
        if rule is None:
            rule = _land_rule(digits)
        if rule is not None:
            raise InvalidIdentifier("zero-filled ARS", digits, rule)
        return digits

    @classmethod
    def from_ags(cls, ags: Ags | str, verband: str | Ars | None = None) -> Ars:
        """Convert an AGS to an ARS.

        A 2-, 3- or 5-digit AGS is the ARS.  An 8-digit (Gemeinde) AGS lacks the
        Gemeindeverband part (ARS positions 6-9), which the caller must give as
        ``verband``: the 4 digits, or the 9-digit Gemeindeverband ARS.  Without it,
        and with it for a shorter AGS, InvalidIdentifier is raised.
        """
        ags = ags if isinstance(ags, Ags) else Ags.parse(ags)
        text = ags.value
        if len(text) == 8:
            return cls._unchecked(text[:5] + _verband_part(text, verband) + text[5:])
        if verband is not None:
            raise InvalidIdentifier(
                "AGS",
                text,
                f"is at {ags.level.label} level; verband= applies only to an 8-digit AGS",
            )
        return cls._unchecked(text)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Ars({self.value!r})"

    @property
    def level(self) -> ArsLevel:
        """The level, given by the length."""
        return _ARS_LEVEL_BY_LENGTH[len(self.value)]

    @property
    def land(self) -> Land:
        """The Land (first two digits)."""
        return Land(self.value[:2])

    @property
    def has_regierungsbezirk(self) -> bool:
        """Whether position 3 names a Regierungsbezirk (is present and not ``0``)."""
        return len(self.value) >= 3 and self.value[2] != "0"

    @property
    def regierungsbezirk(self) -> Ars | None:
        """The 3-digit Regierungsbezirk containing this ARS, if position 3 is not ``0``."""
        return Ars._unchecked(self.value[:3]) if self.has_regierungsbezirk else None

    @property
    def kreis(self) -> Ars | None:
        """The 5-digit Kreis containing (or being) this ARS; None above Kreis level."""
        return Ars._unchecked(self.value[:5]) if len(self.value) >= 5 else None

    @property
    def gemeindeverband(self) -> Ars | None:
        """The 9-digit Gemeindeverband containing (or being) this ARS, if any."""
        return Ars._unchecked(self.value[:9]) if len(self.value) >= 9 else None

    @property
    def urn(self) -> str:
        """``urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:<ars>``."""
        return ARS_URN_PREFIX + self.value

    def parent(self) -> Ars | None:
        """Return the next coarser area; None for a Land.

        12 -> 9 -> 5 -> 3 -> 2 digits, except that a Kreis whose position 3 is ``0``
        (a Land without Regierungsbezirke) has the Land as parent.
        """
        n = _parent_length(self.value)
        return None if n is None else Ars._unchecked(self.value[:n])

    def ancestors(self) -> tuple[Ars, ...]:
        """Return the chain of :meth:`parent` areas, nearest first, ending at the Land."""
        chain: list[Ars] = []
        current = self.parent()
        while current is not None:
            chain.append(current)
            current = current.parent()
        return tuple(chain)

    def contains(self, other: Ars) -> bool:
        """Whether ``other`` lies in this area (prefix containment; contains itself)."""
        return other.value.startswith(self.value)

    def at_level(self, level: ArsLevel | str) -> Ars:
        """Return the area at ``level`` containing this ARS (itself at its own level)."""
        lvl = ArsLevel.parse(level)
        if lvl.length > len(self.value):
            raise InvalidIdentifier(
                self.KIND, self.value, f"is at {self.level.label} level, above {lvl.label}"
            )
        return Ars._unchecked(self.value[: lvl.length])

    def padded(self) -> str:
        """Return the 12-digit form, zero-filled on the right (as the OZG-Dashboard wants)."""
        return self.value.ljust(12, "0")

    def to_ags(self) -> Ags:
        """Return the AGS: ``ARS[0:5] + ARS[9:12]`` for a Gemeinde, else the same digits.

        Raises InvalidIdentifier for a Gemeindeverband (9 digits), which has no AGS.
        """
        text = self.value
        n = len(text)
        if n == 12:
            return Ags._unchecked(text[:5] + text[9:])
        if n == 9:
            raise InvalidIdentifier(
                self.KIND,
                text,
                "is a Gemeindeverband (9 digits), which has no AGS; "
                "only a 2, 3, 5 or 12-digit ARS converts to an AGS",
            )
        return Ags._unchecked(text)

    def parts(self) -> dict[str, str]:
        """Return the positional parts present, by name (land, regierungsbezirk, …)."""
        v = self.value
        names = (
            ("land", 0, 2),
            ("regierungsbezirk", 2, 3),
            ("kreis", 3, 5),
            ("gemeindeverband", 5, 9),
            ("gemeinde", 9, 12),
        )
        return {name: v[a:b] for name, a, b in names if len(v) >= b}


# -- AGS --------------------------------------------------------------------------------

_AGS_LENGTHS = frozenset(_AGS_LEVEL_BY_LENGTH)
_AGS_LENGTHS_SORTED = tuple(sorted(_AGS_LENGTHS))
_AGS_EXPECTED = "an AGS has 2, 3, 5 or 8 digits"


def _ags_rule(text: str) -> str | None:
    rule = _digits_rule(text, _AGS_LENGTHS, _AGS_EXPECTED)
    return rule if rule is not None else _land_rule(text)


def _validate_ags(_inst: object, _attr: object, value: str) -> None:
    _as_str("AGS", value)
    rule = _ags_rule(value)
    if rule is not None:
        raise InvalidIdentifier("AGS", value, rule)


@attrs.frozen(slots=True, order=True, repr=False)
class Ags:
    """An Amtlicher Gemeindeschlüssel: 2, 3, 5 or 8 digits, Land ``01`` to ``16``.

    Layout: Land (2) | Regierungsbezirk (1) | Kreis (2) | Gemeinde (3).  The URN form
    ``urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:ags:<ags>`` is inferred
    from the ARS and Bundesland code lists.
    """

    value: str = attrs.field(validator=_validate_ags)
    """The digits."""

    KIND: ClassVar[str] = "AGS"

    @classmethod
    def _unchecked(cls, value: str) -> Ags:
        obj = object.__new__(cls)
        object.__setattr__(obj, "value", value)
        return obj

    @classmethod
    def parse(cls, text: str) -> Ags:
        """Parse ``text`` (whitespace ignored; also the ``…:schluessel:ags:<ags>`` URN)."""
        stripped, body = _prepare(cls.KIND, text, AGS_URN_PREFIX)
        rule = _ags_rule(body)
        if rule is not None:
            raise _raise(cls.KIND, stripped, body, rule)
        return cls._unchecked(body)

    @classmethod
    def from_padded(cls, text: str, level: ArsLevel | str | None = None) -> Ags:
        """Read an 8-digit zero-filled AGS; like :meth:`Ars.from_padded`.

        ``16055000`` is both the Gemeinde Weimar and the zero-filled Kreis ``16055``;
        without ``level`` the shortest reading is returned.
        """
        digits = cls._padded_digits(text)
        if level is None:
            return cls._unchecked(_zero_filled_readings(digits, _AGS_LENGTHS_SORTED)[0])
        lvl = ArsLevel.parse(level)
        n = lvl.ags_length
        if n is None:
            raise InvalidIdentifier(
                "zero-filled AGS", digits, "cannot be read as a Gemeindeverband, which has no AGS"
            )
        if digits[n:].strip("0"):
            raise InvalidIdentifier(
                "zero-filled AGS",
                digits,
                f"has non-zero digits after position {n}, so it is not a zero-filled {lvl.label}",
            )
        return cls._unchecked(digits[:n])

    @classmethod
    def padded_readings(cls, text: str) -> tuple[Ags, ...]:
        """Every AGS whose :meth:`padded` form is ``text``, shortest first."""
        digits = cls._padded_digits(text)
        return tuple(cls._unchecked(r) for r in _zero_filled_readings(digits, _AGS_LENGTHS_SORTED))

    @classmethod
    def _padded_digits(cls, text: str) -> str:
        digits = _as_str("zero-filled AGS", text).strip()
        rule = _digits_rule(digits, frozenset({8}), "a zero-filled AGS has 8 digits")
        if rule is None:
            rule = _land_rule(digits)
        if rule is not None:
            raise InvalidIdentifier("zero-filled AGS", digits, rule)
        return digits

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Ags({self.value!r})"

    @property
    def level(self) -> ArsLevel:
        """The level: LAND, REGIERUNGSBEZIRK, KREIS or GEMEINDE (8 digits)."""
        return _AGS_LEVEL_BY_LENGTH[len(self.value)]

    @property
    def land(self) -> Land:
        """The Land (first two digits)."""
        return Land(self.value[:2])

    @property
    def urn(self) -> str:
        """``urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:ags:<ags>`` (inferred)."""
        return AGS_URN_PREFIX + self.value

    def parent(self) -> Ags | None:
        """Return the next coarser area: 8 -> 5 -> 3 -> 2 digits (5 -> 2 if pos. 3 is 0)."""
        v = self.value
        n = len(v)
        if n == 8:
            return Ags._unchecked(v[:5])
        m = _parent_length(v)
        return None if m is None else Ags._unchecked(v[:m])

    def contains(self, other: Ags) -> bool:
        """Whether ``other`` lies in this area (prefix containment; contains itself)."""
        return other.value.startswith(self.value)

    def padded(self) -> str:
        """Return the 8-digit form, zero-filled on the right."""
        return self.value.ljust(8, "0")

    def to_ars(self, verband: str | Ars | None = None) -> Ars:
        """Convert to an ARS; an 8-digit AGS needs ``verband`` (see :meth:`Ars.from_ags`)."""
        return Ars.from_ags(self, verband)

    def parts(self) -> dict[str, str]:
        """Return the positional parts present, by name (land, …, gemeinde)."""
        v = self.value
        names = (("land", 0, 2), ("regierungsbezirk", 2, 3), ("kreis", 3, 5), ("gemeinde", 5, 8))
        return {name: v[a:b] for name, a, b in names if len(v) >= b}


# -- OZG-ID -----------------------------------------------------------------------------

_OZG_EXPECTED = "an OZG-ID is a positive whole number"


def _ozg_rule(text: str) -> str | None:
    if not _is_digits(text):
        return f"is empty; {_OZG_EXPECTED}" if not text else f"contains non-digits; {_OZG_EXPECTED}"
    if text[0] == "0":
        if text.strip("0") == "":
            return f"is zero; {_OZG_EXPECTED}"
        return (
            "has a leading zero; an OZG-ID is written without leading zeros "
            "(OzgId.parse strips them)"
        )
    return None


def _validate_ozg(_inst: object, _attr: object, value: str) -> None:
    _as_str("OZG-ID", value)
    rule = _ozg_rule(value)
    if rule is not None:
        raise InvalidIdentifier("OZG-ID", value, rule)


@attrs.frozen(slots=True, order=False, repr=False)
class OzgId:
    """The id of an OZG-Leistung (Leistungsbündel), e.g. ``10000``: a positive number.

    Canonical form: decimal digits without leading zeros.  Sorts numerically.
    There is no published URN for OZG-IDs.
    """

    value: str = attrs.field(validator=_validate_ozg)
    """The digits, without leading zeros."""

    KIND: ClassVar[str] = "OZG-ID"

    @classmethod
    def parse(cls, text: str) -> OzgId:
        """Parse an int-like string: whitespace and leading zeros are ignored."""
        stripped, _ = _prepare(cls.KIND, text, None)
        body = stripped.lstrip("0") if _is_digits(stripped) else stripped
        if stripped and not body:
            body = "0"
        rule = _ozg_rule(body)
        if rule is not None:
            raise InvalidIdentifier(cls.KIND, stripped, rule)
        return cls(body)

    @classmethod
    def from_int(cls, number: int) -> OzgId:
        """Make an OZG-ID from a positive int."""
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise InvalidIdentifier(cls.KIND, number, f"is not a positive int; {_OZG_EXPECTED}")
        return cls(str(number))

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"OzgId({self.value!r})"

    def __int__(self) -> int:
        return int(self.value)

    def _key(self) -> tuple[int, str]:
        return (len(self.value), self.value)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, OzgId):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, OzgId):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, OzgId):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, OzgId):
            return NotImplemented
        return self._key() >= other._key()
