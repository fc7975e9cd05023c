"""Where rollout flags come from: AppConfig (deployed) or a JSON file (local), same schema."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.feature_flags import AppConfigStore
from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider
from aws_lambda_powertools.utilities.feature_flags.exceptions import ConfigurationStoreError


class FileFlagStore(StoreProvider):
    """Re-read when the file changes, at most every ``max_age`` seconds (like AppConfig's cache)."""

    def __init__(self, path: str | Path, max_age: float = 5.0) -> None:
        self._path = Path(path)
        self._max_age = max_age
        self._checked = 0.0
        self._mtime = -1.0
        self._data: dict[str, Any] = {}

    @property
    def get_raw_configuration(self) -> dict[str, Any]:
        now = time.monotonic()
        if now - self._checked >= self._max_age:
            self._checked = now
            try:
                mtime = self._path.stat().st_mtime
                if mtime != self._mtime:
                    self._data = json.loads(self._path.read_text(encoding="utf-8"))
                    self._mtime = mtime
            except (OSError, ValueError) as exc:
                raise ConfigurationStoreError(f"cannot read rollout flags {self._path}: {exc}") from exc
        return self._data

    def get_configuration(self) -> dict[str, Any]:
        return self.get_raw_configuration


def appconfig_store(application: str, environment: str, profile: str, max_age: int) -> StoreProvider:
    return AppConfigStore(environment=environment, application=application, name=profile, max_age=max_age)
