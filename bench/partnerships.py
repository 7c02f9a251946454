"""Benchmark: reading and extracting partnership records from announcements.

Texts: the two real example texts (examples/partnership_texts) and the 12 SYNTHETIC held-out
announcements (tests/partnerships/heldout), repeated to make a corpus of ``--copies`` x 14
texts, each copy made distinct (a numbered line), so nothing is served from a cache.

* chainwatch: ``extract_partnerships`` (clean, match, rules, merge) over the corpus;
* baseline: the same texts through spaCy's ``blank("en")`` tokenizer only (``nlp.pipe``), the
  cheapest pass any spaCy-based extractor makes over the text.

Run: ``.venv/bin/python bench/partnerships.py [--copies 20]``; prints JSON with the ratio.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import spacy

from chainwatch.partnerships import extract_partnerships, read_text_file

ROOT = Path(__file__).resolve().parents[1]


def corpus(copies: int) -> list[tuple[str, str]]:
    files = sorted((ROOT / "examples" / "partnership_texts").glob("*.txt"))
    files += sorted((ROOT / "tests" / "partnerships" / "heldout").glob("*.txt"))
    files += sorted((ROOT / "tests" / "partnerships" / "heldout").glob("*.html"))
    texts = [(path.name, read_text_file(path)) for path in files]
    return [(f"{i}-{name}", f"{text}\nCopy {i}.") for i in range(copies) for name, text in texts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    texts = corpus(args.copies)
    extract_partnerships(texts[:14])  # build the matchers once, as a running service has
    started = time.perf_counter()
    records = extract_partnerships(texts)
    extraction = time.perf_counter() - started
    nlp = spacy.blank("en")
    started = time.perf_counter()
    tokens = sum(len(doc) for doc in nlp.pipe(text for _, text in texts))
    tokenizing = time.perf_counter() - started
    characters = sum(len(text) for _, text in texts)
    print(json.dumps({
        "texts": len(texts), "characters": characters, "tokens": tokens,
        "records_after_merge": len(records),
        "chainwatch_s": round(extraction, 3),
        "texts_per_s": round(len(texts) / extraction, 1),
        "ms_per_text": round(1000 * extraction / len(texts), 2),
        "spacy_tokenizer_only_s": round(tokenizing, 3),
        "ratio_to_tokenizer": round(extraction / tokenizing, 1),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
