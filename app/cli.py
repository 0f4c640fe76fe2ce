"""Command-line tasks: `flask init-db`, `flask create-admin`, `flask seed-demo`, ..."""

from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext
from flask_migrate import upgrade

from .database import write_transaction
from .extensions import db
from .i18n import message
from .models import Role
from .rules import MoneyError, RuleError, format_money, parse_money, parse_rule
from .services import accounts, demo
from .services.backup import (
    BackupError,
    backup_sqlite,
    default_target,
    pg_dump_command,
    restore_sqlite,
    sqlite_path,
)
from .services.errors import AccountError


def init_app(app):
    for command in (init_db, create_admin, seed_demo, demo_logins, rule_quote, backup, restore):
        app.cli.add_command(command)


@click.command("init-db")
def init_db():
    """Create or upgrade the database schema to the newest migration."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo(f"数据库已就绪: {_safe_url()}")


def _safe_url() -> str:
    return db.engine.url.render_as_string(hide_password=True)


@click.command("create-admin")
@click.option("--username", prompt="用户名 (user name)")
@click.option("--name", default="区管理员", show_default=True, help="Display name.")
@click.option("--phone", default="", help="Mobile phone, optional; can be used to log in.")
@click.password_option("--password", prompt="密码 (password)")
def create_admin(username, name, phone, password):
    """Create a district admin, who creates communities and their staff."""
    try:
        with write_transaction(db.session):
            accounts.create_user(
                db.session,
                None,
                role=Role.DISTRICT_ADMIN,
                name=name,
                username=username,
                phone=phone or None,
                password=password,
            )
    except AccountError as error:
        raise click.ClickException(gettext(error.message)) from error
    click.echo(f"已创建区管理员 {username}")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has communities.")
def seed_demo(if_empty):
    """Fill the database with the 紫荆花社区 / 江博社区 demo and print its logins."""
    if demo.has_demo(db.session):
        click.echo("演示数据已存在 (demo already seeded).")
        _print_logins(demo.DEMO_LOGINS)
        return
    if if_empty and demo.demo_counts(db.session)["communities"]:
        click.echo("数据库已有数据，跳过演示数据 (database not empty, demo skipped).")
        return
    with write_transaction(db.session):
        logins = demo.seed_demo(db.session)
    counts = demo.demo_counts(db.session)
    click.echo(
        "已写入演示数据: {communities} 个社区, {merchants} 家商户, {cards} 张卡券, "
        "{redemptions} 笔核销.".format(**counts)
    )
    _print_logins(logins)


@click.command("demo-logins")
def demo_logins():
    """Print the demo's logins."""
    _print_logins(demo.DEMO_LOGINS)


def _print_logins(logins):
    click.echo("\n演示账号 (demo logins):")
    width = max(len(login.login) for login in logins)
    for login in logins:
        click.echo(f"  {login.login.ljust(width)}  密码 {login.password}   {login.who}")


@click.command("rule-quote")
@click.argument("rule_text")
@click.argument("bill")
def rule_quote(rule_text, bill):
    """Show what RULE_TEXT takes off a bill of BILL yuan, e.g. `"8折,最高减20" 188.00`."""
    try:
        rule = parse_rule(rule_text)
        bill_fen = parse_money(bill)
    except (RuleError, MoneyError) as error:
        raise click.ClickException(message(error)) from error
    quote = rule.quote(bill_fen)
    click.echo(f"规则: {rule.render()}")
    click.echo(f"账单: ¥{format_money(quote.bill_fen)}")
    click.echo(f"优惠: ¥{format_money(quote.discount_fen)}")
    click.echo(f"实付: ¥{format_money(quote.pay_fen)}")


@click.command("backup")
@click.argument("target", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup(target):
    """Write a consistent copy of the SQLite database (or print the pg_dump command)."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        database = sqlite_path(url)
        if database is None:
            click.echo("PostgreSQL 请用 pg_dump 备份（在数据库主机上，或带上 PGPASSWORD）：")
            click.echo("  " + pg_dump_command(url))
            click.echo("恢复：pg_restore --clean --if-exists --dbname=<数据库> <文件>")
            return
        target = target or default_target(Path(current_app.instance_path) / "backups")
        written = backup_sqlite(database, target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已备份到 {written} ({written.stat().st_size // 1024} KB)")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask; the site must be stopped.")
def restore(source, yes):
    """Put a backup made by `flask backup` in place of the SQLite database."""
    database = sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if database is None:
        raise click.ClickException("PostgreSQL 请用 pg_restore 恢复")
    if not yes:
        click.confirm(f"用 {source} 覆盖 {database}？请先停止网站。", abort=True)
    db.engine.dispose()  # no pooled connection may hold the old file open
    try:
        restore_sqlite(source, database)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已从 {source} 恢复")
