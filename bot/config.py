"""Settings read from the environment, once, at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content"


class ConfigError(Exception):
    """A setting is missing or unusable; the message names it."""


@dataclass(frozen=True)
class Settings:
    redis_url: str | None
    data_dir: Path
    content_dir: Path
    key_prefix: str = "bot"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("BOT_DATA_DIR") or platformdirs.user_data_dir("security-desk-bot"))
        content_dir = Path(env.get("BOT_CONTENT_DIR") or DEFAULT_CONTENT_DIR)
        if not content_dir.is_dir():
            raise ConfigError(f"BOT_CONTENT_DIR: {content_dir} is not a directory")
        return cls(
            redis_url=env.get("REDIS_URL") or None,
            data_dir=data_dir,
            content_dir=content_dir,
            key_prefix=env.get("BOT_KEY_PREFIX") or "bot",
        )
