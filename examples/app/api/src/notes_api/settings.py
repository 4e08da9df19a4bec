"""Settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# SQS long polling waits at most 20 s (WaitTimeSeconds).
POLL_MAX_S = 20.0


class SettingsError(Exception):
    """A required setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: URL
    release_id: str = "unknown"
    git_sha: str = "unknown"
    log_level: str = "info"
    # The background jobs: SQS when a queue URL is set, else the PostgreSQL table queue.
    job_queue_url: str | None = None
    job_max_attempts: int = 3
    job_poll_seconds: float = 10.0
    job_visibility_seconds: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=database_url_from_env(env),
            release_id=env.get("RELEASE_ID") or "unknown",
            git_sha=env.get("GIT_SHA") or "unknown",
            log_level=log_level_from_env(env),
            job_queue_url=queue_url_from_env(env),
            job_max_attempts=int(number_from_env(env, "JOB_MAX_ATTEMPTS", 3, 1, 100, whole=True)),
            job_poll_seconds=number_from_env(env, "JOB_POLL_SECONDS", 10, 0, POLL_MAX_S),
            job_visibility_seconds=number_from_env(
                env, "JOB_VISIBILITY_SECONDS", 30, 0.1, 12 * 3600
            ),
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


def queue_url_from_env(env: Mapping[str, str]) -> str | None:
    raw = (env.get("JOB_QUEUE_URL") or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.count("/") != 2:
        raise SettingsError(
            "JOB_QUEUE_URL must be an SQS queue URL such as"
            f" https://sqs.us-east-1.amazonaws.com/123456789012/notes-jobs, not {raw!r}"
        )
    return raw


def log_level_from_env(env: Mapping[str, str]) -> str:
    level = (env.get("LOG_LEVEL") or "info").strip().lower()
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    return level


def number_from_env(
    env: Mapping[str, str],
    name: str,
    default: float,
    low: float,
    high: float,
    *,
    whole: bool = False,
) -> float:
    """A number between low and high (inclusive) from the variable `name`, else the default."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return float(default)
    kind = "a whole number" if whole else "a number"
    try:
        value = float(int(raw)) if whole else float(raw)
    except ValueError:
        raise SettingsError(
            f"{name} must be {kind} from {low:g} to {high:g}, not {raw!r}"
        ) from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be {kind} from {low:g} to {high:g}, not {raw!r}")
    return value
