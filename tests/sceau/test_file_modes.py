"""What `sceau issue` writes (records, blobs, receipts, outbox, letters) is its owner's alone."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.conftest import SceauEnv
from tests.sceau.helpers import run_sceau, subset_of_sample


def _open_to_others(root: Path) -> list[str]:
    """Every file or folder under `root` that its group or others may read, write or enter."""
    return [
        f"{path.relative_to(root)} {stat.filemode(path.stat().st_mode)}"
        for path in [root, *root.rglob("*")]
        if path.stat().st_mode & 0o077
    ]


def test_issue_creates_owner_only_files(sceau_env: SceauEnv) -> None:
    settings = sceau_env.settings
    results = subset_of_sample(sceau_env.root / "results.csv", 3)
    done = run_sceau(sceau_env.config_file, "issue", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    if settings.database_url.startswith("sqlite"):
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        written = [
            database.parent / name
            for name in (database.name, database.name + "-wal", database.name + "-shm")
            if (database.parent / name).exists()
        ]
        assert written, "no database file"
        for path in written:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == 0o600, f"{path.name} {oct(mode)}"
    else:  # the server keeps the rows in its own files; none is written beside the data
        assert not list(sceau_env.root.glob("*.db*"))
    for folder in (
        sceau_env.root / "blobs",
        settings.receipts_dir,
        settings.mail.outbox,
    ):
        assert folder.is_dir(), folder
        assert _open_to_others(folder) == [], folder
    assert any(settings.mail.outbox.iterdir()) and any(settings.receipts_dir.iterdir())
