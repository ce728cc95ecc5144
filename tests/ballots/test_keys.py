"""The session key: ceremony, share checks, opening a round's ballots, and what is refused."""

import itertools

import pytest
from sqlalchemy import func, select

from tests.ballots.helpers import as_deputy, as_role, cast, close_round, open_round, unseal_round
from tests.conftest import build_world, post
from voting_app.ballots import keys, sealing, service
from voting_app.ballots.counting import MARKS, RATINGS
from voting_app.ballots.models import Ballot, BallotKey, Round, SealedBallot
from voting_app.db import db
from voting_app.errors import DomainError


# ---- the pure rules ------------------------------------------------------------------


def test_any_two_of_three_shares_rebuild_the_key_and_one_never_does():
    ceremony = sealing.hold_ceremony(2, 3)
    shares = [sealing.describe_share(share) for share in ceremony.shares]
    for pair in itertools.permutations(shares, 2):
        key = sealing.rebuild_key(list(pair), ceremony.public_key)
        assert sealing.open_test_ballot(key, ceremony.test_ballot) == ceremony.test_phrase
    for share in shares:
        with pytest.raises(sealing.ShareError) as refused:
            sealing.rebuild_key([share], ceremony.public_key)
        assert refused.value.details == {"given": 1, "needed": 2}


def test_shares_of_another_ceremony_are_named_as_such():
    first, second = sealing.hold_ceremony(2, 3), sealing.hold_ceremony(2, 3)
    mixed = [sealing.describe_share(first.shares[0]), sealing.describe_share(second.shares[1])]
    with pytest.raises(sealing.ShareError) as refused:
        sealing.rebuild_key(mixed, first.public_key)
    assert refused.value.reason == sealing.OTHER_SET
    with pytest.raises(sealing.ShareError) as wrong:
        sealing.rebuild_key([sealing.describe_share(s) for s in second.shares[:2]], first.public_key)
    assert wrong.value.reason == sealing.WRONG_KEY


def test_typed_shares_may_use_any_case_numbering_and_four_letter_starts():
    share = sealing.hold_ceremony(2, 3).shares[1]
    typed = "\n".join(f"{n}. {word[:4].upper()}," for n, word in enumerate(share.split(), start=1))
    assert sealing.describe_share(typed).mnemonic == share
    words = share.split()
    with pytest.raises(sealing.ShareError) as typo:
        sealing.describe_share(" ".join([*words[:5], "zzzz", *words[6:]]))
    assert typo.value.details == {"position": 6, "word": "zzzz"}
    swapped = [*words[:3], words[4], words[3], *words[5:]]
    with pytest.raises(sealing.ShareError) as checksum:
        sealing.describe_share(" ".join(swapped))
    assert checksum.value.reason == sealing.BAD_SHARE


def test_every_sealed_ballot_of_a_round_has_the_same_length_whatever_it_holds():
    ceremony = sealing.hold_ceremony(2, 3)
    candidates = (7, 8, 9, 10, 1234)
    block = sealing.ballot_block(3, candidates, (*MARKS, *RATINGS), service.RECEIPT_LENGTH)
    ballots = [[], [7], [7, 8, 9, 10, 1234]] + [
        {str(c): mark for c in candidates[:n]} for n in range(len(candidates) + 1) for mark in (*MARKS, *RATINGS)
    ]
    lengths = {len(sealing.seal(ceremony.public_key, 3, service.new_receipt(), ballot, block)) for ballot in ballots}
    assert len(lengths) == 1
    key = sealing.rebuild_key([sealing.describe_share(s) for s in ceremony.shares[1:]], ceremony.public_key)
    receipt = service.new_receipt()
    assert sealing.unseal(key, sealing.seal(ceremony.public_key, 3, receipt, [7, 9], block), 3, block) == (receipt, [7, 9])
    with pytest.raises(ValueError):
        sealing.unseal(key, sealing.seal(ceremony.public_key, 4, receipt, [7, 9], block), 3, block)


def test_threshold_rules_follow_slip39():
    for threshold, count in ((0, 3), (4, 3), (1, 3), (2, 17)):
        with pytest.raises(ValueError):
            sealing.check_threshold(threshold, count)
    sealing.check_threshold(1, 1)
    sealing.check_threshold(5, 9)


# ---- the ceremony and the desk -------------------------------------------------------


def test_an_electronic_round_does_not_open_without_a_key_but_a_paper_round_does(app):
    with app.app_context():
        world = build_world(with_key=False)
        paper = build_world(with_key=False, mode="paper")
    page = post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/open", follow_redirects=True)
    assert "Hold the key ceremony" in page.get_data(as_text=True)
    open_round(app, paper)
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "draft"
        assert db.session.get(Round, paper.round_id).seal_key is None


