"""Exports of any table to CSV (for Excel: UTF-8 with a BOM) and to .xlsx.

A table is a list of `ExportColumn` and rows of raw values: money as int fen, times as aware
UTC datetimes. CSV writes money as ``123.45`` and times in Asia/Shanghai; .xlsx writes money as
a number of yuan with two decimals, so Excel can sum it. A text cell that begins with ``=``,
``+``, ``-``, ``@`` (or a tab or carriage return) gets a leading ``'``: a shop name typed as
``=HYPERLINK(...)`` is shown, never run as a formula.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..clock import to_local
from ..inputs import printable
from ..rules import format_money

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_BATCH = 500  # rows per chunk of a streamed CSV
MAX_XLSX_ROWS = 200_000  # beyond this a workbook is slow to make and to open; use CSV


@dataclass(frozen=True)
class ExportColumn:
    """One column: its header and the kind of its values (text, int, money, date, datetime)."""

    label: str
    kind: str = "text"


def neutralise(value: str) -> str:
    """Return text that a spreadsheet shows as text, never evaluates as a formula.

    Control characters are left out: openpyxl refuses them (a whole export failed on one name
    stored with \x03 before text was cleaned at the edge), and no person typed them to be seen.
    """
    value = printable(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_cell(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return format_money(value)
    if isinstance(value, datetime):
        return to_local(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return neutralise(str(value))


def csv_chunks(
    columns: list[ExportColumn], rows: Iterable[Iterable], totals: Iterable | None = None
) -> Iterator[str]:
    """Yield a CSV file in pieces: a BOM and the header first, then batches of rows.

    `totals`, when given, is written as a last row (合计 and the sums).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(str(c.label)) for c in columns])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(v, c.kind) for v, c in zip(row, columns, strict=True)])
        if n % CSV_BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if totals is not None:
        writer.writerow([csv_cell(v, c.kind) for v, c in zip(totals, columns, strict=True)])
    yield buffer.getvalue()


def csv_text(columns: list[ExportColumn], rows: Iterable[Iterable]) -> str:
    """Return a whole CSV file as one string (BOM included)."""
    return "".join(csv_chunks(columns, rows))


def xlsx_cell(value, kind: str):
    if value is None:
        return None
    if kind == "money":
        return Decimal(format_money(value))
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None, microsecond=0)
    if isinstance(value, date | int | Decimal) and not isinstance(value, bool):
        return value
    return neutralise(str(value))


def xlsx_bytes(
    title: str,
    columns: list[ExportColumn],
    rows: Iterable[Iterable],
    totals: Iterable | None = None,
) -> bytes:
    """Return an .xlsx workbook of one sheet named `title` holding the table.

    `totals`, when given, is a last row in bold (合计 and the sums).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    formats = {"money": "0.00", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}
    widths = {"money": 12, "int": 10, "date": 12, "datetime": 20, "text": 18}
    for letter_index, column in enumerate(columns):
        sheet.column_dimensions[_column_letter(letter_index)].width = max(
            widths.get(column.kind, 18), len(str(column.label)) * 2 + 2
        )
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=neutralise(str(column.label)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append(_cells(sheet, row, columns, formats))
    if totals is not None:
        sheet.append(_cells(sheet, totals, columns, formats, font=bold))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cells(sheet, row, columns, formats, font=None) -> list:
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value, column in zip(row, columns, strict=True):
        cell = WriteOnlyCell(sheet, value=xlsx_cell(value, column.kind))
        if column.kind in formats:
            cell.number_format = formats[column.kind]
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(title)).strip("'")
    return (cleaned or "Sheet")[:31]


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
