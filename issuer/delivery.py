"""Delivery to the candidate: the e-mail with the private link, the signed PDF and the receipt.

The private link carries the candidate's link key in its URL fragment: it goes into
the message body and nowhere else (never a log line, a repr or an error message).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import os
import quopri
import secrets
import smtplib
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any, Final, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from issuer.errors import IssuanceError

logger = logging.getLogger(__name__)

Language = Literal["fr", "en"]
LANGUAGES: Final[dict[str, Language]] = {"fr": "fr", "en": "en"}
CERTIFICATE_HEADER: Final = "X-Sceau-Certificate"
_HEADER_UNSAFE: Final = frozenset("\r\n\x00")


def candidate_language(recorded: str | None, issuer_language: str = "fr") -> Language:
    """The candidate's language: the result's own, else the issuer's, else French."""
    for code in (recorded, issuer_language):
        language = LANGUAGES.get((code or "").strip().lower())
        if language is not None:
            return language
    return "fr"


class DeliveryError(IssuanceError):
    """A certificate could not be delivered; the message says why, without any link or key."""


class DeliveryMessage(BaseModel):
    """Everything a delivery e-mail says, validated before any message is built."""

    model_config = ConfigDict(frozen=True)

    to: str = Field(min_length=3, max_length=254)
    sender: str = Field(min_length=3, max_length=254)
    candidate_name: str = Field(max_length=200)  # may be empty: "Hello," then
    issuer_name: str = Field(min_length=1, max_length=200)
    certificate_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    private_link: SecretStr
    pdf: bytes = Field(repr=False)
    receipt_json: bytes = Field(repr=False)
    language: Language

    @field_validator("to", "sender")
    @classmethod
    def _one_address(cls, value: str) -> str:
        if _HEADER_UNSAFE & set(value) or value.count("@") != 1:
            raise ValueError("must be one plain e-mail address")
        try:
            address = Address(addr_spec=value)
        except (ValueError, IndexError, HeaderParseError):
            raise ValueError("is not a valid e-mail address") from None
        if not address.username or not address.domain:
            raise ValueError("is not a valid e-mail address")
        return value

    @field_validator("candidate_name", "issuer_name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if _HEADER_UNSAFE & set(value):
            raise ValueError("must be a single line")
        return value

    @field_validator("private_link")
    @classmethod
    def _link_with_fragment(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("https", "http") or not parts.netloc or not parts.fragment:
            raise ValueError("must be an http(s) link with its key after '#'")
        return value

    @field_validator("pdf")
    @classmethod
    def _is_pdf(cls, value: bytes) -> bytes:
        if not value.startswith(b"%PDF-"):
            raise ValueError("is not a PDF file")
        return value

    @field_validator("receipt_json")
    @classmethod
    def _is_json_object(cls, value: bytes) -> bytes:
        try:
            parsed = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise ValueError("must be a JSON object")
        return value

    @property
    def message_id(self) -> str:
        """The certificate's one Message-ID, from its id and the issuer's mail domain: every
        send of its message (a re-send after a crash too) carries the same one."""
        return certificate_message_id(self.certificate_id, self.sender)


def certificate_message_id(certificate_id: str, sender: str) -> str:
    """`<cert-{id}@{domain}>`, the domain being the sender's, lowercased and in ASCII (IDNA),
    so the same certificate and issuer always give the same header, whatever the spelling."""
    domain = sender.rpartition("@")[2].strip().rstrip(".").lower()
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        # Not IDNA-encodable: a stable stand-in in a reserved domain (RFC 2606), still ASCII.
        ascii_domain = hashlib.sha256(domain.encode()).hexdigest()[:16] + ".invalid"
    return f"<cert-{certificate_id}@{ascii_domain}>"


_SUBJECTS: Final[dict[Language, str]] = {
    "fr": "Votre certificat – {issuer}",
    "en": "Your certificate – {issuer}",
}

_TEXTS: Final[dict[Language, str]] = {
    "fr": (
        "Bonjour{name},\n\n"
        "{issuer} vous a délivré un certificat (n° {id}).\n\n"
        "Votre lien personnel :\n{link}\n\n"
        "Gardez ce lien pour vous : il ouvre votre certificat. Depuis cette page, vous "
        "pouvez créer un lien de partage pour chaque employeur ou financeur, voir qui l'a "
        "ouvert, y mettre fin, ou demander la révocation du certificat.\n\n"
        "Vous trouverez en pièces jointes le certificat signé (PDF) et son reçu (JSON), "
        "qui permet à quiconque de le vérifier sans passer par nous.\n\n"
        "{issuer}\n"
    ),
    "en": (
        "Hello{name},\n\n"
        "{issuer} has issued you a certificate (no. {id}).\n\n"
        "Your private link:\n{link}\n\n"
        "Keep this link to yourself: it opens your certificate. From that page you can "
        "create a share link for each employer or funder, see who opened it, end it, or "
        "ask for the certificate to be revoked.\n\n"
        "Attached are the signed certificate (PDF) and its receipt (JSON), which lets "
        "anyone verify it without going through us.\n\n"
        "{issuer}\n"
    ),
}

_LINK_LABELS: Final[dict[Language, str]] = {
    "fr": "Ouvrir mon certificat",
    "en": "Open my certificate",
}


def _text_body(message: DeliveryMessage) -> str:
    return _TEXTS[message.language].format(
        name=f" {message.candidate_name}" if message.candidate_name else "",
        issuer=message.issuer_name,
        id=message.certificate_id,
        link=message.private_link.get_secret_value(),
    )


def _html_body(message: DeliveryMessage) -> str:
    text = _text_body(message)
    link = message.private_link.get_secret_value()
    paragraphs = []
    for paragraph in text.strip().split("\n\n"):
        if paragraph.endswith(link):
            label = html.escape(_LINK_LABELS[message.language])
            anchor = f'<a href="{html.escape(link, quote=True)}">{label}</a>'
            paragraphs.append(f"<p>{html.escape(paragraph.removesuffix(link))}{anchor}</p>")
        else:
            paragraphs.append(f"<p>{html.escape(paragraph)}</p>")
    body = "\n".join(paragraphs).replace("\n", "<br>\n").replace("</p><br>\n", "</p>\n")
    return (
        f'<!DOCTYPE html>\n<html lang="{message.language}"><head><meta charset="utf-8">'
        f"</head>\n<body>\n{body}\n</body></html>\n"
    )


def _headed(message: DeliveryMessage, date: datetime) -> EmailMessage:
    """The message's own headers (the ones a candidate's data goes into, folded and encoded by
    the email package), without a body yet."""
    email = EmailMessage(policy=policy.SMTP)
    email["From"] = Address(display_name=message.issuer_name, addr_spec=message.sender)
    email["To"] = Address(display_name=message.candidate_name, addr_spec=message.to)
    email["Subject"] = _SUBJECTS[message.language].format(issuer=message.issuer_name)
    email["Date"] = format_datetime(date)
    email["Message-ID"] = message.message_id
    email[CERTIFICATE_HEADER] = message.certificate_id
    return email


def _render(message: DeliveryMessage, date: datetime) -> EmailMessage:
    email = _headed(message, date)
    email.set_content(_text_body(message))
    email.add_alternative(_html_body(message), subtype="html")
    cid = message.certificate_id
    email.add_attachment(
        message.pdf, maintype="application", subtype="pdf", filename=f"certificate-{cid}.pdf"
    )
    email.add_attachment(
        message.receipt_json, maintype="application", subtype="json", filename=f"receipt-{cid}.json"
    )
    email["Content-Language"] = message.language  # set last: set_content clears Content-*
    return email


def build_delivery_email(
    *,
    to: str,
    candidate_name: str,
    certificate_id: str,
    private_link: str,
    pdf: bytes,
    receipt_json: bytes,
    issuer_name: str,
    sender: str,
    language: Language,
    date: datetime | None = None,
) -> EmailMessage:
    """Build the candidate's e-mail: text and HTML, the signed PDF and the receipt attached.

    Raises DeliveryError, naming the fields at fault but never echoing their values.
    """
    message = _validated(
        to=to,
        sender=sender,
        candidate_name=candidate_name,
        issuer_name=issuer_name,
        certificate_id=certificate_id,
        private_link=SecretStr(private_link),
        pdf=pdf,
        receipt_json=receipt_json,
        language=language,
    )
    return _render(message, date or datetime.now(UTC))


def _validated(**fields: Any) -> DeliveryMessage:
    try:
        return DeliveryMessage(**fields)
    except ValidationError as error:
        raise DeliveryError(_invalid_delivery(str(fields.get("certificate_id")), error)) from None


def _invalid_delivery(certificate_id: str, error: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in error.errors(include_input=False, include_url=False)
    )
    shown = certificate_id if len(certificate_id) <= 40 else certificate_id[:40] + "..."
    return f"Cannot build the delivery e-mail for certificate {shown!r}: {problems}."


@dataclass(frozen=True, kw_only=True)
class FlatMessage:
    """A built message as its SMTP bytes, with the headers its mailer needs: flattened where a
    core is free (a delivery worker), then sent as is."""

    message_id: str
    to: str
    certificate_id: str
    envelope_from: str
    envelope_to: tuple[str, ...]
    wire: bytes = field(repr=False)  # holds the private link: never shown

    def __post_init__(self) -> None:
        if not self.envelope_to or not self.wire.endswith(b"\r\n"):
            raise ValueError("a flat message has a recipient and ends with CRLF")


def flatten(message: EmailMessage) -> FlatMessage:
    """The message as the bytes an outbox or an SMTP server receives."""
    return _flat(message, message.as_bytes(policy=policy.SMTP))


def build_flat_delivery_email(**fields: Any) -> FlatMessage:
    """build_delivery_email, flattened: what a delivery worker returns.

    The same message, part for part, as flattening :func:`build_delivery_email`'s (a test
    parses both), written at a quarter of the cost: the headers come from the email package,
    the MIME body is written here (quoted-printable text, base64 attachments, 7-bit clean)."""
    date = fields.pop("date", None)
    message = _validated(**fields)
    head = _headed(message, date or datetime.now(UTC))
    mixed, alternative = _boundary(), _boundary()
    head["MIME-Version"] = "1.0"
    head["Content-Type"] = f'multipart/mixed; boundary="{mixed}"'
    head["Content-Language"] = message.language
    cid = message.certificate_id
    body = b"".join(
        (
            _opening(mixed, f'multipart/alternative; boundary="{alternative}"', None, None),
            _text_part(alternative, "plain", _text_body(message)),
            _text_part(alternative, "html", _html_body(message)),
            b"--" + alternative.encode() + b"--\r\n",
            _attachment(mixed, "application/pdf", f"certificate-{cid}.pdf", message.pdf),
            _attachment(mixed, "application/json", f"receipt-{cid}.json", message.receipt_json),
            b"--" + mixed.encode() + b"--\r\n",
        )
    )
    fold = policy.SMTP.fold_binary  # as the generator writes them, without a body
    headers = b"".join(fold(name, value) for name, value in head.raw_items()) + b"\r\n"
    return _flat(head, headers + body)


def _boundary() -> str:
    # "=_" never occurs in quoted-printable or base64 text; the random part, never by chance.
    return "=_sceau_" + secrets.token_hex(16)


def _opening(boundary: str, content_type: str, encoding: str | None, filename: str | None) -> bytes:
    lines = [f"--{boundary}", f"Content-Type: {content_type}"]
    if encoding is not None:
        lines.append(f"Content-Transfer-Encoding: {encoding}")
    if filename is not None:
        lines.append(f'Content-Disposition: attachment; filename="{filename}"')
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _text_part(boundary: str, subtype: str, text: str) -> bytes:
    encoded = quopri.encodestring(text.encode("utf-8")).replace(b"\n", b"\r\n")
    opening = _opening(boundary, f'text/{subtype}; charset="utf-8"', "quoted-printable", None)
    return opening + encoded + b"\r\n"  # the line break before a boundary is the boundary's


def _attachment(boundary: str, content_type: str, filename: str, data: bytes) -> bytes:
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return _opening(boundary, content_type, "base64", filename) + encoded + b"\r\n"


def _flat(message: EmailMessage, wire: bytes) -> FlatMessage:
    return FlatMessage(
        message_id=str(message.get("Message-ID", "")),
        to=str(message.get("To", "")),
        certificate_id=str(message.get(CERTIFICATE_HEADER, "")).strip(),
        envelope_from=getaddresses([str(message.get("Sender") or message.get("From", ""))])[0][1],
        envelope_to=tuple(a for _, a in getaddresses([str(v) for v in message.get_all("To", [])])),
        wire=wire,
    )


class Mailer(Protocol):
    """Sends one built message; raises DeliveryError when it cannot."""

    # How many messages it may send at once, each from its own thread: a relay may cap the
    # connections one client holds open (some accept three).
    connections: int

    def close(self) -> None:
        """End what the sending keeps open (connections); sending again opens them again."""

    def send(self, message: EmailMessage) -> None:
        """Deliver `message` or raise DeliveryError."""

    def send_flat(self, message: FlatMessage) -> None:
        """Deliver an already flattened message or raise DeliveryError."""


def outbox_file_name(message: EmailMessage) -> str:
    """`certificate-<id>-<digest>.eml`: one file per message id and recipient list."""
    return _outbox_name(
        str(message.get("Message-ID", "")),
        str(message.get("To", "")),
        str(message.get(CERTIFICATE_HEADER, "")).strip(),
    )


def _outbox_name(message_id: str, to: str, certificate_id: str) -> str:
    identity = f"{message_id}\n{to}"
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12]
    if len(certificate_id) == 32 and all(c in "0123456789abcdef" for c in certificate_id):
        return f"certificate-{certificate_id}-{digest}.eml"
    return f"message-{digest}.eml"


class OutboxMailer:
    """Writes each message as a `.eml` file in a directory, atomically (development, audits)."""

    connections = 8  # files written at once: each waits on its flush to disk

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def close(self) -> None:
        """Nothing is kept open between messages."""

    def send(self, message: EmailMessage) -> None:
        """Write `message` to the outbox; the same message sent twice leaves one file."""
        self.send_flat(flatten(message))

    def send_flat(self, message: FlatMessage) -> None:
        """Write the flattened message to the outbox (one file per message id and recipient)."""
        path = self.directory / _outbox_name(message.message_id, message.to, message.certificate_id)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)  # it holds private links: its owner's alone
            write_atomically(path, message.wire, suffix=".eml")
        except OSError as error:
            raise DeliveryError(
                f"Could not write to the outbox {self.directory}: {error}."
            ) from error
        logger.info("Delivery written to the outbox as %s", path.name)


