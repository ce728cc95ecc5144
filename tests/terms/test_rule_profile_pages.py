"""The staff's 票决办法 pages of a congress: the rules in plain words, the edit form with its
errors beside each setting, the versions, export, and import with a preview of what changes;
and the round page that shows the rules the round was created with."""

import html
import io
import json
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import build_world, make_user, post, sign_in
from tests.helpers import url
from voting_app import audit
from voting_app.ballots import profile_rules as rules
from voting_app.ballots import profiles
from voting_app.ballots.models import Round, RuleProfileVersion
from voting_app.ballots.profile_rules import DEFAULT_PROFILE, RuleProfile, Share
from voting_app.db import db
from voting_app.registry.models import Congress
from voting_app.sessions.models import CongressSession

GOOD_FORM = {
    "quorum_rule": "more_than", "quorum_fraction": "1/2", "pass_base": "roster", "pass_rule": "at_least",
    "pass_fraction": "2/3", "extra_candidates": "1", "extra_percent": "20", "tie": "runoff", "shortfall": "none",
    "methods": ["choose_up_to", "rank"], "grading": "tiers", "satisfaction_bar": "", "requires_adoption": "y",
    "note": "主任会议通过",
}
EDITED = RuleProfile(pass_rule=Share("at_least", 2, 3), shortfall="none", methods=("choose_up_to", "rank"), grading="tiers",
                     satisfaction_bar=None)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def setting(app, client):
    """A staff client and a world whose congress has no profile yet."""
    with app.app_context():
        world = build_world()
        congress_id = db.session.get(CongressSession, world.session_id).term.congress_id
        staff = make_user("staff")
        db.session.commit()
        sign_in(client, staff)
    return world, congress_id


def stored(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(RuleProfileVersion)),
            db.session.scalar(select(func.count()).select_from(audit.AuditEntry).where(audit.AuditEntry.action.like("rule_profile.%"))),
        )


def test_the_rules_page_shows_the_defaults_in_plain_words(app, client, setting):
    _, congress_id = setting
    listing = text_of(client.get(url(app, "terms.term_list")))
    assert url(app, "terms.rule_profile", congress_id=congress_id) in listing
    page = text_of(client.get(url(app, "terms.rule_profile", congress_id=congress_id)))
    assert "No profile saved yet: rounds follow the defaults shown here." in page
    for words in ("More than 1/2 of the roster present", "The whole roster (全体代表)", "More than 1/2 of the base",
                  "At least 1 more candidates than places, and at least 20% more",
                  "A further vote among exactly the tied candidates",
                  "A project rated under 60% goes to rectification (整改)",
                  "The 票决办法 must be adopted before a round opens", "No version saved yet."):
        assert words in page, words


def test_the_rules_read_in_chinese(app, client, setting):
    _, congress_id = setting
    with app.app_context():
        profiles.save_profile("test", db.session.get(Congress, congress_id), RuleProfile(quorum=Share("at_least", 2, 3)))
        db.session.commit()
    client.set_cookie("lang", "zh_CN")
    page = text_of(client.get(url(app, "terms.rule_profile", congress_id=congress_id)))
    assert "不少于应到代表的三分之二" in page and "超过基数的二分之一" in page and "法定人数" in page


def test_a_wrong_form_stores_nothing_and_says_what_is_wrong_beside_each_setting(app, client, setting):
    _, congress_id = setting
    edit = url(app, "terms.rule_profile_edit", congress_id=congress_id)
    form = text_of(client.get(edit))
    assert 'value="1/2"' in form and 'value="20"' in form
    bad = dict(GOOD_FORM, quorum_fraction="3/2", pass_rule="more_than", pass_fraction="1/1", extra_percent="二十",
               methods=[], grading="bar", satisfaction_bar="101")
    response = post(client, edit, bad)
    page = text_of(response)
    assert response.status_code == 400 and "Nothing was saved: correct the settings marked." in page
    assert "Write a fraction such as 1/2 or 2/3" in page
    assert "“More than” all of them can never be reached" in page
    assert "This must be a whole number." in page
    assert "Allow at least one ballot method." in page
    assert "A whole percentage from 0 to 100." in page
    # Each message sits in the field it belongs to.
    assert re.search(r'id="quorum_fraction".*?Write a fraction', page, re.S)
    assert stored(app) == (0, 0)


def test_a_saved_edit_is_a_new_version_with_its_history(app, client, setting):
    _, congress_id = setting
    edit = url(app, "terms.rule_profile_edit", congress_id=congress_id)
    response = post(client, edit, GOOD_FORM)
    assert response.status_code == 302
    assert stored(app) == (1, 1)
    with app.app_context():
        saved = db.session.scalar(select(RuleProfileVersion))
        assert saved.profile == EDITED and saved.note == "主任会议通过" and saved.created_by.startswith("user:")
    page = text_of(client.get(url(app, "terms.rule_profile", congress_id=congress_id)))
    assert "At least 2/3 of the base" in page and "No further round: the places stay unfilled" in page
    assert "Three grades on the base" in page and "主任会议通过" in page and "Version 1, saved" in page
    again = post(client, edit, GOOD_FORM)
    assert again.status_code == 400 and "This is the profile already in force: nothing to save." in text_of(again)
    assert stored(app) == (1, 1)


