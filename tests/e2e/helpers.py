# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running playbooks the way a user does, and reading their recap."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


class Run:
    def __init__(self, args, completed):
        self.args = args
        self.rc = completed.returncode
        self.output = completed.stdout + completed.stderr

    @property
    def recap(self):
        return {
            m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"} for m in RECAP.finditer(self.output)
        }

    @property
    def changed(self):
        return sum(host["changed"] for host in self.recap.values())

    def changed_tasks(self):
        """Names of the tasks that reported a change (from the default callback's output)."""
        tasks, current = [], None
        for line in self.output.splitlines():
            if line.startswith("TASK ["):
                current = line[6 : line.rfind("]")]
            elif line.startswith("changed:") and current:
                tasks.append(current)
        return tasks

    def __repr__(self):
        return f"<Run {' '.join(self.args)} rc={self.rc}>\n{self.output[-6000:]}"


def playbook(inventory, playbook_name, *extra, env=None, timeout=900):
    args = [str(ANSIBLE_PLAYBOOK), "-i", f"inventories/{inventory}", f"playbooks/{playbook_name}", *extra]
    full_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", **(env or {}))
    # A variable given as None is removed from the environment.
    full_env = {key: value for key, value in full_env.items() if value is not None}
    completed = subprocess.run(
        args, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Run(args, completed)
