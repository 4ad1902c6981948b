"""The container setup, checked without a Docker engine: Dockerfile, compose file, Grafana, .envrc_template.

`docker compose config` runs where the docker CLI and its compose v2 plugin exist (the `docker_compose`
fixture: skipped otherwise, mandatory in CI, whose scripts/compose-plugin.sh installs the plugin);
everything else parses the files directly.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
from dataclasses import fields
from pathlib import Path

import yaml

from movies_assistant.config import ROOT, Settings

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "docker-compose.yaml"
ENVRC_TEMPLATE = ROOT / ".envrc_template"
DATASOURCE = ROOT / "grafana" / "provisioning" / "datasources" / "postgres.yaml"
DASHBOARD_PROVIDER = ROOT / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml"
DASHBOARD = ROOT / "grafana" / "dashboards" / "movies-assistant.json"

# Variables that are not Settings fields but are legitimately in .envrc_template.
POSTGRES_VARS = {"POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
OTHER_VARS = {"GRAFANA_ADMIN_PASSWORD", "MOVIES_ASSISTANT_URL", "MOVIES_ASSISTANT_API_KEY"}
COMPOSE_ONLY_VARS = {"INSTALL_LOCAL_LLM"}  # build argument of the image, set through docker-compose.yaml
# What `docker compose config` needs set (both are required with ${VAR:?...}).
COMPOSE_REQUIRED = {"GRAFANA_ADMIN_PASSWORD": "test", "POSTGRES_PASSWORD": "test"}


# --- Dockerfile -------------------------------------------------------------------------------------


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):  # comment lines inside a continuation are ignored
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            keyword, _, args = current.strip().partition(" ")
            instructions.append((keyword.upper(), args.strip()))
        current = ""
    assert not current, "Dockerfile ends inside a continuation line"
    return instructions


def copy_sources(args: str) -> list[str] | None:
    """Sources of a COPY/ADD from the build context, or None when it copies from a stage or image."""
    args = args.strip()
    flags = []
    while args.startswith("--"):
        flag, _, args = args.partition(" ")
        flags.append(flag)
        args = args.strip()
    if any(f.startswith("--from=") for f in flags):
        return None
    parts = json.loads(args) if args.startswith("[") else shlex.split(args)
    assert len(parts) >= 2, f"COPY/ADD needs a source and a destination: {args!r}"
    return parts[:-1]


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "Dockerfile has no FROM"
    return instructions[starts[-1]:]


def dockerignore_excludes(rel: str) -> bool:
    """Whether .dockerignore keeps `rel` (or a parent folder of it) out of the build context."""
    if not DOCKERIGNORE.exists():
        return False
    patterns = [p.strip() for p in DOCKERIGNORE.read_text().splitlines() if p.strip() and not p.startswith("#")]
    rel = rel.strip("/")
    candidates = [rel] + ["/".join(rel.split("/")[:n]) for n in range(1, rel.count("/") + 1)]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        variants = {pattern, pattern[3:] if pattern.startswith("**/") else pattern}
        if any(fnmatch.fnmatchcase(c, v) for c in candidates for v in variants):
            excluded = not negate
    return excluded


def test_dockerfile_copies_only_files_the_repo_has():
    copied = []
    for keyword, args in dockerfile_instructions():
        if keyword not in ("COPY", "ADD"):
            continue
        sources = copy_sources(args)
        if sources is None:
            continue
        for source in sources:
            assert not re.match(r"^[a-z]+://", source), f"{keyword} fetches {source}: ship it in the repo instead"
            matches = list(ROOT.glob(source.rstrip("/"))) if source.rstrip("/") not in ("", ".") else [ROOT]
            assert matches, f"Dockerfile {keyword}s {source!r}, which is not in the repo"
            assert not dockerignore_excludes(source), f".dockerignore excludes {source!r}, which the Dockerfile copies"
            copied.append(source)
    assert "movies_assistant/" in copied or "movies_assistant" in copied
    assert "Pipfile.lock" in copied


def test_dockerfile_runs_as_non_root_with_a_healthcheck():
    stage = final_stage(dockerfile_instructions())
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users, "the final stage sets no USER (it would run as root)"
    user = users[-1].split(":")[0].strip()
    assert user not in ("root", "0"), f"final USER is {user!r}"
    healthchecks = [args for keyword, args in stage if keyword == "HEALTHCHECK"]
    assert healthchecks and not healthchecks[-1].upper().startswith("NONE"), "no HEALTHCHECK in the final stage"
    assert "/health" in healthchecks[-1]
    assert "curl" not in healthchecks[-1], "python:3.11-slim has no curl"
    assert any(keyword == "EXPOSE" and "5000" in args.split() for keyword, args in stage)
    cmd = " ".join(args for keyword, args in stage if keyword in ("CMD", "ENTRYPOINT"))
    assert "db_prep.py" in cmd and "serve" in cmd


def test_dockerfile_serves_on_the_containers_interfaces():
    env = " ".join(args for keyword, args in final_stage(dockerfile_instructions()) if keyword == "ENV")
    assert "BIND_HOST=0.0.0.0" in env.split(), "serve's loopback default would make `docker run -p` unreachable"


def test_dockerfile_keeps_secrets_and_local_state_out_of_the_context():
    for path in (".env", ".envrc", ".venv", "instance", ".git", "test-artifacts", ".pytest_cache"):
        assert dockerignore_excludes(path), f".dockerignore does not exclude {path}"


# --- docker-compose.yaml ----------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def run_compose(docker_compose: list[str], tmp_path: Path, *args: str,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    empty_env_file = tmp_path / "empty.env"  # do not read a developer's .env for ${...}
    empty_env_file.write_text("")
    base = {k: v for k, v in os.environ.items() if k not in COMPOSE_REQUIRED}
    return subprocess.run(
        [*docker_compose, "--env-file", str(empty_env_file), "-f", str(COMPOSE), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**base, **(env or {})},
    )


def test_compose_config_is_valid(docker_compose, tmp_path):
    result = run_compose(docker_compose, tmp_path, "--profile", "ingest", "config", "--format", "json", env=COMPOSE_REQUIRED)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert {"app", "elasticsearch", "postgres", "grafana", "ingest"} <= set(services)
    app_env = services["app"]["environment"]
    assert app_env["SEARCH_BACKEND"] == "elasticsearch"
    assert app_env["ELASTIC_URL"] == "http://elasticsearch:9200"
    assert app_env["POSTGRES_HOST"] == "postgres"
    assert app_env["BIND_HOST"] == "0.0.0.0", "serve's loopback default would make the published port unreachable"
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == "test"


def test_compose_config_requires_the_grafana_password(docker_compose, tmp_path):
    result = run_compose(docker_compose, tmp_path, "config", env={"POSTGRES_PASSWORD": "test"})
    assert result.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in result.stderr


def test_compose_services_wait_for_healthy_dependencies():
    services = compose()["services"]
    for name in ("elasticsearch", "postgres"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    for name, needs in {"app": {"elasticsearch", "postgres"}, "ingest": {"elasticsearch"}, "grafana": {"postgres"}}.items():
        depends = services[name]["depends_on"]
        assert needs <= set(depends), f"{name} does not wait for {needs - set(depends)}"
        for dep in needs:
            assert depends[dep]["condition"] == "service_healthy", f"{name} -> {dep}"


def test_compose_elasticsearch_major_matches_the_python_client():
    image = compose()["services"]["elasticsearch"]["image"]
    server = image.rsplit(":", 1)[1]
    lock = json.loads((ROOT / "Pipfile.lock").read_text())
    client = lock["default"]["elasticsearch"]["version"].lstrip("=")
    assert server.split(".")[0] == client.split(".")[0], f"server {server} vs client {client}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", server), "pin a concrete Elasticsearch version"


def test_compose_ingest_is_a_one_shot_profile_with_read_only_data():
    ingest = compose()["services"]["ingest"]
    assert ingest["profiles"] == ["ingest"]
    assert ingest["command"][-2:] == ["--data", "/data/movies.csv"]
    assert "./data:/data:ro" in ingest["volumes"]
    assert ingest["image"] == compose()["services"]["app"]["image"]


def test_compose_grafana_mounts_match_the_provisioning():
    grafana = compose()["services"]["grafana"]
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in grafana["volumes"] if v.startswith("./"))
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    for host in mounts:
        assert (ROOT / host).is_dir(), f"{host} is mounted but missing"
    provider = yaml.safe_load(DASHBOARD_PROVIDER.read_text())["providers"][0]
    assert provider["type"] == "file"
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert "admin" != grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert ":?" in grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"], "the admin password must be required"


# --- Grafana ----------------------------------------------------------------------------------------


def provisioned_datasource() -> dict:
    (datasource,) = yaml.safe_load(DATASOURCE.read_text())["datasources"]
    return datasource


def test_grafana_datasource_reads_credentials_from_the_environment():
    ds = provisioned_datasource()
    assert ds["uid"] == "movies-assistant-postgres"
    assert ds["type"] in ("grafana-postgresql-datasource", "postgres")
    assert ds["url"] == "postgres:5432"
    assert ds["user"] == "${POSTGRES_USER}"
    assert ds["jsonData"]["database"] == "${POSTGRES_DB}"
    assert ds["secureJsonData"]["password"] == "${POSTGRES_PASSWORD}"


def test_grafana_dashboard_panels_use_the_provisioned_datasource():
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    assert len(panels) >= 6  # the seed's six and more (each panel's SQL is run in test_grafana.py)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {ids}"
    uid = provisioned_datasource()["uid"]
    for panel in panels:
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", {"uid": uid})["uid"] == uid, panel["title"]
            assert "$__timeFilter(timestamp)" in target["rawSql"], panel["title"]
    types = [p["type"] for p in panels]
    for kind in ("table", "piechart", "gauge", "barchart", "timeseries"):
        assert kind in types, f"no {kind} panel (the seed dashboard had one)"
    assert types.count("timeseries") >= 2


def test_grafana_dashboard_queries_existing_columns():
    from movies_assistant.logstore.migrations import MIGRATIONS

    schema = " ".join(" ".join(statements) for _, _, statements in MIGRATIONS)
    columns = set(re.findall(r"^\s*(\w+) ", schema, flags=re.M)) | {"timestamp", "feedback"}
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        sql = panel["targets"][0]["rawSql"]
        table = re.search(r"FROM (\w+)", sql).group(1)
        assert re.search(rf"CREATE TABLE {table} ", schema), f"{panel['title']}: no table {table}"
        for column in ("model_used", "response_time", "relevance", "total_tokens", "prompt_tokens",
                       "completion_tokens", "question", "answer"):
            if column in sql:
                assert column in columns, f"{panel['title']}: no column {column}"


# --- .envrc_template --------------------------------------------------------------------------------


def template_variables() -> list[str]:
    names = []
    for line in ENVRC_TEMPLATE.read_text().splitlines():
        match = re.match(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.append(match.group(1))
    return names


def test_envrc_template_lists_only_real_settings():
    settings = {f.name.upper() for f in fields(Settings)}
    allowed = settings | POSTGRES_VARS | OTHER_VARS | COMPOSE_ONLY_VARS
    names = template_variables()
    assert len(names) == len(set(names)), "a variable is listed twice"
    unknown = sorted(set(names) - allowed)
    assert not unknown, f"not settings: {unknown}"
    missing = sorted(settings - set(names))
    assert not missing, f"settings missing from .envrc_template: {missing}"
    compose_text = COMPOSE.read_text()
    for name in COMPOSE_ONLY_VARS:
        assert name in compose_text, f"{name} is documented as compose-only but docker-compose.yaml does not use it"


def test_envrc_template_covers_compose_variables_and_has_no_secrets():
    names = set(template_variables())
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    assert used <= names, f"docker-compose.yaml uses variables missing from .envrc_template: {sorted(used - names)}"
    for line in ENVRC_TEMPLATE.read_text().splitlines():
        match = re.match(r"^\s*(?:export\s+)?([A-Z0-9_]*(?:PASSWORD|TOKEN|KEY)|DATABASE_URL)=(.*)$", line)
        if match:
            assert match.group(2).strip() == "", f"{match.group(1)} must be empty in the template"


def test_no_secret_has_a_default_in_the_image_or_the_compose_file():
    secret = re.compile(r"[A-Z0-9_]*(?:PASSWORD|TOKEN|API_KEY)|DATABASE_URL")
    for keyword, args in dockerfile_instructions():
        if keyword in ("ENV", "ARG"):
            assert not secret.search(args), f"the Dockerfile sets a secret: {keyword} {args}"
    for name, default in re.findall(r"\$\{([A-Z0-9_]+):-([^}]*)\}", COMPOSE.read_text()):
        assert not secret.fullmatch(name), f"docker-compose.yaml gives {name} a default ({default!r})"
