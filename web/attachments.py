"""Evidence files (佐证材料): which files are accepted, how they are stored, how they are served.

Accepted kinds are decided from the bytes, never from the browser's content type or the name:
a PDF starts with ``%PDF-``; a DOCX or XLSX is a zip whose ``[Content_Types].xml`` declares the
main part of a Word or Excel document (macro-enabled ones declare another type and are
refused). DOC and XLS share one container, OLE2, with PPT and MSI installers: the header proves
the container, and the name, which must end in .doc or .xls, says which of the two it is.

Storing (``store_uploads``): every file is checked and written to
``data_dir/attachments/<random key>`` before any row exists; one refused file refuses them all
and removes what was written, so a refused claim stores nothing. The caller adds the rows in
the claim's transaction and removes the files if that transaction does not commit.

Serving (``GET /attachments/{key}``): by the random key only, to a signed-in person who may
view the item (anyone else is told there is no such file, 404), always as a download
(``Content-Disposition: attachment``, ``nosniff``), so an uploaded file is never rendered by
the browser as part of the site.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import select

from models.rules.permissions import Action
from models.store.co_units import co_unit_ids
from models.tables.attachment import Attachment
from models.tables.milestone import Milestone
from web.dependencies import CurrentUser, Refused, SessionDep, WebDep

MAX_FILES = 5
MAX_NAME = 200  # Attachment.name
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Kind:
    name: str
    content_type: str
    extensions: tuple[str, ...]  # the first is added to a name that has none of them


PDF = Kind("PDF", "application/pdf", (".pdf",))
PNG = Kind("PNG", "image/png", (".png",))
JPEG = Kind("JPEG", "image/jpeg", (".jpg", ".jpeg"))
DOCX = Kind("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",))
XLSX = Kind("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            (".xlsx",))
DOC = Kind("DOC", "application/msword", (".doc",))
XLS = Kind("XLS", "application/vnd.ms-excel", (".xls",))
KINDS = (PDF, PNG, JPEG, DOCX, XLSX, DOC, XLS)
ACCEPT = ",".join(e for kind in KINDS for e in kind.extensions)  # the file input's hint

_MAGIC = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML_MAIN = {DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml."
                     "document.main+xml",
               XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml."
                     "sheet.main+xml"}
_CONTENT_TYPES_LIMIT = 1024 * 1024  # a real one is a few kB; a zip bomb is not read further


class UploadRefused(ValueError):
    """A file that cannot be accepted; the message (Chinese) names it."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


# ── pure checks ─────────────────────────────────────────────────────────────────────────────

def detect_kind(file: BinaryIO, name: str) -> Kind | None:
    """The accepted kind of the seekable ``file``'s content, or None. ``name`` only tells DOC
    from XLS inside an OLE2 container."""
    file.seek(0)
    head = file.read(8)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(_ZIP):
        return _office_open_xml(file)
    if head == _OLE:
        suffix = PurePath(name).suffix.lower()
        return next((k for k in (DOC, XLS) if suffix in k.extensions), None)
    return None


def _office_open_xml(file: BinaryIO) -> Kind | None:
    try:
        with zipfile.ZipFile(file) as archive, archive.open("[Content_Types].xml") as entry:
            declared = entry.read(_CONTENT_TYPES_LIMIT + 1)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError):
        return None  # not a zip, no such entry, encrypted or an unknown compression
    if len(declared) > _CONTENT_TYPES_LIMIT:
        return None
    text = declared.decode("utf-8", "replace")
    found = [kind for kind, main in _OOXML_MAIN.items() if f'ContentType="{main}"' in text]
    return found[0] if len(found) == 1 else None


def clean_name(raw: str | None) -> str:
    """The uploader's file name made safe to keep and show: the last path part only, without
    control or formatting characters (a right-to-left override can disguise "exe.pdf"),
    at most MAX_NAME characters with the extension kept."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_NAME:
        suffix = PurePath(name).suffix[:16]
        name = name[: MAX_NAME - len(suffix)].rstrip() + suffix
    return name


def named_for(name: str, kind: Kind) -> str:
    """``name`` with the kind's extension, so the saved download opens as what it is."""
    if PurePath(name).suffix.lower() in kind.extensions:
        return name
    stem = (name or "附件")[: MAX_NAME - len(kind.extensions[0])]
    return stem + kind.extensions[0]


def content_disposition(name: str) -> str:
    """A download header: an ASCII ``filename`` for old clients and the real name in UTF-8
    (RFC 6266 / RFC 5987), which every current browser prefers."""
    fallback = "".join(c if 32 < ord(c) < 127 and c not in '"\\;%' else "_" for c in name)
    if not fallback.strip("_."):
        fallback = "attachment" + PurePath(fallback).suffix
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


# ── storing ─────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Stored:
    name: str
    kind: Kind
    size: int
    sha256: str
    stored_as: str


def store_uploads(uploads: Sequence[tuple[str, BinaryIO]], folder: Path,
                  max_bytes: int) -> list[Stored]:
    """Check and write every file (see the module's docstring); all or nothing."""
    if len(uploads) > MAX_FILES:
        raise UploadRefused(f"每次最多上传 {MAX_FILES} 个附件，本次选择了 {len(uploads)} 个。")
    folder.mkdir(parents=True, exist_ok=True)
    stored: list[Stored] = []
    try:
        for name, file in uploads:
            stored.append(_store_one(name, file, folder, max_bytes))
    except BaseException:
        discard(folder, [s.stored_as for s in stored])
        raise
    return stored


def _store_one(name: str, file: BinaryIO, folder: Path, max_bytes: int) -> Stored:
    size = file.seek(0, 2)
    if size > max_bytes:
        raise UploadRefused(f"附件“{name}”超过了 {megabytes(max_bytes)} 的大小上限。", status=413)
    if size == 0:
        raise UploadRefused(f"附件“{name}”是空文件。")
    kind = detect_kind(file, name)
    if kind is None:
        raise UploadRefused(f"附件“{name}”的类型不被接受：只接受 "
                            f"{'、'.join(k.name for k in KINDS)} 文件（按文件内容判断）。")
    key, digest = secrets.token_urlsafe(24), hashlib.sha256()
    path = folder / key
    file.seek(0)
    try:
        with path.open("xb") as out:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Stored(named_for(name, kind), kind, size, digest.hexdigest(), key)


def discard(folder: Path, keys: Sequence[str]) -> None:
    for key in keys:
        (folder / key).unlink(missing_ok=True)


# ── serving ─────────────────────────────────────────────────────────────────────────────────

router = APIRouter()


@router.get("/attachments/{stored_as}")
def download(request: Request, stored_as: str, web: WebDep, db: SessionDep,
             me: CurrentUser) -> Response:
    attachment = db.exec(select(Attachment).where(Attachment.stored_as == stored_as)).first()
    milestone = db.get(Milestone, attachment.milestone_id) if attachment else None
    if (attachment is None or milestone is None
            or not web.may(me, Action.view_item, milestone.unit_id,
                           co_unit_ids(db, milestone.id))):  # as if there were none
        raise Refused(404, "未找到", "没有这个附件。", me)
    path = web.settings.data_dir / "attachments" / attachment.stored_as
    if not path.is_file():
        raise Refused(404, "未找到", "附件文件已不在存储目录中，请联系督查室。", me)
    return FileResponse(path, media_type=attachment.content_type, headers={
        "Content-Disposition": content_disposition(attachment.name),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private"})
