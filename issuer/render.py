"""Render one certificate as a one-page A4 PDF in the design's languages, ready to be signed.

Text of every script is shaped (issuer/shaping.py) and drawn with subsets of Noto faces
(issuer/fonts.py, issuer/embedding.py); rules, panels, images and the QR code are drawn
with reportlab's operators, and the file is written by issuer/pdf_file.py. The words,
colours and images come from the issuer's design (issuer/design.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from issuer.content import CefrLevel, CertificateContent, IssuerBranding, SkillResult
from issuer.design import Design, built_in_design
from issuer.errors import RenderError
from issuer.fonts import Style, cjk_variant_for, undrawable_characters
from issuer.page_drawing import (
    CONTENT_WIDTH,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Page,
    draw_centred,
    draw_image,
    draw_paragraph,
    draw_qr,
    draw_text,
    fitted_size,
    wrap,
)
from issuer.page_text import DocumentFonts
from issuer.pdf_file import pdf_date, single_page, text_string

TEXT, STRONG, DISPLAY = Style.TEXT, Style.STRONG, Style.DISPLAY
FOOTER_TOP = 206.0  # the rule between the body and the signature footer
PAGE_BOTTOM = 38.0  # lowest baseline, just above the inner frame
QR_SIZE = 84.0
LOGO_HEIGHT = 40.0
SIGNATURE_BOX = (170.0, 44.0)  # width, height of the signature image's place
MAX_SKILLS = 6


def render_certificate(
    content: CertificateContent, *, branding: IssuerBranding, design: Design | None = None
) -> bytes:
    """Return the unsigned PDF of one certificate; the same input gives the same bytes."""
    design = design or built_in_design()
    look = design.look_for(content.exam)
    _check_printable(content)
    skills = [(design.skill_names(s.skill, look.languages), s) for s in content.skills]
    _check_drawable(content, branding, [name for names, _ in skills for name in names])
    canvas = Canvas(BytesIO(), pagesize=A4, invariant=1)  # its operators only
    DocumentFonts.claim(canvas)
    page = Page(
        canvas=canvas,
        fonts=DocumentFonts(),
        look=look,
        variant=cjk_variant_for(content.candidate_name, look.languages[0]),
        colours={name: HexColor(value) for name, value in look.colours.model_dump().items()},
    )
    _draw_frame(page)
    cursor = _draw_heading(page, branding, top=PAGE_HEIGHT - 80)
    cursor = _draw_candidate(page, content, top=cursor)
    cursor = _draw_exam(page, content, top=cursor)
    cursor = _draw_result(page, content, top=cursor)
    cursor = _draw_skills(page, skills, top=cursor)
    if cursor < FOOTER_TOP + 8:
        raise RenderError("the certificate's text does not fit on one page; shorten it")
    _draw_footer(page, content, branding)
    return single_page(
        content="\n".join([canvas._preamble, *canvas._code, " "]) + "\n",  # as reportlab
        size=A4,
        fonts=page.fonts.objects(),
        images=page.images.values(),
        info=_document_info(page, content, branding),
    )


def render_sample(
    design: Design, *, exam: str | None, branding: IssuerBranding | None = None
) -> bytes:
    """A page of realistic sample content in ``exam``'s look (the design check renders it)."""
    sample = CertificateContent(
        certificate_id="0" * 32,
        result_id="sample",
        candidate_name="Marie-Hélène Ørsted-Nguyễn",
        date_of_birth=date(1990, 1, 31),
        candidate_number="SAMPLE-0001",
        exam=exam or "Diplôme de compétence en langue (DCL)",
        language="Anglais / English",
        level=CefrLevel.B2,
        score=Decimal("78.5"),
        score_max=Decimal("100"),
        skills=tuple(
            SkillResult(skill=skill, level=CefrLevel.B2)
            for skill in ("listening", "reading", "writing", "speaking")
        ),
        session_date=date(2026, 1, 31),
        centre="Centre d'examen agréé de Lyon Part-Dieu",
        issued_on=date(2026, 2, 28),
    )
    branding = branding or IssuerBranding(
        name="Centre d'examens", public_base_url="https://certificates.example.org"
    )
    return render_certificate(sample, branding=branding, design=design)


