"""Real results files, built at run time the way exam centres' tools write them, each imported
into the same certificate contents; then one of them issued end to end through `sceau issue`."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.columns import load_column_mapping
from issuer.intake import IntakeReport, parse_results, read_results
from offchain_store.tokens import AdminRole
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.issuer.test_spreadsheets import ods_bytes, xlsx_bytes
from tests.sceau.helpers import certificates, read_outbox, run_sceau
from tests.sceau.test_admin_pages import (
    csrf_of,
    follow_import,
    signed_in,
)

TODAY = date(2026, 11, 22)
SESSION = date(2026, 10, 14)
# Names that Windows-1252 can hold, so that every format carries the very same candidates.
CANDIDATES = (
    ("RES-0001", "Durand", "Camille", date(1995, 11, 2), "202601", "camille@example.org",
     "B2", ("B1", "B2", "B2", "C1")),
    ("RES-0002", "Benali", "Inès", date(1988, 3, 21), "202602", "ines@example.org",
     "C1", ("C1", "C1", "B2", "C1")),
    ("RES-0003", "Lœuillet", "François-Zoë", date(2001, 1, 31), "202603", "fz@example.org",
     "A2", ("A2", "B1", "A1", "A2")),
)  # fmt: skip
EXAM, LANGUAGE, CENTRE = "Diplôme de compétence en langue", "Anglais", "Centre d'examens de Lyon"


def _rows(header: Sequence[str], cell: Callable[[tuple[Any, ...], str], Any]) -> list[list[Any]]:
    """The header, then one row per candidate, each cell as ``cell`` writes it."""
    return [list(header), *([cell(c, f) for f in FIELDS_OF[tuple(header)]] for c in CANDIDATES)]


def _value(candidate: tuple[Any, ...], field: str, *, dates: Callable[[date], Any]) -> Any:
    rid, last, first, birth, number, email, level, skills = candidate
    values: dict[str, Any] = {
        "result_id": rid, "last_name": last, "first_name": first, "full_name": f"{first} {last}",
        "date_of_birth": dates(birth), "candidate_number": number, "email": email,
        "exam": EXAM, "language": LANGUAGE, "level": level, "listening": skills[0],
        "reading": skills[1], "writing": skills[2], "speaking": skills[3],
        "session_date": dates(SESSION), "centre": CENTRE, "remark": "admis",
    }  # fmt: skip
    return values[field]


FIELDS = (
    "result_id", "last_name", "first_name", "date_of_birth", "candidate_number", "email", "exam",
    "language", "level", "listening", "reading", "writing", "speaking", "session_date", "centre",
)  # fmt: skip
ENGLISH = (
    "Result ID", "Surname", "Given name", "Date of birth", "Candidate No", "E-mail", "Exam",
    "Language", "CEFR level", "Listening", "Reading", "Writing", "Speaking", "Exam date",
    "Test centre",
)  # fmt: skip
FRENCH = (
    "Numéro de résultat", "Nom", "Prénom", "Date de naissance", "N° candidat", "Courriel",
    "Examen", "Langue", "Niveau CECRL", "Compréhension orale", "Compréhension écrite",
    "Expression écrite", "Expression orale", "Date de session", "Centre d'examen",
)  # fmt: skip
# The issue's own example: snake_case English, two name columns, no e-mail column.
NO_EMAIL = (
    "result_id", "last_name", "first_name", "date_of_birth", "candidate_number", "exam",
    "language", "cefr_level", "listening", "reading", "writing", "speaking", "session_date",
    "centre",
)  # fmt: skip
FULL_NAME_FR = ("Identifiant", "Nom et prénom", *FRENCH[3:], "Remarques")
ODD = (
    "Ident", "Apprenant", "Naiss.", "Dossier", "Epreuve", "Matière", "Résultat", "Oral 1",
    "Ecrit 1", "Ecrit 2", "Oral 2", "Jour", "Lieu de l'épreuve",
)  # fmt: skip
MAPPING = """[columns]
result_id = "Ident"
candidate_name = "Apprenant"
date_of_birth = "Naiss."
candidate_number = "Dossier"
exam = "Epreuve"
language = "Matière"
level = "Résultat"
skill_listening = "Oral 1"
skill_reading = "Ecrit 1"
skill_writing = "Ecrit 2"
skill_speaking = "Oral 2"
session_date = "Jour"
centre = "Lieu de l'épreuve"
"""
FIELDS_OF: dict[tuple[str, ...], tuple[str, ...]] = {
    ENGLISH: FIELDS,
    FRENCH: FIELDS,
    NO_EMAIL: tuple(f for f in FIELDS if f != "email"),
    FULL_NAME_FR: ("result_id", "full_name", *FIELDS[3:], "remark"),
    ODD: ("result_id", "full_name", *(f for f in FIELDS[3:] if f != "email")),
}


def _csv(rows: list[list[Any]], delimiter: str) -> str:
    return "".join(delimiter.join(str(v) for v in row) + "\r\n" for row in rows)


def _french_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def xlsx_file(tmp: Path) -> tuple[Path, None]:
    """English headers, dates as date cells, candidate numbers as numbers."""
    rows = _rows(ENGLISH, lambda c, f: _value(c, f, dates=lambda d: d))
    for row in rows[1:]:
        row[4] = int(row[4])
    path = tmp / "export.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    return path, None


def ods_file(tmp: Path) -> tuple[Path, None]:
    """French headers, date cells, as LibreOffice Calc saves it."""
    path = tmp / "résultats.ods"
    path.write_bytes(ods_bytes(_rows(FRENCH, lambda c, f: _value(c, f, dates=lambda d: d))))
    return path, None


def cp1252_csv(tmp: Path) -> tuple[Path, None]:
    """Excel in France, "CSV (séparateur : point-virgule)": Windows-1252, ';', dd/mm/yyyy."""
    rows = _rows(FRENCH, lambda c, f: _value(c, f, dates=_french_date))
    path = tmp / "export-excel.csv"
    path.write_bytes(_csv(rows, ";").encode("cp1252"))
    return path, None


def bom_csv(tmp: Path) -> tuple[Path, None]:
    """Excel's "CSV UTF-8": a BOM, French headers, a full-name column and a remarks column."""
    rows = _rows(FULL_NAME_FR, lambda c, f: _value(c, f, dates=_french_date))
    path = tmp / "export-utf8.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _csv(rows, ",").encode())
    return path, None


