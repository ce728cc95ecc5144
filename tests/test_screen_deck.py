"""The big-screen deck without an app: what is shown for each state of a round."""

from hypothesis import given
from hypothesis import strategies as st

from voting_app.screen.deck import ANNOUNCED, COUNTING, READY, VOTING, RoundInfo, Slide, build_deck, resolve, round_status, step


def keys(rounds) -> list[str]:
    return [slide.key for slide in build_deck(rounds)]


def test_a_round_in_progress_shows_turnout_only_and_counted_rounds_their_result():
    assert keys([RoundInfo(1, "draft")]) == ["title", "presence", "projects", "satisfaction"]
    assert keys([RoundInfo(1, "open")]) == ["title", "presence", "round-1-live", "projects", "satisfaction"]
    assert keys([RoundInfo(1, "closed")]) == ["title", "presence", "round-1-live", "projects", "satisfaction"]
    assert keys([RoundInfo(1, "confirmed")]) == [
        "title", "presence", "round-1-live", "round-1-result", "round-1-chart", "projects", "satisfaction"]
    assert keys([RoundInfo(1, "announced"), RoundInfo(2, "announced", void_round=True)]) == [
        "title", "presence", "round-1-result", "round-1-chart", "round-2-result", "projects", "satisfaction"]


def test_the_status_on_screen_follows_the_rounds_real_state():
    """Confirmed is not "being confirmed": the screen says the results are ready to announce."""
    assert [round_status(state) for state in ("open", "closed", "confirmed", "announced")] == [
        VOTING, COUNTING, READY, ANNOUNCED]
    assert round_status("draft") is None
    # A confirmed round keeps its turnout slide (now saying "ready"), an announced one drops it.
    assert "round-1-live" in keys([RoundInfo(1, "confirmed")])
    assert "round-1-live" not in keys([RoundInfo(1, "announced")])


def test_a_slide_that_left_the_deck_falls_back_to_its_round_then_to_the_start():
    deck = build_deck([RoundInfo(1, "announced")])
    assert resolve(deck, "round-1-live").key == "round-1-result"
    assert resolve(deck, "round-9-chart").key == "title"
    assert resolve(deck, None).key == "title"


def test_stepping_is_held_at_both_ends():
    deck = build_deck([RoundInfo(1, "open")])
    assert step(deck, "title", -1).key == "title"
    assert step(deck, "title", 1).key == "presence"
    assert step(deck, "satisfaction", 1).key == "satisfaction"
    assert step(deck, "round-1-live", 1).key == "projects"


STATES = st.sampled_from(["draft", "open", "closed", "confirmed", "announced"])


@given(st.lists(st.tuples(STATES, st.booleans()), max_size=6))
def test_no_result_slide_ever_exists_for_a_round_not_yet_confirmed(rounds):
    infos = [RoundInfo(index + 1, state, void) for index, (state, void) in enumerate(rounds)]
    deck = build_deck(infos)
    counted = {info.id for info in infos if info.state in ("confirmed", "announced")}
    assert {slide.round_id for slide in deck if slide.kind in ("result", "chart")} <= counted
    assert len({slide.key for slide in deck}) == len(deck)
    assert isinstance(deck[0], Slide) and deck[0].key == "title"
