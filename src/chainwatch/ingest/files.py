"""Opening input files safely: what every reader does before it trusts a byte.

* :func:`check_input_path` refuses, before anything is opened, a path that is missing, a
  directory where a file is needed, a FIFO, a device or a socket (a FIFO would block the
  reader forever, ``/dev/zero`` would never end) and a file the user cannot read.
* :class:`TextInput` is one CSV text: a plain file, a zip member or a gzip stream. Reading it
  (:func:`csv_rows`, :func:`csv_dicts`) expects UTF-8 (a byte order mark is fine): UTF-16/32,
  NUL bytes or a byte that is not UTF-8 (Latin-1, Windows-1252) is one :class:`InputError`
  naming the line and the encoding expected. Lines and fields are bounded
  (:data:`MAX_LINE_CHARACTERS`, the csv module's field limit), quoting is strict (a file that
  ends inside a quoted cell was cut short) and every record must have as many fields as the
  header, so a row cut mid-line is an error, never a row with missing values.
* :func:`check_archive` and the streams of :class:`TextInput` bound decompression: total size
  (:data:`MAX_UNCOMPRESSED_BYTES`) and expansion ratio (:data:`MAX_COMPRESSION_RATIO`).
* :func:`scratch_directory` is where an archive is extracted: under the store's own
  directory during an ingest (so a killed ingest's leftovers are removed by the next writer,
  see ``Store.scratch_directory``), else a temporary directory; removed on every exit path.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol

from chainwatch.errors import InputError

EXPECTED_ENCODING = "UTF-8"
MAX_LINE_CHARACTERS = 1 << 20
"""Longest line a CSV reader accepts (1,048,576 characters): memory per line stays bounded."""
MAX_UNCOMPRESSED_BYTES = 32 << 30
"""Most bytes one archive or compressed stream may expand to (32 GiB)."""
MAX_COMPRESSION_RATIO = 200
"""Most a member may expand relative to its compressed size, once past
:data:`RATIO_FLOOR_BYTES` (CSV compresses 4-20 times; a zip bomb thousands of times)."""
RATIO_FLOOR_BYTES = 1 << 20
ARCHIVE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, gzip.BadGzipFile, zlib.error,
                  EOFError, NotImplementedError, RuntimeError)  # fmt: skip
"""What zipfile and gzip raise for truncated, corrupt, encrypted or unsupported data."""

_SCRATCH_ROOT: ContextVar[Path | None] = ContextVar("chainwatch_scratch_root", default=None)


def check_input_path(path: Path, display: str | None = None, directory: bool = False) -> None:
    """Refuse, before any read, a path that is no readable regular file (or directory)."""
    shown = display or str(path)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise InputError(shown, "no such file or directory") from None
    except OSError as error:
        raise InputError(shown, f"cannot be read ({error.strerror or error})") from None
    if stat.S_ISDIR(status.st_mode):
        if not directory:
            raise InputError(shown, "is a directory: expected a file")
        if not os.access(path, os.R_OK | os.X_OK):
            raise InputError(shown, "cannot be read (permission denied)")
        return
    if not stat.S_ISREG(status.st_mode):
        raise InputError(shown, f"is not a regular file but {_kind(status.st_mode)}: "
                         "chainwatch reads files, not pipes or devices")  # fmt: skip
    if not os.access(path, os.R_OK):
        raise InputError(shown, "cannot be read (permission denied)")


def _kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISCHR: "a character device",
             stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}  # fmt: skip
    return next((name for test, name in kinds.items() if test(mode)), "a special file")


def describe_archive_error(error: BaseException) -> str:
    reason = str(error) or type(error).__name__
    return f"truncated, corrupt or unsupported ({reason})"


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Bounded(io.RawIOBase):
    """A decompressed stream that stops at the size and ratio limits."""

    def __init__(self, raw: _Readable, display: str, compressed: int) -> None:
        self._raw = raw
        self._display = display
        self._limit = min(MAX_UNCOMPRESSED_BYTES,
                          max(RATIO_FLOOR_BYTES, compressed * MAX_COMPRESSION_RATIO))  # fmt: skip
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        self.total += count
        if self.total > self._limit:
            raise InputError(self._display, f"expands past {self._limit:,} bytes (more than "
                             f"{MAX_COMPRESSION_RATIO} times its compressed size or "
                             f"{MAX_UNCOMPRESSED_BYTES:,} bytes): refused as a possible "
                             "decompression bomb")  # fmt: skip
        return count


def check_archive(archive: zipfile.ZipFile, display: str) -> list[zipfile.ZipInfo]:
    """The archive's file members, once their declared sizes pass the decompression limits."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    total = sum(info.file_size for info in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise InputError(display, f"expands to {total:,} bytes, more than the limit of "
                         f"{MAX_UNCOMPRESSED_BYTES:,}")  # fmt: skip
    for info in members:
        if info.flag_bits & 0x1:
            raise InputError(f"{display}:{info.filename}", "is encrypted: give the file itself")
        ratio_size = max(info.compress_size, 1) * MAX_COMPRESSION_RATIO
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > ratio_size:
            raise InputError(f"{display}:{info.filename}", f"expands {info.file_size:,} bytes "
                             f"from {info.compress_size:,} (more than {MAX_COMPRESSION_RATIO} "
                             "times): refused as a possible zip bomb")  # fmt: skip
    return members


