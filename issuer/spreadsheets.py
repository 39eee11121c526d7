"""Results files as spreadsheets write them: CSV in any common dialect and encoding, XLSX, ODS.

The format is found from the bytes (a ZIP holding a workbook, JSON, or text), never from the
file's name alone. Text is UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1252 as
Excel writes it in France; a byte that is not valid in the encoding found marks its own line.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from issuer.errors import IssuanceError

CellValue = str | int | float | Decimal | bool | date | datetime | time | None

_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap-year bug included)
_MAX_ROWS = 200_000
# Valid UTF-8 sequences of two or more bytes: their presence says a file was meant as UTF-8.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


class ResultsFileError(IssuanceError):
    """The file as a whole cannot be read (not the fault of one row)."""


class FileFormat(StrEnum):
    CSV = "CSV"
    XLSX = "XLSX"
    ODS = "ODS"
    JSON = "JSON"


@dataclass(frozen=True)
class TableRow:
    """One non-empty row of a sheet, with its line number as the admin sees it."""

    line: int
    cells: tuple[CellValue, ...]
    problem: str | None = None  # e.g. bytes not valid in the file's encoding


@dataclass(frozen=True)
class Table:
    """A sheet read from a results file: its header and its rows, and how it was read."""

    file_format: FileFormat
    header: tuple[str, ...]
    rows: tuple[TableRow, ...]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def __post_init__(self) -> None:
        if not self.header:
            raise ResultsFileError("no header line")

    @property
    def described(self) -> str:
        """How the file was read, in a few words: "CSV, Windows-1252, separator ';'"."""
        parts = [self.file_format.value]
        if self.encoding:
            parts.append(self.encoding)
        if self.delimiter:
            parts.append(f"separator {_DELIMITER_NAMES[self.delimiter]}")
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        return ", ".join(parts)


def detect_format(raw: bytes, name: str) -> FileFormat:
    """What the bytes are; the name only breaks a tie between JSON and text."""
    if raw.startswith(b"PK\x03\x04"):
        return _workbook_format(raw, name)
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise ResultsFileError(
            f"{name}: unsupported format, an old Excel workbook (.xls); save it as .xlsx, "
            ".ods or CSV"
        )
    if raw.startswith(b"%PDF"):
        raise ResultsFileError(f"{name}: unsupported format, a PDF; use CSV, XLSX, ODS or JSON")
    start = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if Path(name).suffix.lower() == ".json" or start in (b"{", b"["):
        return FileFormat.JSON
    return FileFormat.CSV


def _workbook_format(raw: bytes, name: str) -> FileFormat:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == _ODS_MIMETYPE:
                return FileFormat.ODS
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise ResultsFileError(f"{name} is a damaged ZIP archive ({exc})") from None
    if "xl/workbook.xml" in names:
        return FileFormat.XLSX
    raise ResultsFileError(f"{name} is a ZIP archive but neither an XLSX nor an ODS spreadsheet")


def read_table(raw: bytes, name: str, file_format: FileFormat) -> Table:
    """The first sheet of a CSV, XLSX or ODS file."""
    if file_format is FileFormat.XLSX:
        return _xlsx_table(raw, name)
    if file_format is FileFormat.ODS:
        return _ods_table(raw, name)
    if file_format is FileFormat.CSV:
        return _csv_table(raw, name)
    raise ResultsFileError(f"{name}: {file_format} is not a sheet")


# --- text and CSV ------------------------------------------------------------------------------


def decode_text(raw: bytes) -> tuple[str, str]:
    """(text, encoding label). Bytes not valid in the encoding found stay as lone surrogates."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="surrogateescape"), "UTF-8 with BOM"
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            try:
                return raw[2:].decode(codec), "UTF-16"
            except UnicodeDecodeError as exc:
                raise ResultsFileError(f"not valid UTF-16 (byte {exc.start + 2})") from None
    if b"\x00" in raw:
        raise ResultsFileError("not a text file (it holds NUL bytes); save it as CSV or XLSX")
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    if _looks_like_utf8(raw):  # UTF-8 with a few stray bytes: those lines are rejected
        return raw.decode("utf-8", errors="surrogateescape"), "UTF-8"
    return raw.decode("cp1252", errors="surrogateescape"), "Windows-1252"


