"""The domain model: typed, immutable records of the facts efa-core tracks.

Every record is an ``@attrs.frozen(kw_only=True)`` class with

* ``KIND`` (a class variable): the record kind, e.g. ``"service"``; :data:`RECORD_TYPES`
  maps each kind to its class and :data:`Record` is the union of all record classes;
* ``natural_key`` (a property): the canonical string that identifies the record inside
  **one source** for that kind.  It is built only from identifying fields, so an update of
  a record from the same source keeps its key.  Each class documents its key.

No record has a field called ``kind``: that key is the record-kind discriminator in
serialized records (:func:`efa_core.serialization.record_to_dict`), so fields that classify
use a specific name (``provider_kind``, ``subscriber_kind``, ``area_type``).

Records hold what the *sources* say, including the provenance a source provides
(``modified_at``: when the source last changed the object), but never the store's
bookkeeping (fetch times, sync runs, hashes).  Change a record with :func:`attrs.evolve`.

Invariants are checked when a record is built: names must not be blank, keys must not be
blank or carry surrounding whitespace, datetimes must be timezone-aware, a service needs at
least one LeiKa key, and so on.  A broken invariant raises :class:`InvalidField`, which
names the record class and the field.  Collections are stored as tuples, so every record
is hashable.

This module does no I/O and imports nothing of the project but :mod:`efa_core.errors` and
:mod:`efa_core.ids` (enforced by ``tests/test_layering.py``); turning records into JSON and
back is :mod:`efa_core.serialization`'s job.

The agreement lifecycle
-----------------------

An :class:`Agreement` (a subscriber's reuse of a service on the registry/contract side) is a
state machine over :class:`AgreementState`.  :meth:`Agreement.transition` allows exactly
the moves in :data:`AGREEMENT_TRANSITIONS`:

==============  =====================================================
from            allowed targets
==============  =====================================================
interested      negotiating, contracted, declined, withdrawn
negotiating     contracted, declined, withdrawn
contracted      terminated
terminated      (final)
declined        (final)
withdrawn       (final)
==============  =====================================================

* ``interested -> contracted`` is allowed because registries often do not expose the
  negotiation phase (a FIT-Store or Marktplatz export may show an interest and then a
  contract).
* ``declined`` (the provider or the registry turns the interest down) and ``withdrawn``
  (the subscriber takes its interest back) end an agreement *before* a contract; once
  contracted, the only way out is ``terminated`` (Kündigung).
* Final states stay final: a renewed interest after a withdrawal is a new agreement (give it
  its own ``reference``, which becomes part of its natural key).
* Staying in the same state is not a transition and is rejected like any illegal move.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar, Final, TypeAlias, TypeVar

import attrs

from efa_core.errors import EfaError, IllegalTransition
from efa_core.ids import Ars, ArsLevel, LeikaKey, OzgId
from efa_core.ids import Land as Land  # re-exported for convenience

__all__ = [
    "AGREEMENT_TRANSITIONS",
    "DEFAULT_CHECKLIST",
    "RECORD_TYPES",
    "XZUFI_XML_MAX_CHARS",
    "Agreement",
    "AgreementState",
    "Area",
    "Availability",
    "ChecklistItem",
    "Contact",
    "Coverage",
    "InvalidField",
    "ItemCondition",
    "ItemState",
    "Maturity",
    "MaturityModel",
    "Note",
    "OnboardingItem",
    "OrganisationUnit",
    "PlanService",
    "PostalAddress",
    "Provider",
    "ProviderKind",
    "Record",
    "Responsibility",
    "ReuseChannel",
    "RolloutPlan",
    "Route",
    "Service",
    "Stage",
    "Subscriber",
    "SubscriberKind",
    "TargetKind",
    "Themenfeld",
    "Tick",
    "Transition",
    "Transport",
    "Usage",
    "Wave",
    "WaveKind",
    "XZuFiObject",
]

_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)


class InvalidField(EfaError, ValueError):
    """A record field breaks an invariant of the model.

    :attr:`record` is the record class name, :attr:`field` the field name and
    :attr:`message` says what is wrong; ``str()`` is ``"<record>.<field>: <message>"``, e.g.
    ``Service.leika_keys: a service needs at least one LeiKa key``.  When records are
    structured from data, :mod:`efa_core.serialization` reports it at the field's path.
    """

    def __init__(self, record: str, field: str, message: str) -> None:
        self.record = record
        self.field = field
        self.message = message
        super().__init__(f"{record}.{field}: {message}")


# --------------------------------------------------------------------------------------
# validators and converters (kept cheap: records are built millions of times)
# --------------------------------------------------------------------------------------


def _fail(inst: object, attribute: attrs.Attribute[Any], message: str) -> InvalidField:
    return InvalidField(type(inst).__name__, attribute.name, message)


def _non_blank(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a str that is not empty or whitespace only."""
    if not isinstance(value, str):
        raise _fail(inst, attribute, f"must be a str, not {type(value).__name__}")
    if not value.strip():
        raise _fail(inst, attribute, "must not be empty")


