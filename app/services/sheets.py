"""Reading the sheets staff upload (merchant lists, cards to hand out): CSV or Excel.

A sheet has a header row naming its columns, in Chinese or English (``名称`` or ``name``); the
columns may come in any order and unknown ones are ignored. Excel on a Chinese Windows saves
CSV as GBK, so a CSV that is not UTF-8 is read as GB18030. Sheets are limited to ``MAX_ROWS``
data rows; the upload itself is limited by the app's MAX_CONTENT_LENGTH.

An upload is hostile until read: an .xlsx is a zip, and 800 KB of it can unpack to one 800 MB
cell or a 514 MB shared-strings table. Before openpyxl sees a workbook, the sizes its zip
declares are checked (each part, the shared strings, all parts together; zipfile refuses a
part that unpacks to more than it declares), and every cell of either kind of sheet is
limited to ``MAX_CELL`` characters. Cells are cleaned of control characters.
"""

import csv
import io
import numbers
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..inputs import clean_text
from .errors import N_, DomainError

MAX_ROWS = 2000
MAX_CELL = 1000  # characters in one cell: an address or a note is far shorter
MAX_PART = 16 * 1024 * 1024  # bytes of one unpacked part of an .xlsx (2000 rows need ~2 MB)
MAX_SHARED_STRINGS = 8 * 1024 * 1024
MAX_UNPACKED = 32 * 1024 * 1024
MAX_PARTS = 200


class SheetError(DomainError):
    messages = {
        "no_file": N_("Please choose a file to upload."),
        "file_type": N_("Please upload an Excel workbook (.xlsx) or a CSV file (.csv)."),
        "unreadable": N_("The file could not be read. Save it again as .xlsx or .csv and retry."),
        "empty": N_("The sheet has no rows below its header."),
        "too_many_rows": N_("A sheet may have at most 2000 rows. Split it into smaller sheets."),
        "missing_columns": N_("The sheet lacks required columns: %(columns)s."),
        "too_large": N_(
            "The file unpacks to far more than a sheet of 2000 rows needs. Save only the rows "
            "to import in a new workbook and retry."
        ),
        "cell_too_long": N_(
            "Line %(line)s has a cell of more than 1000 characters. Shorten it and retry."
        ),
    }


@dataclass(frozen=True)
class SheetColumn:
    """A column a sheet may have: its key, the header names that mean it, and whether it must."""

    key: str
    headers: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class SheetRow:
    """One data row: its line number in the sheet (the header is line 1) and its cells by key."""

    line: int
    cells: dict[str, str]

    def get(self, key: str) -> str:
        return self.cells.get(key, "")


def read_sheet(filename: str, data: bytes, columns: list[SheetColumn]) -> list[SheetRow]:
    """Return the data rows of an uploaded .xlsx or .csv sheet, by column key.

    Refuses a file of another type, one that cannot be read, one without the required columns,
    an empty sheet and one of more than MAX_ROWS rows. Blank rows are skipped.
    """
    name = (filename or "").lower()
    if not data:
        raise SheetError("no_file")
    if name.endswith(".csv"):
        raw_rows = _csv_rows(data)
    elif name.endswith((".xlsx", ".xlsm")):
        raw_rows = _xlsx_rows(data)
    else:
        raise SheetError("file_type")
    header = None
    rows: list[SheetRow] = []
    for line, raw in enumerate(raw_rows, start=1):
        cells = [_text(value) for value in raw]
        if any(len(cell) > MAX_CELL for cell in cells):
            raise SheetError("cell_too_long", line=line)
        if header is None:
            if not any(cells):
                continue
            header = _match_header(cells, columns)
            header_line = line
            continue
        if not any(cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise SheetError("too_many_rows")
        row = {key: cells[i] for i, key in header.items() if i < len(cells)}
        rows.append(SheetRow(line - header_line + 1, row))
    if header is None or not rows:
        raise SheetError("empty")
    return rows


def _match_header(cells: list[str], columns: list[SheetColumn]) -> dict[int, str]:
    wanted = {_header_key(h): column.key for column in columns for h in column.headers}
    found: dict[int, str] = {}
    for i, cell in enumerate(cells):
        key = wanted.get(_header_key(cell))
        if key is not None and key not in found.values():
            found[i] = key
    missing = [c.headers[0] for c in columns if c.required and c.key not in found.values()]
    if missing:
        raise SheetError("missing_columns", columns="、".join(missing))
    return found


def _header_key(text: str) -> str:
    return "".join(text.split()).lower().rstrip("*＊").replace("（", "(").replace("）", ")")


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise SheetError("unreadable")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    rows = []
    try:
        # csv's own field limit (128 KB) bounds a cell before MAX_CELL does
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row)
            if len(rows) > MAX_ROWS + 50:  # header and blank lines; more is refused anyway
                raise SheetError("too_many_rows")
    except csv.Error as error:
        raise SheetError("unreadable") from error
    return rows


def _check_unpacked_sizes(data: bytes) -> None:
    """Refuse an .xlsx whose parts would unpack to more than a sheet of MAX_ROWS needs.

    Read from the zip's directory, before anything is unpacked. zipfile stops with an error at
    a part that unpacks to more than it declares, so the declared sizes bound what openpyxl
    can be made to hold.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise SheetError("unreadable") from error
    if len(parts) > MAX_PARTS or sum(part.file_size for part in parts) > MAX_UNPACKED:
        raise SheetError("too_large")
    for part in parts:
        limit = MAX_SHARED_STRINGS if part.filename.endswith("sharedStrings.xml") else MAX_PART
        if part.file_size > limit:
            raise SheetError("too_large")


def _xlsx_rows(data: bytes) -> list[tuple]:
    from openpyxl import load_workbook

    _check_unpacked_sizes(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append(row)
                if len(rows) > MAX_ROWS + 50:  # header and blank lines; more is refused anyway
                    raise SheetError("too_many_rows")
            return rows
        finally:
            workbook.close()
    except SheetError:
        raise
    except Exception as error:  # noqa: BLE001 - any parser failure on a stranger's file
        # openpyxl and the XML parser under it raise many kinds (ParseError is a SyntaxError,
        # a missing part a KeyError, a bad style a TypeError): each means the file is unusable.
        raise SheetError("unreadable") from error


def _text(value) -> str:
    """Return a cell as the text a person sees in it (13900000001, not 13900000001.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, numbers.Integral):
        return str(value)
    if isinstance(value, numbers.Real):
        number = Decimal(repr(value))
        return format(number.to_integral() if number == number.to_integral() else number, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return clean_text(str(value)).strip()
