"""Delivery e-mail: its content, the outbox files and a real SMTP exchange."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from issuer.delivery import (
    CERTIFICATE_HEADER,
    DeliveryError,
    DeliveryMessage,
    Mailer,
    OutboxMailer,
    SmtpMailer,
    build_delivery_email,
    build_flat_delivery_email,
    certificate_message_id,
    flatten,
    outbox_file_name,
)
from tests.conftest import SceauEnv
from tests.ports import free_port
from tests.sceau.helpers import run_module, run_sceau
from tests.sceau.test_delivery_pack import results_without_email
from tests.smtp_server import SmtpServer, start_smtp_server

CERTIFICATE_ID = "3f2a9c0d4b6e48a1b7c5d2e1f0a9b8c7"
LINK_KEY = "q8Jd0pX3m1Zr7sT9vY2wA5bC6dE4fG8hK0lN3oP5r7s"
PRIVATE_LINK = f"https://certs.example.org/me/{CERTIFICATE_ID}#{LINK_KEY}"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
RECEIPT = json.dumps({"certificate_id": CERTIFICATE_ID, "leaf": "0x" + "ab" * 32}).encode()
SENT_AT = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def _email(**changes: Any) -> EmailMessage:
    return build_delivery_email(**_arguments(**changes))


def _arguments(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "to": "jeanne.martin@example.net",
        "candidate_name": "Jeanne Martin-Lefèvre",
        "certificate_id": CERTIFICATE_ID,
        "private_link": PRIVATE_LINK,
        "pdf": PDF,
        "receipt_json": RECEIPT,
        "issuer_name": "Centre d'examens de Lyon",
        "sender": "certificats@centre-lyon.example.org",
        "language": "fr",
        "date": SENT_AT,
    }
    return arguments | changes


def _parse(raw: bytes) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _attachments(message: EmailMessage) -> dict[str, bytes]:
    found = {}
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[str(part.get_filename())] = payload
    return found


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


# --- the message ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "greeting", "subject"),
    [("fr", "Bonjour Jeanne", "Votre certificat"), ("en", "Hello Jeanne", "Your certificate")],
)
def test_message_speaks_the_candidates_language(language: str, greeting: str, subject: str) -> None:
    message = _parse(_email(language=language).as_bytes())
    assert message["Subject"].startswith(subject)
    assert message["Content-Language"] == language
    text, page = _body(message, "plain"), _body(message, "html")
    assert greeting in text and greeting in page
    assert PRIVATE_LINK in text
    assert f'href="{PRIVATE_LINK}"' in page
    assert f'lang="{language}"' in page


def test_message_has_both_attachments_intact() -> None:
    message = _parse(_email().as_bytes())
    assert _attachments(message) == {
        f"certificate-{CERTIFICATE_ID}.pdf": PDF,
        f"receipt-{CERTIFICATE_ID}.json": RECEIPT,
    }


def test_message_id_is_derived_from_the_certificate_id() -> None:
    first, again = _email(), _email(date=datetime.now(UTC))
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"] == f"<cert-{CERTIFICATE_ID}@centre-lyon.example.org>"
    other = _email(certificate_id="0" * 32)
    assert other["Message-ID"] != first["Message-ID"]


def test_message_id_domain_is_one_spelling_in_ascii() -> None:
    shouted = _email(sender="Certificats@Centre-Lyon.Example.ORG")
    assert shouted["Message-ID"] == f"<cert-{CERTIFICATE_ID}@centre-lyon.example.org>"
    accented = _email(sender="certificats@école-lyon.fr")
    expected = f"<cert-{CERTIFICATE_ID}@xn--cole-lyon-93a.fr>"
    assert accented["Message-ID"] == expected
    assert f"Message-ID: {expected}".encode() in flatten(accented).wire
    assert certificate_message_id(CERTIFICATE_ID, "a@École-Lyon.FR.") == expected


def test_names_are_escaped_in_the_html_part() -> None:
    message = _parse(_email(candidate_name="<script>alert(1)</script>").as_bytes())
    assert "<script>" not in _body(message, "html")


INVALID_INPUTS = {
    "header_injection_in_name": {"candidate_name": "Jeanne\r\nBcc: all@example.org"},
    "two_addresses": {"to": "a@example.org, b@example.org"},
    "not_an_address": {"to": "jeanne.martin"},
    "link_without_key": {"private_link": f"https://certs.example.org/me/{CERTIFICATE_ID}"},
    "link_not_http": {"private_link": f"javascript:alert(1)#{LINK_KEY}"},
    "not_a_pdf": {"pdf": b"<html>"},
    "receipt_not_json": {"receipt_json": b"{oops"},
    "sequential_certificate_id": {"certificate_id": "42"},
    "unknown_language": {"language": "de"},
}


@pytest.mark.parametrize("changes", INVALID_INPUTS.values(), ids=INVALID_INPUTS.keys())
def test_invalid_inputs_raise_delivery_error_without_echoing_values(
    changes: dict[str, Any],
) -> None:
    with pytest.raises(DeliveryError, match="Cannot build the delivery e-mail") as caught:
        _email(**changes)
    (field,) = changes
    assert field in str(caught.value)
    assert LINK_KEY not in str(caught.value)
    assert "Bcc" not in str(caught.value) and "oops" not in str(caught.value)


def test_delivery_message_model_hides_the_link_and_the_pdf() -> None:
    message = DeliveryMessage(
        to="a@example.org",
        sender="b@example.org",
        candidate_name="A",
        issuer_name="B",
        certificate_id=CERTIFICATE_ID,
        private_link=SecretStr(PRIVATE_LINK),
        pdf=PDF,
        receipt_json=RECEIPT,
        language="en",
    )
    assert LINK_KEY not in repr(message) and "%PDF" not in repr(message)
    with pytest.raises(ValidationError):
        DeliveryMessage(**(message.model_dump() | {"to": "nope"}))


def test_missing_candidate_name_still_greets() -> None:
    message = _parse(_email(candidate_name="", language="en").as_bytes())
    assert _body(message, "plain").splitlines()[0] == "Hello,"


# --- outbox -----------------------------------------------------------------------


def test_outbox_writes_one_parseable_eml_with_identical_attachments(tmp_path: Path) -> None:
    mailer: Mailer = OutboxMailer(tmp_path / "outbox")
    mailer.send(_email())
    (written,) = (tmp_path / "outbox").iterdir()
    assert written.name.startswith(f"certificate-{CERTIFICATE_ID}-")
    assert written.suffix == ".eml"
    message = _parse(written.read_bytes())
    assert message["To"].addresses[0].addr_spec == "jeanne.martin@example.net"
    assert _attachments(message)[f"certificate-{CERTIFICATE_ID}.pdf"] == PDF
    assert _attachments(message)[f"receipt-{CERTIFICATE_ID}.json"] == RECEIPT


def test_sending_the_same_message_twice_leaves_one_file(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)
    mailer.send(_email())
    mailer.send(_email(date=datetime.now(UTC)))  # rebuilt after a crash
    assert len(list(tmp_path.iterdir())) == 1
    mailer.send(_email(to="other.address@example.net"))
    assert len(list(tmp_path.iterdir())) == 2


def test_logs_never_contain_the_link_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    OutboxMailer(tmp_path).send(_email())
    assert caplog.records
    assert LINK_KEY not in caplog.text


def test_unwritable_outbox_raises_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(DeliveryError, match="outbox"):
        OutboxMailer(blocker / "outbox").send(_email())


# --- SMTP -------------------------------------------------------------------------


SMTP_LOGIN = ("sceau", "s3cret")


@pytest.fixture
def smtp_with_login(tmp_path: Path) -> Iterator[SmtpServer]:
    server = start_smtp_server(tmp_path / "smtp-login", login=SMTP_LOGIN)
    try:
        yield server
    finally:
        server.stop()


def test_smtp_mailer_delivers_to_a_real_server(smtp_server: SmtpServer) -> None:
    mailer: Mailer = SmtpMailer("127.0.0.1", smtp_server.port, timeout=5)
    mailer.send(_email())
    (received,) = smtp_server.received()
    assert received.rcpt_tos == ("jeanne.martin@example.net",)
    assert received.mail_from == "certificats@centre-lyon.example.org"
    message = _parse(received.raw)
    assert message["Message-ID"] == f"<cert-{CERTIFICATE_ID}@centre-lyon.example.org>"
    assert _attachments(message)[f"certificate-{CERTIFICATE_ID}.pdf"] == PDF


def test_smtp_mailer_delivers_to_an_address_in_a_non_ascii_domain(smtp_server: SmtpServer) -> None:
    SmtpMailer("127.0.0.1", smtp_server.port, timeout=5).send(_email(to="jeanne@école-lyon.fr"))
    (received,) = smtp_server.received()
    assert received.rcpt_tos == ("jeanne@école-lyon.fr",)
    assert received.message["To"].addresses[0].addr_spec == "jeanne@école-lyon.fr"


def test_smtp_mailer_logs_in(smtp_with_login: SmtpServer) -> None:
    port = smtp_with_login.port
    SmtpMailer("127.0.0.1", port, username="sceau", password=SecretStr("s3cret")).send(_email())
    assert len(smtp_with_login.received()) == 1


def test_wrong_smtp_password_raises_delivery_error(smtp_with_login: SmtpServer) -> None:
    port = smtp_with_login.port
    mailer = SmtpMailer("127.0.0.1", port, username="sceau", password=SecretStr("wrong"))
    with pytest.raises(DeliveryError, match="refused") as caught:
        mailer.send(_email())
    assert "wrong" not in str(caught.value) and "wrong" not in repr(mailer)
    assert smtp_with_login.received() == []


def test_unreachable_smtp_server_raises_delivery_error_quickly() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), timeout=2)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="Could not reach") as caught:
        mailer.send(_email())
    assert time.monotonic() - started < 30  # a hang guard (the timeout is 2 s), not a speed test
    assert LINK_KEY not in str(caught.value)


# --- the candidate's language, through the real issuance ---------------------------------------


@pytest.mark.parametrize(  # each backend once: the language is the subject, not the database
    ("sceau_env", "issuer_language", "subject", "greeting"),
    [
        ("sqlite", "fr", "Votre certificat", "Bonjour"),
        ("postgresql", "en", "Your certificate", "Hello"),
    ],
    indirect=["sceau_env"],
)
def test_a_row_without_language_is_written_to_in_the_issuers_language(
    sceau_env: SceauEnv, issuer_language: str, subject: str, greeting: str
) -> None:
    config = sceau_env.config_file
    if issuer_language != "fr":  # French is the default: the French issuer sets nothing
        config.write_text(f'issuer_language = "{issuer_language}"\n{config.read_text()}')
    results = results_without_email(
        sceau_env.root / "results.csv", 3, keep_email=3, drop="message_language"
    )
    done = run_sceau(config, "issue", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    messages = sorted(sceau_env.settings.mail.outbox.glob("*.eml"))
    assert len(messages) == 3
    for path in messages:
        message = _parse(path.read_bytes())
        assert message["Content-Language"] == issuer_language
        assert str(message["Subject"]).startswith(subject)
        assert _body(message, "plain").startswith(greeting)


def test_a_flattened_message_lands_in_the_outbox_as_the_message_itself(tmp_path: Path) -> None:
    message = _email()
    OutboxMailer(tmp_path / "direct").send(message)
    OutboxMailer(tmp_path / "flat").send_flat(flatten(message))  # as a delivery worker's
    (direct,) = (tmp_path / "direct").iterdir()
    (flat,) = (tmp_path / "flat").iterdir()
    assert flat.name == direct.name == outbox_file_name(message)
    assert flat.read_bytes() == direct.read_bytes()


def test_a_flattened_message_hides_its_bytes_from_repr() -> None:
    flat = flatten(_email())
    assert LINK_KEY not in repr(flat) and LINK_KEY.encode() in flat.wire.replace(b"=\r\n", b"")


def test_smtp_mailer_sends_a_flattened_message_with_its_envelope(
    smtp_server: SmtpServer,
) -> None:
    SmtpMailer("127.0.0.1", smtp_server.port, timeout=5).send_flat(flatten(_email()))
    (received,) = smtp_server.received()
    assert received.rcpt_tos == ("jeanne.martin@example.net",)
    assert received.mail_from == "certificats@centre-lyon.example.org"
    message = _parse(received.raw)
    assert message["Message-ID"] == f"<cert-{CERTIFICATE_ID}@centre-lyon.example.org>"
    assert _attachments(message)[f"certificate-{CERTIFICATE_ID}.pdf"] == PDF


# --- one Message-ID per certificate, whatever happens --------------------------------------------


def test_a_rebuilt_message_reaches_the_server_as_the_same_message(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer("127.0.0.1", smtp_server.port, timeout=5)
    mailer.send_flat(flatten(_email()))
    mailer.send_flat(flatten(_email(date=datetime.now(UTC))))  # rebuilt after a crash
    mailer.send_flat(flatten(_email(certificate_id="0" * 32)))
    first, again, other = smtp_server.received()
    assert (
        first.message_id == again.message_id == f"<cert-{CERTIFICATE_ID}@centre-lyon.example.org>"
    )
    assert other.message_id != first.message_id
    assert _attachments(first.message) == _attachments(again.message)


def _send_through(env: SceauEnv, server: SmtpServer) -> None:
    """Put the server in the environment's `[mail]` settings (the outbox stays as it was)."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in server.mail_settings().items()]
    text = env.config_file.read_text().replace("\n[mail]\n", "\n[mail]\n" + "\n".join(lines) + "\n")
    assert "smtp_host" in text
    env.config_file.write_text(text)


