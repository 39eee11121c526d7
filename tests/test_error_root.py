"""One error root: every error Sceau defines descends from `SceauError`, and every one of them
finds its HTTP status (sceau/web/statuses.py, for the API and the pages alike) and its exit code
(sceau/console.py) in the one table of each, by its MRO; the few that fall to the root's
last-resort row are named here."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import sceau_errors
from contracts.errors import RegistryError
from issuer.delivery_pack import DeliveryPackError
from issuer.errors import RenderError
from issuer.revocation import RevocationError, UnknownCertificate, UnknownRequest
from issuer.spreadsheets import ResultsFileError
from issuer.suspension import SuspensionError
from issuer.wallet_errors import TokenUnknown, WalletError, WrongTxCode
from offchain_store.errors import BlobStoreUnavailable, MalformedToken
from offchain_store.wallet_offers import WalletClaimsMissing
from sceau.console import INTERNAL_ERROR, exit_code_for, exit_code_of
from sceau.web import admin_delivery, admin_pages
from sceau.web.access_log import INTERNAL_ERROR as INTERNAL_ERROR_ANSWER
from sceau.web.app import add_error_handlers
from sceau.web.errors import NotJsonContent
from sceau.web.statuses import HTTP_STATUS, SERVER_MESSAGES, http_status_of
from sceau_errors import SceauError

PACKAGES = ("sceau_errors", "contracts", "issuer", "verifier", "offchain_store", "sceau")

# Exceptions that may stay outside the root: private control flow that never leaves its module.
OUTSIDE_THE_ROOT = {
    # Raised by load_strict_json and turned into the caller's own error (InvalidReceipt,
    # InvalidProfile...) by parse_document, in the same module.
    "contracts.documents._Refused",
}

# Errors an HTTP request answers with the root's row (500, a fixed message): none of them is
# the caller's doing, and none is raised on the way of a request the API documents.
HTTP_INTERNAL = {
    "sceau_errors.SceauError",
    # Issuance runs in the CLI and the workers, not in answer to a request.
    "issuer.errors.IssuanceError",
    "issuer.errors.RenderError",
    "issuer.errors.SigningError",
    "issuer.errors.DevPkiError",
    "issuer.design.DesignError",
    "issuer.letters.LetterError",
    "issuer.keys.KeyRotationError",
    "issuer.profile_publication.ProfilePublicationError",
    "issuer.status_list.StatusListError",
    "issuer.trust_services.SigningCertificateRevoked",
    "issuer.trust_services.SigningServiceUnavailable",
    "issuer.wallet_credential.WalletCredentialError",
    "issuer.delivery.DeliveryError",
    "issuer.delivery_pack.DeliveryPackError",  # a pack that cannot be built (PackNotFound: 404)
    # Verification reports a bad certificate; these are the server's own inputs gone wrong.
    "verifier.errors.VerificationError",
    "verifier.report.InvalidReport",
    "verifier.presentation.Malformed",  # caught in verify_presentation, which reports it
    # The server's own documents (receipts, the issuer profile) that do not hold together.
    "contracts.receipt.InvalidReceipt",
    "contracts.profile.InvalidProfile",
}

# Errors the CLI exits with the internal-error code for: the HTTP layer's, never in a command.
EXIT_INTERNAL = {
    "sceau_errors.SceauError",
    "sceau.web.errors.WebError",
    "sceau.web.errors.BodyError",
    "sceau.web.errors.NotJsonContent",
    "sceau.web.errors.MalformedJson",
    "sceau.web.errors.ProofNotFound",
    "sceau.web.errors.UploadTooLarge",
    "sceau.web.errors.NotAPdf",
    "sceau.web.routes_status.StatusListNotFound",
}


def _modules() -> Iterator[str]:
    for package in PACKAGES:
        yield package
        path = importlib.import_module(package).__path__
        for found in pkgutil.walk_packages(path, f"{package}."):
            if not found.name.endswith(".__main__"):  # running it is the CLI itself
                yield found.name


def _defined_errors() -> dict[str, type[BaseException]]:
    """Every exception class defined at the top of a module of Sceau, by its dotted name."""
    errors: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                errors[f"{name}.{value.__qualname__}"] = value
    return errors


ERRORS = _defined_errors()
PUBLIC = {
    name: kind
    for name, kind in ERRORS.items()
    if issubclass(kind, SceauError) and not kind.__qualname__.startswith("_")
}


def test_the_walk_finds_the_errors_of_every_package() -> None:
    roots = {name.split(".")[0] for name in ERRORS}
    assert roots == set(PACKAGES)
    assert len(PUBLIC) > 100


def test_every_error_sceau_defines_descends_from_the_root() -> None:
    outside = sorted(
        name
        for name, kind in ERRORS.items()
        if not issubclass(kind, SceauError) and name not in OUTSIDE_THE_ROOT
    )
    assert outside == []


def test_the_allow_lists_name_only_errors_that_exist() -> None:
    assert sorted(OUTSIDE_THE_ROOT - set(ERRORS)) == []
    assert sorted(HTTP_INTERNAL - set(PUBLIC)) == []
    assert sorted(EXIT_INTERNAL - set(PUBLIC)) == []


def test_every_error_has_an_http_status_and_only_the_listed_ones_fall_to_the_root() -> None:
    statuses = {name: http_status_of(kind) for name, kind in PUBLIC.items()}
    assert sorted(name for name, status in statuses.items() if status is None) == []
    internal = {name for name, status in statuses.items() if status == (500, "internal_error")}
    assert sorted(internal) == sorted(HTTP_INTERNAL)


def test_every_error_has_an_exit_code_and_only_the_listed_ones_fall_to_the_root() -> None:
    codes = {name: exit_code_of(kind) for name, kind in PUBLIC.items()}
    assert sorted(name for name, code in codes.items() if code is None) == []
    internal = {name for name, code in codes.items() if code == (INTERNAL_ERROR, "Internal")}
    assert sorted(internal) == sorted(EXIT_INTERNAL)


def test_an_error_outside_sceau_has_no_exit_code() -> None:
    assert exit_code_for(KeyError("x")) is None  # the CLI lets it through, traceback and all
    assert exit_code_for(RenderError("no font")) == (5, "Issuance")


def test_the_http_table_holds_each_error_once_and_the_root_last() -> None:
    kinds = [kind for kind, _, _ in HTTP_STATUS]
    assert len(kinds) == len(set(kinds))
    assert kinds[-1] is SceauError
    assert "internal_error" in SERVER_MESSAGES


@pytest.mark.parametrize("kind", [k for k in PUBLIC.values() if issubclass(k, WalletError)])
def test_a_wallet_refusal_has_a_row_of_its_own(kind: type[WalletError]) -> None:
    status, code = http_status_of(kind) or (0, "")
    assert code == kind.code  # none answers with its parent's row by accident
    # Until routes_wallet.py answers through the app's handler, wallet_errors also carries each
    # refusal's status: while it does, the table must say the same.
    assert status == getattr(kind, "status", status)


def test_the_message_is_the_plain_language_string() -> None:
    assert str(SceauError("The chain is down.")) == SceauError("The chain is down.").message
    assert str(SceauError()) == SceauError.message != ""
    fixed = NotJsonContent()
    assert str(fixed) == fixed.message == NotJsonContent.message
    assert str(UnknownRequest()) == "No revocation request with this id."


def test_the_root_imports_nothing() -> None:
    tree = ast.parse(Path(sceau_errors.__file__).read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    assert imports == []


RAISED: dict[str, BaseException] = {
    "render": RenderError("cannot read /srv/sceau/fonts/secret.ttf"),
    "root": SceauError("something at s3://private-bucket/key"),
    "unknown_request": UnknownRequest(),
    "link_key": MalformedToken(),
    "blob_store": BlobStoreUnavailable("bucket private-bucket refused"),
    "token_unknown": TokenUnknown(),
    "wrong_tx_code": WrongTxCode(),
    "claims_missing": WalletClaimsMissing(),
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    add_error_handlers(app)

    @app.get("/raise/{what}")
    def raise_it(what: str) -> None:
        raise RAISED[what]

    return TestClient(app)


@pytest.mark.parametrize(
    ("what", "status", "code"),
    [
        ("render", 500, "internal_error"),
        ("root", 500, "internal_error"),
        ("unknown_request", 404, "request_not_found"),
        ("link_key", 403, "wrong_link_key"),
        ("blob_store", 503, "storage_error"),
        ("claims_missing", 409, "wallet_claims_missing"),
    ],
)
def test_the_app_answers_an_error_by_its_nearest_row(
    client: TestClient, what: str, status: int, code: str
) -> None:
    answer = client.get(f"/raise/{what}")
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert http_status_of(type(RAISED[what])) == (status, code)
    if code == "internal_error":  # the same answer as a failure nothing handled
        assert answer.json() == json.loads(INTERNAL_ERROR_ANSWER)
    elif status >= 500:  # a server-side message may name paths or buckets: never shown
        assert answer.json()["message"] == SERVER_MESSAGES[code]
    else:
        assert answer.json()["message"] == str(RAISED[what])


def test_a_wallet_refusal_is_answered_in_the_protocol_form(client: TestClient) -> None:
    answer = client.get("/raise/token_unknown")
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_token",
        "error_description": TokenUnknown.message,
        "code": "token_unknown",
        "message": TokenUnknown.message,
    }
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    refused = client.get("/raise/wrong_tx_code")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert "WWW-Authenticate" not in refused.headers


def _form_refusals() -> list[tuple[str, tuple[type[BaseException], ...], dict[str, str]]]:
    return [
        ("import", (ResultsFileError,), admin_pages.IMPORT_PROBLEMS),
        ("decision", (RegistryError, RevocationError), admin_pages.DECISION_PROBLEMS),
        (
            "suspension",
            (UnknownCertificate, SuspensionError, RegistryError),
            admin_pages.SUSPENSION_PROBLEMS,
        ),
        ("download", (DeliveryPackError,), admin_delivery.DOWNLOAD_PROBLEMS),
    ]


@pytest.mark.parametrize(("form", "caught", "problems"), _form_refusals(), ids=lambda v: v)
def test_a_page_has_words_for_the_code_of_every_error_it_catches(
    form: str, caught: tuple[type[BaseException], ...], problems: dict[str, str]
) -> None:
    # The admin pages answer with the table's status and pick their words by its code: an
    # error they catch whose code has no words would fail there, not here, without this.
    codes = {
        name: (http_status_of(kind) or (0, ""))[1]
        for name, kind in PUBLIC.items()
        if issubclass(kind, caught)
    }
    assert sorted(name for name, code in codes.items() if code not in problems) == [], form
    assert set(problems) <= set(codes.values()), form  # no words for a code never met
