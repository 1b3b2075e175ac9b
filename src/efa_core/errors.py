"""Exceptions raised by efa-core.

Every error names *what* is wrong and *where*: the source, the record and the field
when they are known.  All of them derive from :class:`EfaError`, so callers can catch
the library's errors in one place; the ones caused by bad input also derive from
:class:`ValueError`.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ConfigError",
    "ConnectorError",
    "EfaError",
    "IllegalTransition",
    "InvalidIdentifier",
    "PluginError",
    "SourceNotUnderstood",
    "ValidationError",
]


class EfaError(Exception):
    """Base class of all errors raised by efa-core."""


class InvalidIdentifier(EfaError, ValueError):
    """An identifier (LeiKa key, ARS, AGS, Land, OZG id) is malformed.

    The message names the kind, the value and the rule it broke, e.g.
    ``ARS '1605' has 4 digits; an ARS has 2, 3, 5, 9 or 12 digits``.
    """

    def __init__(self, kind: str, value: object, rule: str) -> None:
        self.kind = kind
        self.value = value
        self.rule = rule
        super().__init__(f"{kind} {value!r} {rule}")


class ValidationError(EfaError, ValueError):
    """Input could not be turned into a record.

    :attr:`problems` lists every problem as ``(path, message)``; the string form shows one
    ``path: message`` per line, prefixed by the context (source and record) if given.
    """

    def __init__(self, problems: Sequence[tuple[str, str]], *, context: str | None = None) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        self.context = context
        lines = [f"{path}: {message}" for path, message in self.problems]
        head = f"{context}: " if context else ""
        if len(lines) == 1:
            text = head + lines[0]
        else:
            text = head + f"{len(lines)} problems\n" + "\n".join(f"  {line}" for line in lines)
        super().__init__(text)


class IllegalTransition(EfaError, ValueError):
    """A lifecycle transition that the state machine does not allow."""

    def __init__(self, what: str, current: str, target: str, allowed: Sequence[str]) -> None:
        self.current = current
        self.target = target
        self.allowed = tuple(allowed)
        targets = ", ".join(self.allowed) if self.allowed else "none (final state)"
        super().__init__(
            f"{what} cannot go from {current!r} to {target!r}; allowed from {current!r}: {targets}"
        )


class ConfigError(EfaError, ValueError):
    """The configuration (``efa.toml`` or constructor arguments) is invalid."""


class PluginError(EfaError):
    """A plugin failed to load or register, or two plugins conflict."""


class ConnectorError(EfaError):
    """A connector failed while talking to its source."""


class SourceNotUnderstood(ConnectorError):
    """A connector did not understand its input as a whole, so it cannot say what is in it.

    Raised for an unknown root element, an unsupported format version or namespace, a file
    that is not XML (or not a table) at all, a table without a recognisable header row.  The
    sync run fails with this reason and nothing is deleted: a source that suddenly delivers
    nothing recognisable is never taken to be empty.

    :param source: the configured source name (or ``None`` when not known).
    :param where: the file, URL or position, e.g. ``"export/XZUFI2021.xml"``.
    :param reason: what was found and what was expected.
    """

    def __init__(self, reason: str, *, source: str | None = None, where: str | None = None) -> None:
        self.source = source
        self.where = where
        self.reason = reason
        parts = [p for p in (f"source {source!r}" if source else None, where) if p]
        head = ", ".join(parts)
        super().__init__(f"{head}: {reason}" if head else reason)
