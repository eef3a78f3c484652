"""Settings: the only reader of the environment (and of an optional ``.env``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from domain.model.desk import DeskSettings

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///tripdesk.db"
OFFICIAL_API_URL = "https://api.telegram.org"
_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class ConfigError(Exception):
    """One clear line naming the variable at fault."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str = OFFICIAL_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    operator_chat_id: int | None = None
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    default_locale: str = "en"
    log_level: str = "INFO"
    payment_provider_token: SecretStr | None = None
    scheduler_interval_s: float = Field(default=1.0, gt=0)
    # how often a process checks whether the catalog changed (bot/storage/catalog_cache.py); 0: on every read
    catalog_refresh_seconds: float = Field(default=1.0, ge=0)
    question_answer_within: timedelta = timedelta(minutes=15)  # an unanswered question becomes a desk problem
    problem_reraise_after: timedelta = timedelta(minutes=30)  # an unhandled problem card is raised once more
    desk_timezone: str | None = None  # the operators' clock (an IANA zone); None: the first region's
    # running for real (README "Running in production"): a webhook instead of long polling, health and metrics, logs
    webhook_url: str | None = None  # the public https URL Telegram posts updates to; set: webhook mode
    webhook_secret: SecretStr | None = None  # required with WEBHOOK_URL, 16+ characters
    webhook_listen: str = "0.0.0.0:8080"  # the local host:port the webhook app listens on
    metrics_listen: str | None = None  # polling mode: host:port for /healthz, /readyz and /metrics (default off)
    log_format: str = "text"  # text (readable) or json (one object a line, with the update, chat and order)

    @field_validator("desk_timezone", mode="before")
    @classmethod
    def _zone(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # blank is unset: the first region's zone
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(value).strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a time zone such as Europe/Tallinn") from None
        return str(value).strip()

    @field_validator(
        "bot_token",
        "payment_provider_token",
        "redis_url",
        "operator_chat_id",
        "webhook_url",
        "webhook_secret",
        "metrics_listen",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN.match(value.get_secret_value().strip()):
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        # Telegram posts to https only; plain http is for a local Bot API (the sandbox) on this machine
        if not re.match(r"^(https://[^\s/]+|http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$))", value):
            raise ValueError("must be the public https URL Telegram posts to, such as https://bot.example.com/tg")
        return value

    @field_validator("webhook_listen", "metrics_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, _, port = value.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, such as 0.0.0.0:8080")
        return value.strip()

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("text", "json"):
            raise ValueError("must be text or json")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value.strip())
        except ArgumentError:
            raise ValueError("is not a database URL such as sqlite+aiosqlite:///tripdesk.db") from None
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError("must use sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value.strip()

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
            if not all(re.fullmatch(r"-?\d+", p) for p in parts):
                raise ValueError("must be Telegram user ids separated by commas, e.g. 12345,67890")
            return tuple(int(p) for p in parts)
        return value

    @field_validator("question_answer_within", "problem_reraise_after", mode="before")
    @classmethod
    def _duration(cls, value: object, info: ValidationInfo) -> object:
        from domain.rules.durations import parse_duration

        if isinstance(value, str) and not value.strip():
            assert info.field_name is not None  # a field validator always knows its field
            return cls.model_fields[info.field_name].default  # blank is unset: the documented default
        if isinstance(value, str):
            value = parse_duration(value)  # its ValueError names the expected form: 90s, 10m, 2h or 1d
        if isinstance(value, timedelta) and value <= timedelta(0):
            raise ValueError("must be a positive duration like 15m")
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        from bot.i18n import available_languages

        value = value.strip().lower()
        if value not in available_languages():
            raise ValueError(f"must be one of {', '.join(available_languages())}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in _LEVELS:
            raise ValueError(f"must be one of {', '.join(_LEVELS)}")
        return value

    @property
    def desk(self) -> DeskSettings:
        """What the operator desk's use cases need to know of the configuration."""
        from domain.model.desk import DeskSettings

        return DeskSettings(chat_id=self.operator_chat_id, reraise_after=self.problem_reraise_after)

    @property
    def payments_enabled(self) -> bool:
        return self.payment_provider_token is not None

    @property
    def webhook_path(self) -> str:
        """The path of ``WEBHOOK_URL`` (``/`` when it has none): where the webhook app takes Telegram's posts."""
        from urllib.parse import urlsplit

        return urlsplit(self.webhook_url or "").path or "/"

    def require_webhook_secret(self) -> str:
        """Webhook mode's secret; missing or too short: :class:`ConfigError` naming it."""
        secret = self.webhook_secret.get_secret_value().strip() if self.webhook_secret else ""
        if not secret:
            raise ConfigError("WEBHOOK_SECRET: required with WEBHOOK_URL (16-256 characters: A-Z, a-z, 0-9, _ and -)")
        if not 16 <= len(secret) <= 256 or not re.fullmatch(r"[A-Za-z0-9_-]+", secret):
            raise ConfigError("WEBHOOK_SECRET: must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return secret

    def require_token(self) -> str:
        if self.bot_token is None:
            raise ConfigError("BOT_TOKEN: not set; get one from @BotFather and put it in the environment or .env")
        return self.bot_token.get_secret_value().strip()


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a missing or malformed value raises :class:`ConfigError` naming it."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None
