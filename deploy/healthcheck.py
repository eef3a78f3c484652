"""The image's health check (``HEALTHCHECK`` in deploy/Dockerfile): ``GET /healthz`` of the process in the container.

Where the process listens comes from the settings it reads itself: ``WEBHOOK_LISTEN`` in webhook mode (``WEBHOOK_URL``
set), else ``METRICS_LISTEN``. Long polling without ``METRICS_LISTEN`` serves no endpoint to ask: healthy while the
process runs. Exit 0: healthy; 1: not (Docker's contract).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from bot.config import ConfigError, Settings, load_settings

HEALTH_PATH = "/healthz"
TIMEOUT_S = 4.0  # under the HEALTHCHECK's --timeout
_EVERY_INTERFACE = ("", "*", "0.0.0.0", "::", "[::]")


def health_url(settings: Settings) -> str | None:
    """The URL of ``/healthz`` on this machine, or None when the process serves no HTTP (polling, metrics off)."""
    listen = settings.webhook_listen if settings.webhook_url else settings.metrics_listen
    if listen is None:
        return None
    host, _, port = listen.rpartition(":")
    if host in _EVERY_INTERFACE:
        host = "127.0.0.1"
    return f"http://{host}:{port}{HEALTH_PATH}"


def main() -> int:
    try:
        url = health_url(load_settings())
    except ConfigError as error:
        print(f"healthcheck: configuration error: {error}", file=sys.stderr)
        return 1
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:  # refused, timed out, or an HTTP error status (urllib's HTTPError is an OSError)
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
