"""The data format between the grader and the sandbox.

What the sandbox child sends is JSON that no reader can execute. Pickle would let a
submission run code in the grader's process when a result is read; this format only
ever builds None, bool, int, float, str, list, tuple, dict, numpy arrays and scalars
of numeric dtypes, and :class:`Unsupported` markers, so the worst a hostile payload
can do is be rejected with :class:`WireError`.

Tagged JSON objects carry what JSON lacks: ``{"$tuple": [...]}``, ``{"$dict":
[[key, value], ...]}`` (string keys only: a dict with other keys travels as
:class:`Unsupported`), ``{"$array": [dtype, shape, base64]}``,
``{"$scalar": [dtype, base64]}`` and ``{"$unsupported": type_name}``.

Reading is linear in the data, whatever it holds: keys are strings (hashed with a
per-process key, so no payload makes them collide), and before anything is built the
number of JSON values is bounded (:data:`MAX_ITEMS`), then nesting, string lengths
and array sizes (each array's bytes are in the frame, base64, checked against its shape).

What the grader sends the child is pickle (:func:`to_child`), read only there; and
:func:`fingerprint` tells cheaply whether two values would encode the same. It, the
answers sealed by their question (:func:`seal`) and the limits it shares with
:func:`encode` are in :mod:`grader.sandbox.sealing`, exported here too.

The sandbox child runs this file from source text, where ``grader`` cannot be
imported, hence the fallbacks below: a plain base class, and the sealing module that
the helper process loaded from source before this one.
"""

from __future__ import annotations

import base64
import binascii
import math
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from json import dumps as _dumps, loads as _loads
from typing import Any

import numpy as np

try:
    from grader.errors import GraderError
except ImportError:  # inside the sandbox child
    GraderError = Exception  # type: ignore[misc, assignment]
try:
    from grader.sandbox import sealing
except ImportError:  # inside the sandbox child: loaded from source by the helper process
    import _sandbox_sealing as sealing  # type: ignore[no-redef]

DTYPES, MAX_DEPTH, MAX_INT_BITS = sealing.DTYPES, sealing.MAX_DEPTH, sealing.MAX_INT_BITS
# wire.<name> too: the grader's callers (grader.grading.checks) read the format from here
fingerprint, positional, question = sealing.fingerprint, sealing.positional, sealing.question
seal, unseal = sealing.seal, sealing.unseal

MAX_ARRAY_BYTES = 256 << 20
# what one decode() builds at most, counted in the bytes before they are parsed (commas
# and brackets, wherever they are: an upper bound of the JSON values); results of the
# hidden checks hold under 200, a student's nested lists of a few thousand numbers fit
MAX_ITEMS = 100_000
MAX_STRING_CHARS = 1 << 20  # one string (not array data); the grader keeps far less of it
_DTYPE_OBJECTS = {name: np.dtype(name) for name in DTYPES}
_NAME_LENGTH = 200
_TAGS = ("$tuple", "$dict", "$array", "$scalar", "$unsupported")


class WireError(GraderError):
    """Data from the sandbox is malformed, too large, or a value cannot be sent."""


@dataclass(frozen=True)
class Unsupported:
    """Stands for a value the format cannot carry, so the grader can say what it was."""

    type_name: str


def encode(value: Any, *, max_bytes: int | None = None) -> bytes:
    """``value`` as bytes; what cannot travel becomes :class:`Unsupported`.

    Raises :class:`WireError` only when the result would exceed ``max_bytes``.
    """
    budget = [max_bytes if max_bytes is not None else math.inf]
    data = _dumps(
        _to_json(value, 0, set(), budget), ensure_ascii=True, separators=(",", ":")
    ).encode("ascii")
    if max_bytes is not None and len(data) > max_bytes:
        raise WireError(f"the value takes {len(data)} bytes, over the limit of {max_bytes}")
    return data


