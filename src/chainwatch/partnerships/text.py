"""Reading press texts: HTML to text, boilerplate, repeated paragraphs, placeholders, language.

Pure functions over strings, except :func:`read_text_file`, which decodes a file and names the
file, line and column of an undecodable byte.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

from chainwatch.errors import InputError
from chainwatch.partnerships.model import Placeholder, TextResult

_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "td",
        "th",
        "section",
        "article",
        "blockquote",
        "table",
        "title",
        "dd",
        "dt",
        "figcaption",
        "main",
    ]
)
_SKIP_TAGS = frozenset(
    [
        "head",
        "script",
        "style",
        "nav",
        "header",
        "footer",
        "noscript",
        "aside",
        "form",
        "button",
        "svg",
    ]
)

#: Lines that are page furniture, not content (whole line, case-insensitive).
_BOILERPLATE = re.compile(
    r"^\s*(share this( page| article)?\b|print\b|follow us\b|stay connected\b|"
    r"subscribe\b|sign up\b|read more\b|page details\b|date modified\s*:|last updated\s*:|"
    r"top of page\b|back to top\b|skip to\b|download\b|copyright\b|©|all rights reserved|"
    r"report a problem|did you find what you were looking for|"
    r"(this (site|website) uses|we use) cookies|cookie|accept( all)?( cookies)?$|reject\b|"
    r"home\s*[>›»/]|you are here\b|related (links|products|news|articles|content)\b|"
    r"(media|press) (contacts?|enquiries|inquiries|relations)\b|contacts?\s*:?$|"
    r"for more information\s*:?$|sources?\s*:|partager cette page|date de modification\s*:|"
    r"personnes-ressources|relations avec les médias|liens connexes|pour plus de renseignements)",
    re.IGNORECASE,
)
#: Headings whose following short lines (names, phone numbers, links) are furniture too.
_BLOCK_HEADING = re.compile(
    r"^\s*(related (links|products|news|articles|content)|(media|press) (contacts?|enquiries|"
    r"inquiries|relations)|contacts?|follow us|stay connected|for more information|"
    r"personnes-ressources|relations avec les médias|liens connexes|pour plus de renseignements)",
    re.IGNORECASE,
)
_SOURCE_LINE = re.compile(r"^\s*sources?\s*:\s*(?P<who>.+?)\s*$", re.IGNORECASE)
_PLACEHOLDER = re.compile(
    r"\[(?!\d+\])[^\[\]\n]{1,40}\]|\{\{[^{}\n]{1,40}\}\}|<(?:insert|add)[^<>\n]{0,40}>|"
    r"\b(?:TBD|TBC|TK)\b|\bX{2,}\b|\bxx+\b|[●■]+|\blorem ipsum\b",
    re.IGNORECASE,
)
_FRENCH = frozenset(
    [
        "le",
        "la",
        "les",
        "des",
        "du",
        "une",
        "et",
        "est",
        "sont",
        "pour",
        "dans",
        "avec",
        "sur",
        "aux",
        "au",
        "ont",
        "été",
        "ce",
        "cette",
        "qui",
        "que",
    ]
)
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "in",
        "is",
        "are",
        "for",
        "with",
        "on",
        "that",
        "this",
        "will",
        "have",
        "has",
        "by",
        "from",
        "as",
        "be",
        "at",
        "an",
    ]
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block element per line; navigation is dropped."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"\s+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def looks_like_html(text: str) -> bool:
    pattern = r"<(!doctype html|html|body|p|div|h[1-6]|br|span|article|main)\b"
    return re.search(pattern, text[:5000], re.IGNORECASE) is not None


def read_text_file(path: Path | str) -> str:
    """A text file decoded as UTF-8 (a byte-order mark is dropped); HTML is kept as is."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise InputError(file, f"cannot read the file ({error.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputError(
            file,
            f"byte {raw[error.start]:#04x} at column {column} is not UTF-8 "
            "(save the file as UTF-8)",
            row=line,
        ) from None
    if not text.strip():
        raise InputError(file, "the file is empty")
    return text


def detect_language(text: str) -> str:
    """ "fr" when French function words outnumber English ones, else "en"."""
    words = re.findall(r"[a-zà-ÿ]+", text.casefold())
    french = sum(word in _FRENCH for word in words)
    english = sum(word in _ENGLISH for word in words)
    return "fr" if french > english else "en"


def _normalise_paragraph(paragraph: str) -> str:
    return re.sub(r"\W+", " ", paragraph.casefold()).strip()


def _is_furniture_line(line: str) -> bool:
    """A short line under a contacts/links heading: a name, a phone number, an address, a link."""
    words = line.split()
    if "@" in line or re.search(r"\+?\d[\d\s().-]{7,}\d", line):
        return True
    return len(words) <= 12 and not line.rstrip().endswith((".", "!", "?", ":"))


def text_id(text: str) -> str:
    """Stable id of a text: the first 12 hex digits of the SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def clean_text(name: str, raw: str) -> TextResult:
    """Split into paragraphs, drop furniture and repeated paragraphs, flag placeholders."""
    body = html_to_text(raw) if looks_like_html(raw) else raw
    body = body.replace("\u00a0", " ").replace("\u2011", "-").replace("\u202f", " ")
    seen: set[str] = set()
    paragraphs: list[str] = []
    furniture: list[str] = []
    publishers: list[str] = []
    duplicates = 0
    in_block = False
    for line in body.splitlines():
        paragraph = re.sub(r"\s+", " ", line).strip()
        if not paragraph:  # a blank line does not end a contacts or links block
            continue
        if _BOILERPLATE.match(paragraph):
            furniture.append(paragraph)
            source = _SOURCE_LINE.match(paragraph)
            if source and source.group("who") not in publishers:
                publishers.append(source.group("who"))
            in_block = _BLOCK_HEADING.match(paragraph) is not None
            continue
        if in_block and _is_furniture_line(paragraph):
            furniture.append(paragraph)
            continue
        in_block = False
        key = _normalise_paragraph(paragraph)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        paragraphs.append(paragraph)
    identifier = text_id(raw)
    placeholders = tuple(
        Placeholder(text=match.group(0), sentence=paragraph, source=name)
        for paragraph in paragraphs
        for match in _PLACEHOLDER.finditer(paragraph)
    )
    first = paragraphs[0] if paragraphs else ""
    title = first if len(first) <= 200 and not first.endswith(".") else ""
    return TextResult(
        id=identifier,
        name=name,
        language=detect_language(" ".join(paragraphs)),
        title=title,
        paragraphs=tuple(paragraphs),
        duplicates_removed=duplicates,
        boilerplate_removed=tuple(furniture),
        publishers=tuple(publishers),
        placeholders=placeholders,
    )


_ABBREVIATIONS = re.compile(
    r"\b(U\.S\.A\.|U\.S\.|U\.K\.|E\.U\.|e\.g\.|i\.e\.|etc\.|Mr\.|Ms\.|Mrs\.|Dr\.|No\.|St\.|"
    r"Inc\.|Ltd\.|Jan\.|Feb\.|Aug\.|Sept\.|Oct\.|Nov\.|Dec\.|approx\.|vs\.|M\.|Mme\.)"
)


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph; "U.S." and similar abbreviations do not end a sentence."""
    protected = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "\x00"), paragraph)
    parts = re.split(r"(?<=[.!?])[\"\u201d\u2019)]?\s+(?=[A-Z\u00c0-\u00dd\u201c\"(])", protected)
    return [part.replace("\x00", ".").strip() for part in parts if part.strip()]
