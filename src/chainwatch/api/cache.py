"""HTTP side of the result cache: strong entity tags for rendered bodies.

:class:`ResultCache` lives in :mod:`chainwatch.services.cache` (the pages use it too); it is
re-exported here for the API's modules.
"""

from __future__ import annotations

import hashlib

from chainwatch.services.cache import MAX_ENTRIES, ResultCache

__all__ = ["MAX_ENTRIES", "ResultCache", "entity_tag"]


def entity_tag(body: bytes) -> str:
    """A strong ETag for a response body."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
