# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dev environment end to end, on the real Docker engine with offline images.

These tests own the dev environment's names (reelle-dev-*): they refuse to run
when a dev environment already exists, unless REELLE_E2E_TAKE_OVER=1 allows
them to purge it. Run `make down` (and remove the volumes) first, or set it.
"""

import json
import os
import subprocess
import urllib.error
import urllib.request

import pytest

from .helpers import ROOT, playbook

pytestmark = [pytest.mark.docker, pytest.mark.slow]

OFFLINE = ("-e", "dev_image_source=offline")
CONTAINERS = ("reelle-dev-postgres", "reelle-dev-redis", "reelle-dev-backend")
VOLUMES = ("reelle-dev-pgdata", "reelle-dev-redisdata")


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def containers():
    out = docker("ps", "-a", "--filter", "name=reelle-dev-", "--format", "{{.Names}} {{.ID}} {{.CreatedAt}}").stdout
    return sorted(out.splitlines())


def volumes():
    out = docker("volume", "ls", "--filter", "name=reelle-dev-", "--format", "{{.Name}}").stdout
    return sorted(out.split())


def health(path="/health"):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:7777{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def app_password():
    return (ROOT / ".secrets" / "dev" / "app_db_password").read_text().split()[0]


def psql(sql):
    env = dict(os.environ, PGPASSWORD=app_password())
    args = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "reelle", "-d", "reelle", "-tAc", sql]
    return subprocess.run(args, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def clean_engine():
    if containers() or volumes():
        if os.environ.get("REELLE_E2E_TAKE_OVER") != "1":
            pytest.fail(
                "a dev environment exists already; `make down` and remove its volumes, or set REELLE_E2E_TAKE_OVER=1"
            )
        playbook("dev", "teardown.yml", "-e", "dev_purge_data=true")
    yield
    playbook("dev", "teardown.yml", "-e", "dev_purge_data=true")


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ("local_postgres_port=70000", "local_postgres_port"),
        ("local_backend_source_path=/nonexistent/backend", "local_backend_source_path"),
        ("dev_image_source=floppy", "local_images_source"),
        ("local_redis_memory_limit=lots", "local_redis_memory_limit"),
    ],
)
def test_bad_input_fails_before_anything_is_touched(clean_engine, extra, variable):
    before = containers(), volumes()
    run = playbook("dev", "site.yml", *OFFLINE, "-e", extra)
    assert run.rc != 0, run
    assert "Invalid inventory" in run.output, run
    assert variable in run.output, run
    assert (containers(), volumes()) == before


def test_converge_from_nothing_brings_a_healthy_backend(clean_engine):
    run = playbook("dev", "site.yml", *OFFLINE)
    assert run.rc == 0, run
    status, body = health()
    assert status == 200, body
    assert body["database"] == "ok"
    assert body["cache"] == "ok"
    for name in ("Backend API", "Postgres", "Redis"):
        assert name in run.output


def test_writer_health_follows_whether_the_database_takes_writes(clean_engine):
    # Route53's failover health check asks /health/writer: a region whose
    # database is a read-only Aurora secondary must not draw traffic.
    assert health("/health/writer") == (200, {"writer": True})
    assert psql("ALTER ROLE reelle SET default_transaction_read_only = on").returncode == 0
    try:
        assert health("/health/writer") == (503, {"writer": False})
        assert health()[0] == 200  # alive all the same: the ALB keeps its tasks
    finally:
        reset = "BEGIN READ WRITE; ALTER ROLE reelle RESET default_transaction_read_only; COMMIT"
        assert psql(reset).returncode == 0
    assert health("/health/writer") == (200, {"writer": True})


def test_second_converge_changes_nothing(clean_engine):
    run = playbook("dev", "site.yml", *OFFLINE)
    assert run.rc == 0, run
    assert run.changed == 0, run.changed_tasks()


def test_check_mode_on_converged_environment_reports_no_change(clean_engine):
    before = containers()
    run = playbook("dev", "site.yml", *OFFLINE, "--check", "--diff")
    assert run.rc == 0, run
    assert run.changed == 0, run.changed_tasks()
    assert containers() == before


def test_no_secret_in_output(clean_engine):
    run = playbook("dev", "site.yml", *OFFLINE, "-v")
    assert run.rc == 0, run
    for name in ("postgres_password", "app_db_password"):
        secret = (ROOT / ".secrets" / "dev" / name).read_text().split()[0]
        assert secret not in run.output


def test_teardown_keeps_data_and_purge_removes_it(clean_engine):
    assert (
        psql("CREATE TABLE IF NOT EXISTS e2e_marker (note text); INSERT INTO e2e_marker VALUES ('kept');").returncode
        == 0
    )

    run = playbook("dev", "teardown.yml")
    assert run.rc == 0, run
    assert not [line for line in containers() if line.split()[0] in CONTAINERS]
    assert set(VOLUMES) <= set(volumes())

    run = playbook("dev", "site.yml", *OFFLINE)
    assert run.rc == 0, run
    found = psql("SELECT note FROM e2e_marker;")
    assert found.stdout.split() == ["kept"], found.stderr
    assert health()[0] == 200

    run = playbook("dev", "teardown.yml", "-e", "dev_purge_data=true")
    assert run.rc == 0, run
    assert containers() == []
    assert volumes() == []
