"""Files written whole or not at all, and output folders used by one run at a time.

``atomic_write`` writes a file under a temporary name in the same folder and renames it
into place; ``atomic_directory`` does the same for a folder of outputs. A failed or
interrupted write leaves the destination as it was, and a write the system refuses (a full
disk, a quota, a read-only folder) raises ``WriteFailed``: one line naming the path.
``output_lock`` keeps a second run off an output folder while the first one uses it.
``open_regular`` and ``read_bounded`` read files that may be hostile: never a FIFO or a device,
never more than a limit.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from simulator.errors import UsageError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()

_KINDS = {"p": "named pipe (FIFO)", "c": "character device", "b": "block device", "s": "socket", "d": "folder"}


class NotRegularFile(Exception):
    """A path that is a folder, a named pipe, a device or a socket; ``kind`` says which, in words."""

    def __init__(self, path: str | Path, kind: str) -> None:
        super().__init__(f"{path} is a {kind}, not a regular file")
        self.kind = kind


def open_regular(path: str | Path) -> int:
    """A blocking descriptor of ``path`` opened for reading, if it is a regular file.

    The open itself does not block (``O_NONBLOCK``: a FIFO with no writer must not wait for
    one), and anything but a regular file raises ``NotRegularFile`` before a byte is read.
    Errors of the open (no such file, permissions) are the ``OSError`` it raises.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, _KINDS.get(stat.filemode(mode)[0], "special file"))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bounded(fd: int, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes from ``fd``: one byte more than allowed tells a file that is
    (or grew while it was read) too large, without reading the rest of it."""
    chunks: list[bytes] = []
    left = max_bytes + 1
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class WriteFailed(UsageError):
    """The system refused a write (full disk, quota, read-only or forbidden folder): ``path`` and the reason."""

    def __init__(self, path: str | Path, error: OSError | str) -> None:
        self.path = Path(path)
        if isinstance(error, OSError):
            error = error.strerror or (errno.errorcode.get(error.errno or 0) if error.errno else None) or str(error)
        self.reason = error
        super().__init__(f"cannot write '{self.path}' ({self.reason})")


def atomic_write(path: str | Path, data: bytes | str | Callable[[IO[bytes]], None]) -> Path:
    """Write ``data`` (bytes, text as UTF-8, or a function that writes to a binary file) to ``path`` atomically.

    Raises:
        WriteFailed: the system refused the write; ``path`` is as it was.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    except OSError as exc:
        raise WriteFailed(path, exc) from None
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
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise WriteFailed(path, exc) from None
        raise
    return path


def check_output_folder(directory: str | Path, force: bool = False) -> None:
    """Refuse an output folder that is a file, that holds files and may not be replaced (``force``), or
    that must never be replaced: the current folder or one above it, a filesystem root, the home folder."""
    t = Path(directory)
    if not t.name or t.name in (".", ".."):
        raise UsageError(f"output folder '{t}' names no folder of its own; give one, e.g. --out results/NAME")
    resolved = t.resolve()
    cwd = Path.cwd().resolve()
    home = Path.home().resolve()
    if resolved == cwd or resolved in cwd.parents or resolved.parent == resolved or resolved == home:
        raise UsageError(f"output folder '{t}' is the current folder, a folder above it, a filesystem root or "
                         "the home folder, which a run would replace; give a folder of its own, "
                         "e.g. --out results/NAME")
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
            # A full disk while writing the outputs: one line, naming the file as it would have been
            # (the temporary folder is gone), not a traceback.
            if issubclass(exc_type, OSError):
                where = Path(exc.filename) if exc.filename else self.target
            elif issubclass(exc_type, WriteFailed):
                where = exc.path
            else:
                return
            if where.parent == self.tmp:
                where = self.target / where.name
            raise WriteFailed(where, exc if isinstance(exc, OSError) else exc.reason) from None
            return
        t = self.target
        old = None
        try:
            if t.exists():
                # Another process may have written it since the check on entry: replace only with force.
                if not self.force and (not t.is_dir() or any(t.iterdir())):
                    raise UsageError(f"output directory '{t}' appeared while this one was being written; "
                                     "pass --force to replace it")
                old = t.with_name(f".{t.name}.old-{os.getpid()}")
                os.replace(t, old)
            os.replace(self.tmp, t)
        except OSError as error:
            if old is not None and not t.exists():
                os.replace(old, t)  # put the previous results back
            raise WriteFailed(t, error) from None
        finally:
            if self.tmp.exists():
                shutil.rmtree(self.tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def lock_path_for(directory: str | Path) -> Path:
    """The lock file next to an output folder: ``.NAME.lock``."""
    d = Path(directory)
    return d.parent / f".{d.name}.lock"


@contextlib.contextmanager
def output_lock(directory: str | Path) -> Iterator[Path]:
    """Hold an exclusive lock on an output folder (and its checkpoints) for the duration of a run.

    The lock is an ``flock`` on ``.NAME.lock`` next to the folder, so it is released by the
    system however the process ends. The file is removed on release; a run that locked a file
    removed meanwhile locks afresh.

    Raises:
        UsageError: another process holds the lock.
        WriteFailed: the lock file cannot be created.
    """
    path = lock_path_for(directory)
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise WriteFailed(path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"output folder '{directory}' is in use by another run (it holds '{path}'); "
                             "wait for it to finish or choose another --out") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder before us removed the file as we opened it: lock the new one
    try:
        with contextlib.suppress(OSError):  # the process id only helps a person who finds the file
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        path.unlink(missing_ok=True)  # while still locked: a waiting run then sees a new file
        os.close(fd)