def no_email_csv(tmp: Path) -> tuple[Path, None]:
    """The issue's file: ';', UTF-8 BOM, last_name;first_name;…, no e-mail column, ISO dates."""
    rows = _rows(NO_EMAIL, lambda c, f: _value(c, f, dates=date.isoformat))
    path = tmp / "centre.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _csv(rows, ";").encode())
    return path, None


def mapped_tsv(tmp: Path) -> tuple[Path, Path]:
    """Headers nobody could guess, tab-separated, with a mapping file."""
    rows = _rows(ODD, lambda c, f: _value(c, f, dates=_french_date))
    path = tmp / "odd.txt"
    path.write_bytes(_csv(rows, "\t").encode())
    mapping = tmp / "odd-columns.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return path, mapping


BUILDERS = (xlsx_file, ods_file, cp1252_csv, bom_csv, no_email_csv, mapped_tsv)


def _report(path: Path, mapping: Path | None) -> IntakeReport:
    columns = load_column_mapping(mapping) if mapping else None
    return read_results(path, today=TODAY, columns=columns)


def _printed(report: IntakeReport) -> list[dict[str, Any]]:
    """What each certificate says, the same certificate id and date for every file."""
    return [
        row.to_content(certificate_id="ab" * 16, issued_on=TODAY).model_dump(
            exclude={"first_name", "last_name"}
        )
        for row in report.rows
    ]


