"""Tables staff search, sort, page through and export: one helper for every list in /admin.

A page builds a `select()` already scoped, describes its columns once (`community_column` adds
the community where the viewer sees several), names the filters its URL may carry (`one_of`,
`by_id`, `when_set`, `Filter`), and hands them to `Listing` with the request's arguments. The
listing applies the filters, then adds the search (``q``), the sort
(``sort=name`` or ``sort=-name``) and the page (``page``, ``per``); the template renders the
rows it gets and uses the macros in ``admin/_table.html`` for the search box, the sortable
headers, the pager and the export links. ``?export=csv`` or ``?export=xlsx`` on the same URL
gives every row the page would list, through `services.exports`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Response, flash, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select

from ..clock import local_day_bounds
from ..extensions import db
from ..inputs import optional_date, optional_id
from ..models import Community
from ..services.exports import MAX_XLSX_ROWS, ExportColumn, csv_chunks, xlsx_bytes
from .common import sees_many

PAGE_SIZES = (20, 50, 100, 200)
EXPORT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    """A column of a listing.

    `sort` is the SQL expression to order by (None: not sortable); `value` gives the raw value
    of a row for exports (None: not exported); `kind` tells exports how to write it (text,
    int, money, date, datetime).
    """

    key: str
    label: Any
    sort: Any = None
    value: Callable[[Any], Any] | None = None
    kind: str = "text"


def community_column(columns: list[Column], value=None, sort=Community.name) -> list[Column]:
    """Put a Community column second when the viewer's pages cover several communities.

    `value` reads a row's community name (default: the row's ``community_name`` label).
    """
    if sees_many():
        read = value or (lambda r: r.community_name)
        columns.insert(1, Column("community", _l("Community"), sort, read))
    return columns


@dataclass(frozen=True)
class Filter:
    """A narrowing a list takes from its URL, ``?arg=text``.

    `where`, given the argument's text (empty when absent), returns the condition to add, or
    None to leave the list whole: an empty or unknown value narrows nothing.
    """

    arg: str
    where: Callable[[str], Any]


def one_of(arg: str, column, values) -> Filter:
    """``?arg=v`` keeps the rows whose `column` is v, when v is one of `values` (an enum)."""
    allowed = {getattr(v, "value", v) for v in values}
    return Filter(arg, lambda text: column == text if text in allowed else None)


def by_id(arg: str, column) -> Filter:
    """``?arg=7`` keeps the rows whose `column` is 7 (not an id: ignored)."""
    return Filter(arg, lambda text: column == found if (found := optional_id(text)) else None)


def equals(arg: str, column, limit: int = 100) -> Filter:
    """``?arg=text`` keeps the rows whose `column` is the text (cut to `limit` characters)."""
    return Filter(arg, lambda text: column == text[:limit] if text else None)


def when_set(arg: str, condition) -> Filter:
    """``?arg=1`` (any value) adds `condition`; a callable is called then (it may read the time)."""
    return Filter(
        arg, lambda text: (condition() if callable(condition) else condition) if text else None
    )


def days(column, *, moments: bool = False) -> tuple[Filter, Filter]:
    """``?from=2026-05-01&to=2026-05-31``: `column` (a local day) within those days; with
    `moments`, `column` is a time and the days are the office's local days."""

    def start(text):
        if (day := optional_date(text)) is None:
            return None
        return column >= local_day_bounds(day)[0] if moments else column >= day

    def end(text):
        if (day := optional_date(text)) is None:
            return None
        return column < local_day_bounds(day)[1] if moments else column <= day

    return Filter("from", start), Filter("to", end)


def apply_filters(stmt: Select, filters, args) -> Select:
    conditions = [f.where((args.get(f.arg) or "").strip()) for f in filters]
    kept = [c for c in conditions if c is not None]
    return stmt.where(and_(*kept)) if kept else stmt


