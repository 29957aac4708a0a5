"""Passwords are hashed at the production Argon2id cost unless a deployment says otherwise.

The test run lowers the cost (tests/conftest.py, also for the `forever` commands it starts, through
FOREVER_ARGON2_*), so this is what keeps the production value from drifting unseen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forever import settings as settings_module
from forever.accounts import service as accounts
from forever.settings import Settings

PRODUCTION = (65536, 3)  # RFC 9106's second recommended option: 64 MiB, 3 passes


def test_the_default_cost_is_rfc_9106s_whatever_the_test_run_set(tmp_path: Path) -> None:
    from_env = Settings.from_env({"FOREVER_DATA_DIR": str(tmp_path), "FOREVER_SECRET_KEY": "k"})
    declared = Settings(data_dir=tmp_path, database_url="sqlite:///unused", secret_key=b"k")
    for settings in (from_env, declared):
        assert (settings.argon2_memory_kib, settings.argon2_time_cost) == PRODUCTION


async def test_a_password_is_hashed_at_the_cost_of_the_settings_in_force(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    production = Settings.from_env({"FOREVER_DATA_DIR": str(tmp_path), "FOREVER_SECRET_KEY": "k"})
    monkeypatch.setattr(settings_module, "_in_force", production)
    encoded = await accounts.hash_password("Correct-Horse-9")
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,"), encoded
