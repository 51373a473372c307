# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the project's plugins importable the way Ansible loads them.

The repository is the collection reelle.infra; modules and module_utils are
imported by their collection names (``ansible_collections.reelle.infra.plugins...``)
through ``collections/``, beside the bundled collections of the Python
environment (``ansible_collections`` is a namespace package). Filters and the
plan callback are also imported by their file names.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "collections"))
for folder in ("plugins/filter",):
    sys.path.insert(0, str(ROOT / folder))


# --- the local AWS emulator -------------------------------------------------

import os  # noqa: E402

import pytest  # noqa: E402

from tests.support.recording_emulator import RecordingEmulator  # noqa: E402


class Emulator(RecordingEmulator):
    """The AWS emulator of our own on a free port: the recording emulator with an empty profile.

    Its output goes to `log_path`, its request log to /dev/null; MOTO_IAM_LOAD_MANAGED_POLICIES is true (the
    IAM managed policies exist, as on AWS). Route 53's DNS server listens on a free UDP port: `env` names it
    in REELLE_DNS_RESOLVER. `patch_profile({"outage_regions": [...]})` turns a region outage on.
    """

    def __init__(self, log_path):
        super().__init__(
            os.path.dirname(log_path),
            request_log=os.devnull,
            output=log_path,
            environ={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
        )

    @property
    def log(self):
        """The server's output: one access-log line per request served (tests count them)."""
        return self.output


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory):
    server = Emulator(tmp_path_factory.mktemp("emulator") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server, monkeypatch):
    """A wiped emulator; the test's environment points boto3 at it."""
    emulator_server.reset()
    for key, value in emulator_server.env.items():
        monkeypatch.setenv(key, value)
    return emulator_server
