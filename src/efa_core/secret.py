"""A value that must never be shown: passwords, client secrets, tokens.

:class:`Secret` wraps a string.  Its ``repr``, ``str`` and its serialized form (see
:mod:`efa_core.serialization`) show ``'**********'``; only :meth:`Secret.reveal` returns the
value, and only code that sends it to the remote system should call it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MASK", "Secret"]

#: What a secret looks like wherever it is shown.
MASK: Final = "**********"


class Secret:
    """A secret string that hides itself from reprs, logs, errors and serialization."""

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):  # pragma: no cover - guards untyped callers
            raise TypeError(f"a Secret wraps a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """Return the secret value; call this only to send it to the system that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return self._value == other._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str:  # pragma: no cover - guard
        raise TypeError("a Secret cannot be pickled")
