"""Value fingerprints, and answers sealed by their question: the part of the sandbox's data
format that says whether two values are the same without encoding either.

:func:`fingerprint` is a digest two values share only when :func:`grader.sandbox.wire.encode`
would give them the same encoding; it reads what that encoding carries, within the same
limits, so those limits are defined here (:data:`MAX_DEPTH`, :data:`MAX_INT_BITS`,
:data:`DTYPES`) and :mod:`grader.sandbox.wire` takes them from this module, as it takes
the functions below, which it exports too.

The sandbox child runs this file from source text (the helper process loads it before
:mod:`grader.sandbox.wire`), so it uses the standard library and numpy only.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import numpy as np

MAX_DEPTH = 50
MAX_INT_BITS = 1023  # larger ints may fit no float: nothing could compare them
DTYPES = frozenset(
    ["|b1", "|i1", "|u1"]
    + [
        order + code
        for order in "<>"
        for code in ("i2", "i4", "i8", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16")
    ]
)
_DOUBLE = struct.Struct("<d")


def fingerprint(value: Any) -> bytes | None:
    """A digest two values share only when they are identical: the same types exactly (no
    subclasses), structure, dtypes, shapes and bytes. Far cheaper than
    :func:`~grader.sandbox.wire.encode` (no base64, no JSON), so the sandbox child can
    afford it on every call: equal fingerprints mean equal encodings. None for anything
    else; the caller then takes the slow path."""
    digest = hashlib.sha256()
    try:
        return digest.digest() if _feed(digest.update, value, 0) else None
    except Exception:  # a container changed while being read, a broken buffer...
        return None


def _feed(update, value: Any, depth: int) -> bool:
    kind = type(value)
    if value is None or kind is bool:
        update(b"N" if value is None else b"T" if value else b"F")
    elif kind is int:
        if value.bit_length() > MAX_INT_BITS:
            return False
        update(b"i%d;" % value)
    elif kind is float:
        update(b"f" + _DOUBLE.pack(value))
    elif kind is str:
        data = value.encode("utf-8", "surrogatepass")
        update(b"s%d;" % len(data))
        update(data)
    elif depth >= MAX_DEPTH:
        return False
    elif kind is tuple or kind is list:
        update(b"(%d;" % len(value) if kind is tuple else b"[%d;" % len(value))
        return all(_feed(update, item, depth + 1) for item in value)
    elif kind is dict:
        update(b"{%d;" % len(value))
        return all(
            _feed(update, key, depth + 1) and _feed(update, item, depth + 1)
            for key, item in value.items()
        )
    elif kind is np.ndarray or isinstance(value, np.generic):
        dtype = value.dtype.str
        if dtype not in DTYPES:
            return False
        shape = b",".join(b"%d" % n for n in value.shape)
        update(b"a" if kind is np.ndarray else b"g")
        update(dtype.encode("ascii") + b"[" + shape + b"]")
        update(value.tobytes())  # C order whatever the layout
    else:
        return False
    return True


# Sealed answers: a dependency's answer the child may open only by asking the question.
# The grader answers a submission's calls to the reference's dependencies (isolation);
# the questions a correct submission asks are the reference's own, known in advance, so
# their answers travel with the request, each sealed by its question (lookup key and
# one-time pad both derived from it). A submission opens an answer only by computing the
# exact arguments itself, which gives it no more than a callback would; anything else
# is still asked of the grader.


def question(salt: bytes, name: str, args: tuple) -> bytes | None:
    """The canonical bytes of a call ``name(*args)`` (positional arguments only), or None
    when the arguments hold something :func:`fingerprint` does not read."""
    digest = fingerprint(tuple(args))
    if digest is None:
        return None
    return salt + name.encode("utf-8", "surrogatepass") + b"\0" + digest


def positional(names, args: tuple, kwargs: dict) -> tuple | None:
    """``args`` with ``kwargs`` appended in ``names`` order; None if they do not fit."""
    if names is None or len(args) + len(kwargs) != len(names):
        return None
    rest = names[len(args) :]
    if set(kwargs) != set(rest):
        return None
    return tuple(args) + tuple(kwargs[name] for name in rest)


def seal(asked: bytes, answer: bytes) -> tuple[str, bytes]:
    """(lookup key, sealed answer) for ``answer`` to the question ``asked``."""
    return _lookup(asked), _xor(answer, hashlib.shake_256(b"pad\0" + asked).digest(len(answer)))


def unseal(asked: bytes, sealed: dict) -> bytes | None:
    """The answer to ``asked`` if ``sealed`` (lookup key -> sealed bytes) holds one."""
    box = sealed.get(_lookup(asked))
    if box is None:
        return None
    return _xor(box, hashlib.shake_256(b"pad\0" + asked).digest(len(box)))


def _lookup(asked: bytes) -> str:
    return hashlib.sha256(b"key\0" + asked).hexdigest()


def _xor(data: bytes, pad: bytes) -> bytes:
    size = len(data)
    return (int.from_bytes(data, "little") ^ int.from_bytes(pad, "little")).to_bytes(size, "little")
