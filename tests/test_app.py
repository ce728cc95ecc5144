"""Application setup: configuration that changes how requests are read."""


def test_behind_a_proxy_the_residents_address_is_the_forwarded_one(db_url):
    from flask import request

    from voting_app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": db_url, "PROXY_COUNT": 1})
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr))
    app.test_client().get("/login", headers={"X-Forwarded-For": "198.51.100.7"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert seen == ["198.51.100.7"]
