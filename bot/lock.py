"""One running bot per database.

Two processes on one database would run two schedulers and post every scheduled briefing twice,
so the second one to start refuses, with a message that says what to do.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class AlreadyRunning(Exception):
    """Another Line of Sight process holds the database."""


class InstanceLock:
    """An exclusive `flock` on `<database>.lock`, released when the process ends, even by crash."""

    def __init__(self, database_path: Path):
        self.path = Path(str(database_path) + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the process life)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunning(
                f"Another Line of Sight is already running on {self.path.with_suffix('')} "
                f"(process {holder}). Stop it first, or set DATABASE_PATH to a different file."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
