"""Backups: a consistent online copy of the SQLite database, and putting one back.

SQLite's backup API copies the database page by page under its own locking, so the copy is
consistent even while the site keeps serving (a plain file copy of a WAL database can miss
pages that are still in the -wal file). For PostgreSQL, pg_dump does the same job; we print the
command rather than shelling out with credentials.
"""

import sqlite3
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from ..clock import LOCAL, utcnow


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in Chinese."""


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite URL, or None for another database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return Path(parsed.database)


def default_target(folder: Path) -> Path:
    stamp = utcnow().astimezone(LOCAL).strftime("%Y%m%d-%H%M%S")
    return folder / f"linli-{stamp}.sqlite"


def backup_sqlite(database: Path, target: Path) -> Path:
    """Copy the live database to `target` consistently; return the target."""
    if not database.exists():
        raise BackupError(f"找不到数据库文件 {database}")
    if target.exists():
        raise BackupError(f"{target} 已存在，不会覆盖")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(database)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        copy.close()
        source.close()
    _check(target)
    return target


def restore_sqlite(backup: Path, database: Path) -> None:
    """Put a backup back in place of the live database (stop the site first)."""
    if not backup.exists():
        raise BackupError(f"找不到备份文件 {backup}")
    _check(backup)
    source = sqlite3.connect(backup)
    live = sqlite3.connect(database, timeout=30)
    try:
        source.backup(live)
    finally:
        live.close()
        source.close()
    _check(database)


def _check(path: Path) -> None:
    """Refuse a file that is not an intact 邻里 database."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
            if c.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} 已损坏（integrity_check 未通过）")
            tables = {row[0] for row in c.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} 不是可用的 SQLite 数据库：{error}") from error
    if not {"alembic_version", "card", "redemption"} <= tables:
        raise BackupError(f"{path} 不是邻里的数据库")


def pg_dump_command(url: str, when: datetime | None = None) -> str:
    """Return the pg_dump command line that backs up a PostgreSQL database (no password in it)."""
    parsed = make_url(url)
    stamp = (when or utcnow()).astimezone(LOCAL).strftime("%Y%m%d-%H%M%S")
    parts = ["pg_dump", "--format=custom", f"--file=linli-{stamp}.dump"]
    if parsed.host:
        parts.append(f"--host={parsed.host}")
    if parsed.port:
        parts.append(f"--port={parsed.port}")
    if parsed.username:
        parts.append(f"--username={parsed.username}")
    parts.append(parsed.database or "")
    return " ".join(parts)
