"""gunicorn settings for `make serve` and production (see README, "Production layout").

Every setting can be overridden on the command line or with GUNICORN_CMD_ARGS."""

import multiprocessing
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the app, whatever the working directory

from voting_app.logs import ACCESS_LOG_FORMAT  # noqa: E402

bind = os.environ.get("BIND", "127.0.0.1:5000")
# Sync workers: each request is short (a ballot is one transaction), so processes, not
# threads, use both cores; 2 x cores + 1 keeps a core busy while another worker waits on I/O.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A whole hall pressing "vote" in the same second queues here instead of being refused.
backlog = 4096
timeout = 60
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so slow memory growth can never build up.
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("ACCESS_LOG") or None
# Access lines carry no client address, no query string and no card token (voting_app/logs.py).
access_log_format = ACCESS_LOG_FORMAT
logger_class = "voting_app.logs.PrivateAccessLogger"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
wsgi_app = "voting_app:create_app()"
