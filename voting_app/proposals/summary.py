"""The public account of a year's collection (征集): how many proposals came in, and what became
of them, broken down by any dimension (channel, station, and later grid). Plain Python over plain
tuples, no Flask and no database, so the arithmetic is tested on its own.

The rule in words: every proposal received is counted once, under exactly one status (being
screened, accepted, merged, declined, in the reserve), so the statuses add up to the received.
"Elected" counts the accepted proposals whose candidate the deputies elected in an announced vote,
so it is part of "accepted", not a status of its own. A declined proposal counts under every reason
it was given (so the reason columns may add up to more than the declined), or under "unclassified"
when it was declined before reasons were listed. A breakdown's rows add up to the totals, because
every proposal has one value for each dimension (None when it has none, e.g. no station)."""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

UNCLASSIFIED = None  # the reason key of a proposal declined without a listed reason


@dataclass(frozen=True)
class Fact:
    """One proposal as the summary sees it: no title, no text, no contact, nothing about a person."""

    status: str
    reasons: tuple[int, ...] = ()  # the decline reasons' ids; () when declined before the list
    is_elected: bool = False
    keys: Mapping[str, Hashable] = field(default_factory=dict)  # dimension -> value, e.g. {"channel": "online"}


@dataclass(frozen=True)
class Tally:
    received: int
    by_status: Mapping[str, int]
    elected: int
    by_reason: Mapping[int | None, int]  # reason id (None: unclassified) -> declined proposals giving it

    def status(self, key: str) -> int:
        return self.by_status.get(key, 0)

    def reason(self, key: int | None) -> int:
        return self.by_reason.get(key, 0)


def tally(facts: Iterable[Fact], declined: str = "declined") -> Tally:
    received, elected = 0, 0
    by_status: dict[str, int] = {}
    by_reason: dict[int | None, int] = {}
    for fact in facts:
        received += 1
        by_status[fact.status] = by_status.get(fact.status, 0) + 1
        elected += fact.is_elected
        if fact.status == declined:
            for reason in fact.reasons or (UNCLASSIFIED,):
                by_reason[reason] = by_reason.get(reason, 0) + 1
    return Tally(received, by_status, elected, by_reason)


@dataclass(frozen=True)
class Breakdown:
    dimension: str
    rows: tuple[tuple[Hashable, Tally], ...]  # (the dimension's value, its tally), in the order asked
    total: Tally


def breakdown(facts: Iterable[Fact], dimension: str, order: Iterable[Hashable] = ()) -> Breakdown:
    """Tallies per value of one dimension: the values in `order` first (zeros included, so every
    channel or station shows), then any other value met, None (no value) last."""
    facts = list(facts)
    grouped: dict[Hashable, list[Fact]] = {key: [] for key in order}
    for fact in facts:
        grouped.setdefault(fact.keys.get(dimension), []).append(fact)
    keys = [key for key in grouped if key is not None] + ([None] if grouped.get(None) else [])
    return Breakdown(dimension, tuple((key, tally(grouped[key])) for key in keys), tally(facts))