def _check_printable(content: CertificateContent) -> None:
    if content.level is None and content.score is None and not content.skills:
        raise RenderError("the result has no level, score or skill result to print")
    if len(content.skills) > MAX_SKILLS:
        raise RenderError(f"at most {MAX_SKILLS} skill results fit on a certificate")


def _check_drawable(
    content: CertificateContent, branding: IssuerBranding, skill_names: list[str]
) -> None:
    """Refuse a page that would print a missing glyph; name the field and the code points."""
    fields = {
        "candidate_name": content.candidate_name,
        "candidate_number": content.candidate_number,
        "exam": content.exam,
        "language": content.language,
        "centre": content.centre,
        "skill": " ".join(skill_names),
        "issuer name": branding.name,
    }
    for field, text in fields.items():
        missing = undrawable_characters(text or "")
        if missing:
            codes = ", ".join(f"U+{ord(char):04X}" for char in missing)
            raise RenderError(f"{field}: no embedded font can draw {codes}")


def _document_info(
    page: Page, content: CertificateContent, branding: IssuerBranding
) -> dict[str, str]:
    """Title and certificate id only: no personal data goes into the metadata. The dates are
    the issue date, so the same certificate gives the same bytes."""
    issued = pdf_date(content.issued_on)
    return {
        "Title": text_string(f"{page.label('title')} {content.certificate_id}"),
        "Author": text_string(branding.name),
        "Subject": text_string(page.label("title")),
        "Creator": text_string("Sceau"),
        "Producer": text_string("Sceau (reportlab drawing)"),
        "CreationDate": issued,
        "ModDate": issued,
        "Trapped": "/False",
        # The certificate id, so a dropped copy can be traced (issuer/signing.py reads it).
        "SceauCertificateId": text_string(content.certificate_id),
    }


def _draw_frame(page: Page) -> None:
    canvas = page.canvas
    canvas.setStrokeColor(page.colours["ink"])
    canvas.setLineWidth(1.6)
    canvas.rect(28, 28, PAGE_WIDTH - 56, PAGE_HEIGHT - 56)
    canvas.setLineWidth(0.5)
    canvas.rect(33, 33, PAGE_WIDTH - 66, PAGE_HEIGHT - 66)


def _draw_heading(page: Page, branding: IssuerBranding, *, top: float) -> float:
    if page.look.logo is not None:
        box = (CONTENT_WIDTH / 2, LOGO_HEIGHT)
        draw_image(page, page.look.logo, PAGE_WIDTH / 2, top - LOGO_HEIGHT + 24, box)
        top -= LOGO_HEIGHT - 4
    y = draw_centred(page, branding.name.upper(), STRONG, 12, top=top, min_size=8, max_lines=2)
    canvas = page.canvas
    canvas.setStrokeColor(page.colours["rule"])
    canvas.setLineWidth(0.8)
    canvas.line(PAGE_WIDTH / 2 - 40, y - 10, PAGE_WIDTH / 2 + 40, y - 10)
    first, *others = page.labels("title")
    y = draw_centred(page, first, DISPLAY, 28, top=y - 50, min_size=16, colour="accent")
    for other in others:
        y = draw_centred(page, other, TEXT, 14, top=y - 22, min_size=9, colour="muted")
    return y


def _draw_candidate(page: Page, content: CertificateContent, *, top: float) -> float:
    y = draw_centred(page, page.label("certifies"), TEXT, 10, top=top - 40, colour="muted")
    y = draw_centred(page, content.candidate_name, DISPLAY, 22, top=y - 32, min_size=12)
    details = [f"{page.label('born_on')} {_format_date(content.date_of_birth)}"]
    if content.candidate_number:
        details.append(f"{page.label('candidate_no')} {content.candidate_number}")
    return draw_centred(page, "   ·   ".join(details), TEXT, 10, top=y - 22, min_size=7)


