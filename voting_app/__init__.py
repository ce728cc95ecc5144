"""The deputy-voting application.

`create_app` is imported lazily so that `python -m voting_app.verify` recounts a board
without Flask or SQLAlchemy installed.
"""


def create_app(test_config=None):
    from voting_app.app import create_app as _create_app

    return _create_app(test_config)
