"""Paper rounds: two scrutineers key the ballots independently; only agreement counts."""

from sqlalchemy import select

from tests.ballots.helpers import as_role, open_round
from tests.conftest import build_world, post
from voting_app.ballots import service
from voting_app.ballots.models import Ballot, Round
from voting_app.db import db


def key(client, round_id, choices=(), spoiled=False, copies=1):
    data = {"choice": [str(c) for c in choices], "copies": str(copies)}
    if spoiled:
        data["spoiled"] = "1"
    return post(client, f"/ballots/rounds/{round_id}/paper/add", data)


def submit(client, round_id, action="submit"):
    return post(client, f"/ballots/rounds/{round_id}/paper/submit", {"action": action}, follow_redirects=True)


def paper_world(app):
    with app.app_context():
        return build_world(mode="paper")


def test_two_agreeing_entries_become_the_count(app):
    world = paper_world(app)
    open_round(app, world)
    post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/close", {"issued": "9"})
    a, b, c, d = world.candidate_ids
    first, second = as_role(app, world, "scrutineer", 0), as_role(app, world, "scrutineer", 1)
    for client, order in ((first, "forward"), (second, "backward")):
        batch = [([a, b], 1), ([a, c], 1), ([a, b, c], 1), ((), 1), ([b], 1)]
        if order == "backward":
            batch.reverse()
        for choices, copies in batch:
            key(client, world.round_id, choices, copies=copies)
        key(client, world.round_id, spoiled=True, copies=2)
        key(client, world.round_id, [a, b], copies=2)
    assert "Waiting for the second scrutineer" in submit(first, world.round_id).get_data(as_text=True)
    assert "Both entries agree" in submit(second, world.round_id).get_data(as_text=True)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        result = service.count_round(round_)
    # 9 ballots: one over-full and two spoiled are void; the blank one is valid.
    assert (result.returned, result.valid, result.void) == (9, 6, 3)
    assert dict(result.votes) == {a: 4, b: 4, c: 1, d: 0}
    assert post(as_role(app, world, "scrutineer", 0), f"/ballots/rounds/{world.round_id}/confirm").status_code == 302
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "confirmed"


def test_disagreeing_entries_are_not_accepted_until_corrected(app):
    world = paper_world(app)
    open_round(app, world)
    post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/close", {"issued": "9"})
    a, b, _, _ = world.candidate_ids
    first, second = as_role(app, world, "scrutineer", 0), as_role(app, world, "scrutineer", 1)
    key(first, world.round_id, [a, b])
    key(second, world.round_id, [a])
    submit(first, world.round_id)
    page = submit(second, world.round_id).get_data(as_text=True)
    assert "The two entries disagree (1 and 1 ballots differ)" in page
    confirm = post(first, f"/ballots/rounds/{world.round_id}/confirm", follow_redirects=True).get_data(as_text=True)
    assert "have not been entered twice in agreement" in confirm
    with app.app_context():
        assert db.session.scalars(select(Ballot).where(Ballot.round_id == world.round_id)).all() == []
    submit(second, world.round_id, "withdraw")
    post(second, f"/ballots/rounds/{world.round_id}/paper/0/remove")
    key(second, world.round_id, [a, b])
    assert "Both entries agree" in submit(second, world.round_id).get_data(as_text=True)
    with app.app_context():
        assert [b_.choices for b_ in db.session.scalars(select(Ballot).where(Ballot.round_id == world.round_id))] == [[a, b]]


def test_more_paper_ballots_than_issued_void_the_round(app):
    world = paper_world(app)
    open_round(app, world)
    post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/close", {"issued": "2"})
    a = world.candidate_ids[0]
    for index in (0, 1):
        key(as_role(app, world, "scrutineer", index), world.round_id, [a], copies=3)
        submit(as_role(app, world, "scrutineer", index), world.round_id)
    with app.app_context():
        result = service.count_round(db.session.get(Round, world.round_id))
    assert result.void_round and result.returned == 3 and result.valid is None


def test_paper_entry_is_only_for_closed_paper_rounds(app, world):
    open_round(app, world)
    scrutineer = as_role(app, world, "scrutineer")
    assert scrutineer.get(f"/ballots/rounds/{world.round_id}/paper").status_code == 404
    page = key(scrutineer, world.round_id, [world.candidate_ids[0]])
    assert page.status_code == 302
    with app.app_context():
        from voting_app.ballots.models import PaperEntry

        assert db.session.scalars(select(PaperEntry)).all() == []


def test_an_item_left_unmarked_on_paper_is_keyed_as_the_abstention_it_counts_as(app):
    with app.app_context():
        world = build_world(mode="paper", method="for_against")
    open_round(app, world)
    post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/close", {"issued": "9"})
    a, b, c, d = world.candidate_ids
    first, second = as_role(app, world, "scrutineer", 0), as_role(app, world, "scrutineer", 1)
    # The same paper ballot: "for" on a, nothing else marked. One scrutineer leaves the rest blank,
    # the other clicks 弃权 on each.
    post(first, f"/ballots/rounds/{world.round_id}/paper/add", {"mark-%d" % a: "for", "copies": "1"})
    post(second, f"/ballots/rounds/{world.round_id}/paper/add",
         {"mark-%d" % a: "for", "mark-%d" % b: "abstain", "mark-%d" % c: "abstain", "mark-%d" % d: "abstain", "copies": "1"})
    submit(first, world.round_id)
    assert "Both entries agree" in submit(second, world.round_id).get_data(as_text=True)
    with app.app_context():
        result = service.count_round(db.session.get(Round, world.round_id))
        stored = db.session.scalars(select(Ballot.choices).where(Ballot.round_id == world.round_id)).one()
    assert (result.returned, result.valid) == (1, 1) and dict(result.votes) == {a: 1, b: 0, c: 0, d: 0}
    assert stored == {str(a): "for", str(b): "abstain", str(c): "abstain", str(d): "abstain"}
