"""Import of jury results: valid rows pass, bad rows are rejected one by one with reasons."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from issuer.content import CefrLevel
from issuer.intake import ResultsFileError, parse_results, read_results

TODAY = date(2026, 11, 22)
HEADER = (
    "result_id,candidate_name,date_of_birth,candidate_number,email,exam,language,level,"
    "skill_listening,session_date,centre\n"
)


def row(
    rid: str,
    name: str = "Camille Durand",
    level: str = "B2",
    session: str = "2026-10-14",
    birth: str = "1990-05-01",
    email: str = "c@example.org",
) -> str:
    return f"{rid},{name},{birth},C1,{email},DCL,Anglais,{level},B1,{session},Lyon\n"


def test_sample_file_is_entirely_valid() -> None:
    sample = Path(__file__).parents[2] / "sceau" / "samples" / "results-sample.csv"
    report = read_results(sample, today=TODAY)
    assert report.rejected == []
    assert len(report.rows) >= 20
    assert {r.fields["candidate_name"] for r in report.rows} >= {"Łukasz Żółć", "Ørjan Åsmund"}


def test_bad_rows_rejected_each_with_its_line_and_reason() -> None:
    body = (
        HEADER
        + row("R1")
        + row("R2", name="")
        + row("R3", level="X9")
        + row("R4", session="2027-01-10")
        + row("R5")
        + row("R5", name="Other Person")
    ).encode() + row("R6", name="Ren\xe9e Dupont").encode("latin-1")
    report = parse_results(body, name="results.csv", today=TODAY)
    assert [r.result_id for r in report.rows] == ["R1"]
    reasons = {r.line: " ".join(r.reasons) for r in report.rejected}
    assert "candidate_name: missing" in reasons[3]
    assert "'X9' is not a CEFR level" in reasons[4]
    assert "session_date: 2027-01-10 is in the future" in reasons[5]
    assert "appears more than once (lines 6, 7)" in reasons[6]
    assert "appears more than once (lines 6, 7)" in reasons[7]
    assert "not valid UTF-8" in reasons[8]


def test_valid_row_becomes_certificate_content() -> None:
    report = parse_results((HEADER + row("R1")).encode(), name="r.csv", today=TODAY)
    content = report.rows[0].to_content(certificate_id="ab" * 16, issued_on=TODAY)
    assert content.level is CefrLevel.B2
    assert content.skills[0].skill == "listening"
    assert content.session_date == date(2026, 10, 14)


def test_french_dates_semicolons_and_bom_accepted() -> None:
    body = (
        "\ufeff"
        + HEADER.replace(",", ";")
        + row("R1").replace(",", ";").replace("2026-10-14", "14/10/2026")
    )
    report = parse_results(body.encode(), name="r.csv", today=TODAY)
    assert report.rejected == []
    assert report.rows[0].fields["session_date"] == date(2026, 10, 14)


def test_missing_column_rejects_the_file() -> None:
    with pytest.raises(ResultsFileError, match="missing column"):
        parse_results(b"result_id,candidate_name\nR1,A\n", name="r.csv", today=TODAY)


def test_json_results_with_skills_object() -> None:
    doc = {
        "results": [
            {
                "result_id": "J1",
                "candidate_name": "Inès Benali",
                "date_of_birth": "1999-01-02",
                "candidate_number": "C9",
                "email": "ines@example.org",
                "exam": "DCL",
                "language": "Anglais",
                "score": "78",
                "score_max": "100",
                "session_date": "2026-10-01",
                "centre": "Lyon",
                "skills": {"reading": "C1", "writing": "71.5"},
            },
            {"result_id": "J2"},
        ]
    }
    report = parse_results(json.dumps(doc).encode(), name="r.json", today=TODAY)
    assert [r.result_id for r in report.rows] == ["J1"]
    assert report.rejected[0].line == 2
    skills = report.rows[0].fields["skills"]
    assert [s.skill for s in skills] == ["reading", "writing"]


@pytest.mark.parametrize(
    "raw,match",
    [
        (b"", "empty"),
        (b"{not json", "invalid JSON"),
    ],
)
def test_unreadable_files_raise(raw: bytes, match: str) -> None:
    with pytest.raises(ResultsFileError, match=match):
        parse_results(raw, name="r.json" if raw else "r.csv", today=TODAY)
