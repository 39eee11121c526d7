"""Printable letters for candidates without an e-mail address: the private link on paper.

A letter holds the candidate's link key in the clear (printed, and in its QR code), so it is
as secret as the link itself: it is built in memory, written only into the owner-only delivery
pack, and never logged. Its words follow the candidate's language, like the e-mail's.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from io import BytesIO
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from fontTools.ttLib import TTFont
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from reportlab import rl_config
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from issuer.delivery import Language
from issuer.embedding import face_program
from issuer.errors import RenderError
from issuer.fonts import CjkVariant, Face, Style, cjk_variant_for, undrawable_characters
from issuer.page_drawing import draw_qr
from issuer.page_text import DocumentFonts
from issuer.shaping import GlyphRun, PlacedGlyph, ShapedLine, shape_line

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
LEFT_TO_RIGHT_MARK: Final = "\u200e"
MONO_FILE: Final = "DejaVuSansMono.ttf"  # the typed-out link; every other text is in Noto


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
        missing = undrawable_characters(value)  # the same check as a certificate's
        if missing:
            codes = ", ".join(f"U+{ord(char):04X}" for char in missing)
            raise ValueError(f"no embedded font can draw {codes}")
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
    buffer = BytesIO()
    rl_config.useA85 = 0  # ASCII85 makes bigger, slower PDFs
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    DocumentFonts.claim(canvas)
    fonts = DocumentFonts()
    canvas.setTitle(f"{letters[0].issuer_name}: delivery letters")
    canvas.setCreator("Sceau")
    for letter in letters:
        variant = cjk_variant_for(letter.candidate_name, letter.language)
        _draw_letter(_Pen(canvas, fonts, variant), letter)
        canvas.showPage()
    fonts.embed(canvas)
    canvas.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class _Pen:
    """Draws shaped text on one letter: HarfBuzz, bidi and embedded subsets, as a certificate."""

    canvas: Canvas
    fonts: DocumentFonts
    variant: CjkVariant

    def text(self, text: str, style: Style, size: float, x: float, y: float) -> None:
        self.fonts.draw(self.canvas, shape_line(text, style, self.variant), x, y, size)

    def left_to_right(self, text: str, style: Style, size: float, x: float, y: float) -> None:
        """Draw ``text`` in a left-to-right paragraph, whatever its first strong character.

        The line is shaped after a left-to-right mark, which sets the bidi base level; the
        mark's own (empty) glyph is then left out, so text extraction does not see it.
        """
        shaped = shape_line(LEFT_TO_RIGHT_MARK + text, style, self.variant)
        first, *others = shaped.runs
        mark = first.glyphs[0] if first.glyphs else None
        if (
            first.right_to_left
            or mark is None
            or (mark.text, mark.advance) != (LEFT_TO_RIGHT_MARK, 0)
        ):
            raise LetterError("a left-to-right mark did not open a left-to-right run")
        first = replace(first, glyphs=first.glyphs[1:], text=first.text[1:])
        runs = (first, *others) if first.glyphs else tuple(others)
        line = ShapedLine(text=text, runs=runs, em_width=shaped.em_width)
        self.fonts.draw(self.canvas, line, x, y, size)

    def mono(self, text: str, size: float, x: float, y: float) -> None:
        self.fonts.draw(self.canvas, _mono_line(text), x, y, size)

    def width(self, text: str, style: Style, size: float) -> float:
        return shape_line(text, style, self.variant).width(size)

    def fitted(self, text: str, style: Style, size: float, smallest: float) -> float:
        """The largest size from ``size`` down to ``smallest`` at which ``text`` fits a line."""
        while size > smallest and self.width(text, style, size) > TEXT_WIDTH:
            size -= 0.5
        return max(size, smallest)

    def wrap(self, text: str, style: Style, size: float, width: float) -> list[str]:
        """Greedy word wrap; a word wider than the line is cut between characters."""
        lines: list[str] = []
        current = ""
        for word in text.split():
            candidate = f"{current} {word}" if current else word
            if self.width(candidate, style, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            for char in word:
                if current and self.width(current + char, style, size) > width:
                    lines.append(current)
                    current = ""
                current += char
        return [*lines, current] if current else lines


def _draw_letter(pen: _Pen, letter: DeliveryLetter) -> None:
    words = WORDS[letter.language]
    canvas = pen.canvas
    top = PAGE_HEIGHT - MARGIN
    canvas.setFillColor(INK)
    cursor = _heading(pen, letter.issuer_name, Style.STRONG, 15, top=top) - 12
    _rule(canvas, cursor)
    canvas.setFillColor(MUTED)
    pen.text(words.delivered_to, Style.TEXT, 9.5, MARGIN, cursor - 22)
    canvas.setFillColor(INK)
    cursor = _heading(pen, letter.candidate_name or "—", Style.STRONG, 17, top=cursor - 44)
    if letter.candidate_number:
        number = f"{words.candidate_number} {letter.candidate_number}"
        pen.text(number, Style.TEXT, 10, MARGIN, cursor - 18)
    cursor -= 56
    pen.text(words.title, Style.STRONG, 19, MARGIN, cursor)
    cursor = _paragraph(pen, words.intro.format(issuer=letter.issuer_name), cursor - 24)
    cursor = _draw_link(pen, words, letter.private_link.get_secret_value(), top=cursor - 14)
    pen.text(words.steps_title, Style.STRONG, 12, MARGIN, cursor - 6)
    cursor -= 24
    for step in words.steps:
        pen.text("•", Style.TEXT, 10, MARGIN, cursor)
        cursor = _paragraph(pen, step.format(issuer=letter.issuer_name), cursor, indent=14)
        cursor -= 6
    if cursor < MARGIN + 48:
        raise LetterError("the letter's text does not fit on one page")
    _footer(pen, words, letter)


def _heading(pen: _Pen, text: str, style: Style, size: float, *, top: float) -> float:
    """A name on one line, made smaller if it must, on two at most; returns the last baseline."""
    size = pen.fitted(text, style, size, size * 0.6)
    lines = pen.wrap(text, style, size, TEXT_WIDTH)
    if len(lines) > 2:
        raise LetterError(f"a name of {len(text)} characters is too long for the letter")
    for index, line in enumerate(lines):
        pen.text(line, style, size, MARGIN, top - index * size * 1.25)
    return top - (len(lines) - 1) * size * 1.25


def _draw_link(pen: _Pen, words: _Words, link: str, *, top: float) -> float:
    """The link in a framed panel: the QR code on the left, the address typed out on the right."""
    canvas = pen.canvas
    height = QR_SIZE + 28
    canvas.setStrokeColor(RULE)
    canvas.roundRect(MARGIN, top - height, TEXT_WIDTH, height, 6, stroke=1, fill=0)
    draw_qr(canvas, link, x=MARGIN + 14, y=top - height + 14, size=QR_SIZE)
    left = MARGIN + QR_SIZE + 32
    width = MARGIN + TEXT_WIDTH - 14 - left
    canvas.setFillColor(INK)
    pen.text(words.link_label, Style.STRONG, 12, left, top - 28)
    address, _, key = link.partition("#")
    cursor = top - 50
    for line in [*_cut(address, 9.5, width), *_cut("#" + key, 9.5, width)]:
        pen.mono(line, 9.5, left, cursor)
        cursor -= 14
    canvas.setFillColor(MUTED)
    _paragraph(pen, words.link_hint, cursor - 6, left=left, width=width, size=8.5)
    canvas.setFillColor(INK)
    return top - height - 12


def _cut(text: str, size: float, width: float) -> Iterator[str]:
    """Cut a link into lines of the monospaced face, never at a character that could be typed."""
    per_line = max(1, int(width // _mono_line("M").width(size)))
    for start in range(0, len(text), per_line):
        yield text[start : start + per_line]


def _paragraph(
    pen: _Pen,
    text: str,
    top: float,
    *,
    left: float = MARGIN,
    width: float = TEXT_WIDTH,
    indent: float = 0,
    size: float = 10,
) -> float:
    """Draw wrapped text from `top` down; returns the baseline after the last line.

    The letter's words are French or English: a line that opens on a right-to-left issuer
    name still reads left to right.
    """
    for line in pen.wrap(text, Style.TEXT, size, width - indent):
        if _opens_right_to_left(line):
            pen.left_to_right(line, Style.TEXT, size, left + indent, top)
        else:
            pen.text(line, Style.TEXT, size, left + indent, top)
        top -= size * 1.4
    return top


def _opens_right_to_left(text: str) -> bool:
    """Whether the first strong character of ``text`` is right to left (rules P2, P3)."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("L", "R", "AL"):
            return direction != "L"
    return False


