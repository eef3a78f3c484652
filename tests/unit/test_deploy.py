"""deploy/ against the settings the program reads (no Docker engine here: the files are read, not run).

docker-compose.yml: every name in a tripdesk service's environment is a setting (bot/config.py), every ``${NAME}``
it uses is documented in deploy/.env.example (and nothing there is unused), the replicas load as webhook-mode
settings on PostgreSQL and Redis, and Caddy proxies the webhook path to each replica's WEBHOOK_LISTEN port.
The Dockerfile's health check asks /healthz where the settings say the process listens; the systemd unit sets
settings only.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import tomllib
from collections.abc import Iterator, Mapping
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from bot.config import Settings, load_settings
from bot.i18n import LOCALES_DIR

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTINGS = frozenset(name.upper() for name in Settings.model_fields)
COMPOSE_ONLY = frozenset({"DOMAIN", "WEBHOOK_PATH", "POSTGRES_PASSWORD"})  # deploy/.env.example: "compose's own"
# what deploy/.env.example leaves blank for the operator to fill in
FILLED_IN = {
    "BOT_TOKEN": "123456789:" + "A" * 35,
    "WEBHOOK_SECRET": "s3cret-" + "x" * 25,
    "POSTGRES_PASSWORD": "example",
}
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``, ``${NAME:?error}`` and ``${NAME?error}``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        value = env.get(name)
        present = bool(value) if op and op.startswith(":") else value is not None
        if present or op is None:
            return value or ""
        if op.endswith("-"):
            return arg
        raise KeyError(f"{name}: {arg}")

    return _VARIABLE.sub(one, value)


def dotenv(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line.strip() and line[0] != "#")
    return {name.strip(): value.strip() for name, value in pairs}


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(name): "" if value is None else str(value) for name, value in env.items()}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def tripdesk_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run this project's image (built from deploy/Dockerfile)."""
    return {
        name: service
        for name, service in compose["services"].items()
        if (service.get("build") or {}).get("dockerfile") == "deploy/Dockerfile"
    }


@pytest.fixture(scope="module")
def bot_services(tripdesk_services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in tripdesk_services.items() if s.get("command") in (None, ["run"], "run")}


