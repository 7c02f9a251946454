"""Full publisher releases one command away: ``chainwatch data fetch SOURCE``.

``sources.toml`` says where each release lives (overridable), :mod:`.download` fetches it
resumably and checks its sha256, :mod:`.prepare` unpacks what a reader cannot take as is, and
:mod:`.service` hands the result to the all-or-nothing ingest. See docs/data_fetch.md.
"""

from chainwatch.fetch.config import FetchRequest, SourceSpec, load_sources
from chainwatch.fetch.service import (
    FetchResult,
    configured_sources,
    download_directory,
    fetch_source,
)

__all__ = ["FetchRequest", "FetchResult", "SourceSpec", "configured_sources",
           "download_directory", "fetch_source", "load_sources"]  # fmt: skip
