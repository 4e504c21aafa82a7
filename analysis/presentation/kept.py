"""Results kept on disk by everything they depend on, so that the twelve editions of a grid (and a rerun of one)
compute a thing once.

A result is kept in the folder named by :data:`CACHE_ENVIRONMENT` (``hatbook rerun`` sets it for its kernels;
unset, nothing is kept), in a file named by a digest of its inputs: the content of its arguments (frames by their
cells, index and types), the code it runs and the versions of the libraries it calls. A computation is kept only
when every input has such a fingerprint; anything else (an object of unknown content, a function that reads one)
is computed as usual. What is kept is what the computation returned, so a kept result is the one it would give,
as long as it is deterministic: every function kept here is. A file that cannot be read is computed anew, and a
file is written whole or not at all."""

from __future__ import annotations

import functools
import gzip
import hashlib
import marshal
import os
import pickle
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

#: The folder where results are kept (set by ``hatbook rerun`` for its kernels; the build prunes it).
CACHE_ENVIRONMENT = "HATBOOK_PROTECTION_CACHE"
#: The libraries whose versions are part of every key (a new version may compute differently).
LIBRARIES = ("numpy", "pandas", "scipy")
_Result = TypeVar("_Result")


def fingerprint(value: object, digest) -> bool:
    """Feed ``value`` to ``digest`` by its content (frames by their cells, index, columns and types; mappings and
    sets in a fixed order). False for a value that has no such fingerprint (then nothing is kept)."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        shape = (list(value.columns), [str(t) for t in value.dtypes]) if isinstance(value, pd.DataFrame) else value.name
        try:
            cells = pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
        except TypeError:  # a cell pandas cannot hash (a list): no fingerprint
            return False
        digest.update(repr((type(value).__name__, shape, value.shape)).encode() + cells)
        return True
    if isinstance(value, Mapping):
        digest.update(b"{")
        for key in sorted(value, key=repr):
            digest.update(repr(key).encode())
            if not fingerprint(value[key], digest):
                return False
        digest.update(b"}")
        return True
    if isinstance(value, (set, frozenset)):
        return fingerprint(sorted(value, key=repr), digest)
    if isinstance(value, (list, tuple)):
        digest.update(b"[")
        for item in value:
            if not fingerprint(item, digest):
                return False
        digest.update(b"]")
        return True
    if value is None or isinstance(value, (str, int, float, bool, np.integer, np.floating)):
        digest.update(repr(value).encode())
        return True
    return False


@functools.cache
def code_key(*files: str) -> bytes:
    """A digest of the source of ``files`` and of the versions of :data:`LIBRARIES`."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(Path(file).read_bytes())
    for library in LIBRARIES:
        digest.update(f"{library} {metadata.version(library)}".encode())
    return digest.digest()


def package_files() -> tuple[str, ...]:
    """What a function of the ``analysis`` package may run or read besides a cohort, in a fixed order: the
    package's source files and the project's data other than the bundled cohort (the report's published tables,
    the reference data, the data dictionary)."""
    package = Path(__file__).resolve().parent.parent
    data = package.parent / "data"
    read = [p for p in data.rglob("*") if p.is_file() and "synthetic" not in p.relative_to(data).parts[:1]]
    return tuple(str(p) for p in sorted(package.rglob("*.py")) + sorted(read))


