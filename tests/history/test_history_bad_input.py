"""Uploads we cannot use get a message saying what we read instead, and nothing is written."""

import pytest

from companion.models import Watch
from history import parsers
from tests.history.test_history_formats import fixture, upload, zipped

V2 = "tracking-prod-records-v2.csv"


def encrypted_zip() -> bytes:
    """A zip whose member is flagged as encrypted, as a password-protected export's are."""
    # zipfile cannot encrypt, so set the flag bit in the local and the central header.
    data = bytearray(zipped({V2: b"\x00" * 64}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        data[at] |= 0x1
    return bytes(data)


def corrupt_zip() -> bytes:
    data = bytearray(zipped({V2: fixture(f"tvtime/{V2}") * 20}))
    # Damage the compressed bytes of the one member; the directory at the end still opens.
    middle = len(data) // 2
    data[middle : middle + 16] = b"\xff" * 16
    return bytes(data)


BAD = {
    "zip with nothing usable": (
        lambda: zipped({"account_info.csv": b"email\r\nme@example.com\r\n", "ratings.json": b"[]"}),
        [
            "the zip holds none of the files we read",
            V2,
            "watched-history-1.json",
            "account_info.csv, ratings.json",
        ],
    ),
    "empty zip": (
        lambda: zipped({}),
        ["the zip holds none of the files we read", "it holds nothing"],
    ),
    "password-protected zip": (encrypted_zip, ["protected by a password", "We read TV Time"]),
    "truncated zip": (lambda: zipped({V2: fixture(f"tvtime/{V2}")})[:100], ["the zip is damaged"]),
    "corrupt member": (corrupt_zip, ["is damaged inside the zip"]),
    "zip bomb": (
        lambda: zipped({"watched-history-1.json": b"[" + b" " * (30 * 1024 * 1024) + b"]"}),
        ["expands more than 100 times", "We read TV Time"],
    ),
    "nested zip": (
        lambda: zipped({"inner.zip": zipped({V2: fixture(f"tvtime/{V2}")})}),
        ["holds another zip (inner.zip)", "We read TV Time"],
    ),
    "unsupported file": (
        lambda: ("export.pdf", b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n"),
        ["not UTF-8 text", "We read TV Time"],
    ),
    "unsupported text": (
        lambda: ("notes.txt", b"just some notes\n"),
        ["not a file we can read", "We read TV Time"],
    ),
}


@pytest.mark.parametrize("make, messages", BAD.values(), ids=BAD.keys())
def test_bad_upload_gets_a_clear_message_and_changes_nothing(alice_client, alice, make, messages):
    before = list(Watch.objects.order_by("pk").values_list("pk", "episode_id", "watched_at"))
    made = make()
    page = upload(alice_client, made if isinstance(made, tuple) else ("export.zip", made)).content
    page = page.decode()
    for message in messages:
        assert message in page
    assert "Check the import" not in page and 'name="token"' not in page
    assert (
        list(Watch.objects.order_by("pk").values_list("pk", "episode_id", "watched_at")) == before
    )


def test_the_uncompressed_size_is_capped_across_the_whole_upload(alice_client, monkeypatch):
    monkeypatch.setattr(parsers, "MAX_UNCOMPRESSED_BYTES", 2000)
    archive = zipped(
        {
            V2: fixture(f"tvtime/{V2}"),
            "tracking-prod-records.csv": fixture("tvtime/tracking-prod-records.csv"),
            "seen_episode.csv": fixture("tvtime/seen_episode.csv"),
        }
    )
    page = upload(alice_client, ("tvtime.zip", archive)).content.decode()
    assert "unzipped, the export is larger than" in page
    assert 'name="token"' not in page


def test_a_zip_whose_sizes_lie_is_caught_while_reading(alice_client, monkeypatch):
    # Declared sizes pass the first check; the bytes that really come out are counted.
    monkeypatch.setattr(parsers, "MAX_RATIO", 2)
    archive = zipped({V2: fixture(f"tvtime/{V2}") * 50})
    page = upload(alice_client, ("tvtime.zip", archive)).content.decode()
    assert "expands more than 2 times" in page


def test_one_bad_file_among_good_ones_rejects_the_upload(alice_client, alice):
    before = Watch.objects.count()
    page = upload(
        alice_client,
        ("seen_episode.csv", fixture("tvtime/seen_episode.csv")),
        ("nested.zip", zipped({"inner.zip": b"PK\x03\x04"})),
    ).content.decode()
    assert "holds another zip" in page and Watch.objects.count() == before


def test_too_many_files_are_refused(alice_client, monkeypatch):
    monkeypatch.setattr(parsers, "MAX_FILES", 2)
    page = upload(
        alice_client, *[(f"watched-history-{n}.json", b"[]") for n in range(1, 4)]
    ).content.decode()
    assert "the limit is 2" in page
