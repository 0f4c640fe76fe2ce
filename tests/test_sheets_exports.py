"""Uploaded sheets (CSV in UTF-8 or GBK, .xlsx) and exported tables (CSV with BOM, .xlsx)."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from app.services.exports import ExportColumn, csv_text, neutralise, xlsx_bytes
from app.services.sheets import MAX_ROWS, SheetColumn, SheetError, read_sheet

COLUMNS = [
    SheetColumn("name", ("名称", "name"), required=True),
    SheetColumn("phone", ("电话", "phone")),
]


def xlsx_of(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_utf8_csv_with_a_bom_is_read_by_its_chinese_headers():
    data = "\ufeff名称,电话\n张记热干面,13912345678\n".encode()
    rows = read_sheet("shops.csv", data, COLUMNS)
    assert [(r.line, r.cells) for r in rows] == [
        (2, {"name": "张记热干面", "phone": "13912345678"})
    ]


def test_a_csv_saved_by_excel_on_chinese_windows_in_gbk_is_read():
    data = "名称,电话\n李妈妈豆皮,027-84001234\n".encode("gbk")
    assert read_sheet("shops.CSV", data, COLUMNS)[0].get("name") == "李妈妈豆皮"


def test_an_xlsx_phone_stored_as_a_number_reads_without_a_decimal_point():
    data = xlsx_of([["phone", "name", "ignored"], [13912345678, "丝艺美发", "x"]])
    row = read_sheet("shops.xlsx", data, COLUMNS)[0]
    assert row.cells == {"name": "丝艺美发", "phone": "13912345678"}


def test_blank_rows_are_skipped_and_line_numbers_follow_the_sheet():
    data = "名称\n\nA店\n,\nB店\n".encode()
    assert [(r.line, r.get("name")) for r in read_sheet("a.csv", data, COLUMNS)] == [
        (3, "A店"),
        (5, "B店"),
    ]


@pytest.mark.parametrize(
    ("filename", "data", "code"),
    [
        ("shops.xls", b"\xd0\xcf\x11\xe0", "file_type"),
        ("shops.txt", b"name\nx\n", "file_type"),
        ("shops.csv", b"", "no_file"),
        ("shops.xlsx", b"not a zip file", "unreadable"),
        ("shops.csv", "电话\n139\n".encode(), "missing_columns"),
        ("shops.csv", "名称\n".encode(), "empty"),
    ],
)
def test_a_sheet_that_cannot_be_used_is_refused_with_a_code(filename, data, code):
    with pytest.raises(SheetError) as refused:
        read_sheet(filename, data, COLUMNS)
    assert refused.value.code == code


def test_a_missing_column_is_named_in_the_refusal():
    with pytest.raises(SheetError) as refused:
        read_sheet("shops.csv", "电话\n139\n".encode(), COLUMNS)
    assert refused.value.details == {"columns": "名称"}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_sheet_of_more_than_2000_rows_is_refused(kind):
    rows = [["名称"]] + [[f"店{i}"] for i in range(MAX_ROWS + 1)]
    if kind == "csv":
        data = "\n".join(r[0] for r in rows).encode()
    else:
        data = xlsx_of(rows)
    with pytest.raises(SheetError) as refused:
        read_sheet(f"shops.{kind}", data, COLUMNS)
    assert refused.value.code == "too_many_rows"


def test_exactly_2000_rows_are_accepted():
    data = ("名称\n" + "\n".join(f"店{i}" for i in range(MAX_ROWS))).encode()
    assert len(read_sheet("shops.csv", data, COLUMNS)) == MAX_ROWS


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+86 139", "'+86 139"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("张记热干面", "张记热干面"),
        ("8折", "8折"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_as_formulas_get_a_leading_quote(text, safe):
    assert neutralise(text) == safe


COLUMNS_OUT = [
    ExportColumn("商户"),
    ExportColumn("笔数", "int"),
    ExportColumn("优惠", "money"),
    ExportColumn("日期", "date"),
    ExportColumn("时间", "datetime"),
]
ROWS = [
    ["=cmd|' /C calc'!A0", 3, 12345, date(2026, 5, 12), datetime(2026, 5, 12, 2, 30, tzinfo=UTC)],
    ["张记热干面", 1, 5, date(2026, 5, 13), None],
]


def test_a_csv_export_starts_with_a_bom_and_writes_money_in_yuan_and_local_time():
    text = csv_text(COLUMNS_OUT, ROWS)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["商户", "笔数", "优惠", "日期", "时间"]
    assert rows[1] == ["'=cmd|' /C calc'!A0", "3", "123.45", "2026-05-12", "2026-05-12 10:30:00"]
    assert rows[2] == ["张记热干面", "1", "0.05", "2026-05-13", ""]


def test_an_xlsx_export_keeps_numbers_as_numbers_and_money_to_the_fen():
    book = load_workbook(io.BytesIO(xlsx_bytes("数据", COLUMNS_OUT, ROWS)))
    sheet = book.active
    assert sheet.title == "数据"
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["商户", "笔数", "优惠", "日期", "时间"]
    assert values[1][0] == "'=cmd|' /C calc'!A0"
    assert values[1][1] == 3
    assert Decimal(str(values[1][2])) == Decimal("123.45")
    assert sheet.cell(2, 3).number_format == "0.00"
    assert values[1][4] == datetime(2026, 5, 12, 10, 30)
    assert Decimal(str(values[2][2])) == Decimal("0.05")
