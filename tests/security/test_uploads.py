"""Hostile photos through the real forms: a resident's proposal photo, a department's progress
note photos and a deputy's supervision photos.

Expected answers: anything that is not a usable photo (a program or a page named .jpg, an SVG
named .png, a truncated JPEG, a decompression bomb, a file over the limits) is refused with a
message saying why, and NOTHING of the submission is stored: no proposal, note, record, photo,
history line, audit entry or progress change. A real photo carrying GPS data, a comment or an
appended script is stored only as a fresh JPEG with none of them."""

import html
import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.ballots.helpers import as_deputy
from tests.conftest import post
from tests.images import jpeg_bytes
from tests.projects.test_delivery import new_project, officer_client
from tests.surveys.conftest import db_url, pg_delete_order  # noqa: F401  (PostgreSQL: DELETE is faster than TRUNCATE)
from voting_app.audit import AuditEntry
from voting_app.db import db
from voting_app.images import MAX_UPLOAD_BYTES
from voting_app.projects import schedule
from voting_app.projects.models import Photo, ProgressNote, Project, ProjectChange, SupervisionRecord
from voting_app.proposals import service as proposals
from voting_app.proposals.models import Proposal

TODAY = schedule.beijing_today()
MB = 1024 * 1024
NOT_A_PHOTO = "Only photos in JPEG, PNG or WebP format can be uploaded."
TOO_MANY_PIXELS = "The photo has too many pixels"
OVER_THE_PHOTO_LIMIT = "The photo is larger than 8 MB."
OVER_THE_REQUEST_LIMIT = "This is too much to send at once: a photo may be up to 8 MB, a form far less."
STORED_ACTIONS = ("proposal.submit", "project.progress_note", "supervision.record")


def png_declaring(width: int, height: int) -> bytes:
    """A small, well-formed PNG whose header claims width x height: a decompression bomb's
    first bytes (a real one would carry a long run of zeros that inflates to gigabytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * min(width, 4096)) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>")
ATTACKS = {
    # name: (bytes, filename, declared content type, message expected)
    "program named .jpg": (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 4000 + b"This program cannot be run in DOS mode",
                           "photo.jpg", "image/jpeg", NOT_A_PHOTO),
    "html named .jpg": (b"<!doctype html><html><body><script>alert(1)</script></body></html>", "photo.jpg", "image/jpeg",
                        NOT_A_PHOTO),
    "svg named .png": (SVG, "photo.png", "image/png", NOT_A_PHOTO),
    "truncated jpeg": (jpeg_bytes()[:3000], "photo.jpg", "image/jpeg", NOT_A_PHOTO),
    "jpeg header only": (jpeg_bytes()[:200], "photo.jpg", "image/jpeg", NOT_A_PHOTO),
    "bomb 30000x30000": (png_declaring(30_000, 30_000), "photo.png", "image/png", TOO_MANY_PIXELS),
    "bomb 11000x11000": (png_declaring(11_000, 11_000), "photo.png", "image/png", TOO_MANY_PIXELS),
    "over 8 MB": (jpeg_bytes() + b"\x00" * MAX_UPLOAD_BYTES, "photo.jpg", "image/jpeg", OVER_THE_PHOTO_LIMIT),
}


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return (io.BytesIO(data), name, content_type)


class Routes:
    """The three forms that take photos, each with a client allowed to use it."""

    def __init__(self, app, world):
        self.app = app
        with app.app_context():
            station = proposals.add_station("test", "米公街道代表联络站", "米公街道")
            db.session.commit()
            self.station_code = station.code
        self.project_id = new_project(app, department="区交通运输局")
        self.officer = officer_client(app, "区交通运输局")
        self.deputy = as_deputy(app, world)

    def proposal(self, files):
        """A resident's proposal: one photo at most."""
        form = {"title": "米公祠路段加装路灯", "description": "晚上路很黑，老人出门不安全，希望加装路灯。", "location": "米公祠东侧",
                "theme": "roads_transport", "contact": "", "photo": files[0]}
        return post(self.app.test_client(), f"/p/{self.station_code}", form, content_type="multipart/form-data")

    def note(self, files):
        form = {"body": "3座桥梁桩基完成", "progress_percent": "40", "photos": files}
        return post(self.officer, f"/projects/{self.project_id}/notes/new", form, content_type="multipart/form-data")

    def supervision(self, files):
        form = {"visited_on": TODAY.isoformat(), "findings": "护栏缺失", "photos": files}
        return post(self.deputy, f"/projects/{self.project_id}/supervision/new", form, content_type="multipart/form-data")

    def all(self):
        return {"proposal": self.proposal, "progress note": self.note, "supervision": self.supervision}

    def stored(self) -> dict:
        """What any of the three forms could have left behind."""
        with self.app.app_context():
            scalar = db.session.scalar
            return {
                "proposals": scalar(select(func.count(Proposal.id))),
                "photos": scalar(select(func.count(Photo.id))),
                "notes": scalar(select(func.count(ProgressNote.id))),
                "supervisions": scalar(select(func.count(SupervisionRecord.id))),
                "history": scalar(select(func.count(ProjectChange.id))),
                "audit": scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action.in_(STORED_ACTIONS))),
                "progress": db.session.get(Project, self.project_id).progress_percent,
            }


@pytest.fixture
def routes(app, world):
    return Routes(app, world)


