"""The public project pages stay light on a phone: photos as thumbnails linking to the photo,
the timeline chart (plotly.js) only on request, and a projects list that searches and pages."""

import io

from PIL import Image
from sqlalchemy import select

from tests.ballots.helpers import as_role
from tests.conftest import post
from tests.images import jpeg_bytes
from tests.projects.test_delivery import TODAY, new_project, officer_client, photo_upload
from voting_app.db import db
from voting_app.images import THUMBNAIL_SIDE
from voting_app.projects.models import Photo, Project


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_an_uploaded_photo_gets_a_clean_thumbnail_that_the_page_shows_linking_to_the_photo(app, world):
    project_id = new_project(app)
    officer = officer_client(app, "区交通运输局")
    form = {"body": "桥面铺装完成", "progress_percent": "50", "photos": [photo_upload(jpeg_bytes(size=(3000, 2000), gps=True))]}
    assert post(officer, f"/projects/{project_id}/notes/new", form, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        token = db.session.scalars(select(Photo.token)).one()
    page = app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    assert f'<a href="/projects/photos/{token}"><img src="/projects/photos/{token}/thumbnail"' in page
    full = app.test_client().get(f"/projects/photos/{token}")
    small = app.test_client().get(f"/projects/photos/{token}/thumbnail")
    assert small.status_code == 200 and small.headers["Content-Type"] == "image/jpeg"
    assert "immutable" in small.headers["Cache-Control"]
    thumbnail = _decoded(small.data)
    assert max(thumbnail.size) == THUMBNAIL_SIDE and abs(thumbnail.size[1] - THUMBNAIL_SIDE * 2 / 3) < 1
    assert len(thumbnail.getexif()) == 0 and b"Phone X" not in small.data and not thumbnail.info.get("icc_profile")
    assert len(small.data) * 5 < len(full.data)


def test_a_proposal_photo_thumbnail_is_for_staff_only(app, world):
    from tests.proposals.test_proposals import a_station, propose

    code = a_station(app)
    propose(app.test_client(), code, photo=(io.BytesIO(jpeg_bytes()), "road.jpg"))
    with app.app_context():
        token = db.session.scalars(select(Photo.token)).one()
    assert app.test_client().get(f"/projects/photos/{token}/thumbnail").status_code == 404
    seen = as_role(app, world, "staff").get(f"/projects/photos/{token}/thumbnail")
    assert seen.status_code == 200 and "no-store" in seen.headers["Cache-Control"]


def test_the_project_page_loads_the_chart_only_on_request(app, world):
    project_id = new_project(app)
    staff = as_role(app, world, "staff")
    post(staff, f"/projects/{project_id}/schedule", {"approved-planned_start": "2026-01-10", "approved-planned_end": "2026-03-01"})
    first = app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    assert "plotly" not in first and "charts.js" not in first
    assert f"/projects/{project_id}?chart=timeline#timeline" in first and "2026-03-01" in first  # the dates table
    chart = app.test_client().get(f"/projects/{project_id}?chart=timeline").get_data(as_text=True)
    assert "plotly-basic" in chart and 'class="plotly-figure"' in chart
    bare = new_project(app, name="没有日期的项目")
    assert "chart=timeline" not in app.test_client().get(f"/projects/{bare}").get_data(as_text=True)


def test_the_projects_list_searches_and_pages_keeping_the_filters(app, world):
    with app.app_context():
        from voting_app.projects.service import create_project

        for number in range(23):
            create_project("test", "staff", name=f"背街小巷改造{number:02d}", year=TODAY.year, department="区城市管理执法局",
                           location="屏襄门街道")
        create_project("test", "staff", name="城区易涝点整治", year=TODAY.year, department="区住房和城乡建设局", location="清河口")
        db.session.commit()
        housing = db.session.scalar(select(Project.department_id).where(Project.name == "城区易涝点整治"))
    client = app.test_client()
    first = client.get("/projects/").get_data(as_text=True)
    assert "24 in all" in first and "page 1 of 2" in first and 'aria-label="Pages"' in first
    assert first.count("背街小巷改造") == 20
    by_department = client.get("/projects/?q=住房").get_data(as_text=True)
    assert "1 in all" in by_department and "城区易涝点整治" in by_department and 'aria-label="Pages"' not in by_department
    assert "1 in all" in client.get(f"/projects/?department={housing}&q=清河口").get_data(as_text=True)
    second = client.get("/projects/?q=背街 屏襄门&stage=approved&page=2").get_data(as_text=True)
    assert "23 in all" in second and "page 2 of 2" in second and second.count("背街小巷改造") == 3
    assert "stage=approved" in second and "q=%E8%83%8C%E8%A1%97+%E5%B1%8F%E8%A5%84%E9%97%A8" in second
    assert 'rel="prev"' in second and 'aria-current="page"' in second
    assert "0 in all" in client.get("/projects/?q=%25").get_data(as_text=True)
