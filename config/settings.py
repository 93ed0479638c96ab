"""Duban's settings: DUBAN_* environment variables over a TOML config file over defaults.

A bad value stops start-up with a message naming the setting, where it came from and what is
wrong; nothing runs on a half-valid configuration.

Where things are does not depend on the directory `duban` is run from (decided so that a
command run from another directory, a cron job or a service unit, reads the same data as
`./scripts/run`, and never leaves a stray ./data behind):
- the config file is the one named by DUBAN_CONFIG, else ``duban.toml`` at the repository root
  (the checkout this code is in);
- the data directory is DUBAN_DATA_DIR, else ``data_dir`` in the config file, else ``data`` at
  the repository root. A relative path in the config file is taken from the file's directory,
  one in the environment from the working directory, as a shell would. Installed outside a
  checkout there is no repository root: the data directory must then be set.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    Field,
    NameEmail,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from config.policy import POLICY_FILE

ENV_PREFIX = "DUBAN_"
REPOSITORY = Path(__file__).resolve().parent.parent  # the checkout, when Duban runs from one
PATH_SETTINGS = ("data_dir", "policy_file")  # in the config file: relative to the file


def config_file() -> Path:
    return Path(os.environ.get(f"{ENV_PREFIX}CONFIG", REPOSITORY / "duban.toml"))


def setting_name(name: str) -> str:
    """How a user sets ``name``: its environment variable and its key in the config file."""
    return f"{ENV_PREFIX}{name.upper()} / {name} in {config_file()}"


def repository_defaults() -> dict[str, Any]:
    """The defaults a checkout gives: its own data directory. Installed elsewhere, none."""
    if not (REPOSITORY / "pyproject.toml").is_file():
        return {}
    return {"data_dir": REPOSITORY / "data"}


class ConfigFileSource(TomlConfigSettingsSource):
    """The TOML config file, its relative paths taken from the file's own directory."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls, path)
        self.base = path.parent

    def __call__(self) -> dict[str, Any]:
        values = super().__call__()
        for name in PATH_SETTINGS:
            if isinstance(values.get(name), str):
                values[name] = self.base / Path(values[name]).expanduser()
        return values


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    # No default here: the repository's (repository_defaults) comes in as the last source.
    data_dir: Path = Field(description="where the SQLite file, mail and uploads live")
    database_url: str = Field("", description="SQLAlchemy URL; default: SQLite in data_dir")
    timezone: str = "Asia/Shanghai"
    locale: Literal["zh-CN", "en"] = "zh-CN"
    base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")
    smtp_host: str = Field("", description="empty: mail is written to data_dir/outbox as .eml")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = Field(30.0, gt=0, le=600)
    mail_from: NameEmail = NameEmail("项目督办办公室", "duban@localhost")
    as_of: date | None = Field(None, description="replay the engine at this day (YYYY-MM-DD)")
    policy_file: Path = Field(POLICY_FILE, description="the supervision policy (ladder, "
                              "windows, schedules); default: config/policy.yaml")
    secret_key: SecretStr = Field(SecretStr(""), description="signs sessions and email links; "
                                  "empty: a random key kept in data_dir/secret.key")
    office_name: str = Field("项目督办办公室", min_length=1, max_length=100,
                             pattern=r"^[^\r\n]+$")
    bulletin_issuer: str = Field("", max_length=100, pattern=r"^[^\r\n]*$",
                                 description="发文单位 printed on bulletins, e.g. 西湖区民政局"
                                 "督办办公室; empty: office_name")
    digest_item_cap: int = Field(50, ge=1, le=1000, description="items an escalation digest "
                                 "shows in full; the rest are counted and linked to the list")
    delivery_max_attempts: int = Field(8, ge=1, le=50)
    delivery_retry_base_seconds: float = Field(30.0, ge=0, le=3600)
    delivery_batch: int = Field(500, ge=1, le=10000)
    delivery_connections: int = Field(4, ge=1, le=10, description="SMTP connections one "
                                      "delivery loop sends over at once; a kill may send the "
                                      "message in flight on each a second time")
    web_host: str = Field("127.0.0.1", description="where `duban run` and `duban web` serve the "
                          "web app; 127.0.0.1: behind a reverse proxy on this machine")
    web_port: int = Field(8000, ge=1, le=65535)
    attachment_max_bytes: int = Field(20 * 1024 * 1024, ge=1, le=1024 * 1024 * 1024,
                                      description="largest evidence file accepted, in bytes")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, ConfigFileSource(settings_cls, config_file()),
                InitSettingsSource(settings_cls, repository_defaults()))

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected e.g. Asia/Shanghai)") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("is not a database URL (e.g. postgresql://host/db)") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {url.get_backend_name()!r}: "
                             "use sqlite or postgresql")
        if url.get_backend_name() == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)

    @model_validator(mode="after")
    def _smtp_login_complete(self) -> Settings:
        if bool(self.smtp_username) != bool(self.smtp_password.get_secret_value()):
            raise ValueError("smtp_username and smtp_password must be given together")
        return self

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'duban.db').resolve()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SettingsError(ValueError):
    """Raised instead of pydantic's error: one line per bad setting, named as the user sets it."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else ""
            where = (setting_name(name) if name
                     else f"settings ({ENV_PREFIX}* / {config_file()})")
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown setting"
            elif error["type"] == "missing" and name == "data_dir":
                message = ("not set: Duban runs outside its repository, so there is no default; "
                           "say where its data lives")
            elif name and "password" not in name and isinstance(error.get("input"), str):
                message += f" (got {error['input']!r})"
            lines.append(f"{where}: {message}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