def _looks_like_utf8(raw: bytes) -> bool:
    valid = len(_UTF8_MULTIBYTE.findall(raw))
    stray = sum(1 for b in _UTF8_MULTIBYTE.sub(b"", raw) if b >= 0x80)
    return valid > 0 and valid >= stray


def undecodable_bytes(text: str) -> list[str]:
    """The bytes (as 0xNN) that decode_text could not decode in this text."""
    return [f"0x{ord(ch) - 0xDC00:02X}" for ch in text if "\udc80" <= ch <= "\udcff"]


def _csv_table(raw: bytes, name: str) -> Table:
    try:
        text, encoding = decode_text(raw)
    except ResultsFileError as exc:
        raise ResultsFileError(f"{name}: {exc}") from None
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = _csv_records(reader, name)
    header_line, header_cells = next(records, (0, []))
    if not header_cells:
        raise ResultsFileError(f"{name}: no header line")
    if bad := undecodable_bytes("".join(header_cells)):
        raise ResultsFileError(
            f"{name}: line {header_line}: byte {bad[0]} is not valid {encoding} text"
        )
    header = _trimmed_header(header_cells)
    rows = tuple(_csv_row(line, cells, len(header), encoding) for line, cells in records)
    return Table(FileFormat.CSV, header, rows, encoding=encoding, delimiter=delimiter)


def _csv_records(reader: Any, name: str) -> Any:
    """(line where the record starts, cells) of each non-empty record."""
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ResultsFileError(f"{name}: line {line}: {exc}") from None
        if any(c.strip() for c in cells):
            yield line, cells
        line = reader.line_num + 1


def _csv_row(line: int, cells: list[str], width: int, encoding: str) -> TableRow:
    problem = None
    if bad := undecodable_bytes("".join(cells)):
        problem = (
            f"byte {', '.join(dict.fromkeys(bad))} is not valid {encoding} text; "
            "save the file again as UTF-8 (or fix the character)"
        )
    elif len(cells) > width and any(c.strip() for c in cells[width:]):
        problem = f"{len(cells)} cells where the header has {width}"
    return TableRow(line, tuple(cells), problem)


def sniff_delimiter(text: str) -> str:
    """The separator that gives the widest header and the most rows of that same width."""
    sample = text[:65536]
    best, best_score = ",", (0.0, 0)
    for delimiter in _DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            widths = [len(r) for _, r in zip(range(50), reader, strict=False) if any(r)]
        except csv.Error:
            continue
        if len(widths) < 1 or widths[0] < 2:
            continue
        agreement = sum(1 for w in widths if w == widths[0]) / len(widths)
        if (agreement, widths[0]) > best_score:
            best, best_score = delimiter, (agreement, widths[0])
    return best


def _trimmed_header(cells: list[Any] | tuple[Any, ...]) -> tuple[str, ...]:
    header = [cell_text(c) for c in cells]
    while header and not header[-1]:
        header.pop()
    return tuple(header)


# --- XLSX --------------------------------------------------------------------------------------


def _xlsx_table(raw: bytes, name: str) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(raw), data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ResultsFileError(f"{name} is not a readable XLSX workbook ({exc})") from None
    sheet = book.worksheets[0]
    lines = ((n, tuple(v)) for n, v in enumerate(sheet.iter_rows(values_only=True), start=1))
    return _sheet_table(FileFormat.XLSX, name, sheet.title, lines, len(book.worksheets))


