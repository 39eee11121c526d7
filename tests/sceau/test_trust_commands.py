"""`sceau trust serve`: the development PKI, run as a user runs it, until a signal stops it."""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen.canvas import Canvas

from issuer.dev_trust_services import local_base_url, tsa_url
from issuer.signing import SignatureLevel, load_signer
from sceau import cli, compose
from sceau.settings import load_settings
from tests.ports import free_port
from tests.sceau.helpers import REPO

SETTING_NAMES = {
    "SCEAU_SIGNING__KEY",
    "SCEAU_SIGNING__CERTIFICATE",
    "SCEAU_SIGNING__CHAIN",
    "SCEAU_SIGNING__TRUST_ROOT",
    "SCEAU_SIGNING__TSA_URL",
}
# Until `trust` is registered in sceau/cli.py, the same CLI with the sub-app added.
WITH_TRUST_APP = (
    "from sceau import cli; from sceau.trust_commands import trust_app; "
    "cli.app.add_typer(trust_app, name='trust'); cli.main()"
)


@dataclass
class Running:
    process: subprocess.Popen[str]
    port: int
    lines: queue.Queue[str]  # stdout, line by line, as it comes
    reader: threading.Thread
    stdout: list[str]  # every line printed, read or not

    def settings(self) -> dict[str, str]:
        """The NAME=value lines printed on stdout, unquoted as a shell would."""
        found: dict[str, str] = {}
        while len(found) < len(SETTING_NAMES):
            line = self.lines.get(timeout=10)
            if line.startswith("SCEAU_"):
                name, value = shlex.split(line)[0].split("=", 1)
                found[name] = value
        return found

    def stop(self, signum: signal.Signals) -> tuple[int, str, str]:
        """Send `signum`, wait for the exit: the exit code, all of stdout, all of stderr."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=15)
        self.reader.join(timeout=5)
        assert self.process.stderr is not None
        return code, "".join(self.stdout), self.process.stderr.read()


def _command(config: Path, *args: str) -> list[str]:
    registered = any(group.name == "trust" for group in cli.app.registered_groups)
    start = ["-m", "sceau"] if registered else ["-c", WITH_TRUST_APP]
    return [sys.executable, *start, "--config", str(config), *args]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sceau.toml"
    path.write_text("")
    return path


def start_trust_server(config: Path, port: int, directory: Path) -> Running:
    """Run `sceau trust serve` and return once its time-stamping authority answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    process = subprocess.Popen(
        _command(config, "trust", "serve", "--port", str(port), "--dir", str(directory)),
        cwd=REPO,
        env={**env, "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout: list[str] = []
    reader = threading.Thread(target=_collect, args=(process, lines, stdout), daemon=True)
    reader.start()
    running = Running(process, port, lines, reader, stdout)
    _wait_until_answering(running, tsa_url(local_base_url(port)))
    return running


def _collect(process: subprocess.Popen[str], lines: queue.Queue[str], stdout: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        stdout.append(line)
        lines.put(line)


def _wait_until_answering(running: Running, url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            assert running.process.stderr is not None
            pytest.fail(f"trust serve exited early: {running.process.stderr.read()}")
        try:
            httpx.get(url, timeout=1)  # any HTTP answer will do (a TSA wants POSTs)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    running.process.kill()
    pytest.fail(f"{url} did not answer within {timeout} s")


@pytest.fixture
def running(config: Path, tmp_path: Path) -> Iterator[Running]:
    server = start_trust_server(config, free_port(), tmp_path / "trust")
    yield server
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait()


def one_page_pdf() -> bytes:
    output = BytesIO()
    canvas = Canvas(output)
    canvas.drawString(72, 720, "Sceau trust services")
    canvas.save()
    return output.getvalue()


def test_the_printed_settings_make_issue_sign_b_lta(
    running: Running, monkeypatch: pytest.MonkeyPatch, config: Path
) -> None:
    printed = running.settings()
    assert set(printed) == SETTING_NAMES
    for name, value in printed.items():
        monkeypatch.setenv(name, value)
    identity = compose.signing_identity(load_settings(config))
    assert identity.effective_level is SignatureLevel.B_LTA

    pdf = load_signer(identity).sign(one_page_pdf())

    reader = PdfFileReader(BytesIO(pdf))
    assert len(reader.embedded_timestamp_signatures) == 1  # the LTA document timestamp
    assert "/DSS" in reader.root  # revocation data fetched from the OCSP responder / CRLs


def test_files_are_where_printed_and_keys_stay_private(running: Running, tmp_path: Path) -> None:
    printed = running.settings()
    directory = tmp_path / "trust"
    chain = json.loads(printed["SCEAU_SIGNING__CHAIN"])
    assert chain == [str(directory / "interm.cert.pem"), str(directory / "root.cert.pem")]
    assert printed["SCEAU_SIGNING__TRUST_ROOT"] == chain[1]
    assert printed["SCEAU_SIGNING__CERTIFICATE"] == str(directory / "signer.cert.pem")
    key = Path(printed["SCEAU_SIGNING__KEY"])
    assert key == directory / "signer.key.pem"
    assert key.stat().st_mode & 0o077 == 0
    for path in (key, *map(Path, chain)):
        assert path.is_file()

    code, stdout, stderr = running.stop(signal.SIGTERM)

    assert code == 0, stderr
    assert "stopped" in stderr
    assert "PRIVATE KEY" not in stdout + stderr


def test_a_second_run_reuses_the_pki_and_stops_on_ctrl_c(
    running: Running, config: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "trust"
    assert running.settings()["SCEAU_SIGNING__TSA_URL"] == tsa_url(local_base_url(running.port))
    first_root = (directory / "root.cert.pem").read_bytes()
    assert running.stop(signal.SIGTERM)[0] == 0

    again = start_trust_server(config, running.port, directory)
    again.settings()
    code, _, stderr = again.stop(signal.SIGINT)

    assert code == 0, stderr
    assert "Reusing the test PKI" in stderr
    assert (directory / "root.cert.pem").read_bytes() == first_root
