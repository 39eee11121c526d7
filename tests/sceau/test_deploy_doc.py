"""docs/deploy.md names only settings, commands, options, routes, environment variables and
Python names that exist (or says they are coming), and calls nothing coming that exists now."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import typer.main
from fastapi import APIRouter
from pydantic import BaseModel

import sceau.web
from sceau.cli import app as cli_app
from sceau.settings import Settings

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "docs" / "deploy.md"
SECTIONS = ("chain", "signing", "mail", "retention")
GLOBAL_OPTIONS = {"--config", "--help"}
# What a **(coming)** mark must not be said of any more: (words on the line, what now exists).
BUILT = (
    ("serve --workers", "`sceau serve --workers N`"),
    ("db upgrade", "`sceau db upgrade`"),
    ("db current", "`sceau db current`"),
    ("refusing to start", "serve and worker refusing an old schema"),
)


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


# --- commands and options ----------------------------------------------------------------------


def _commands() -> dict[tuple[str, ...], set[str]]:
    """Every `sceau` command path and its long options."""
    found: dict[tuple[str, ...], set[str]] = {}

    def walk(command: Any, context: Any, path: tuple[str, ...]) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                walk(sub, type(context)(sub, parent=context), (*path, name))
        else:
            found[path] = {o for param in command.params for o in param.opts if o[:2] == "--"}

    root = typer.main.get_command(cli_app)
    walk(root, root.make_context("sceau", ["--help"], resilient_parsing=True), ())
    return found


def _mentions(text: str) -> list[list[str]]:
    """The words after `sceau` (and its `--config FILE`) in each inline code span and each
    shell line of `text`."""
    spans = re.findall(r"`(sceau [^`]+)`", text)
    spans += [line.split("#", 1)[0] for line in text.splitlines() if line.startswith("sceau ")]
    mentions = []
    for span in spans:
        words = span.split()[1:]
        while words[:1] == ["--config"]:
            words = words[2:]
        mentions.append(words)
    return mentions


def _resolve(words: list[str], commands: dict[tuple[str, ...], set[str]]) -> tuple[str, ...]:
    """The longest command or group path the words start with, () when none."""
    path: tuple[str, ...] = ()
    for word in words:
        if any(known[: len(path) + 1] == (*path, word) for known in commands):
            path = (*path, word)
        else:
            break
    return path


def test_every_command_and_option_the_guide_names_exists() -> None:
    commands = _commands()
    mentions = _mentions(_without_coming(DEPLOY.read_text()))
    assert len(mentions) > 20, "the guide names the commands each role runs"
    problems = []
    for words in mentions:
        if words in (["--help"], []):
            continue
        path = _resolve(words, commands)
        if not path:
            problems.append("sceau " + " ".join(words))
            continue
        options = {w.split("=", 1)[0] for w in words[len(path) :] if w.startswith("--")}
        allowed = commands.get(path, set()) | GLOBAL_OPTIONS
        problems += [f"sceau {' '.join(path)} {o}" for o in sorted(options - allowed)]
    assert problems == []


def test_every_bare_option_the_guide_names_belongs_to_a_command() -> None:
    known = set().union(GLOBAL_OPTIONS, *_commands().values())
    text = _without_coming(DEPLOY.read_text())
    named = set(re.findall(r"`(--[a-z][a-z0-9-]*)", text))
    assert named, "the guide names the worker's options"
    assert named <= known, sorted(named - known)


def test_nothing_built_is_still_called_coming() -> None:
    stale = [
        what
        for line in DEPLOY.read_text().splitlines()
        if "(coming)" in line
        for words, what in BUILT
        if words in line
    ]
    assert stale == []


# --- routes, environment variables, Python names --------------------------------------------


def _route_paths() -> set[str]:
    paths: set[str] = set()
    for module in pkgutil.iter_modules(sceau.web.__path__, "sceau.web."):
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            if isinstance(value, APIRouter):
                paths |= {getattr(route, "path", "") for route in value.routes}
    return paths


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(path)) + "$")


def test_every_route_the_guide_names_exists() -> None:
    routes = [_pattern(path) for path in _route_paths()]
    text = DEPLOY.read_text()
    named = set(re.findall(r"`(?:GET |POST )?(/[a-z][^`#\s]*)", text))
    named |= {f"/{part}" for alt in re.findall(r"\^/\(([^)]*)\)", text) for part in alt.split("|")}
    assert {"/check", "/admin/import"} <= named
    missing = sorted(p for p in named if not any(r.match(p.split("?")[0]) for r in routes))
    assert missing == []


def test_every_sceau_environment_variable_the_guide_names_is_read() -> None:
    settings = _setting_names()
    sources = " ".join(
        path.read_text()
        for folder in ("sceau", "scripts")
        for path in (ROOT / folder).rglob("*.py")
    )
    named = set(re.findall(r"\b(SCEAU_[A-Z0-9_]+)", DEPLOY.read_text()))
    assert named
    unknown = []
    for variable in sorted(named):
        dotted = variable.removeprefix("SCEAU_").lower().replace("__", ".")
        if dotted not in settings and variable not in sources:
            unknown.append(variable)
    assert unknown == []


def test_every_python_name_the_guide_names_imports() -> None:
    names = re.findall(
        r"`((?:contracts|issuer|verifier|offchain_store)\.[a-z_.]+)`", DEPLOY.read_text()
    )
    assert names
    for name in names:
        module, _, attribute = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attribute), name


def test_every_script_the_guide_names_exists() -> None:
    scripts = re.findall(r"(scripts/[a-z_]+\.py)", DEPLOY.read_text())
    assert scripts
    assert [s for s in scripts if not (ROOT / s).is_file()] == []


def _without_coming(text: str) -> str:
    return "\n".join(_lines_without_coming(text))
