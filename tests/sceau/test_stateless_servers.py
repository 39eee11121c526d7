"""Stateless servers: two real `sceau serve` processes on one database answer the same things.

An import started through one is followed on the other (its job lives in the database), the
admin session signed on one is honoured by the other, and a share opens on both. A job whose
process went silent reads as interrupted, never "running" for ever.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from issuer.imports import (
    JOB_LEASE,
    IssueOutcome,
    advance_job,
    finish_job,
    import_job,
    import_jobs,
    open_job,
)
from issuer.intake import IntakeReport, RejectedRow
from offchain_store.records import make_engine
from offchain_store.schema import create_schema
from offchain_store.tokens import AdminRole, create_token
from sceau import compose
from tests.conftest import SceauEnv
from tests.ports import free_port
from tests.sceau.helpers import REPO, read_outbox, subset_of_sample

SCEAU = (sys.executable, "-m", "sceau")
CSRF_FIELD = re.compile(r'name="csrf" value="([0-9a-f]+)"')
COOKIE = re.compile(r"^([a-z_]+)=([^;]*)")


@dataclass(frozen=True)
class Server:
    """A `sceau serve` process and the client that talks to it (cookies kept by hand: the
    settings' https base URL makes them Secure, and the test talks plain http)."""

    port: int
    log: Path
    client: httpx.Client

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serving(env: SceauEnv, name: str, config: Path | None = None) -> Iterator[Server]:
    """A `sceau serve` process on the environment's settings (or on `config`)."""
    port, log = free_port(), env.root / f"{name}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*SCEAU, "--config", str(config or env.config_file), "serve", "--port", str(port)],
            cwd=REPO,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                _wait_until_up(client, process, log)
                yield Server(port, log, client)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_up(client: httpx.Client, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            client.get("/check")
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def cookies_of(response: httpx.Response) -> dict[str, str]:
    found = (COOKIE.match(h) for h in response.headers.get_list("set-cookie"))
    return {m.group(1): m.group(2) for m in found if m}


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def sign_in(server: Server, token: str) -> dict[str, str]:
    """The session cookie from signing in on this server."""
    form = server.client.get("/admin/login")
    csrf = CSRF_FIELD.search(form.text)
    assert csrf, form.text
    signed = server.client.post(
        "/admin/login",
        data={"token": token, "csrf": csrf.group(1)},
        headers=cookie_header(cookies_of(form)),
    )
    assert signed.status_code == 303, signed.text
    return {k: v for k, v in cookies_of(signed).items() if v}


def follow(server: Server, job_url: str, session: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        answer = server.client.get(job_url + ".json?lang=en", headers=cookie_header(session))
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["finished"]:
            return job
        time.sleep(0.3)
    raise AssertionError("the import did not finish")


def test_an_import_started_on_one_server_is_followed_on_the_other_and_shares_open_on_both(
    sceau_env: SceauEnv,
) -> None:
    engine = compose.database(sceau_env.settings)
    token = create_token(engine, name="two servers", role=AdminRole.ISSUER, now=_now())[1]
    results = subset_of_sample(sceau_env.root / "results.csv", 2)
    with ExitStack() as stack:
        first = stack.enter_context(serving(sceau_env, "first"))
        second = stack.enter_context(serving(sceau_env, "second"))
        session = sign_in(first, token)
        page = first.client.get("/admin/import", headers=cookie_header(session))
        csrf = CSRF_FIELD.search(page.text)
        assert csrf, page.text
        sent = first.client.post(
            "/admin/import",
            data={"csrf": csrf.group(1)},
            files={"results": ("results.csv", results.read_bytes(), "text/csv")},
            headers=cookie_header(session),
        )
        assert sent.status_code == 303, sent.text
        job_url = sent.headers["location"]

        job = follow(second, job_url, session)  # the session signed on the first server too
        assert job["ok"] and job["phase"] == "done" and job["issued"] == 2, job
        shown = second.client.get(job_url + "?lang=en", headers=cookie_header(session))
        assert shown.status_code == 200 and "Finished" in shown.text

        message = read_outbox(sceau_env.settings.mail.outbox)[0]
        certificate_id = message.receipt.certificate_id
        candidate_key = message.text.split(f"/me/{certificate_id}#")[1][:43]
        created = second.client.post(
            f"/api/v1/me/{certificate_id}/shares", json={"key": candidate_key, "recipient": "ACME"}
        )
        assert created.status_code == 201, created.text
        share_id, share_key = created.json()["link"].split("/s/")[1].split("#")
        for server in (first, second):
            opened = server.client.post(f"/api/v1/shares/{share_id}/open", json={"key": share_key})
            assert opened.status_code == 200, opened.text
            assert opened.json()["report"]["verdict"] == "VALID", opened.json()["report"]
        listed = first.client.post(
            f"/api/v1/me/{certificate_id}/shares/list", json={"key": candidate_key}
        )
        assert listed.json()[0]["opens"] == 2  # one opening counted by each server
    for server in (first, second):
        assert "request=" in server.logs()  # each server's access log, with request ids
        assert token not in server.logs() and candidate_key not in server.logs()


def _now() -> datetime:
    return datetime.now(UTC)


def _report(rejected: int = 0) -> IntakeReport:
    return IntakeReport(
        source_name="results.csv",
        rejected=[
            RejectedRow(line=n + 2, result_id=None, reasons=("no name",)) for n in range(rejected)
        ],
    )


@pytest.fixture
def database(database_url: str) -> Iterator[Engine]:
    """A fresh database at the latest schema, SQLite then PostgreSQL."""
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def test_a_job_is_read_back_by_any_process_with_its_findings(database: Engine) -> None:
    now = _now()
    job = open_job(database, _report(rejected=1), issuer_id="test-centre", now=now)
    advance_job(database, job.id, now=now, phase="sign", done=1, total=4)
    read = import_job(database, job.id, now=now)
    assert read is not None and (read.phase, read.done, read.total) == ("sign", 1, 4)
    assert not read.finished and read.rejected[0].reasons == ("no name",)
    finish_job(database, job.id, IssueOutcome(resumed=0, batches=1, issued=3, skipped=1), now=now)
    done = import_job(database, job.id, now=now + 10 * JOB_LEASE)  # finished: never interrupted
    assert done is not None and done.ok and done.phase == "done" and done.issued == 3
    assert [j.id for j in import_jobs(database, issuer_id="test-centre", now=now)] == [job.id]
    assert import_job(database, "0" * 32, now=now) is None
    assert import_job(database, "not an id", now=now) is None


def test_a_job_whose_process_went_silent_reads_as_interrupted(database: Engine) -> None:
    started = _now()
    job = open_job(database, _report(), issuer_id="test-centre", now=started)
    advance_job(database, job.id, now=started, phase="anchor")
    alive = import_job(database, job.id, now=started + JOB_LEASE - timedelta(seconds=1))
    assert alive is not None and not alive.finished and alive.phase == "anchor"
    silent = import_job(database, job.id, now=started + JOB_LEASE + timedelta(seconds=1))
    assert silent is not None and silent.finished and not silent.ok
    assert (silent.phase, silent.error_kind) == ("interrupted", "interrupted")


SERVE_WORKERS = (
    "import sys\nfrom pathlib import Path\n"
    "from sceau.settings import load_settings\n"
    "from sceau.web.server import run_server\n"
    "config = Path(sys.argv[1])\n"
    "run_server(load_settings(config), port=int(sys.argv[2]), workers=2, config_file=config)\n"
)


def test_serve_with_two_worker_processes_answers_and_logs_in_each(sceau_env: SceauEnv) -> None:
    port, log = free_port(), sceau_env.root / "workers.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE_WORKERS, str(sceau_env.config_file), str(port)],
            cwd=REPO,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                _wait_until_up(client, process, log)
                answers = [client.get("/check", headers={"connection": "close"}) for _ in range(8)]
        finally:
            process.terminate()
            process.wait(timeout=60)
    said = log.read_text(errors="replace")
    assert all(a.status_code == 200 and a.headers["x-request-id"] for a in answers)
    assert len(set(re.findall(r"Started server process \[(\d+)\]", said))) == 2, said
    assert said.count("GET /check 200") >= 8, said  # the access log works in every worker


def test_several_workers_refuse_settings_made_in_code(
    sceau_env: SceauEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sceau.settings import ConfigurationError
    from sceau.web.server import run_server

    monkeypatch.delenv("SCEAU_CONFIG", raising=False)
    made_in_code = sceau_env.settings.model_copy(update={"issuer_name": "Not in any file"})
    with pytest.raises(ConfigurationError, match="configuration file"):
        run_server(made_in_code, port=free_port(), workers=2)


def test_a_server_process_unlocks_the_revoking_key_once_and_shares_its_engine(
    sceau_env: SceauEnv,
) -> None:
    from sceau.web.app import create_app

    state = create_app(sceau_env.settings).state.sceau
    revocations = state.revocations()
    assert state.revocations() is revocations  # not one keystore unlock per approval
    assert revocations.engine is state.engine and revocations.blobs is state.blobs
    assert revocations.copies is not None and revocations.copies.packs is not None
    assert revocations.copies.packs.engine is state.engine