def open_zip(path: Path, display: str | None = None) -> zipfile.ZipFile:
    """The zip archive at ``path``; a file that is not one is an InputError."""
    shown = display or str(path)
    check_input_path(path, shown)
    try:
        return zipfile.ZipFile(path)
    except (*ARCHIVE_ERRORS, OSError) as error:
        raise InputError(shown, f"not a readable zip archive: {describe_archive_error(error)}"
                         ) from None  # fmt: skip


def extract_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, display: str
) -> None:
    """Copy one checked member to ``target``, stopping at the decompression limits."""
    with archive.open(info) as source, target.open("wb") as sink:
        bounded = _Bounded(source, display, info.compress_size)
        while chunk := bounded.read(1 << 20):
            sink.write(chunk)


def check_free_space(directory: Path, needed: int, display: str) -> None:
    free = shutil.disk_usage(directory).free
    if needed > free:
        raise InputError(display, f"extracting needs {needed:,} bytes in {directory}, only "
                         f"{free:,} are free")  # fmt: skip


@contextlib.contextmanager
def scratch_root(directory: Path) -> Iterator[None]:
    """Make :func:`scratch_directory` create its directories inside ``directory``."""
    token = _SCRATCH_ROOT.set(directory)
    try:
        yield
    finally:
        _SCRATCH_ROOT.reset(token)


@contextlib.contextmanager
def scratch_directory(prefix: str) -> Iterator[Path]:
    """A fresh directory for extracted members, removed on every exit (interrupts too)."""
    with tempfile.TemporaryDirectory(prefix=prefix, dir=_SCRATCH_ROOT.get()) as created:
        yield Path(created)


Opener = Callable[[], contextlib.AbstractContextManager[io.BufferedReader]]


@dataclass(frozen=True)
class TextInput:
    """One CSV text as the user knows it (``display``) and how to open its bytes."""

    display: str
    opener: Opener
    kind: str = "file"
    """What the bytes come from, for errors: "file", "gzip file" or "zip archive"."""

    @classmethod
    def file(cls, path: Path, display: str | None = None) -> TextInput:
        """A plain file (checked to be a readable regular file first)."""
        shown = display or str(path)
        check_input_path(path, shown)

        @contextlib.contextmanager
        def opener() -> Iterator[io.BufferedReader]:
            try:
                handle = path.open("rb")
            except OSError as error:
                raise InputError(shown, f"cannot be read ({error.strerror or error})") from None
            with handle:
                yield handle

        return cls(shown, opener)

    @classmethod
    def gzip_file(cls, path: Path, display: str | None = None) -> TextInput:
        shown = display or str(path)
        check_input_path(path, shown)
        compressed = path.stat().st_size

        @contextlib.contextmanager
        def opener() -> Iterator[io.BufferedReader]:
            with gzip.open(path, "rb") as raw:
                yield io.BufferedReader(_Bounded(raw, shown, compressed))

        return cls(shown, opener, "gzip file")

    @classmethod
    def zip_member(cls, path: Path, info: zipfile.ZipInfo, display: str) -> TextInput:
        """A member of an archive already passed through :func:`check_archive`."""

        @contextlib.contextmanager
        def opener() -> Iterator[io.BufferedReader]:
            with zipfile.ZipFile(path) as archive, archive.open(info) as raw:
                yield io.BufferedReader(_Bounded(raw, display, info.compress_size))

        return cls(display, opener, "zip archive")

    @contextlib.contextmanager
    def text(self) -> Iterator[IO[str]]:
        """The text, decoded as UTF-8 (BOM dropped) once the first bytes look like it."""
        with self.reading(), self.opener() as raw:
            check_text_start(raw.peek(1 << 16)[: 1 << 16], self.display)
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Turn what the decoders raise into one line naming the file (and line)."""
        try:
            yield
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except ARCHIVE_ERRORS as error:
            message = f"not a readable {self.kind}: {describe_archive_error(error)}"
            raise InputError(self.display, message) from None
        except OSError as error:
            raise InputError(self.display, f"cannot be read ({error.strerror or error})"
                             ) from None  # fmt: skip

    def _not_utf8(self) -> InputError:
        """Where the first byte that is not UTF-8 is (a second pass over the raw bytes)."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        line = 1
        try:
            with self.opener() as raw:
                while chunk := raw.read(1 << 16):
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as error:
                        line += error.object.count(b"\n", 0, error.start)
                        byte = error.object[error.start]
                        return InputError(self.display, not_utf8_message(byte), line)
                    line += chunk.count(b"\n")
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pass  # the file ends inside a multi-byte sequence
        except (InputError, *ARCHIVE_ERRORS, OSError):
            pass
        return InputError(self.display, not_utf8_message(None), line)


