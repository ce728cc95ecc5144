"""The slides of a session's big-screen presentation, and moving through them.

Plain Python: the deck follows from the rounds' states, so the rule that a round in progress
shows only its turnout (never a partial result) lives here and is tested without an app.
"""

from dataclasses import dataclass

TITLE, PRESENCE, ROUND_LIVE, ROUND_RESULT, ROUND_CHART, PROJECTS, SATISFACTION = (
    "title", "presence", "live", "result", "chart", "projects", "satisfaction"
)
IN_PROGRESS_STATES = ("open", "closed")
COUNTED_STATES = ("confirmed", "announced")
VOTING, COUNTING, READY, ANNOUNCED = "voting", "counting", "ready", "announced"
STATUS_OF_STATE = {"open": VOTING, "closed": COUNTING, "confirmed": READY, "announced": ANNOUNCED}


@dataclass(frozen=True)
class RoundInfo:
    id: int
    state: str
    void_round: bool = False


@dataclass(frozen=True)
class Slide:
    kind: str
    round_id: int | None = None

    @property
    def key(self) -> str:
        return self.kind if self.round_id is None else f"round-{self.round_id}-{self.kind}"


def build_deck(rounds: list[RoundInfo]) -> list[Slide]:
    """Title and presence, then each round that has begun, then the year's projects and
    their satisfaction. A round being cast or counted shows its turnout only; once the
    scrutineers confirm the count, its announcement and chart follow (no chart for a void
    round). A round still in preparation is not shown."""
    deck = [Slide(TITLE), Slide(PRESENCE)]
    for info in rounds:
        if info.state in IN_PROGRESS_STATES or info.state == "confirmed":
            deck.append(Slide(ROUND_LIVE, info.id))
        if info.state in COUNTED_STATES:
            deck.append(Slide(ROUND_RESULT, info.id))
            if not info.void_round:
                deck.append(Slide(ROUND_CHART, info.id))
    deck += [Slide(PROJECTS), Slide(SATISFACTION)]
    return deck


def round_status(state: str) -> str | None:
    """What the screen says of a round, from its real state: ballots being cast, the count
    awaiting the scrutineers (closed), the count confirmed and ready to be announced, or
    announced. A round in preparation has nothing to say on the screen (None)."""
    return STATUS_OF_STATE.get(state)


def resolve(deck: list[Slide], key: str | None) -> Slide:
    """The slide for a stored key; when its slide left the deck (a round moved on), the
    nearest slide of the same round, else the first slide."""
    by_key = {slide.key: slide for slide in deck}
    if key in by_key:
        return by_key[key]
    if key and key.startswith("round-"):
        round_prefix = key.rsplit("-", 1)[0] + "-"
        same_round = [slide for slide in deck if slide.key.startswith(round_prefix)]
        if same_round:
            return same_round[0]
    return deck[0]


def step(deck: list[Slide], key: str | None, offset: int) -> Slide:
    """The slide `offset` places from the current one, held at the ends of the deck."""
    current = deck.index(resolve(deck, key))
    return deck[max(0, min(len(deck) - 1, current + offset))]
