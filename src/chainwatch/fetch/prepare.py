"""Turn a download into the input its reader takes, without reading its figures.

Two steps, named in ``sources.toml``: ``unzip`` copies the archive members matching a pattern
into a folder (the USGS MCS world tables), with a bound on what the archive may expand to;
``workbook-to-csv`` writes the sheet that holds the expected columns as a UTF-8 CSV, cell by
cell (the WGI workbook, whose reader reads the long CSV layout). Values are written as stored,
so the reader's own checks see exactly what the publisher published.
"""

from __future__ import annotations

import csv
import fnmatch
import os
import shutil
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from chainwatch.errors import InputError

MAX_EXPANDED_BYTES = 8 << 30
"""Most bytes an archive may expand to (a USGS world-table archive is a few MB)."""
MAX_MEMBERS = 20_000
HEADER_SEARCH_ROWS = 30


def unzip_members(
    archive: Path, directory: Path, pattern: str, max_bytes: int = MAX_EXPANDED_BYTES
) -> Path:
    """Copy the members of ``archive`` whose file name matches ``pattern`` into ``directory``
    (replacing what it held); returns ``directory``."""
    staging = directory.with_name(directory.name + ".extracting")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        copied = _copy_members(archive, staging, pattern, max_bytes)
        if not copied:
            raise InputError(archive, f"no member of the archive matches {pattern!r}")
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def _copy_members(archive: Path, staging: Path, pattern: str, max_bytes: int) -> int:
    written = copied = 0
    try:
        with zipfile.ZipFile(archive) as source:
            members = [m for m in source.infolist() if not m.is_dir()]
            if len(members) > MAX_MEMBERS:
                raise InputError(archive, f"the archive holds {len(members):,} files; "
                                 f"at most {MAX_MEMBERS:,} are read")  # fmt: skip
            for member in members:
                name = PurePosixPath(member.filename).name
                if "__MACOSX" in member.filename or not fnmatch.fnmatch(
                    name.lower(), pattern.lower()
                ):
                    continue  # fmt: skip
                target = staging / name
                if target.exists():
                    raise InputError(archive, f"two members are named {name!r}")
                with source.open(member) as reader, target.open("wb") as sink:
                    while chunk := reader.read(1 << 20):
                        written += len(chunk)
                        if written > max_bytes:
                            raise InputError(archive, f"the archive expands beyond "
                                             f"{max_bytes:,} bytes")  # fmt: skip
                        sink.write(chunk)
                copied += 1
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise InputError(archive, f"not a readable zip archive ({error})") from None
    return copied


def workbook_sheet_to_csv(workbook: Path, target: Path, columns: Sequence[str]) -> Path:
    """Write the sheet of ``workbook`` whose header row holds ``columns`` to ``target`` as CSV:
    the header row and every row below it, cell by cell; returns ``target``."""
    wanted = {column.strip().lower() for column in columns}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl: styles it cannot read
            book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as error:
        raise InputError(workbook, f"not a readable workbook ({error})") from None
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            found = _header(rows, wanted)
            if found is not None:
                _write_csv(target, found, rows)
                return target
    finally:
        book.close()
    raise InputError(workbook, f"no sheet has the columns {', '.join(columns)}")


def _header(rows: Iterable[tuple[Any, ...]], wanted: set[str]) -> tuple[Any, ...] | None:
    for number, row in enumerate(rows):
        if number >= HEADER_SEARCH_ROWS:
            return None
        if wanted <= {str(cell).strip().lower() for cell in row if cell is not None}:
            return row
    return None


def _write_csv(target: Path, header: tuple[Any, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    width = max(i + 1 for i, cell in enumerate(header) if cell is not None)
    part = target.with_name(target.name + ".part")
    with part.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([_text(cell) for cell in header[:width]])
        for row in rows:
            cells = [_text(cell) for cell in row[:width]]
            if any(cells):
                writer.writerow(cells + [""] * (width - len(cells)))
    os.replace(part, target)


def _text(cell: Any) -> str:
    """A cell as the publisher wrote it: numbers in their shortest exact form, no padding."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell).upper()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, float):
        return repr(cell)
    return str(cell)