def _expected() -> list[dict[str, Any]]:
    canonical = (
        "result_id,candidate_name,date_of_birth,candidate_number,email,exam,language,level,"
        "skill_listening,skill_reading,skill_writing,skill_speaking,session_date,centre\n"
    )
    for rid, last, first, birth, number, email, level, skills in CANDIDATES:
        canonical += (
            f"{rid},{first} {last},{birth},{number},{email},{EXAM},{LANGUAGE},{level},"
            f'{",".join(skills)},{SESSION},"{CENTRE}"\n'
        )
    report = parse_results(canonical.encode(), name="canonical.csv", today=TODAY)
    assert report.rejected == [] and len(report.rows) == len(CANDIDATES)
    return _printed(report)


@pytest.mark.parametrize("build", BUILDERS, ids=[b.__name__ for b in BUILDERS])
def test_each_real_file_imports_into_the_same_certificate_contents(
    build: Callable[[Path], tuple[Path, Path | None]], tmp_path: Path
) -> None:
    path, mapping = build(tmp_path)
    report = _report(path, mapping)
    assert report.rejected == [], report.rejected
    assert _printed(report) == _expected()
    names = [r.fields["candidate_name"] for r in report.rows]
    assert names == ["Camille Durand", "Inès Benali", "François-Zoë Lœuillet"]
    skills = report.rows[0].fields["skills"]
    assert [s.skill for s in skills] == ["listening", "reading", "writing", "speaking"]
    emails = [r.email for r in report.rows]
    has_email = build not in (no_email_csv, mapped_tsv)
    assert emails == ([c[5] for c in CANDIDATES] if has_email else [None] * len(CANDIDATES))


def test_how_each_file_was_read_is_reported(tmp_path: Path) -> None:
    described = {b.__name__: _report(*b(tmp_path)).read_as for b in BUILDERS}
    assert described == {
        "xlsx_file": "XLSX",
        "ods_file": "ODS",
        "cp1252_csv": "CSV, Windows-1252, separator ';'",
        "bom_csv": "CSV, UTF-8 with BOM, separator ','",
        "no_email_csv": "CSV, UTF-8 with BOM, separator ';'",
        "mapped_tsv": "CSV, UTF-8, separator tab",
    }


def test_a_windows_1252_file_with_an_undefined_byte_names_its_line(tmp_path: Path) -> None:
    path, _ = cp1252_csv(tmp_path)
    lines = path.read_bytes().split(b"\r\n")
    lines[2] = lines[2].replace(b"Benali", b"Ben\x81li")
    path.write_bytes(b"\r\n".join(lines))
    report = _report(path, None)
    assert [r.result_id for r in report.rows] == ["RES-0001", "RES-0003"]
    (rejected,) = report.rejected
    assert rejected.line == 3
    assert "byte 0x81 is not valid Windows-1252 text" in rejected.reasons[0]


def test_an_xlsx_export_issues_through_the_cli(sceau_env: SceauEnv) -> None:
    """The XLSX export goes through `sceau issue`: every candidate gets the right certificate."""
    path, _ = xlsx_file(sceau_env.root)
    done = run_sceau(sceau_env.config_file, "issue", str(path))
    assert done.returncode == 0, done.stderr + done.stdout
    delivered = {m.to: m for m in read_outbox(sceau_env.settings.mail.outbox)}
    assert len(delivered) == len(CANDIDATES)
    for _, last, first, *_rest in CANDIDATES:
        email = next(c[5] for c in CANDIDATES if c[1] == last)
        message = next(m for to, m in delivered.items() if email in to)
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=message.pdf, capture_output=True, check=True
        ).stdout.decode()
        assert f"{first} {last}" in text
    assert len(certificates(sceau_env.settings.database_url)) == len(CANDIDATES)


