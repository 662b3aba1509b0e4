"""Where the project and the shared test data are; skipping a test when the shared data is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
SHARED = PROJECT.parent / "shared"


def require_shared(*parts: str) -> Path:
    """The path under ../shared, or skip the test when the shared data is absent (a user's clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} absent: shared test data is only beside the project in its own workspace")
    return path
