"""Array bytes are read as strict base64 on every supported Python: 3.10 has no
``strict_mode``, and its fallback (``b64decode`` with ``validate=True``) must refuse
what 3.11's strict mode refuses."""

from __future__ import annotations

import base64
import binascii
import functools

import pytest

from grader.sandbox.wire import strict_base64

VALID = [b"", b"AAAA", b"AAA=", b"AA==", base64.b64encode(bytes(range(256)))]
INVALID = [
    b"!!!!",
    b"AAAA\nAAA",
    b"AA==AAAA",
    b"A===",
    b"AAA ",
    b"=AAA",
    "\u00e9\u00e9\u00e9\u00e9".encode(),
]
READERS = [strict_base64, functools.partial(base64.b64decode, validate=True)]


@pytest.mark.parametrize("decode", READERS)
@pytest.mark.parametrize("data", VALID)
def test_valid_base64_reads_the_same(decode, data):
    assert decode(data) == base64.b64decode(data)


@pytest.mark.parametrize("decode", READERS)
@pytest.mark.parametrize("data", INVALID)
def test_stray_characters_and_padding_are_refused(decode, data):
    with pytest.raises(binascii.Error):
        decode(data)
