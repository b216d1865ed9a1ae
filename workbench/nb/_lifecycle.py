"""What loading Numba costs a process, at start and at exit, and the two things that cut it.

**Start.** When Numba first compiles or loads a kernel it imports ``numba.np.arraymath``, whose module
body probes for BLAS by importing ``scipy.linalg.cython_blas``: that pulls in all of
``scipy.linalg`` (and ``numpy.f2py``, ``numpy.testing``, ...), about 0.2 s and 16 MB, in every
process, although the answer only matters once a kernel uses ``np.dot``-style linear algebra.

:func:`defer_blas_probe` imports ``numba.np.arraymath`` with that one import refused, then sets
the probe's result to whether SciPy is installed. Nothing else changes: ``np.dot``,
``np.linalg.*`` and the other BLAS users still call Numba's ``ensure_blas()`` when they are
compiled, which imports ``scipy.linalg`` at that moment (and raises Numba's own error if SciPy
is missing). If ``numba.np.arraymath`` was already imported (Numba used before Quant
Workbench), the probe has run and nothing is done.

**Exit.** Once Numba has loaded its typing and lowering registries the interpreter tracks some
120,000 container objects, and Python's shutdown runs several full cycle collections over all
of them (0.3 to 0.5 s per process on two cores, longer than a whole warm backtest).
:func:`freeze_at_exit` registers an exit handler that moves every object into the collector's
permanent generation (:func:`gc.freeze`) once the program is done, so those collections see
nothing. Exit handlers registered earlier still run, modules are still torn down, and objects
freed by reference counting are finalized as before; only objects that sit in reference cycles
at exit are left to the operating system, which Python already allows ("``__del__`` is not
guaranteed to be called for objects that still exist when the interpreter exits"). Set
``WORKBENCH_EXIT_GC=1`` to keep Python's full shutdown collections.
"""

from __future__ import annotations

import atexit
import gc
import importlib.abc
import importlib.util
import os
import sys

__all__ = ["defer_blas_probe", "freeze_at_exit"]

_PROBED = "scipy.linalg.cython_blas"
_REFUSED = ("scipy.linalg", _PROBED)


class _RefuseProbe(importlib.abc.MetaPathFinder):
    """Refuse ``scipy.linalg.cython_blas`` (and its package) while ``numba.np.arraymath`` loads."""

    def find_spec(self, name, path=None, target=None):  # noqa: ANN001, ANN201 - import protocol
        if name in _REFUSED:
            raise ImportError(f"{name} is imported when a kernel needs it")
        return None


def defer_blas_probe() -> bool:
    """Import ``numba.np.arraymath`` without its SciPy import; True when this call did it.

    >>> import sys
    >>> defer_blas_probe()  # already done when workbench.nb was imported
    False
    >>> "numba.np.arraymath" in sys.modules
    True
    """
    if "numba.np.arraymath" in sys.modules or _PROBED in sys.modules:
        return False
    finder = _RefuseProbe()
    sys.meta_path.insert(0, finder)
    try:
        import numba.np.arraymath as arraymath
    finally:
        sys.meta_path.remove(finder)
    if hasattr(arraymath, "_HAVE_BLAS"):
        arraymath._HAVE_BLAS = importlib.util.find_spec("scipy") is not None
    return True


_registered = False


def freeze_at_exit() -> bool:
    """Freeze the cycle collector's objects when the interpreter exits; True when this call did it.

    Registered once per process (a second call returns False), and not at all when the
    environment sets ``WORKBENCH_EXIT_GC=1``.

    >>> freeze_at_exit()  # already registered when workbench.nb was imported
    False
    """
    global _registered
    if _registered or os.environ.get("WORKBENCH_EXIT_GC", "") == "1":
        return False
    atexit.register(gc.freeze)
    _registered = True
    return True
