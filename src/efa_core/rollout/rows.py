"""The derived view's data: :class:`RolloutRow` (one service × area) and its :class:`Evidence`.

Reports, findings and the planning module read these; :mod:`efa_core.rollout.derive`
computes and stores them.  What each field means for a reader is documented here and in
docs/rollout.md ("Evidence and attribution").
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from efa_core.ids import Ars
from efa_core.model import AgreementState, Stage

__all__ = ["Evidence", "Role", "RolloutRow", "RowFlag", "Via"]


class Role(str, enum.Enum):
    """What a piece of evidence does for the row it is listed on.

    .. versionadded:: 0.2.0
    """

    #: It raises the row to its :attr:`Evidence.stage`.
    SUPPORTS = "supports"
    #: It says the opposite of a stage (a dashboard row saying the service is offline).
    CONTRARY = "contrary"
    #: It could be evidence for several offers (:attr:`Evidence.candidates`): it raises no
    #: stage and yields an ``ambiguous-evidence`` finding.
    AMBIGUOUS = "ambiguous"
    #: It names an Onlinedienst or URL of no known offer for this Leistung: the area uses
    #: another solution.  It raises no stage.
    OTHER_SOLUTION = "other-solution"
    #: An agreement of a source that another source contradicts and that does not govern
    #: (see the precedence rule); kept as evidence, raises no stage.
    OVERRULED = "overruled"
    #: A note (the user's own knowledge) about the service in the area; its text is
    #: :attr:`Evidence.detail`.
    NOTE = "note"


class Via(str, enum.Enum):
    """How a piece of evidence was placed on the row's service (its specificity).

    .. versionadded:: 0.2.0
    """

    #: A service record of the service itself (stage ``offered``).
    SERVICE = "service"
    #: An agreement or note naming the service by one of its ids (``service_key``).
    KEY = "key"
    #: A responsibility naming an Onlinedienst id.
    ONLINEDIENST = "onlinedienst"
    #: A dashboard row naming a URL.
    URL = "url"
    #: Only the LeiKa key (and the area): the only candidate offer left.
    LEIKA = "leika"
    #: A route: the offer published in the route's area (routing cannot name an offer).
    PUBLISHED = "published"


class RowFlag(enum.IntFlag):
    """What a row's evidence shows, as one integer (stored with the row).

    .. versionadded:: 0.2.0
    """

    PUBLISHED = 1
    ROUTABLE = 2
    LIVE = 4
    #: A dashboard row of the service says it is offline.
    OFFLINE = 8
    #: Evidence that could belong to several offers covers the area.
    AMBIGUOUS = 16
    #: Another solution (no known offer) is published or live in the area.
    OTHER_SOLUTION = 32
    #: Sources disagree on the agreement of the area; the governing one was chosen by rule.
    DISAGREEMENT = 64
    #: The row's ARS is a 12-digit zero-filled key that may stand for a coarser area, and
    #: no register decides it (:attr:`RolloutRow.readings`).
    UNRESOLVED_AREA = 128


_STAGE_OF: dict[str, Stage] = {s.value: s for s in Stage}
_ROLE_CODE = {
    Role.SUPPORTS: "s",
    Role.CONTRARY: "c",
    Role.AMBIGUOUS: "a",
    Role.OTHER_SOLUTION: "o",
    Role.OVERRULED: "x",
    Role.NOTE: "n",
}
_ROLE_OF = {code: role for role, code in _ROLE_CODE.items()}
_VIA_OF = {v.value: v for v in Via}


@functools.lru_cache(maxsize=1 << 14)
def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@attrs.frozen(kw_only=True, slots=True)
class Evidence:
    """A record that backs (or qualifies) a row: which source said what, when, and how it got here.

    *stage* is the stage the record evidences for this row's service, or ``None`` when it
    raises none (see :attr:`role`).  *at* is when the source says the record changed
    (``modified_at``; for agreements ``state_since``); for agreements ``None`` means the
    source gives no date ("date unknown", never the sync time), for other kinds it falls
    back to when the record was fetched.  *detail* adds what matters: the agreement state,
    a responsibility's target (``"onlinedienst:<id>"``), ``"offline"`` for an offline
    dashboard row, a note's text; for a route its signature date, submission host, privacy
    and imprint URLs and contacts, for a dashboard row the OZG-Leistung's and the area's
    names (:func:`efa_core.store.record_facts`).  *ars* is the area as the source named
    it; *mapped_to* the area it was mapped onto when that is the same area (a kreisfreie
    Stadt named as its Kreis, a zero-filled Kreis key), else None.

    .. versionchanged:: 0.2.0
       :attr:`role`, :attr:`via` and :attr:`candidates`; agreements without a date have
       ``at=None``.
    """

    stage: Stage | None
    source: str
    kind: str
    natural_key: str
    ars: str | None
    at: datetime | None
    detail: str | None = None
    mapped_to: str | None = None
    #: What the evidence does for the row.
    role: Role = Role.SUPPORTS
    #: How it was placed on the service (None: stored by an older version).
    via: Via | None = None
    #: For :attr:`Role.AMBIGUOUS`: the services it could belong to (canonical keys).
    candidates: tuple[str, ...] = ()

    @property
    def area(self) -> str | None:
        """The area the evidence is about in the view's form: :attr:`mapped_to` or :attr:`ars`."""
        return self.mapped_to if self.mapped_to is not None else self.ars

    @property
    def raises(self) -> bool:
        """Whether it raises the row's stage (:attr:`role` is supports and it has a stage)."""
        return self.role is Role.SUPPORTS and self.stage is not None

    def to_dict(self) -> dict[str, Any]:
        """Return the readable JSON form used by reports and findings."""
        return {
            "stage": None if self.stage is None else self.stage.value,
            "source": self.source,
            "kind": self.kind,
            "key": self.natural_key,
            "ars": self.ars,
            "mapped_to": self.mapped_to,
            "at": None if self.at is None else self.at.isoformat(),
            "detail": self.detail,
            "role": self.role.value,
            "via": None if self.via is None else self.via.value,
            "candidates": list(self.candidates),
        }

    def to_json(self) -> list[Any]:
        """Return the compact JSON form stored in the rows table."""
        return _compact(
            None if self.stage is None else self.stage.value,
            self.source,
            self.kind,
            self.natural_key,
            self.ars,
            None if self.at is None else self.at.isoformat(),
            self.detail,
            self.mapped_to,
            _ROLE_CODE[self.role],
            None if self.via is None else self.via.value,
            list(self.candidates),
        )

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Evidence:
        """Inverse of :meth:`to_json`."""
        n = len(data)
        return cls(
            stage=None if data[0] is None else _STAGE_OF[data[0]],
            source=data[1],
            kind=data[2],
            natural_key=data[3],
            ars=data[4],
            at=None if data[5] is None else _when(data[5]),
            detail=data[6],
            mapped_to=data[7] if n > 7 else None,
            role=_ROLE_OF[data[8]] if n > 8 else Role.SUPPORTS,
            via=_VIA_OF[data[9]] if n > 9 and data[9] is not None else None,
            candidates=tuple(data[10]) if n > 10 else (),
        )


