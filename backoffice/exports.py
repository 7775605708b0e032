"""Tables as files an Italian office opens: CSV with Italian spreadsheet conventions (`;`
between fields, decimal comma, UTF-8 with BOM so Excel reads the accents), XLSX through
openpyxl and ODS through odfpy, with numbers kept as numbers.

Text is never a formula: anything typed by a person (an e-mail address at a failed
login, a protocol number) that starts like one (`=`, `+`, `-`, `@`, a tab, a carriage
return) gets a leading apostrophe in a CSV (OWASP's advice: the spreadsheet shows it as
text), and is written as a string cell in XLSX and ODS."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_TYPE = "application/vnd.oasis.opendocument.spreadsheet"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defused(text: str) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _italian(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sì" if value else "no"
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


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([defused(v) if isinstance(v, str) else _italian(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_plain(v) for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):  # as typed, never a formula
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name=title[:31])

    def cell(value: Any) -> TableCell:
        value = _plain(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            c = TableCell(valuetype="float", value=value)
            c.addElement(P(text=_italian(value)))
        else:
            c = TableCell(valuetype="string")
            c.addElement(P(text="" if value is None else str(value)))
        return c

    for values in [list(headers), *rows]:
        tr = TableRow()
        for value in values:
            tr.addElement(cell(value))
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()
