"""A real Sceau server on 127.0.0.1 and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.engine import make_url

from sceau.settings import Settings, load_settings
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.ports import free_port
from tests.sceau.helpers import Delivered, read_outbox, run_sceau, subset_of_sample

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
# Without the background-networking flags Chromium tries to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


@dataclass
class ServerClock:
    """The live server's clock: real time, moved ahead when a test needs a later day."""

    ahead: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@dataclass(frozen=True)
class LiveSceau:
    env: SceauEnv
    base_url: str
    messages: list[Delivered]
    clock: ServerClock

    def candidate_link(self, index: int) -> str:
        message = self.messages[index]
        cert_id = message.receipt.certificate_id
        match = re.search(
            rf"{re.escape(self.base_url)}/me/{cert_id}#[A-Za-z0-9_-]{{43}}", message.text
        )
        assert match, message.text
        return match.group(0)


@dataclass
class ServedBatch:
    """Certificates issued once for a module's tests (per backend), whose links point at a
    server on a free port; each test takes certificates no other test has had."""

    env: SceauEnv
    settings: Settings  # the env's, with the server's address as the public base URL
    base_url: str
    messages: list[Delivered]
    clock: ServerClock
    taken: int = 0

    def take(self, count: int) -> list[Delivered]:
        start, self.taken = self.taken, self.taken + count
        mine = self.messages[start : self.taken]
        assert len(mine) == count, f"the module's {len(self.messages)} certificates are used up"
        return mine


CERTIFICATES_PER_TEST = 4


@pytest.fixture(scope="module")
def module_batch(
    request: pytest.FixtureRequest, module_sceau_env: SceauEnv
) -> Iterator[ServedBatch]:
    """One issuance and one server for the module's `live_sceau` tests, on SQLite then on
    PostgreSQL: issuing once is what the module's tests would otherwise each wait for."""
    count = CERTIFICATES_PER_TEST * tests_asking(request, "live_sceau", module_sceau_env)
    with serving(module_sceau_env, count) as served:
        yield served


@pytest.fixture
def live_sceau(module_batch: ServedBatch) -> LiveSceau:
    """Four certificates of the test's own, served by the module's server (whose clock the
    module's tests share: a test that moves it puts it back). A test about one backend pins
    `module_sceau_env`, not `sceau_env`."""
    served = module_batch
    return LiveSceau(served.env, served.base_url, served.take(CERTIFICATES_PER_TEST), served.clock)


@pytest.fixture(scope="module")
def module_live_sceau(module_sceau_env: SceauEnv) -> Iterator[LiveSceau]:
    """Four certificates shared by the tests of a module, on SQLite then on PostgreSQL: for
    tests that each use certificates of their own (or only read), so one batch serves them all."""
    with serving(module_sceau_env, CERTIFICATES_PER_TEST) as served:
        yield LiveSceau(served.env, served.base_url, served.messages, served.clock)


def tests_asking(request: pytest.FixtureRequest, fixture: str, env: SceauEnv) -> int:
    """How many tests of the requesting module ask for `fixture` on `env`'s database backend
    (selected ones only: `-k` narrows it)."""
    backend = make_url(env.settings.database_url).get_backend_name()
    asking = [
        item
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.module is request.module
        and fixture in item.fixturenames
    ]
    return sum(1 for item in asking if backend_of(item) == backend)


def backend_of(item: pytest.Function) -> str | None:
    callspec = getattr(item, "callspec", None)  # only a parametrized test has one
    return None if callspec is None else callspec.params.get("module_sceau_env")


@contextmanager
def serving(sceau_env: SceauEnv, count: int) -> Iterator[ServedBatch]:
    """Issue `count` certificates whose links point at a server started on a free port."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = sceau_env.config_file
    config.write_text(config.read_text().replace('"https://certs.example.test"', f'"{base_url}"'))
    settings = load_settings(config)
    results = subset_of_sample(sceau_env.root / "results.csv", count)
    done = run_sceau(config, "issue", str(results))
    assert done.returncode == 0, done.stderr
    app = create_app(settings)
    clock = ServerClock()
    app.state.sceau.now = clock.now  # the injected clock
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        messages = sorted(read_outbox(settings.mail.outbox), key=lambda m: m.receipt.certificate_id)
        assert len(messages) == count, f"{len(messages)} messages for {count} certificates"
        yield ServedBatch(sceau_env, settings, base_url, messages, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module: Playwright's sync API runs an event loop in this thread,
    and pyHanko (which calls asyncio.run) cannot work beside it, so it must not outlive the
    browser tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/install installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
