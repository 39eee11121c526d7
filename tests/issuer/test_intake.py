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
        + row("R7", name="Łukasz Żółć")
    ).encode() + row("R6", name="Ren\xe9e Dupont").encode("latin-1")
    report = parse_results(body, name="results.csv", today=TODAY)
    assert [r.result_id for r in report.rows] == ["R1", "R7"]
    reasons = {r.line: " ".join(r.reasons) for r in report.rejected}
    assert "candidate_name: missing" in reasons[3]
    assert "'X9' is not a CEFR level" in reasons[4]
    assert "session_date: 2027-01-10 is in the future" in reasons[5]
    assert "appears more than once (lines 6, 7)" in reasons[6]
    assert "appears more than once (lines 6, 7)" in reasons[7]
    assert "byte 0xE9 is not valid UTF-8 text" in reasons[9]
    assert report.read_as == "CSV, UTF-8, separator ','"


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
    with pytest.raises(ResultsFileError, match="Missing column"):
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


def test_identical_repeated_rows_issue_one_certificate_and_say_so() -> None:
    body = HEADER + row("R1") + row("R2") + row("R1") + row("R1")
    report = parse_results(body.encode(), name="r.csv", today=TODAY)
    assert [(r.line, r.result_id) for r in report.rows] == [(2, "R1"), (3, "R2")]
    assert report.rejected == []
    assert [(r.result_id, r.lines) for r in report.repeats] == [("R1", (2, 4, 5))]
    assert "lines 2, 4, 5 are the same result" in str(report.repeats[0])


def test_a_repeated_id_with_different_content_rejects_every_row_that_shares_it() -> None:
    body = (
        HEADER
        + row("R1")
        + row("R2")
        + row("R1", name="Camille Durant")
        + row("R1")
        + row("R1", level="X9")
    )
    report = parse_results(body.encode(), name="r.csv", today=TODAY)
    assert [r.result_id for r in report.rows] == ["R2"]
    assert [r.line for r in report.rejected] == [2, 4, 5, 6]
    for rejected in report.rejected:
        assert "appears more than once (lines 2, 4, 5, 6) with different content" in " ".join(
            rejected.reasons
        )
    assert "'X9' is not a CEFR level" in report.rejected[-1].reasons[0]
    assert report.repeats == []


def test_rows_without_email_column_pass_with_no_address() -> None:
    header = (
        "result_id,last_name,first_name,date_of_birth,candidate_number,exam,language,level,"
        "session_date,centre\n"
    )
    body = header + "R1,Durand,Camille,01/05/1990,C1,DCL,Anglais,B2,14/10/2026,Lyon\n"
    report = parse_results(body.encode(), name="r.csv", today=TODAY, default_language="en")
    assert report.rejected == []
    (result,) = report.rows
    assert result.email is None and result.message_language == "en"
    content = result.to_content(certificate_id="ab" * 16, issued_on=TODAY)
    assert (content.candidate_name, content.first_name, content.last_name) == (
        "Camille Durand",
        "Camille",
        "Durand",
    )


def test_an_empty_email_cell_passes_but_a_bad_address_is_rejected() -> None:
    body = HEADER + row("R1", email="") + row("R2", email="not-an-address")
    report = parse_results(body.encode(), name="r.csv", today=TODAY)
    assert [(r.result_id, r.email) for r in report.rows] == [("R1", None)]
    assert "email: 'not-an-address' is not an e-mail address" in report.rejected[0].reasons


def test_a_name_no_font_can_draw_is_rejected_with_its_line() -> None:
    from issuer.fonts import undrawable_characters

    strange = "Camille \U0001f600 Durand"
    assert undrawable_characters(strange) == ["\U0001f600"]  # the premise, from the fonts
    body = (
        HEADER + row("R1", name="محمد بن علي") + row("R2", name=strange) + row("R3", name="王小明")
    )
    report = parse_results(body.encode(), name="r.csv", today=TODAY)
    assert [r.result_id for r in report.rows] == ["R1", "R3"]
    (rejected,) = report.rejected
    assert rejected.line == 3
    assert rejected.reasons == (
        "candidate_name: '\U0001f600' (U+1F600) cannot be drawn by any font of the certificate",
    )


@pytest.mark.parametrize(
    "cell,expected",
    [("", "fr"), ("EN", "en"), ("en-GB", "en"), ("Français", "fr"), ("anglais", "en")],
)
def test_message_language_from_the_row_or_the_issuer_default(cell: str, expected: str) -> None:
    body = HEADER.replace("centre\n", "centre,message_language\n") + row("R1").replace(
        "Lyon\n", f"Lyon,{cell}\n"
    )
    report = parse_results(body.encode(), name="r.csv", today=TODAY, default_language="fr")
    assert report.rejected == []
    assert report.rows[0].message_language == expected
