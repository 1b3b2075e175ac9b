"""Compact 64-bit hashes of record keys.

The mirror stores ``key_hash = key_hash(kind, natural_key)`` beside the key, and a snapshot
in progress remembers the hashes it has seen.  A collision (two keys, one hash; about one in
5·10¹² for three million keys) can only make a snapshot *keep* a record it no longer
contains, never delete one it does contain, because the final tombstone step removes only
rows whose hash was not seen.
"""

from __future__ import annotations

from efa_core.connectors import key_hash

__all__ = ["key_hash"]
