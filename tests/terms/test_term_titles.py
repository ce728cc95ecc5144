"""A term is named the same way wherever it is shown (registry/terms.term_label): the registry,
the deputy groups, the project form's group choices and the duty records all read one rule,
also for a congress whose name does not end in 人民代表大会."""

import html

from tests.helpers import signed_in


def test_every_page_names_a_term_as_the_registry_does(app):
    from voting_app.db import db
    from voting_app.registry import groups
    from voting_app.registry import service as registry

    with app.app_context():
        town = registry.create_congress("test", "太平店镇人大", "town")
        second = registry.create_term("test", town, 2)
        other = registry.create_term("test", registry.create_congress("test", "樊城区人民代表大会"), 19)
        groups.create_group("test", second, "太平店片代表小组")
        groups.create_group("test", other, "米公街道代表小组")
        db.session.commit()
        second_id = second.id
    staff = signed_in(app, "staff")
    for url in (f"/terms/{second_id}", f"/groups/?term={second_id}", "/duty/", f"/duty/terms/{second_id}", "/projects/new"):
        page = html.unescape(staff.get(url).get_data(as_text=True))
        assert "太平店镇人大第二届" in page, url
        assert "太平店镇人大 第二届" not in page, url
    assert "樊城区第十九届人民代表大会" in html.unescape(staff.get("/duty/").get_data(as_text=True))
