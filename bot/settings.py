"""Settings read from the environment, once, at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

CONTENT_PACKAGE = "bot.content.data"  # the top-level content/ folder, as shipped in the package


def default_content_dir() -> Path:
    """The content that ships with the package (in a checkout: the repository's content/)."""
    return Path(str(resources.files(CONTENT_PACKAGE)))


DEFAULT_CONTENT_DIR = default_content_dir()


class ConfigError(Exception):
    """A setting is missing or unusable; the message names it."""


_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off", ""})


def _flag(env, name: str) -> bool:
    """A true/false setting (false when unset)."""
    value = (env.get(name) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {env[name]!r}")


DEFAULT_INCIDENT_RETENTION_DAYS = 3 * 365 + 1  # three years, a leap day included
RETENTION_ENV = "BOT_INCIDENT_RETENTION_DAYS"


def incident_retention_days(environ: dict[str, str] | None = None) -> int:
    """How long incident records are kept after the report (BOT_INCIDENT_RETENTION_DAYS)."""
    env = os.environ if environ is None else environ
    raw = (env.get(RETENTION_ENV) or "").strip()
    if not raw:
        return DEFAULT_INCIDENT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(f"{RETENTION_ENV} must be a whole number of days, not {raw!r}") from None
    if days < 1:
        raise ConfigError(f"{RETENTION_ENV} must be at least 1 day, not {days}")
    return days


RENDER_PROCESSES_ENV = "BOT_RENDER_PROCESSES"


def render_processes(env) -> int:
    """BOT_RENDER_PROCESSES: how many processes `bot serve` draws charts, certificates and PDFs in
    (0: threads of the server process). Unset: one where there is a second core, else none."""
    raw = (env.get(RENDER_PROCESSES_ENV) or "").strip()
    if not raw:
        return 1 if (os.cpu_count() or 1) > 1 else 0
    try:
        processes = int(raw)
    except ValueError:
        raise ConfigError(f"{RENDER_PROCESSES_ENV} must be a whole number, not {raw!r}") from None
    if not 0 <= processes <= 16:
        raise ConfigError(f"{RENDER_PROCESSES_ENV} must be between 0 and 16, not {processes}")
    return processes


DEFAULT_WORKING_HOURS = "09:00-18:00"
WORKING_HOURS_ENV = "BOT_WORKING_HOURS"
DEFAULT_RENEW_MONTHS = 6
RENEW_MONTHS_ENV = "BOT_SELFCHECK_RENEW_MONTHS"


def working_hours(environ: dict[str, str] | None = None) -> tuple[int, int]:
    """When reminders may be sent on a working day (BOT_WORKING_HOURS, "HH:MM-HH:MM", JST), as
    minutes after midnight."""
    env = os.environ if environ is None else environ
    raw = (env.get(WORKING_HOURS_ENV) or "").strip() or DEFAULT_WORKING_HOURS
    try:
        start, end = (int(h) * 60 + int(m) for h, m in (part.strip().split(":") for part in raw.split("-")))
    except ValueError:
        raise ConfigError(f"{WORKING_HOURS_ENV} must look like 09:00-18:00, not {raw!r}") from None
    if not 0 <= start < end <= 24 * 60:
        raise ConfigError(f"{WORKING_HOURS_ENV}: the start must come before the end, within a day: {raw!r}")
    return start, end


def selfcheck_renew_months(environ: dict[str, str] | None = None) -> int:
    """After how many months since their last self-check people are asked to do it again."""
    env = os.environ if environ is None else environ
    raw = (env.get(RENEW_MONTHS_ENV) or "").strip()
    if not raw:
        return DEFAULT_RENEW_MONTHS
    if not raw.isdigit() or not 1 <= int(raw) <= 120:
        raise ConfigError(f"{RENEW_MONTHS_ENV} must be a whole number of months (1-120), not {raw!r}")
    return int(raw)


CLUSTER_NEEDS_URL = ("REDIS_CLUSTER=true needs REDIS_URL naming a node of the cluster "
                     "(the embedded Redis server is a single node)")


@dataclass(frozen=True)
class Settings:
    redis_url: str | None
    data_dir: Path
    content_dir: Path
    key_prefix: str = "bot"
    secret: bytes | None = None  # BOT_SECRET: signs certificates
    public_url: str | None = None  # PUBLIC_URL: where `bot serve` is reached (certificate links, LINE images)
    redis_cluster: bool = False  # REDIS_CLUSTER: REDIS_URL names a node of a Redis Cluster
    access_log: bool = False  # BOT_ACCESS_LOG: log every HTTP request (off: the proxy in front logs them)
    incident_retention_days: int = DEFAULT_INCIDENT_RETENTION_DAYS  # BOT_INCIDENT_RETENTION_DAYS
    reminders: bool = True  # BOT_REMINDERS: `bot serve` sends reminders (false: this process does not)
    working_hours: tuple[int, int] = (9 * 60, 18 * 60)  # BOT_WORKING_HOURS, minutes after midnight (JST)
    selfcheck_renew_months: int = DEFAULT_RENEW_MONTHS  # BOT_SELFCHECK_RENEW_MONTHS
    render_processes: int = 0  # BOT_RENDER_PROCESSES: `bot serve` draws images in this many processes

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("BOT_DATA_DIR") or platformdirs.user_data_dir("security-desk-bot"))
        content_dir = Path(env.get("BOT_CONTENT_DIR") or DEFAULT_CONTENT_DIR)
        if not content_dir.is_dir():
            raise ConfigError(f"BOT_CONTENT_DIR: {content_dir} is not a directory")
        secret = env.get("BOT_SECRET") or None
        if secret is not None and len(secret) < 16:
            raise ConfigError("BOT_SECRET is too short: use at least 16 characters")
        redis_cluster = _flag(env, "REDIS_CLUSTER")
        if redis_cluster and not env.get("REDIS_URL"):
            raise ConfigError(CLUSTER_NEEDS_URL)
        return cls(
            redis_url=env.get("REDIS_URL") or None,
            data_dir=data_dir,
            content_dir=content_dir,
            key_prefix=env.get("BOT_KEY_PREFIX") or "bot",
            secret=secret.encode() if secret else None,
            public_url=(env.get("PUBLIC_URL") or "").rstrip("/") or None,
            redis_cluster=redis_cluster,
            access_log=_flag(env, "BOT_ACCESS_LOG"),
            incident_retention_days=incident_retention_days(env),
            reminders=_flag(env, "BOT_REMINDERS") if (env.get("BOT_REMINDERS") or "").strip() else True,
            working_hours=working_hours(env),
            selfcheck_renew_months=selfcheck_renew_months(env),
            render_processes=render_processes(env),
        )


@dataclass(frozen=True)
class SlackSettings:
    signing_secret: str
    bot_token: str | None  # one workspace
    client_id: str | None  # or OAuth installs into many workspaces
    client_secret: str | None
    api_url: str | None
    slash_command: str = "/security"

    @property
    def uses_oauth(self) -> bool:
        return self.client_id is not None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "SlackSettings | None":
        """None when Slack is not configured at all; ConfigError when it is half-configured."""
        env = os.environ if environ is None else environ
        get = lambda name: env.get(name) or None  # noqa: E731
        names = ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
        if not any(get(n) for n in names):
            return None
        missing = []
        if not get("SLACK_SIGNING_SECRET"):
            missing.append("SLACK_SIGNING_SECRET")
        token, client_id, client_secret = get("SLACK_BOT_TOKEN"), get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
        if token and (client_id or client_secret):
            raise ConfigError("Slack: set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                              "SLACK_CLIENT_SECRET (OAuth installs), not both")
        if not token:
            if not client_id and not client_secret:
                missing.append("SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)")
            elif not client_id:
                missing.append("SLACK_CLIENT_ID")
            elif not client_secret:
                missing.append("SLACK_CLIENT_SECRET")
        if missing:
            raise ConfigError(f"Slack is half-configured: missing {', '.join(missing)}")
        command = get("SLACK_SLASH_COMMAND") or "/security"
        if not command.startswith("/"):
            raise ConfigError(f"SLACK_SLASH_COMMAND must start with '/': {command!r}")
        return cls(
            signing_secret=env["SLACK_SIGNING_SECRET"],
            bot_token=token,
            client_id=client_id,
            client_secret=client_secret,
            api_url=get("SLACK_API_URL"),
            slash_command=command,
        )


@dataclass(frozen=True)
class LineSettings:
    channel_secret: str
    access_token: str
    public_url: str  # HTTPS base URL where LINE fetches images from `bot serve`
    api_url: str | None  # overrides both api.line.me and api-data.line.me (tests)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "LineSettings | None":
        """None when LINE is not configured at all; ConfigError when it is half-configured."""
        env = os.environ if environ is None else environ
        secret, token = env.get("LINE_CHANNEL_SECRET") or None, env.get("LINE_CHANNEL_ACCESS_TOKEN") or None
        if not secret and not token:
            return None
        missing = [name for name, value in (("LINE_CHANNEL_SECRET", secret), ("LINE_CHANNEL_ACCESS_TOKEN", token))
                   if not value]
        public_url = env.get("PUBLIC_URL") or ""
        if not public_url:
            missing.append("PUBLIC_URL (LINE loads images from it)")
        if missing:
            raise ConfigError(f"LINE is half-configured: missing {', '.join(missing)}")
        if not public_url.startswith("https://"):
            raise ConfigError(f"PUBLIC_URL must be an https:// URL for LINE images, not {public_url!r}")
        return cls(channel_secret=secret, access_token=token, public_url=public_url.rstrip("/"),
                   api_url=(env.get("LINE_API_URL") or None))
