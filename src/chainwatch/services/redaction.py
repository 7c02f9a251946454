"""No local paths in what the server answers: absolute paths on this machine become their last
component (``/home/ana/data/wgi.csv`` -> ``wgi.csv``).

A path counts as local when it, or a directory above it other than ``/``, exists here; URL
paths (``/api/v1/metrics``) and a URL's own path (``https://host/a/b``) are left alone.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])/[^\s'\"`,;:()<>\[\]{}|]+")


def without_local_paths(text: str) -> str:
    """``text`` with every local absolute path replaced by its last component."""
    if "/" not in text:
        return text
    return ABSOLUTE_PATH.sub(_shortened, text)


def _shortened(match: re.Match[str]) -> str:
    found = match.group(0)
    trailing = ""
    while found and found[-1] in ".!?":  # sentence punctuation after the path
        trailing = found[-1] + trailing
        found = found[:-1]
    path = PurePosixPath(found)
    if not _is_local(path):
        return match.group(0)
    return (path.name or found) + trailing


def _is_local(path: PurePosixPath) -> bool:
    for candidate in (path, *path.parents):
        if str(candidate) == "/":
            return False
        try:
            if Path(candidate).exists():
                return True
        except OSError:
            continue
    return False