def test_the_ceremony_page_prints_the_shares_once_and_keeps_none(app):
    with app.app_context():
        world = build_world(with_key=False)
    staff = as_role(app, world, "staff")
    form = {"threshold": "2", "share_count": "3", "holders": "陈静\n刘洋\n赵磊", "sheet": "sheet-1"}
    printed = post(staff, f"/ballots/sessions/{world.session_id}/key", form)
    assert printed.status_code == 200 and printed.headers["Cache-Control"] == "no-store"
    page = printed.get_data(as_text=True)
    shares = [" ".join(words) for words in _words_of(page)]
    assert len(shares) == 3
    again = post(staff, f"/ballots/sessions/{world.session_id}/key", form)  # a reload posts the same sheet
    assert again.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BallotKey)) == 1
        key = keys.active_key(world.session_id)
        stored = " ".join(str(value) for value in (key.holders, key.share_digests, key.share_checked_at, key.created_by))
        from voting_app.audit import AuditEntry

        logged = " ".join(str(entry.details) for entry in db.session.scalars(select(AuditEntry)))
    for share in shares:
        assert " ".join(share.split()[3:7]) not in stored + logged, "a share kept in the database"
    assert post(as_role(app, world, "presiding"), f"/ballots/sessions/{world.session_id}/key", form).status_code == 403


def _words_of(page: str) -> list[list[str]]:
    import re

    return [re.findall(r"<li>([a-z]+)</li>", block) for block in re.findall(r'<ol class="share-words".*?</ol>', page, re.S)]


def test_a_new_key_is_refused_while_a_round_holds_sealed_ballots(app, world):
    open_round(app, world)
    cast(as_deputy(app, world), world.round_id, choices=world.candidate_ids[:1])
    with app.app_context():
        congress = db.session.get(Round, world.round_id).session
        with pytest.raises(DomainError, match="仍有以现行密钥密封"):
            keys.hold_ceremony("test", congress, 2, 3, [])
    close_round(app, world)
    with app.app_context():
        with pytest.raises(DomainError):
            keys.hold_ceremony("test", db.session.get(Round, world.round_id).session, 2, 3, [])
    unseal_round(app, world)
    with app.app_context():
        keys.hold_ceremony("test", db.session.get(Round, world.round_id).session, 3, 5, [])
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(BallotKey).where(BallotKey.retired_at.is_(None))) == 1


def test_one_share_checked_alone_and_a_rehearsal_open_nothing_but_the_test_ballot(app, world):
    scrutineer = as_role(app, world, "scrutineer")
    alone = post(scrutineer, f"/ballots/sessions/{world.session_id}/key/check", {"share": [world.shares[2]]})
    assert alone.status_code == 200 and "Good share(s): 3." in alone.get_data(as_text=True)
    with app.app_context():
        key = keys.active_key(world.session_id)
        assert [at is not None for at in key.checked_times] == [False, False, True] and key.rehearsed_at is None
    rehearsal = post(scrutineer, f"/ballots/sessions/{world.session_id}/key/check", {"share": [world.shares[0], world.shares[1]]})
    assert "The test ballot opened" in rehearsal.get_data(as_text=True)
    with app.app_context():
        assert keys.active_key(world.session_id).rehearsed_at is not None
    with app.app_context():
        other = build_world()
    foreign = post(scrutineer, f"/ballots/sessions/{world.session_id}/key/check", {"share": [other.shares[0]]})
    assert foreign.status_code == 400 and "belongs to another key" in foreign.get_data(as_text=True)


# ---- tampering with the box ----------------------------------------------------------


def _voted_and_closed(app, world):
    open_round(app, world)
    for index in range(3):
        assert cast(as_deputy(app, world, index), world.round_id, choices=world.candidate_ids[:1]).status_code == 302
    close_round(app, world)


def test_a_ballot_stuffed_into_the_box_stops_the_count(app, world):
    """Anyone can seal a ballot with the public key; the count refuses a box that holds more
    sealed ballots than deputies who voted."""
    _voted_and_closed(app, world)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        forged = sealing.seal(round_.seal_key, round_.id, service.new_receipt(), world.candidate_ids[1:2], service.seal_block(round_))
        db.session.add(SealedBallot(round_id=round_.id, id=b"forged-ballot-id", sealed=forged))
        db.session.commit()
    refused = post(as_role(app, world, "scrutineer"), f"/ballots/rounds/{world.round_id}/unseal", {"share": list(world.shares[:2])})
    assert refused.status_code == 409 and "tampered" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
        assert db.session.get(Round, world.round_id).is_sealed


def test_an_altered_sealed_ballot_stops_the_count(app, world):
    """Changed after close: the box no longer matches the digest the keyed audit log recorded."""
    _voted_and_closed(app, world)
    with app.app_context():
        victim = db.session.scalars(select(SealedBallot).where(SealedBallot.round_id == world.round_id)).first()
        victim.sealed = bytes(victim.sealed[:-1]) + bytes([victim.sealed[-1] ^ 1])
        db.session.commit()
    refused = post(as_role(app, world, "scrutineer"), f"/ballots/rounds/{world.round_id}/unseal", {"share": list(world.shares[1:])})
    assert refused.status_code == 409 and "differ from those in the box at close" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


def test_a_ballot_altered_while_the_round_is_voted_does_not_open(app, world):
    open_round(app, world)
    assert cast(as_deputy(app, world, 0), world.round_id, choices=world.candidate_ids[:1]).status_code == 302
    with app.app_context():
        victim = db.session.scalars(select(SealedBallot).where(SealedBallot.round_id == world.round_id)).one()
        victim.sealed = bytes(victim.sealed[:40]) + bytes([victim.sealed[40] ^ 1]) + bytes(victim.sealed[41:])
        db.session.commit()
    close_round(app, world)
    refused = post(as_role(app, world, "scrutineer"), f"/ballots/rounds/{world.round_id}/unseal", {"share": list(world.shares[:2])})
    assert refused.status_code == 409 and "does not open" in refused.get_data(as_text=True)
