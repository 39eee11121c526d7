"""Render one certificate as a bilingual (French/English) one-page A4 PDF, ready to be signed."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import qrcode
from reportlab import rl_config
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFDate, PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from issuer.content import CertificateContent, IssuerBranding, SkillResult
from issuer.errors import RenderError

FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian/Ubuntu: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu"),  # Fedora, Alpine
    Path("/usr/share/fonts/TTF"),  # Arch
)
# All three ship in Debian's fonts-dejavu-core: wide Latin, Greek and Cyrillic coverage.
# Each embedded subset weighs about 18 kB, so the page sticks to three faces.
FONT_FILES = {
    "Sceau-Sans": "DejaVuSans.ttf",
    "Sceau-Sans-Bold": "DejaVuSans-Bold.ttf",
    "Sceau-Serif-Bold": "DejaVuSerif-Bold.ttf",
}
SANS, SANS_BOLD, SERIF_BOLD = FONT_FILES

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 64.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
INK = HexColor("#1b2a41")  # dark navy, prints well in grey scale too
MUTED = HexColor("#5a6270")  # the English line under each French one
RULE = HexColor("#9aa3b0")
PANEL = HexColor("#f3f5f8")
FOOTER_TOP = 206.0  # the rule between the body and the signature footer
PAGE_BOTTOM = 38.0  # lowest baseline, just above the inner frame
QR_SIZE = 84.0
MAX_SKILLS = 6


@dataclass(frozen=True)
class _Label:
    """A French label and its English translation."""

    fr: str
    en: str

    def text(self) -> str:
        return self.fr if self.fr == self.en else f"{self.fr} / {self.en}"


TITLE = _Label("Certificat de résultats", "Certificate of results")
CERTIFIES = _Label("Le présent certificat atteste que", "This is to certify that")
BORN_ON = _Label("né(e) le", "born on")
CANDIDATE_NO = _Label("n° de candidat", "candidate no.")
SAT = _Label("a obtenu à l'examen", "has achieved in the examination")
LANGUAGE = _Label("Langue", "Language")
SESSION = _Label("Session", "Session date")
CENTRE = _Label("Centre d'examen", "Exam centre")
LEVEL = _Label("Niveau CECRL", "CEFR level")
SCORE = _Label("Score", "Score")
SKILL = _Label("Compétence", "Skill")
SKILL_LEVEL = _Label("Niveau", "Level")
ISSUED_ON = _Label("Délivré le", "Issued on")
CERTIFICATE_ID = _Label("Identifiant du certificat", "Certificate ID")
SIGNED_FR = (
    "Ce document est signé électroniquement par {issuer} (signature PAdES). Pour en vérifier "
    "l'authenticité et le statut, scannez le code QR ou ouvrez l'adresse indiquée, puis "
    "déposez-y ce fichier PDF. Une copie imprimée ne porte pas la signature électronique."
)
SIGNED_EN = (
    "This document is electronically signed by {issuer} (PAdES signature). To check that it is "
    "authentic and still valid, scan the QR code or open the address shown, then drop this PDF "
    "file there. A printed copy does not carry the electronic signature."
)


def render_certificate(content: CertificateContent, *, branding: IssuerBranding) -> bytes:
    """Return the unsigned PDF of one certificate; the same input gives the same bytes."""
    _check_printable(content)
    _prepare_reportlab()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    _set_document_info(canvas, content, branding)
    _draw_frame(canvas)
    cursor = _draw_heading(canvas, branding, top=PAGE_HEIGHT - 80)
    cursor = _draw_candidate(canvas, content, top=cursor)
    cursor = _draw_exam(canvas, content, top=cursor)
    cursor = _draw_result(canvas, content, top=cursor)
    cursor = _draw_skills(canvas, content.skills, top=cursor)
    if cursor < FOOTER_TOP + 8:
        raise RenderError("the certificate's text does not fit on one page; shorten it")
    _draw_footer(canvas, content, branding)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _check_printable(content: CertificateContent) -> None:
    if content.level is None and content.score is None and not content.skills:
        raise RenderError("the result has no level, score or skill result to print")
    if len(content.skills) > MAX_SKILLS:
        raise RenderError(f"at most {MAX_SKILLS} skill results fit on a certificate")


@functools.cache
def _prepare_reportlab() -> None:
    """Once per process: register the embedded fonts, drop ASCII85 (bigger, slower PDFs)."""
    rl_config.useA85 = 0
    for name, file_name in FONT_FILES.items():
        path = _find_font(file_name)
        try:
            pdfmetrics.registerFont(TTFont(name, str(path)))
        except TTFError as error:
            raise RenderError(f"the font {path} cannot be used: {error}") from error


def _find_font(file_name: str) -> Path:
    for directory in FONT_DIRECTORIES:
        if (directory / file_name).is_file():
            return directory / file_name
    searched = ", ".join(str(d) for d in FONT_DIRECTORIES)
    raise RenderError(
        f"font {file_name} not found in {searched}; "
        "install DejaVu (apt-get install fonts-dejavu-core)"
    )


class _CertificateInfo(PDFInfo):  # type: ignore[misc]  # reportlab is untyped
    """Document information with the certificate id, so a dropped copy can be traced."""

    def __init__(self, certificate_id: str, issued_on: date) -> None:
        super().__init__()
        self.certificate_id = certificate_id
        self.issued_on = issued_on

    def format(self, document: Any) -> bytes:
        # Mirrors PDFInfo.format, plus our key; dates are the issue date, so output is stable.
        pdf_date = PDFDate(dateFormatter=lambda *_: f"D:{self.issued_on:%Y%m%d}000000Z")
        entries = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "Subject": PDFString(self.subject),
            "Creator": PDFString(self.creator),
            "Producer": PDFString(self.producer),
            "CreationDate": pdf_date,
            "ModDate": pdf_date,
            "Trapped": PDFName(self.trapped),
            "SceauCertificateId": PDFString(self.certificate_id),
        }
        formatted: bytes = PDFDictionary(entries).format(document)
        return formatted


def _set_document_info(
    canvas: Canvas, content: CertificateContent, branding: IssuerBranding
) -> None:
    """Title and certificate id only: no personal data goes into the metadata."""
    canvas._doc.info = _CertificateInfo(content.certificate_id, content.issued_on)
    canvas.setTitle(f"{TITLE.text()} {content.certificate_id}")
    canvas.setAuthor(branding.name)
    canvas.setSubject(TITLE.text())
    canvas.setCreator("Sceau")


def _draw_frame(canvas: Canvas) -> None:
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(1.6)
    canvas.rect(28, 28, PAGE_WIDTH - 56, PAGE_HEIGHT - 56)
    canvas.setLineWidth(0.5)
    canvas.rect(33, 33, PAGE_WIDTH - 66, PAGE_HEIGHT - 66)


def _draw_heading(canvas: Canvas, branding: IssuerBranding, *, top: float) -> float:
    y = _centred(canvas, branding.name.upper(), SANS_BOLD, 12, top=top, min_size=8, max_lines=2)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.8)
    canvas.line(PAGE_WIDTH / 2 - 40, y - 10, PAGE_WIDTH / 2 + 40, y - 10)
    y = _centred(canvas, TITLE.fr, SERIF_BOLD, 28, top=y - 50)
    return _centred(canvas, TITLE.en, SANS, 14, top=y - 22, color=MUTED)


def _draw_candidate(canvas: Canvas, content: CertificateContent, *, top: float) -> float:
    y = _bilingual_centred(canvas, CERTIFIES, top=top - 40)
    y = _centred(canvas, content.candidate_name, SERIF_BOLD, 22, top=y - 32, min_size=12)
    details = (
        f"{BORN_ON.text()} {_format_date(content.date_of_birth)}   ·   "
        f"{CANDIDATE_NO.text()} {content.candidate_number}"
    )
    return _centred(canvas, details, SANS, 10, top=y - 22, min_size=7)


def _draw_exam(canvas: Canvas, content: CertificateContent, *, top: float) -> float:
    y = _bilingual_centred(canvas, SAT, top=top - 30)
    y = _centred(canvas, content.exam, SERIF_BOLD, 16, top=y - 26, min_size=10)
    rows = [
        (LANGUAGE, content.language),
        (SESSION, _format_date(content.session_date)),
        (CENTRE, content.centre),
    ]
    y -= 30
    for label, value in rows:
        y = _label_value_row(canvas, label, value, top=y)
    return y


def _draw_result(canvas: Canvas, content: CertificateContent, *, top: float) -> float:
    cells = []
    if content.level is not None:
        cells.append((LEVEL, content.level.value))
    if content.score is not None:
        cells.append((SCORE, _format_score(content.score, content.score_max)))
    if not cells:
        return top
    height, gap = 54.0, 14.0
    width = (CONTENT_WIDTH - gap * (len(cells) - 1)) / len(cells)
    bottom = top - 8 - height
    for index, (label, value) in enumerate(cells):
        x = MARGIN + index * (width + gap)
        canvas.setFillColor(PANEL)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.6)
        canvas.roundRect(x, bottom, width, height, 4, stroke=1, fill=1)
        _text(canvas, label.text(), SANS, 8.5, x + width / 2, bottom + height - 16, MUTED, "c")
        size = _fitted_size(value, SERIF_BOLD, 24, 12, width - 16)
        _text(canvas, value, SERIF_BOLD, size, x + width / 2, bottom + 14, INK, "c")
    return bottom


def _draw_skills(canvas: Canvas, skills: tuple[SkillResult, ...], *, top: float) -> float:
    if not skills:
        return top
    show_level = any(s.level is not None for s in skills)
    show_score = any(s.score is not None for s in skills)
    columns = [SKILL] + [SKILL_LEVEL] * show_level + [SCORE] * show_score
    widths = _column_widths(len(columns))
    row_height, y = 15.0, top - 26
    _table_row(canvas, [c.text() for c in columns], widths, y, SANS, MUTED, 8)
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, y - 5, MARGIN + CONTENT_WIDTH, y - 5)
    for skill in skills:
        y -= row_height
        cells = [skill.skill]
        cells += [skill.level.value if skill.level else "—"] * show_level
        cells += [_format_decimal(skill.score) if skill.score is not None else "—"] * show_score
        _table_row(canvas, cells, widths, y, SANS, INK, 9.5)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.3)
        canvas.line(MARGIN, y - 5, MARGIN + CONTENT_WIDTH, y - 5)
    return y - 5


def _column_widths(count: int) -> list[float]:
    if count == 1:
        return [CONTENT_WIDTH]
    other = 110.0
    return [CONTENT_WIDTH - other * (count - 1)] + [other] * (count - 1)


def _table_row(
    canvas: Canvas,
    cells: list[str],
    widths: list[float],
    y: float,
    font: str,
    color: Color,
    size: float,
) -> None:
    x = MARGIN
    for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        fitted = _fitted_size(cell, font, size, 6, width - 8)
        if index == 0:
            _text(canvas, cell, font, fitted, x + 4, y, color, "l")
        else:
            _text(canvas, cell, font, fitted, x + width / 2, y, color, "c")
        x += width


def _draw_footer(canvas: Canvas, content: CertificateContent, branding: IssuerBranding) -> None:
    url = branding.status_url(content.certificate_id)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, FOOTER_TOP, PAGE_WIDTH - MARGIN, FOOTER_TOP)
    qr_bottom = FOOTER_TOP - 12 - QR_SIZE
    _draw_qr(canvas, url, x=PAGE_WIDTH - MARGIN - QR_SIZE, y=qr_bottom, size=QR_SIZE)
    url_size = _fitted_size(url, SANS, 7, 4, CONTENT_WIDTH / 2)
    _text(canvas, url, SANS, url_size, PAGE_WIDTH - MARGIN, qr_bottom - 10, INK, "r")
    _draw_issue_details(canvas, content, top=FOOTER_TOP - 26)
    y = _paragraph(canvas, SIGNED_FR.format(issuer=branding.name), top=qr_bottom - 30, color=INK)
    y = _paragraph(canvas, SIGNED_EN.format(issuer=branding.name), top=y - 11, color=MUTED)
    if y < PAGE_BOTTOM:
        raise RenderError("the issuer's name is too long for the signature notice")


def _draw_issue_details(canvas: Canvas, content: CertificateContent, *, top: float) -> None:
    width = CONTENT_WIDTH - QR_SIZE - 24
    _text(canvas, ISSUED_ON.text(), SANS, 8, MARGIN, top, MUTED, "l")
    _text(canvas, _format_date(content.issued_on), SANS_BOLD, 11, MARGIN, top - 15, INK, "l")
    _text(canvas, CERTIFICATE_ID.text(), SANS, 8, MARGIN, top - 38, MUTED, "l")
    id_size = _fitted_size(content.certificate_id, SANS, 10, 6, width)
    _text(canvas, content.certificate_id, SANS, id_size, MARGIN, top - 53, INK, "l")


def _paragraph(canvas: Canvas, text: str, *, top: float, color: Color) -> float:
    """Draw a small full-width paragraph; return its last baseline."""
    y = top
    for index, line in enumerate(_wrap(text, SANS, 6.8, CONTENT_WIDTH)):
        y = top - index * 8.2
        _text(canvas, line, SANS, 6.8, MARGIN, y, color, "l")
    return y


def _draw_qr(canvas: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    """Draw the QR code as one vector path (crisp at any zoom, no bitmap to embed)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    module = size / len(matrix)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        row_y = y + size - (row_index + 1) * module
        for start, length in _dark_runs(row):
            path.rect(x + start * module, row_y, length * module, module)
    canvas.setFillColor(HexColor("#000000"))
    canvas.drawPath(path, stroke=0, fill=1)


