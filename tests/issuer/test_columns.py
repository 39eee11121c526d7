"""Columns as exam centres name them: known names in French and English, a mapping file for
the rest, and errors that name what was found and what is nearest."""

from __future__ import annotations

import pytest

from issuer.columns import (
    FIELD_NAMES,
    KNOWN_NAMES,
    SKILL_NAMES,
    ColumnMapping,
    ColumnMappingError,
    ColumnsNotUnderstood,
    header_key,
    parse_column_mapping,
    understand_columns,
)

FRENCH = (
    "N° résultat", "NOM", "Prénom", "Date de naissance", "Numéro de candidat", "Courriel",
    "Examen", "Langue", "Niveau CECRL", "Compréhension orale", "Compréhension écrite",
    "Expression écrite", "Expression orale", "Interaction orale", "Date de session",
    "Centre d'examen",
)  # fmt: skip
ENGLISH = (
    "Result ID", "Surname", "Given name", "DOB", "Candidate No", "E-mail", "Exam",
    "Language", "CEFR_level", "Listening", "Reading", "Writing", "Speaking", "Interaction",
    "Exam date", "Test centre",
)  # fmt: skip
EXPECTED = (
    "result_id", "last_name", "first_name", "date_of_birth", "candidate_number", "email",
    "exam", "language", "level", "skill_listening", "skill_reading", "skill_writing",
    "skill_speaking", "skill_interaction", "session_date", "centre",
)  # fmt: skip


@pytest.mark.parametrize("header", [FRENCH, ENGLISH], ids=["french", "english"])
def test_usual_french_and_english_headers_need_no_configuration(header: tuple[str, ...]) -> None:
    plan = understand_columns(header, source="r.csv")
    assert tuple(c.field for c in plan.columns) == EXPECTED
    assert plan.ignored == ()
    assert {c.how for c in plan.columns} == {"known name"}


@pytest.mark.parametrize(
    "text,same_as",
    [
        ("DATE-DE-NAISSANCE", "date de naissance"),
        ("  date_de_naissance ", "Date de naissance"),
        ("Nº candidat", "no candidat"),
        ("Niveau (CECRL)", "niveau cecrl"),
        ("E.mail", "email"),
    ],
)
def test_matching_ignores_case_accents_spaces_hyphens_underscores_punctuation(
    text: str, same_as: str
) -> None:
    assert header_key(text) == header_key(same_as)


def test_every_known_name_means_one_field_only() -> None:
    meanings: dict[str, set[str]] = {}
    for name, aliases in [*FIELD_NAMES.items(), *SKILL_NAMES.items()]:
        for alias in aliases:
            meanings.setdefault(header_key(alias), set()).add(name)
    assert all(meanings)
    assert {k: v for k, v in meanings.items() if len(v) > 1} == {}
    for name, aliases in FIELD_NAMES.items():
        assert all(KNOWN_NAMES[header_key(a)][0] == name for a in aliases)


def test_missing_columns_name_found_unknown_and_nearest() -> None:
    header = ["Numero", "Nom complet", "Date naissance", "Examen", "Langue", "Niveau"]
    with pytest.raises(ColumnsNotUnderstood) as caught:
        understand_columns(header, source="export.csv")
    error = caught.value
    message = str(error)
    assert "export.csv" in message
    for found in header:
        assert repr(found) in message
    assert set(error.unknown) == {"Numero", "Date naissance"}
    assert "date de naissance" in error.nearest["Date naissance"]
    assert "date_of_birth" in message and "session_date" in message and "centre" in message
    assert "--columns" in message


def test_a_mapping_file_names_the_other_columns() -> None:
    mapping = parse_column_mapping(
        '[columns]\nresult_id = "Ident"\ndate_of_birth = "Naissance (jj/mm/aaaa)"\n'
        'skill_listening = "Oral 1"\nlevel = "Résultat final"\n',
        source="map.toml",
    )
    header = ["Ident", "Nom", "Naissance (jj/mm/aaaa)", "N° candidat", "Examen", "Langue",
              "Oral 1", "Résultat final", "Niveau", "Date de session", "Centre"]  # fmt: skip
    plan = understand_columns(header, source="r.csv", mapping=mapping)
    by_header = {c.header: (c.field, c.how) for c in plan.columns}
    assert by_header["Ident"] == ("result_id", "mapping file")
    assert by_header["Oral 1"] == ("skill_listening", "mapping file")
    assert by_header["Résultat final"] == ("level", "mapping file")
    # The known name "Niveau" gives way to the column the mapping file chose for level.
    assert by_header["Niveau"][0] is None
    assert plan.notes == ("'Nom' holds the full name (there is no first-name column)",)


def test_a_mapping_file_with_an_unknown_field_suggests_ours() -> None:
    with pytest.raises(
        ColumnMappingError, match=r"'date_birth' is not one of our fields.*date_of_birth"
    ):
        parse_column_mapping('[columns]\ndate_birth = "Naissance"\n', source="map.toml")


@pytest.mark.parametrize(
    "text,match",
    [
        ("columns = 3", "expected a \\[columns\\] table"),
        ("[columns\n", "not valid TOML"),
        ('[columns]\nlevel = ""\n', "must name a column"),
        ('[columns]\nlevel = "X"\nscore = "x"\n', "mapped to both level and score"),
    ],
)
def test_unusable_mapping_files_are_refused(text: str, match: str) -> None:
    with pytest.raises(ColumnMappingError, match=match):
        parse_column_mapping(text, source="map.toml")


def test_a_mapping_naming_a_column_the_file_lacks_is_an_error() -> None:
    mapping = ColumnMapping(fields={"result_id": "Ident"}, source="map.toml")
    with pytest.raises(ColumnsNotUnderstood, match="lacks: result_id = 'Ident'"):
        understand_columns(["Result id", "Nom"], source="r.csv", mapping=mapping)


def test_two_columns_meaning_the_same_field_are_an_error() -> None:
    header = [*ENGLISH, "Nom de famille"]
    with pytest.raises(ColumnsNotUnderstood, match="'Surname' and 'Nom de famille' both mean"):
        understand_columns(header, source="r.csv")


def test_skill_prefix_columns_keep_working_and_unknown_columns_are_ignored() -> None:
    header = ["result_id", "candidate_name", "date_of_birth", "candidate_number", "exam",
              "language", "level", "skill_listening", "skill_mediation", "session_date",
              "centre", "Remarques"]  # fmt: skip
    plan = understand_columns(header, source="r.csv")
    assert plan.fields["skill_listening"].how == "known name"
    assert plan.fields["skill_mediation"].how == "skill column"
    assert [c.header for c in plan.ignored] == ["Remarques"]
