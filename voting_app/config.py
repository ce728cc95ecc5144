"""Default settings. Secrets come from instance/ (config.py and audit.key, generated on first
run) or the environment, never from git."""

import os


class DefaultConfig:
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Hours a sign-in lasts at most (a sitting day at the venue fits in it).
    SESSION_MAX_HOURS = 12
    REMEMBER_COOKIE_HTTPONLY = True
    # Four phone photos of up to 8 MB each, plus the form around them.
    MAX_CONTENT_LENGTH = 34 * 1024 * 1024
    # Photos that decode to more than 64 MB (a 50-megapixel PNG takes 200 MB, 290 MB at the
    # peak) are decoded this many at a time on the machine, whatever the number of workers:
    # one leaves the second core to the ballots and bounds that memory to one photo's.
    PHOTO_DECODE_SLOTS = 1
    # Seconds such a photo waits for its turn before the form is answered "busy, send again":
    # four such photos queue for about 6 s on two cores, four times that on a loaded machine.
    PHOTO_DECODE_WAIT = 30
    # Seconds a photo's decode may take (voting_app.images: in a child process at the lowest
    # priority, so a machine busy with ballots slows it down) before it is stopped and the
    # photo refused: a 50-megapixel PNG takes under 2 s on a free core. With the wait for a
    # turn, 50 s: under gunicorn's 60 s timeout, which would end the worker with no answer.
    PHOTO_DECODE_SECONDS = 20
    # Folder of the turns' lock files (None: the instance folder); servers sharing a machine share it.
    PHOTO_DECODE_LOCK_DIR = None
    # Counted in each worker's memory (voting_app.rate_storage); REDIS_URL shares the counts.
    RATELIMIT_STORAGE_URI = "worker-memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Wrong PINs before a voting credential locks, and for how long.
    PIN_MAX_FAILURES = 5
    PIN_LOCK_MINUTES = 15
    # Seconds a venue check-in code stays valid; the screen shows a new one each period.
    CHECKIN_CODE_PERIOD = 60
    # Survey answers accepted from one network address (a shared Wi-Fi serves many homes).
    SURVEY_SUBMIT_LIMIT = "30 per minute;300 per hour"
    # A new survey's default for how many answers one network address may send it in a day
    # before the rest are held for staff review. No published rule sets it: one household's
    # phones (2.62 people per household, 2020 census) on one Wi-Fi, with a visitor or two.
    SURVEY_HOLD_AFTER = 5
    # Mobile carriers put many residents behind one address: as generous as the surveys.
    PROPOSAL_SUBMIT_LIMIT = "30 per minute;300 per hour"
    # The days (month, day) of a year's three supervision checkpoints until staff set them. The
    # practice, "年初问计划、年中问进度、年底问效果" (a supervision group per project; domain brief,
    # "Supervision"), names the start, middle and end of the year, not days: the end of March,
    # once the plan is published after the spring session; the end of July, halfway through;
    # the end of November, before the year-end satisfaction assessment.
    SUPERVISION_CHECKPOINT_DAYS = {"plan": (3, 31), "progress": (7, 31), "effect": (11, 30)}
    # Reminder letters (提醒函) about overdue work: who sends them, the prefix of their serial
    # number (樊人大提〔2026〕3号), and the days a department has to put things right and reply.
    REMINDER_SENDER = "樊城区人大常委会"
    REMINDER_SERIAL_PREFIX = "樊人大提"
    REMINDER_REPLY_DAYS = 15


def environment_overrides() -> dict:
    """Settings a deployment passes through the environment."""
    overrides = {}
    if os.environ.get("DATABASE_URL"):
        overrides["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if os.environ.get("REDIS_URL"):
        overrides["RATELIMIT_STORAGE_URI"] = os.environ["REDIS_URL"]
    if os.environ.get("PUBLIC_URL"):
        overrides["PUBLIC_URL"] = os.environ["PUBLIC_URL"]
    if os.environ.get("PROXY_COUNT"):
        overrides["PROXY_COUNT"] = int(os.environ["PROXY_COUNT"])
    if os.environ.get("SECRET_KEY"):
        overrides["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("AUDIT_KEY"):
        overrides["AUDIT_KEY"] = os.environ["AUDIT_KEY"]
    return overrides
