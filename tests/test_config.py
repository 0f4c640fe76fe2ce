"""Configuration: the secret key, database URLs, and the rate-limit store."""

from flask import Flask

from app.config import instance_secret_key, load_config, normalise_database_url


def test_secret_key_is_generated_into_the_instance_folder_once(tmp_path):
    first = instance_secret_key(tmp_path)
    assert len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert instance_secret_key(tmp_path) == first


def test_app_without_secret_key_uses_the_instance_one(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    app = Flask("probe", instance_path=str(tmp_path))
    load_config(app)
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'x.sqlite'}"


def test_environment_overrides_and_redis_becomes_the_rate_limit_store(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/linli")
    monkeypatch.setenv("LINLI_HTTPS", "1")
    app = Flask("probe", instance_path=str(tmp_path))
    load_config(app)
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/linli"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = Flask("probe", instance_path=str(tmp_path))
    load_config(app)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'linli.sqlite'}"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_postgres_urls_get_the_psycopg_driver():
    assert normalise_database_url("postgresql://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"
