"""Our AWS modules run inside the worker process (plugins/action/reelle_inprocess.py).

The same tasks run with the in-process action and the normal way
(REELLE_IN_PROCESS=0) against the emulator must give the same results: check
mode and diff, a create, a no-op, argument-validation failures and a task
`environment:` that reaches the module.
"""

import json
import os
import subprocess

import pytest

from .helpers import ANSIBLE_PLAYBOOK, ROOT

pytestmark = [pytest.mark.emulator]

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


def test_in_process_results_match_the_normal_execution(emulator, tmp_path):
    normal, normal_log = run(emulator, tmp_path, "normal", "0")
    inproc, inproc_log = run(emulator, tmp_path, "inproc", "1")

    assert "running ecr_repository in the worker process" in inproc_log
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
    assert "running aws_identity in the worker process" in completed.stdout
    assert "failed for plugin 'reelle_preload'" not in completed.stdout + completed.stderr