def test_export_gives_the_file_an_import_takes_back(app, client, setting):
    _, congress_id = setting
    default = client.get(url(app, "terms.rule_profile_export", congress_id=congress_id))
    assert default.mimetype == "application/json" and "attachment" in default.headers["Content-Disposition"]
    assert rules.from_json(default.data) == (DEFAULT_PROFILE, [])
    post(client, url(app, "terms.rule_profile_edit", congress_id=congress_id), GOOD_FORM)
    assert rules.from_json(client.get(url(app, "terms.rule_profile_export", congress_id=congress_id)).data) == (EDITED, [])
    first = client.get(url(app, "terms.rule_profile_export", congress_id=congress_id, version=1))
    assert "v1.json" in first.headers["Content-Disposition"] and rules.from_json(first.data) == (EDITED, [])
    assert client.get(url(app, "terms.rule_profile_export", congress_id=congress_id, version=9)).status_code == 404


def upload(client, target, content: bytes):
    return post(client, target, {"file": (io.BytesIO(content), "profile.json")}, content_type="multipart/form-data")


def test_a_bad_file_is_refused_with_every_problem_and_nothing_stored(app, client, setting):
    _, congress_id = setting
    target = url(app, "terms.rule_profile_import", congress_id=congress_id)
    assert client.get(target).status_code == 200
    document = rules.to_document(DEFAULT_PROFILE) | {"quorum": {"rule": "more_than", "fraction": 0.5}, "colour": "red"}
    document["margin"]["extra_percent"] = "20%"
    response = upload(client, target, json.dumps(document).encode())
    page = text_of(response)
    assert response.status_code == 400 and "Nothing was imported: 3 problem(s) found." in page
    assert "colour" in page and "This is not a setting of a rule profile." in page
    assert "Quorum: fraction of the roster" in page and "This must be text in quotes." in page
    assert "Minimum 差额: percent more than places" in page and "This must be a whole number." in page
    not_json = upload(client, target, b"quorum: more than half\n")
    assert not_json.status_code == 400 and "cannot be read as a rule profile" in text_of(not_json)
    assert stored(app) == (0, 0)


def test_an_import_shows_what_changes_then_stores_exactly_that(app, client, setting):
    world, congress_id = setting
    target = url(app, "terms.rule_profile_import", congress_id=congress_id)
    preview = upload(client, target, rules.to_json(EDITED).encode("utf-8"))
    page = text_of(preview)
    assert preview.status_code == 200 and stored(app) == (0, 0), "a preview stores nothing"
    changes = page[page.index('id="import-changes"'):page.index("</table>", page.index('id="import-changes"'))]
    assert "Votes to pass" in changes and "More than 1/2 of the base" in changes and "At least 2/3 of the base" in changes
    assert "Base for passing" not in changes, "an unchanged setting is not listed as a change"
    sealed = re.search(r'name="profile" type="hidden" value="([^"]+)"', page)[1]
    tampered = post(client, target, {"profile": sealed[:-2] + "xx", "note": "改"}, follow_redirects=True)
    assert "This preview is out of date" in text_of(tampered) and stored(app) == (0, 0)
    response = post(client, target, {"profile": sealed, "note": "按省里的办法"})
    assert response.status_code == 302 and stored(app) == (1, 1)
    with app.app_context():
        saved = db.session.scalar(select(RuleProfileVersion))
        assert saved.profile == EDITED and saved.note == "按省里的办法"
        entry = db.session.scalar(select(audit.AuditEntry).where(audit.AuditEntry.action == "rule_profile.import"))
        assert entry.details["version"] == 1
    # The same preview once more: the profile has changed since it was made.
    stale = post(client, target, {"profile": sealed, "note": ""}, follow_redirects=True)
    assert "This preview is out of date" in text_of(stale) and stored(app) == (1, 1)
    same = text_of(upload(client, target, rules.to_json(EDITED).encode("utf-8")))
    assert "The file holds the rules already in force." in same and 'name="profile"' not in same


def test_the_round_page_shows_the_rules_it_was_created_with(app, client, setting):
    world, congress_id = setting
    post(client, url(app, "terms.rule_profile_edit", congress_id=congress_id), dict(GOOD_FORM, methods=["for_against", "satisfaction"]))
    new_round = url(app, "ballots.round_new", session_id=world.session_id)
    form = text_of(client.get(new_round))
    assert 'value="for_against"' in form and 'value="choose_up_to"' not in form, "only the methods the 票决办法 allows"
    created = post(client, new_round, {"title": "逐项表决", "method": "for_against", "seats": "2", "threshold_base": "roster",
                                       "mode": "paper", "satisfaction_bar": "60"})
    assert created.status_code == 302
    with app.app_context():
        round_id = db.session.scalar(select(Round.id).where(Round.title == "逐项表决"))
    page = text_of(client.get(url(app, "ballots.round_detail", round_id=round_id)))
    assert "Copied from version 1 of the 票决办法" in page and "At least 2/3 of the base" in page
    post(client, url(app, "terms.rule_profile_edit", congress_id=congress_id), dict(GOOD_FORM, pass_rule="more_than", pass_fraction="1/2"))
    page = text_of(client.get(url(app, "ballots.round_detail", round_id=round_id)))
    assert "At least 2/3 of the base" in page, "a later edit never reaches a round that exists"
    old = text_of(client.get(url(app, "ballots.round_detail", round_id=world.round_id)))
    assert "The default rules: the congress had no 票决办法 saved" in old