def refused_with(response, status: int, message: str) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert message in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_a_hostile_file_is_refused_with_its_reason_and_nothing_is_stored(routes, attack):
    """Only the bytes decide: name and declared type are the attacker's to choose."""
    data, name, content_type, message = ATTACKS[attack]
    before = routes.stored()
    for route, send in routes.all().items():
        refused_with(send([upload(data, name, content_type)]), 400, message)
        assert routes.stored() == before, route


@pytest.mark.parametrize("attack", ["svg named .png", "bomb 30000x30000", "truncated jpeg"])
def test_one_bad_photo_among_good_ones_stores_none_of_them(routes, attack):
    """Photos are all checked before any is kept: the note or record is not half-written."""
    data, name, content_type, message = ATTACKS[attack]
    before = routes.stored()
    files = [upload(jpeg_bytes()), upload(jpeg_bytes(colour=(200, 40, 40))), upload(data, name, content_type)]
    refused_with(routes.note(files), 400, message)
    refused_with(routes.supervision([upload(jpeg_bytes()), upload(data, name, content_type)]), 400, message)
    assert routes.stored() == before


def test_more_photos_than_allowed_are_refused_and_nothing_is_stored(routes):
    """Four photos at most per note or visit; a fifth refuses the whole submission."""
    before = routes.stored()
    five = [upload(jpeg_bytes()) for _ in range(5)]
    refused_with(routes.note(five), 400, "At most 4 photos at a time.")
    refused_with(routes.supervision([upload(jpeg_bytes()) for _ in range(5)]), 400, "At most 4 photos at a time.")
    assert routes.stored() == before


def test_the_limits_agree_and_a_request_over_the_cap_is_refused_whole(app, routes):
    """MAX_CONTENT_LENGTH (34 MB) holds four photos at the 8 MB per-photo limit and the form;
    a larger body is refused (413) before any of it is read, and nothing is stored."""
    assert MAX_UPLOAD_BYTES == 8 * MB and app.config["MAX_CONTENT_LENGTH"] == 34 * MB
    assert 4 * MAX_UPLOAD_BYTES + MB < app.config["MAX_CONTENT_LENGTH"]
    before = routes.stored()
    huge = jpeg_bytes() + b"\x00" * (35 * MB)
    for route, send in routes.all().items():
        refused_with(send([upload(huge)]), 413, OVER_THE_REQUEST_LIMIT)
        assert routes.stored() == before, route
    refused_with(routes.note([upload(jpeg_bytes() + b"\x00" * (9 * MB)) for _ in range(4)]), 413, OVER_THE_REQUEST_LIMIT)
    assert routes.stored() == before


def test_four_photos_at_the_per_photo_limit_fit_in_one_request(routes):
    """The request cap must not refuse what the per-photo limit allows."""
    source = jpeg_bytes()
    at_limit = source + b"\x00" * (MAX_UPLOAD_BYTES - len(source))
    response = routes.note([upload(at_limit) for _ in range(4)])
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert routes.stored()["photos"] == 4


def stored_photos(app) -> list[bytes]:
    with app.app_context():
        return list(db.session.scalars(select(Photo.data).order_by(Photo.id)))


def assert_clean_jpeg(data: bytes) -> None:
    """A JPEG with no EXIF (so no GPS, no camera), no comment, nothing appended."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    exif = image.getexif()
    assert len(exif) == 0 and not exif.get_ifd(0x8825)
    assert "exif" not in image.info and "comment" not in image.info and "xmp" not in image.info
    assert b"Exif" not in data and b"Phone X" not in data and b"<script" not in data
    assert data.endswith(b"\xff\xd9"), "bytes after the end of the image"


def test_gps_and_everything_but_the_pixels_are_removed_on_every_route(app, routes):
    """A phone photo's position would tell where a resident lives: only the pixels are kept.
    The photo also carries a JPEG comment and a script appended after the image (a polyglot)."""
    source = Image.open(io.BytesIO(jpeg_bytes(gps=True)))
    assert source.getexif().get_ifd(0x8825), "the test photo must carry a GPS position"
    buffer = io.BytesIO()
    source.save(buffer, "JPEG", exif=source.getexif(), comment=b"<script>alert(1)</script>")
    hostile = buffer.getvalue() + b"<script>alert(document.cookie)</script>"
    for route, send in routes.all().items():
        response = send([upload(hostile, "../../../instance/config.py", "text/html")])
        assert response.status_code == 302, (route, response.get_data(as_text=True)[:300])
    photos = stored_photos(app)
    assert len(photos) == 3
    for data in photos:
        assert_clean_jpeg(data)
    with app.app_context():
        note_photo = db.session.scalars(select(Photo.token).where(Photo.progress_note_id.is_not(None))).one()
    served = app.test_client().get(f"/projects/photos/{note_photo}")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"] == f'inline; filename="{note_photo}.jpg"'
    assert_clean_jpeg(served.data)


def test_a_png_sent_as_html_is_stored_and_served_as_a_jpeg(app, routes):
    """The declared type and name say nothing: the stored copy is a JPEG served as one."""
    image = Image.new("RGB", (50, 40), (10, 200, 10))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    response = routes.note([upload(buffer.getvalue(), "index.html", "text/html")])
    assert response.status_code == 302
    with app.app_context():
        photo = db.session.scalars(select(Photo)).one()
        assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (50, 40)
        token = photo.token
    served = app.test_client().get(f"/projects/photos/{token}")
    assert served.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(served.data)).format == "JPEG"
