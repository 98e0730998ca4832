"""The raw copy of a stored message: zstd in, zstd or the older gzip out, anything else refused."""

from __future__ import annotations

import gzip
import threading

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import CoreError
from core.mail.rawcopy import UnreadableRawCopy, pack, unpack

MAIL = b"From: Ivan Petrov <ivan@acme.test>\r\nSubject: Offer\r\n\r\n" + "Добрый день!\r\n".encode() * 200


@settings(database=None)
@given(st.binary(max_size=20_000))
def test_what_is_packed_unpacks_to_the_same_bytes(raw):
    assert unpack(pack(raw)) == raw


def test_a_packed_copy_is_one_zstd_frame_that_records_its_size():
    packed = pack(MAIL)
    assert packed[:4] == b"\x28\xb5\x2f\xfd" and len(packed) < len(MAIL) // 4
    assert zstandard.get_frame_parameters(packed).content_size == len(MAIL)
    assert zstandard.ZstdDecompressor().decompress(packed) == MAIL  # any zstd reader, not only ours


@pytest.mark.parametrize("level", [1, 6, 9])
def test_gzip_copies_written_before_still_unpack(level):
    assert unpack(gzip.compress(MAIL, compresslevel=level)) == MAIL
    assert unpack(gzip.compress(b"")) == b""


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        (b"", "it is empty"),
        (MAIL, "neither zstd nor gzip (it starts with 46 72 6f 6d)"),
        (b"\x78\x9c" + MAIL[:20], "neither zstd nor gzip"),  # a bare zlib stream, no gzip header
        (pack(MAIL)[:-9], "damaged"),
        (gzip.compress(MAIL)[:-9], "damaged"),
        (b"\x1f\x8b\x08\x00garbage", "damaged"),
        (b"\x28\xb5\x2f\xfd" + b"\xff" * 12, "damaged"),
    ],
)
def test_anything_else_is_refused_with_a_clear_error(stored, words):
    with pytest.raises(UnreadableRawCopy) as caught:
        unpack(stored)
    assert isinstance(caught.value, CoreError) and caught.value.code == "unreadable_raw_copy"
    assert caught.value.message.startswith("The stored raw copy of the message is") and words in caught.value.message


def test_threads_packing_at_once_each_get_their_own_bytes_back():
    messages = [[MAIL + f"{t}-{i}".encode() * (i % 50) for i in range(300)] for t in range(4)]
    results: dict[int, list[bytes]] = {}

    def work(t: int) -> None:
        results[t] = [unpack(pack(m)) for m in messages[t]]

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[t] for t in range(4)] == messages
