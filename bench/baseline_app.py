"""The baseline every figure is a ratio to: a bare Flask endpoint that inserts one row into
the same database, through the same engine settings (WAL, busy timeout, BEGIN IMMEDIATE on
SQLite), served by the same gunicorn configuration."""

import os

from flask import Flask
from sqlalchemy import text

from voting_app.db import db

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db.init_app(app)


@app.post("/hit")
def hit():
    db.session.execute(text("INSERT INTO bench_hits (note) VALUES ('hit')"))
    db.session.commit()
    return "", 204
