"""The minimal valid export the contract tests copy, and a helper to alter it."""

from __future__ import annotations

import shutil
from pathlib import Path

MINIMAL = Path(__file__).parent / "fixtures" / "contract" / "minimal"


def export(tmp_path: Path, **tables: str | bytes) -> Path:
    """Copy the minimal valid export and replace some tables by the given CSV content."""
    folder = tmp_path / "export"
    shutil.copytree(MINIMAL, folder)
    for name, content in tables.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / f"{name}.csv").write_bytes(data)
    return folder
