"""How the settings read a yes/no from the environment (``gridmap/settings.py`` and the setting
modules it imports)."""

from __future__ import annotations

import os


def env_flag(name: str, default: bool = False) -> bool:
    """True when the variable ``name`` is 1, true, yes or on (any case), else ``default`` if unset."""
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}
