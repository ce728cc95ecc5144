"""Rate-limit counts in the worker's memory (RATELIMIT_STORAGE_URI "worker-memory://"), for
Flask-Limiter's fixed windows: the counts of `limits`' own memory:// storage, with expired
windows dropped as counting goes on rather than by a timer thread.

That storage starts a new thread whenever 10 ms pass without a count, and the thread walks
every key it holds; a crowd of residents answering a survey (a key per address and limit, in
the thousands) made that cost each answer more CPU than its own database writes. Here a count
past its window starts again at once, and every PRUNE_EVERY counts one sweep forgets the
expired windows, so memory stays bounded by the addresses seen within the longest window.
Like memory://, each worker counts for itself; set REDIS_URL to share the counts.
"""

import threading
import time

from limits.storage import Storage

PRUNE_EVERY = 1000


class WorkerMemoryStorage(Storage):
    STORAGE_SCHEME = ["worker-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._windows: dict[str, list] = {}  # key -> [count, the moment its window ends]
        self._lock = threading.Lock()
        self._counted = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            self._counted += 1
            if self._counted >= PRUNE_EVERY:
                self._counted = 0
                self._windows = {name: window for name, window in self._windows.items() if window[1] > now}
            window = self._windows.get(key)
            if window is None or window[1] <= now:
                window = self._windows[key] = [0, now + expiry]
            window[0] += amount
            return window[0]

    def get(self, key: str) -> int:
        window = self._windows.get(key)
        return window[0] if window is not None and window[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        window = self._windows.get(key)
        return window[1] if window is not None and window[1] > time.time() else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            number = len(self._windows)
            self._windows = {}
        return number

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)
