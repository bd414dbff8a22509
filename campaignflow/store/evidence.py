"""Evidence files (佐证材料), stored by content: the name of a file is the sha256 of its bytes.

:class:`EvidenceStore` is the small interface an engine is given (``Engine(evidence_store=…)``);
:class:`LocalEvidenceStore` is the default, a content-addressed folder. A caller never chooses a
path: it hands in bytes and gets their sha256 back, and asks for a file by that sha256 only. Any
other name (``..``, a path, upper-case hex, the wrong length) raises
:class:`~campaignflow.errors.InvalidEvidenceName` before the file system is touched.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Literal, Protocol, runtime_checkable

from campaignflow.errors import EvidenceNotFound, InvalidEvidenceName, InvalidInput

__all__ = ["EvidenceStatus", "EvidenceStore", "LocalEvidenceStore", "evidence_status", "file_sha256"]

CHUNK = 1 << 16
_SHA256 = re.compile(r"[0-9a-f]{64}")

EvidenceStatus = Literal["ok", "missing", "mismatch"]


def checked_name(sha256: object) -> str:
    """``sha256`` if it is a 64-character lowercase hex digest; otherwise InvalidEvidenceName."""
    if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
        shown = repr(sha256)[:80]
        raise InvalidEvidenceName(
            f"证据文件名必须是 64 位小写十六进制 sha256，拒绝 {shown}",
            f"an evidence name must be a 64-character lowercase hex sha256, refusing {shown}",
            field="sha256",
        )
    return sha256


def file_sha256(handle: BinaryIO) -> str:
    """The sha256 of everything left to read in ``handle``."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


@runtime_checkable
class EvidenceStore(Protocol):
    """Where evidence files live. Names are sha256 digests of the content, nothing else."""

    def put(self, data: bytes | BinaryIO, *, sha256: str | None = None) -> str:
        """Store ``data`` (bytes or a binary file); return its sha256. With ``sha256``, refuse
        (InvalidInput) bytes that do not hash to it. Storing the same bytes twice is a no-op."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes, for reading; EvidenceNotFound if absent."""
        ...

    def contains(self, sha256: str) -> bool:
        """Whether a file by that name is stored (its bytes are not re-hashed)."""
        ...


class LocalEvidenceStore:
    """A content-addressed folder: ``<root>/ab/abcdef…`` (the first two hex digits fan out).

    Files are written to ``<root>/.incoming`` while they are hashed and moved into place atomically,
    read-only; a crash leaves at most a stray ``.part`` file, never a half-written evidence file.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        name = checked_name(sha256)
        return self.root / name[:2] / name

    def put(self, data: bytes | BinaryIO, *, sha256: str | None = None) -> str:
        expected = checked_name(sha256) if sha256 is not None else None
        incoming = self.root / ".incoming"
        incoming.mkdir(exist_ok=True)
        partial = incoming / f"{uuid.uuid4().hex}.part"
        digest = hashlib.sha256()
        try:
            with partial.open("xb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    digest.update(data)
                    out.write(data)
                elif hasattr(data, "read"):
                    for chunk in iter(lambda: data.read(CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
                else:
                    raise InvalidInput(
                        "证据必须是 bytes 或二进制文件",
                        "evidence must be bytes or a binary file",
                        field="data",
                    )
            name = digest.hexdigest()
            if expected is not None and name != expected:
                raise InvalidInput(
                    f"文件内容的 sha256 为 {name}，与登记的 {expected} 不符",
                    f"the content hashes to {name}, not the {expected} given",
                    field="sha256",
                )
            target = self._path(name)
            if not target.exists():
                target.parent.mkdir(exist_ok=True)
                partial.chmod(0o444)
                os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return name

    def open(self, sha256: str) -> BinaryIO:
        path = self._path(sha256)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise EvidenceNotFound(sha256) from None

    def contains(self, sha256: str) -> bool:
        return self._path(sha256).is_file()


def evidence_status(store: EvidenceStore, names: Iterable[str]) -> dict[str, EvidenceStatus]:
    """For each sha256: ``ok`` (stored, bytes hash to it), ``missing``, or ``mismatch``."""
    found: dict[str, EvidenceStatus] = {}
    for name in names:
        if name in found:
            continue
        try:
            with store.open(name) as handle:
                found[name] = "ok" if file_sha256(handle) == name else "mismatch"
        except EvidenceNotFound:
            found[name] = "missing"
    return found
