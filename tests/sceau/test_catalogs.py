"""The pages' words in gettext catalogs: complete in both languages, compiled, shown by pages."""

from __future__ import annotations

import re
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po, write_po
from fastapi.testclient import TestClient
from markupsafe import escape

from sceau.settings import ConfigurationError
from sceau.web.app import create_app
from sceau.web.i18n import (
    DOMAINS,
    LANGUAGES,
    LOCALE_DIR,
    CatalogMissing,
    Catalogs,
    Translator,
    catalog_words,
    require_catalogs,
)
from tests.conftest import SceauEnv

ROOT = Path(__file__).resolve().parents[2]
COMPILER = ROOT / "scripts" / "compile_catalogs.py"
PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")


def po_file(lang: str, domain: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{domain}.po"


def read(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source) if path.suffix in (".po", ".pot") else read_mo(source)


def words_of(catalog: Catalog) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in catalog if m.id}


def placeholders(text: str) -> list[str]:
    """The {name} and %s fields of a word, in a stable order (a translation may move them)."""
    braces = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    return sorted(braces + PRINTF.findall(text.replace("%%", "")))


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_key_has_words_in_both_languages_and_in_the_template(domain: str) -> None:
    template = set(words_of(read(LOCALE_DIR / f"{domain}.pot")))
    keys = {lang: set(words_of(read(po_file(lang, domain)))) for lang in LANGUAGES}
    assert template and all(found == template for found in keys.values()), {
        lang: sorted(found ^ template) for lang, found in keys.items()
    }


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_no_word_is_empty_or_fuzzy(domain: str, lang: str) -> None:
    catalog = read(po_file(lang, domain))
    unfinished = [m.id for m in catalog if m.id and (not str(m.string).strip() or m.fuzzy)]
    assert unfinished == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_placeholders_are_the_same_in_french_and_english(domain: str) -> None:
    french, english = (words_of(read(po_file(lang, domain))) for lang in ("fr", "en"))
    differing = {
        key: (french[key], english[key])
        for key in french
        if placeholders(french[key]) != placeholders(english.get(key, ""))
    }
    assert differing == {}


def test_placeholders_are_read_in_both_styles() -> None:
    assert placeholders("le {date} ({reason}) à 100 %% : %s") == ["%s", "date", "reason"]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_the_installed_catalogs_are_compiled_from_the_current_words(domain: str, lang: str) -> None:
    source = po_file(lang, domain)
    compiled = source.with_suffix(".mo")
    assert compiled.is_file(), f"{compiled} is missing: run ./scripts/install"
    assert words_of(read(compiled)) == words_of(read(source)), "stale: run ./scripts/install"
    assert dict(catalog_words(lang, domain)) == words_of(read(source))


def test_a_catalog_is_read_once_per_process() -> None:
    assert catalog_words("en", "admin") is catalog_words("en", "admin")
    assert Catalogs("pages")["fr"] is catalog_words("fr")


def copy_sources(locale_dir: Path) -> None:
    for source in LOCALE_DIR.glob("*/LC_MESSAGES/*.po"):
        target = locale_dir / source.relative_to(LOCALE_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def run_compiler(locale_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(COMPILER), "--locale-dir", str(locale_dir)]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)


def test_the_compiler_writes_what_the_pages_read(tmp_path: Path) -> None:
    copy_sources(tmp_path)
    finished = run_compiler(tmp_path)
    assert finished.returncode == 0, finished.stderr
    require_catalogs(locale_dir=tmp_path)
    for domain in DOMAINS:
        for lang in LANGUAGES:
            read_back = catalog_words(lang, domain, locale_dir=tmp_path)
            assert dict(read_back) == words_of(read(po_file(lang, domain, tmp_path)))


def test_the_compiler_refuses_a_word_left_empty_and_writes_nothing(tmp_path: Path) -> None:
    copy_sources(tmp_path)
    broken = po_file("en", "delivery", tmp_path)
    catalog = read(broken)
    catalog["title"].string = ""
    with broken.open("wb") as target:
        write_po(target, catalog)
    finished = run_compiler(tmp_path)
    assert finished.returncode == 1
    assert "'title'" in finished.stderr and str(broken) in finished.stderr
    assert list(tmp_path.glob("*/LC_MESSAGES/*.mo")) == []


def test_a_missing_catalog_says_to_run_the_install(tmp_path: Path) -> None:
    copy_sources(tmp_path)  # sources without their compiled form
    with pytest.raises(CatalogMissing, match=r"run \./scripts/install") as missing:
        Catalogs("admin", locale_dir=tmp_path)["en"]
    assert isinstance(missing.value, ConfigurationError)  # the CLI and the app map it already
    assert "admin.mo" in str(missing.value)
    with pytest.raises(CatalogMissing):
        require_catalogs(locale_dir=tmp_path)


def test_a_language_without_catalog_is_not_a_key_of_the_catalogs() -> None:
    words = Catalogs("delivery")
    assert "de" not in words and list(words) == list(LANGUAGES)
    assert words.get("de", words["fr"]) is catalog_words("fr", "delivery")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_page_speaks_the_words_of_its_catalog(sceau_env: SceauEnv, lang: str) -> None:
    words = catalog_words(lang)
    other = catalog_words("en" if lang == "fr" else "fr")
    with TestClient(create_app(sceau_env.settings)) as browser:
        page = browser.get(f"/check?lang={lang}")
    assert page.status_code == 200
    for key in ("check_title", "check_intro", "skip", "switch"):
        assert escape(words[key]) in page.text, key
    assert escape(other["check_intro"]) not in page.text
    assert Translator(lang)("check_title") == words["check_title"]
