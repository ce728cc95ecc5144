"""Sample frames: the reproducible draw, and the grid a frame's code may carry. Pure.

The draw: the eligible households' ids, sorted ascending, then
`random.Random(seed).sample(ids, n)`. `random.Random` seeded with a str hashes it with SHA-512
(version 2 seeding) and `sample` uses only `_randbelow` over the Mersenne Twister, both unchanged
since Python 3.2 for this use, so the same seed over the same list draws the same households on
any machine. The seed itself comes from `secrets` (new_seed) and is recorded with the frame.

Default size 300: the Zhenhai practice (2013) the domain brief cites for resident evaluation,
300 randomly chosen, directly affected households per project (issue 14 item 5 takes it over).
"""

import random
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

DEFAULT_SIZE = 300
MAX_SIZE = 5000
# A code's grid is the household's grid only when the frame holds at least this many households
# there; otherwise its nearest ancestor that does, or none: a grid with 3 sampled households would
# tell, from a response's grid, which 3 addresses it can have come from.
MIN_HOUSEHOLDS_PER_CODE_GRID = 30


class FrameError(ValueError):
    """`str(error)` is too_large (more than the list holds), bad_size or empty_list."""


def new_seed() -> str:
    return secrets.token_hex(16)


def draw(household_ids: Iterable[int], size: int, seed: str) -> list[int]:
    """The households a frame of `size` draws with `seed`, sorted by id."""
    ids = sorted(household_ids)
    if not ids:
        raise FrameError("empty_list")
    if not 1 <= size <= MAX_SIZE:
        raise FrameError("bad_size")
    if size > len(ids):
        raise FrameError("too_large")
    return sorted(random.Random(seed).sample(ids, size))


def code_grids(household_grids: Sequence[int], parents: Mapping[int, int | None],
               minimum: int = MIN_HOUSEHOLDS_PER_CODE_GRID) -> list[int | None]:
    """For each drawn household's grid, the grid its code carries: the grid itself, or its
    nearest ancestor under which the frame holds at least `minimum` households, or None."""
    under: Counter[int] = Counter()
    for grid in household_grids:
        node: int | None = grid
        while node is not None:
            under[node] += 1
            node = parents.get(node)
    chosen = []
    for grid in household_grids:
        node = grid
        while node is not None and under[node] < minimum:
            node = parents.get(node)
        chosen.append(node)
    return chosen


def response_rate(used: int, size: int) -> int | None:
    """Codes used of the frame's size, in tenths of a percent; None for an empty frame."""
    return round(used * 1000 / size) if size else None
