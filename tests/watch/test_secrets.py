"""Secrets at rest (watch/secrets.py and AppState): Fernet keys from the environment or a 0600
key file, rotation with several keys, no clear secret in the database, the secrets of older
databases encrypted on upgrade, one-line errors."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from chainwatch.errors import StoreError
from chainwatch.store.app_database import upgrade
from chainwatch.store.app_state import AppState
from chainwatch.store.delivery_store import claim_delivery, read_deliveries
from chainwatch.watch.secrets import KEY_FILE_VARIABLE, KEY_VARIABLE, KeyRing, generate_key

CLEAR = "SYNTHETIC-signing-secret-31a7"


@pytest.fixture(autouse=True)
def _no_key_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in (KEY_VARIABLE, KEY_FILE_VARIABLE):
        monkeypatch.delenv(variable, raising=False)


def test_keys_from_the_environment_and_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = generate_key(), generate_key()
    monkeypatch.setenv(KEY_VARIABLE, old)
    token = KeyRing().encrypt(CLEAR)
    assert CLEAR not in token and KeyRing().decrypt(token) == CLEAR
    monkeypatch.setenv(KEY_VARIABLE, f"{new}, {old}")
    rotated = KeyRing().rotate(token)
    assert KeyRing(keys=[new]).decrypt(rotated) == CLEAR
    with pytest.raises(StoreError, match="no key in the keys given decrypts"):
        KeyRing(keys=[old]).decrypt(rotated)  # the retired key alone
    with pytest.raises(StoreError, match=r"no key in \$CHAINWATCH_SECRET_KEY decrypts"):
        KeyRing().decrypt(KeyRing(keys=[generate_key()]).encrypt(CLEAR))
    monkeypatch.setenv(KEY_VARIABLE, "not-a-key")
    with pytest.raises(StoreError, match="is not a Fernet key") as caught:
        KeyRing().encrypt(CLEAR)
    assert "\n" not in str(caught.value) and "not-a-key" not in str(caught.value)


def test_the_default_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "app.key"
    with pytest.raises(StoreError, match="cannot read the secret key file"):
        KeyRing(key_file).decrypt("x")  # reading never creates a key
    rings = [KeyRing(key_file) for _ in range(8)]
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda r=ring: tokens.append(r.encrypt(CLEAR)))
               for ring in rings]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().split()) == 1  # one key, whoever came first
    assert {KeyRing(key_file).decrypt(token) for token in tokens} == {CLEAR}
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["app.key"]


def test_key_files_must_be_private_regular_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "shared.key"
    key_file.write_text(f"# rotated 2026-12-01\n{generate_key()}\n", encoding="ascii")
    os.chmod(key_file, 0o640)
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    with pytest.raises(StoreError, match="readable by others"):
        KeyRing().encrypt(CLEAR)
    os.chmod(key_file, 0o600)
    assert KeyRing().decrypt(KeyRing().encrypt(CLEAR)) == CLEAR
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(tmp_path))
    with pytest.raises(StoreError, match="not a regular file"):
        KeyRing().encrypt(CLEAR)


def test_no_clear_secret_reaches_the_database_file(tmp_path: Path) -> None:
    database = tmp_path / "app.sqlite"
    with AppState(f"sqlite:///{database}", secrets=KeyRing(keys=[generate_key()])) as state:
        hook = state.subscribe("material", "graphite", "webhook", "https://example.org/", CLEAR)
        assert state.webhook_secret(hook.subscription_id) == CLEAR
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert CLEAR.encode() not in database.read_bytes()


def test_upgrading_an_old_database_keeps_its_rows_and_encrypts_its_secrets(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    engine = create_engine(url)
    upgrade(engine, "0002")  # a database written by the previous version
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO alert VALUES ('a1', 'r', 'warning', '{}', 2023, 2023, 'SYNTHETIC', "
            "'new', '2026-11-30 10:00:00.000000')"))  # fmt: skip
        connection.execute(text(
            "INSERT INTO subscription (kind, value, channel, url, secret, created_at) VALUES "
            f"('material', 'graphite', 'webhook', 'https://example.org/', '{CLEAR}', "
            "'2026-11-30 10:00:00.000000')"))  # fmt: skip
        connection.execute(text(  # left 'sending' forever by a killed sender of that version
            "INSERT INTO delivery (subscription_id, alert_id, status, attempts) "
            "VALUES (1, 'a1', 'sending', 1)"))  # fmt: skip
    engine.dispose()
    with AppState(url, secrets=KeyRing(keys=[generate_key()])) as state:
        assert state.webhook_secret(1) == CLEAR  # readable before it is sealed
        [stuck] = read_deliveries(state)
        assert len(stuck.delivery_id) == 36 and stuck.lease_until is None
        claim = claim_delivery(state, 1, "a1", lease_s=30)  # no lease: claimable at once
        assert claim is not None and claim.attempt == 2
        assert state.seal_secrets() == 1 and state.seal_secrets() == 0
        assert state.webhook_secret(1) == CLEAR
    with sqlite3.connect(tmp_path / "app.sqlite") as raw:
        assert raw.execute("SELECT secret FROM subscription").fetchall() == [(None,)]
    assert CLEAR.encode() not in (tmp_path / "app.sqlite").read_bytes()
