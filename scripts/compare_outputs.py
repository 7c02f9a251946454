"""Compare two directories written by scripts/snapshot_outputs.py.

    .venv/bin/python scripts/compare_outputs.py /tmp/before /tmp/after

For each file that is not byte-identical: whether the text apart from decimal numbers is the
same, and the largest relative and absolute difference of the numbers (float summation order
changes the last bits); otherwise that the text itself differs (row order or content).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def compare(before: Path, after: Path) -> list[str]:
    lines = []
    for old in sorted(before.iterdir()):
        new = after / old.name
        if not new.exists():
            lines.append(f"{old.name}: missing in {after}")
            continue
        text_old, text_new = old.read_text(encoding="utf-8"), new.read_text(encoding="utf-8")
        if text_old == text_new:
            continue
        numbers_old = [float(x) for x in NUMBER.findall(text_old)]
        numbers_new = [float(x) for x in NUMBER.findall(text_new)]
        if NUMBER.split(text_old) != NUMBER.split(text_new) or len(numbers_old) != len(
            numbers_new
        ):
            lines.append(f"{old.name}: text differs (order or content)")
            continue
        pairs = list(zip(numbers_old, numbers_new, strict=True))
        relative = max(abs(a - b) / max(abs(a), abs(b), 1e-300) for a, b in pairs)
        absolute = max(abs(a - b) for a, b in pairs)
        lines.append(f"{old.name}: text identical; numbers differ by at most {relative:.1e} "
                     f"relative, {absolute:.1e} absolute")  # fmt: skip
    return lines


if __name__ == "__main__":
    found = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(found) if found else "identical")
