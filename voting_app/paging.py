"""The paging rule every long list follows (proposals, projects): pages of PER_PAGE rows, a page
number out of range shows the nearest page, and the page links show the first, the last and the
pages around the current one. Pure: no Flask, no SQL; the caller counts and slices."""

from dataclasses import dataclass

PER_PAGE = 20
AROUND = 2  # page links shown on each side of the current page


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, always within 1..pages
    pages: int  # at least 1, also for an empty list
    total: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def links(self) -> list[int | None]:
        """Page numbers to link, None where a run of pages is left out: 1 None 4 5 6 7 8 None 20."""
        shown = {1, self.pages} | set(range(max(1, self.number - AROUND), min(self.pages, self.number + AROUND) + 1))
        links: list[int | None] = []
        for number in sorted(shown):
            if links and number - links[-1] > 1:
                links.append(None)
            links.append(number)
        return links


def page_of(total: int, requested: int | None, per_page: int = PER_PAGE) -> Page:
    """The page to show of `total` rows; a missing, zero or too large page number shows the nearest page."""
    pages = max(1, -(-total // per_page))
    number = min(max(requested or 1, 1), pages)
    return Page(number=number, pages=pages, total=total, per_page=per_page)


def search_words(typed: str | None, limit: int = 100) -> list[str]:
    """What was typed in a search box, split at any kind of space (a full-width one too): every word must match."""
    return (typed or "")[:limit].split()