def decode(data: bytes, *, max_array_bytes: int = MAX_ARRAY_BYTES) -> Any:
    """The value encoded in ``data``; anything malformed raises :class:`WireError`.

    The work is linear in ``len(data)``: over :data:`MAX_ITEMS` values is refused before
    parsing (the JSON parser's own recursion limit bounds its nesting)."""
    data = bytes(data)
    large = len(data) > MAX_ITEMS  # shorter data cannot hold more items (results: ~2 KB)
    if large and data.count(b",") + data.count(b"[") + data.count(b"{") > MAX_ITEMS:
        raise WireError(f"the data holds over {MAX_ITEMS} items")
    try:
        # reading an int takes time quadratic in its digits (up to Python's 4300): in
        # large data, one longer than any that decodes is not read (~1.6 s for 64 MiB)
        tree = _loads(data, parse_int=_int) if large else _loads(data)
        return _from_json(tree, 0, [max_array_bytes])
    except WireError:
        raise
    except RecursionError:
        raise WireError("data nested too deeply") from None
    except Exception as exc:  # json, base64 and numpy each have their own errors
        raise WireError(f"malformed data: {type(exc).__name__}: {exc}"[:500]) from None


_INT_DIGITS = len(str(-(1 << MAX_INT_BITS)))  # a sign and 309 digits
_TOO_LARGE = 1 << (MAX_INT_BITS + 1)  # read as Unsupported, as the digits themselves would be


def _int(text: str) -> int:
    return _TOO_LARGE if len(text) > _INT_DIGITS else int(text)


def _unsupported(value: Any, suffix: str = "") -> dict:
    return {"$unsupported": (type(value).__name__ + suffix)[:_NAME_LENGTH]}


def _spend(budget: list, amount: float) -> None:
    budget[0] -= amount
    if budget[0] < 0:
        raise WireError("the value is too large to send")


_BASES: tuple[tuple[type, Callable[[Any], Any]], ...] = (
    (int, int.__int__),
    (float, float.__float__),
    (str, str.__str__),
    (tuple, lambda v: tuple.__getitem__(v, slice(None))),
    (list, list.copy),
    (dict, lambda v: dict(dict.items(v))),
)


def _to_json(value: Any, depth: int, active: set, budget: list) -> Any:
    kind = type(value)
    if value is None or kind is bool or kind is float:
        return value
    if kind is int:
        return value if value.bit_length() <= MAX_INT_BITS else _unsupported(value, " (too large)")
    if kind is str:
        _spend(budget, len(value))
        return value
    if kind is Unsupported:
        return {"$unsupported": str(value.type_name)[:_NAME_LENGTH]}
    if depth >= MAX_DEPTH:
        return _unsupported(value, f" nested deeper than {MAX_DEPTH}")
    if kind is list or kind is tuple or kind is dict:
        return _container(value, kind, depth, active, budget)
    if kind is np.ndarray:
        return _array(value, budget)
    if isinstance(value, np.generic) and not isinstance(value, str):
        return _scalar(value)
    # subclasses of builtins (namedtuple, OrderedDict, IntEnum...) travel as their base
    for base, convert in _BASES:
        if isinstance(value, base):
            try:
                plain = convert(value)
            except Exception:
                return _unsupported(value)
            if type(plain) is list or type(plain) is tuple or type(plain) is dict:
                return _container(plain, type(plain), depth, active, budget, key=id(value))
            return _to_json(plain, depth, active, budget)
    return _unsupported(value)


def _container(value, kind, depth: int, active: set, budget: list, key: int | None = None):
    key = id(value) if key is None else key
    if key in active:
        return {"$unsupported": f"recursive {kind.__name__}"}
    active.add(key)
    try:
        _spend(budget, 2)
        if kind is dict:
            pairs = [(_key(k), v) for k, v in value.items()]
            if any(k is None for k, _v in pairs):
                return {"$unsupported": "dict with keys that are not strings"}
            return {
                "$dict": [
                    [_to_json(k, depth + 1, active, budget), _to_json(v, depth + 1, active, budget)]
                    for k, v in pairs
                ]
            }
        items = [_to_json(item, depth + 1, active, budget) for item in value]
        return items if kind is list else {"$tuple": items}
    finally:
        active.discard(key)


def _key(key: Any) -> str | None:
    """A dict key as a plain str (a subclass's own hashing stays behind); None if not one."""
    if type(key) is str:
        return key
    try:
        return str.__str__(key) if isinstance(key, str) else None
    except Exception:
        return None


