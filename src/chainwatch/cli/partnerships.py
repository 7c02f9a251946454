"""``chainwatch texts`` (add, list, remove press texts) and ``chainwatch partnerships`` (the
merged records, one record's commitments, the coverage of a perspective's exposures)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from chainwatch.cli.output import Format, console, emit
from chainwatch.cli.watch import (
    AppDbOption,
    FormatOption,
    OutOption,
    StoreOption,
    open_app_state,
)
from chainwatch.metrics.service import DEFAULT_BLOC
from chainwatch.partnerships.service import (
    add_text_files,
    calc_partnership_coverage,
    commitments_frame,
    filter_partnerships,
    find_partnership,
    partnerships_frame,
    read_partnerships,
    record_document,
    texts_frame,
    themes_frame,
)
from chainwatch.python_api import open_store
from chainwatch.store.queries import default_risk_year
from chainwatch.store.text_store import delete_text, read_texts

texts_app = typer.Typer(
    help="Press texts for the partnership tracker (plain text or HTML, English or French).",
    no_args_is_help=True,
    add_completion=False,
)
partnerships_app = typer.Typer(
    help="Partnerships, dialogues, working groups and commitments read from the texts.",
    invoke_without_command=True,
    add_completion=False,
)


@texts_app.command("add")
def texts_add(
    files: Annotated[list[Path], typer.Argument(help="text or HTML files", show_default=False)],
    store: StoreOption = None,
    app_db: AppDbOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Add texts (all or none: one unreadable file stops the lot); a text already added is
    recognised by its content and kept once."""
    with open_app_state(store, app_db) as state:
        added = add_text_files(state, files, actor="cli")
    if as_json:
        document = [
            {"id": a.text.id, "name": a.text.name, "added": a.text.added_now,
             "language": a.cleaned.language, "duplicates_removed": a.cleaned.duplicates_removed,
             "placeholders": [p.text for p in a.cleaned.placeholders],
             "instruments": list(a.instruments)}
            for a in added
        ]  # fmt: skip
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    if quiet:
        return
    for item in added:
        state_word = "added" if item.text.added_now else "already there"
        console.print(f"[bold]{item.text.name}[/bold] ({item.text.id}, {state_word}, "
                      f"{item.cleaned.language}): {len(item.instruments)} instrument(s): "
                      f"{', '.join(item.instruments) or 'none'}", highlight=False)  # fmt: skip
        if item.cleaned.duplicates_removed:
            console.print(f"  {item.cleaned.duplicates_removed} repeated paragraph(s) ignored")
        for placeholder in item.cleaned.placeholders:
            console.print(f"  placeholder {placeholder.text!r} left in the text: not filled in",
                          highlight=False, style="yellow")  # fmt: skip


@texts_app.command("list")
def texts_list(
    store: StoreOption = None,
    app_db: AppDbOption = None,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
) -> None:
    """The texts added so far."""
    with open_app_state(store, app_db) as state:
        texts = read_texts(state)
    emit(texts_frame(texts), output_format, out, title="Texts")


@texts_app.command("remove")
def texts_remove(
    text_id: Annotated[str, typer.Argument(help="id from `chainwatch texts list`")],
    store: StoreOption = None,
    app_db: AppDbOption = None,
) -> None:
    """Remove one text; records only it supported disappear."""
    with open_app_state(store, app_db) as state:
        removed = delete_text(state, text_id)
    console.print(f"removed {removed.name} ({removed.id})", highlight=False)


@partnerships_app.callback()
def partnerships_list(
    context: typer.Context,
    theme: Annotated[
        str | None, typer.Option("--theme", help="theme id, e.g. critical_minerals")
    ] = None,
    party: Annotated[
        str | None, typer.Option("--party", help="ISO3 or group id, e.g. CAN, EU27")
    ] = None,
    material: Annotated[str | None, typer.Option("--material", help="named or via a theme")] = None,
    store: StoreOption = None,
    app_db: AppDbOption = None,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
) -> None:
    """The partnerships read from every text, merged (one row each)."""
    if context.invoked_subcommand is not None:
        return
    with open_app_state(store, app_db) as state:
        records = filter_partnerships(read_partnerships(state), theme, party, material=material)
    if output_format is Format.json:
        text = json.dumps([record_document(r) for r in records], indent=2, ensure_ascii=False)
        _write(text, out)
        return
    frame = partnerships_frame(records)
    if output_format is Format.table and out is None:
        frame = frame[["id", "name", "instrument", "parties", "status", "themes",
                       "commitments", "sources"]]  # fmt: skip
    emit(frame, output_format, out, title="Partnerships")


@partnerships_app.command("show")
def partnerships_show(
    partnership_id: Annotated[str, typer.Argument(help="id from `chainwatch partnerships`")],
    store: StoreOption = None,
    app_db: AppDbOption = None,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
) -> None:
    """One partnership: what it is, and every commitment with its sentence and source."""
    with open_app_state(store, app_db) as state:
        record = find_partnership(read_partnerships(state), partnership_id)
    if output_format is Format.json:
        _write(json.dumps(record_document(record), indent=2, ensure_ascii=False), out)
        return
    if output_format is Format.table and out is None:
        row = partnerships_frame([record]).iloc[0]
        for field, value in row.items():
            console.print(f"[bold]{field}[/bold]: {value}", highlight=False)
    emit(commitments_frame(record), output_format, out, title="Commitments")


@partnerships_app.command("coverage")
def partnerships_coverage(
    perspective: Annotated[
        str, typer.Option("--as", "--perspective", help="ISO3 or group id")
    ] = "ALLIED",
    year: Annotated[int | None, typer.Option("--year", "-y")] = None,
    top: Annotated[int, typer.Option("--top", help="how many exposed materials")] = 15,
    bloc: Annotated[str, typer.Option("--bloc")] = DEFAULT_BLOC,
    store: StoreOption = None,
    app_db: AppDbOption = None,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
) -> None:
    """The perspective's most exposed materials and the partnerships (if any) covering each."""
    ready = open_store(store)
    with open_app_state(store, app_db) as state:
        records = read_partnerships(state)
    chosen = year or default_risk_year(ready)
    frame = calc_partnership_coverage(ready, records, perspective, chosen, top, bloc)
    if output_format is Format.table and out is None:
        frame = frame[["rank", "material", "riskiest_stage", "eu_supply_risk", "coverage",
                       "partnership_names", "via_themes"]]  # fmt: skip
    emit(frame, output_format, out, title=f"Partnership coverage: {perspective}, {chosen}")


@partnerships_app.command("themes")
def partnerships_themes(output_format: FormatOption = Format.table, out: OutOption = None) -> None:
    """The theme taxonomy and the materials each theme concerns."""
    emit(themes_frame(), output_format, out, title="Themes")


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
