# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Our AWS modules run inside the worker process (plugins/plugin_utils/inprocess.py).

The same tasks run with the in-process action and the normal way
(REELLE_IN_PROCESS=0) against the emulator must give the same results: check
mode and diff, a create, a no-op, argument-validation failures and a task
`environment:` that reaches the module. behaviour.yml compares, without the
emulator, a module's crash (with ignore_errors, failed_when, until and loops),
its warnings, import failures and environment isolation between loop items.
"""

import json
import os
import subprocess

import pytest

from .helpers import ANSIBLE_PLAYBOOK, ROOT

PLAYBOOK = ROOT / "tests" / "fixtures" / "inprocess" / "playbook.yml"


def run(emulator, tmp_path, name, in_process):
    results = tmp_path / f"{name}.json"
    env = dict(os.environ, **emulator.env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), REELLE_IN_PROCESS=in_process)
    completed = subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            "localhost,",
            str(PLAYBOOK),
            "-vvv",
            "-e",
            f"run_name={name}",
            "-e",
            f"inprocess_results={results}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    return json.loads(results.read_text()), completed.stdout


def comparable(result, name):
    """What a task's consumer sees, minus what differs by run (its name, timestamps)."""
    kept = {key: value for key, value in result.items() if key not in ("invocation", "created_at")}
    return json.loads(json.dumps(kept).replace(f"inprocess-{name}", "inprocess-RUN"))


@pytest.mark.emulator
def test_in_process_results_match_the_normal_execution(emulator, tmp_path):
    normal, normal_log = run(emulator, tmp_path, "normal", "0")
    inproc, inproc_log = run(emulator, tmp_path, "inproc", "1")

    assert "running reelle.infra.ecr_repository in the worker process" in inproc_log
    assert "in the worker process" not in normal_log

    # check mode: a planned create, nothing created (the later create is 'changed').
    assert inproc["check_create"]["changed"] is True
    assert [row["action"] for row in inproc["check_create"]["changes"]] == ["create"]
    assert inproc["create"]["changed"] is True
    assert inproc["again"]["changed"] is False
    assert inproc["bad"]["failed"] is True and "image_tag_mutability" in inproc["bad"]["msg"]
    assert inproc["env_endpoint"]["failed"] is True and "127.0.0.1:9" in json.dumps(inproc["env_endpoint"])
    for key in ("check_create", "create", "again", "bad"):
        assert comparable(inproc[key], "inproc") == comparable(normal[key], "normal"), key
    assert inproc["env_endpoint"].keys() == normal["env_endpoint"].keys()


@pytest.mark.emulator
def test_the_preload_runs_for_the_project_playbooks(emulator):
    """playbooks/ loads callbacks from playbooks/callback_plugins (links): the preload must still find the modules."""
    env = dict(os.environ, **emulator.env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    completed = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", "inventories/staging", "playbooks/preflight.yml", "-vvv"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    assert "reelle_preload: boto3" in completed.stdout, completed.stdout[-4000:]
    assert "running reelle.infra.aws_identity in the worker process" in completed.stdout
    assert "failed for plugin 'reelle_preload'" not in completed.stdout + completed.stderr


# --- a module's crash, warnings, import failures and environment ------------
# tests/fixtures/inprocess/behaviour.yml runs test-only modules (library/, with
# action_plugins/ links to the in-process action); no emulator needed.

BEHAVIOUR = ROOT / "tests" / "fixtures" / "inprocess" / "behaviour.yml"
FIXTURE_MODULE_UTILS = ROOT / "tests" / "fixtures" / "inprocess" / "module_utils"


def run_behaviour(tmp_path, in_process):
    results = tmp_path / "results.json"
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_MODULE_UTILS=f"{ROOT / 'plugins' / 'module_utils'}:{FIXTURE_MODULE_UTILS}",
        REELLE_IN_PROCESS=in_process,
        # Set outside Ansible: a loop item's `environment:` changes it, the next item must see it again.
        PROBE_OUTER="outer",
    )
    for name in ("PROBE_A", "PROBE_B", "PROBE_SHARED", "PROBE_SET_BY_MODULE"):
        env.pop(name, None)
    completed = subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            "localhost,",
            str(BEHAVIOUR),
            "-vvv",
            "-e",
            f"probe_dir={tmp_path}",
            "-e",
            f"inprocess_results={results}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-6000:]
    return json.loads(results.read_text()), log


