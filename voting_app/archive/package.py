"""The archive's bytes: a zip in which the same files give the same bytes, whenever and
wherever it is written. No Flask: what goes in is decided in `contents`, how a page becomes
a PDF in `printing`.

Every date inside is the archive's own moment (derived from the record, see `contents`):
the zip's entries, the PDFs' /CreationDate and /ModDate, the Excel files' creation and
modification dates and their inner zip. Names are sorted, permissions fixed, and the
compression is DEFLATE at a fixed level."""

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

from voting_app import verify_archive as spec

PERMISSIONS = 0o644 << 16
LEVEL = 6


@dataclass(frozen=True)
class Entry:
    """One file of the archive: its bytes, or the staff page (a path in the app) it comes from,
    printed as PDF when the name ends in .pdf, downloaded as it is (an Excel file) otherwise."""

    name: str
    data: bytes | None = None
    source: str | None = None


class ArchiveError(Exception):
    """The archive cannot be written: which page or file failed, and why."""


_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) ?\(D:[0-9]{4,14}[^)]{0,8}\)")


_NODE_ID = re.compile(rb"\(node([0-9]{8})\)")


def pdf_at(pdf: bytes, moment: datetime) -> bytes:
    """The PDF dated `moment`, its structure ids numbered from 1. Chromium stamps the printing
    time, and names the tagged structure's elements after the page's DOM node ids, which
    depend on timing: either would make every run differ. Each replacement has the length of
    what it replaces, so the cross-reference offsets stay right, and the ids keep their
    order, so the ID tree stays sorted."""
    ranks = {number: f"{rank:08d}".encode("ascii") for rank, number in enumerate(sorted(set(_NODE_ID.findall(pdf))), 1)}
    pdf = _NODE_ID.sub(lambda match: b"(node" + ranks[match.group(1)] + b")", pdf)

    def fixed(match: re.Match) -> bytes:
        old = match.group(0)
        new = b"/" + match.group(1) + (b" " if b" (" in old else b"") + moment.strftime("(D:%Y%m%d%H%M%S+00'00')").encode("ascii")
        if len(new) != len(old):
            raise ArchiveError(f"the PDF's {match.group(1).decode()} has an unexpected form: {old.decode('latin-1')}")
        return new

    return _PDF_DATE.sub(fixed, pdf)


_CORE_DATE = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def xlsx_at(xlsx: bytes, moment: datetime) -> bytes:
    """The workbook dated `moment` (openpyxl writes the time of saving into docProps/core.xml
    and onto its zip entries), its parts in the same order."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    parts = []
    for info in source.infolist():
        data = source.read(info)
        if info.filename == "docProps/core.xml":
            data = _CORE_DATE.sub(lambda m: m.group(1) + stamp + m.group(3), data)
        parts.append((info.filename, data))
    return _zip(parts, moment)


def _info(name: str, moment: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = PERMISSIONS
    info.create_system = 3  # Unix, whatever the machine writing it
    return info


def _zip(parts: list[tuple[str, bytes]], moment: datetime, comment: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=LEVEL) as archive:
        for name, data in parts:
            archive.writestr(_info(name, moment), data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=LEVEL)
        archive.comment = comment
    return buffer.getvalue()


def write_zip(files: dict[str, bytes], moment: datetime) -> bytes:
    """The archive: the files, SM3SUMS where hashlib offers SM3, SHA256SUMS over all of them,
    and the manifest's own SHA-256 in the zip comment. Sorted by name."""
    files = dict(files)
    if spec.has_sm3():
        files[spec.SM3SUMS] = spec.sums_text(files, "sm3").encode("utf-8")
    manifest = spec.sums_text(files, "sha256").encode("utf-8")
    files[spec.SHA256SUMS] = manifest
    return _zip(sorted(files.items()), moment, spec.manifest_comment(manifest))


def fingerprint(archive: bytes) -> str:
    """The SHA-256 of the archive's manifest, to write down apart from the archive."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return hashlib.sha256(opened.read(spec.SHA256SUMS)).hexdigest()
