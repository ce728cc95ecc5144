"""Each worker keeps what casting needs of a round (`service.cast_rules`); a change to the
round or its candidates must reach the very next ballot, on every worker."""

from datetime import datetime

from sqlalchemy import select, text

from tests.ballots.helpers import as_deputy, as_role, cast, open_round, sealed_contents, ticket_from
from tests.conftest import post
from voting_app.ballots import service
from voting_app.ballots.models import Candidate, Round
from voting_app.db import db


def version(app, round_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(Round.state_version).where(Round.id == round_id))


def test_every_change_to_a_round_or_its_candidates_raises_its_state_version(app, world):
    seen = [version(app, world.round_id)]
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        added = service.add_candidate("test", round_, "新增的候选项目")
        db.session.commit()
        seen.append(version(app, world.round_id))
        db.session.get(Candidate, added.id).name = "改过名字的候选项目"
        db.session.commit()
        seen.append(version(app, world.round_id))
        service.remove_candidate("test", db.session.get(Round, world.round_id), db.session.get(Candidate, added.id))
        db.session.commit()
        seen.append(version(app, world.round_id))
        db.session.get(Round, world.round_id).title = "改过的标题"
        db.session.commit()
        seen.append(version(app, world.round_id))
        db.session.get(Round, world.round_id)  # loaded and left as it is: no change, no new version
        db.session.commit()
    seen.append(version(app, world.round_id))
    open_round(app, world)
    seen.append(version(app, world.round_id))
    assert all(later > earlier for earlier, later in zip(seen[:5], seen[1:5])), seen
    assert seen[5] == seen[4] and seen[6] > seen[5], seen


def test_a_round_restarted_with_other_candidates_takes_ballots_for_them_not_for_the_kept_ones(app, world):
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    stale_ticket = ticket_from(deputy, world.round_id)
    # A refused ballot makes this worker keep the round's rules as they were.
    assert cast(deputy, world.round_id, choices=[999999]).status_code == 400
    assert post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/cancel").status_code == 302
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        service.remove_candidate("test", round_, db.session.get(Candidate, world.candidate_ids[0]))
        late = service.add_candidate("test", round_, "补充的候选项目").id
        db.session.commit()
    open_round(app, world)

    assert cast(deputy, world.round_id, choices=[world.candidate_ids[0]]).status_code == 400, "a removed candidate is refused"
    refused = cast(deputy, world.round_id, choices=[world.candidate_ids[1]], ticket=stale_ticket)
    assert refused.status_code == 409 and "before the round was restarted" in refused.get_data(as_text=True)
    assert cast(deputy, world.round_id, choices=[late, world.candidate_ids[1]]).status_code == 302
    assert [sorted(choices) for _receipt, choices in sealed_contents(app, world)] == [sorted([late, world.candidate_ids[1]])]


def test_a_round_whose_opening_changed_behind_the_workers_back_refuses_the_old_pages_ballots(app, world):
    """As a restore from a backup would leave it: the same state version and seal key, another
    opening. The worker's copy matches the old ballot page; the cast's lock must not."""
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    assert cast(deputy, world.round_id, choices=[999999]).status_code == 400  # this worker now keeps the round's rules
    with app.app_context():
        db.session.execute(text("UPDATE rounds SET opened_at = :moment WHERE id = :id"),
                           {"moment": datetime(2026, 1, 1, 8, 0), "id": world.round_id})
        db.session.commit()
    refused = cast(deputy, world.round_id, choices=world.candidate_ids[:1], ticket=ticket)
    assert refused.status_code == 409 and "before the round was restarted" in refused.get_data(as_text=True)
    assert sealed_contents(app, world) == []
