# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Staging and prod against a hostile AWS: what real AWS does that a calm emulator does not.

The recording emulator runs with a combined profile (tests/support/faults.py,
lifecycle.py): 25% of requests throttled in each service's own error code, 5%
answered 500/503, a resource just created (EC2 ids, buckets) unknown to the
next 2 requests naming it, IAM roles not yet passable for 2 requests, AWS's
validation rules, slow lifecycles (creating/modifying/pending for 2 describes)
and server-side defaults in describe answers. Under it:

- staging converges from scratch, a second run reports changed=0, the account
  holds exactly what a calm converge leaves (tests/e2e/golden), and teardown
  completes;
- a prod converge from scratch killed at seeded points (SIGKILL to the whole
  playbook) completes on re-run, a further run reports changed=0, and the
  account holds exactly what a calm converge leaves: no second VPC, KMS key,
  EIP, task-definition revision, launch-template version or secret.

Every test also asserts that the faults really happened (the emulator's counts).
"""

import os
import random
import signal
import subprocess
import time

import pytest

from tests.support.recording_emulator import RecordingEmulator

from . import account
from .helpers import ANSIBLE_PLAYBOOK, ROOT, playbook

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

SEED = 20261203
PROFILE = {
    "seed": SEED,
    "throttle_rate": 0.25,
    "error_rate": 0.05,
    "max_streak": 3,
    "consistency_lag": 2,
    "iam_propagation_lag": 2,
    "validation": True,
    "lifecycle": {"describes": 2},
    "server_defaults": True,
}
# AWS's waits and our backoffs, scaled: a waiter's 30 s poll becomes 0.6 s.
SCALE = {"REELLE_AWS_TIME_SCALE": "0.02"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    server = RecordingEmulator(tmp_path_factory.mktemp("hostile"), profile=PROFILE)
    yield server
    server.stop()


def run(server, inventory, name, *extra):
    return playbook(inventory, name, *extra, env={**server.env, **SCALE}, timeout=1800)


def calm_snapshot(server, regions):
    """The account read back with the profile off (the reads are the test's, not the converge's)."""
    server.set_profile({})
    try:
        return account.snapshot(server.endpoint, regions)
    finally:
        server.set_profile(PROFILE)


def assert_faults_happened(server, before):
    counts = server.profile_counts()
    for kind in ("throttle", "error", "consistency"):
        assert counts.get(kind, 0) > before.get(kind, 0), (kind, counts)
    return counts


def mutations(server):
    return sum(1 for entry in server.requests() if entry.get("mutating") and not entry.get("fault"))


def converge_killed_after(server, inventory, count):
    """Start a converge; SIGKILL the playbook and its workers once `count` more mutating requests were served.

    Returns True when it was killed, False when it finished first.
    """
    start = mutations(server)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", **server.env, **SCALE)
    process = subprocess.Popen(
        [str(ANSIBLE_PLAYBOOK), "-i", f"inventories/{inventory}", "playbooks/site.yml"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 1500
    while process.poll() is None and time.monotonic() < deadline:
        if mutations(server) - start >= count:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.05)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("converge neither finished nor reached its kill point")
    return False


# --- staging -----------------------------------------------------------------


def test_staging_converges_under_the_hostile_profile(hostile):
    hostile.reset()
    before = hostile.profile_counts()
    result = run(hostile, "staging", "site.yml")
    assert result.rc == 0, result
    assert_faults_happened(hostile, before)


def test_staging_second_converge_under_the_profile_changes_nothing(hostile):
    result = run(hostile, "staging", "site.yml")
    assert result.rc == 0, result
    assert result.changed == 0, result.changed_tasks()


def test_staging_account_is_what_a_calm_converge_leaves(hostile):
    found = calm_snapshot(hostile, ["us-east-1"])
    assert account.differences(account.golden("staging", found), found) == []


def test_staging_teardown_completes_under_the_profile(hostile):
    result = run(hostile, "staging", "teardown.yml", "-e", "teardown_confirm=staging")
    assert result.rc == 0, result
    region = calm_snapshot(hostile, ["us-east-1"])["us-east-1"]
    assert region["ec2"]["vpcs"] == [] and region["ec2"]["nat_gateways"] == 0 and region["ec2"]["elastic_ips"] == 0
    assert region["db_instances"] == [] and region["cache_groups"] == [] and region["load_balancers"] == []
    assert region["ecs"]["clusters"] == {}


# --- prod: interrupted from scratch --------------------------------------------


def test_prod_converge_killed_at_seeded_points_completes_on_rerun(hostile):
    hostile.reset()
    before = hostile.profile_counts()
    points = random.Random(SEED).sample(range(15, 160), 3)
    killed = [converge_killed_after(hostile, "prod", count) for count in points]
    assert killed == [True, True, True], f"kill points {points}: a converge finished before its point"
    result = run(hostile, "prod", "site.yml")
    assert result.rc == 0, result
    assert_faults_happened(hostile, before)


def test_prod_second_converge_under_the_profile_changes_nothing(hostile):
    result = run(hostile, "prod", "site.yml")
    assert result.rc == 0, result
    assert result.changed == 0, result.changed_tasks()


def test_prod_account_is_what_a_calm_converge_leaves(hostile):
    found = calm_snapshot(hostile, ["us-east-1", "eu-west-1"])
    assert account.differences(account.golden("prod", found), found) == []
