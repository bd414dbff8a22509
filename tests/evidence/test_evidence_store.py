"""The content-addressed evidence store: sha256 names only, hostile names refused before any I/O."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from campaignflow import EvidenceNotFound, InvalidEvidenceName, InvalidInput, LocalEvidenceStore
from campaignflow.store.evidence import EvidenceStore, evidence_status

PHOTO = b"\xff\xd8 a photo of the back street after cleaning"
SHA = hashlib.sha256(PHOTO).hexdigest()


def test_put_returns_the_sha256_and_files_by_it(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path / "evidence")
    assert isinstance(store, EvidenceStore)
    assert store.put(PHOTO) == SHA
    assert store.contains(SHA)
    path = tmp_path / "evidence" / SHA[:2] / SHA
    assert path.read_bytes() == PHOTO
    with store.open(SHA) as handle:
        assert handle.read() == PHOTO
    assert store.put(io.BytesIO(PHOTO), sha256=SHA) == SHA  # the same bytes again: a no-op
    assert sorted(p.name for p in (tmp_path / "evidence").rglob("*") if p.is_file()) == [SHA]


def test_a_stream_is_hashed_as_it_is_written(tmp_path: Path) -> None:
    big = bytes(range(256)) * 5000
    store = LocalEvidenceStore(tmp_path)
    assert store.put(io.BytesIO(big)) == hashlib.sha256(big).hexdigest()


def test_bytes_that_do_not_match_the_given_hash_are_refused_and_not_kept(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    with pytest.raises(InvalidInput, match="不符"):
        store.put(b"something else", sha256=SHA)
    assert not store.contains(SHA)
    assert not store.contains(hashlib.sha256(b"something else").hexdigest())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..",
        "/etc/passwd",
        SHA[:2] + "/" + SHA,
        SHA.upper(),
        SHA[:-1],
        SHA + "0",
        SHA + "\n",
        "../" + SHA[3:],
        "",
        None,
        42,
    ],
)
def test_hostile_names_are_refused_with_a_typed_error(tmp_path: Path, name: object) -> None:
    store = LocalEvidenceStore(tmp_path / "evidence")
    calls = [store.open, store.contains]
    if name is not None:  # put(…, sha256=None) means "no expected hash"
        calls.append(lambda n: store.put(PHOTO, sha256=n))
    for call in calls:
        with pytest.raises(InvalidEvidenceName) as caught:
            call(name)  # type: ignore[operator]
        assert caught.value.code == "invalid_evidence_name"
        assert isinstance(caught.value, InvalidInput)
    assert [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()] == []


def test_absent_and_altered_files(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    other = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(EvidenceNotFound) as caught:
        store.open(other)
    assert isinstance(caught.value, LookupError)
    store.put(PHOTO)
    path = tmp_path / SHA[:2] / SHA
    path.chmod(0o644)
    path.write_bytes(PHOTO + b" retouched")
    assert evidence_status(store, [SHA, other, SHA]) == {SHA: "mismatch", other: "missing"}


def test_bad_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        LocalEvidenceStore(tmp_path).put("a str, not bytes")  # type: ignore[arg-type]
