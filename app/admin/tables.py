"""Tables staff search, sort, page through and export: one helper for every list in /admin.

A page builds a `select()` already scoped and filtered, describes its columns once, and hands
both to `Listing` with the request's arguments. The listing adds the search (``q``), the sort
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
from sqlalchemy import Select, func, or_, select

from ..extensions import db
from ..services.exports import MAX_XLSX_ROWS, ExportColumn, csv_chunks, xlsx_bytes

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


class Listing:
    """Search, sort and paginate `stmt`; export it whole.

    `search` lists the columns a search looks into (containing the text); `exact`, given the
    text, returns more conditions that find a row (a serial typed in any form, say).
    """

    def __init__(
        self,
        stmt: Select,
        columns: list[Column],
        *,
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