def _draw_exam(page: Page, content: CertificateContent, *, top: float) -> float:
    y = draw_centred(page, page.label("sat"), TEXT, 10, top=top - 30, colour="muted")
    y = draw_centred(page, content.exam, DISPLAY, 16, top=y - 26, min_size=10)
    rows = [("language", content.language), ("session", _format_date(content.session_date))]
    if content.centre:
        rows.append(("centre", content.centre))
    y -= 30
    for key, value in rows:
        y = _label_value_row(page, key, value, top=y)
    return y


def _draw_result(page: Page, content: CertificateContent, *, top: float) -> float:
    cells = []
    if content.level is not None:
        cells.append(("level", content.level.value))
    if content.score is not None:
        cells.append(("score", _format_score(content.score, content.score_max)))
    if not cells:
        return top
    height, gap = 54.0, 14.0
    width = (CONTENT_WIDTH - gap * (len(cells) - 1)) / len(cells)
    bottom = top - 8 - height
    canvas = page.canvas
    for index, (key, value) in enumerate(cells):
        x = MARGIN + index * (width + gap)
        canvas.setFillColor(page.colours["panel"])
        canvas.setStrokeColor(page.colours["rule"])
        canvas.setLineWidth(0.6)
        canvas.roundRect(x, bottom, width, height, 4, stroke=1, fill=1)
        label_size = fitted_size(page, page.label(key), TEXT, 8.5, 6, width - 12)
        draw_text(
            page,
            page.label(key),
            TEXT,
            label_size,
            x + width / 2,
            bottom + height - 16,
            "muted",
            "c",
        )
        size = fitted_size(page, value, DISPLAY, 24, 12, width - 16)
        draw_text(page, value, DISPLAY, size, x + width / 2, bottom + 14, "accent", "c")
    return bottom


def _draw_skills(page: Page, skills: list[tuple[list[str], SkillResult]], *, top: float) -> float:
    if not skills:
        return top
    show_level = any(s.level is not None for _, s in skills)
    show_score = any(s.score is not None for _, s in skills)
    columns = ["skill"] + ["skill_level"] * show_level + ["score"] * show_score
    widths = _column_widths(len(columns))
    row_height, y = 15.0, top - 26
    _table_row(page, [page.label(c) for c in columns], widths, y, "muted", 8)
    canvas = page.canvas
    canvas.setStrokeColor(page.colours["ink"])
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, y - 5, MARGIN + CONTENT_WIDTH, y - 5)
    for names, skill in skills:
        y -= row_height
        cells = [" / ".join(dict.fromkeys(names))]
        cells += [skill.level.value if skill.level else "—"] * show_level
        cells += [_format_decimal(skill.score) if skill.score is not None else "—"] * show_score
        _table_row(page, cells, widths, y, "ink", 9.5)
        canvas.setStrokeColor(page.colours["rule"])
        canvas.setLineWidth(0.3)
        canvas.line(MARGIN, y - 5, MARGIN + CONTENT_WIDTH, y - 5)
    return y - 5


def _column_widths(count: int) -> list[float]:
    if count == 1:
        return [CONTENT_WIDTH]
    other = 110.0
    return [CONTENT_WIDTH - other * (count - 1)] + [other] * (count - 1)


def _table_row(
    page: Page, cells: list[str], widths: list[float], y: float, colour: str, size: float
) -> None:
    x = MARGIN
    for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        fitted = fitted_size(page, cell, TEXT, size, 6, width - 8)
        if index == 0:
            draw_text(page, cell, TEXT, fitted, x + 4, y, colour, "l")
        else:
            draw_text(page, cell, TEXT, fitted, x + width / 2, y, colour, "c")
        x += width


