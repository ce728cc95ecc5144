"""Application setup: configuration that changes how requests are read."""


def test_behind_a_proxy_the_residents_address_is_the_forwarded_one(db_url):
    from flask import request

    from voting_app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": db_url, "PROXY_COUNT": 1})
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr))
    app.test_client().get("/login", headers={"X-Forwarded-For": "198.51.100.7"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert seen == ["198.51.100.7"]


def test_with_the_database_away_pages_answer_503_with_a_plain_message():
    """No half-page and no crash: the error page itself needs no database, also for a
    signed-in deputy whose card would have to be loaded from it."""
    from voting_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none", "SECRET_KEY": "x"})
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "credential:1"
    for path in ("/ballots/", "/projects/", "/login", "/s/NOPE99"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "数据库繁忙或暂时无法访问" in response.get_data(as_text=True)
        assert response.headers["Retry-After"] == "5"
    assert client.get("/ballots/").headers["Cache-Control"] == "no-store"