def without_invocation(value):
    if isinstance(value, dict):
        return {key: without_invocation(item) for key, item in value.items() if key != "invocation"}
    if isinstance(value, list):
        return [without_invocation(item) for item in value]
    return value


@pytest.fixture(scope="module")
def behaviour(tmp_path_factory):
    """The behaviour playbook's results and log, the normal way and in the worker."""
    normal = run_behaviour(tmp_path_factory.mktemp("normal"), "0")
    inproc = run_behaviour(tmp_path_factory.mktemp("inproc"), "1")
    assert "running inprocess_probe in the worker process" in inproc[1]
    assert "in the worker process" not in normal[1]
    return {"normal": normal, "inproc": inproc}


def assert_same(behaviour, *keys):
    normal, inproc = behaviour["normal"][0], behaviour["inproc"][0]
    for key in keys:
        assert without_invocation(inproc[key]) == without_invocation(normal[key]), key


def test_a_module_crash_is_a_failed_task_result(behaviour):
    """An exception from main() fails the task the normal way: ignore_errors, failed_when, loops and until work."""
    results = behaviour["inproc"][0]
    assert results["crash_ignored"]["failed"] is True
    assert "probe crashed: ignored" in results["crash_ignored"]["msg"]
    assert "exception" in results["crash_ignored"]
    assert results["crash_failed_when"]["failed"] is False
    assert results["crash_failed_when"]["failed_when_result"] is False
    first, second = results["crash_loop"]["results"]
    assert first["failed"] is True and "probe crashed: first" in first["msg"]
    assert second["failed"] is False and second["label"] == "second"
    assert results["crash_until"]["attempts"] == 3 and results["crash_until"]["calls"] == 3
    assert_same(behaviour, "crash_ignored", "crash_failed_when", "crash_loop", "crash_until")


def test_each_call_sees_only_its_own_environment(behaviour):
    """A loop item's `environment:` (and what the module sets itself) never reaches the next item or task."""
    results = behaviour["inproc"][0]
    first, crashing, third = results["env_loop"]["results"]
    assert first["env"] == {
        "PROBE_OUTER": "changed",
        "PROBE_A": "a",
        "PROBE_B": None,
        "PROBE_SHARED": "first",
        "PROBE_SET_BY_MODULE": None,
    }
    assert crashing["failed"] is True
    assert third["env"] == {
        "PROBE_OUTER": "outer",
        "PROBE_A": None,
        "PROBE_B": None,
        "PROBE_SHARED": "third",
        "PROBE_SET_BY_MODULE": None,
    }
    assert results["env_later"]["env"] == dict.fromkeys(first["env"], None) | {"PROBE_OUTER": "outer"}
    assert_same(behaviour, "env_loop", "env_later")


def test_an_import_failure_fails_every_call_the_same_way(behaviour):
    """A module (or module_utils file) that fails to import fails again on the next item, with the same error."""
    results = behaviour["inproc"][0]
    for key, missing in (
        ("broken", "reelle_inprocess_missing_dependency"),
        ("broken_util", "reelle_inprocess_missing_util_dependency"),
    ):
        for item in results[key]["results"]:
            assert item["failed"] is True, (key, item)
            assert f"No module named '{missing}'" in item["msg"], (key, item)
    # The other modules still run in the worker (a broken module_utils file only fails its importers).
    assert results["env_later"]["failed"] is False
    assert_same(behaviour, "broken", "broken_util")


def test_warnings_and_deprecations_reach_the_result(behaviour):
    """module.warn()/deprecate() are in the result and printed once, each item with its own, naming the module."""
    results = behaviour["inproc"][0]
    assert results["warn_loop"]["warnings"] == ["probe warning one", "probe warning two"]
    deprecations = results["warn_loop"]["deprecations"]
    assert [row["msg"] for row in deprecations] == [
        "probe deprecation one",
        "probe deprecation without a collection one",
        "probe deprecation two",
        "probe deprecation without a collection two",
    ]
    # Without collection_name, the deprecation names the module, as from its AnsiballZ payload.
    assert deprecations[1]["deprecator"] == {"resolved_name": "ansible.legacy.inprocess_probe", "type": "module"}
    assert_same(behaviour, "warn_loop")
    printed = {}
    for mode in ("normal", "inproc"):
        log = behaviour[mode][1]
        printed[mode] = [line for line in log.splitlines() if "probe warning" in line or "probe deprecation" in line]
        for label in ("one", "two"):
            assert log.count(f"[WARNING]: probe warning {label}") == 1, (mode, log[-6000:])
    assert printed["inproc"] == printed["normal"]