def _sheet_table(file_format: FileFormat, name: str, title: str, lines: Any, sheets: int) -> Table:
    """Header and rows from (line, cells) of a workbook sheet; empty rows are skipped."""
    header: tuple[str, ...] = ()
    rows: list[TableRow] = []
    for line, cells in lines:
        if not any(cell_text(c) for c in cells):
            continue
        if not header:
            header = _trimmed_header(cells)
            continue
        extra = [c for c in cells[len(header) :] if cell_text(c)]
        problem = f"a cell beyond the header's {len(header)} columns" if extra else None
        rows.append(TableRow(line, tuple(cells[: len(header)]), problem))
        if len(rows) > _MAX_ROWS:
            raise ResultsFileError(f"{name}: more than {_MAX_ROWS} rows")
    if not header:
        raise ResultsFileError(f"{name}: the first sheet ({title!r}) is empty")
    return Table(file_format, header, tuple(rows), sheet=title if sheets > 1 else None)


# --- ODS ---------------------------------------------------------------------------------------


def _ods_table(raw: bytes, name: str) -> Table:
    from odf.opendocument import load
    from odf.table import Table as OdsTable

    try:
        document = load(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ExpatError, ValueError) as exc:
        raise ResultsFileError(f"{name} is not a readable ODS spreadsheet ({exc})") from None
    sheets = document.spreadsheet.getElementsByType(OdsTable)
    if not sheets:
        raise ResultsFileError(f"{name}: the spreadsheet has no sheet")
    first = sheets[0]
    title = str(first.getAttribute("name") or "")
    return _sheet_table(FileFormat.ODS, name, title, _ods_lines(first), len(sheets))


def _ods_lines(sheet: Any) -> Any:
    """(line, cells) of an ODS sheet, with repeated rows and cells expanded."""
    from odf.table import TableRow as OdsRow

    line = 0
    for row in sheet.getElementsByType(OdsRow):
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        cells = _ods_cells(row)
        if not any(cell_text(c) for c in cells):
            line += repeat  # LibreOffice pads sheets with up to a million empty rows
            continue
        for _ in range(min(repeat, _MAX_ROWS)):
            line += 1
            yield line, cells


def _ods_cells(row: Any) -> tuple[CellValue, ...]:
    cells: list[CellValue] = []
    for cell in row.childNodes:
        if cell.qname[1] not in ("table-cell", "covered-table-cell"):
            continue
        value = _ods_value(cell)
        repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
        cells.extend([value] * min(repeat, 1024))
    while cells and not cell_text(cells[-1]):
        cells.pop()
    return tuple(cells)


def _ods_value(cell: Any) -> CellValue:
    from odf import teletype
    from odf.text import P

    kind = cell.getAttribute("valuetype")
    if kind == "date":
        stamp = str(cell.getAttribute("datevalue"))
        return datetime.fromisoformat(stamp) if "T" in stamp else date.fromisoformat(stamp)
    if kind in ("float", "percentage", "currency"):
        return Decimal(str(cell.getAttribute("value")))
    if kind == "boolean":
        return str(cell.getAttribute("booleanvalue")) == "true"
    return "\n".join(teletype.extractText(p) for p in cell.getElementsByType(P))


# --- cell values -------------------------------------------------------------------------------


def cell_text(value: CellValue) -> str:
    """A cell as text: numbers without a spurious ".0", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def cell_date(value: CellValue) -> date:
    """A date as spreadsheets store it; ValueError says what was expected."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _serial_date(Decimal(str(value)))
    text = cell_text(value)
    if re.fullmatch(r"\d{5}(\.0+)?", text):  # a date cell exported as its serial number
        return _serial_date(Decimal(text))
    if match := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})( 00:00(:00)?)?", text):
        day, month, year = (int(p) for p in match.groups()[:3])
        return date(year, month, day)
    if match := re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})([ T]00:00(:00)?)?", text):
        year, month, day = (int(p) for p in match.groups()[:3])
        return date(year, month, day)
    raise ValueError(f"{text!r} is not a date (DD/MM/YYYY or YYYY-MM-DD)")


def _serial_date(serial: Decimal) -> date:
    try:
        days = int(serial)
    except (InvalidOperation, OverflowError, ValueError):
        raise ValueError(f"{serial} is not a date") from None
    if days != serial or not 1 <= days <= 2958465:
        raise ValueError(f"{serial} is not a date serial number")
    return _EXCEL_EPOCH + timedelta(days=days)
