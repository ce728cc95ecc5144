"""The projected check-in screen is a kiosk: the code, the figures and nothing of the staff
member whose browser shows it (no navigation, no name, no sign-out button)."""

from tests.ballots.helpers import as_role
from tests.helpers import url


def test_the_check_in_screen_shows_no_navigation_and_no_staff_name(app, world):
    with app.app_context():
        staff = world.user(world.presiding_id)
        label, username = staff.display_name, staff.username
    page = as_role(app, world, "presiding").get(url(app, "sessions.checkin_screen", session_id=world.session_id))
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'class="kiosk"' in body and 'http-equiv="refresh"' in body
    for absent in ("<nav", 'class="top"', "/logout", "Sign out", label, username, "Audit log"):
        assert absent not in body, absent
    for present in ("测试会议", 'data-key="code"', 'data-key="present"', 'data-key="quorum"', "<svg"):
        assert present in body, present