def _footer(pen: _Pen, words: _Words, letter: DeliveryLetter) -> None:
    _rule(pen.canvas, MARGIN + 34)
    pen.canvas.setFillColor(MUTED)
    pen.text(words.confidential, Style.STRONG, 8.5, MARGIN, MARGIN + 20)
    pen.text(
        words.certificate.format(id=letter.certificate_id), Style.TEXT, 8.5, MARGIN, MARGIN + 6
    )
    pen.canvas.setFillColor(INK)


def _rule(canvas: Canvas, y: float) -> None:
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, y, MARGIN + TEXT_WIDTH, y)


@functools.lru_cache(maxsize=256)
def _mono_line(text: str) -> ShapedLine:
    """The link's characters in DejaVu Sans Mono, one glyph each (no shaping: ASCII, no ligature).

    A monospaced face keeps 0/O and l/1/I apart for a reader who types the key; no Noto chain
    is monospaced, so this one face is placed glyph by glyph and embedded like the others.
    """
    face, glyph_ids = _mono_face()
    program = face_program(face)
    glyphs = []
    for char in text:
        if ord(char) not in glyph_ids:
            raise LetterError(f"the link has a character (U+{ord(char):04X}) no font can draw")
        gid = glyph_ids[ord(char)]
        glyphs.append(PlacedGlyph(gid, program.horizontal_metric(gid)[0], 0, 0, char))
    run = GlyphRun(face, program.units_per_em, tuple(glyphs), text, right_to_left=False)
    return ShapedLine(text=text, runs=(run,), em_width=run.advance / run.units_per_em)


@functools.cache
def _mono_face() -> tuple[Face, dict[int, int]]:
    """The monospaced face and its character to glyph id map, read once per process."""
    path = next((d / MONO_FILE for d in DEJAVU_DIRECTORIES if (d / MONO_FILE).is_file()), None)
    if path is None:
        raise LetterError(
            f"font {MONO_FILE} not found; install DejaVu (apt-get install fonts-dejavu-core)"
        )
    font = TTFont(str(path), lazy=True)
    cmap = font.getBestCmap() or {}
    return Face(path), {code: font.getGlyphID(name) for code, name in cmap.items()}
