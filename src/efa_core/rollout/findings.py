"""Findings: where sources contradict each other or a rollout stalls.

A *finding rule* is any callable that takes a :class:`FindingContext` (one service: its
derived rows, the store, the known areas, the options) and yields :class:`Finding` objects.
Rules are registered by plugins through the ``efa_register_finding_rules`` hook
(``register(name, rule)``); the built-in rules live in :mod:`efa_core.rollout.builtin_rules`.
:func:`run_findings` calls every rule once per service and stamps each finding with the name
the rule was registered under.

A finding's sentence is a catalogue :class:`~efa_core.i18n.Message` (:attr:`Finding.text`,
built with :meth:`Text.fill <efa_core.i18n.Text.fill>`), shown in the reader's language
(:meth:`Finding.render`); its English rendering is :attr:`Finding.message`, the stable text
of JSON output.  A rule may give a plain ``message`` instead: it is shown as it is.

Options (``options=`` of :func:`run_findings`, ``efa findings --option``) are plain values a
rule reads with :meth:`FindingContext.option`; the built-ins use ``contracted_days`` (90)
and ``known_onlinedienste`` (a collection of Onlinedienst ids besides the service keys).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

import attrs

from efa_core.errors import EfaError
from efa_core.i18n import Message, Translator
from efa_core.ids import Ars
from efa_core.rollout.areas_index import AreaIndex
from efa_core.rollout.derive import Evidence, RolloutRow, RolloutView, ServiceInfo
from efa_core.store import Store

__all__ = [
    "Finding",
    "FindingContext",
    "FindingRule",
    "Severity",
    "run_findings",
]


class Severity(str, enum.Enum):
    """How serious a finding is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@attrs.frozen(kw_only=True)
class Finding:
    """One finding: which rule, how serious, for which service and area, why, and the proof."""

    rule: str
    severity: Severity
    service: str | None
    area: Ars | None
    #: The sentence as a catalogue message, shown in the reader's language (None: a rule
    #: that gives only :attr:`message`).
    text: Message | None = None
    #: The sentence as the rule gave it (``message=``); None: :attr:`text` in English.
    _message: str | None = attrs.field(default=None, alias="message")
    evidence: tuple[Evidence, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.text is None and self._message is None:
            raise TypeError("a Finding needs a message or a text")

    @property
    def message(self) -> str:
        """The sentence in English: the stable text of JSON output.

        The rule's ``message=``, else :attr:`text` rendered in English (on use: a report
        that only counts its findings never renders them).
        """
        if self._message is not None:
            return self._message
        return str(self.text)

    def render(self, tr: Translator) -> str:
        """Return the sentence in *tr*'s language (:attr:`message` if there is no text)."""
        return self.message if self.text is None else tr.render(self.text)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "service": self.service,
            "area": None if self.area is None else str(self.area),
            "message": self.message,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@attrs.frozen(kw_only=True)
class FindingContext:
    """What a rule sees: one service, its derived rows (sorted by ARS) and the rest."""

    store: Store
    view: RolloutView
    service: ServiceInfo
    rows: Sequence[RolloutRow]
    areas: AreaIndex
    #: "Now" for rules that measure time (fixed per run, so results are reproducible).
    now: datetime
    options: Mapping[str, Any] = attrs.field(factory=dict)
    #: The area the run is limited to (``within=`` of :func:`run_findings`): :attr:`rows`
    #: holds only the rows inside it.  ``None``: every row of the service.
    within: str | None = None

    def option(self, name: str, default: Any) -> Any:
        """Return the option *name*, or *default* if it was not given."""
        return self.options.get(name, default)

    @property
    def service_keys(self) -> frozenset[str]:
        """The keys of every known service (all sources)."""
        return frozenset(self.view.services())


class FindingRule(Protocol):
    """A finding rule: ``rule(context) -> Iterable[Finding]``."""

    def __call__(self, context: FindingContext) -> Iterable[Finding]:
        """Yield the findings of *context*'s service."""


def run_findings(
    view: RolloutView,
    rules: Mapping[str, Callable[..., Any]],
    *,
    services: Iterable[str] | None = None,
    only: Iterable[str] | None = None,
    now: datetime | None = None,
    options: Mapping[str, Any] | None = None,
    areas: AreaIndex | None = None,
    within: str | Ars | None = None,
    rows: Mapping[str, Sequence[RolloutRow]] | None = None,
) -> Iterator[Finding]:
    """Run *rules* (name -> rule, e.g. ``registry.finding_rules()``) over the derived view.

    :param services: only these service keys (default: every service).
    :param only: only the rules with these names.
    :param now: the time rules measure against (default: the current UTC time).
    :param areas: the known areas (default: loaded from the store; pass one to reuse it).
    :param within: only this area (an ARS prefix, e.g. a Land ``"16"``): each rule sees
        the service's rows inside it (:attr:`FindingContext.rows`, with
        :attr:`FindingContext.within` set), and findings about areas outside it are
        dropped (findings without an area are kept).  The built-in rules judge a row by
        the row and the rows inside its area, so they find exactly the findings of a run
        over all rows that lie inside *within*.
    :param rows: the rows already read, by service key: each must be what
        ``list(view.rows(key, within=within))`` gives (e.g. a report that has read them
        anyway); services not in it are read from the view.
    :raises efa_core.errors.EfaError: *only* or *services* names something unknown, or a
        rule yields something that is not a :class:`Finding` (the message names the rule).
    """
    selected = dict(rules)
    if only is not None:
        wanted = list(only)
        unknown = [name for name in wanted if name not in selected]
        if unknown:
            raise EfaError(
                f"unknown finding rule(s) {', '.join(unknown)}; known: "
                f"{', '.join(sorted(selected)) or 'none'}"
            )
        selected = {name: selected[name] for name in wanted}
    known = view.services()
    keys = list(known) if services is None else list(services)
    missing = [k for k in keys if k not in known]
    if missing:
        raise EfaError(f"unknown service(s) {', '.join(missing)}; known: {', '.join(known)}")
    moment = now or datetime.now(timezone.utc)
    area_index = areas if areas is not None else AreaIndex.load(view.store)
    prefix = None if within is None else str(within)
    given = rows or {}
    for key in keys:
        found = given.get(key)
        context = FindingContext(
            store=view.store,
            view=view,
            service=known[key],
            rows=list(view.rows(key, within=prefix)) if found is None else found,
            areas=area_index,
            now=moment,
            options=dict(options or {}),
            within=prefix,
        )
        for name, rule in selected.items():
            for finding in rule(context):
                if not isinstance(finding, Finding):
                    raise EfaError(
                        f"finding rule {name!r} yielded {type(finding).__name__}, not a Finding"
                    )
                if (
                    prefix is not None
                    and finding.area is not None
                    and not str(finding.area).startswith(prefix)
                ):
                    continue
                yield finding if finding.rule == name else attrs.evolve(finding, rule=name)