def _draw_footer(page: Page, content: CertificateContent, branding: IssuerBranding) -> None:
    url = branding.status_url(content.certificate_id)
    canvas = page.canvas
    canvas.setStrokeColor(page.colours["rule"])
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, FOOTER_TOP, PAGE_WIDTH - MARGIN, FOOTER_TOP)
    qr_bottom = FOOTER_TOP - 12 - QR_SIZE
    draw_qr(canvas, url, x=PAGE_WIDTH - MARGIN - QR_SIZE, y=qr_bottom, size=QR_SIZE)
    url_size = fitted_size(page, url, TEXT, 7, 4, CONTENT_WIDTH / 2)
    draw_text(page, url, TEXT, url_size, PAGE_WIDTH - MARGIN, qr_bottom - 10, "ink", "r")
    _draw_issue_details(page, content, top=FOOTER_TOP - 26)
    _draw_signatory(page, bottom=qr_bottom + 4)
    y = qr_bottom - 19
    values = {
        "issuer": branding.name,
        "exam": content.exam,
        "centre": content.centre,
        "language": content.language,
    }
    for index, words in enumerate(page.look.words()):
        notice = words.signed_notice.format(**values)
        y = draw_paragraph(page, notice, top=y - 11, colour="muted" if index else "ink")
    if y < PAGE_BOTTOM:
        raise RenderError("the issuer's name is too long for the signature notice")


def _draw_issue_details(page: Page, content: CertificateContent, *, top: float) -> None:
    width = CONTENT_WIDTH - QR_SIZE - SIGNATURE_BOX[0] - 36
    issued = page.label("issued_on")
    draw_text(
        page, issued, TEXT, fitted_size(page, issued, TEXT, 8, 5, width), MARGIN, top, "muted", "l"
    )
    draw_text(page, _format_date(content.issued_on), STRONG, 11, MARGIN, top - 15, "ink", "l")
    label = page.label("certificate_id")
    draw_text(
        page,
        label,
        TEXT,
        fitted_size(page, label, TEXT, 8, 5, width),
        MARGIN,
        top - 38,
        "muted",
        "l",
    )
    id_size = fitted_size(page, content.certificate_id, TEXT, 10, 5, width)
    draw_text(page, content.certificate_id, TEXT, id_size, MARGIN, top - 53, "ink", "l")


def _draw_signatory(page: Page, *, bottom: float) -> None:
    """The signature image and the signatory's title, between the details and the QR code."""
    width, height = SIGNATURE_BOX
    centre = PAGE_WIDTH - MARGIN - QR_SIZE - 18 - width / 2
    titles = [title for title in page.labels("signatory") if title]
    if page.look.signature is not None:
        draw_image(page, page.look.signature, centre, bottom + 10 * len(titles), (width, height))
    for index, title in enumerate(titles):
        size = fitted_size(page, title, TEXT, 7.5, 5, width)
        y = bottom + 10 * (len(titles) - 1 - index)
        draw_text(page, title, TEXT, size, centre, y, "muted" if index else "ink", "c")


def _label_value_row(page: Page, key: str, value: str, *, top: float) -> float:
    label_x, value_x = MARGIN + 24, MARGIN + 160
    for index, label in enumerate(page.labels(key)):
        size = 9 if index == 0 else 7.5
        fitted = fitted_size(page, label, TEXT, size, 5, value_x - label_x - 8)
        draw_text(
            page, label, TEXT, fitted, label_x, top - 10 * index, "muted" if index else "ink", "l"
        )
    size, lines = _value_lines(page, value, width=MARGIN + CONTENT_WIDTH - 24 - value_x)
    for index, line in enumerate(lines):
        draw_text(page, line, STRONG, size, value_x, top - index * size * 1.2, "ink", "l")
    return top - max(24.0, size * 1.2 * len(lines) + 12)


def _value_lines(page: Page, value: str, *, width: float) -> tuple[float, list[str]]:
    """Up to two lines at the normal size, else up to four smaller ones."""
    for size, max_lines in ((10.0, 2), (8.0, 4)):
        lines = wrap(page, value, STRONG, size, width)
        if len(lines) <= max_lines:
            return size, lines
    raise RenderError("a value is too long to print on the certificate")


def _format_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _format_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _format_score(score: Decimal, score_max: Decimal | None) -> str:
    if score_max is None:
        return _format_decimal(score)
    return f"{_format_decimal(score)} / {_format_decimal(score_max)}"
