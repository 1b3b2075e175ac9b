"""The YAML form of a plan: the whole plan in one file (header, checklist, waves, items).

Read with PyYAML's *base* loader: every scalar stays text, so an ARS keeps its leading zero
(``01001`` is not the octal number 513) and ``no`` is not ``False``; the fields are then read
as the model says.  Line numbers come from the composed nodes, and a key given twice in one
mapping is an error (PyYAML would silently keep the last).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from efa_core.default_plugins.plan._common import (
    ITEM_VALUE_PARSERS,
    CellError,
    Content,
    parse_bool,
    parse_date,
    parse_state,
)
from efa_core.errors import ConnectorError, SourceNotUnderstood, ValidationError
from efa_core.model import (
    DEFAULT_CHECKLIST,
    ChecklistItem,
    OnboardingItem,
    Record,
    RolloutPlan,
    Wave,
)
from efa_core.serialization import structure, unstructure

__all__ = ["dump_yaml", "read_yaml"]

_TOP_KEYS: Final = (
    "plan",
    "name",
    "land",
    "planning_body",
    "financing",
    "checklist",
    "services",
    "waves",
    "items",
)
_DEFAULT_ITEMS: Final = {item.key: item for item in DEFAULT_CHECKLIST}
_NULLS: Final = frozenset({"", "~", "null", "Null", "NULL"})


class _Map(dict[str, Any]):
    """A YAML mapping with the line of each key (1-based) and any repeated keys."""

    line: int
    key_lines: dict[str, int]
    repeated: list[tuple[str, int]]


class _List(list[Any]):
    """A YAML sequence with the line of each item (1-based)."""

    line: int
    lines: list[int]


def _plain(node: Any) -> Any:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.value in _NULLS:
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        items = _List(_plain(child) for child in node.value)
        items.line = node.start_mark.line + 1
        items.lines = [child.start_mark.line + 1 for child in node.value]
        return items
    mapping = _Map()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    mapping.repeated = []
    for key_node, value_node in node.value:
        key = str(_plain(key_node))
        line = key_node.start_mark.line + 1
        if key in mapping:
            mapping.repeated.append((key, line))
            continue
        mapping[key] = _plain(value_node)
        mapping.key_lines[key] = line
    return mapping


def _problems(exc: ValidationError, prefix: str, renames: Mapping[str, str]) -> list[Any]:
    out = []
    for path, message in exc.problems:
        rest = path[1:]
        for field, key in renames.items():
            if rest == f".{field}" or rest.startswith((f".{field}.", f".{field}[")):
                rest = f".{key}" + rest[len(field) + 1 :]
                break
        out.append((f"{prefix}{rest}", message))
    return out


def _repeated(data: _Map, prefix: str) -> list[tuple[str, str]]:
    return [
        (f"{prefix}.{key}", f"given twice (also at line {data.key_lines[key]})")
        for key, _ in data.repeated
    ]


def _checklist_entry(entry: Any, index: int, path: str) -> Any:
    if isinstance(entry, str):
        if entry not in _DEFAULT_ITEMS:
            known = ", ".join(_DEFAULT_ITEMS)
            raise CellError(
                f"{path}[{index}]: {entry!r} is not an item of the default checklist "
                f"({known}); give a mapping with key and label"
            )
        return unstructure(_DEFAULT_ITEMS[entry])
    if isinstance(entry, dict):
        return dict(entry)
    raise CellError(f"{path}[{index}]: expected an item key or a mapping")


def _checklist(value: Any, path: str) -> Any:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CellError(f"{path}: expected a list of checklist items")
    return [_checklist_entry(entry, i, path) for i, entry in enumerate(value)]


def _service_entry(entry: Any, index: int) -> Any:
    path = f"$.services[{index}]"
    if isinstance(entry, str):
        return {"key": entry}
    if not isinstance(entry, dict):
        raise CellError(f"{path}: expected a service key or a mapping")
    data = dict(entry)
    if data.get("fees") is not None:
        data["fees"] = parse_bool(data["fees"])
    else:
        data.pop("fees", None)
    if "checklist" in data:
        data["checklist"] = _checklist(data["checklist"], f"{path}.checklist")
    return {k: v for k, v in data.items() if v is not None}


def _plan_record(
    top: _Map, position: str, content: Content
) -> tuple[str | None, RolloutPlan | None]:
    header = {k: top.get(k) for k in _TOP_KEYS if k not in ("waves", "items") and k in top}
    problems: list[Any] = _repeated(top, "$")
    data: dict[str, Any] = {"key": header.get("plan")}
    for key in ("name", "land", "planning_body", "financing"):
        if header.get(key) is not None:
            data[key] = header[key]
    try:
        data["checklist"] = _checklist(header.get("checklist"), "$.checklist")
        services = header.get("services")
        if not isinstance(services, list) or not services:
            raise CellError("$.services: expected a list of at least one service")
        data["services"] = [_service_entry(entry, i) for i, entry in enumerate(services)]
    except CellError as exc:
        path, _, message = str(exc).partition(": ")
        problems.append((path, message))
    if not problems:
        try:
            plan = structure(data, RolloutPlan)
        except ValidationError as exc:
            problems += _problems(exc, "$", {"key": "plan"})
        else:
            content.add(plan, position, header)
            return plan.key, plan
    content.reject("rollout-plan", position, dict(header), problems)
    given = header.get("plan")
    return (given if isinstance(given, str) and given.strip() else None), None


def _dates(data: dict[str, Any], fields: tuple[str, ...], path: str) -> list[tuple[str, str]]:
    """Read German dates (``15.01.2025``) too; ISO dates are left to the model."""
    problems = []
    for field in fields:
        value = data.get(field)
        if isinstance(value, str) and "." in value:
            try:
                data[field] = parse_date(value).isoformat()
            except CellError as exc:
                problems.append((f"{path}.{field}", str(exc)))
                del data[field]
    return problems


def _wave(entry: Any, plan: RolloutPlan | None, plan_key: str | None, path: str) -> Wave:
    if not isinstance(entry, _Map):
        raise ValidationError([(path, "expected a mapping with name and targets")])
    problems = _repeated(entry, path)
    data = {k: v for k, v in entry.items() if v is not None}
    if "kind" in data:
        data["wave_kind"] = data.pop("kind")
    data["plan_key"] = plan_key
    problems += _dates(data, ("stichtag", "target_golive"), path)
    services = data.get("services")
    if plan is not None and isinstance(services, list):
        problems += [
            (f"{path}.services[{i}]", f"{s!r} is not a service of plan {plan.key!r}")
            for i, s in enumerate(services)
            if s not in plan.service_keys
        ]
    try:
        wave = structure(data, Wave)
    except ValidationError as exc:
        problems += _problems(exc, path, {"wave_kind": "kind", "plan_key": "plan"})
    else:
        if plan is not None:
            problems += [
                (f"{path}.targets[{i}]", _outside(plan, t))
                for i, t in enumerate(wave.targets)
                if not plan.land.ars.contains(t)
            ]
    if problems:
        raise ValidationError(problems)
    return wave


def _outside(plan: RolloutPlan, ars: object) -> str:
    return f"{ars} does not lie in {plan.land.name_de} ({plan.land.code})"


def _item(entry: Any, plan: RolloutPlan | None, plan_key: str | None, path: str) -> OnboardingItem:
    if not isinstance(entry, _Map):
        raise ValidationError([(path, "expected a mapping with service, ars, item and state")])
    problems = _repeated(entry, path)
    data = {k: v for k, v in entry.items() if v is not None}
    if "service" in data:
        data["service_key"] = data.pop("service")
    data["plan_key"] = plan_key
    problems += _dates(data, ("on",), path)
    service, key = data.get("service_key"), data.get("item")
    if plan is not None and isinstance(service, str) and isinstance(key, str):
        if service not in plan.service_keys:
            problems.append(
                (f"{path}.service", f"{service!r} is not a service of plan {plan.key!r}")
            )
        elif key not in (keys := [i.key for i in plan.checklist_for(service)]):
            problems.append(
                (
                    f"{path}.item",
                    f"{key!r} is not in the checklist of {service!r} ({', '.join(keys)})",
                )
            )
    if isinstance(data.get("state"), str):
        try:
            data["state"] = parse_state(data["state"]).value
        except CellError as exc:
            problems.append((f"{path}.state", str(exc)))
    item = data.get("item")
    if isinstance(data.get("value"), str) and item in ITEM_VALUE_PARSERS:
        try:
            data["value"] = ITEM_VALUE_PARSERS[item](data["value"])
        except CellError as exc:
            problems.append((f"{path}.value", str(exc)))
    if not problems:
        try:
            item = structure(data, OnboardingItem)
        except ValidationError as exc:
            problems += _problems(exc, path, {"service_key": "service", "plan_key": "plan"})
        else:
            if plan is None or plan.land.ars.contains(item.ars):
                return item
            problems.append((f"{path}.ars", _outside(plan, item.ars)))
    raise ValidationError(problems)


def _entries(top: _Map, key: str, position: str) -> Iterator[tuple[int, int, Any]]:
    value = top.get(key)
    if value is None:
        return
    if not isinstance(value, _List):
        raise SourceNotUnderstood(f"{key!r} must be a list", where=position)
    for index, (line, entry) in enumerate(zip(value.lines, value, strict=True)):
        yield index, line, entry


def read_yaml(path: Path, label: str) -> Content:
    """Read a plan YAML file (see docs/planning.md for the layout).

    :raises SourceNotUnderstood: the file is not YAML, not a mapping, has no ``plan`` key
        or has keys a plan file does not have.
    """
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - PyYAML is installed in the tests
        raise ConnectorError(
            f"{label}: reading a YAML plan needs PyYAML; install efa-core[yaml]"
        ) from exc
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceNotUnderstood(f"not UTF-8: {exc}", source=label, where=str(path)) from None
    try:
        node = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        raise SourceNotUnderstood(f"not YAML: {exc}", source=label, where=str(path)) from None
    top = None if node is None else _plain(node)
    if not isinstance(top, _Map) or "plan" not in top:
        raise SourceNotUnderstood(
            "not a plan file: expected a mapping with the keys plan, name, land, services "
            "(and waves, items)",
            source=label,
            where=str(path),
        )
    unknown = [k for k in top if k not in _TOP_KEYS]
    if unknown:
        lines = ", ".join(f"{k!r} (line {top.key_lines[k]})" for k in unknown)
        raise SourceNotUnderstood(
            f"unknown key(s) {lines}; a plan file has: {', '.join(_TOP_KEYS)}",
            source=label,
            where=str(path),
        )
    content = Content()
    plan_key, plan = _plan_record(top, f"{path}:line {top.line}", content)
    for kind, key, build in (
        ("plan-wave", "waves", _wave),
        ("onboarding-item", "items", _item),
    ):
        try:
            entries = list(_entries(top, key, str(path)))
        except SourceNotUnderstood as exc:
            raise SourceNotUnderstood(exc.reason, source=label, where=exc.where) from None
        for index, line, entry in entries:
            position = f"{path}:line {line}"
            try:
                record: Record = build(entry, plan, plan_key, f"$.{key}[{index}]")
            except ValidationError as exc:
                raw = dict(entry) if isinstance(entry, dict) else entry
                content.reject(kind, position, raw, exc.problems)
                continue
            content.add(record, position, dict(entry))
    return content


# -- writing ---------------------------------------------------------------------------------


def _checklist_out(items: Sequence[ChecklistItem]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if _DEFAULT_ITEMS.get(item.key) == item:
            out.append(item.key)
        else:
            entry = {"key": item.key, "label": item.label}
            if item.ticked_by is not None:
                entry["ticked_by"] = item.ticked_by.value
            if item.only_if is not None:
                entry["only_if"] = item.only_if.value
            out.append(entry)
    return out


def _plan_out(plan: RolloutPlan) -> dict[str, Any]:
    out: dict[str, Any] = {"plan": plan.key, "name": plan.name, "land": plan.land.code}
    if plan.planning_body is not None:
        out["planning_body"] = plan.planning_body
    if plan.financing is not None:
        out["financing"] = plan.financing
    if plan.checklist:
        out["checklist"] = _checklist_out(plan.checklist)
    services: list[Any] = []
    for service in plan.services:
        entry: dict[str, Any] = {"key": service.key}
        if service.fees:
            entry["fees"] = "true"
        if service.onlinedienst is not None:
            entry["onlinedienst"] = service.onlinedienst
        if service.checklist:
            entry["checklist"] = _checklist_out(service.checklist)
        services.append(entry if len(entry) > 1 else service.key)
    out["services"] = services
    return out


def _wave_out(wave: Wave) -> dict[str, Any]:
    out: dict[str, Any] = {"name": wave.name, "kind": wave.wave_kind.value}
    if wave.stichtag is not None:
        out["stichtag"] = wave.stichtag.isoformat()
    if wave.target_golive is not None:
        out["target_golive"] = wave.target_golive.isoformat()
    out["targets"] = [str(t) for t in wave.targets]
    if wave.services:
        out["services"] = list(wave.services)
    return out


def _item_out(item: OnboardingItem) -> dict[str, Any]:
    out: dict[str, Any] = {
        "service": item.service_key,
        "ars": str(item.ars),
        "item": item.item,
        "state": item.state.value,
    }
    for key in ("on", "by", "value", "note"):
        value = getattr(item, key)
        if value is not None:
            out[key] = value.isoformat() if key == "on" else value
    return out


def dump_yaml(plan: RolloutPlan, waves: Sequence[Wave], items: Sequence[OnboardingItem]) -> str:
    """Return the YAML text of a plan (what :func:`read_yaml` reads back)."""
    import yaml

    data = _plan_out(plan)
    data["waves"] = [_wave_out(w) for w in waves]
    data["items"] = [_item_out(i) for i in items]
    if not items:
        del data["items"]
    text: str = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    return text
