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
import socket  # noqa: E402
import subprocess  # noqa: E402
import urllib.request  # noqa: E402

import pytest  # noqa: E402

from tests.support import FAKE_CREDENTIALS, wait_for_port  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    """A moto server of our own on a free port."""

    def __init__(self, log_path):
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        moto = VENV_BIN / "moto_server"
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(moto if moto.exists() else "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        if wait_for_port(self.process, self.port, 20):
            return
        self.stop()
        raise RuntimeError(f"moto server did not start; see {log_path}")

    @property
    def env(self):
        return dict(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=self.endpoint)

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=120)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


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
