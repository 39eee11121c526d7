"""Files as spreadsheets write them: real XLSX (openpyxl) and ODS (odfpy) built at run time,
CSV in each dialect and encoding, dates as spreadsheets store them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table as OdsTable
from odf.table import TableCell, TableRow
from odf.text import P
from openpyxl import Workbook
from openpyxl.utils.datetime import to_excel

from issuer.spreadsheets import (
    FileFormat,
    ResultsFileError,
    cell_date,
    cell_text,
    decode_text,
    detect_format,
    read_table,
    sniff_delimiter,
)


def xlsx_bytes(rows: Sequence[Sequence[Any]], *, title: str = "Résultats") -> bytes:
    """A workbook as Excel users save it: dates are date cells, numbers are numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ods_bytes(rows: Sequence[Sequence[Any]], *, title: str = "Résultats") -> bytes:
    """A spreadsheet as LibreOffice saves it, padded with repeated empty rows and columns."""
    document = OpenDocumentSpreadsheet()
    sheet = OdsTable(name=title)
    for values in rows:
        row = TableRow()
        for value in values:
            row.addElement(_ods_cell(value))
        row.addElement(TableCell(numbercolumnsrepeated=1000))
        sheet.addElement(row)
    padding = TableRow(numberrowsrepeated=1048000)
    padding.addElement(TableCell(numbercolumnsrepeated=1024))
    sheet.addElement(padding)
    document.spreadsheet.addElement(sheet)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def _ods_cell(value: Any) -> TableCell:
    if value is None or value == "":
        return TableCell()
    if isinstance(value, date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
        cell.addElement(P(text=value.strftime("%d/%m/%Y")))
    elif isinstance(value, int | float | Decimal):
        cell = TableCell(valuetype="float", value=str(value))
        cell.addElement(P(text=str(value)))
    else:
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=str(value)))
    return cell


ROWS = [
    ["Nom", "Prénom", "Date de naissance", "N° candidat", "Note", None],
    ["Durand", "Camille", date(1995, 11, 2), 202601, 78.5, None],
    [None, None, None, None, None, None],
    ["Benali", "Inès", date(1988, 3, 21), 202602, 80, None],
]


def test_xlsx_date_cells_numbers_and_line_numbers() -> None:
    table = read_table(xlsx_bytes(ROWS), "r.xlsx", FileFormat.XLSX)
    assert table.header == ("Nom", "Prénom", "Date de naissance", "N° candidat", "Note")
    assert [r.line for r in table.rows] == [2, 4]  # the empty row 3 is skipped, not renumbered
    first = table.rows[0].cells
    assert cell_date(first[2]) == date(1995, 11, 2)
    assert cell_text(first[3]) == "202601" and cell_text(first[4]) == "78.5"
    assert cell_text(table.rows[1].cells[4]) == "80"
    assert table.described == "XLSX"


def test_xlsx_serial_numbers_in_a_date_column_are_dates() -> None:
    serial = to_excel(date(1995, 11, 2))  # openpyxl's own conversion, not ours
    rows = [["Date de naissance"], [int(serial)], [datetime(1988, 3, 21)]]
    table = read_table(xlsx_bytes(rows), "r.xlsx", FileFormat.XLSX)
    assert [cell_date(r.cells[0]) for r in table.rows] == [date(1995, 11, 2), date(1988, 3, 21)]


def test_ods_date_cells_repeated_cells_and_padding_rows() -> None:
    rows = [*ROWS, ["Wang", "Xiǎomíng", date(2001, 1, 31), 202603, 66, None]]
    raw = ods_bytes(rows)
    table = read_table(raw, "r.ods", FileFormat.ODS)
    assert table.header == ("Nom", "Prénom", "Date de naissance", "N° candidat", "Note")
    assert [r.line for r in table.rows] == [2, 4, 5]
    assert [cell_date(r.cells[2]) for r in table.rows] == [
        date(1995, 11, 2),
        date(1988, 3, 21),
        date(2001, 1, 31),
    ]
    assert [cell_text(r.cells[3]) for r in table.rows] == ["202601", "202602", "202603"]
    assert cell_text(table.rows[0].cells[4]) == "78.5"


def test_format_is_found_from_content_not_name() -> None:
    assert detect_format(xlsx_bytes(ROWS), "results.csv") is FileFormat.XLSX
    assert detect_format(ods_bytes(ROWS), "results.xlsx") is FileFormat.ODS
    assert detect_format(b'\xef\xbb\xbf[{"result_id": "1"}]', "results.txt") is FileFormat.JSON
    assert detect_format(b"a;b\n1;2\n", "results.xlsx") is FileFormat.CSV
    with pytest.raises(ResultsFileError, match=r"old Excel workbook \(.xls\)"):
        detect_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "r.xls")
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(ResultsFileError, match="neither an XLSX nor an ODS"):
        detect_format(other_zip.getvalue(), "r.xlsx")


