"""A value that must never be shown: passwords, client secrets, tokens.

:class:`Secret` wraps a string.  Its ``repr``, ``str`` and its serialized form (see
:mod:`efa_core.serialization`) show ``'**********'``; only :meth:`Secret.reveal` returns the
value, and only code that sends it to the remote system should call it.

Every secret made is also remembered (its value, in this process only), so that
:func:`redact_known` can mask it wherever a remote system echoes it back: in an error body,
an exception message, a stored run error.  Access tokens obtained at run time are
:class:`Secret` values too, so they are masked the same way.
"""

from __future__ import annotations

import base64
import threading
import urllib.parse
from typing import Final

__all__ = ["MASK", "MIN_REDACTED_LENGTH", "Secret", "redact_known"]

#: What a secret looks like wherever it is shown.
MASK: Final = "**********"

#: Secrets shorter than this are not searched for in free text: masking every ``"abc"`` in
#: a message would make it unreadable, and a real secret or token is longer.
MIN_REDACTED_LENGTH: Final = 8

_known: set[str] = set()
_known_lock = threading.Lock()
#: The known forms, longest first (so a longer form is masked before a shorter one in it).
_forms: tuple[str, ...] = ()


def _remember(value: str) -> None:
    global _forms
    if len(value) < MIN_REDACTED_LENGTH or value in _known:
        return
    with _known_lock:
        _known.add(value)
        forms = set(_forms)
        forms.add(value)
        forms.add(urllib.parse.quote(value, safe=""))
        forms.add(urllib.parse.quote_plus(value))
        forms.add(base64.b64encode(value.encode()).decode("ascii").rstrip("="))
        _forms = tuple(sorted(forms, key=len, reverse=True))


def redact_known(text: str) -> str:
    """Return *text* with the value of every :class:`Secret` made in this process masked.

    Also masks their URL-encoded and base64 forms (as a form body or an HTTP Basic header
    carries them).  Values shorter than :data:`MIN_REDACTED_LENGTH` are left alone.
    """
    for form in _forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


class Secret:
    """A secret string that hides itself from reprs, logs, errors and serialization."""

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):  # pragma: no cover - guards untyped callers
            raise TypeError(f"a Secret wraps a str, not {type(value).__name__}")
        self._value = value
        _remember(value)

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