@pytest.fixture
def browser(sceau_env: SceauEnv) -> Iterator[TestClient]:
    """The admin pages over https (the session cookie is Secure), as in test_admin_pages."""
    app = create_app(sceau_env.settings)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client
    jobs = getattr(app.state, "admin_imports", None)
    assert jobs is None or jobs.join(timeout=300), "an import thread is still running"


def test_the_admin_page_checks_a_spreadsheet_and_a_mapping_file_without_issuing(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    path, mapping = mapped_tsv(sceau_env.root)
    signed_in(browser, sceau_env, AdminRole.ISSUER)
    form = browser.get("/admin/import?lang=en")
    assert 'accept=".csv,.tsv,.txt,.xlsx,.ods,.json,' in form.text
    checked = browser.post(
        "/admin/import?lang=en",
        data={"csrf": csrf_of(form), "check_only": "yes"},
        files={
            "results": (path.name, path.read_bytes(), "text/plain"),
            "columns": (mapping.name, mapping.read_bytes(), "application/toml"),
        },
    )
    assert checked.status_code == 200, checked.text
    page = checked.text
    assert "3 certificate(s) would be issued" in page
    assert "CSV, UTF-8, separator tab" in page
    assert re.search(
        r"<td>Apprenant</td><td class=\"mono\">candidate_name</td><td>mapping file", page
    )
    assert re.search(r"<td>2</td><td class=\"mono\">RES-0001</td><td>Camille Durand</td>", page)
    assert "letter (fr)" in page
    assert certificates(sceau_env.settings.database_url) == []


def test_the_admin_page_finds_an_xlsx_by_its_content_and_issues_it(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    path, _ = xlsx_file(sceau_env.root)
    signed_in(browser, sceau_env, AdminRole.ISSUER)
    sent = browser.post(
        "/admin/import",
        data={"csrf": csrf_of(browser.get("/admin/import"))},
        files={"results": ("export.csv", path.read_bytes(), "text/csv")},  # a misleading name
    )
    assert sent.status_code == 303, sent.text
    job = follow_import(browser, sent.headers["location"])
    assert job["ok"] and (job["issued"], job["rejected"]) == (len(CANDIDATES), 0), job
    delivered = read_outbox(sceau_env.settings.mail.outbox)
    assert sorted(m.to.split("<")[-1].rstrip(">") for m in delivered) == sorted(
        c[5] for c in CANDIDATES
    )


def test_the_admin_page_names_the_columns_it_could_not_understand(
    sceau_env: SceauEnv, browser: TestClient
) -> None:
    path, _ = mapped_tsv(sceau_env.root)  # without its mapping file
    signed_in(browser, sceau_env, AdminRole.ISSUER)
    sent = browser.post(
        "/admin/import?lang=en",
        data={"csrf": csrf_of(browser.get("/admin/import"))},
        files={"results": (path.name, path.read_bytes(), "text/plain")},
    )
    assert sent.status_code == 422
    assert "This file cannot be read" in sent.text and "Columns found: &#39;Ident&#39;" in sent.text
    assert "Not understood:" in sent.text and "--columns MAP.toml" in sent.text


def test_the_sample_exports_of_the_documentation_read_cleanly() -> None:
    samples = Path(__file__).parents[2] / "sceau" / "samples"
    excel = read_results(samples / "export-tableur.csv", today=TODAY)
    assert excel.read_as == "CSV, Windows-1252, separator ';'" and excel.rejected == []
    assert [r.email is None for r in excel.rows] == [False, False, True, False]
    assert excel.columns is not None
    assert [c.header for c in excel.columns.ignored] == ["Remarques"]
    mapping = load_column_mapping(samples / "export-logiciel.columns.toml")
    other = read_results(samples / "export-logiciel.tsv", today=TODAY, columns=mapping)
    assert other.rejected == [] and [r.fields["candidate_name"] for r in other.rows] == [
        "Aïcha Traoré",
        "Tomás Ibáñez",
    ]
