"""Files written whole or not at all.

``atomic_write`` writes a file under a temporary name in the same folder and renames it
into place; ``atomic_directory`` does the same for a folder of outputs. A failed or
interrupted write leaves the destination as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from simulator.errors import UsageError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def atomic_write(path: str | Path, data: bytes | str | Callable[[IO[bytes]], None]) -> Path:
    """Write ``data`` (bytes, text as UTF-8, or a function that writes to a binary file) to ``path`` atomically."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, str):
                fh.write(data.encode("utf-8"))
            elif isinstance(data, bytes):
                fh.write(data)
            else:
                data(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_output_folder(directory: str | Path, force: bool = False) -> None:
    """Refuse an output folder that is a file, or that holds files and may not be replaced (``force``)."""
    t = Path(directory)
    if t.exists() and not t.is_dir():
        raise UsageError(f"output path '{t}' exists and is not a directory; choose another --out")
    if t.exists() and any(t.iterdir()) and not force:
        raise UsageError(f"output directory '{t}' already exists; pass --force to replace it")


class atomic_directory:
    """Build a directory under a temporary name and move it into place only when complete.

    An existing directory is replaced only with ``force``. If anything fails (or the run is
    interrupted), the temporary directory is removed and the destination is untouched.
    """

    def __init__(self, directory: str | Path, force: bool = False) -> None:
        self.target = Path(directory)
        self.force = force

    def __enter__(self) -> Path:
        t = self.target
        check_output_folder(t, self.force)
        parent = t.parent if str(t.parent) else Path(".")
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{t.name}.partial-", dir=parent))
        except OSError as exc:
            raise UsageError(f"cannot write to '{parent}' ({exc.strerror}); choose another --out") from None
        return self.tmp

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        t = self.target
        old = None
        if t.exists():
            old = t.with_name(f".{t.name}.old-{os.getpid()}")
            os.replace(t, old)
        os.replace(self.tmp, t)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
