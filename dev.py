#!/usr/bin/env python3
"""Set up and use Tripdesk on a machine that has only Python 3.11+.

python3 dev.py run     # create .venv, install; with BOT_TOKEN (environment or .env): migrate and run the bot;
                       # without it: the local sandbox (`tripdesk demo`), whose URL it prints
python3 dev.py test    # create .venv, install with test extras, run the whole test suite
python3 dev.py tripdesk ARGS...   # any tripdesk command inside the environment
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_environment() -> None:
    """Create the virtual environment and (re)install when pyproject.toml changed since the last install."""
    if sys.version_info < (3, 11):
        sys.exit(f"Tripdesk needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("installing dependencies ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[test]"], check=True)
    stamp.write_text(digest)


def _has_token() -> bool:
    """BOT_TOKEN from the environment, else from .env (pydantic-settings reads both the same way)."""
    if os.environ.get("BOT_TOKEN", "").strip():
        return True
    env_file = ROOT / ".env"
    if env_file.exists():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "BOT_TOKEN" and value.strip().strip("'\""):
                return True
    return False


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "tripdesk"):
        print(__doc__)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "test":
        return _run([str(PYTHON), "-m", "pytest", *rest])
    if command == "run":
        rest = ["run" if _has_token() else "demo", *rest]
    return _run([str(PYTHON), "-m", "bot", *rest])


def _run(cmd: list[str]) -> int:
    """Run ``cmd`` in the project; Ctrl-C reaches it directly and it decides how to stop (cleanly)."""
    os.chdir(ROOT)
    if os.name == "posix":
        os.execv(cmd[0], cmd)  # replaces this process: signals and the exit code are the command's own
    child = subprocess.Popen(cmd)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue  # the child got the same Ctrl-C and is stopping


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
