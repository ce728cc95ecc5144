"""A small asyncio HTTP/1.1 client: thousands of simultaneous requests from one process,
each timed from connect to the last byte. No keep-alive, as phones on a hall's Wi-Fi."""

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode


@dataclass
class Reply:
    status: int
    headers: dict[str, list[str]]
    body: bytes
    seconds: float
    error: str = ""

    def cookie(self, name: str) -> str | None:
        for line in self.headers.get("set-cookie", []):
            key, _, rest = line.partition("=")
            if key.strip() == name:
                return rest.split(";", 1)[0]
        return None


@dataclass
class Call:
    method: str
    path: str
    form: list[tuple[str, str]] | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, str, bytes]] | None = None  # (field, file name, bytes): sent as multipart/form-data

    def encoded(self) -> tuple[bytes, str]:
        """The body and its content type: url-encoded, or multipart when there are files."""
        if self.files is None:
            return urlencode(self.form).encode() if self.form is not None else b"", "application/x-www-form-urlencoded"
        boundary = "bench" + secrets.token_hex(12)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
                 for key, value in self.form or []]
        parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{name}"\r\n'
                  f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n" for key, name, data in self.files]
        return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def send(port: int, call: Call, timeout: float = 120.0) -> Reply:
    started = time.perf_counter()
    body, content_type = call.encoded()
    lines = [f"{call.method} {call.path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
             "User-Agent: bench/1 (Android 14; MicroMessenger)", "Accept-Encoding: identity"]
    if call.cookies:
        lines.append("Cookie: " + "; ".join(f"{key}={value}" for key, value in call.cookies.items()))
    if call.form is not None or call.files is not None:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    lines += [f"{key}: {value}" for key, value in call.headers.items()]
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
        writer.close()
    except (OSError, asyncio.TimeoutError) as error:
        return Reply(0, {}, b"", time.perf_counter() - started, type(error).__name__)
    head, _, payload = raw.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(head_lines[0].split()[1])
    except (IndexError, ValueError):
        return Reply(0, {}, b"", time.perf_counter() - started, "bad response")
    headers: dict[str, list[str]] = {}
    for line in head_lines[1:]:
        key, _, value = line.partition(":")
        headers.setdefault(key.strip().lower(), []).append(value.strip())
    return Reply(status, headers, payload, time.perf_counter() - started)


async def _all(port: int, calls: list[Call], concurrency: int | None) -> list[Reply]:
    if concurrency is None:
        return list(await asyncio.gather(*(send(port, call) for call in calls)))
    gate = asyncio.Semaphore(concurrency)

    async def limited(call: Call) -> Reply:
        async with gate:
            return await send(port, call)

    return list(await asyncio.gather(*(limited(call) for call in calls)))


def run_all(port: int, calls: list[Call], concurrency: int | None = None) -> tuple[list[Reply], float]:
    """Send every call (all at once, or `concurrency` at a time); the replies and the wall time."""
    started = time.perf_counter()
    replies = asyncio.run(_all(port, calls, concurrency))
    return replies, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]
