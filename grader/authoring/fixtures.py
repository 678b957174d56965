"""Write public-test fixtures: nested Python values stored in one HDF5 file.

Students' folders read these files with plain h5py (see the assignment's
``public_tests.py``), so the layout is deliberately simple: every node carries a
``kind`` attribute (array, int, float, bool, str, none, tuple, list, dict) and
containers keep their children in order under names "0", "1", ... with the dict
keys in a ``keys`` attribute. Files are written without timestamps so that
regeneration is byte-identical.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np

_STR = h5py.string_dtype("utf-8")


def _put(parent: h5py.Group, name: str, value: Any) -> None:
    if isinstance(value, (tuple, list, dict)):
        group = parent.create_group(name)
        if isinstance(value, dict):
            keys = [str(k) for k in value]
            group.attrs.create("keys", np.array(keys, dtype=object), dtype=_STR)
            children = list(value.values())
        else:
            children = list(value)
        group.attrs["kind"] = type(value).__name__
        for index, child in enumerate(children):
            _put(group, str(index), child)
        return
    if value is None:
        data, kind = np.zeros(0), "none"
    elif isinstance(value, str):
        data, kind = np.array(value, dtype=object), "str"
    elif isinstance(value, (bool, np.bool_)):
        data, kind = np.array(bool(value)), "bool"
    elif isinstance(value, (int, np.integer)):
        data, kind = np.array(int(value), dtype=np.int64), "int"
    elif isinstance(value, (float, np.floating)):
        data, kind = np.array(float(value)), "float"
    elif isinstance(value, np.ndarray):
        data, kind = value, "array"
    else:
        raise TypeError(f"cannot store {type(value).__name__} in a fixture")
    dtype = _STR if kind == "str" else None
    dataset = parent.create_dataset(name, data=data, dtype=dtype, track_times=False)
    dataset.attrs["kind"] = kind


def encode(tree: Mapping[str, Any]) -> bytes:
    """Serialize ``{name: value}`` to the bytes of an HDF5 file (the reader lives
    in the student folder's ``public_tests.py``, so there is exactly one)."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", libver="earliest", track_order=False) as handle:
        for name, value in tree.items():
            _put(handle, name, value)
    return buffer.getvalue()