def _optional_non_blank(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _non_blank(inst, attribute, value)


def _key(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a str usable in a natural key: not empty, no surrounding whitespace."""
    if value.__class__ is str and value and value == value.strip():
        return  # fast path: non-blank (something is left after strip) and already stripped
    _non_blank(inst, attribute, value)
    if isinstance(value, str) and value != value.strip():
        raise _fail(inst, attribute, f"must not have surrounding whitespace: {value!r}")


def _optional_key(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _key(inst, attribute, value)


def _aware(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a timezone-aware datetime (or None)."""
    if value is None:
        return
    if not isinstance(value, datetime):
        raise _fail(inst, attribute, f"must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _fail(
            inst,
            attribute,
            f"naive datetime {value.isoformat()!r} has no timezone; give an offset such as +00:00",
        )


def _url(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require an absolute http(s) URL without whitespace (or None)."""
    if value is None:
        return
    if not isinstance(value, str):
        raise _fail(inst, attribute, f"must be a str, not {type(value).__name__}")
    lowered = value.lower()
    if (
        not lowered.startswith(("https://", "http://"))
        or len(value.split("//", 1)[1]) == 0
        or any(c.isspace() for c in value)
    ):
        raise _fail(inst, attribute, f"{value!r} is not an absolute http(s) URL")


def _no_duplicates(inst: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    if len(set(value)) != len(value):
        seen: set[Any] = set()
        dupes = []
        for item in value:
            if item in seen:
                dupes.append(str(item))
            seen.add(item)
        raise _fail(inst, attribute, f"duplicate entries: {', '.join(dupes)}")


def _non_negative(inst: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or value < 0):
        raise _fail(inst, attribute, f"must be a non-negative integer, got {value!r}")


def _tuple(value: Iterable[_T]) -> tuple[_T, ...]:
    """Store any iterable as a tuple (records stay hashable; tuples pass unchanged)."""
    if isinstance(value, (str, bytes)):
        # a str is iterable but never meant as a collection here
        raise TypeError(f"expected a collection, got {type(value).__name__} {value!r}")
    return tuple(value)


# One converter per element type: mypy's attrs plugin cannot type generic converters.


def _leika_keys(value: Iterable[LeikaKey]) -> tuple[LeikaKey, ...]:
    return _tuple(value)


def _ozg_ids(value: Iterable[OzgId]) -> tuple[OzgId, ...]:
    return _tuple(value)


def _reuse_channels(value: Iterable[ReuseChannel]) -> tuple[ReuseChannel, ...]:
    return _tuple(value)


def _strs(value: Iterable[str]) -> tuple[str, ...]:
    return _tuple(value)


def _key_items(inst: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    """Require a tuple of natural-key strings (each like :func:`_key`), no duplicates."""
    for item in value:
        if not isinstance(item, str) or not item.strip() or item != item.strip():
            raise _fail(inst, attribute, f"{item!r} is not an identifier (a non-blank str)")
    _no_duplicates(inst, attribute, value)


def _ars_tuple(value: Iterable[Ars]) -> tuple[Ars, ...]:
    return _tuple(value)


def _price(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a finite, non-negative :class:`~decimal.Decimal` (or None); never a float."""
    if value is None:
        return
    if not isinstance(value, Decimal):
        hint = " (a float cannot hold an exact price)" if isinstance(value, float) else ""
        raise _fail(
            inst,
            attribute,
            f"must be a Decimal such as Decimal('12.50'), not {type(value).__name__}{hint}",
        )
    if not value.is_finite():
        raise _fail(inst, attribute, f"must be a finite number, got {value}")
    if value < 0:
        raise _fail(inst, attribute, f"must not be negative, got {value}")


def _optional_bool(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise _fail(inst, attribute, f"must be true, false or None, not {type(value).__name__}")


# --------------------------------------------------------------------------------------
# vocabularies
# --------------------------------------------------------------------------------------


def _parse_enum(cls: type[_E], text: str, labels: Mapping[_E, str]) -> _E:
    """Find a member by value, name or label (case-insensitive, whitespace ignored)."""
    wanted = text.strip().casefold()
    for member in cls:
        if wanted in (str(member.value).casefold(), member.name.casefold()):
            return member
        if member in labels and labels[member].casefold() == wanted:
            return member
    known = ", ".join(str(m.value) for m in cls)
    raise ValueError(f"{text!r} is not a valid {cls.__name__}; expected one of: {known}")


class Themenfeld(enum.Enum):
    """The 14 OZG Themenfelder; the value is the FIM Portal slug (enum ``OzgThemenfeld``)."""

    ARBEIT_RUHESTAND = "arbeit_ruhestand"
    BAUEN_WOHNEN = "bauen_wohnen"
    BILDUNG = "bildung"
    EIN_AUSWANDERUNG = "ein_auswanderung"
    ENGAGEMENT_HOBBY = "engagement_hobby"
    FAMILIE_KIND = "familie_kind"
    FORSCHUNG_FOERDERUNG = "forschung_foerderung"
    GESUNDHEIT = "gesundheit"
    MOBILITAET_REISEN = "mobilitaet_reisen"
    QUERSCHNITTSLEISTUNGEN = "querschnittsleistungen"
    RECHT_ORDNUNG = "recht_ordnung"
    STEUERN_ZOLL = "steuern_zoll"
    UMWELT = "umwelt"
    UNTERNEHMENSFUEHRUNG_ENTWICKLUNG = "unternehmensfuehrung_entwicklung"

    @property
    def label(self) -> str:
        """The German label, e.g. ``"Arbeit & Ruhestand"``."""
        return _THEMENFELD_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Themenfeld:
        """Return the Themenfeld for a slug, member name or German label.

        Raises :class:`ValueError` naming the known slugs.
        """
        return _parse_enum(cls, text, _THEMENFELD_LABELS)


_THEMENFELD_LABELS: Final[Mapping[Themenfeld, str]] = MappingProxyType(
    {
        Themenfeld.ARBEIT_RUHESTAND: "Arbeit & Ruhestand",
        Themenfeld.BAUEN_WOHNEN: "Bauen & Wohnen",
        Themenfeld.BILDUNG: "Bildung",
        Themenfeld.EIN_AUSWANDERUNG: "Ein- & Auswanderung",
        Themenfeld.ENGAGEMENT_HOBBY: "Engagement & Hobby",
        Themenfeld.FAMILIE_KIND: "Familie & Kind",
        Themenfeld.FORSCHUNG_FOERDERUNG: "Forschung & Förderung",
        Themenfeld.GESUNDHEIT: "Gesundheit",
        Themenfeld.MOBILITAET_REISEN: "Mobilität & Reisen",
        Themenfeld.QUERSCHNITTSLEISTUNGEN: "Querschnittsleistungen",
        Themenfeld.RECHT_ORDNUNG: "Recht & Ordnung",
        Themenfeld.STEUERN_ZOLL: "Steuern & Zoll",
        Themenfeld.UMWELT: "Umwelt",
        Themenfeld.UNTERNEHMENSFUEHRUNG_ENTWICKLUNG: "Unternehmensführung & -entwicklung",
    }
)


class MaturityModel(enum.Enum):
    """A version of the OZG Reifegradmodell (maturity model)."""

    #: Model 1.1 (06/2020): levels 0-4, the lowest of 10 criteria decides.
    V1_1 = "1.1"
    #: Model 2.0 (07/2025): levels 0-7, 13 criteria.
    V2_0 = "2.0"

    @property
    def max_level(self) -> int:
        """The highest level of this model (4 for 1.1, 7 for 2.0)."""
        return 4 if self is MaturityModel.V1_1 else 7


_MATURITY_1_1_LABELS: Final = (
    "Offline",
    "Information",
    "Formular-Assistent",
    "Online-Leistung",
    "Online-Transaktion",
)


def _maturity_level(inst: Maturity, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(inst, attribute, f"must be an int, not {type(value).__name__}")
    top = inst.model.max_level
    if not 0 <= value <= top:
        raise _fail(
            inst,
            attribute,
            f"level {value} does not exist in maturity model {inst.model.value}; "
            f"its levels are 0-{top}",
        )


@attrs.frozen(kw_only=True)
class Maturity:
    """A Reifegrad: a level *in a named model version*.

    Levels of different model versions are not comparable (2.0 re-cut the scale), so the
    version is always explicit and levels are only ordered within one model
    (:meth:`__lt__` and friends raise :class:`TypeError` across models).
    """

    model: MaturityModel
    level: int = attrs.field(validator=_maturity_level)

    @property
    def label(self) -> str | None:
        """The German level name for model 1.1 (e.g. ``"Online-Leistung"``), else None."""
        if self.model is MaturityModel.V1_1:
            return _MATURITY_1_1_LABELS[self.level]
        return None

    @property
    def ozg_compliant(self) -> bool | None:
        """Whether the level is OZG-compliant (level >= 3 in model 1.1); None for 2.0."""
        if self.model is MaturityModel.V1_1:
            return self.level >= 3
        return None

    def _rank(self, other: object) -> tuple[int, int] | None:
        if not isinstance(other, Maturity):
            return None
        if other.model is not self.model:
            raise TypeError(
                f"cannot compare maturity levels of model {self.model.value} and "
                f"{other.model.value}"
            )
        return self.level, other.level

    def __lt__(self, other: object) -> bool:
        pair = self._rank(other)
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._rank(other)
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._rank(other)
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._rank(other)
        return NotImplemented if pair is None else pair[0] >= pair[1]


class Stage(enum.Enum):
    """How far the rollout of a service in an area has come.

    The funnel is ordered ``offered < interested < contracted < published < routable <
    live``.  ``terminated`` orders **below** ``offered``: stages measure an *active*
    rollout, and a terminated one has none, so ``stage >= Stage.CONTRACTED`` is never true
    for a terminated rollout and ``max()`` over stages prefers any active stage.  The order
    is total (:attr:`rank` gives the position) and comparisons with non-stages raise
    :class:`TypeError`.
    """

    TERMINATED = "terminated"
    OFFERED = "offered"
    INTERESTED = "interested"
    CONTRACTED = "contracted"
    PUBLISHED = "published"
    ROUTABLE = "routable"
    LIVE = "live"

    @property
    def rank(self) -> int:
        """The position in the total order: terminated 0, offered 1, ..., live 6."""
        return _STAGE_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return _STAGE_RANK[self] < _STAGE_RANK[other]

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return _STAGE_RANK[self] <= _STAGE_RANK[other]

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return _STAGE_RANK[self] > _STAGE_RANK[other]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return _STAGE_RANK[self] >= _STAGE_RANK[other]


_STAGE_RANK: Final[Mapping[Stage, int]] = MappingProxyType(
    {stage: rank for rank, stage in enumerate(Stage)}
)


class Coverage(enum.Enum):
    """How widely a service is available, in the OZG-Dashboard's vocabulary.

    The value is a short slug; :attr:`label` is the dashboard's ``art_flaechendeckung``
    text, which :meth:`parse` accepts too.
    """

    BUNDESWEIT = "bundesweit"
    LANDESWEIT = "landesweit"
    KREISWEIT = "kreisweit"
    KOMMUNE = "kommune"
    NICHT_BERUECKSICHTIGT = "nicht_beruecksichtigt"

    @property
    def label(self) -> str:
        """The dashboard's text, e.g. ``"landesweit flächendeckend"``."""
        return _COVERAGE_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Coverage:
        """Return the coverage for a slug or a dashboard label.

        ``"in mindestens einer Kommune verfügbar"`` is accepted besides the dashboard's
        abbreviated ``"in mind. einer Kommune verfügbar"``.
        """
        if text.strip().casefold() == "in mindestens einer kommune verfügbar":
            return cls.KOMMUNE
        return _parse_enum(cls, text, _COVERAGE_LABELS)


_COVERAGE_LABELS: Final[Mapping[Coverage, str]] = MappingProxyType(
    {
        Coverage.BUNDESWEIT: "bundesweit flächendeckend",
        Coverage.LANDESWEIT: "landesweit flächendeckend",
        Coverage.KREISWEIT: "kreisweit flächendeckend",
        Coverage.KOMMUNE: "in mind. einer Kommune verfügbar",
        Coverage.NICHT_BERUECKSICHTIGT: "nicht in Auswertung berücksichtigt",
    }
)


class ReuseChannel(enum.Enum):
    """A legal channel through which a service can be reused (Nachnutzung)."""

    FIT_STORE = "fit_store"
    MARKTPLATZ_GOVDIGITAL = "marktplatz_govdigital"
    MARKTPLATZ_FITKO = "marktplatz_fitko"
    VERWALTUNGSABKOMMEN = "verwaltungsabkommen"


class ProviderKind(enum.Enum):
    """What kind of party provides or operates a service."""

    BUND = "bund"
    LAND = "land"
    KOMMUNE = "kommune"
    IT_DIENSTLEISTER = "it_dienstleister"
    OTHER = "other"


class SubscriberKind(enum.Enum):
    """What kind of party reuses a service: an area (by ARS) or an organisation."""

    LAND = "land"
    KREIS = "kreis"
    KREISFREIE_STADT = "kreisfreie_stadt"
    GEMEINDEVERBAND = "gemeindeverband"
    GEMEINDE = "gemeinde"
    ORGANISATION = "organisation"


class TargetKind(enum.Enum):
    """What a responsibility (Zuständigkeit) points to; mirrors the XZuFi schemeIDs."""

    ONLINEDIENST = "onlinedienst"
    ORGANISATIONSEINHEIT = "organisationseinheit"

    @property
    def scheme_id(self) -> str:
        """The XZuFi schemeID, e.g. ``"ZustaendigkeitOnlinedienst"``."""
        if self is TargetKind.ONLINEDIENST:
            return "ZustaendigkeitOnlinedienst"
        return "ZustaendigkeitOrganisationseinheit"

    @classmethod
    def from_scheme_id(cls, scheme_id: str) -> TargetKind:
        """Return the kind for an XZuFi schemeID (raises ValueError if unknown)."""
        for kind in cls:
            if kind.scheme_id == scheme_id.strip():
                return kind
        raise ValueError(
            f"unknown Zuständigkeit schemeID {scheme_id!r}; expected "
            "ZustaendigkeitOnlinedienst or ZustaendigkeitOrganisationseinheit"
        )


class AgreementState(enum.Enum):
    """The state of an :class:`Agreement`; see the module docs for the transition table."""

    INTERESTED = "interested"
    NEGOTIATING = "negotiating"
    CONTRACTED = "contracted"
    TERMINATED = "terminated"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def allowed_targets(self) -> tuple[AgreementState, ...]:
        """The states this state may move to (empty for final states)."""
        return AGREEMENT_TRANSITIONS[self]

    @property
    def is_final(self) -> bool:
        """True for terminated, declined and withdrawn."""
        return not AGREEMENT_TRANSITIONS[self]

    @property
    def stage(self) -> Stage | None:
        """The rollout stage this state evidences (None for declined and withdrawn)."""
        return _STATE_STAGE[self]


#: The agreement lifecycle: state -> the states it may move to, in this order.
AGREEMENT_TRANSITIONS: Final[Mapping[AgreementState, tuple[AgreementState, ...]]] = (
    MappingProxyType(
        {
            AgreementState.INTERESTED: (
                AgreementState.NEGOTIATING,
                AgreementState.CONTRACTED,
                AgreementState.DECLINED,
                AgreementState.WITHDRAWN,
            ),
            AgreementState.NEGOTIATING: (
                AgreementState.CONTRACTED,
                AgreementState.DECLINED,
                AgreementState.WITHDRAWN,
            ),
            AgreementState.CONTRACTED: (AgreementState.TERMINATED,),
            AgreementState.TERMINATED: (),
            AgreementState.DECLINED: (),
            AgreementState.WITHDRAWN: (),
        }
    )
)

_STATE_STAGE: Final[Mapping[AgreementState, Stage | None]] = MappingProxyType(
    {
        AgreementState.INTERESTED: Stage.INTERESTED,
        AgreementState.NEGOTIATING: Stage.INTERESTED,
        AgreementState.CONTRACTED: Stage.CONTRACTED,
        AgreementState.TERMINATED: Stage.TERMINATED,
        AgreementState.DECLINED: None,
        AgreementState.WITHDRAWN: None,
    }
)


# --------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------


def _min_one(inst: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    if not value:
        raise _fail(inst, attribute, "needs at least one entry")


@attrs.frozen(kw_only=True)
class Service:
    """An EfA online service on offer (a Leistungsangebot / Onlinedienst).

    ``natural_key`` is :attr:`key`, the source's stable identifier of the offer (e.g. the
    Marktplatz offer id or a slug the user chose).  The same service offered through two
    registries has two keys, one per source.

    **Identity.**  The derived view joins the records of one offer from every source into
    one service (see :doc:`/rollout`, "Service identity").  A record contributes the
    identifiers it knows the offer by: its :attr:`key`, :attr:`offer_ids` (its ids in other
    registries), :attr:`onlinedienst_ids` (the XZuFi/PVOG Onlinedienste that implement it)
    and :attr:`url`.  Records sharing an identifier are one service.  LeiKa keys and OZG
    ids never join: they name the Leistung, which several offers implement.

    .. versionchanged:: 0.2.0
       :attr:`onlinedienst_ids` and :attr:`offer_ids`.
    """

    KIND: ClassVar[str] = "service"

    key: str = attrs.field(validator=_key)
    name: str = attrs.field(validator=_non_blank)
    #: The LeiKa keys the service implements; at least one, no duplicates, source order.
    leika_keys: tuple[LeikaKey, ...] = attrs.field(
        converter=_leika_keys, validator=[_min_one, _no_duplicates]
    )
    ozg_ids: tuple[OzgId, ...] = attrs.field(
        default=(), converter=_ozg_ids, validator=_no_duplicates
    )
    themenfeld: Themenfeld | None = None
    #: The implementing Land (umsetzendes Land).
    land: Land | None = None
    #: The natural key of the :class:`Provider` operating the service (Betreiber, IT-DL).
    operator: str | None = attrs.field(default=None, validator=_optional_key)
    maturity: Maturity | None = None
    #: Where citizens use the online service.
    url: str | None = attrs.field(default=None, validator=_url)
    #: The ids of the XZuFi/PVOG Onlinedienste that implement this offer, as a
    #: :class:`Responsibility` names them (:attr:`Responsibility.target_id`, e.g.
    #: ``"S16000_Onlinedienst_OD-EWA"``): responsibilities pointing to them are evidence
    #: for this offer.
    onlinedienst_ids: tuple[str, ...] = attrs.field(
        default=(), converter=_strs, validator=_key_items
    )
    #: The keys of the same offer in other sources (e.g. the EfA-Marktplatz offer id that a
    #: FIT-Store row names): records with these keys are the same service.
    offer_ids: tuple[str, ...] = attrs.field(default=(), converter=_strs, validator=_key_items)
    reuse_channels: tuple[ReuseChannel, ...] = attrs.field(
        default=(), converter=_reuse_channels, validator=_no_duplicates
    )
    #: The price model as the registry words it (Preismodell, e.g. ``"je Fall"`` or
    #: ``"Pauschale pro Jahr"``), if given.
    price_model: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: The price in euros (a :class:`~decimal.Decimal`, never a float: binary floats cannot
    #: hold ``0.10`` exactly), if given; what it is a price *for* is :attr:`price_model`.
    #: Serialized as a string (``"1234.56"``).
    price: Decimal | None = attrs.field(default=None, validator=_price)
    #: When the source last changed the offer.
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """The offer's key in its source (:attr:`key`)."""
        return self.key


@attrs.frozen(kw_only=True)
class Provider:
    """A party that implements, offers or operates services (a Land, an IT-Dienstleister).

    ``natural_key`` is :attr:`key`, e.g. ``"dataport"`` or ``"land:16"``: whatever stable
    identifier the source uses.
    """

    KIND: ClassVar[str] = "provider"

    key: str = attrs.field(validator=_key)
    name: str = attrs.field(validator=_non_blank)
    provider_kind: ProviderKind
    land: Land | None = None
    url: str | None = attrs.field(default=None, validator=_url)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """The provider's key in its source (:attr:`key`)."""
        return self.key


def _subscriber_kind(inst: Subscriber, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, SubscriberKind):
        raise _fail(inst, attribute, f"must be a SubscriberKind, not {type(value).__name__}")
    if value is SubscriberKind.ORGANISATION:
        if inst.organisation_id is None:
            raise InvalidField(
                "Subscriber", "organisation_id", "an organisation subscriber needs an id"
            )
    elif inst.ars is None:
        raise InvalidField("Subscriber", "ars", f"a {value.value} subscriber needs an ARS")


@attrs.frozen(kw_only=True)
class Subscriber:
    """A party that reuses services: an area (by ARS) or an organisation.

    Area subscribers (a Land, Kreis, kreisfreie Stadt, Gemeindeverband or Gemeinde) need
    :attr:`ars`; organisations (e.g. an IT-Dienstleister or a Zweckverband subscribing for
    its members) need :attr:`organisation_id` and may name the area they serve in
    :attr:`ars`.

    ``natural_key`` is ``"ars:<ARS>"`` for areas and ``"org:<organisation_id>"`` for
    organisations, e.g. ``"ars:160550000000"`` or ``"org:ktz"``.
    """

    KIND: ClassVar[str] = "subscriber"

    subscriber_kind: SubscriberKind = attrs.field(validator=_subscriber_kind)
    name: str = attrs.field(validator=_non_blank)
    ars: Ars | None = None
    organisation_id: str | None = attrs.field(default=None, validator=_optional_key)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """``"ars:<ARS>"`` for an area, ``"org:<organisation_id>"`` for an organisation."""
        if self.subscriber_kind is SubscriberKind.ORGANISATION:
            return f"org:{self.organisation_id}"
        return f"ars:{self.ars}"


@attrs.frozen(kw_only=True)
class Transition:
    """One entry of an agreement's history: a move from one state to another.

    Serialized with the key ``"from"`` for :attr:`from_`.
    """

    from_: AgreementState
    to: AgreementState
    #: When the move happened (timezone-aware).
    at: datetime = attrs.field(validator=_aware)
    #: Where the knowledge comes from (a source name, a document, a person).
    source: str | None = attrs.field(default=None, validator=_optional_non_blank)


@attrs.frozen(kw_only=True)
class Agreement:
    """A subscriber's reuse of a service on the registry/contract side.

    Interest, negotiation, contract and termination as a registry (FIT-Store, EfA-Marktplatz)
    or a Verwaltungsabkommen records them; :meth:`transition` moves it through the lifecycle
    described in the module docs.

    ``natural_key`` is ``"<service_key>@<subscriber natural key>"``, followed by
    ``"#<reference>"`` when the registry gives the agreement its own reference (needed when
    one subscriber has several agreements on one service, e.g. a renewed interest after a
    withdrawal), e.g. ``"wohnsitz-anmeldung@ars:16"`` or ``"x@org:ktz#IB-2024-17"``.
    """

    KIND: ClassVar[str] = "agreement"

    #: The natural key of the :class:`Service`.
    service_key: str = attrs.field(validator=_key)
    subscriber: Subscriber
    state: AgreementState
    #: When the current state was entered, if known.
    state_since: datetime | None = attrs.field(default=None, validator=_aware)
    channel: ReuseChannel | None = None
    #: The registry's own reference (Interessenbekundung or contract number).
    reference: str | None = attrs.field(default=None, validator=_optional_key)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """``"<service_key>@<subscriber key>"`` plus ``"#<reference>"`` if there is one."""
        key = f"{self.service_key}@{self.subscriber.natural_key}"
        return f"{key}#{self.reference}" if self.reference is not None else key

    def transition(
        self,
        to: AgreementState | str,
        *,
        at: datetime,
        source: str | None = None,
    ) -> tuple[Agreement, Transition]:
        """Move to state *to* at time *at*; return the new record and its history entry.

        *to* is a state or its value (``"contracted"``).  The new record has
        ``state=to`` and ``state_since=at``; :attr:`modified_at` is left alone (it belongs
        to the source).

        :raises IllegalTransition: if the lifecycle does not allow the move; the message
            lists the allowed targets.
        :raises InvalidField: if *at* is naive or lies before :attr:`state_since`.
        """
        target = to if isinstance(to, AgreementState) else _parse_state(to)
        allowed = AGREEMENT_TRANSITIONS[self.state]
        if target not in allowed:
            raise IllegalTransition(
                f"agreement {self.natural_key!r}",
                self.state.value,
                target.value,
                [state.value for state in allowed],
            )
        entry = Transition(from_=self.state, to=target, at=at, source=source)
        if self.state_since is not None and at < self.state_since:
            raise InvalidField(
                "Transition",
                "at",
                f"{at.isoformat()} is before {self.state_since.isoformat()}, when the "
                f"agreement entered {self.state.value!r}",
            )
        return attrs.evolve(self, state=target, state_since=at), entry


def _parse_state(text: str) -> AgreementState:
    try:
        return AgreementState(text)
    except ValueError:
        known = ", ".join(state.value for state in AgreementState)
        raise ValueError(f"{text!r} is not an agreement state; expected one of: {known}") from None


@attrs.frozen(kw_only=True)
class Responsibility:
    """A Zuständigkeit: LeiKa key × area → an Onlinedienst or an authority (OE).

    Mirrors XZuFi's ``ZustaendigkeitOnlinedienst`` / ``ZustaendigkeitOrganisationseinheit``
    (:attr:`target_kind`).  External ids are the composite PVOG ids
    (``<Mandant>_<local id>``, e.g. ``"S10005_12345"``).

    ``natural_key`` is the Zuständigkeit's own id (:attr:`responsibility_id`) when the
    source has one: the PVOG change feed deletes Zuständigkeiten by that id alone, so it
    must be the key.  Otherwise it is
    ``"<leika_key>@<ars>-><target_kind>:<target_id>"``, e.g.
    ``"99115005104000@16055->onlinedienst:S16000_4711"``.  A connector that splits one
    XZuFi Zuständigkeit with several areas into rows must give each row its own id or none.
    """

    KIND: ClassVar[str] = "responsibility"

    leika_key: LeikaKey
    #: The area (XZuFi gebietID).
    ars: Ars
    target_kind: TargetKind
    #: The id of the Onlinedienst or OE (XZuFi uebergeordnetesObjektID).
    target_id: str = attrs.field(validator=_key)
    #: The Zuständigkeit's own composite id, if the source has one.
    responsibility_id: str | None = attrs.field(default=None, validator=_optional_key)
    #: The id of the XZuFi Leistung object the Zuständigkeit refers to (leistungID).
    leistung_id: str | None = attrs.field(default=None, validator=_optional_key)
    #: The role code (XZuFi rolle/code), if given.
    role: str | None = attrs.field(default=None, validator=_optional_key)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """The XZuFi id if present, else ``"<leika>@<ars>-><target_kind>:<target_id>"``."""
        if self.responsibility_id is not None:
            return self.responsibility_id
        return f"{self.leika_key}@{self.ars}->{self.target_kind.value}:{self.target_id}"


def _uuid(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, uuid.UUID):
        raise _fail(inst, attribute, f"must be a UUID, not {type(value).__name__}")


@attrs.frozen(kw_only=True)
class Contact:
    """A contact person of a route's destination (Routing API ``contactPersons[]``)."""

    name: str | None = attrs.field(default=None, validator=_optional_non_blank)
    phone: str | None = attrs.field(default=None, validator=_optional_non_blank)
    fax: str | None = attrs.field(default=None, validator=_optional_non_blank)
    email: str | None = attrs.field(default=None, validator=_optional_non_blank)


@attrs.frozen(kw_only=True)
class PostalAddress:
    """An address of a route's destination (``address``, ``postalAddress``, ``postOfficeBox``).

    :attr:`usage` says which: ``"visit"`` (Hausanschrift), ``"postal"`` or ``"po-box"``.
    """

    usage: str = attrs.field(validator=_non_blank)
    street: str | None = attrs.field(default=None, validator=_optional_non_blank)
    house_number: str | None = attrs.field(default=None, validator=_optional_non_blank)
    additional: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: The post office box (``"Postfach 12 34"``), for ``"po-box"`` addresses.
    po_box: str | None = attrs.field(default=None, validator=_optional_non_blank)
    zip: str | None = attrs.field(default=None, validator=_optional_non_blank)
    city: str | None = attrs.field(default=None, validator=_optional_non_blank)


def _contacts(value: Iterable[Contact]) -> tuple[Contact, ...]:
    return _tuple(value)


def _addresses(value: Iterable[PostalAddress]) -> tuple[PostalAddress, ...]:
    return _tuple(value)


@attrs.frozen(kw_only=True)
class Route:
    """A FIT-Connect destination for a LeiKa key in an area (Routing API ``/routes``).

    ``natural_key`` is ``"<leika_key>@<ars>-><destination_id>"``: one routing query (key ×
    area) may return several destinations.

    The *signature evidence* fields come from the route's ``destinationSignature`` (a JWS
    over the addressing data the destination was registered with in XZuFi): the areas and
    LeiKa keys it signs (``services[].gebietIDs`` / ``leistungIDs``, in payload order,
    without duplicates) and whether the signature was verified.  They let findings tell a
    route that was only *returned* for a pair from one whose signed data *covers* it.
    """

    KIND: ClassVar[str] = "route"

    leika_key: LeikaKey
    #: The area the route was found for.
    ars: Ars
    destination_id: uuid.UUID = attrs.field(validator=_uuid)
    #: The destination's name (destinationName), if given.
    name: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: Where the Routing API got the route from (``origin``, e.g. ``"PVOG"``).
    origin: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: The areas the destinationSignature names (``gebietIDs``); empty if unknown.
    signed_areas: tuple[Ars, ...] = attrs.field(
        default=(), converter=_ars_tuple, validator=_no_duplicates
    )
    #: The LeiKa keys the destinationSignature names (``leistungIDs``); empty if unknown.
    signed_leika_keys: tuple[LeikaKey, ...] = attrs.field(
        default=(), converter=_leika_keys, validator=_no_duplicates
    )
    #: ``True`` if the signature was verified against the Routing API's key, ``False`` if
    #: it failed verification, ``None`` if it was not checked (no key configured).
    signature_verified: bool | None = attrs.field(default=None, validator=_optional_bool)
    #: When the addressing data was signed (the signature's ``iat``).
    signed_at: datetime | None = attrs.field(default=None, validator=_aware)
    #: The Submission API host the signature names (``submissionHost``).
    submission_host: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: The destination's privacy policy (``privacyPolicyUrl``): onboarding asks for it.
    privacy_policy_url: str | None = attrs.field(default=None, validator=_url)
    #: The destination's imprint (``imprintUrl``).
    imprint_url: str | None = attrs.field(default=None, validator=_url)
    #: The destination's accessibility statement (``accessibilityUrl``).
    accessibility_url: str | None = attrs.field(default=None, validator=_url)
    #: The destination's contact form (``contactFormUrl``).
    contact_form_url: str | None = attrs.field(default=None, validator=_url)
    #: The contact persons (``contactPersons``), in the answer's order.
    contacts: tuple[Contact, ...] = attrs.field(default=(), converter=_contacts)
    #: The addresses (``address``, ``postalAddress``, ``postOfficeBox``).
    addresses: tuple[PostalAddress, ...] = attrs.field(default=(), converter=_addresses)
    #: The processing duration (``processingDuration``) as text, e.g. ``"2-5 workday"``.
    processing_duration: str | None = attrs.field(default=None, validator=_optional_non_blank)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """``"<leika_key>@<ars>-><destination_id>"``."""
        return f"{self.leika_key}@{self.ars}->{self.destination_id}"


@attrs.frozen(kw_only=True)
class Availability:
    """One OZG-Dashboard row: is a LeiKa key online in an area, where, how widely.

    :attr:`ars` is the canonical (unpadded) ARS; the dashboard's 12-digit padded form is
    converted by the connector.  The dashboard identifies an online service only by its
    URL, and one (key, area) pair can have several rows with different URLs, so
    ``natural_key`` is ``"<leika_key>@<ars>-><url>"``, or ``"<leika_key>@<ars>"`` for a row
    without URL.
    """

    KIND: ClassVar[str] = "availability"

    leika_key: LeikaKey
    ars: Ars
    url: str | None = attrs.field(default=None, validator=_url)
    #: ``online_status`` (``ok`` → True, ``nicht ok`` → False), if given.
    online: bool | None = None
    #: ``aktiv`` (``ja`` → True, ``nein`` → False), if given.
    active: bool | None = None
    coverage: Coverage | None = None
    ozg_id: OzgId | None = None
    #: The dashboard's name of the Leistung (``leika_bezeichnung``).
    name: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: The name of the OZG-Leistung (``ozg_bezeichnung``).
    ozg_name: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: The dashboard's name of the area (``ars_name``).
    area_name: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: The Land of the row (``ars_federal_state``).
    land: Land | None = None
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """``"<leika_key>@<ars>-><url>"`` (without ``"-><url>"`` if there is no URL)."""
        key = f"{self.leika_key}@{self.ars}"
        return f"{key}->{self.url}" if self.url is not None else key


def _parent(inst: Area, attribute: attrs.Attribute[Any], value: Ars | None) -> None:
    if value is None:
        return
    if value == inst.ars or not value.contains(inst.ars):
        raise _fail(inst, attribute, f"{value} is not a proper prefix of the area's ARS {inst.ars}")


@attrs.frozen(kw_only=True)
class Area:
    """An official area (Gebietskörperschaft) in the ARS hierarchy.

    :attr:`parent` is the next area up that exists (the hierarchy skips levels, e.g. Länder
    without Regierungsbezirke), so it is stored, not derived; it must be a proper prefix of
    :attr:`ars`.  :attr:`level` follows from the ARS.

    ``natural_key`` is the canonical ARS, e.g. ``"16055"``.
    """

    KIND: ClassVar[str] = "area"

    ars: Ars
    name: str = attrs.field(validator=_non_blank)
    #: The official type, e.g. ``"Kreisfreie Stadt"`` or ``"Landkreis"``, if given.
    area_type: str | None = attrs.field(default=None, validator=_optional_non_blank)
    parent: Ars | None = attrs.field(default=None, validator=_parent)
    population: int | None = attrs.field(default=None, validator=_non_negative)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def level(self) -> ArsLevel:
        """The ARS level of :attr:`ars`."""
        return self.ars.level

    @property
    def natural_key(self) -> str:
        """The canonical ARS."""
        return str(self.ars)


@attrs.frozen(kw_only=True)
class Note:
    """The user's own knowledge, e.g. "kickoff with the pilot municipality on 12 May".

    A note may point at what it is about: a service (:attr:`service_key`), a subscriber
    (:attr:`subscriber`, a :class:`Subscriber` natural key such as ``"ars:160550000000"``
    or ``"org:ktz"``) and an agreement (:attr:`agreement_key`, an :class:`Agreement`
    natural key).  These are references, not checked against other records.

    ``natural_key`` is :attr:`key`, chosen by the source (e.g. given in a YAML file, or
    derived from the date and the text).
    """

    KIND: ClassVar[str] = "note"

    key: str = attrs.field(validator=_key)
    #: What the note says (free text, not empty).
    text: str = attrs.field(validator=_non_blank)
    #: When the noted event happened (or is planned), if the note is about a date.
    on: datetime | None = attrs.field(default=None, validator=_aware)
    #: The natural key of the :class:`Service` the note is about.
    service_key: str | None = attrs.field(default=None, validator=_optional_key)
    #: The natural key of the :class:`Subscriber` the note is about.
    subscriber: str | None = attrs.field(default=None, validator=_optional_key)
    #: The natural key of the :class:`Agreement` the note is about.
    agreement_key: str | None = attrs.field(default=None, validator=_optional_key)
    #: Who wrote it (a name or an e-mail address), if given.
    author: str | None = attrs.field(default=None, validator=_optional_non_blank)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """The note's key in its source (:attr:`key`)."""
        return self.key


@attrs.frozen(kw_only=True)
class OrganisationUnit:
    """An authority (XZuFi ``organisationseinheit``, OE), e.g. "Bürgeramt Erfurt".

    A :class:`Responsibility` with ``target_kind`` ``organisationseinheit`` names an OE by
    its id (:attr:`Responsibility.target_id`), which is this record's :attr:`key`.

    ``natural_key`` is :attr:`key`, the composite XZuFi id
    (``"<schemeAgencyID>_<schemeID>_<value>"``, e.g.
    ``"S16000_Organisationseinheit_OE-ERFURT"``).
    """

    KIND: ClassVar[str] = "organisation-unit"

    key: str = attrs.field(validator=_key)
    name: str = attrs.field(validator=_non_blank)
    #: The area of the OE's address (``anschrift``'s Regionalschlüssel), if given.
    ars: Ars | None = None
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """The composite XZuFi id (:attr:`key`)."""
        return self.key


#: The longest :attr:`XZuFiObject.xml` the model accepts, in characters (1 MiB).  Readers
#: may refuse smaller payloads (efa-xzufi's ``max_raw_chars``).
XZUFI_XML_MAX_CHARS: Final = 1 << 20


def _object_class(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _key(inst, attribute, value)
    if isinstance(value, str) and (":" in value or any(c.isspace() for c in value)):
        raise _fail(inst, attribute, f"must be an XML local name without ':' or spaces: {value!r}")


def _xml_payload(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _non_blank(inst, attribute, value)
    if not isinstance(value, str):  # pragma: no cover - _non_blank raised
        return
    if len(value) > XZUFI_XML_MAX_CHARS:
        raise _fail(
            inst,
            attribute,
            f"has {len(value)} characters, more than the {XZUFI_XML_MAX_CHARS} a record may hold",
        )
    if not value.lstrip().startswith("<"):
        raise _fail(inst, attribute, "must be an XML element (start with '<')")


@attrs.frozen(kw_only=True)
class XZuFiObject:
    """An XZuFi object kept as raw payload because the model has no typed record for it.

    ``spezialisierung`` (LeistungSpezialisierung), ``leistung`` and objects unknown to the
    reader: evidence to look at or to map later.  :attr:`xml` is the serialized element
    as received (at most :data:`XZUFI_XML_MAX_CHARS` characters).

    ``natural_key`` is ``"<object_class>:<object_id>"``, e.g.
    ``"spezialisierung:S16000_Spezialisierung_SP-1"``.
    """

    KIND: ClassVar[str] = "xzufi-object"

    #: The object element's local name, e.g. ``"spezialisierung"`` or ``"leistung"``.
    object_class: str = attrs.field(validator=_object_class)
    #: The object's composite XZuFi id (``"<schemeAgencyID>_<schemeID>_<value>"``).
    object_id: str = attrs.field(validator=_key)
    #: The serialized element.
    xml: str = attrs.field(validator=_xml_payload, repr=False)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """``"<object_class>:<object_id>"``."""
        return f"{self.object_class}:{self.object_id}"


# --------------------------------------------------------------------------------------
# rollout planning: plans, waves, onboarding checklists (see docs/planning.md)
# --------------------------------------------------------------------------------------


def _date(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a calendar date (not a datetime) or None."""
    if value is None:
        return
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _fail(
            inst, attribute, f"must be a date such as 2025-03-01, not {type(value).__name__}"
        )


def _slug(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require lower-case letters and digits in words joined by hyphens, e.g. ``go-live``."""
    _key(inst, attribute, value)
    assert isinstance(value, str)
    parts = value.split("-")
    if not all(p and p.isascii() and p.isalnum() and p == p.lower() for p in parts):
        raise _fail(
            inst,
            attribute,
            f"{value!r} is not a slug (lower-case letters and digits joined by hyphens)",
        )


def _plan_key(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _key(inst, attribute, value)
    if isinstance(value, str) and "/" in value:
        raise _fail(inst, attribute, f"must not contain '/' (it separates keys): {value!r}")


class WaveKind(enum.Enum):
    """What a :class:`Wave` of a rollout plan is: a pilot or a rollout wave."""

    PILOT = "pilot"
    ROLLOUT = "rollout"


class ItemState(enum.Enum):
    """The state of one onboarding checklist item of a service in a municipality."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_APPLICABLE = "not_applicable"


class Tick(enum.Enum):
    """The evidence that ticks a checklist item automatically (see docs/planning.md)."""

    #: An interest, negotiation or contract (an :class:`Agreement`) covers the area.
    INTEREST = "interest"
    #: A contracted :class:`Agreement` covers the area.
    CONTRACT = "contract"
    #: A :class:`Responsibility` (Zuständigkeit) of the service covers the area.
    RESPONSIBILITY = "responsibility"
    #: A FIT-Connect :class:`Route` exists for the area.
    ROUTE = "route"
    #: The OZG-Dashboard says the service is online there (:class:`Availability`).
    LIVE = "live"


class Transport(enum.Enum):
    """How applications reach the municipality's Fachverfahren (the ``transport`` item)."""

    FIT_CONNECT = "fit-connect"
    OSCI_XTA = "osci-xta"
    OTHER = "other"

    @classmethod
    def parse(cls, text: str) -> Transport:
        """Return the transport for a value or a spelling such as ``"FIT-Connect"``, ``"XTA"``.

        Raises :class:`ValueError` naming the known values.
        """
        wanted = "".join(c for c in text.casefold() if c.isalnum())
        aliases = {
            "fitconnect": cls.FIT_CONNECT,
            "osci": cls.OSCI_XTA,
            "xta": cls.OSCI_XTA,
            "oscixta": cls.OSCI_XTA,
            "xtaosci": cls.OSCI_XTA,
            "other": cls.OTHER,
            "andere": cls.OTHER,
            "anderer": cls.OTHER,
            "sonstige": cls.OTHER,
            "sonstiger": cls.OTHER,
        }
        if wanted in aliases:
            return aliases[wanted]
        known = ", ".join(t.value for t in cls)
        raise ValueError(f"{text!r} is not a transport; expected one of: {known}")


class ItemCondition(enum.Enum):
    """When a checklist item applies to a service in a municipality."""

    #: Only where the chosen transport is FIT-Connect (or none is chosen yet).
    FIT_CONNECT = "fit-connect"
    #: Only where the chosen transport is OSCI/XTA.
    OSCI_XTA = "osci-xta"
    #: Only for services that charge fees (:attr:`PlanService.fees`).
    FEES = "fees"


@attrs.frozen(kw_only=True)
class ChecklistItem:
    """One item of an onboarding checklist, e.g. "FIT-Connect destination"."""

    #: The item's key, a slug such as ``"destination"``; unique within a checklist.
    key: str = attrs.field(validator=_slug)
    label: str = attrs.field(validator=_non_blank)
    #: The evidence that ticks it automatically, if any.
    ticked_by: Tick | None = None
    #: When it applies (None: always).
    only_if: ItemCondition | None = None


def _checklist(value: Iterable[ChecklistItem]) -> tuple[ChecklistItem, ...]:
    return _tuple(value)


def _unique_items(
    inst: object, attribute: attrs.Attribute[Any], value: tuple[ChecklistItem, ...]
) -> None:
    _no_duplicates(inst, attribute, tuple(item.key for item in value))


#: The default onboarding checklist, in the order practice works through it (Dataport's
#: "Anbindungsprozess"; see docs/planning.md).
DEFAULT_CHECKLIST: Final[tuple[ChecklistItem, ...]] = (
    ChecklistItem(key="interest", label="Interesse bekundet", ticked_by=Tick.INTEREST),
    ChecklistItem(key="contract", label="Vertrag / Nutzungsvereinbarung", ticked_by=Tick.CONTRACT),
    ChecklistItem(key="transport", label="Übertragungsweg gewählt"),
    ChecklistItem(key="fachverfahren", label="Fachverfahren angebunden"),
    ChecklistItem(
        key="zustaendigkeit",
        label="OE und Zuständigkeit im Redaktionssystem",
        ticked_by=Tick.RESPONSIBILITY,
    ),
    ChecklistItem(
        key="destination",
        label="FIT-Connect-Zustellpunkt",
        ticked_by=Tick.ROUTE,
        only_if=ItemCondition.FIT_CONNECT,
    ),
    ChecklistItem(key="dvdv", label="DVDV-Eintrag", only_if=ItemCondition.OSCI_XTA),
    ChecklistItem(key="payment", label="Bezahldaten (ePayBL)", only_if=ItemCondition.FEES),
    ChecklistItem(key="contacts", label="Ansprechpersonen benannt"),
    ChecklistItem(key="production-test", label="Produktionstest"),
    ChecklistItem(key="go-live", label="Liveschaltung", ticked_by=Tick.LIVE),
    ChecklistItem(key="announcement", label="Bekanntmachung"),
)


@attrs.frozen(kw_only=True)
class PlanService:
    """A service of a :class:`RolloutPlan`, with what the plan says about it."""

    #: The natural key of the :class:`Service`.
    key: str = attrs.field(validator=_key)
    #: The checklist for this service (empty: the plan's).
    checklist: tuple[ChecklistItem, ...] = attrs.field(
        default=(), converter=_checklist, validator=_unique_items
    )
    #: Whether the service charges fees (the ``payment`` item applies).
    fees: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: The composite XZuFi id of the Onlinedienst the municipalities' Zuständigkeiten point
    #: to (``"<schemeAgencyID>_<schemeID>_<value>"``), for the onboarding package.
    onlinedienst: str | None = attrs.field(default=None, validator=_optional_key)


def _plan_services(value: Iterable[PlanService]) -> tuple[PlanService, ...]:
    return _tuple(value)


def _unique_services(
    inst: object, attribute: attrs.Attribute[Any], value: tuple[PlanService, ...]
) -> None:
    _min_one(inst, attribute, value)
    _no_duplicates(inst, attribute, tuple(s.key for s in value))


@attrs.frozen(kw_only=True)
class RolloutPlan:
    """A Land's plan to roll services out to its municipalities (see docs/planning.md).

    A plan is a set of offers and targets: its :class:`Wave` records say which areas are
    meant to go live by when, its :class:`OnboardingItem` records what the roll-in
    organisation ticked by hand.  What really happened is observed in the other sources.

    ``natural_key`` is :attr:`key`.
    """

    KIND: ClassVar[str] = "rollout-plan"

    #: The plan's key, e.g. ``"th-2025"`` (no ``/``).
    key: str = attrs.field(validator=_plan_key)
    name: str = attrs.field(validator=_non_blank)
    #: The Land whose municipalities the plan is for.
    land: Land
    #: The services the plan rolls out (at least one, each once).
    services: tuple[PlanService, ...] = attrs.field(
        converter=_plan_services, validator=_unique_services
    )
    #: The planning body, the Land's roll-in organisation (e.g. ``"ThüringenDigital"``).
    planning_body: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: The financing model: a cost strategy name (``efa costs --strategy``) or a text.
    financing: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: The plan's checklist (empty: :data:`DEFAULT_CHECKLIST`).
    checklist: tuple[ChecklistItem, ...] = attrs.field(
        default=(), converter=_checklist, validator=_unique_items
    )
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """The plan's key (:attr:`key`)."""
        return self.key

    @property
    def service_keys(self) -> tuple[str, ...]:
        """The keys of :attr:`services`, in plan order."""
        return tuple(s.key for s in self.services)

    def service(self, key: str) -> PlanService | None:
        """Return the plan's entry for the service *key* (None if it is not in the plan)."""
        return next((s for s in self.services if s.key == key), None)

    def checklist_for(self, service_key: str) -> tuple[ChecklistItem, ...]:
        """Return the checklist of a service: its own, else the plan's, else the default."""
        entry = self.service(service_key)
        if entry is not None and entry.checklist:
            return entry.checklist
        return self.checklist or DEFAULT_CHECKLIST


def _golive_after_stichtag(inst: Wave, attribute: attrs.Attribute[Any], value: date | None) -> None:
    _date(inst, attribute, value)
    if value is not None and inst.stichtag is not None and value < inst.stichtag:
        raise _fail(
            inst,
            attribute,
            f"{value.isoformat()} is before the Stichtag {inst.stichtag.isoformat()}",
        )


def _targets(inst: object, attribute: attrs.Attribute[Any], value: tuple[Ars, ...]) -> None:
    _min_one(inst, attribute, value)
    _no_duplicates(inst, attribute, value)


def _service_keys(value: Iterable[str]) -> tuple[str, ...]:
    return _tuple(value)


@attrs.frozen(kw_only=True)
class Wave:
    """A wave of a :class:`RolloutPlan`: target areas with a Stichtag and a go-live date.

    A target is an ARS: a Gemeinde, or a Kreis or Land meaning every Gemeinde inside it.
    The pilot municipalities of a plan are a wave of kind :attr:`WaveKind.PILOT`.

    ``natural_key`` is ``"<plan_key>/<name>"``, e.g. ``"th-2025/Pilot"``.
    """

    KIND: ClassVar[str] = "plan-wave"

    #: The natural key of the :class:`RolloutPlan`.
    plan_key: str = attrs.field(validator=_plan_key)
    name: str = attrs.field(validator=_key)
    wave_kind: WaveKind = WaveKind.ROLLOUT
    #: The target areas (at least one, no duplicates).
    targets: tuple[Ars, ...] = attrs.field(converter=_ars_tuple, validator=_targets)
    #: The agreed date the roll-in organisation hands the questionnaires over (Stichtag).
    stichtag: date | None = attrs.field(default=None, validator=_date)
    #: The date the targets are meant to be live.
    target_golive: date | None = attrs.field(default=None, validator=_golive_after_stichtag)
    #: The plan services this wave rolls out (empty: all of the plan's).
    services: tuple[str, ...] = attrs.field(
        default=(), converter=_service_keys, validator=_no_duplicates
    )
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """``"<plan_key>/<name>"``."""
        return f"{self.plan_key}/{self.name}"


@attrs.frozen(kw_only=True)
class OnboardingItem:
    """A checklist item of a service in an area as the roll-in organisation recorded it.

    Items ticked by evidence are derived, not stored: this record holds a manual state
    (see :mod:`efa_core.rollout.planning`).  An item recorded for a Kreis applies to the
    Gemeinden inside it that have no item of their own.

    ``natural_key`` is ``"<plan_key>/<service_key>@<ars>#<item>"``.
    """

    KIND: ClassVar[str] = "onboarding-item"

    plan_key: str = attrs.field(validator=_plan_key)
    service_key: str = attrs.field(validator=_key)
    ars: Ars
    #: The checklist item's key, e.g. ``"transport"``.
    item: str = attrs.field(validator=_slug)
    state: ItemState
    #: When the state was reached (a date).
    on: date | None = attrs.field(default=None, validator=_date)
    #: Who recorded it (a name or an e-mail address).
    by: str | None = attrs.field(default=None, validator=_optional_non_blank)
    #: What was chosen or entered, e.g. ``"fit-connect"`` for the transport, a DVDV key.
    value: str | None = attrs.field(default=None, validator=_optional_non_blank)
    note: str | None = attrs.field(default=None, validator=_optional_non_blank)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """``"<plan_key>/<service_key>@<ars>#<item>"``."""
        return f"{self.plan_key}/{self.service_key}@{self.ars}#{self.item}"


def _period(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _key(inst, attribute, value)
    assert isinstance(value, str)
    year, sep, month = value.partition("-")
    ok = len(year) == 4 and year.isdigit() and year.isascii()
    if sep:
        ok = ok and len(month) == 2 and month.isdigit() and 1 <= int(month) <= 12
    if not ok:
        raise _fail(inst, attribute, f"{value!r} is not a year (2024) or a month (2024-03)")


@attrs.frozen(kw_only=True)
class Usage:
    """How often a service was used in an area in a period (a usage statistic).

    The OZG-Dashboard publishes monthly transactions per online service down to Kreis and
    Gemeinde; the ``usage`` cost strategy splits costs by these numbers.

    ``natural_key`` is ``"<service_key>@<ars>#<period>"``.
    """

    KIND: ClassVar[str] = "usage"

    service_key: str = attrs.field(validator=_key)
    ars: Ars
    #: A year (``"2024"``) or a month (``"2024-03"``).
    period: str = attrs.field(validator=_period)
    uses: int = attrs.field(validator=_non_negative)
    modified_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def natural_key(self) -> str:
        """``"<service_key>@<ars>#<period>"``."""
        return f"{self.service_key}@{self.ars}#{self.period}"


#: Any record.
Record: TypeAlias = (
    Service
    | Provider
    | Subscriber
    | Agreement
    | Responsibility
    | Route
    | Availability
    | Area
    | Note
    | OrganisationUnit
    | XZuFiObject
    | RolloutPlan
    | Wave
    | OnboardingItem
    | Usage
)

#: Record kind (``KIND``) -> record class.
RECORD_TYPES: Final[Mapping[str, type[Record]]] = MappingProxyType(
    {
        cls.KIND: cls
        for cls in (
            Service,
            Provider,
            Subscriber,
            Agreement,
            Responsibility,
            Route,
            Availability,
            Area,
            Note,
            OrganisationUnit,
            XZuFiObject,
            RolloutPlan,
            Wave,
            OnboardingItem,
            Usage,
        )
    }
)
