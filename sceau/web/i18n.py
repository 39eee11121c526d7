"""French and English: the reader's language, the words of the pages, dates in their format."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

from babel.dates import format_date, format_datetime
from babel.support import Translations
from fastapi import Request

from sceau.settings import ConfigurationError

LANGUAGES = ("fr", "en")
DEFAULT = "fr"
COOKIE = "sceau_lang"

# The words live in gettext catalogs, sceau/locale/<lang>/LC_MESSAGES/<domain>.po, compiled to
# .mo by scripts/compile_catalogs.py (run by ./scripts/install); msgids are the keys that the
# templates and the pages' scripts use ("verdict.VALID").
LOCALE_DIR: Final = Path(__file__).resolve().parent.parent / "locale"
PAGES, ADMIN, DELIVERY = "pages", "admin", "delivery"
DOMAINS: Final = (PAGES, ADMIN, DELIVERY)


class CatalogMissing(ConfigurationError):
    """A compiled catalog of the pages' words is not installed."""


@cache
def _read_catalog(locale_dir: Path, domain: str, lang: str) -> Mapping[str, str]:
    mo_file = locale_dir / lang / "LC_MESSAGES" / f"{domain}.mo"
    try:
        with mo_file.open("rb") as compiled:
            translations = Translations(compiled, domain=domain)
    except FileNotFoundError:
        raise CatalogMissing(
            f"the pages' words are not compiled ({mo_file} is missing): run ./scripts/install"
        ) from None
    # gettext offers no public listing of a catalog (babel's own merge() reads _catalog too);
    # plural entries are keyed by tuples, the header by "".
    catalog = translations._catalog
    return MappingProxyType({k: v for k, v in catalog.items() if isinstance(k, str) and k})


def catalog_words(
    lang: str, domain: str = PAGES, *, locale_dir: Path = LOCALE_DIR
) -> Mapping[str, str]:
    """Every word of one catalog in one language, by key; read once per process."""
    return _read_catalog(locale_dir, domain, lang)


def require_catalogs(*, locale_dir: Path = LOCALE_DIR) -> None:
    """Raises CatalogMissing unless every catalog is installed (for a start-up check)."""
    for domain in DOMAINS:
        for lang in LANGUAGES:
            catalog_words(lang, domain, locale_dir=locale_dir)


class Catalogs(Mapping[str, Mapping[str, str]]):
    """One catalog's words by language, read on first use: `Catalogs("admin")["en"]["nav.home"]`."""

    def __init__(self, domain: str, *, locale_dir: Path = LOCALE_DIR) -> None:
        self.domain = domain
        self._locale_dir = locale_dir

    def __getitem__(self, lang: str) -> Mapping[str, str]:
        if lang not in LANGUAGES:
            raise KeyError(lang)
        return catalog_words(lang, self.domain, locale_dir=self._locale_dir)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


WORDS: Final = Catalogs(PAGES)


def language_of(request: Request) -> str:
    """?lang= (then remembered in a cookie), else the cookie, else the browser's preference."""
    asked = request.query_params.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


class Translator:
    """The words and formats of one language, for templates."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.other = "en" if lang == "fr" else "fr"
        self._words = WORDS[lang]
        self._fallback = WORDS[DEFAULT]
        self._locale = "fr_FR" if lang == "fr" else "en_GB"  # as the pages' script formats them

    def __call__(self, key: str) -> str:
        return self._words.get(key, self._fallback.get(key, key))

    def date(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return self._first(
            format_datetime(value, format="long", locale=self._locale, tzinfo=value.tzinfo)
        )

    def day(self, value: datetime) -> str:
        """The day of `value` in its own time zone: "1er décembre 2026", "1 December 2026"."""
        return self._first(format_date(value, format="long", locale=self._locale))

    def _first(self, text: str) -> str:
        # French writes the first day of a month as an ordinal: « le 1er décembre ».
        return "1er" + text[1:] if self.lang == "fr" and text.startswith("1 ") else text

    def reason_name(self, code: str | None) -> str:
        """A revocation reason category in words; an unknown one is "not specified"."""
        return self._words.get(f"reason_name.{code}", self._words["reason_name.unspecified"])

    def revoked_headline(self, at: datetime | None, reason: str | None) -> str:
        """ "This certificate was revoked on 1 December 2026 at the holder's request"."""
        if at is None:
            return self("error.revoked.title.undated")
        phrase = self._words.get(f"reason.{reason}")
        if phrase is None:
            return self("error.revoked.title.no_reason").format(date=self.day(at))
        return self("error.revoked.title").format(date=self.day(at), reason=phrase)

    def suspension_reason(self, code: str | None) -> str:
        """A suspension reason in words ("appeal under way"); an unknown one is "other"."""
        return self._words.get(f"suspension_reason.{code}", self._words["suspension_reason.other"])

    def suspended_headline(self, at: datetime | None, reason: str | None, *, key: str) -> str:
        """ "This certificate has been suspended since 1 December 2026 (appeal under way)";
        `key` is "suspended" (anyone's pages) or "me_suspended" (the candidate's)."""
        if at is None:
            return self(f"{key}.title.undated")
        return self(f"{key}.title").format(date=self.day(at), reason=self.suspension_reason(reason))

    def expired_headline(self, at: datetime | None) -> str:
        """ "This share expired on 1 December 2026"."""
        if at is None:
            return self("error.share_expired.title.undated")
        return self("error.share_expired.title").format(date=self.day(at))

    def js_words(self) -> dict[str, str]:
        """The words the page's script needs (passed as data, never as inline script)."""
        prefixes = ("verdict", "status.", "error.", "reason", "check.", "suspen")
        return {k: v for k, v in self._words.items() if k.startswith(prefixes)} | {
            k: self._words[k]
            for k in (
                "checking",
                "copied",
                "no_opens",
                "no_shares",
                "ended",
                "request_sent",
                "expires",
                "opens",
                "end_share",
                "anchored_on",
                "transaction",
                "revoked_on",
                "reason",
                "download",
                "shared_with",
                "copy",
                "share_link",
            )
        }
