"""Staff, presiding and scrutineer accounts."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting_app.db import db, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    # Department officers' accounts report on this department's projects only.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    department = relationship("Department")
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Raised at sign-out and at every change of the sign-in factors: a session cookie carries
    # the number it was signed in under, so a copied cookie dies with the next sign-out.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # The TOTP second factor (RFC 6238): the shared secret, and the last time step accepted,
    # so one code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]

    def get_id(self) -> str:
        return f"user:{self.id}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def label(self) -> str:
        return self.display_name

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None


class SignInThrottle(db.Model):
    """Wrong passwords and codes against one account, counted per client (OWASP's device
    cookies): one row per device that signed in before (`device:NONCE`), one per address of
    unknown clients (`address:DIGEST`, a keyed hash, never the address), and one for all
    unknown clients together (`untrusted`). A lock holds only the clients of its row, so
    guesses from elsewhere never lock the owner's own device out."""

    __tablename__ = "sign_in_throttles"
    __table_args__ = (UniqueConstraint("user_id", "client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client: Mapped[str] = mapped_column(String(80))
    failures: Mapped[int] = mapped_column(default=0)
    # How many locks this row has had since its last success: each lock lasts twice the one before.
    strikes: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