def _names(code: types.CodeType) -> set[str]:
    """The global names ``code`` and the functions defined inside it may read."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names(constant)
    return names


#: The project's folder: a module in it other than the ``analysis`` package (a helper beside the pages, say) is not
#: part of :func:`package_files`, so what it defines is keyed by its code, not its name.
_PROJECT = Path(__file__).resolve().parents[2]


def _in_package(value) -> bool:
    """Whether ``value`` (a function or class) is defined at the top of a module whose code the key holds already:
    the ``analysis`` package (:func:`package_files`) or an installed library (its version, or Python's)."""
    name = getattr(value, "__module__", None) or ""
    if name in ("", "__main__") or "<locals>" in getattr(value, "__qualname__", "<locals>"):
        return False
    if name == "analysis" or name.startswith("analysis."):
        return True
    file = getattr(sys.modules.get(name), "__file__", None)
    if file is None:  # built into Python
        return True
    path = Path(file).resolve()
    return "site-packages" in path.parts or not path.is_relative_to(_PROJECT)


def _reference(value, digest, seen: set[int]) -> bool:
    """Feed what a function reads through a name (a global or a variable of an enclosing function) to ``digest``:
    modules, and functions and classes defined at the top of a module, by their names (their code is in
    :func:`package_files` or a library's version); functions made elsewhere by their code (:func:`function_key`);
    anything else by its content (:func:`fingerprint`)."""
    if isinstance(value, types.ModuleType):
        digest.update(f"module {value.__name__}".encode())
        return True
    if isinstance(value, (types.FunctionType, functools.partial)) and not (
        isinstance(value, types.FunctionType) and _in_package(value)
    ):
        key = function_key(value, seen)
        if key is None:
            return False
        digest.update(key)
        return True
    if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
        if not _in_package(value):
            return False
        digest.update(f"{value.__module__}.{value.__qualname__}".encode())
        return True
    return fingerprint(value, digest)


def function_key(function: Callable, seen: set[int] | None = None) -> bytes | None:
    """A digest of what ``function`` computes: its code, its default arguments, the variables it closes over and
    the globals it reads (see :func:`_reference`); None when one of them has no fingerprint."""
    seen = set() if seen is None else seen
    digest = hashlib.sha256()
    if id(function) in seen:  # a function that calls itself
        return b"again"
    seen.add(id(function))
    if isinstance(function, functools.partial):
        inner = function_key(function.func, seen)
        if inner is None or not fingerprint([list(function.args), dict(function.keywords)], digest):
            return None
        digest.update(inner)
        return digest.digest()
    if not isinstance(function, types.FunctionType):
        return None
    code = function.__code__
    digest.update(marshal.dumps(code))
    if not fingerprint([function.__defaults__ or (), function.__kwdefaults__ or {}], digest):
        return None
    for cell in function.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # a variable of the enclosing function not yet assigned
            return None
        if not _reference(value, digest, seen):
            return None
    for name in sorted(_names(code)):
        if name in function.__globals__:
            digest.update(name.encode())
            if not _reference(function.__globals__[name], digest, seen):
                return None
    return digest.digest()


_FOLDERS: dict[tuple, bytes] = {}


def folder_key(folder: Path) -> bytes:
    """A digest of the content of every file in ``folder`` (read once per process and state of its files)."""
    folder = Path(folder).resolve()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    state = (str(folder), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    if state not in _FOLDERS:
        digest = hashlib.sha256()
        for path in files:
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
        _FOLDERS.clear()
        _FOLDERS[state] = digest.digest()
    return _FOLDERS[state]


def load_or_compute(name: str, digest, compute: Callable[[], _Result]) -> _Result:
    """What ``compute()`` returns, kept under ``name`` and ``digest`` (a hashlib object fed with every input) in
    the folder of :data:`CACHE_ENVIRONMENT`; computed as usual when the folder is not set."""
    folder = os.environ.get(CACHE_ENVIRONMENT)
    if not folder:
        return compute()
    path = Path(folder) / f"{name}-{digest.hexdigest()[:40]}.pickle"
    try:
        result = pickle.loads(gzip.decompress(path.read_bytes()))
        os.utime(path)  # the build prunes the least recently used files first
        return result
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, ImportError, TypeError):
        pass
    result = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        partial.write_bytes(gzip.compress(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL), 5, mtime=0))
        partial.replace(path)  # whole or not at all, whichever kernel writes it first
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass
    return result


def kept_by_arguments(code: Iterable[str]) -> Callable[[Callable[..., _Result]], Callable[..., _Result]]:
    """A decorator: the function's result kept by the content of its arguments and the source of the files
    ``code`` (what it runs). Arguments without a fingerprint: computed as usual."""
    files = tuple(code)

    def decorate(solve: Callable[..., _Result]) -> Callable[..., _Result]:
        @functools.wraps(solve)
        def kept(*args, **kwargs):
            if not os.environ.get(CACHE_ENVIRONMENT):
                return solve(*args, **kwargs)
            digest = hashlib.sha256(code_key(*files) + solve.__name__.encode())
            if not fingerprint([list(args), kwargs], digest):
                return solve(*args, **kwargs)
            return load_or_compute(solve.__name__, digest, lambda: solve(*args, **kwargs))

        return kept

    return decorate
