#!/usr/bin/env python3
"""Set up and use Tripdesk on a machine that has only Python 3.11+.

python3 dev.py run     # create .venv, install what running needs; with BOT_TOKEN (environment or .env): migrate
                       # and run the bot; without it: the local sandbox (`tripdesk demo`), whose URL it prints
python3 dev.py test    # create .venv, install with the test tools, run the whole test suite (pytest arguments follow)
python3 dev.py check   # the same install; ruff check, ruff format --check and mypy: any finding fails
python3 dev.py lock    # refresh requirements/*.txt from pyproject.toml (--upgrade: the newest allowed versions)
python3 dev.py tripdesk ARGS...   # any tripdesk command inside the environment

Installs are reproducible: requirements/run.txt pins what running needs, requirements/test.txt adds the test and
check tools; both are generated from pyproject.toml by `python3 dev.py lock`. The project itself is installed
editable without dependencies, so nothing unpinned comes in.
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
PYPROJECT = ROOT / "pyproject.toml"
RUN_LOCK = ROOT / "requirements" / "run.txt"  # the runtime dependencies, pinned
TEST_LOCK = ROOT / "requirements" / "test.txt"  # the same pins, the test tools, ruff, mypy and uv
CHECKS = (("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy",))
COMMANDS = ("run", "test", "check", "lock", "tripdesk")


def ensure_environment(lock: Path) -> None:
    """Create the virtual environment; install ``lock`` and the project when either changed since the last time."""
    if sys.version_info < (3, 11):  # noqa: UP036 -- dev.py runs on any python3 and must say when it is too old
        sys.exit(f"Tripdesk needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{lock.stem}"
    digest = hashlib.sha256(lock.read_bytes() + b"\0" + PYPROJECT.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing {lock.relative_to(ROOT)} ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q", "install"]
    subprocess.run([*pip, "-r", str(lock)], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    stamp.write_text(digest)


def check() -> int:
    """Every check runs, so one look shows every finding; the exit code is non-zero if any found something."""
    failed = []
    for tool, *args in CHECKS:
        print(f"$ {tool} {' '.join(args)}".rstrip(), flush=True)
        if subprocess.run([str(BIN / tool), *args], cwd=ROOT).returncode != 0:
            failed.append(" ".join((tool, *args)))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def lock(rest: list[str]) -> int:
    """Compile both lock files with uv, for every platform; a pin already there stays unless ``--upgrade``."""
    os.chdir(ROOT)
    run_lock, test_lock = (str(path.relative_to(ROOT)) for path in (RUN_LOCK, TEST_LOCK))
    uv = [str(BIN / "uv"), "pip", "compile", "pyproject.toml", "--universal", "--python-version", "3.11", "--quiet"]
    uv += ["--custom-compile-command", "python3 dev.py lock", *rest]
    status = subprocess.run([*uv, "-o", run_lock]).returncode
    if status == 0:  # constrained by the run lock, so the runtime pins are the same in both files
        status = subprocess.run([*uv, "--extra", "test", "-c", run_lock, "-o", test_lock]).returncode
    return status


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
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment(RUN_LOCK if command in ("run", "tripdesk") else TEST_LOCK)
    if command == "test":
        return _run([str(PYTHON), "-m", "pytest", *rest])
    if command == "check":
        return check()
    if command == "lock":
        return lock(rest)
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
