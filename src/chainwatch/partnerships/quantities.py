"""Money amounts and dates as written in announcements (English and French), pure functions.

Amounts: "€150 billion ($172 billion)" is one amount with a bracketed equivalent; "EUR 150 bn",
"C$2.5 billion", "US$ 1.2 billion", "£30m", "CAD 40 million", "150 milliards d'euros",
"2,5 milliards de dollars canadiens". A bare "$" is read as US dollars.
Dates: "1 February", "March 28, 2023", "1er février 2024", "23-24 November", "by 2030",
"in the spring". A part the text does not give stays None.
"""

from __future__ import annotations

import re

from chainwatch.partnerships.model import Amount, DateMention

_NUMBER = r"\d{1,3}(?:[,\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SCALE_WORDS = {
    "trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9, "milliards": 1e9,
    "milliard": 1e9, "md": 1e9, "million": 1e6, "millions": 1e6, "mn": 1e6, "m": 1e6,
    "mio": 1e6, "thousand": 1e3, "k": 1e3, "mille": 1e3,
}  # fmt: skip
_SCALE = r"trillion|billion|milliards?|millions?|thousand|mille|bn|tn|mn|mio|md|m|b|k"
_PREFIX = {
    "€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "C$": "CAD", "CA$": "CAD", "CAD$": "CAD",
    "US$": "USD", "USD$": "USD", "A$": "AUD", "AU$": "AUD", "EUR": "EUR", "USD": "USD",
    "CAD": "CAD", "GBP": "GBP", "JPY": "JPY", "AUD": "AUD", "CHF": "CHF", "KRW": "KRW",
}  # fmt: skip
_SUFFIX = {
    "euros": "EUR", "euro": "EUR", "d'euros": "EUR", "d’euros": "EUR", "€": "EUR",
    "dollars canadiens": "CAD", "de dollars canadiens": "CAD", "canadian dollars": "CAD",
    "us dollars": "USD", "u.s. dollars": "USD", "de dollars américains": "USD",
    "dollars américains": "USD", "dollars": "USD", "de dollars": "USD", "$": "USD",
    "$ can": "CAD", "$ us": "USD", "pounds sterling": "GBP", "pounds": "GBP",
    "de livres sterling": "GBP", "livres sterling": "GBP", "yen": "JPY",
    "eur": "EUR", "usd": "USD", "cad": "CAD", "gbp": "GBP", "jpy": "JPY", "aud": "AUD",
}  # fmt: skip
_PREFIX_RE = "|".join(re.escape(p) for p in sorted(_PREFIX, key=len, reverse=True))
_SUFFIX_RE = "|".join(re.escape(s) for s in sorted(_SUFFIX, key=len, reverse=True))
_AMOUNT = re.compile(
    rf"(?<![\w.])(?:(?P<prefix>{_PREFIX_RE})\s?(?P<n1>{_NUMBER})(?:[\s-]?(?P<s1>{_SCALE})\b)?"
    rf"|(?P<n2>{_NUMBER})\s?(?:(?P<s2>{_SCALE})\.?\s)?(?P<suffix>{_SUFFIX_RE})(?![\w]))",
    re.IGNORECASE,
)
_BRACKET_GAP = re.compile(r"^\s*\(\s*(?:(?:approx(?:imately)?\.?|about|around|some|or|i\.e\.|"
                          r"environ|soit|ca\.)\s*)?$", re.IGNORECASE)  # fmt: skip


def _number(text: str, french: bool) -> float:
    compact = text.replace("\u202f", " ")
    if re.fullmatch(r"\d{1,3}(?:[ ,]\d{3})+", compact):
        return float(re.sub(r"[ ,]", "", compact))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+\.\d+", compact):
        return float(compact.replace(",", ""))
    if re.fullmatch(r"\d{1,3}(?: \d{3})+,\d+", compact):
        return float(compact.replace(" ", "").replace(",", "."))
    if "," in compact and (french or not re.fullmatch(r"\d+,\d{3}", compact)):
        return float(compact.replace(",", "."))
    return float(compact.replace(",", ""))


_BARE_DOLLAR = frozenset({"$", "dollars", "de dollars"})


def _currency_code(match: re.Match[str]) -> tuple[str, bool]:
    """The ISO 4217 code, and whether it is assumed (a bare "$" or "dollars" is read as USD)."""
    if match.group("prefix"):
        symbol = match.group("prefix")
        return _PREFIX.get(symbol, _PREFIX.get(symbol.upper(), "USD")), symbol == "$"
    suffix = match.group("suffix").casefold().replace("’", "'")
    return _SUFFIX[suffix], suffix in _BARE_DOLLAR


def _scale(word: str | None) -> float:
    if not word:
        return 1.0
    word = word.casefold()
    if word == "m" or word == "b" or word == "k":
        return _SCALE_WORDS[word]
    return _SCALE_WORDS.get(word, 1.0)


