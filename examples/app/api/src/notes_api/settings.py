"""Settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class SettingsError(Exception):
    """A required setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: URL
    release_id: str = "unknown"
    git_sha: str = "unknown"
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=database_url_from_env(env),
            release_id=env.get("RELEASE_ID") or "unknown",
            git_sha=env.get("GIT_SHA") or "unknown",
            log_level=log_level_from_env(env),
        )


def database_url_from_env(env: Mapping[str, str]) -> URL:
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        raise SettingsError(
            "DATABASE_URL is not set; set it to e.g. postgresql+psycopg://user:password@host:5432/db"
        )
    try:
        return make_url(raw)
    except ArgumentError:
        # The URL holds the password: never repeat it.
        raise SettingsError("DATABASE_URL is not a valid SQLAlchemy database URL") from None


def log_level_from_env(env: Mapping[str, str]) -> str:
    level = (env.get("LOG_LEVEL") or "info").strip().lower()
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    return level
