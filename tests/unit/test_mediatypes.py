"""The type of a file from the scene is read from its first bytes; every type read is one the
API documents for GET /media/{id}."""

from __future__ import annotations

import pytest

from rescue.mediatypes import CONTENT_TYPES, sniff

SAMPLES = {
    b"\xff\xd8\xff\xe0": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png",
    b"GIF89a": "image/gif", b"RIFF\x00\x00\x00\x00WEBP": "image/webp",
    b"RIFF\x00\x00\x00\x00WAVE": "audio/wav", b"OggS": "audio/ogg", b"#!AMR\n": "audio/amr",
    b"ID3\x03": "audio/mpeg", b"\x00\x00\x00\x20ftypM4A ": "audio/mp4",
    b"\x1a\x45\xdf\xa3": "video/webm", b"\x00\x00\x00\x14ftypqt  ": "video/quicktime",
    b"\x00\x00\x00\x14ftyp3gp4": "video/3gpp", b"\x00\x00\x00\x14ftyp3g2a": "video/3gpp2",
    b"\x00\x00\x00\x18ftypmp42": "video/mp4",
}


@pytest.mark.parametrize("head, content_type", SAMPLES.items())
def test_types_by_their_first_bytes(head, content_type) -> None:
    t = sniff(head + b"\x00" * 40)
    assert t is not None and t.content_type == content_type
    assert t.content_type in CONTENT_TYPES


@pytest.mark.parametrize("head", [b"", b"hello", b"%PDF-1.4", b"PK\x03\x04", b"MZ\x90\x00",
                                  b"\x00\x00\x00\x18ftypheic"])
def test_other_files_are_not_kept(head) -> None:
    assert sniff(head) is None


def test_every_documented_type_can_be_read() -> None:
    assert set(CONTENT_TYPES) == set(SAMPLES.values())
