"""Where downloads come from: the shipped publisher URLs, the overrides, the checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainwatch.errors import InputError
from chainwatch.fetch.config import FetchRequest, load_sources, resolve


def test_baci_url_and_file_follow_cepii_naming() -> None:
    resolved = resolve(FetchRequest("baci", hs="hs17", release="V202501"), load_sources({}))
    assert resolved.url == "https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_HS17_V202501.zip"
    assert resolved.file_name == "BACI_HS17_V202501.zip" and resolved.expected_sha256 is None


def test_baci_needs_a_revision() -> None:
    with pytest.raises(InputError, match="this source needs --hs") as raised:
        resolve(FetchRequest("baci"), load_sources({}))
    assert raised.value.file == "--hs"


def test_usgs_release_picks_its_sciencebase_item() -> None:
    sources = load_sources({})
    resolved = resolve(FetchRequest("usgs-mcs", release="2023"), sources)
    assert resolved.url.endswith("/catalog/file/get/63b5f411d34e92aad3caa57f?name=world.zip")
    with pytest.raises(InputError, match=r"no usgs-mcs release '2019'.*known: 2023, 2024"):
        resolve(FetchRequest("usgs-mcs", release="2019"), sources)


def test_environment_and_config_file_override_the_defaults(tmp_path: Path) -> None:
    config = tmp_path / "fetch.toml"
    digest = "12" * 32  # SYNTHETIC checksum
    config.write_text(
        f'[wgi]\nrelease = "2025update"\n[wgi.sha256]\n"wgidataset_2025update.xlsx" = "{digest}"\n',
        encoding="utf-8",
    )
    environ = {"CHAINWATCH_FETCH_CONFIG": str(config),
               "CHAINWATCH_FETCH_URL_WGI": "http://127.0.0.1:8/w.xlsx"}  # fmt: skip
    resolved = resolve(FetchRequest("wgi"), load_sources(environ))
    assert (resolved.url, resolved.release) == ("http://127.0.0.1:8/w.xlsx", "2025update")
    assert resolved.expected_sha256 == digest and resolved.csv_name == "wgidataset_2025update.csv"
    given = resolve(FetchRequest("wgi", url="http://127.0.0.1:9/x.xlsx", sha256="AB" * 32),
                    load_sources(environ))  # fmt: skip
    assert (given.url, given.expected_sha256) == ("http://127.0.0.1:9/x.xlsx", "ab" * 32)


@pytest.mark.parametrize(
    ("text", "says"),
    [('[wgi.sha256]\n"x.xlsx" = "not-a-digest"\n', "not a sha256 digest"),
     ('[wgi]\nprepare = "magic"\n', "unknown prepare step"),
     ('[wgi]\nfile = "../outside.xlsx"\n', "must be a plain file name"),
     ("[wgi\n", "not a readable TOML file")],
)  # fmt: skip
def test_bad_config_file_is_one_line(tmp_path: Path, text: str, says: str) -> None:
    config = tmp_path / "fetch.toml"
    config.write_text(text, encoding="utf-8")  # SYNTHETIC bad configurations
    with pytest.raises(InputError, match=says):
        resolve(FetchRequest("wgi"), load_sources({"CHAINWATCH_FETCH_CONFIG": str(config)}))


@pytest.mark.parametrize(
    ("request_options", "option"),
    [({"sha256": "xyz"}, "--sha256"), ({"url": "ftp://example/x"}, "--url"),
     ({"hs": "HS2022"}, "--hs")],
)  # fmt: skip
def test_bad_request_names_the_option(request_options: dict[str, str], option: str) -> None:
    with pytest.raises(InputError) as raised:
        FetchRequest("baci", **request_options)
    assert raised.value.file == option
