"""Tables as files an Italian office opens: CSV with Italian spreadsheet conventions (`;`
between fields, decimal comma, UTF-8 with BOM so Excel reads the accents), XLSX through
openpyxl and ODS through odfpy. Numbers stay numbers and dates stay dates; each column
may say its kind (`money`: two decimals with thousands; `number`: up to two decimals),
and the columns are as wide as what they hold.

Text is never a formula: anything typed by a person (an e-mail address at a failed
login, a protocol number) that starts like one (`=`, `+`, `-`, `@`, a tab, a carriage
return) gets a leading apostrophe in a CSV (OWASP's advice: the spreadsheet shows it as
text), and is written as a string cell in XLSX and ODS."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_TYPE = "application/vnd.oasis.opendocument.spreadsheet"
XLSX_FORMATS = {
    "money": "#,##0.00",
    "number": "#,##0.##",
    "date": "DD/MM/YYYY",
    "moment": "DD/MM/YYYY HH:MM",
}
MIN_WIDTH, MAX_WIDTH = 8, 50  # characters
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defused(text: str) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _italian(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.2f}".rstrip("0").replace(".", ",")
    return str(value)


def _plain(value: Any) -> Any:
    """A number as an int when it is whole (20, not 20.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _kind(value: Any, declared: str) -> str:
    if isinstance(value, dt.datetime):
        return "moment"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return declared or "number"
    return ""


def _widths(headers: Sequence[str], rows: list[list[Any]]) -> list[int]:
    """Each column's width in characters: its longest value as shown, header included."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, value in enumerate(row):
            shown = _italian(value)
            if isinstance(value, float) and not value.is_integer():
                shown += "00"
            widths[i] = max(widths[i], len(shown) + (4 if isinstance(value, float) else 0))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([defused(v) if isinstance(v, str) else _italian(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    kinds: Sequence[str] = (),
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    table = [list(r) for r in rows]
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for values in table:
        sheet.append([_plain(v) for v in values])
    for row in sheet.iter_rows(min_row=2):
        for i, cell in enumerate(row):
            if isinstance(cell.value, str):  # as typed, never a formula
                cell.data_type = "s"
            kind = _kind(cell.value, kinds[i] if i < len(kinds) else "")
            if kind:
                cell.number_format = XLSX_FORMATS[kind]
    for i, width in enumerate(_widths(headers, table), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods_bytes(
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    kinds: Sequence[str] = (),
) -> bytes:
    from odf import number as n
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableColumnProperties, TextProperties
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P

    table_rows = [list(r) for r in rows]
    doc = OpenDocumentSpreadsheet()
    styles = doc.automaticstyles

    def data_style(name: str) -> Style:
        cell = Style(name=f"cella-{name}", family="table-cell", datastylename=name)
        styles.addElement(cell)
        return cell

    day = n.DateStyle(name="giorno")
    for part in (n.Day(style="long"), n.Text(text="/"), n.Month(style="long"),
                 n.Text(text="/"), n.Year(style="long")):  # fmt: skip
        day.addElement(part)
    moment = n.DateStyle(name="momento")
    for part in (n.Day(style="long"), n.Text(text="/"), n.Month(style="long"),
                 n.Text(text="/"), n.Year(style="long"), n.Text(text=" "),
                 n.Hours(style="long"), n.Text(text=":"), n.Minutes(style="long")):  # fmt: skip
        moment.addElement(part)
    money = n.NumberStyle(name="euro")
    money.addElement(n.Number(decimalplaces="2", minintegerdigits="1", grouping="true"))
    whole = n.NumberStyle(name="intero")
    whole.addElement(n.Number(decimalplaces="0", minintegerdigits="1", grouping="true"))
    decimal = n.NumberStyle(name="decimale")
    decimal.addElement(n.Number(decimalplaces="2", minintegerdigits="1", grouping="true"))
    for style in (day, moment, money, whole, decimal):
        styles.addElement(style)
    cells = {
        "date": data_style("giorno"),
        "moment": data_style("momento"),
        "money": data_style("euro"),
        "whole": data_style("intero"),
        "decimal": data_style("decimale"),
    }
    bold = Style(name="intestazione", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    styles.addElement(bold)

    # a column of numbers all whole shows no decimals; otherwise two
    whole_columns = {
        i
        for i in range(len(headers))
        if all(not isinstance(r[i], float) or r[i].is_integer() for r in table_rows if i < len(r))
    }

    def cell(value: Any, i: int) -> TableCell:
        kind = _kind(value, kinds[i] if i < len(kinds) else "")
        value = _plain(value)
        if kind == "moment":
            c = TableCell(valuetype="date", datevalue=value.isoformat(timespec="seconds"),
                          stylename=cells["moment"])  # fmt: skip
        elif kind == "date":
            c = TableCell(valuetype="date", datevalue=value.isoformat(), stylename=cells["date"])
        elif kind == "money":
            c = TableCell(valuetype="float", value=value, stylename=cells["money"])
        elif kind:
            style = cells["whole"] if i in whole_columns else cells["decimal"]
            c = TableCell(valuetype="float", value=value, stylename=style)
        else:
            c = TableCell(valuetype="string")
        c.addElement(P(text=_italian(value)))
        return c

    sheet = Table(name=title[:31])
    for i, width in enumerate(_widths(headers, table_rows)):
        column = Style(name=f"colonna-{i}", family="table-column")
        column.addElement(TableColumnProperties(columnwidth=f"{width * 0.21:.2f}cm"))
        styles.addElement(column)
        sheet.addElement(TableColumn(stylename=column))
    header = TableRow()
    for h in headers:
        c = TableCell(valuetype="string", stylename=bold)
        c.addElement(P(text=h))
        header.addElement(c)
    sheet.addElement(header)
    for values in table_rows:
        tr = TableRow()
        for i, value in enumerate(values):
            tr.addElement(cell(value, i))
        sheet.addElement(tr)
    doc.spreadsheet.addElement(sheet)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()