def not_utf8_message(byte: int | None) -> str:
    what = f"byte 0x{byte:02x} is not {EXPECTED_ENCODING}" if byte is not None else (
        f"the text is not valid {EXPECTED_ENCODING}")  # fmt: skip
    return (f"{what} (Latin-1 or Windows-1252 text?): chainwatch reads {EXPECTED_ENCODING}, "
            f"save the file as {EXPECTED_ENCODING}")  # fmt: skip


def check_text_start(head: bytes, display: str) -> None:
    """Refuse UTF-16/32, binary data and archives from the first bytes of a text file."""
    expected = f"chainwatch reads {EXPECTED_ENCODING} text: save the file as {EXPECTED_ENCODING}"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise InputError(display, f"the file is UTF-32 text; {expected}")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(display, f"the file is UTF-16 text; {expected}")
    if head.startswith(b"PK\x03\x04"):
        raise InputError(display, "is a zip archive (or an xlsx workbook), not CSV text")
    if head.startswith(b"\x1f\x8b"):
        raise InputError(display, "is gzip-compressed, not CSV text (name it .gz)")
    if b"\x00" in head:
        line = head.count(b"\n", 0, head.index(b"\x00")) + 1
        raise InputError(display, f"contains NUL bytes (binary data, or UTF-16 without a byte "
                         f"order mark); {expected}", line)  # fmt: skip


def _bounded_lines(text: IO[str], display: str) -> Iterator[str]:
    number = 0
    while line := text.readline(MAX_LINE_CHARACTERS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARACTERS:
            raise InputError(display, f"a line longer than {MAX_LINE_CHARACTERS:,} characters",
                             number)  # fmt: skip
        yield line


def csv_rows(
    source: TextInput, delimiter: str | None = ","
) -> Generator[tuple[int, list[str]], None, None]:
    """(line, cells) of every non-blank record, the header first.

    ``line`` is where the record starts (1-based, as an editor shows it). ``delimiter=None``
    reads it from the first line (tab if it holds a tab, else comma).
    """
    with source.text() as text:
        lines = _bounded_lines(text, source.display)
        if delimiter is None:
            first = next(lines, "")
            delimiter = "\t" if "\t" in first else ","
            lines = _prepend(first, lines)
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        previous = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise InputError(source.display, _csv_problem(error), reader.line_num) from None
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                yield start, cells


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _csv_problem(error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        return f"a field longer than {csv.field_size_limit():,} characters"
    if "unexpected end of data" in text:
        return "the file ends inside a quoted field (cut short?)"
    return f"unreadable CSV ({text})"


def check_header(display: str, header: Sequence[str], required: Sequence[str]) -> list[str]:
    """Stripped header names; every required name present, no name twice."""
    names = [name.strip() for name in header]
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise InputError(display, f"column {name!r} appears twice in the header", 1, name)
        seen.add(name)
    for name in required:
        if name not in seen:
            found = ", ".join(repr(shown) for shown in names[:40])
            raise InputError(display, f"missing column {name!r} (found: {found})", 1)
    return names


def check_width(display: str, line: int, cells: Sequence[str], width: int) -> None:
    """A record has the header's number of fields (extra empty trailing fields aside)."""
    if len(cells) < width:
        raise InputError(display, f"the row has {len(cells)} fields but the header has {width}"
                         " (a row cut short?)", line)  # fmt: skip
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        raise InputError(display, f"the row has {len(cells)} fields but the header has {width}",
                         line)  # fmt: skip


def csv_dicts(
    source: TextInput, required: Sequence[str], delimiter: str | None = ","
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header, and (line, record by header name) of every data record.

    An empty file is an error here; a file with a header and no data gives no records.
    """
    rows = csv_rows(source, delimiter)
    first = next(rows, None)
    if first is None:
        raise InputError(source.display, "the file is empty: expected a header row", 1)
    names = check_header(source.display, first[1], required)

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        width, named = len(names), all(names)
        for line, cells in rows:
            if len(cells) != width:
                check_width(source.display, line, cells, width)
            pairs = zip(names, cells, strict=False)
            yield line, dict(pairs) if named else {name: cell for name, cell in pairs if name}

    return names, records()


def read_head(path: Path, size: int = 8) -> bytes:
    """The first bytes of a checked file (to tell a workbook from CSV text by content)."""
    with path.open("rb") as handle:
        return handle.read(size)


def binary_handle(path: Path, display: str) -> BinaryIO:
    """An open binary handle on a checked file; OSError becomes an InputError."""
    try:
        return path.open("rb")
    except OSError as error:
        raise InputError(display, f"cannot be read ({error.strerror or error})") from None
