"""One server process: one engine, and each keystore unlocked once with one chain client per
account, however many admin imports, revocations and suspensions it carries out."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts.keystore import load_account
from offchain_store.records import make_engine
from offchain_store.tokens import AdminRole
from sceau import compose
from sceau.web.app import create_app
from sceau.web.import_jobs import ImportJobs
from tests.conftest import SceauEnv
from tests.sceau.helpers import subset_of_sample
from tests.sceau.test_admin_pages import csrf_of, follow_import, sign_in, token_for


def test_a_server_builds_one_engine_and_unlocks_each_keystore_once(
    sceau_env: SceauEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = sceau_env.settings
    token = token_for(sceau_env, AdminRole.ADMIN)  # before counting: the test's own engine
    unlocked: Counter[Path] = Counter()
    engines: list[str] = []

    def counted_unlock(path: Path, passphrase: str) -> Any:
        unlocked[Path(path).resolve()] += 1
        return load_account(path, passphrase)

    def counted_engine(url: str, **options: Any) -> Any:
        engines.append(url)
        return make_engine(url, **options)

    monkeypatch.setattr(compose, "load_account", counted_unlock)
    monkeypatch.setattr(compose, "make_engine", counted_engine)
    app = create_app(settings)
    state = app.state.sceau
    app.state.admin_imports = jobs = ImportJobs(issuance=state.issuance)
    results = subset_of_sample(sceau_env.root / "results.csv", 1).read_bytes()
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        assert sign_in(browser, token).status_code == 303
        for issued in (1, 0):  # the second import of the same file issues nothing again
            sent = browser.post(
                "/admin/import",
                data={"csrf": csrf_of(browser.get("/admin/import"))},
                files={"results": ("results.csv", results, "text/csv")},
            )
            job = follow_import(browser, sent.headers["location"])
            assert job["ok"] and job["issued"] == issued, job
        assert jobs.join(timeout=300)
    state.revocations()
    state.suspensions()
    keystores = {
        settings.chain.keystore,
        settings.chain.revoker_keystore or settings.chain.keystore,
    }
    assert engines == [settings.database_url]
    assert dict(unlocked) == {path.resolve(): 1 for path in keystores}
