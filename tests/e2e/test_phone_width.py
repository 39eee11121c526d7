"""No page scrolls sideways on a 390 px phone: public, candidate and admin pages, in French
and in English, with their longest contents (addresses, hashes, transaction ids)."""

from __future__ import annotations

from typing import Any

import pytest

from offchain_store.tokens import AdminRole
from tests.e2e.browsing import PHONE, Visitor, create_share, sign_in
from tests.e2e.conftest import LiveSceau

LANGS = ("fr", "en")

# One batch and server for both tests. SQLite only: a layout check, whose pages read the
# database as test_walk does on both backends.
pytestmark = pytest.mark.parametrize("module_sceau_env", ["sqlite"], indirect=True, scope="module")


def fits_phone_from_the_start(
    visitor: Visitor, name: str, *, shows_field_names: bool = False
) -> None:
    """Loaded at phone width (not resized from the desktop), so script-drawn parts count too."""
    visitor.page.set_viewport_size(PHONE)
    visitor.page.wait_for_timeout(300)
    visitor.assert_fits_phone(name)
    if not shows_field_names:
        visitor.assert_no_raw_code(name)


def test_no_public_or_candidate_page_is_wider_than_a_phone(
    browser: Any, module_live_sceau: LiveSceau
) -> None:
    live = module_live_sceau
    message = live.messages[1]
    certificate_id = message.receipt.certificate_id
    for lang in LANGS:
        reader = Visitor(browser, live, lang)
        reader.page.set_viewport_size(PHONE)
        assert reader.goto(live.candidate_link(1)) == 200
        reader.page.wait_for_selector("#pages[data-shown] canvas")
        share = create_share(reader, "Organisme paritaire collecteur agréé de formation")
        reader.page.wait_for_selector("#new-share:not([hidden])")
        fits_phone_from_the_start(reader, "candidate")

        assert reader.goto(share) == 200
        reader.verdict_is("VALID")  # the report names the 42-character anchoring address
        reader.page.wait_for_selector("#pages[data-shown] canvas")
        fits_phone_from_the_start(reader, "share-valid")

        assert reader.goto(f"{live.base_url}/check") == 200
        fits_phone_from_the_start(reader, "check")
        reader.page.set_input_files(
            "#file",
            files=[{"name": "c.pdf", "mimeType": "application/pdf", "buffer": message.pdf}],
        )
        reader.verdict_is("VALID")
        fits_phone_from_the_start(reader, "check-valid")
        reader.snapshot("check-valid")

        assert reader.goto(f"{live.base_url}/c/{certificate_id}") == 200
        fits_phone_from_the_start(reader, "status")
        assert reader.goto(f"{live.base_url}/c/{'0' * 32}") == 404
        assert reader.headline() == reader.words("error.not_found.title")
        fits_phone_from_the_start(reader, "not-found")
        reader.snapshot("not-found")
        reader.assert_same_origin_only()
        reader.context.close()


def test_no_admin_page_is_wider_than_a_phone(browser: Any, module_live_sceau: LiveSceau) -> None:
    live = module_live_sceau
    bad_rows = live.env.root / "bad-rows.csv"
    sample = (live.env.root / "results.csv").read_text().splitlines(keepends=True)
    sample[2] = sample[2].replace("@example.org", "-at-example.org")
    bad_rows.write_text("".join(sample[:3]))
    for lang in LANGS:
        admin = Visitor(browser, live, lang)
        admin.page.set_viewport_size(PHONE)
        sign_in(live, admin, AdminRole.ADMIN)
        for path, name in (
            ("/admin", "admin-home"),
            ("/admin/import", "admin-import"),
            ("/admin/batches", "admin-batches"),
            ("/admin/revocations", "admin-revocations-none"),
            ("/admin/audit", "admin-audit"),
        ):
            assert admin.goto(f"{live.base_url}{path}") == 200, path
            importing = path == "/admin/import"
            fits_phone_from_the_start(admin, name, shows_field_names=importing)
            admin.snapshot(name, shows_field_names=importing)
        # What the import page shows of a file: its columns, and its rejected rows.
        assert admin.goto(f"{live.base_url}/admin/import") == 200
        admin.page.set_input_files("#results", str(bad_rows))
        with admin.page.expect_navigation():
            admin.page.locator("form[action='/admin/import'] button[type=submit]").first.click()
        admin.page.wait_for_selector("body[data-ready=true]", state="attached")
        fits_phone_from_the_start(admin, "admin-import-read", shows_field_names=True)
        admin.snapshot("admin-import-read", shows_field_names=True)
        admin.assert_same_origin_only()
        admin.context.close()