def test_a_damaged_workbook_is_a_file_error() -> None:
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("xl/workbook.xml", "not xml at all <")
    with pytest.raises(ResultsFileError, match="not a readable XLSX workbook"):
        read_table(broken.getvalue(), "r.xlsx", FileFormat.XLSX)


@pytest.mark.parametrize(
    "raw,text,encoding",
    [
        ("\ufeffNom;Prénom\n".encode(), "Nom;Prénom\n", "UTF-8 with BOM"),
        ("Nom;Prénom\n".encode(), "Nom;Prénom\n", "UTF-8"),
        ("Nom;Prénom;Cœur;€\n".encode("cp1252"), "Nom;Prénom;Cœur;€\n", "Windows-1252"),
        ("\ufeffNom\tPrénom\n".encode("utf-16-le"), "Nom\tPrénom\n", "UTF-16"),
    ],
    ids=["utf8-bom", "utf8", "cp1252", "utf16"],
)
def test_encodings_are_detected(raw: bytes, text: str, encoding: str) -> None:
    assert decode_text(raw) == (text, encoding)


def test_a_byte_undefined_in_windows_1252_rejects_its_line() -> None:
    raw = "Nom;Prénom\nDurand;Renée\n".encode("cp1252") + b"Dupont;Jo\x81l\nMartin;L\xe9a\n"
    table = read_table(raw, "r.csv", FileFormat.CSV)
    assert table.encoding == "Windows-1252"
    problems = {r.line: r.problem for r in table.rows}
    assert problems[2] is None and problems[4] is None
    assert cell_text(table.rows[2].cells[1]) == "Léa"
    assert problems[3] is not None and "byte 0x81 is not valid Windows-1252 text" in problems[3]


def test_a_bad_byte_in_the_header_is_a_file_error_naming_line_1() -> None:
    with pytest.raises(ResultsFileError, match="line 1: byte 0x81 is not valid Windows-1252"):
        read_table(b"Nom;Pr\x81nom\nDurand;Camille\n", "r.csv", FileFormat.CSV)


def test_utf8_with_a_stray_byte_is_not_misread_as_windows_1252() -> None:
    raw = "Nom,Prénom\nŻółć,Łukasz\n".encode() + b"Dupont,Ren\xe9e\n"
    table = read_table(raw, "r.csv", FileFormat.CSV)
    assert table.encoding == "UTF-8"
    assert cell_text(table.rows[0].cells[0]) == "Żółć"
    assert "byte 0xE9 is not valid UTF-8 text" in (table.rows[1].problem or "")


@pytest.mark.parametrize(
    "text,delimiter",
    [
        ('nom,prénom,centre\nDurand,Camille,"Lyon; Rhône"\n', ","),
        ('nom;prénom;centre\n"Durand, Jr";Camille;Lyon, Rhône\n', ";"),
        ("nom\tprénom\tcentre\nDurand\tCamille\tLyon; Rhône, France\n", "\t"),
    ],
    ids=["comma", "semicolon", "tab"],
)
def test_separator_is_sniffed(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter
    table = read_table(text.encode(), "r.csv", FileFormat.CSV)
    assert table.header == ("nom", "prénom", "centre") and len(table.rows[0].cells) == 3


def test_csv_line_numbers_count_quoted_line_breaks() -> None:
    raw = b'nom,remarque\nDurand,"deux\nlignes"\n\nBenali,ok\n'
    table = read_table(raw, "r.csv", FileFormat.CSV)
    assert [r.line for r in table.rows] == [2, 5]


@pytest.mark.parametrize(
    "value,expected",
    [
        ("14/10/2026", date(2026, 10, 14)),
        ("4/1/2026", date(2026, 1, 4)),
        ("14.10.2026", date(2026, 10, 14)),
        ("2026-10-14", date(2026, 10, 14)),
        ("2026-10-14 00:00:00", date(2026, 10, 14)),
        ("2026/10/14", date(2026, 10, 14)),
        ("46309", date(2026, 10, 14)),
        (46309, date(2026, 10, 14)),
        (46309.0, date(2026, 10, 14)),
        (Decimal("46309"), date(2026, 10, 14)),
        (datetime(2026, 10, 14, 0, 0), date(2026, 10, 14)),
    ],
)
def test_dates_as_spreadsheets_store_them(value: Any, expected: date) -> None:
    assert cell_date(value) == expected


@pytest.mark.parametrize("value", ["10/14/2026", "14/10/26", "octobre 2026", 46309.5, "31/02/2026"])
def test_ambiguous_or_impossible_dates_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        cell_date(value)