@pytest.fixture
def example_env() -> dict[str, str]:
    """deploy/.env as an operator fills it in from the example."""
    env = dotenv(DEPLOY / ".env.example")
    return env | {name: value for name, value in FILLED_IN.items() if not env.get(name)}


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No setting from the shell and no developer's .env: only what a test sets."""
    monkeypatch.chdir(tmp_path)
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def settings_of(service: Mapping[str, Any], env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """What the program reads in that container, with deploy/.env being ``env``."""
    for name, value in environment_of(service).items():
        monkeypatch.setenv(name, interpolate(value, env))
    return load_settings()


def test_the_tripdesk_services_set_settings_only(tripdesk_services: dict[str, dict[str, Any]]) -> None:
    assert {"migrate", "bot1", "bot2"} <= set(tripdesk_services)
    for name, service in tripdesk_services.items():
        unknown = set(environment_of(service)) - SETTINGS
        assert not unknown, f"{name} sets {sorted(unknown)}: not settings of bot/config.py"


def test_every_compose_variable_is_documented_and_every_documented_one_is_used() -> None:
    used = {m["name"] for m in _VARIABLE.finditer((DEPLOY / "docker-compose.yml").read_text())}
    documented = set(dotenv(DEPLOY / ".env.example"))
    assert used == documented
    assert documented - SETTINGS == COMPOSE_ONLY


def test_two_webhook_replicas_on_postgresql_and_redis(bot_services: dict[str, dict[str, Any]]) -> None:
    assert len(bot_services) >= 2
    for name, service in bot_services.items():
        env = environment_of(service)
        for required in ("WEBHOOK_URL", "WEBHOOK_SECRET", "DATABASE_URL", "REDIS_URL", "BOT_TOKEN"):
            assert env.get(required), f"{name}: {required}"
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        assert env["REDIS_URL"].startswith("redis://"), name
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert service["stop_grace_period"] == "15s", name  # the process exits within 10 s of SIGTERM


def test_the_migrate_service_only_migrates_the_same_database(
    tripdesk_services: dict[str, dict[str, Any]], bot_services: dict[str, dict[str, Any]]
) -> None:
    migrate = tripdesk_services["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    for service in bot_services.values():
        assert environment_of(service)["DATABASE_URL"] == environment_of(migrate)["DATABASE_URL"]


def test_the_replicas_load_as_webhook_mode_settings(
    bot_services: dict[str, dict[str, Any]], example_env: dict[str, str], clean_environment: pytest.MonkeyPatch
) -> None:
    for service in bot_services.values():
        settings = settings_of(service, example_env, clean_environment)
        assert settings.webhook_url == f"https://{example_env['DOMAIN']}{example_env['WEBHOOK_PATH']}"
        assert settings.require_webhook_secret() == FILLED_IN["WEBHOOK_SECRET"]
        assert settings.require_token() == FILLED_IN["BOT_TOKEN"]
        assert settings.database_url.startswith("postgresql+asyncpg://tripdesk:example@postgres:5432/")
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.log_format == "json"


def test_compose_defaults_are_the_settings_defaults(
    compose: dict[str, Any], bot_services: dict[str, dict[str, Any]], clean_environment: pytest.MonkeyPatch
) -> None:
    """A setting left out of deploy/.env (``${NAME:-default}``) means what it means without compose."""
    defaults: dict[str, str] = {}
    for service in bot_services.values():
        for name, value in environment_of(service).items():
            whole = _VARIABLE.fullmatch(value)
            if whole and whole["op"] == ":-" and whole["name"] == name:
                defaults[name] = whole["arg"]
    assert {"LOG_LEVEL", "DEFAULT_LOCALE", "OPERATOR_CHAT_ID"} <= set(defaults)
    for name, value in defaults.items():
        clean_environment.setenv(name, value)
    settings = load_settings()
    for name in defaults:
        field = name.lower()
        assert getattr(settings, field) == Settings.model_fields[field].default, name


def test_a_missing_secret_stops_compose_before_anything_starts(
    bot_services: dict[str, dict[str, Any]], example_env: dict[str, str]
) -> None:
    for required in ("BOT_TOKEN", "WEBHOOK_SECRET", "DOMAIN", "POSTGRES_PASSWORD"):
        env = example_env | {required: ""}
        for service in bot_services.values():
            with pytest.raises(KeyError, match=required):
                _ = {name: interpolate(value, env) for name, value in environment_of(service).items()}


def caddy_site(compose: dict[str, Any], env: Mapping[str, str]) -> str:
    """The Caddyfile with the ``{$NAME}`` placeholders compose's environment fills in."""
    caddy_env = {name: interpolate(value, env) for name, value in environment_of(compose["services"]["caddy"]).items()}
    text = (DEPLOY / "Caddyfile").read_text()
    return re.sub(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: caddy_env[m[1]], text)


@pytest.mark.parametrize("webhook_path", ["from the example", "left out"])
def test_caddy_proxies_the_webhook_path_to_every_replica(
    compose: dict[str, Any],
    bot_services: dict[str, dict[str, Any]],
    example_env: dict[str, str],
    clean_environment: pytest.MonkeyPatch,
    webhook_path: str,
) -> None:
    env = (
        example_env
        if webhook_path == "from the example"
        else {k: v for k, v in example_env.items() if k != "WEBHOOK_PATH"}
    )
    site = caddy_site(compose, env)
    assert re.search(rf"^{re.escape(env['DOMAIN'])} \{{", site, re.MULTILINE)
    handled = re.search(r"^\s*handle (\S+) \{\s*reverse_proxy ([^{\n]+)\{(?P<block>[^}]*)\}", site, re.MULTILINE)
    assert handled is not None
    path, upstreams, block = handled[1], set(handled[2].split()), handled["block"]
    expected = set()
    for name, service in bot_services.items():
        settings = settings_of(service, env, clean_environment)
        assert settings.webhook_path == path, name  # the app listens where Caddy sends Telegram's posts
        expected.add(f"{name}:{settings.webhook_listen.rpartition(':')[2]}")
    assert upstreams == expected
    assert re.search(r"^\s*health_uri /readyz$", block, re.MULTILINE)


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_runs_the_tripdesk_command_as_a_user() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    last = dict(instructions)  # the last of each kind
    assert last["ENTRYPOINT"] == '["tripdesk"]'
    assert last["CMD"] == '["run"]'
    assert last["USER"] not in ("root", "0")
    runs = [arg for kind, arg in instructions if kind == "RUN"]
    assert "pip install -r requirements/run.txt" in runs
    assert any("pip install --no-deps" in run for run in runs)


def test_the_image_holds_what_the_program_reads_and_the_context_does_not_hide_it() -> None:
    copied = {arg.split()[0] for kind, arg in dockerfile_instructions() if kind == "COPY"}
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    needed = {pattern.rstrip("*") for pattern in packages["include"]} | {str(LOCALES_DIR.relative_to(ROOT))}
    assert needed <= copied
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch(source, p) or fnmatch(source, p.removeprefix("**/")) for p in ignored), source


def load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_healthcheck", DEPLOY / "healthcheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_healthcheck_runs_the_copied_script() -> None:
    instructions = dockerfile_instructions()
    (check,) = [arg for kind, arg in instructions if kind == "HEALTHCHECK"]
    script = re.search(r'CMD \["python", "(?P<path>[^"]+)"\]', check)
    assert script is not None
    copies = {arg.split()[1]: arg.split()[0] for kind, arg in instructions if kind == "COPY"}
    workdir = next(arg for kind, arg in instructions if kind == "WORKDIR")  # where the COPYs land
    relative = str(Path(script["path"]).relative_to(workdir))
    assert copies[relative] == "deploy/healthcheck.py"
    assert load_healthcheck().HEALTH_PATH == "/healthz"


def test_the_healthcheck_asks_where_the_settings_say_the_process_listens(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    health_url = load_healthcheck().health_url
    assert health_url(load_settings()) is None  # long polling, metrics off: no endpoint
    clean_environment.setenv("METRICS_LISTEN", "127.0.0.1:9100")
    assert health_url(load_settings()) == "http://127.0.0.1:9100/healthz"
    clean_environment.setenv("WEBHOOK_URL", "https://bot.example.com/telegram")
    assert health_url(load_settings()) == "http://127.0.0.1:8080/healthz"  # WEBHOOK_LISTEN's default, every interface
    clean_environment.setenv("WEBHOOK_LISTEN", "10.0.0.5:8443")
    assert health_url(load_settings()) == "http://10.0.0.5:8443/healthz"


class _Health(BaseHTTPRequestHandler):
    status = 200
    paths: list[str]

    def do_GET(self) -> None:  # the name http.server calls
        self.paths.append(self.path)
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[HTTPServer, type[_Health]]]:
    handler = type("Health", (_Health,), {"paths": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_the_healthcheck_exit_code_is_the_answer_of_healthz(
    clean_environment: pytest.MonkeyPatch,
    health_server: tuple[HTTPServer, type[_Health]],
    status: int,
    exit_code: int,
) -> None:
    server, handler = health_server
    handler.status = status
    clean_environment.setenv("METRICS_LISTEN", f"127.0.0.1:{server.server_address[1]}")
    assert load_healthcheck().main() == exit_code
    assert handler.paths == ["/healthz"]


def test_the_healthcheck_fails_when_nothing_answers(
    clean_environment: pytest.MonkeyPatch, health_server: tuple[HTTPServer, type[_Health]]
) -> None:
    server, _ = health_server
    port = server.server_address[1]
    server.shutdown()
    server.server_close()  # the port is free again: connection refused
    clean_environment.setenv("METRICS_LISTEN", f"127.0.0.1:{port}")
    assert load_healthcheck().main() == 1


def unit_values(path: Path) -> dict[str, list[str]]:
    """Each key of a systemd unit with its values, in order (a key may repeat)."""
    values: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        key, is_entry, value = line.strip().partition("=")
        if is_entry and not key.startswith("#"):
            values.setdefault(key, []).append(value)
    return values


def test_the_systemd_unit() -> None:
    values = unit_values(DEPLOY / "tripdesk.service")
    assert values["EnvironmentFile"]
    assert values["Restart"] == ["on-failure"]
    assert values["TimeoutStopSec"] == ["15"]
    assert values["KillSignal"] == ["SIGTERM"]
    (start,) = values["ExecStart"]
    program = start.split()[0]
    assert program.endswith("/tripdesk") and start == f"{program} run"
    assert values["ExecStartPre"] == [f"{program} migrate"]
    names = {assignment.split("=", 1)[0] for value in values.get("Environment", []) for assignment in value.split()}
    assert names
    assert names <= SETTINGS
