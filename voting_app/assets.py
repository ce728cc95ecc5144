"""Vendored bundles (plotly.js) served gzip-compressed and cached for a year under a URL
that carries their digest, so a venue on a slow or offline network fetches them once."""

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, abort, make_response, request, url_for

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
bp = Blueprint("assets", __name__)


@lru_cache(maxsize=8)
def _bundle(name: str) -> tuple[bytes, bytes, str]:
    data = (VENDOR / name).read_bytes()
    return data, gzip.compress(data, compresslevel=9, mtime=0), hashlib.sha256(data).hexdigest()[:16]


def _known(name: str) -> bool:
    return name.endswith(".js") and "/" not in name and (VENDOR / name).is_file()


def vendor_url(static_path: str) -> str:
    """`vendor/plotly-basic-4.1.1.min.js` -> /assets/vendor/plotly-basic-4.1.1.min.js?v=<digest>."""
    name = static_path.removeprefix("vendor/")
    if not _known(name):
        raise ValueError(f"not a vendored bundle: {static_path}")
    return url_for("assets.vendor", name=name, v=_bundle(name)[2])


@bp.get("/assets/vendor/<name>")
def vendor(name: str):
    if not _known(name):
        abort(404)
    data, compressed, digest = _bundle(name)
    if request.if_none_match.contains(digest):
        response = make_response("", 304)
    else:
        gzipped = "gzip" in request.accept_encodings
        response = make_response(compressed if gzipped else data)
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.set_etag(digest)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
