"""The chat channels: which DingTalk / WeCom groups receive which notices, through which apps a
person is reached on DingTalk or WeCom, and when nothing is pushed.

Read from ``config/channels.yaml`` and validated like a plan file (``file:line: field: problem``).
A webhook URL is a credential (anyone holding a DingTalk access_token or a WeCom key can post
to the group), and so is the DingTalk 加签 secret: both are ``SecretStr``, so neither appears in
a repr, a log line or an error message.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.yaml_source import line_of, read_yaml_file

CHANNELS_FILE = Path(__file__).resolve().parent / "channels.yaml"

Kind = Literal["dingtalk", "wecom"]
Role = Literal["office", "owner", "leader", "admin"]  # models.tables.person.Role
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(Strict):
    """防打扰: local times between which nothing is pushed; ``start > end`` spans midnight."""

    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if isinstance(value, time):
            return value
        found = CLOCK.fullmatch(str(value).strip())
        if not found or int(found[1]) > 23 or int(found[2]) > 59:
            raise ValueError(f"expected a time of day HH:MM from 00:00 to 23:59, got {value!r}")
        return time(int(found[1]), int(found[2]))

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are the same: say which hours are quiet, "
                             "or remove quiet_hours")
        return self


class WebhookTarget(Strict):
    """One group robot, and the notices its group receives (by unit, or by addressee's role)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]  # the outbox's address
    kind: Kind
    url: SecretStr
    secret: SecretStr | None = None  # DingTalk 加签 (SEC…); WeCom robots have none
    units: list[Annotated[str, Field(min_length=1)]] = []
    roles: list[Role] = []

    @field_validator("url")
    @classmethod
    def _https(cls, value: SecretStr) -> SecretStr:
        _https_or_loopback(value.get_secret_value())
        return value

    @field_validator("secret")
    @classmethod
    def _dingtalk_only(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and info.data.get("kind", "dingtalk") != "dingtalk":
            raise ValueError("secret is DingTalk's 加签 key; a WeCom robot has none")
        return value

    @model_validator(mode="after")
    def _reaches_someone(self) -> WebhookTarget:
        if not self.units and not self.roles:
            raise ValueError("give units or roles (or both): otherwise the group receives nothing")
        return self

    @property
    def redacted_url(self) -> str:
        """Scheme, host and path, without the token: safe to show to the office."""
        parts = urlsplit(self.url.get_secret_value())
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def _https_or_loopback(url: str) -> str:
    """https only: the URL carries the token. http is allowed to loopback, for tests."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if (parts.scheme == "https" and host) or (parts.scheme == "http" and host in LOOPBACK):
        return url.strip().rstrip("/")
    raise ValueError("must be an https:// URL (http:// only to 127.0.0.1 or localhost)")


class PersonApp(Strict):
    """An app of the organisation that sends its messages to one person."""

    agent_id: int
    base_url: str

    @field_validator("base_url")
    @classmethod
    def _https(cls, value: str) -> str:
        return _https_or_loopback(value)

    def token_request(self) -> tuple[str, dict[str, str]]:
        """The path and query that get this app an access token (its id first)."""
        raise NotImplementedError


class DingTalkApp(PersonApp):
    """A DingTalk 企业内部应用 whose 工作通知 reach a person (AppKey/AppSecret, AgentId)."""

    app_key: Annotated[str, Field(min_length=1, max_length=100)]
    app_secret: SecretStr
    base_url: str = "https://oapi.dingtalk.com"

    def token_request(self) -> tuple[str, dict[str, str]]:
        return "/gettoken", {"appkey": self.app_key,
                             "appsecret": self.app_secret.get_secret_value()}


class WeComApp(PersonApp):
    """A WeCom 自建应用 whose 应用消息 reach a person (corpid, the app's Secret, AgentId)."""

    corp_id: Annotated[str, Field(min_length=1, max_length=100)]
    corp_secret: SecretStr
    base_url: str = "https://qyapi.weixin.qq.com"

    def token_request(self) -> tuple[str, dict[str, str]]:
        return "/cgi-bin/gettoken", {"corpid": self.corp_id,
                                     "corpsecret": self.corp_secret.get_secret_value()}


class Apps(Strict):
    """The apps through which a person is reached on DingTalk or WeCom (people choose one)."""

    dingtalk: DingTalkApp | None = None
    wecom: WeComApp | None = None


class Channels(Strict):
    quiet_hours: QuietHours | None = None  # None: posts go out at any hour
    webhooks: list[WebhookTarget] = []
    apps: Apps = Apps()

    @field_validator("webhooks", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        """``webhooks:`` with every entry commented out reads as null: no groups, not an error."""
        return [] if value is None else value

    @model_validator(mode="after")
    def _unique_names(self) -> Channels:
        names = [target.name for target in self.webhooks]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"webhook names must be unique (the outbox addresses them by "
                             f"name): {', '.join(repeated)}")
        return self

    def targets_for(self, *, unit_code: str | None, role: str) -> list[WebhookTarget]:
        """The groups that receive a notice about ``unit_code``'s item addressed to ``role``."""
        return [target for target in self.webhooks
                if (unit_code is not None and unit_code in target.units)
                or role in target.roles]


class ChannelsInvalid(ValueError):
    pass


def load_channels(path: Path = CHANNELS_FILE) -> Channels:
    document = read_yaml_file(path, ChannelsInvalid)
    if document is None:
        return Channels()
    if not isinstance(document, dict):
        raise ChannelsInvalid(f"{path}:1: expected a mapping with quiet_hours and webhooks")
    try:
        return Channels.model_validate(document)
    except ValidationError as exc:
        raise ChannelsInvalid(_first_problem(path, document, exc)) from None


def _first_problem(path: Path, document: Any, exc: ValidationError) -> str:
    """``file:line: field: problem`` for the first error; never the rejected value itself."""
    error = exc.errors(include_url=False, include_input=False)[0]
    loc = tuple(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (check its spelling)"
    field = _dotted(loc)
    return f"{path}:{line_of(document, loc)}: {field + ': ' if field else ''}{message}"


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else str(step)
    return text
