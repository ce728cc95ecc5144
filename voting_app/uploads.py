"""Photos sent with a form are checked and re-encoded before the request takes the
database's write lock: under SQLite a second of decoding inside that lock stalls every
ballot cast meanwhile."""

from functools import partial

from flask import current_app
from flask_babel import lazy_gettext as _l

from voting_app.db import start_writing, still_reading
from voting_app.errors import DomainError
from voting_app.images import CleanImage, clean_image, decode_turn


def photos_before_writing(files, limit: int) -> list[CleanImage]:
    """Clean the photos a `@reads_first` view received (FileStorage objects; empty parts, where
    no file was chosen, are skipped), then start writing: the read transaction ends before any
    pixel is decoded, and the write lock is taken by the first statement after this call.

    More than `limit` photos are refused before any is decoded; a bad one refuses them all.
    """
    if not still_reading():
        raise RuntimeError("photos_before_writing() belongs in a @reads_first view, before it writes")
    start_writing()
    uploads = [storage.read() for storage in files if storage is not None and getattr(storage, "filename", "")]
    if len(uploads) > limit:
        raise DomainError(_l("At most %(count)d photos at a time.", count=limit))
    config = current_app.config
    turn = partial(decode_turn, config["PHOTO_DECODE_LOCK_DIR"] or current_app.instance_path,
                   config["PHOTO_DECODE_SLOTS"], config["PHOTO_DECODE_WAIT"])
    return [clean_image(data, turn, config["PHOTO_DECODE_SECONDS"]) for data in uploads]
