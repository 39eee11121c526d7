"""Printable letters for candidates without an e-mail address: the private link on paper.

A letter holds the candidate's link key in the clear (printed, and in its QR code), so it is
as secret as the link itself: it is built in memory, written only into the owner-only delivery
pack, and never logged. Its words follow the candidate's language, like the e-mail's.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import qrcode
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from issuer import fonts
from issuer.delivery import Language
from issuer.errors import RenderError

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN: Final = 62.0
TEXT_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN
QR_SIZE: Final = 132.0
INK, MUTED, RULE = HexColor("#1b2a41"), HexColor("#5a6270"), HexColor("#9aa3b0")

DEJAVU_DIRECTORIES: Final = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian/Ubuntu: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
TEXT, BOLD, MONO = "SceauLetter-Sans", "SceauLetter-Bold", "SceauLetter-Mono"
_FACES: Final = {TEXT: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono.ttf"}


class LetterError(RenderError):
    """A letter cannot be built; the message names the fields at fault, never the link."""


class DeliveryLetter(BaseModel):
    """What one letter says, validated before anything is drawn."""

    model_config = ConfigDict(frozen=True)

    certificate_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    candidate_name: str = Field(max_length=200)
    candidate_number: str = Field(default="", max_length=60)
    issuer_name: str = Field(min_length=1, max_length=200)
    private_link: SecretStr
    language: Language

    @field_validator("private_link")
    @classmethod
    def _private_link(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("https", "http") or not parts.netloc or not parts.fragment:
            raise ValueError("must be an http(s) link with its key after '#'")
        if "/me/" not in parts.path:
            raise ValueError("must be a candidate link /me/{id}#{key}")
        return value

    @field_validator("candidate_name", "candidate_number", "issuer_name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise ValueError("must be printable text on one line")
        return value


def delivery_letter(**fields: object) -> DeliveryLetter:
    """Build a letter's model; raises LetterError without echoing any value (the link above all)."""
    try:
        return DeliveryLetter.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}"
            for problem in error.errors(include_input=False, include_url=False)
        )
        raise LetterError(f"Cannot build a delivery letter: {problems}.") from None


@dataclass(frozen=True)
class _Words:
    delivered_to: str
    candidate_number: str
    title: str
    intro: str
    link_label: str
    link_hint: str
    steps_title: str
    steps: tuple[str, ...]
    certificate: str
    confidential: str


WORDS: Final[dict[Language, _Words]] = {
    "fr": _Words(
        delivered_to="Lettre remise en main propre à",
        candidate_number="n° de candidat",
        title="Votre certificat",
        intro="{issuer} vous a délivré un certificat signé électroniquement. Il est conservé "
        "chiffré : seul votre lien personnel, ci-dessous, permet de l'ouvrir.",
        link_label="Votre lien personnel",
        link_hint="Scannez le code QR avec votre téléphone, ou tapez l'adresse dans un "
        "navigateur, d'un seul tenant, sans espace ni retour à la ligne.",
        steps_title="Ce qu'il faut en faire",
        steps=(
            "Gardez cette lettre pour vous : toute personne qui a ce lien peut ouvrir votre "
            "certificat. Ne le publiez pas et ne le transmettez pas tel quel.",
            "Pour montrer votre certificat à un employeur, une école ou un financeur, ouvrez "
            "votre lien, puis créez depuis cette page un lien de partage pour chacun, avec "
            "une date de fin. Vous y voyez qui l'a ouvert et pouvez y mettre fin à tout moment.",
            "Depuis cette même page, vous pouvez télécharger le certificat signé (PDF) et son "
            "reçu, qui permet à quiconque de le vérifier sans passer par nous.",
            "Pour demander la révocation ou l'effacement du certificat, utilisez le bouton "
            "« Demander la révocation » de cette page ; {issuer} examine la demande.",
            "Si vous perdez cette lettre, adressez-vous à {issuer} : un nouveau lien peut vous "
            "être remis, et celui-ci cessera alors de fonctionner.",
        ),
        certificate="Certificat n° {id}",
        confidential="Document confidentiel : il contient la clé d'accès à votre certificat.",
    ),
    "en": _Words(
        delivered_to="Letter handed over to",
        candidate_number="candidate no.",
        title="Your certificate",
        intro="{issuer} has issued you an electronically signed certificate. It is kept "
        "encrypted: only your private link, below, can open it.",
        link_label="Your private link",
        link_hint="Scan the QR code with your phone, or type the address into a browser as "
        "one piece, with no space or line break.",
        steps_title="What to do with it",
        steps=(
            "Keep this letter to yourself: anyone who has this link can open your "
            "certificate. Do not publish it or pass it on as it is.",
            "To show your certificate to an employer, a school or a funder, open your link, "
            "then create a share link for each of them from that page, with an end date. You "
            "see there who opened it and can end it at any time.",
            "From the same page you can download the signed certificate (PDF) and its "
            "receipt, which lets anyone verify it without going through us.",
            "To ask for the certificate to be revoked or erased, use the “Ask for "
            "revocation” button on that page; {issuer} reviews the request.",
            "If you lose this letter, contact {issuer}: you can be given a new link, and this "
            "one then stops working.",
        ),
        certificate="Certificate no. {id}",
        confidential="Confidential: this letter holds the key to your certificate.",
    ),
}


