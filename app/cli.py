"""Command-line tasks: `flask init-db`, `flask create-admin`, `flask seed-demo`, ..."""

import click
from flask import current_app
from flask_babel import gettext
from flask_migrate import upgrade

from .extensions import db
from .models import Role
from .rules import RuleError, format_money, parse_money, parse_rule
from .services import accounts, demo
from .services.errors import AccountError


def init_app(app):
    for command in (init_db, create_admin, seed_demo, demo_logins, rule_quote):
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
        db.session.rollback()
        raise click.ClickException(gettext(error.message)) from error
    db.session.commit()
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
    logins = demo.seed_demo(db.session)
    db.session.commit()
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
    except (RuleError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    quote = rule.quote(bill_fen)
    click.echo(f"规则: {rule.render()}")
    click.echo(f"账单: ¥{format_money(quote.bill_fen)}")
    click.echo(f"优惠: ¥{format_money(quote.discount_fen)}")
    click.echo(f"实付: ¥{format_money(quote.pay_fen)}")
