"""Chinese by default, English by the switch; the switch never redirects off the site."""


def test_pages_are_chinese_by_default_and_english_by_the_switch(app):
    client = app.test_client()
    client.delete_cookie("lang")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "登录" in page
    switched = client.get("/language/en?next=/login")
    assert switched.status_code == 302 and switched.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page
    client.get("/language/zh_CN")
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_the_switch_refuses_to_redirect_elsewhere(app):
    client = app.test_client()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = client.get("/language/en", query_string={"next": target})
        assert response.headers["Location"] == "/", target