def erase_outbox_messages(directory: Path, certificate_id: str) -> int:
    """Unlink every outbox message of one certificate (first delivery, re-sent links, and a
    temporary file a crash left behind); returns how many went."""
    if not (len(certificate_id) == 32 and all(c in "0123456789abcdef" for c in certificate_id)):
        raise ValueError("a certificate id is 32 lowercase hex digits")
    if not directory.is_dir():
        return 0
    doomed = set(directory.glob(f"certificate-{certificate_id}-*.eml"))
    header = f"{CERTIFICATE_HEADER}: {certificate_id}".encode()
    for temp in directory.glob(".tmp-*.eml"):
        with temp.open("rb") as handle:
            if header in handle.read(16384):  # headers come first
                doomed.add(temp)
    for path in doomed:
        path.unlink(missing_ok=True)
    if doomed:
        fsync_directory(directory)
    return len(doomed)


def fsync_directory(directory: Path) -> None:
    """Make a new or removed entry of `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, content: bytes, *, suffix: str) -> None:
    """Write `path` whole or not at all (a 0600 temporary file, fsynced, then renamed)."""
    fd, temp_name = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


class SmtpMailer:
    """Sends through an SMTP server with smtplib (optional STARTTLS and login)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        connections: int = 3,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("Give both an SMTP username and a password, or neither.")
        if connections < 1:
            raise ValueError("An SMTP mailer needs at least one connection.")
        self.connections = connections
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.starttls = starttls
        self.timeout = timeout
        self._ssl_context = ssl_context
        # One connection per sending thread, kept for the next message (no new handshake, TLS
        # and login each time); close() ends them all.
        self._local = threading.local()
        self._open: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SmtpMailer(host={self.host!r}, port={self.port}, starttls={self.starttls})"

    def close(self) -> None:
        """Say QUIT on every connection kept open; the next message opens a new one."""
        with self._lock:
            clients, self._open = self._open, []
            self._local = threading.local()
        for client in clients:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()

    def send(self, message: EmailMessage) -> None:
        """Send `message`; raise DeliveryError if the server is unreachable or refuses it."""
        self.send_flat(flatten(message))

    def send_flat(self, message: FlatMessage) -> None:
        """Send the flattened message; DeliveryError if the server is unreachable or refuses it."""
        try:
            self._send(message)
        except smtplib.SMTPException as error:
            raise DeliveryError(
                f"The SMTP server {self.host}:{self.port} refused the message: "
                f"{_smtp_reason(error)}."
            ) from error
        except (OSError, TimeoutError) as error:
            raise DeliveryError(
                f"Could not reach the SMTP server {self.host}:{self.port}: {error}."
            ) from error
        logger.info("Delivery sent through %s:%s", self.host, self.port)

    def _send(self, message: FlatMessage) -> None:
        envelope = (message.envelope_from, *message.envelope_to)
        options = [] if all(a.isascii() for a in envelope) else ["SMTPUTF8", "BODY=8BITMIME"]
        while True:
            kept = getattr(self._local, "client", None)
            client = kept or self._connect()
            try:
                refused = client.sendmail(
                    message.envelope_from, list(message.envelope_to), message.wire, options
                )
                break
            except smtplib.SMTPServerDisconnected:
                self._drop(client)
                if kept is None:
                    raise
                # The kept connection was closed by the relay (idle too long): once more, on
                # a new one (which, being new, is not tried again).
            except BaseException:
                self._drop(client)  # in an unknown state: the next message starts afresh
                raise
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)

    def _connect(self) -> smtplib.SMTP:
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                client.starttls(context=self._ssl_context or ssl.create_default_context())
            if self.username is not None and self._password is not None:
                client.login(self.username, self._password.get_secret_value())
        except BaseException:
            client.close()
            raise
        with self._lock:
            self._open.append(client)
            self._local.client = client
        return client

    def _drop(self, client: smtplib.SMTP) -> None:
        with self._lock:
            if client in self._open:
                self._open.remove(client)
            if getattr(self._local, "client", None) is client:
                self._local.client = None
        client.close()


def _smtp_reason(error: smtplib.SMTPException) -> str:
    """A short reason that never echoes the message body (where the private link is)."""
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{error.smtp_code} {text[:200]}"
    return type(error).__name__
