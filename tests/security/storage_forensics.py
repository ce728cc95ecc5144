"""What an attacker does with a copy of the database files: replay SQLite's WAL commit by
commit, read the physical order of cells in a table's pages, and search raw bytes. Written
from the file formats (https://www.sqlite.org/fileformat2.html), not through SQLite, so it
sees what a reader of the files sees, stale and freed bytes included."""

import sqlite3
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

WAL_HEADER, FRAME_HEADER = 32, 24


def wal_snapshots(main: bytes, wal: bytes) -> list[bytes]:
    """The database image after each commit frame of the WAL, applied over the main file in
    file order (stale frames of earlier WAL generations included, as an attacker would)."""
    if len(wal) < WAL_HEADER:
        return []
    page_size = struct.unpack(">I", wal[8:12])[0]
    image = bytearray(main)
    snapshots = []
    offset = WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(wal):
        page_number, commit_size = struct.unpack(">II", wal[offset : offset + 8])
        data = wal[offset + FRAME_HEADER : offset + FRAME_HEADER + page_size]
        start = (page_number - 1) * page_size
        if len(image) < start + page_size:
            image.extend(b"\0" * (start + page_size - len(image)))
        image[start : start + page_size] = data
        if commit_size:
            snapshots.append(bytes(image[: commit_size * page_size]))
        offset += FRAME_HEADER + page_size
    return snapshots


def query_image(image: bytes, sql: str, params=()) -> list | None:
    """Rows from a database image, or None when the image is torn (stale frames mixed in)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "image.sqlite3"
        path.write_bytes(image)
        try:
            connection = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
            try:
                return connection.execute(sql, params).fetchall()
            finally:
                connection.close()
        except sqlite3.DatabaseError:
            return None


def links_from_wal(main: bytes, wal: bytes, round_id: int) -> dict[int, tuple]:
    """The reviewer's attack: a commit that adds exactly one marker and one readable ballot
    names whose ballot it is. Returns deputy id -> (receipt, choices JSON)."""
    links = {}
    before_markers, before_ballots = set(), set()
    for image in wal_snapshots(main, wal):
        markers = query_image(image, "SELECT deputy_id FROM ballot_markers WHERE round_id = ?", (round_id,))
        ballots = query_image(image, "SELECT receipt, choices FROM ballots WHERE round_id = ?", (round_id,))
        if markers is None or ballots is None:
            continue
        markers, ballots = {m for (m,) in markers}, set(ballots)
        new_markers, new_ballots = markers - before_markers, ballots - before_ballots
        if len(new_markers) == 1 and len(new_ballots) == 1:
            links[next(iter(new_markers))] = next(iter(new_ballots))
        before_markers, before_ballots = markers, ballots
    return links


# ---- the b-tree pages of one table ---------------------------------------------------


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value = 0
    for index in range(9):
        byte = data[offset + index]
        if index == 8:
            return (value << 8) | byte, offset + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, offset + index + 1
    raise AssertionError("unreachable")


def _record(payload: bytes) -> list:
    header_size, position = _varint(payload, 0)
    types = []
    while position < header_size:
        serial, position = _varint(payload, position)
        types.append(serial)
    values, body = [], header_size
    sizes = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8, 7: 8, 8: 0, 9: 0}
    for serial in types:
        size = sizes[serial] if serial < 12 else (serial - 12) // 2
        chunk = payload[body : body + size]
        if serial in (8, 9):
            values.append(serial - 8)
        elif 1 <= serial <= 6:
            values.append(int.from_bytes(chunk, "big", signed=True))
        elif serial == 0:
            values.append(None)
        elif serial >= 13 and serial % 2:
            values.append(chunk.decode("utf-8", "replace"))
        else:
            values.append(bytes(chunk))
        body += size
    return values


@dataclass(frozen=True)
class Cell:
    page: int
    offset: int  # where its bytes lie in the page: SQLite fills a page from the end backwards
    values: list


def index_cells(image: bytes, root_page: int) -> list[Cell]:
    """Every cell of a WITHOUT ROWID table (an index b-tree), with its physical offset."""
    page_size = struct.unpack(">H", image[16:18])[0] or 65536
    cells, pending = [], [root_page]
    while pending:
        number = pending.pop()
        page = image[(number - 1) * page_size : number * page_size]
        header = 100 if number == 1 else 0
        kind, count = page[header], struct.unpack(">H", page[header + 3 : header + 5])[0]
        interior = kind == 0x02
        pointers = header + (12 if interior else 8)
        if interior:
            pending.append(struct.unpack(">I", page[header + 8 : header + 12])[0])
        for index in range(count):
            offset = struct.unpack(">H", page[pointers + 2 * index : pointers + 2 * index + 2])[0]
            position = offset
            if interior:
                pending.append(struct.unpack(">I", page[position : position + 4])[0])
                position += 4
            size, position = _varint(page, position)
            cells.append(Cell(number, offset, _record(page[position : position + size])))
    return cells


def physical_order(image: bytes, table: str) -> list[list]:
    """Each leaf page's rows in the order their bytes were written (highest offset first)."""
    root = query_image(image, "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
    cells = index_cells(image, root[0][0])
    pages: dict[int, list[Cell]] = {}
    for cell in cells:
        pages.setdefault(cell.page, []).append(cell)
    return [[cell.values for cell in sorted(group, key=lambda c: -c.offset)] for group in pages.values()]
