r"""What ``efa`` prints carries no control or escape sequences from the data (issue 14 §3).

Records, quarantined raw input, error messages of remote systems and names in reports are
data from outside; printed as they are, an OSC 8 sequence would make a hidden link, an OSC
52 sequence write to the clipboard, cursor movement overwrite what was printed before.
:func:`for_terminal` removes every escape sequence (keeping, if asked, the SGR colour
sequences efa itself writes) and the C0 control characters other than newline and tab (a
carriage return only before a newline); it shows DEL, the C1 control characters and the
Unicode bidirectional controls as ``\uXXXX``.

The ``efa`` command runs with :func:`safe_output`: everything written to ``sys.stdout`` and
``sys.stderr`` passes :func:`for_terminal` (colours kept), whatever prints it, and the
message of a :class:`click.ClickException` is cleaned before click shows it.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, TextIO

__all__ = ["SafeStream", "filtered_excepthook", "for_terminal", "safe_output", "unfiltered"]

#: The colour and style sequences (SGR) that rich and click write.
_SGR = r"\x1b\[[0-9;:]*m"

#: Every 7-bit escape sequence: strings (OSC, DCS, SOS, PM, APC) up to their terminator
#: (an unterminated one to the end of the line), CSI sequences, two- and three-character
#: ESC sequences, a lone ESC.
_SEQUENCE = (
    r"\x1b[\]PX^_][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)

#: C0 control characters but newline and tab, and a carriage return not before a newline.
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]|\r(?!\n)"

#: Shown as ``\uXXXX``: DEL, the C1 controls (U+0080-U+009F, the 8-bit CSI and OSC among
#: them) and the bidirectional embeddings, overrides and isolates, which reorder what is
#: shown.  Written so, they keep their value inside a JSON string too.
_VISIBLE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

_UNSAFE = re.compile(f"{_SEQUENCE}|{_CONTROL}")
_UNSAFE_BUT_COLOUR = re.compile(f"({_SGR})|{_SEQUENCE}|{_CONTROL}")


def _visible(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def for_terminal(text: str, *, keep_colour: bool = False) -> str:
    r"""Return *text* without control characters and escape sequences.

    Escape sequences and C0 control characters (but newline and tab) are removed; DEL, C1
    controls and bidi controls are written as ``\uXXXX`` (so JSON output keeps its values:
    JSON escapes C0 characters itself).

    :param keep_colour: keep SGR sequences (``ESC [ ... m``: colours and bold), which
        cannot move the cursor, make links or reach the clipboard.
    """
    if keep_colour:
        text = _UNSAFE_BUT_COLOUR.sub(lambda m: m[1] or "", text)
    else:
        text = _UNSAFE.sub("", text)
    return _VISIBLE.sub(_visible, text)


class SafeStream:
    """A text stream that writes everything through :func:`for_terminal` (colours kept)."""

    def __init__(self, stream: TextIO) -> None:
        self.unfiltered = stream

    def write(self, text: str) -> int:
        """Write *text* without control and escape sequences; return ``len(text)``."""
        self.unfiltered.write(for_terminal(text, keep_colour=True))
        return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each of *lines*."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unfiltered, name)


def unfiltered(stream: TextIO) -> TextIO:
    """Return the stream under a :class:`SafeStream` (for efa's own progress display)."""
    inner = getattr(stream, "unfiltered", None)
    return inner if inner is not None else stream


@contextlib.contextmanager
def safe_output() -> Iterator[None]:
    """Filter ``sys.stdout`` and ``sys.stderr`` through :class:`SafeStream` while inside."""
    if isinstance(sys.stdout, SafeStream):
        yield
        return
    saved = sys.stdout, sys.stderr
    sys.stdout = SafeStream(saved[0])
    sys.stderr = SafeStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def filtered_excepthook(hook: Callable[..., Any]) -> Callable[..., Any]:
    """Return *hook* (a :data:`sys.excepthook`) printing through :func:`for_terminal`.

    An unexpected error's message may quote data; ``efa`` wraps the installed hook when it
    runs as a program.  Wrapping, not replacing: a hook installed before (the
    ``exceptiongroup`` backport's on Python 3.10, a debugger's) still formats the traceback.
    A hook already wrapped is returned as it is.
    """
    if getattr(hook, "efa_filtered", False):
        return hook

    def run(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        saved = sys.stderr
        sys.stderr = SafeStream(unfiltered(saved))
        try:
            hook(kind, value, tb)
        finally:
            sys.stderr = saved
            saved.flush()

    run.efa_filtered = True  # type: ignore[attr-defined]
    return run
