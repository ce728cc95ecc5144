"""Who is signing in, as the lock sees it: the address (as a keyed digest, never stored in
clear) and the device cookies this browser earned by signing in before.

A device cookie names an account and a random nonce, signed with the secret key, so only a
browser that completed a sign-in to that account holds one (OWASP, "Slow Down Online Guessing
Attacks with Device Cookies"). It grants nothing by itself: it only lets its browser be
counted, and locked, on its own instead of with every unknown client."""

import hashlib
import hmac
import ipaddress
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from voting_app.auth.service import Client

DEVICE_COOKIE = "device"
DEVICE_DAYS = 365
DEVICES_KEPT = 8  # accounts remembered per browser (a shared office PC), the newest first


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="device-cookie")


def _devices() -> dict[int, str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return {}
    try:
        pairs = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return {}
    if not isinstance(pairs, list):
        return {}
    return {int(user_id): str(nonce) for user_id, nonce in pairs[:DEVICES_KEPT]
            if isinstance(user_id, int) and isinstance(nonce, str)}


def _address_digest() -> str:
    """IPv6 clients are counted by their /64, the block one subscriber usually holds, so
    rotating through it buys no fresh guesses."""
    raw = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(raw)
        if address.version == 6:
            raw = str(ipaddress.ip_network(f"{address}/64", strict=False))
    except ValueError:
        pass
    return hmac.new(current_app.secret_key.encode(), f"sign-in-address:{raw}".encode(), hashlib.sha256).hexdigest()[:40]


def current_client() -> Client:
    return Client(_address_digest(), _devices())


def remember_device(response, user_id: int) -> None:
    """After a complete sign-in: the browser keeps (or gets) its device cookie for this account."""
    devices = _devices()
    nonce = devices.pop(user_id, None) or secrets.token_urlsafe(16)
    pairs = [[user_id, nonce]] + [[other, other_nonce] for other, other_nonce in devices.items()][:DEVICES_KEPT - 1]
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps(pairs), max_age=DEVICE_DAYS * 86400,
                        httponly=True, samesite="Lax", secure=request.is_secure)
