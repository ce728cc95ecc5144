"""When residents may send proposals: each year's collection window (征集期). Plain Python,
so the rule is tested without an app; dates are Beijing's and both ends are included."""

from dataclasses import dataclass
from datetime import date

# The common practice in the districts that run the deputy vote (民生实事项目人大代表票决制) is a
# collection period of at least 30 days, usually in the third quarter, so that screening and the
# budget can follow before the congress meets early next year. A shorter window is allowed, with a warning.
RECOMMENDED_DAYS = 30


@dataclass(frozen=True)
class Window:
    year: int
    opens_on: date
    closes_on: date

    @property
    def days(self) -> int:
        return (self.closes_on - self.opens_on).days + 1


@dataclass(frozen=True)
class Collection:
    """Whether the form takes proposals today, the window it is in, and the next one if closed."""

    is_open: bool
    current: Window | None
    next: Window | None


def is_short(window: Window) -> bool:
    return window.days < RECOMMENDED_DAYS


def collection_on(windows: list[Window], today: date) -> Collection:
    """Open inside any window; with no window set at all, open as before windows existed."""
    if not windows:
        return Collection(True, None, None)
    for window in windows:
        if window.opens_on <= today <= window.closes_on:
            return Collection(True, window, None)
    later = sorted((w for w in windows if w.opens_on > today), key=lambda w: w.opens_on)
    return Collection(False, None, later[0] if later else None)