def render_letters(letters: Sequence[DeliveryLetter]) -> bytes:
    """One printable PDF, one A4 page per letter, in the given order."""
    if not letters:
        raise LetterError("a delivery pack needs at least one letter")
    _register_fonts()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(f"{letters[0].issuer_name}: delivery letters")
    canvas.setCreator("Sceau")
    for letter in letters:
        _draw_letter(canvas, letter)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_letter(canvas: Canvas, letter: DeliveryLetter) -> None:
    words = WORDS[letter.language]
    link = letter.private_link.get_secret_value()
    top = PAGE_HEIGHT - MARGIN
    canvas.setFillColor(INK)
    canvas.setFont(BOLD, 15)
    canvas.drawString(MARGIN, top, letter.issuer_name)
    _rule(canvas, top - 12)
    canvas.setFillColor(MUTED)
    canvas.setFont(TEXT, 9.5)
    canvas.drawString(MARGIN, top - 34, words.delivered_to)
    canvas.setFillColor(INK)
    _draw_name(canvas, letter.candidate_name or "—", x=MARGIN, y=top - 56, size=17)
    if letter.candidate_number:
        canvas.setFont(TEXT, 10)
        canvas.drawString(MARGIN, top - 74, f"{words.candidate_number} {letter.candidate_number}")
    cursor = top - 112
    canvas.setFont(BOLD, 19)
    canvas.drawString(MARGIN, cursor, words.title)
    cursor = _paragraph(canvas, words.intro.format(issuer=letter.issuer_name), cursor - 24)
    cursor = _draw_link(canvas, words, link, top=cursor - 14)
    canvas.setFont(BOLD, 12)
    canvas.drawString(MARGIN, cursor - 6, words.steps_title)
    cursor -= 24
    for step in words.steps:
        canvas.setFont(TEXT, 10)
        canvas.drawString(MARGIN, cursor, "•")
        cursor = _paragraph(canvas, step.format(issuer=letter.issuer_name), cursor, indent=14)
        cursor -= 6
    if cursor < MARGIN + 48:
        raise LetterError("the letter's text does not fit on one page")
    _footer(canvas, words, letter)


def _draw_link(canvas: Canvas, words: _Words, link: str, *, top: float) -> float:
    """The link in a framed panel: the QR code on the left, the address typed out on the right."""
    height = QR_SIZE + 28
    canvas.setStrokeColor(RULE)
    canvas.roundRect(MARGIN, top - height, TEXT_WIDTH, height, 6, stroke=1, fill=0)
    _draw_qr(canvas, link, x=MARGIN + 14, y=top - height + 14, size=QR_SIZE)
    left = MARGIN + QR_SIZE + 32
    width = MARGIN + TEXT_WIDTH - 14 - left
    canvas.setFillColor(INK)
    canvas.setFont(BOLD, 12)
    canvas.drawString(left, top - 28, words.link_label)
    address, _, key = link.partition("#")
    cursor = top - 50
    canvas.setFont(MONO, 9.5)
    for line in [*_cut(address, MONO, 9.5, width), *_cut("#" + key, MONO, 9.5, width)]:
        canvas.drawString(left, cursor, line)
        cursor -= 14
    canvas.setFillColor(MUTED)
    _paragraph(canvas, words.link_hint, cursor - 6, left=left, width=width, size=8.5)
    canvas.setFillColor(INK)
    return top - height - 12


