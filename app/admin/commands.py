"""The office's command-line tasks: `flask admin close-days`."""

from datetime import timedelta

import click

from ..clock import local_today
from ..database import write_transaction
from ..extensions import db
from ..services import summary
from . import bp


@bp.cli.command("close-days")
@click.option("--days", default=400, show_default=True, help="How far back to look.")
def close_days(days):
    """Summarise the days the figures have not summarised yet (run after an upgrade, or nightly).

    The dashboard does this itself the first time it needs a day; running it ahead spares the
    first visitor after an upgrade the wait (a few seconds for a district's year of uses).
    """
    last = summary.closed_until(local_today())
    with write_transaction(db.session):
        count = summary.close_days(db.session, last - timedelta(days=days - 1), last)
    click.echo(f"已汇总 {count} 天的核销数据 (days summarised: {count}).")
