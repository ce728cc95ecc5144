"""Today, as the congress counts days: in Beijing, wherever the server's clock is set."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_today(now: datetime | None = None) -> date:
    """A due date passes at midnight in Beijing, wherever the server's clock is set."""
    moment = now or datetime.now(tz=BEIJING)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(BEIJING).date()
