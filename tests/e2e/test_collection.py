# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The repository as the collection reelle.infra, seen the way a playbook sees it.

No emulator: the endpoint is a closed port on loopback, so every AWS module that
got its settings from module_defaults fails naming that port, and nothing leaves
the machine.
"""

import os
import subprocess

import yaml

from tests.e2e.helpers import ANSIBLE_PLAYBOOK, ROOT

ANSIBLE_DOC = ROOT / ".venv" / "bin" / "ansible-doc"
CLOSED = "http://127.0.0.1:9"


def run_play(tmp_path, tasks):
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {
                "group/reelle.infra.aws": {
                    "endpoint_url": CLOSED,
                    "region": "eu-north-1",
                    "access_key": "AKIDEXAMPLE",
                    "secret_key": "not-a-secret",
                }
            },
            "tasks": tasks,
        }
    ]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), AWS_MAX_ATTEMPTS="1", ANSIBLE_FORCE_COLOR="0")
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        env.pop(name, None)
    completed = subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            *("-i", "localhost,", "-c", "local", str(path)),
            *("-e", f"ansible_python_interpreter={ROOT / '.venv' / 'bin' / 'python'}"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return completed.returncode, completed.stdout + completed.stderr


def test_module_defaults_group_reaches_our_modules_and_amazon_aws(tmp_path):
    rc, log = run_play(
        tmp_path,
        [
            {"reelle.infra.aws_identity": None, "register": "ours", "ignore_errors": True},
            {"amazon.aws.aws_caller_info": None, "register": "theirs", "ignore_errors": True},
            {
                "ansible.builtin.assert": {
                    "that": [
                        "ours is failed and '127.0.0.1:9' in ours.msg",
                        "theirs is failed and '127.0.0.1:9' in theirs.msg",
                    ]
                }
            },
        ],
    )
    assert rc == 0, log[-4000:]
    assert "All assertions passed" in log


def test_modules_are_called_by_their_full_names_only(tmp_path):
    # No library path: a short name is not ours (and backup_plan would be ambiguous beside amazon.aws's).
    rc, log = run_play(tmp_path, [{"aws_identity": None}])
    assert rc != 0
    assert "couldn't resolve module/action 'aws_identity'" in log


def test_every_module_is_documented_under_the_collection():
    modules = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py"))
    listed = subprocess.run(
        [str(ANSIBLE_DOC), "-t", "module", "-l", "reelle.infra"],
        cwd=ROOT,
        env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert sorted(line.split()[0] for line in listed.splitlines() if line.strip()) == [
        f"reelle.infra.{name}" for name in modules
    ]
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    group = [item for item in runtime["action_groups"]["aws"] if isinstance(item, str)]
    assert sorted(group) == modules