class Listing:
    """Filter, search, sort and paginate `stmt`; export it whole.

    `filters` are the URL's narrowings (`Filter`); `search` lists the columns a search looks
    into (containing the text); `exact`, given the text, returns more conditions that find a
    row (a serial typed in any form, say).
    """

    def __init__(
        self,
        stmt: Select,
        columns: list[Column],
        *,
        filters=(),
        search: tuple = (),
        exact: Callable[[str], list] | None = None,
        default_sort: str = "",
        tiebreak: Any = None,
        per_page: int = 50,
        scalars: bool = True,
        args=None,
    ):
        self.args = request.args if args is None else args
        self.columns = columns
        self.by_key = {column.key: column for column in columns}
        self.scalars = scalars
        self.q = (self.args.get("q") or "").strip()[:100]
        self.sort_key, self.descending = self._sort(default_sort)
        try:
            per = int(self.args.get("per", per_page))
        except ValueError:
            per = per_page
        self.per_page = per if per in PAGE_SIZES else per_page
        try:
            self.page = max(1, int(self.args.get("page", 1)))
        except ValueError:
            self.page = 1
        stmt = apply_filters(stmt, filters, self.args)
        if self.q and (search or exact):
            pattern = "%" + _escape_like(self.q) + "%"
            found = [column.ilike(pattern, escape="\\") for column in search]
            stmt = stmt.where(or_(*found, *(exact(self.q) if exact else ())))
        self.filtered = stmt
        order = []
        column = self.by_key.get(self.sort_key)
        if column is not None and column.sort is not None:
            expression = column.sort
            order.append(expression.desc() if self.descending else expression.asc())
        if tiebreak is not None:
            order.append(tiebreak.desc() if self.descending else tiebreak.asc())
        self.statement = stmt.order_by(*order) if order else stmt
        self._total: int | None = None
        self._items: list | None = None

    def _sort(self, default: str) -> tuple[str, bool]:
        raw = self.args.get("sort") or default
        key = raw.lstrip("-")
        column = self.by_key.get(key)
        if column is None or column.sort is None:
            raw = default
            key = raw.lstrip("-")
        return key, raw.startswith("-")

    @property
    def is_filtered(self) -> bool:
        """Tell whether the visitor searched or filtered (not merely sorted or paged)."""
        return any(value for key, value in self.args.items() if key not in {"sort", "per", "page"})

    @property
    def total(self) -> int:
        if self._total is None:
            counted = select(func.count()).select_from(self.filtered.order_by(None).subquery())
            self._total = db.session.scalar(counted)
        return self._total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def items(self) -> list:
        if self._items is None:
            page = min(self.page, self.pages)
            stmt = self.statement.limit(self.per_page).offset((page - 1) * self.per_page)
            result = db.session.execute(stmt)
            self._items = list(result.scalars() if self.scalars else result)
        return self._items

    @property
    def current_page(self) -> int:
        return min(self.page, self.pages)

    def page_numbers(self) -> list[int | None]:
        """Return the page numbers the pager shows, with None for a gap."""
        last, here = self.pages, self.current_page
        shown = sorted({1, 2, last - 1, last, *range(here - 2, here + 3)} & set(range(1, last + 1)))
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n - numbers[-1] > 1:
                numbers.append(None)
            numbers.append(n)
        return numbers

    def url(self, **changes) -> str:
        """Return this page's URL with some arguments changed (None removes one)."""
        args = {key: value for key, value in self.args.items() if key != "export"}
        for key, value in changes.items():
            if value is None or value == "":
                args.pop(key, None)
            else:
                args[key] = value
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    def sort_url(self, key: str) -> str:
        descending = not self.descending if key == self.sort_key else False
        return self.url(sort=("-" if descending else "") + key, page=None)

    def sort_state(self, key: str) -> str | None:
        """Return aria-sort's value for the column `key`, or None when unsorted."""
        if key != self.sort_key:
            return None
        return "descending" if self.descending else "ascending"

    def export_url(self, fmt: str) -> str:
        return self.url(export=fmt, page=None)

    # --- exports ----------------------------------------------------------------------------

    @property
    def export_format(self) -> str | None:
        fmt = self.args.get("export")
        return fmt if fmt in EXPORT_FORMATS else None

    def export_columns(self) -> list[Column]:
        return [column for column in self.columns if column.value is not None]

    def export_rows(self, prepare: Callable[[list], None] | None = None) -> Iterator[list]:
        """Yield every row's exported values; `prepare` sees each chunk of rows first."""
        columns = self.export_columns()
        result = db.session.execute(self.statement.execution_options(yield_per=1000))
        for chunk in (result.scalars() if self.scalars else result).partitions():
            if prepare is not None:
                prepare(chunk)
            for row in chunk:
                yield [column.value(row) for column in columns]

    def export(self, name: str, prepare: Callable[[list], None] | None = None) -> Response:
        """Return every row as a CSV or .xlsx download named `name`.

        `prepare`, given each chunk of up to 1000 rows before they are written, may read at
        once what the columns need (the audit log reads the names of the rows it points at).
        A list too long for a workbook goes back to the page with a message: CSV has no limit.
        """
        if self.export_format == "xlsx" and self.total > MAX_XLSX_ROWS:
            flash(_("Too many rows for Excel; narrow the list or download CSV."), "error")
            return redirect(self.url(export=None))
        return export_response(
            self.export_format or "csv",
            name,
            [ExportColumn(str(c.label), c.kind) for c in self.export_columns()],
            self.export_rows(prepare),
        )


def export_response(fmt: str, name: str, columns, rows, totals=None) -> Response:
    """Return a download of a table: streamed CSV, or an .xlsx workbook made in memory.

    `totals`, when given, is a last row of sums (bold in the workbook).
    """
    if fmt == "xlsx":
        body = xlsx_bytes(name, columns, rows, totals)
        return download(
            body,
            f"{name}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    chunks = csv_chunks(columns, rows, totals)
    stream = stream_with_context(chunk.encode("utf-8") for chunk in chunks)
    return download(stream, f"{name}.csv", "text/csv; charset=utf-8")


def download(body, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    ascii_name = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "-" for ch in filename
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