def _dark_runs(row: list[bool]) -> Iterable[tuple[int, int]]:
    """Yield (start, length) of each run of dark modules in a QR row."""
    start = None
    for index, dark in enumerate([*row, False]):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            yield start, index - start
            start = None


def _label_value_row(canvas: Canvas, label: _Label, value: str, *, top: float) -> float:
    label_x, value_x = MARGIN + 24, MARGIN + 160
    _text(canvas, label.fr, SANS, 9, label_x, top, INK, "l")
    _text(canvas, label.en, SANS, 7.5, label_x, top - 10, MUTED, "l")
    size, lines = _value_lines(value, width=MARGIN + CONTENT_WIDTH - 24 - value_x)
    for index, line in enumerate(lines):
        _text(canvas, line, SANS_BOLD, size, value_x, top - index * size * 1.2, INK, "l")
    return top - max(24.0, size * 1.2 * len(lines) + 12)


def _value_lines(value: str, *, width: float) -> tuple[float, list[str]]:
    """Up to two lines at the normal size, else up to four smaller ones."""
    for size, max_lines in ((10.0, 2), (8.0, 4)):
        lines = _wrap(value, SANS_BOLD, size, width)
        if len(lines) <= max_lines:
            return size, lines
    raise RenderError(f"text too long to print on the certificate: {value[:40]}…")


