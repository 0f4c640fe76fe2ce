"""`flask backup` and `flask restore`: a consistent copy that round-trips a seeded database."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import AuditLog, Card, Community, Redemption
from app.services.backup import BackupError, pg_dump_command, restore_sqlite

from .conftest import PG_URL

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite's online backup")


def counts(db):
    db.session.rollback()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Community, Card, Redemption, AuditLog)
    )


@sqlite_only
@pytest.mark.demo
def test_backup_then_restore_brings_back_a_seeded_database(app, db, tmp_path):
    runner = app.test_cli_runner()
    seeded = counts(db)
    target = tmp_path / "copy.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "已备份" in result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("select count(*) from card").fetchone()[0] == seeded[1]
    # life goes on after the backup
    from . import factories

    factories.community("七里庙社区", slug="qilimiao")
    assert counts(db)[0] == seeded[0] + 1
    db.session.remove()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert counts(db) == seeded


@sqlite_only
def test_backup_refuses_to_overwrite_and_restore_refuses_a_stranger_file(app, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "copy.sqlite"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "不会覆盖" in again.output
    stranger = tmp_path / "notes.sqlite"
    with sqlite3.connect(stranger) as c:
        c.execute("create table notes (x)")
    refused = runner.invoke(args=["restore", str(stranger), "--yes"])
    assert refused.exit_code != 0 and "不是邻里的数据库" in refused.output
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="SQLite"):
        restore_sqlite(garbage, tmp_path / "live.sqlite")


@sqlite_only
def test_backup_without_a_name_goes_to_the_instance_backups_folder(app):
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    written = list((Path(app.instance_path) / "backups").glob("linli-*.sqlite"))
    assert len(written) == 1


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL")
def test_on_postgresql_backup_prints_the_pg_dump_command(app):
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0
    assert "pg_dump --format=custom" in result.output and "pg_restore" in result.output


def test_postgresql_backups_are_pg_dump_without_the_password():
    command = pg_dump_command("postgresql+psycopg://linli:s3cret@db.example:5433/linli")
    assert command.startswith("pg_dump --format=custom --file=linli-")
    assert "--host=db.example --port=5433 --username=linli linli" in command
    assert "s3cret" not in command
