"""Hypothesis strategies for identifiers and records, shared by the core's tests.

Every strategy builds *valid* values; ``records()`` draws any record kind.  Use them as
``@given(services())`` or ``@given(records())``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from efa_core.ids import Ags, Ars, ArsLevel, Land, LeikaKey, OzgId
from efa_core.model import (
    Agreement,
    AgreementState,
    Area,
    Availability,
    ChecklistItem,
    Coverage,
    ItemCondition,
    ItemState,
    Maturity,
    MaturityModel,
    Note,
    OnboardingItem,
    OrganisationUnit,
    PlanService,
    Provider,
    ProviderKind,
    Record,
    Responsibility,
    ReuseChannel,
    RolloutPlan,
    Route,
    Service,
    Stage,
    Subscriber,
    SubscriberKind,
    TargetKind,
    Themenfeld,
    Tick,
    Transition,
    Usage,
    Wave,
    WaveKind,
    XZuFiObject,
)

__all__ = [
    "agreements",
    "ags",
    "areas",
    "ars",
    "availabilities",
    "aware_datetimes",
    "keys",
    "lands",
    "leika_keys",
    "maturities",
    "names",
    "notes",
    "onboarding_items",
    "organisation_units",
    "ozg_ids",
    "prices",
    "providers",
    "records",
    "responsibilities",
    "rollout_plans",
    "routes",
    "services",
    "stages",
    "subscribers",
    "transitions",
    "urls",
    "usages",
    "waves",
    "xzufi_objects",
]

_DIGITS = "0123456789"

# -- identifiers --------------------------------------------------------------------------

lands = st.sampled_from(list(Land))
leika_keys = st.text(_DIGITS, min_size=14, max_size=14).map(LeikaKey)
federal_leika_keys = st.text(_DIGITS, min_size=12, max_size=12).map(lambda d: LeikaKey("99" + d))
ozg_ids = st.integers(min_value=1, max_value=10**6).map(OzgId.from_int)


@st.composite
def ars(draw: st.DrawFn, level: ArsLevel | None = None) -> Ars:
    """An ARS of the given level (any level if None); the Land is always 01-16."""
    chosen = level if level is not None else draw(st.sampled_from(list(ArsLevel)))
    land = draw(lands).code
    rest = draw(st.text(_DIGITS, min_size=chosen.length - 2, max_size=chosen.length - 2))
    return Ars(land + rest)


@st.composite
def ags(draw: st.DrawFn) -> Ags:
    """An AGS of 2, 3, 5 or 8 digits."""
    length = draw(st.sampled_from([2, 3, 5, 8]))
    land = draw(lands).code
    return Ags(land + draw(st.text(_DIGITS, min_size=length - 2, max_size=length - 2)))


# -- primitives ---------------------------------------------------------------------------

#: Text orjson can encode (no lone surrogates), not blank.
names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40).filter(
    lambda s: s.strip() != ""
)
#: Key-like text: not blank, no surrounding whitespace.
keys = names.map(str.strip)
urls = st.from_regex(r"\Ahttps?://[a-z0-9]{1,12}\.de(/[a-zA-Z0-9_\-]{0,12}){0,3}\Z")
_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
#: Timezone-aware datetimes with fixed offsets (whole minutes).
aware_datetimes = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=_offsets
)
_optional_dt = st.none() | aware_datetimes

stages = st.sampled_from(list(Stage))
#: Prices: finite, non-negative decimals with any number of places (``12``, ``12.50``).
prices: st.SearchStrategy[Decimal] = st.decimals(
    min_value=0, max_value=10**9, allow_nan=False, allow_infinity=False
)


def _tuple_of(
    strategy: st.SearchStrategy, max_size: int = 4, min_size: int = 0
) -> st.SearchStrategy:
    return st.lists(strategy, min_size=min_size, max_size=max_size, unique=True).map(tuple)


@st.composite
def maturities(draw: st.DrawFn) -> Maturity:
    """A valid maturity in either model version."""
    model = draw(st.sampled_from(list(MaturityModel)))
    return Maturity(model=model, level=draw(st.integers(0, model.max_level)))


# -- records ------------------------------------------------------------------------------


def services() -> st.SearchStrategy[Service]:
    """Any valid :class:`Service`."""
    return st.builds(
        Service,
        key=keys,
        name=names,
        leika_keys=_tuple_of(leika_keys, min_size=1),
        ozg_ids=_tuple_of(ozg_ids),
        themenfeld=st.none() | st.sampled_from(list(Themenfeld)),
        land=st.none() | lands,
        operator=st.none() | keys,
        maturity=st.none() | maturities(),
        url=st.none() | urls,
        onlinedienst_ids=_tuple_of(keys),
        offer_ids=_tuple_of(keys),
        reuse_channels=_tuple_of(st.sampled_from(list(ReuseChannel))),
        price_model=st.none() | names,
        price=st.none() | prices,
        modified_at=_optional_dt,
    )


def providers() -> st.SearchStrategy[Provider]:
    """Any valid :class:`Provider`."""
    return st.builds(
        Provider,
        key=keys,
        name=names,
        provider_kind=st.sampled_from(list(ProviderKind)),
        land=st.none() | lands,
        url=st.none() | urls,
        modified_at=_optional_dt,
    )


@st.composite
def subscribers(draw: st.DrawFn) -> Subscriber:
    """An area or organisation :class:`Subscriber`."""
    kind = draw(st.sampled_from(list(SubscriberKind)))
    organisation = kind is SubscriberKind.ORGANISATION
    return Subscriber(
        subscriber_kind=kind,
        name=draw(names),
        ars=draw(st.none() | ars()) if organisation else draw(ars()),
        organisation_id=draw(keys) if organisation else draw(st.none() | keys),
        modified_at=draw(_optional_dt),
    )


def agreements() -> st.SearchStrategy[Agreement]:
    """Any valid :class:`Agreement`."""
    return st.builds(
        Agreement,
        service_key=keys,
        subscriber=subscribers(),
        state=st.sampled_from(list(AgreementState)),
        state_since=_optional_dt,
        channel=st.none() | st.sampled_from(list(ReuseChannel)),
        reference=st.none() | keys,
        modified_at=_optional_dt,
    )


def transitions() -> st.SearchStrategy[Transition]:
    """A :class:`Transition` entry (any pair of states; the record does not check legality)."""
    state = st.sampled_from(list(AgreementState))
    return st.builds(
        Transition, from_=state, to=state, at=aware_datetimes, source=st.none() | names
    )


def responsibilities() -> st.SearchStrategy[Responsibility]:
    """Any valid :class:`Responsibility`."""
    return st.builds(
        Responsibility,
        leika_key=leika_keys,
        ars=ars(),
        target_kind=st.sampled_from(list(TargetKind)),
        target_id=keys,
        responsibility_id=st.none() | keys,
        leistung_id=st.none() | keys,
        role=st.none() | keys,
        modified_at=_optional_dt,
    )


def routes() -> st.SearchStrategy[Route]:
    """Any valid :class:`Route`."""
    return st.builds(
        Route,
        leika_key=federal_leika_keys,
        ars=ars(),
        destination_id=st.uuids(),
        name=st.none() | names,
        origin=st.none() | names,
        signed_areas=_tuple_of(ars()),
        signed_leika_keys=_tuple_of(leika_keys),
        signature_verified=st.none() | st.booleans(),
        modified_at=_optional_dt,
    )


def availabilities() -> st.SearchStrategy[Availability]:
    """Any valid :class:`Availability`."""
    return st.builds(
        Availability,
        leika_key=leika_keys,
        ars=ars(),
        url=st.none() | urls,
        online=st.none() | st.booleans(),
        active=st.none() | st.booleans(),
        coverage=st.none() | st.sampled_from(list(Coverage)),
        ozg_id=st.none() | ozg_ids,
        name=st.none() | names,
        modified_at=_optional_dt,
    )


@st.composite
def areas(draw: st.DrawFn) -> Area:
    """A valid :class:`Area`; its parent (if any) is a proper prefix of its ARS."""
    area_ars = draw(ars())
    shorter = [lvl for lvl in ArsLevel if lvl.length < len(str(area_ars))]
    parent = None
    with_parent = draw(st.booleans())
    if shorter and with_parent:
        parent = Ars(str(area_ars)[: draw(st.sampled_from(shorter)).length])
    return Area(
        ars=area_ars,
        name=draw(names),
        area_type=draw(st.none() | names),
        parent=parent,
        population=draw(st.none() | st.integers(min_value=0, max_value=20_000_000)),
        modified_at=draw(_optional_dt),
    )


def notes() -> st.SearchStrategy[Note]:
    """Any valid :class:`Note`."""
    return st.builds(
        Note,
        key=keys,
        text=names,
        on=_optional_dt,
        service_key=st.none() | keys,
        subscriber=st.none() | keys,
        agreement_key=st.none() | keys,
        author=st.none() | names,
        modified_at=_optional_dt,
    )


def organisation_units() -> st.SearchStrategy[OrganisationUnit]:
    """Any valid :class:`OrganisationUnit`."""
    return st.builds(
        OrganisationUnit,
        key=keys,
        name=names,
        ars=st.none() | ars(),
        modified_at=_optional_dt,
    )


_local_names = st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9._-]{0,24}\Z")


def xzufi_objects() -> st.SearchStrategy[XZuFiObject]:
    """Any valid :class:`XZuFiObject` (its XML need not be well-formed for the model)."""
    return st.builds(
        XZuFiObject,
        object_class=_local_names,
        object_id=keys,
        xml=st.builds(lambda tag, text: f"<{tag}>{text}</{tag}>", _local_names, names),
        modified_at=_optional_dt,
    )


_slugs = st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}\Z")
_plan_keys = keys.filter(lambda k: "/" not in k)
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1))
checklist_items = st.builds(
    ChecklistItem,
    key=_slugs,
    label=names,
    ticked_by=st.none() | st.sampled_from(list(Tick)),
    only_if=st.none() | st.sampled_from(list(ItemCondition)),
)
_checklists = st.lists(checklist_items, max_size=3, unique_by=lambda i: i.key).map(tuple)


def rollout_plans() -> st.SearchStrategy[RolloutPlan]:
    """Any valid :class:`RolloutPlan`."""
    plan_services = st.builds(
        PlanService,
        key=keys,
        checklist=_checklists,
        fees=st.booleans(),
        onlinedienst=st.none() | keys,
    )
    return st.builds(
        RolloutPlan,
        key=_plan_keys,
        name=names,
        land=lands,
        services=st.lists(plan_services, min_size=1, max_size=3, unique_by=lambda s: s.key).map(
            tuple
        ),
        planning_body=st.none() | names,
        financing=st.none() | names,
        checklist=_checklists,
        modified_at=_optional_dt,
    )


@st.composite
def waves(draw: st.DrawFn) -> Wave:
    """Any valid :class:`Wave` (the go-live date, if any, is not before the Stichtag)."""
    stichtag = draw(st.none() | dates)
    golive = draw(st.none() | dates)
    if stichtag is not None and golive is not None and golive < stichtag:
        stichtag, golive = golive, stichtag
    return Wave(
        plan_key=draw(_plan_keys),
        name=draw(keys),
        wave_kind=draw(st.sampled_from(list(WaveKind))),
        targets=draw(_tuple_of(ars(), min_size=1)),
        stichtag=stichtag,
        target_golive=golive,
        services=draw(_tuple_of(keys)),
        modified_at=draw(_optional_dt),
    )


def onboarding_items() -> st.SearchStrategy[OnboardingItem]:
    """Any valid :class:`OnboardingItem`."""
    return st.builds(
        OnboardingItem,
        plan_key=_plan_keys,
        service_key=keys,
        ars=ars(),
        item=_slugs,
        state=st.sampled_from(list(ItemState)),
        on=st.none() | dates,
        by=st.none() | names,
        value=st.none() | names,
        note=st.none() | names,
        modified_at=_optional_dt,
    )


def usages() -> st.SearchStrategy[Usage]:
    """Any valid :class:`Usage`."""
    periods = st.integers(1990, 2100).map(str) | st.builds(
        lambda y, m: f"{y}-{m:02d}", st.integers(1990, 2100), st.integers(1, 12)
    )
    return st.builds(
        Usage,
        service_key=keys,
        ars=ars(),
        period=periods,
        uses=st.integers(0, 10**9),
        modified_at=_optional_dt,
    )


#: One strategy per record kind.
RECORD_STRATEGIES: dict[str, st.SearchStrategy[Record]] = {
    "service": services(),
    "provider": providers(),
    "subscriber": subscribers(),
    "agreement": agreements(),
    "responsibility": responsibilities(),
    "route": routes(),
    "availability": availabilities(),
    "area": areas(),
    "note": notes(),
    "organisation-unit": organisation_units(),
    "xzufi-object": xzufi_objects(),
    "rollout-plan": rollout_plans(),
    "plan-wave": waves(),
    "onboarding-item": onboarding_items(),
    "usage": usages(),
}


def records() -> st.SearchStrategy[Record]:
    """Any record of any kind."""
    return st.one_of(*RECORD_STRATEGIES.values())