def find_amounts(text: str, language: str = "en") -> tuple[Amount, ...]:
    """Money amounts in reading order; a bracketed amount right after another is its
    equivalent (a conversion), not a second amount."""
    found: list[tuple[int, int, Amount]] = []
    for match in _AMOUNT.finditer(text):
        number = match.group("n1") or match.group("n2")
        scale = match.group("s1") or match.group("s2")
        prefix = match.group("prefix") or ""
        if prefix.isalpha() and not scale and re.fullmatch(r"(19|20)\d\d", number):
            continue  # "CAD 2023" is a code beside a year, not 2,023 dollars
        value = _number(number, language == "fr") * _scale(scale)
        currency, assumed = _currency_code(match)
        amount = Amount(match.group(0).strip(), value, currency, currency_assumed=assumed)
        if found and _BRACKET_GAP.match(text[found[-1][1] : match.start()]):
            start, _, primary = found[-1]
            end = text.find(")", match.end())
            end = match.end() if end < 0 or end - match.end() > 3 else end + 1
            found[-1] = (
                start,
                end,
                Amount(primary.text, primary.value, primary.currency,
                       (*primary.equivalents, amount), primary.currency_assumed),
            )  # fmt: skip
            continue
        found.append((match.start(), match.end(), amount))
    return tuple(amount for _, _, amount in found)


_MONTHS_EN = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
_MONTH_NUMBER = {name: i for i, name in enumerate(_MONTHS_EN, start=1)}
_MONTH_NUMBER.update({name: i for i, name in enumerate(_MONTHS_FR, start=1)})
_MONTH_NUMBER.update({name[:3]: i for i, name in enumerate(_MONTHS_EN, start=1)})
_MONTH_NUMBER["sept"] = 9
_MONTH = (
    r"(?:" + "|".join(_MONTHS_EN + _MONTHS_FR) + r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|"
    r"nov|dec)\.?"
)
_DAY = r"(?:[0-3]?\d)(?:er|st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_DATE = re.compile(
    rf"\b(?:(?P<iso>(?P<iy>{_YEAR})-(?P<im>[01]\d)-(?P<id>[0-3]\d))"
    rf"|(?P<d1>{_DAY})(?:\s?(?:[-\u2013]|to|au|et)\s?{_DAY})?\s(?P<m1>{_MONTH})(?:,?\s(?P<y1>{_YEAR}))?"
    rf"|(?P<m2>{_MONTH})\s(?P<d2>{_DAY})(?:\s?[-\u2013]\s?{_DAY})?(?:,?\s(?P<y2>{_YEAR}))?(?!\d)"
    rf"|(?:early|mid|late|end|spring|summer|autumn|fall|winter|début|fin)?[\s-]?"
    rf"(?P<m3>{_MONTH})\s(?P<y3>{_YEAR})"
    rf"|(?P<q>Q[1-4])\s(?P<y4>{_YEAR})"
    rf"|(?P<ctx>(?:by|in|until|from|since|before|after|through|end of|early|mid|late|"
    rf"d'ici|en|avant|depuis|horizon)\s(?:the\s(?:end\sof\s)?)?)(?P<y5>{_YEAR})(?![\d,.]\d))",
    re.IGNORECASE,
)
_MONTH_ALONE = re.compile(rf"\b(?:in|en|on|during|au mois de)\s(?P<m>{_MONTH})(?!\s?\d)\b",
                          re.IGNORECASE)  # fmt: skip
_RELATIVE = re.compile(
    r"\b(in the (?:spring|summer|autumn|fall|winter)|in the coming (?:year|months|weeks)|"
    r"(?:by|before) the end of (?:the|this|next) year|later this year|next year|this year|"
    r"within (?:\w+ )?(?:days|weeks|months|years)|au printemps|à l'automne|l'année prochaine|"
    r"dans les prochains mois|d'ici la fin de l'année)\b",
    re.IGNORECASE,
)


def _month(name: str | None) -> int | None:
    if not name:
        return None
    return _MONTH_NUMBER.get(name.rstrip(".").casefold())


def _day(text: str | None) -> int | None:
    if not text:
        return None
    day = int(re.sub(r"\D", "", text))
    return day if 1 <= day <= 31 else None


def find_dates(text: str) -> tuple[DateMention, ...]:
    """Dates in reading order; relative ones ("in the spring") are kept with ``relative``."""
    found: list[tuple[int, DateMention]] = []
    taken: list[tuple[int, int]] = []
    for match in _DATE.finditer(text):
        groups = match.groupdict()
        year = next((groups[k] for k in ("iy", "y1", "y2", "y3", "y4", "y5") if groups[k]), None)
        month = int(groups["im"]) if groups["im"] else _month(
            groups["m1"] or groups["m2"] or groups["m3"])  # fmt: skip
        day = int(groups["id"]) if groups["id"] else _day(groups["d1"] or groups["d2"])
        if groups["q"]:
            month = (int(groups["q"][1]) - 1) * 3 + 1
        start = match.start("y5") if groups["y5"] else match.start()
        mention_text = text[start : match.end()].strip()
        found.append((start, DateMention(mention_text, int(year) if year else None, month, day)))
        taken.append((match.start(), match.end()))
    for pattern, relative in ((_MONTH_ALONE, False), (_RELATIVE, True)):
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            month = _month(match.group("m")) if not relative else None
            start = match.start("m") if not relative else match.start()
            found.append((start, DateMention(text[start : match.end()], None, month, None,
                                             relative)))  # fmt: skip
            taken.append((match.start(), match.end()))
    return tuple(mention for _, mention in sorted(found, key=lambda item: item[0]))
