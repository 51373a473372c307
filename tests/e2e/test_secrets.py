# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No generated secret of staging leaks: not in a verbose converge's output, not in the repository.

staging's secrets are generated into Secrets Manager by the modules (database master
password, Redis AUTH token, DataDog API key placeholder); this test reads them back
from the emulator and looks for each in the output of `site.yml -v --diff` and in every
file git tracks or could (untracked files outside .gitignore).
(dev's ansible-vault/.secrets side: tests/e2e/test_dev_environment.py.)
"""

import json
import subprocess

import boto3
import pytest

from .helpers import ROOT, playbook

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

# Fields of a JSON secret that hold secret material (the rest - host, port, user - do not).
SECRET_FIELDS = ("password", "token", "key")


def generated_secrets(endpoint):
    """{secret name: secret value} of every secret in the emulator's Secrets Manager."""
    client = boto3.client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    found = {}
    for secret in client.list_secrets()["SecretList"]:
        string = client.get_secret_value(SecretId=secret["ARN"])["SecretString"]
        try:
            document = json.loads(string)
        except ValueError:
            document = None
        if isinstance(document, dict):
            for field, value in document.items():
                if any(word in field.lower() for word in SECRET_FIELDS):
                    found[f"{secret['Name']}:{field}"] = str(value)
        else:
            found[secret["Name"]] = string
    return found


def test_no_generated_secret_in_verbose_output_or_repository(emulator):
    run = playbook("staging", "site.yml", "-v", "--diff", env=emulator.env, timeout=1200)
    assert run.rc == 0, run

    secrets = generated_secrets(emulator.endpoint)
    names = set(secrets)
    assert "reelle-staging/database/master:password" in names, names
    assert "reelle-staging/redis/auth-token" in names, names
    assert any("datadog" in name for name in names), names
    for name, value in secrets.items():
        # Long, random values: finding one by accident is impossible; finding one means a leak.
        assert len(value) >= 16, name
        assert value not in run.output, f"{name} appears in the playbook output"

    tracked = subprocess.run(
        [
            "git",
            "grep",
            "--untracked",
            "--fixed-strings",
            "--files-with-matches",
            *(arg for v in secrets.values() for arg in ("-e", v)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tracked.returncode == 1, f"secret values in tracked files: {tracked.stdout}{tracked.stderr}"
