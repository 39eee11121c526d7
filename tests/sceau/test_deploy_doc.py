"""docs/deploy.md names only settings that exist (or says they are coming)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from sceau.settings import Settings

DEPLOY = Path(__file__).parents[2] / "docs" / "deploy.md"
SECTIONS = ("chain", "signing", "mail", "retention")


def _setting_names() -> set[str]:
    names = set(Settings.model_fields)
    for section in SECTIONS:
        model = Settings.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        names |= {f"{section}.{field}" for field in model.model_fields}
    return names


def _lines_without_coming(text: str) -> list[str]:
    return [line for line in text.splitlines() if "(coming)" not in line]


def test_every_dotted_setting_in_the_deploy_guide_exists() -> None:
    known = _setting_names()
    dotted = re.compile(rf"`((?:{'|'.join(SECTIONS)})\.[a-z0-9_]+)")
    named = {m for line in _lines_without_coming(DEPLOY.read_text()) for m in dotted.findall(line)}
    assert named, "the guide names the chain, signing and mail settings"
    assert named <= known, sorted(named - known)


def test_every_setting_in_the_roles_table_exists() -> None:
    known = _setting_names()
    text = DEPLOY.read_text()
    table = text.split("## Settings for each role", 1)[1].split("\n\n", 2)[2].split("\n\n", 1)[0]
    first_cells = [row.split("|")[1] for row in table.splitlines()[2:]]
    named = {
        name
        for cell in first_cells
        for name in re.findall(r"`([a-z_][a-z0-9_.]*)(?: = [^`]*)?`", cell)
    }
    assert len(named) > 20
    assert named <= known, sorted(named - known)


def test_the_s3_url_the_guide_shows_is_accepted() -> None:
    from offchain_store.s3_blobs import S3Location

    urls = re.findall(r"`(s3://[^`]+)`", DEPLOY.read_text())
    assert len(urls) >= 2
    for url in urls:
        if "…" not in url:
            S3Location.from_url(url)
