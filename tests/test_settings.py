"""Settings: environment over config file over defaults; a bad value is named, never run with."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import REPOSITORY, SettingsError, config_file, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("DATABASE_URL", "DATA_DIR", "TIMEZONE", "SMTP_HOST", "SMTP_PORT"):
        monkeypatch.delenv(f"DUBAN_{name}", raising=False)
    config = tmp_path / "duban.toml"
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    return config


def test_the_embedded_default_is_sqlite_in_the_data_directory(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path / "d"))
    settings = load_settings()
    assert settings.database == f"sqlite:///{tmp_path / 'd' / 'duban.db'}"
    assert (settings.timezone, settings.locale) == ("Asia/Shanghai", "zh-CN")
    assert settings.smtp_host == ""


def test_the_environment_overrides_the_config_file(clean_environment: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment.write_text('smtp_host = "mail.example.gov.cn"\nsmtp_port = 465\n'
                                 'database_url = "postgresql://db.example/duban"\n')
    monkeypatch.setenv("DUBAN_SMTP_PORT", "2525")
    settings = load_settings()
    assert (settings.smtp_host, settings.smtp_port) == ("mail.example.gov.cn", 2525)
    assert settings.database == "postgresql+psycopg://db.example/duban"


@pytest.mark.parametrize(("file_text", "environment", "message"), [
    ("", {"DUBAN_SMTP_PORT": "x"}, "DUBAN_SMTP_PORT / smtp_port in {config}: Input should be a "
     "valid integer"),
    ('timezone = "Beijing"\n', {}, "DUBAN_TIMEZONE / timezone in {config}: unknown time zone"),
    ('database_url = "mysql://x/y"\n', {}, "unsupported database 'mysql'"),
    ('smtp_hots = "x"\n', {}, "DUBAN_SMTP_HOTS / smtp_hots in {config}: unknown setting"),
    ('smtp_username = "duban"\n', {}, "smtp_username and smtp_password must be given together"),
    ('mail_from = "not an address"\n', {}, "DUBAN_MAIL_FROM / mail_from"),
])
def test_a_bad_value_names_the_setting(clean_environment: Path, monkeypatch: pytest.MonkeyPatch,
                                       file_text: str, environment: dict[str, str],
                                       message: str) -> None:
    clean_environment.write_text(file_text)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert message.format(config=clean_environment) in str(error.value)


def test_the_data_directory_does_not_depend_on_where_duban_is_run(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_settings().data_dir == REPOSITORY / "data"  # not ./data
    clean_environment.write_text('data_dir = "store"\n')
    assert load_settings().data_dir == clean_environment.parent / "store"  # beside the file
    monkeypatch.setenv("DUBAN_DATA_DIR", "here")
    assert load_settings().data_dir == elsewhere / "here"  # as the shell it was typed in
    assert not (elsewhere / "here").exists() and not (elsewhere / "data").exists()


def test_the_config_file_is_found_at_the_repository_root(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.delenv("DUBAN_CONFIG")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "duban.toml").write_text('timezone = "Beijing"\n')  # not read from here
    assert config_file() == REPOSITORY / "duban.toml"
    load_settings()  # no "unknown time zone 'Beijing'"


def test_outside_a_checkout_the_data_directory_must_be_set(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("config.settings.REPOSITORY", tmp_path / "site-packages")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert f"DUBAN_DATA_DIR / data_dir in {clean_environment}: not set" in str(error.value)
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path / "srv"))
    assert load_settings().data_dir == tmp_path / "srv"
