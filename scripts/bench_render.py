"""Benchmark certificate rendering: milliseconds per certificate, Latin names and mixed scripts.

Run it from the repository root:

    .venv/bin/python scripts/bench_render.py --count 200
    .venv/bin/python scripts/bench_render.py --count 200 --baseline 4870261 --json

``--baseline REV`` also times issuer/render.py as it was at git revision REV (the DejaVu
renderer before shaping, Latin names only: it cannot draw the other scripts). ``--before REV``
times the whole issuer/ package as it was at REV, in a child process of the same run, beside
the working tree's (``--before HEAD`` shows what uncommitted changes gain). Rendering runs
in one process, after one warm-up certificate per kind, as an issuance worker does; times
are CPU times (the machine is shared: wall-clock times would count other processes). It
measures; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
TREE_VARIABLE = "SCEAU_BENCH_TREE"  # set by --before: the directory its child imports issuer/ from
sys.path.insert(0, os.environ.get(TREE_VARIABLE, str(ROOT)))

from issuer.content import CefrLevel, CertificateContent, IssuerBranding, SkillResult  # noqa: E402
from issuer.render import render_certificate  # noqa: E402

BRANDING = IssuerBranding(name="Centre de mesure", public_base_url="https://certs.bench.example")
LATIN = [
    "Camille Durand", "Łukasz Żółć", "Ørjan Åsmund", "Zoë O'Brien-Müller",
    "Jean-Baptiste Poquelin", "Nguyễn Thị Minh Khai", "Maëlle Le Bihan", "Søren Kierkegård",
]  # fmt: skip
MIXED = [
    "Χαράλαμπος Παπαδόπουλος", "Александра Иванова", "محمد بن عبد الله الأحمد",
    "עַמִּיר כּהן", "王小明", "山田 はなこ", "김민준", "Nguyễn Thị Minh Khai",
    "अनिरुद्ध कुमार शर्मा", "Camille Durand",
]  # fmt: skip
Render = Callable[[CertificateContent], bytes]


def contents(names: list[str], count: int) -> list[CertificateContent]:
    """``count`` certificates cycling through ``names``, each with its own id and number."""
    return [
        CertificateContent(
            certificate_id=f"{index:032x}",
            result_id=f"R-{index}",
            candidate_name=names[index % len(names)],
            date_of_birth=date(1990, 1, 1 + index % 28),
            candidate_number=f"C{index:06d}",
            exam="Diplôme de compétence en langue (DCL)",
            language="Anglais / English",
            level=CefrLevel.B2,
            score=Decimal(index % 100),
            score_max=Decimal(100),
            skills=tuple(
                SkillResult(skill=skill, level=CefrLevel.B1)
                for skill in ("listening", "reading", "writing", "speaking")
            ),
            session_date=date(2026, 10, 14),
            centre="Centre d'examens de Lyon",
            issued_on=date(2026, 11, 20),
        )
        for index in range(count)
    ]


def per_certificate_ms(render: Render, batch: list[CertificateContent]) -> dict[str, float]:
    """Warm up on the first certificate, then time each one (CPU time): mean, median and p95."""
    render(batch[0])
    times = []
    sizes = []
    for content in batch:
        start = time.process_time()
        pdf = render(content)
        times.append((time.process_time() - start) * 1000)
        sizes.append(len(pdf))
    times.sort()
    return {
        "mean_ms": round(statistics.fmean(times), 2),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "mean_kb": round(statistics.fmean(sizes) / 1024, 1),
    }


def baseline_renderer(revision: str) -> ModuleType:
    """issuer/render.py at ``revision``, loaded as a separate module."""
    source = subprocess.run(
        ["git", "show", f"{revision}:issuer/render.py"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "render_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("render_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def figures_before(revision: str, count: int) -> dict[str, dict[str, float]]:
    """The figures of the issuer/ package at ``revision``, measured by a child process."""
    with tempfile.TemporaryDirectory() as tree:
        archive = subprocess.run(
            ["git", "archive", revision, "issuer"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        child = subprocess.run(
            [sys.executable, __file__, "--count", str(count), "--json"],
            env={**os.environ, TREE_VARIABLE: tree},
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    measured: dict[str, dict[str, float]] = json.loads(child)
    return {f"{kind}, issuer/ at {revision}": values for kind, values in measured.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="certificates per measure")
    parser.add_argument("--baseline", metavar="REV", help="also time issuer/render.py at REV")
    parser.add_argument("--before", metavar="REV", help="also time the issuer/ package at REV")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    if args.before:
        figures.update(figures_before(args.before, args.count))
    if args.baseline:
        old = baseline_renderer(args.baseline)
        figures[f"latin, renderer at {args.baseline}"] = per_certificate_ms(
            lambda c: bytes(old.render_certificate(c, branding=BRANDING)),
            contents(LATIN, args.count),
        )
    render: Render = lambda c: render_certificate(c, branding=BRANDING)  # noqa: E731
    figures["latin"] = per_certificate_ms(render, contents(LATIN, args.count))
    figures["mixed scripts"] = per_certificate_ms(render, contents(MIXED, args.count))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for kind, values in figures.items():
        mean, median, p95 = values["mean_ms"], values["median_ms"], values["p95_ms"]
        print(
            f"{kind:>36}: {mean:6.2f} ms/certificate (median {median:.2f}, p95 {p95:.2f}),"
            f" {values['mean_kb']:.1f} kB"
        )


if __name__ == "__main__":
    main()
