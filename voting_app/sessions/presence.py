"""Roster, presence and quorum: pure rules."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Presence:
    roster: int
    present: int

    @property
    def quorum(self) -> int:
        """The fewest deputies present that make more than half of the roster."""
        return self.roster // 2 + 1

    @property
    def has_quorum(self) -> bool:
        return self.roster > 0 and self.present * 2 > self.roster

    @property
    def absent(self) -> int:
        return self.roster - self.present
