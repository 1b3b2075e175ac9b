"""The Bereitstelldienst envelope and the feed cursor.

One page of the v2 feed (``GET …/verwaltungsobjekte?index=N&ars=A``) is a JSON object::

    {"xzufiObjekte": "<?xml …?><…:transfer.operation …>…</…>",
     "vollstaendig": false,
     "naechsterIndex": 1234,
     "naechsteAnfrageUrl": "https://…/verwaltungsobjekte?index=1234&ars=%25"}

What is known (see ``docs/plugins/efa-pvog.md``): the four member names, ``xzufiObjekte``
as a *string* holding one XZuFi transfer message, ``vollstaendig`` meaning "feed
exhausted", and following ``naechsteAnfrageUrl`` (or ``naechsterIndex``) to go on are
verified from a working client (rongem/pvog).  That pages may be empty (``xzufiObjekte``
missing, ``null`` or ``""``) is second-hand.  Assumed and tolerated: a list of message
strings, and ``naechsterIndex`` as a numeric string.

:func:`parse_envelope` checks a page; :class:`FeedCursor` is the cursor efa-core stores.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final

import attrs
import orjson

from efa_core.errors import ConnectorError

__all__ = ["CURSOR_PREFIX", "FeedCursor", "FeedPage", "PvogFeedError", "parse_envelope"]

#: Every cursor of this connector starts with this tag (its format version).
CURSOR_PREFIX: Final = "pvog1:"

_XML_DECLARATION = re.compile(r"\A(\ufeff?\s*<\?xml\b[^>]*?\bencoding\s*=\s*)([\"'])[^\"']*\2")


class PvogFeedError(ConnectorError):
    """The feed answered something the connector cannot use (the pull stops there).

    :attr:`index` is the feed index of the page, if known.  Nothing of that page has been
    delivered, so the stored cursor still points at it and the next run retries it.
    """

    def __init__(self, message: str, *, index: int | None = None) -> None:
        self.index = index
        super().__init__(message)


@attrs.frozen(kw_only=True)
class FeedPage:
    """One page of the feed, checked."""

    #: The feed index the page was requested at.
    index: int
    #: The XZuFi transfer messages of the page, as UTF-8 bytes (usually one; none when
    #: the page is empty).
    messages: tuple[bytes, ...]
    #: ``vollstaendig``: the feed is exhausted after this page.
    complete: bool
    #: ``naechsterIndex``: where the next page starts.
    next_index: int
    #: ``naechsteAnfrageUrl``, if given.
    next_url: str | None


def _utf8_message(text: str) -> bytes:
    """Encode a message string as UTF-8, with an ``encoding`` declaration that says so.

    The JSON string is already decoded text; a declaration such as ``ISO-8859-1`` would
    make the XML parser decode the UTF-8 bytes wrongly.
    """
    return _XML_DECLARATION.sub(r"\1\2UTF-8\2", text, count=1).encode("utf-8")


def _index_from_url(url: str) -> int | None:
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("index")
    if values and values[-1].strip().isdigit():
        return int(values[-1])
    return None


def parse_envelope(body: object, *, index: int, where: str) -> FeedPage:
    """Check a decoded page *body* requested at *index*; *where* names it in errors.

    :raises PvogFeedError: the body is not an envelope, a member has the wrong type, or
        an unfinished feed gives no way to go on.
    """
    if not isinstance(body, Mapping):
        raise PvogFeedError(
            f"{where}: expected a JSON object with 'xzufiObjekte', got {type(body).__name__}",
            index=index,
        )
    problems: list[str] = []
    raw_objects: Any = body.get("xzufiObjekte")
    messages: list[bytes] = []
    if raw_objects is None or raw_objects == "":
        pass
    elif isinstance(raw_objects, str):
        messages.append(_utf8_message(raw_objects))
    elif isinstance(raw_objects, list) and all(isinstance(m, str) for m in raw_objects):
        messages.extend(_utf8_message(m) for m in raw_objects if m.strip())
    else:
        problems.append(
            f"'xzufiObjekte' must be a string holding an XZuFi message, got "
            f"{type(raw_objects).__name__}"
        )
    complete = body.get("vollstaendig")
    if not isinstance(complete, bool):
        problems.append(f"'vollstaendig' must be true or false, got {complete!r}")
    next_url = body.get("naechsteAnfrageUrl")
    if next_url is not None and not isinstance(next_url, str):
        problems.append(f"'naechsteAnfrageUrl' must be a string, got {type(next_url).__name__}")
        next_url = None
    if isinstance(next_url, str) and not next_url.strip():
        next_url = None
    raw_next = body.get("naechsterIndex")
    next_index: int | None
    if isinstance(raw_next, bool):
        next_index = None
    elif isinstance(raw_next, int):
        next_index = raw_next
    elif isinstance(raw_next, str) and raw_next.strip().isdigit():
        next_index = int(raw_next)
    else:
        next_index = None
    if next_index is None and next_url is not None:
        next_index = _index_from_url(next_url)
    if raw_next is not None and next_index is None:
        problems.append(f"'naechsterIndex' must be an integer, got {raw_next!r}")
    if next_index is None and complete is False:
        problems.append(
            "the feed is not complete ('vollstaendig': false) but the page gives neither "
            "'naechsterIndex' nor 'naechsteAnfrageUrl'"
        )
    if next_index is not None and next_index < index and complete is False:
        problems.append(
            f"'naechsterIndex' {next_index} goes back before the requested index {index}"
        )
    if problems:
        raise PvogFeedError(f"{where}: " + "; ".join(problems), index=index)
    assert isinstance(complete, bool)
    return FeedPage(
        index=index,
        messages=tuple(messages),
        complete=complete,
        # A finished feed without a next index resumes at the page it ended on.
        next_index=index if next_index is None else next_index,
        next_url=next_url,
    )


@attrs.frozen(kw_only=True)
class FeedCursor:
    """Where the feed goes on: the next index, the server's next URL, the ARS restriction.

    Encoded as ``"pvog1:" + JSON`` (:meth:`encode`); the ARS restriction is part of it so
    that a cursor of one restriction is never used with another.
    """

    #: ``naechsterIndex``: the ``index`` of the next request.
    index: int
    #: ``naechsteAnfrageUrl``, if the server gave one.
    url: str | None
    #: The ``ars`` parameter the feed was read with.
    ars: str

    def encode(self) -> str:
        """Return the opaque cursor string that efa-core stores."""
        data = {"index": self.index, "url": self.url, "ars": self.ars}
        return CURSOR_PREFIX + orjson.dumps(data).decode()

    @classmethod
    def decode(cls, text: str, *, where: str) -> FeedCursor:
        """Read a cursor written by :meth:`encode`.

        :raises PvogFeedError: *text* is not such a cursor (the message names *where*).
        """
        problem = None
        if not text.startswith(CURSOR_PREFIX):
            problem = f"does not start with {CURSOR_PREFIX!r}"
        else:
            try:
                data = orjson.loads(text[len(CURSOR_PREFIX) :])
            except orjson.JSONDecodeError as exc:
                problem = f"is not JSON after the prefix ({exc})"
            else:
                index = data.get("index") if isinstance(data, dict) else None
                url = data.get("url") if isinstance(data, dict) else None
                ars = data.get("ars") if isinstance(data, dict) else None
                if (
                    isinstance(index, int)
                    and not isinstance(index, bool)
                    and index >= 0
                    and (url is None or isinstance(url, str))
                    and isinstance(ars, str)
                ):
                    return cls(index=index, url=url, ars=ars)
                problem = "lacks a valid 'index', 'url' or 'ars'"
        raise PvogFeedError(
            f"{where}: invalid cursor {text[:80]!r}: it {problem}; it was not written by the "
            "pvog connector (reset the source's cursor to read the feed from the start)"
        )
