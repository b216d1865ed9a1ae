"""Writing report and export files whole or not at all: into a temporary name beside the target,
then renamed over it; a failure removes the temporary file and leaves the target as it was."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from workbench.errors import InvalidParameterError

__all__ = ["atomic_write", "atomic_directory", "writable_target"]


def _unwritable(what: str, path: Path, reason: str) -> InvalidParameterError:
    return InvalidParameterError(f"`{what}` {str(path)!r} cannot be written: {reason}. Fix: give a path in an existing, "
                                 "writable directory.")


def writable_target(path: Any, what: str = "path") -> Path:
    """``path`` as a :class:`Path` whose directory exists and is writable (else a clear error)."""
    try:
        p = Path(os.fspath(path)).expanduser()
    except TypeError:
        raise InvalidParameterError(f"`{what}` must be a file path (str or Path); got {type(path).__name__}.") from None
    if p.is_dir():
        raise _unwritable(what, p, "it is a directory")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise _unwritable(what, p, f"the directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _unwritable(what, p, f"the directory {str(parent)!r} is not writable")
    return p


def atomic_write(path: Any, write: Callable[[str], Any], *, what: str = "path") -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    target = writable_target(path, what)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except PermissionError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _unwritable(what, target, exc.strerror or "permission denied") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


@contextlib.contextmanager
def atomic_directory(directory: Any, what: str = "directory") -> Iterator[Path]:
    """Yield a temporary directory beside ``directory``; on success its files move into
    ``directory`` (created), on failure it is removed and ``directory`` is untouched."""
    try:
        target = Path(os.fspath(directory)).expanduser()
    except TypeError:
        raise InvalidParameterError(f"`{what}` must be a directory path; got {type(directory).__name__}.") from None
    if target.exists() and not target.is_dir():
        raise _unwritable(what, target, "it is a file, not a directory")
    parent = target.parent
    if not parent.is_dir():
        raise _unwritable(what, target, f"the directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (target.is_dir() and not os.access(target, os.W_OK | os.X_OK)):
        raise _unwritable(what, target, "it is not writable")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        if not target.exists():
            os.replace(tmp, target)
            return
        for f in tmp.iterdir():
            os.replace(f, target / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
