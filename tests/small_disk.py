"""A small real disk for tests of a full disk: a tmpfs mounted over a folder (root and mount(8) needed, else
the test is skipped), and a file that takes all of it but a given room."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """`folder` (made if missing) on a tmpfs of `size` (mount's notation: "2m"), unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs as the disk needs root and mount(8)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path, room_left: int) -> Path:
    """Another file takes all of the disk but `room_left` bytes."""
    other = folder / "other-data.bin"
    free = shutil.disk_usage(folder).free
    other.write_bytes(b"\0" * (free - room_left))
    return other