def _bilingual_centred(canvas: Canvas, label: _Label, *, top: float) -> float:
    return _centred(canvas, label.text(), SANS, 10, top=top, color=MUTED)


def _centred(
    canvas: Canvas,
    text: str,
    font: str,
    size: float,
    *,
    top: float,
    min_size: float | None = None,
    max_lines: int = 3,
    color: Color = INK,
) -> float:
    """Draw ``text`` centred, shrinking then wrapping it; return the last baseline."""
    size = _fitted_size(text, font, size, min_size or size, CONTENT_WIDTH)
    lines = _wrap(text, font, size, CONTENT_WIDTH)
    if len(lines) > max_lines:
        raise RenderError(f"text too long to print on the certificate: {text[:40]}…")
    y = top
    for index, line in enumerate(lines):
        y = top - index * size * 1.2
        _text(canvas, line, font, size, PAGE_WIDTH / 2, y, color, "c")
    return y


def _fitted_size(text: str, font: str, size: float, min_size: float, width: float) -> float:
    """Largest size from ``size`` down to ``min_size`` (half-point steps) at which text fits."""
    while size > min_size and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return max(size, min_size)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is cut between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if pdfmetrics.stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if pdfmetrics.stringWidth(current + char, font, size) > width and current:
                lines.append(current)
                current = ""
            current += char
    return [*lines, current] if current else lines


def _text(
    canvas: Canvas, text: str, font: str, size: float, x: float, y: float, color: Color, align: str
) -> None:
    canvas.setFont(font, size)
    canvas.setFillColor(color)
    if align == "c":
        canvas.drawCentredString(x, y, text)
    elif align == "r":
        canvas.drawRightString(x, y, text)
    else:
        canvas.drawString(x, y, text)


def _format_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _format_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _format_score(score: Decimal, score_max: Decimal | None) -> str:
    if score_max is None:
        return _format_decimal(score)
    return f"{_format_decimal(score)} / {_format_decimal(score_max)}"