def test_a_resend_after_a_crash_between_sending_and_recording_is_the_same_message(
    sceau_env: SceauEnv, smtp_server: SmtpServer
) -> None:
    _send_through(sceau_env, smtp_server)
    results = results_without_email(sceau_env.root / "results.csv", 3, keep_email=3)
    killed = run_module(  # killed once the messages went (sent at once), before any was recorded
        "tests.sceau.crash_runner", str(sceau_env.config_file), str(results), "after_mail", "1"
    )
    assert killed.returncode == 137, killed.stdout + killed.stderr
    sent_before_the_crash = smtp_server.received()
    assert len(sent_before_the_crash) == 3

    resumed = run_sceau(sceau_env.config_file, "resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr

    received = smtp_server.received()
    by_certificate: dict[str, list[str]] = {}
    for item in received:
        cert_id = str(item.message[CERTIFICATE_HEADER])
        by_certificate.setdefault(cert_id, []).append(item.message_id)
    assert len(received) == 6 and len(by_certificate) == 3  # each went twice
    for cert_id, message_ids in by_certificate.items():
        assert message_ids == [f"<cert-{cert_id}@sceau.localhost>"] * 2
    for first in sent_before_the_crash:
        (resent,) = [r for r in received[3:] if r.message_id == first.message_id]
        assert _body(resent.message, "plain") == _body(first.message, "plain")
    assert not list(sceau_env.settings.mail.outbox.glob("*.eml"))  # all went over SMTP


def test_smtp_connections_come_from_the_mail_settings_and_are_at_least_one() -> None:
    from sceau.compose import mailer
    from sceau.settings import MailSettings, Settings

    settings = Settings(mail=MailSettings(smtp_host="127.0.0.1", smtp_connections=1))
    built = mailer(settings)
    assert isinstance(built, SmtpMailer) and built.connections == 1
    assert mailer(Settings()).connections == OutboxMailer.connections
    with pytest.raises(ValidationError, match="smtp_connections"):
        MailSettings(smtp_connections=0)
    with pytest.raises(ValueError, match="at least one connection"):
        SmtpMailer("127.0.0.1", 25, connections=0)


def _parts(raw: bytes) -> dict[str, Any]:
    """What a mail client reads of a message: its headers (but the boundaries), its bodies,
    its attachments, and what the parser found wrong."""
    message = _parse(raw)
    headers = {name: str(value) for name, value in message.items() if name != "Content-Type"}
    return {
        "headers": headers,
        "type": message.get_content_type(),
        "plain": _body(message, "plain"),
        "html": _body(message, "html"),
        "attachments": [
            (part.get_content_type(), part.get_filename(), part.get_payload(decode=True))
            for part in message.iter_attachments()
        ],
        "defects": [defect for part in message.walk() for defect in part.defects],
    }


@pytest.mark.parametrize(
    ("candidate_name", "issuer_name", "language"),
    [
        ("Jeanne Martin-Lefèvre", "Centre d'examens de Lyon", "fr"),
        ("فاطمة الزهراء", "Bench & Co.", "en"),
        ("王小明", "Institut français — Pékin", "fr"),
        ("", "X", "en"),
        ("A" * 120 + " Ñandú", "Ümlaut GmbH, Zertifizierungsstelle für Prüfungen", "fr"),
    ],
)
def test_the_flat_message_reads_as_the_email_package_s_own(
    candidate_name: str, issuer_name: str, language: str
) -> None:
    arguments = _arguments(
        candidate_name=candidate_name, issuer_name=issuer_name, language=language
    )
    reference = flatten(build_delivery_email(**arguments))
    flat = build_flat_delivery_email(**arguments)

    assert _parts(flat.wire) == _parts(reference.wire)
    assert not _parts(flat.wire)["defects"]
    assert (flat.message_id, flat.to, flat.envelope_from, flat.envelope_to) == (
        reference.message_id,
        reference.to,
        reference.envelope_from,
        reference.envelope_to,
    )
    assert flat.certificate_id == reference.certificate_id == CERTIFICATE_ID
    lines = flat.wire.split(b"\r\n")
    assert flat.wire.isascii() and max(len(line) for line in lines) <= 998  # 7-bit, RFC 5322
    assert b"\n" not in flat.wire.replace(b"\r\n", b"")  # CRLF line ends only


def test_the_flat_message_names_its_invalid_fields_without_their_values() -> None:
    with pytest.raises(DeliveryError) as raised:
        build_flat_delivery_email(**_arguments(to="not an address <x@y>"))
    assert "to" in str(raised.value) and "not an address" not in str(raised.value)


def test_smtp_mailer_keeps_one_connection_per_thread_until_closed(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer("127.0.0.1", smtp_server.port, timeout=5)
    for n in range(3):
        mailer.send_flat(flatten(_email(to=f"candidate.{n}@example.net")))
    mailer.close()
    mailer.send_flat(flatten(_email(to="after.close@example.net")))
    mailer.close()

    received = smtp_server.received()
    assert [r.rcpt_tos for r in received] == [
        ("candidate.0@example.net",),
        ("candidate.1@example.net",),
        ("candidate.2@example.net",),
        ("after.close@example.net",),
    ]
    peers = [r.peer for r in received]
    assert peers[0] == peers[1] == peers[2]  # one connection for the three
    assert peers[3] != peers[0]  # a new one after close()


def test_smtp_mailer_sends_again_on_a_new_connection_when_the_relay_closed_it(
    smtp_server: SmtpServer,
) -> None:
    mailer = SmtpMailer("127.0.0.1", smtp_server.port, timeout=5)
    mailer.send_flat(flatten(_email(to="first@example.net")))
    kept = mailer._local.client
    kept.sock.shutdown(socket.SHUT_RDWR)  # as a relay ending an idle connection
    mailer.send_flat(flatten(_email(to="second@example.net")))
    mailer.close()

    first, second = smtp_server.received()
    assert second.rcpt_tos == ("second@example.net",) and second.peer != first.peer
