"""The venue check-in code: it changes every period, so a photo of the screen sent
elsewhere stops working within two periods. Pure: no Flask, no database."""

import base64
import hashlib
import hmac

CODE_LENGTH = 8


def period_index(timestamp: float, period_seconds: int) -> int:
    return int(timestamp // period_seconds)


def code_for(secret: str, session_id: int, index: int) -> str:
    message = f"checkin:{session_id}:{index}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:CODE_LENGTH]


def current_code(secret: str, session_id: int, timestamp: float, period_seconds: int) -> str:
    return code_for(secret, session_id, period_index(timestamp, period_seconds))


def is_valid_code(secret: str, session_id: int, code: str, timestamp: float, period_seconds: int) -> bool:
    """Accept this period's code and the previous one, for a deputy who scanned at the turn."""
    index = period_index(timestamp, period_seconds)
    candidate = (code or "").strip().upper()
    return any(hmac.compare_digest(candidate, code_for(secret, session_id, i)) for i in (index, index - 1))


def seconds_left(timestamp: float, period_seconds: int) -> int:
    return int(period_seconds - (timestamp % period_seconds))
