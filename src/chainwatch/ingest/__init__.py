"""Readers for the publishers' own file formats: raw file -> canonical Arrow tables.

One module per source. Each exposes ``parse_<source>(path, ...) -> ParsedSource``; the store
validates the result with :mod:`chainwatch.ingest.checks` and loads it atomically.
"""
