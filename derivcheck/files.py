"""Writing generated files so that a failure never leaves one half-written."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(directory: Path, files: dict[str, bytes], remove=()) -> None:
    """All files or none: each is written and synced beside its target, then the files named in
    ``remove`` are deleted (stale members of the set) and all are renamed into place; on any error
    the temporary files are removed and the old files stay as they were."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    temps = {}
    try:
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            temps[name] = tmp
            os.chmod(tmp, 0o644)  # mkstemp makes it private; these files are for reading
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name in remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(directory / name)
        for name, tmp in temps.items():
            os.replace(tmp, directory / name)
        temps.clear()
    finally:
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                os.unlink(tmp)
