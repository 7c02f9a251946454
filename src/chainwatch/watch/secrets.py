"""Keys that encrypt the webhook signing secrets at rest (Fernet, several keys for rotation).

Where the keys come from, first found wins:

1. ``$CHAINWATCH_SECRET_KEY``: one or more Fernet keys, comma-separated;
2. ``$CHAINWATCH_SECRET_KEY_FILE``: a file with one key per line (``#`` comments allowed);
3. the default key file beside the app database (``chainwatch.app.key``), created with mode
   0600 the first time a secret is stored and no key exists.

The first key encrypts; every key decrypts (``MultiFernet``), so a rotation is: put the new key
first, keep the old one after it, run ``chainwatch watch rotate-secrets`` (every stored secret
is re-encrypted with the new key), then drop the old key. A key file must not be readable by
group or others (like an SSH key), else it is refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from chainwatch.errors import StoreError

KEY_VARIABLE = "CHAINWATCH_SECRET_KEY"
KEY_FILE_VARIABLE = "CHAINWATCH_SECRET_KEY_FILE"


def generate_key() -> str:
    """A new random Fernet key (URL-safe base64 of 32 bytes)."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str, origin: str) -> list[str]:
    """The keys in ``text`` (comma- or line-separated, ``#`` comments); StoreError if one is
    not a Fernet key. ``origin`` names where they came from in the message."""
    keys = []
    for line in text.replace(",", "\n").splitlines():
        key = line.split("#", 1)[0].strip()
        if not key:
            continue
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as error:
            raise StoreError(
                f"{origin}: {key[:6]}... is not a Fernet key (32 bytes, URL-safe base64; "
                "make one with `chainwatch watch new-key`)"
            ) from error
        keys.append(key)
    return keys


def read_key_file(path: Path) -> list[str]:
    """The keys of a key file; refused when group or others may read it, or not a file."""
    try:
        info = path.stat()
    except OSError as error:
        raise StoreError(f"cannot read the secret key file {path}: {error.strerror}") from error
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"secret key file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise StoreError(
            f"secret key file {path} is readable by others (mode {stat.S_IMODE(info.st_mode):o}):"
            f" run `chmod 600 {path}`"
        )
    keys = parse_keys(path.read_text(encoding="ascii", errors="replace"), str(path))
    if not keys:
        raise StoreError(f"secret key file {path} holds no key")
    return keys


def create_key_file(path: Path) -> list[str]:
    """Write a new key to ``path`` (mode 0600) unless another process just did; its keys.

    The key is written to a private temporary file then linked into place, so a concurrent
    reader never sees a half-written file and two writers never both win.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(generate_key() + "\n")
        with contextlib.suppress(FileExistsError):  # another process was first: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return read_key_file(path)


class KeyRing:
    """Encrypts and decrypts secrets with the configured keys (a ``store.app_state``
    ``SecretCipher``). Keys are looked up on first use, so commands that never touch a secret
    need no key; ``keys`` given explicitly take precedence over the environment."""

    def __init__(self, key_file: Path | None = None, keys: list[str] | None = None) -> None:
        self.key_file = key_file
        self._keys = parse_keys(",".join(keys), "given keys") if keys else None
        self._origin = "the keys given"
        self._lock = threading.Lock()

    def source(self) -> str:
        """Where the keys come from, in words (for messages)."""
        if self._keys is not None:
            return self._origin
        if os.environ.get(KEY_VARIABLE, "").strip():
            return f"${KEY_VARIABLE}"
        return str(self._file())

    def _file(self) -> Path:
        configured = os.environ.get(KEY_FILE_VARIABLE, "").strip()
        if configured:
            return Path(configured).expanduser()
        if self.key_file is None:
            raise StoreError(f"no secret key: set ${KEY_VARIABLE} or ${KEY_FILE_VARIABLE}")
        return self.key_file

    def _fernet(self, create: bool) -> MultiFernet:
        with self._lock:
            if self._keys is None:
                configured = os.environ.get(KEY_VARIABLE, "").strip()
                if configured:
                    self._origin = f"${KEY_VARIABLE}"
                    self._keys = parse_keys(configured, self._origin)
                else:
                    path = self._file()
                    self._origin = str(path)
                    if path.exists() or not create:
                        self._keys = read_key_file(path)
                    else:
                        self._keys = create_key_file(path)
            return MultiFernet([Fernet(key.encode("ascii")) for key in self._keys])

    def encrypt(self, clear: str) -> str:
        """A Fernet token of ``clear`` under the first key (creates the default key file)."""
        return self._fernet(create=True).encrypt(clear.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet(create=False).decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as error:
            raise StoreError(
                f"no key in {self.source()} decrypts a stored secret (was its key removed "
                "before `chainwatch watch rotate-secrets` ran?)"
            ) from error

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted under the first key."""
        try:
            return self._fernet(create=False).rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as error:
            raise StoreError(f"no key in {self.source()} decrypts a stored secret") from error