_DEFAULTS: tuple[Any, ...] = (None, "s", None, [])


def _compact(*values: Any) -> list[Any]:
    """Return the 11 values of the stored form without trailing defaults after the 7th."""
    out = list(values)
    while len(out) > 7 and out[-1] == _DEFAULTS[len(out) - 8]:
        out.pop()
    return out


def encode_evidence(
    stage: str | None,
    source: str,
    kind: str,
    key: str,
    ars: str | None,
    at: str | None,
    detail: str | None,
    mapped_to: str | None = None,
    role: Role = Role.SUPPORTS,
    via: Via | None = None,
    candidates: Sequence[str] = (),
) -> list[Any]:
    """Return the stored form of one piece of evidence from plain values (the fast path)."""
    return _compact(
        stage,
        source,
        kind,
        key,
        ars,
        at,
        detail,
        mapped_to,
        _ROLE_CODE[role],
        None if via is None else via.value,
        list(candidates),
    )


@attrs.frozen(kw_only=True, slots=True)
class RolloutRow:
    """The derived state of one service in one subscriber area.

    The row combines the evidence of its own area and of every area containing it; its
    :attr:`evidence` lists each record with its :attr:`~Evidence.role` (what it does for
    the row) and :attr:`~Evidence.via` (how it was placed on the service).

    .. versionchanged:: 0.2.0
       :attr:`ambiguous`, :attr:`other_solution`, :attr:`disagreement`, :attr:`readings`.
    """

    #: The canonical key of the service (:attr:`ServiceInfo.key
    #: <efa_core.rollout.ServiceInfo.key>`).
    service_key: str
    ars: Ars
    stage: Stage
    #: The state of the governing agreement (None: no agreement covers the area).
    agreement_state: AgreementState | None
    #: Since when the governing agreement is in its state (None: the source gives no date).
    agreement_since: datetime | None
    published: bool
    routable: bool
    live: bool
    #: A dashboard row of the service for the area (or a containing one) says offline.
    offline: bool
    evidence: tuple[Evidence, ...]
    #: The other ARS of the same area: the Kreis (and Gemeindeverband, for a Stadtstaat
    #: also the Land) of a kreisfreie Stadt whose row is at its Gemeinde ARS.
    aliases: tuple[Ars, ...] = ()
    #: Evidence that could belong to several offers covers the area (raises nothing).
    ambiguous: bool = False
    #: Another solution (no known offer) is published or live in the area.
    other_solution: bool = False
    #: Sources disagree on the area's agreement; the governing one was chosen by rule and
    #: the others are listed with :attr:`Role.OVERRULED`.
    disagreement: bool = False
    #: For a 12-digit zero-filled ARS without a register to decide: the coarser areas it
    #: may stand for (``160740000000`` may be the Kreis ``16074``).
    readings: tuple[Ars, ...] = ()

    @property
    def flags(self) -> RowFlag:
        """The row's booleans as one :class:`RowFlag`."""
        flags = RowFlag(0)
        for flag, value in (
            (RowFlag.PUBLISHED, self.published),
            (RowFlag.ROUTABLE, self.routable),
            (RowFlag.LIVE, self.live),
            (RowFlag.OFFLINE, self.offline),
            (RowFlag.AMBIGUOUS, self.ambiguous),
            (RowFlag.OTHER_SOLUTION, self.other_solution),
            (RowFlag.DISAGREEMENT, self.disagreement),
            (RowFlag.UNRESOLVED_AREA, bool(self.readings)),
        ):
            if value:
                flags |= flag
        return flags

    def evidence_for(self, stage: Stage | None) -> tuple[Evidence, ...]:
        """Return the evidence that raises *stage* (``None``: the contrary evidence).

        Only :attr:`Role.SUPPORTS` evidence raises a stage; ``None`` gives the
        :attr:`Role.CONTRARY` evidence (offline dashboard rows).
        """
        if stage is None:
            return tuple(e for e in self.evidence if e.role is Role.CONTRARY)
        return tuple(e for e in self.evidence if e.stage is stage and e.role is Role.SUPPORTS)

    def evidence_with(self, role: Role) -> tuple[Evidence, ...]:
        """Return the evidence of one :class:`Role` (e.g. the notes, the ambiguous)."""
        return tuple(e for e in self.evidence if e.role is role)

    @property
    def has_active_agreement(self) -> bool:
        """Whether an interest, negotiation or contract governs the area."""
        return self.agreement_state in (
            AgreementState.INTERESTED,
            AgreementState.NEGOTIATING,
            AgreementState.CONTRACTED,
        )