def _array(value: np.ndarray, budget: list) -> dict:
    try:
        dtype = value.dtype.str
        if dtype not in DTYPES:
            return {"$unsupported": f"ndarray of dtype {value.dtype}"[:_NAME_LENGTH]}
        _spend(budget, value.nbytes * 4 / 3 + 64)
        shape = [int(n) for n in value.shape]
        return {"$array": [dtype, shape, _b64(value.tobytes())]}
    except WireError:
        raise
    except Exception:
        return _unsupported(value)


def _scalar(value: np.generic) -> dict:
    try:
        dtype = value.dtype.str
        if dtype not in DTYPES:
            return _unsupported(value)
        return {"$scalar": [dtype, _b64(value.tobytes())]}
    except Exception:
        return _unsupported(value)


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii")


def _from_json(node: Any, depth: int, budget: list) -> Any:
    kind = type(node)
    if kind is str:
        if len(node) > MAX_STRING_CHARS:
            raise WireError(f"a string is longer than {MAX_STRING_CHARS} characters")
        return node
    if kind is float or kind is bool or node is None:
        return node
    if kind is int:  # sent by hand, a huge one: json reads any size
        return node if node.bit_length() <= MAX_INT_BITS else Unsupported("int (too large)")
    if depth >= MAX_DEPTH + 5:
        raise WireError("data nested too deeply")
    if kind is list:
        return [_from_json(item, depth + 1, budget) for item in node]
    if kind is not dict or len(node) != 1:
        raise WireError("malformed data: an object must have exactly one tag")
    ((tag, body),) = node.items()
    if tag == "$tuple" and type(body) is list:
        return tuple(_from_json(item, depth + 1, budget) for item in body)
    if tag == "$dict" and type(body) is list:
        result = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("malformed data: a dict item must be a [string key, value] pair")
            result[_from_json(pair[0], depth + 1, budget)] = _from_json(pair[1], depth + 1, budget)
        return result
    if tag == "$array" and type(body) is list and len(body) == 3:
        return _read_array(body[0], body[1], body[2], budget)
    if tag == "$scalar" and type(body) is list and len(body) == 2:
        return _read_array(body[0], [], body[1], budget)[()]
    if tag == "$unsupported" and type(body) is str:
        return Unsupported(body[:_NAME_LENGTH])
    raise WireError(f"malformed data: unknown or ill-formed tag {str(tag)[:40]!r}")


def _read_array(dtype: Any, shape: Any, text: Any, budget: list) -> np.ndarray:
    kind = _DTYPE_OBJECTS.get(dtype) if type(dtype) is str else None
    if kind is None:
        raise WireError(f"malformed data: dtype {str(dtype)[:40]!r} is not allowed")
    if type(shape) is not list or len(shape) > 32:
        raise WireError("malformed data: bad array shape")
    for n in shape:
        if type(n) is not int or n < 0:
            raise WireError("malformed data: bad array shape")
    if type(text) is not str:
        raise WireError("malformed data: array data must be a base64 string")
    nbytes = math.prod(shape) * kind.itemsize
    budget[0] -= nbytes
    if budget[0] < 0:
        raise WireError("arrays in the data exceed the size limit")
    if len(text) != 4 * math.ceil(nbytes / 3):
        raise WireError("malformed data: array data does not match its shape")
    raw = strict_base64(text.encode("ascii"))
    if kind.kind == "b":  # only 0 and 1 are valid bools
        return np.frombuffer(raw, dtype=np.uint8).reshape(shape) != 0
    return np.frombuffer(raw, dtype=kind).reshape(shape).copy()


if sys.version_info >= (3, 11):

    def strict_base64(data: bytes) -> bytes:
        """Base64 with no stray character, and padding only at the end."""
        return binascii.a2b_base64(data, strict_mode=True)
else:  # Python 3.10 has no strict mode: the same checks (tests/test_wire_base64.py)

    def strict_base64(data: bytes) -> bytes:
        return base64.b64decode(data, validate=True)


# The other direction, grader -> sandbox child, is pickle: the child is the reader, it
# runs the submission's code anyway, and whatever it makes of the data harms no one else.
# Unpickling is several times faster than decode(), for every request of every child.


def to_child(value: Any) -> bytes:
    """``value`` for the sandbox child to read with :func:`from_grader` (never the reverse)."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def from_grader(data: bytes) -> Any:
    """In the sandbox child only: what the grader sent with :func:`to_child`."""
    return pickle.loads(data)
