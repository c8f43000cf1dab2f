"""Keyring backends for tests, loaded in subprocesses through PYTHON_KEYRING_BACKEND.

None of them touches a real OS keyring. `SecureFileKeyring` plays a real, trusted
keyring (priority 5) by keeping entries in the JSON file named by
JARVIS_TEST_KEYRING_FILE; the others are backends jarvis must refuse or survive.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class _JsonFileKeyring(KeyringBackend):
    def _path(self) -> Path:
        return Path(os.environ["JARVIS_TEST_KEYRING_FILE"])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}
        return data

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        tmp = self._path().with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self._path())

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._path().write_text(json.dumps(data))


class SecureFileKeyring(_JsonFileKeyring):
    """Stands in for a real OS keyring."""

    priority = 5  # type: ignore[assignment]


class PlaintextKeyring(_JsonFileKeyring):
    """Like keyrings.alt's plaintext backend: keyring itself does not recommend it."""

    priority = 0.5  # type: ignore[assignment]


class AltLookalikeKeyring(_JsonFileKeyring):
    """Claims a high priority but comes from keyrings.alt: refused by origin."""

    priority = 5  # type: ignore[assignment]


AltLookalikeKeyring.__module__ = "keyrings.alt.file"


class HangingKeyring(KeyringBackend):
    """A keyring whose daemon never answers (a hung D-Bus)."""

    priority = 5  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(60)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(60)

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(60)