def _cut(text: str, font: str, size: float, width: float) -> Iterator[str]:
    """Cut a link into lines of a monospaced font, never at a character that could be typed."""
    per_line = max(1, int(width // pdfmetrics.stringWidth("M", font, size)))
    for start in range(0, len(text), per_line):
        yield text[start : start + per_line]


def _paragraph(
    canvas: Canvas,
    text: str,
    top: float,
    *,
    left: float = MARGIN,
    width: float = TEXT_WIDTH,
    indent: float = 0,
    size: float = 10,
) -> float:
    """Draw wrapped text from `top` down; returns the baseline after the last line."""
    canvas.setFont(TEXT, size)
    lines = simpleSplit(text, TEXT, size, width - indent)
    for line in lines:
        canvas.drawString(left + indent, top, line)
        top -= size * 1.4
    return top


def _footer(canvas: Canvas, words: _Words, letter: DeliveryLetter) -> None:
    _rule(canvas, MARGIN + 34)
    canvas.setFillColor(MUTED)
    canvas.setFont(BOLD, 8.5)
    canvas.drawString(MARGIN, MARGIN + 20, words.confidential)
    canvas.setFont(TEXT, 8.5)
    canvas.drawString(MARGIN, MARGIN + 6, words.certificate.format(id=letter.certificate_id))
    canvas.setFillColor(INK)


def _rule(canvas: Canvas, y: float) -> None:
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, y, MARGIN + TEXT_WIDTH, y)


def _draw_name(canvas: Canvas, name: str, *, x: float, y: float, size: float) -> None:
    """The candidate's name in any script: each run in the Noto face that draws it, shaped.

    A face reportlab cannot embed (the CFF-based CJK collections) falls back to DejaVu, which
    has no CJK glyphs: such a name is printed as well as this renderer can, and the candidate
    number beside it identifies the letter at hand-over.
    """
    variant = fonts.cjk_variant_for(name)
    runs: list[tuple[str, fonts.Face | None]]
    try:
        runs = list(fonts.font_runs(name, fonts.Style.STRONG, variant))
    except RenderError:  # a character no font has: the import refuses such names first
        runs = [(name, None)]
    for text, face in runs:
        font = _face_font(face) if face is not None else BOLD
        canvas.setFont(font, size)
        rtl = any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)
        canvas.drawString(x, y, text, direction="RTL" if rtl else None, shaping=True)
        x += pdfmetrics.stringWidth(text, font, size)


@functools.cache
def _face_font(face: fonts.Face) -> str:
    """The reportlab font name of a Noto face, registered once; DejaVu Bold if it cannot be."""
    name = f"SceauLetter-{face.path.stem}-{face.index}"
    try:
        pdfmetrics.registerFont(TTFont(name, str(face.path), subfontIndex=face.index))
    except (TTFError, OSError):
        return BOLD
    return name


@functools.cache
def _register_fonts() -> None:
    for name, file_name in _FACES.items():
        path = next((d / file_name for d in DEJAVU_DIRECTORIES if (d / file_name).is_file()), None)
        if path is None:
            raise LetterError(
                f"font {file_name} not found; install DejaVu (apt-get install fonts-dejavu-core)"
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))


def _draw_qr(canvas: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    """The QR code as one vector path (crisp when printed, no bitmap to embed)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    module = size / len(matrix)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        row_y = y + size - (row_index + 1) * module
        start = None
        for column, dark in enumerate([*row, False]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                path.rect(x + start * module, row_y, (column - start) * module, module)
                start = None
    canvas.setFillColor(HexColor("#000000"))
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.setFillColor(INK)
