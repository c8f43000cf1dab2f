"""Finding and loading libpq for the team store's client (`store/libpq.py`).

The libpq that psycopg's binary wheel bundles comes first, found by its package's
location without importing psycopg (that import is what `libpq.py` exists to
avoid); then the system's by its soname (psycopg's C and pure-Python builds need
one too). Loaded once per process, with the signatures of the functions used.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from ctypes import POINTER, c_char_p, c_int, c_uint, c_void_p
from typing import Any


class LibpqMissing(ImportError):
    """No libpq could be loaded (neither psycopg[binary]'s nor the system's)."""


def _library_candidates() -> Iterator[str]:
    """psycopg[binary]'s bundled libpq first (found without importing psycopg), then
    the system's by its soname, then wherever psycopg's own finder looks (it imports
    psycopg: only for a libpq in an unusual place, such as Homebrew's keg)."""
    from importlib.util import find_spec

    spec = find_spec("psycopg_binary")
    for location in (spec.submodule_search_locations or []) if spec else []:
        for folder in (f"{location}.libs", os.path.join(location, ".dylibs"), location):
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            yield from (os.path.join(folder, n) for n in names if _is_libpq(n))
    yield {"darwin": "libpq.5.dylib", "win32": "libpq.dll"}.get(sys.platform, "libpq.so.5")
    try:
        from psycopg.pq.misc import find_libpq_full_path
    except ImportError:
        return
    found = find_libpq_full_path()
    if found:
        yield found


def _is_libpq(name: str) -> bool:
    return name.startswith("libpq") and any(s in name for s in (".so", ".dylib", ".dll"))


# Notices and warnings (`CREATE ... IF NOT EXISTS` on what exists, ...) are dropped, as
# psycopg drops them without a handler; libpq's default would print them on stderr.
NOTICE_PROCESSOR = ctypes.CFUNCTYPE(None, c_void_p, c_char_p)
DROP_NOTICE = NOTICE_PROCESSOR(lambda _arg, _message: None)

_LIB: ctypes.CDLL | None = None
_PIPELINE = False  # whether the loaded libpq has pipeline mode (libpq >= 14)


def library() -> ctypes.CDLL:
    """libpq, loaded once with its functions' signatures; LibpqMissing if there is none."""
    global _LIB, _PIPELINE
    if _LIB is None:
        tried = []
        for candidate in _library_candidates():
            try:
                lib = ctypes.CDLL(candidate)
            except OSError as exc:
                tried.append(str(exc))
                continue
            _PIPELINE = _declare(lib)
            _LIB = lib
            break
        else:
            raise LibpqMissing("libpq not found: " + "; ".join(tried))
    return _LIB


def _declare(lib: ctypes.CDLL) -> bool:
    """Set the signatures of the functions used; whether pipeline mode is there."""
    ptr, text, num = c_void_p, c_char_p, c_int
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "PQconnectdbParams": (ptr, [POINTER(text), POINTER(text), num]),
        "PQstatus": (num, [ptr]),
        "PQerrorMessage": (text, [ptr]),
        "PQfinish": (None, [ptr]),
        "PQsetNoticeProcessor": (ptr, [ptr, NOTICE_PROCESSOR, ptr]),
        "PQtransactionStatus": (num, [ptr]),
        "PQexec": (ptr, [ptr, text]),
        "PQexecParams": (
            ptr,
            [ptr, text, num, POINTER(c_uint), POINTER(text), POINTER(num), POINTER(num), num],
        ),
        "PQsendQueryParams": (
            num,
            [ptr, text, num, POINTER(c_uint), POINTER(text), POINTER(num), POINTER(num), num],
        ),
        "PQsendQuery": (num, [ptr, text]),
        "PQgetResult": (ptr, [ptr]),
        "PQsocket": (num, [ptr]),
        "PQisBusy": (num, [ptr]),
        "PQconsumeInput": (num, [ptr]),
        "PQgetCancel": (ptr, [ptr]),
        "PQcancel": (num, [ptr, text, num]),
        "PQfreeCancel": (None, [ptr]),
        "PQresultStatus": (num, [ptr]),
        "PQresultErrorMessage": (text, [ptr]),
        "PQresultErrorField": (text, [ptr, num]),
        "PQntuples": (num, [ptr]),
        "PQnfields": (num, [ptr]),
        "PQfname": (text, [ptr, num]),
        "PQftype": (c_uint, [ptr, num]),
        "PQgetvalue": (text, [ptr, num, num]),
        "PQgetisnull": (num, [ptr, num, num]),
        "PQcmdTuples": (text, [ptr]),
        "PQclear": (None, [ptr]),
    }
    optional = {"PQenterPipelineMode", "PQexitPipelineMode", "PQpipelineSync"}  # libpq >= 14
    for name in optional:
        signatures[name] = (num, [ptr])
    pipeline = True
    for name, (restype, argtypes) in signatures.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            if name not in optional:
                raise LibpqMissing(f"libpq has no {name}: too old") from None
            pipeline = False
            continue
        function.restype = restype
        function.argtypes = argtypes
    return pipeline


def has_pipeline() -> bool:
    """Whether the loaded libpq has pipeline mode (libpq >= 14)."""
    library()
    return _PIPELINE
