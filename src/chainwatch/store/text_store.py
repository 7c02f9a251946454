"""The press texts of the partnership tracker, in the app database (SQLite or PostgreSQL).

Texts are kept as added (raw, HTML included) under the first 12 hex digits of their SHA-256;
records are extracted from them when read, so a better extractor improves old texts too.
Adding is all or nothing: one transaction for every file of a ``chainwatch texts add``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from chainwatch.errors import QueryError
from chainwatch.store.app_state import AppState, Base, now


class PartnershipTextRow(Base):
    __tablename__ = "partnership_text"

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class NewText:
    """A text to add: its id (content hash), file name, language, title and raw content."""

    id: str
    name: str
    language: str
    title: str
    content: str


@dataclass(frozen=True)
class StoredText:
    id: str
    name: str
    language: str
    title: str
    content: str
    added_by: str
    added_at: datetime
    added_now: bool = False


def _stored(row: PartnershipTextRow, added_now: bool = False) -> StoredText:
    return StoredText(row.id, row.name, row.language, row.title, row.content, row.added_by,
                      row.added_at, added_now)  # fmt: skip


def write_texts(state: AppState, texts: Iterable[NewText], actor: str = "cli") -> list[StoredText]:
    """Add texts in one transaction; a text already stored (same content) is kept as it was."""
    stamp = now()
    out: list[StoredText] = []
    with state.session() as session:
        for text in texts:
            row = session.get(PartnershipTextRow, text.id)
            if row is not None:
                out.append(_stored(row))
                continue
            row = PartnershipTextRow(
                id=text.id, name=text.name[:300], language=text.language, title=text.title,
                content=text.content, added_by=actor, added_at=stamp,
            )  # fmt: skip
            session.add(row)
            session.flush()
            out.append(_stored(row, added_now=True))
    return out


def read_texts(state: AppState) -> list[StoredText]:
    """Every stored text, oldest first."""
    with state.session() as session:
        rows = session.scalars(
            select(PartnershipTextRow).order_by(
                PartnershipTextRow.added_at, PartnershipTextRow.name
            )
        ).all()
        return [_stored(row) for row in rows]


def delete_text(state: AppState, text_id: str) -> StoredText:
    """Remove one text; its records disappear from the tracker unless another text has them."""
    with state.session() as session:
        row = session.get(PartnershipTextRow, text_id)
        if row is None:
            raise QueryError(f"no text with id {text_id!r} (see `chainwatch texts list`)")
        stored = _stored(row)
        session.execute(delete(PartnershipTextRow).where(PartnershipTextRow.id == text_id))
    return stored


def read_text_ids(state: AppState) -> tuple[str, ...]:
    """The ids of the stored texts (a cheap version key for cached records)."""
    with state.session() as session:
        return tuple(session.scalars(select(PartnershipTextRow.id).order_by(
            PartnershipTextRow.added_at, PartnershipTextRow.name)).all())  # fmt: skip
