# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan, drift and validation of staging against a recording emulator.

The emulator (tests/support/recording_emulator.py) logs the operation of every
request it serves, so "the plan sent no mutating request" is counted on the
emulator's side. Order matters (one emulator for the module): validation and a
plan of the empty account first, then a converge, out-of-band changes, plan and
drift, a repairing converge and a clean drift.
"""

import os
import re
import shutil
import subprocess

import boto3
import pytest

from tests.support.recording_emulator import RecordingEmulator

from .helpers import ANSIBLE_PLAYBOOK, ROOT, Run, playbook

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

PREFIX = "reelle-staging"
BUCKET = f"{PREFIX}-user-uploads"


@pytest.fixture(scope="module")
def recorder(tmp_path_factory):
    server = RecordingEmulator(tmp_path_factory.mktemp("recording"))
    yield server
    server.stop()


def script(mode, server, *extra, timeout=900):
    """scripts/plan.sh, as `make plan|drift|validate ENV=staging` runs it."""
    args = [str(ROOT / "scripts" / "plan.sh"), mode, "staging", *extra]
    env = {**dict(os.environ), "ANSIBLE_FORCE_COLOR": "0", **server.env}
    completed = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return Run(args, completed)


def mutations(entries):
    return [f"{entry['service']}:{entry['operation']}" for entry in entries if entry["mutating"]]


def client(server, name):
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client(name, endpoint_url=server.endpoint)


def plan_table(output):
    """The rows of the plan table: [(tier, action, resource, attributes)] (columns: two spaces or more apart)."""
    lines = output[output.index("PLAN (check mode") :].splitlines()[1:]
    header = next(i for i, line in enumerate(lines) if line.startswith("TIER"))
    rows, tier = [], ""
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        match = re.match(r"^(\S*)\s+(create|update|delete|change)\s+(.*)$", line)
        assert match, line
        tier = match[1] or tier
        parts = re.split(r"\s{2,}", match[3].strip(), maxsplit=1)
        rows.append((tier, match[2], parts[0], parts[1] if len(parts) > 1 else ""))
    return rows


# --- validation ---------------------------------------------------------------


def _set(path, variable, value):
    text = path.read_text()
    # The variable's line and, for a block list, its item lines.
    new, count = re.subn(rf"^{variable}:.*\n(?:[ ]+- .*\n)*", f"{variable}: {value}\n", text, flags=re.MULTILINE)
    assert count == 1, f"{variable} not set in {path}"
    path.write_text(new)


@pytest.fixture
def bad_inventory(tmp_path):
    """A copy of inventories/staging with five bad values, plus a second region whose VPC overlaps."""
    inventory = tmp_path / "staging"
    shutil.copytree(ROOT / "inventories" / "staging", inventory)
    group_vars = inventory / "group_vars" / "all"
    _set(group_vars / "database.yml", "aws_database_instance_class", "db.x9.huge")
    _set(group_vars / "cache.yml", "aws_cache_num_shards", "0")
    _set(group_vars / "compute.yml", "aws_compute_min_capacity", "5")
    _set(group_vars / "aws.yml", "aws_availability_zones", "[us-east-1a, eu-west-1b]")
    # A second region (as prod has) keeping staging's VPC CIDR: the two overlap.
    (inventory / "hosts.yml").write_text(
        "---\nall:\n  children:\n    aws_regions:\n      hosts:\n"
        "        staging-us-east-1:\n        staging-eu-west-1:\n"
    )
    host_vars = inventory / "host_vars" / "staging-eu-west-1"
    host_vars.mkdir(parents=True)
    (host_vars / "aws.yml").write_text("---\naws_region: eu-west-1\naws_availability_zones: [eu-west-1a, eu-west-1b]\n")
    # The rule under test; the real inventories are to list it in validate.yml too.
    (group_vars / "zz_disjoint_cidrs.yml").write_text("---\ninventory_check_disjoint_cidrs: [aws_network_vpc_cidr]\n")
    return inventory


def test_validate_lists_every_problem_with_its_file_and_touches_nothing(recorder, bad_inventory):
    before = recorder.mark()
    args = [str(ANSIBLE_PLAYBOOK), "-i", str(bad_inventory), "playbooks/validate.yml"]
    env = {**dict(os.environ), "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), **recorder.env}
    run = Run(args, subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False))
    assert run.rc != 0, run
    messages = [line.strip() for line in run.output.splitlines() if line.strip().startswith("- ")]
    all_vars = f"{bad_inventory}/group_vars/all"
    expected = {
        "aws_database_instance_class": ("db.x9.huge", f"aws_database_instance_class: {all_vars}/database.yml"),
        "aws_cache_num_shards": ("got 0", f"aws_cache_num_shards: {all_vars}/cache.yml"),
        "aws_compute_min_capacity": ("5 <= 3 <= 3", f"aws_compute_min_capacity: {all_vars}/compute.yml"),
        "aws_availability_zones": (
            "'eu-west-1b' is not in region us-east-1",
            f"aws_availability_zones: {all_vars}/aws.yml",
        ),
        "aws_network_vpc_cidr": ("overlaps aws_network_vpc_cidr 10.20.0.0/16 of staging-eu-west-1", "network.yml"),
    }
    for variable, (problem, source) in expected.items():
        found = [m for m in messages if problem in m and source in m]
        assert found, f"{variable}: no problem naming {problem!r} with {source!r}\n{run}"
    # The second region's own zones are fine; its VPC overlaps the first one's.
    assert any("10.20.0.0/16 of staging-us-east-1" in m for m in messages), run
    assert "Invalid inventory" in run.output
    assert run.recap["staging-us-east-1"]["failed"] == 1
    assert recorder.since(before) == []


def test_validate_passes_on_the_real_staging_inventory(recorder):
    before = recorder.mark()
    run = script("validate", recorder)
    assert run.rc == 0, run
    assert run.recap["staging-us-east-1"]["ok"] >= 2, run
    assert recorder.since(before) == []


@pytest.mark.parametrize(
    ("inventory", "variable", "owned"),
    [
        ("prod", "aws_edge_zone_name", "reelle-corp.com"),
        ("staging", "aws_loadbalancer_domain_name", "api.staging.reelle-corp.com"),
    ],
)
def test_the_example_domain_is_refused_on_aws_only(inventory, variable, owned):
    on_aws = {"REELLE_AWS_TARGET": None, "AWS_ENDPOINT_URL": None}
    refused = playbook(inventory, "validate.yml", env=on_aws, timeout=300)
    assert refused.rc != 0, refused
    assert f"{variable}: " in refused.output and "reserved for examples, refused on AWS" in refused.output, refused
    assert playbook(inventory, "validate.yml", env={"REELLE_AWS_TARGET": "emulator"}, timeout=300).rc == 0
    own = playbook(inventory, "validate.yml", "-e", f"{variable}={owned}", env=on_aws, timeout=300)
    assert own.rc == 0, own


# --- plan ---------------------------------------------------------------------


def test_plan_refuses_to_run_outside_check_mode(recorder):
    before = recorder.mark()
    run = playbook("staging", "plan.yml", env=recorder.env)
    assert run.rc != 0, run
    assert "plan.yml changes nothing: run it with --check" in run.output
    assert recorder.since(before) == []


def test_plan_of_an_empty_account_lists_creates_and_mutates_nothing(recorder):
    recorder.reset()
    before = recorder.mark()
    run = script("plan", recorder)
    assert run.rc == 0, run
    served = recorder.since(before)
    assert any(entry["operation"] == "DescribeVpcs" for entry in served), "the plan's reads were not recorded"
    assert mutations(served) == []
    rows = plan_table(run.output)
    tiers = list(dict.fromkeys(row[0] for row in rows))
    assert tiers[:4] == ["Network", "Data", "Compute", "Observability"], tiers
    creates = {resource for _, action, resource, _ in rows if action == "create"}
    for resource in (f"vpc {PREFIX}", f"db_instance {PREFIX}-pg", f"bucket {BUCKET}", "ecs service backend"):
        assert any(r.startswith(resource) for r in creates), (resource, creates)
    assert {row[1] for row in rows} == {"create", "update"}
    count = re.search(r"Plan: (\d+) to create, (\d+) to update, 0 to delete \(staging-us-east-1\)\.", run.output)
    assert count, run
    assert int(count[1]) == sum(1 for row in rows if row[1] == "create")
    assert int(count[2]) == sum(1 for row in rows if row[1] == "update")
    # Short output: no per-task diff, no ok/skipped lines.
    assert "ok: [" not in run.output and "--- before" not in run.output


@pytest.fixture(scope="module")
def converged(recorder):
    recorder.reset()
    before = recorder.mark()
    run = playbook("staging", "site.yml", env=recorder.env, timeout=1200)
    assert run.rc == 0, run
    # The recorder does see mutations (a converge makes them).
    made = mutations(recorder.since(before))
    for operation in ("ec2:CreateVpc", "ec2:AuthorizeSecurityGroupIngress", "s3:PutPublicAccessBlock"):
        assert operation in made, (operation, sorted(set(made)))
    return recorder


@pytest.fixture(scope="module")
def drifted(converged):
    """Out of band: an ingress rule on the app security group, desired count 9, a bucket's public access block gone."""
    ec2, ecs, s3 = (client(converged, name) for name in ("ec2", "ecs", "s3"))
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{PREFIX}-app"]}])
    ec2.authorize_security_group_ingress(
        GroupId=group["SecurityGroups"][0]["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ecs.update_service(cluster=PREFIX, service="backend", desiredCount=9)
    s3.delete_public_access_block(Bucket=BUCKET)
    return converged


def test_plan_after_out_of_band_changes_shows_them_and_mutates_nothing(drifted):
    before = drifted.mark()
    run = script("plan", drifted)
    assert run.rc == 0, run
    served = drifted.since(before)
    assert len(served) > 20, "the plan's reads were not recorded"
    assert mutations(served) == []
    rows = plan_table(run.output)
    assert ("Network", "update", f"security group {PREFIX}-app ingress", "-tcp/22 0.0.0.0/0") in rows, rows
    assert ("Data", "update", f"bucket {BUCKET}", "public_access_block") in rows, rows
    assert ("Compute", "update", "ecs service backend", "desiredCount") in rows, rows
    assert re.search(r"Plan: 0 to create, 3 to update, 0 to delete", run.output), run


def test_drift_playbook_fails_on_its_own_and_names_each_change(drifted):
    """drift.yml as AWX runs it (job type check, its own output callback): non-zero on drift."""
    before = drifted.mark()
    run = playbook("staging", "drift.yml", "--check", "--diff", env=drifted.env)
    assert run.rc != 0, run
    assert mutations(drifted.since(before)) == []
    report = run.output[run.output.index("Drift on staging-us-east-1") :]
    assert f"Network | update security group {PREFIX}-app ingress: -tcp/22 0.0.0.0/0" in report, run
    assert f"Data | update bucket {BUCKET}: public_access_block" in report, run
    # Desired count 9 is above the autoscaling maximum (3): drift, repaired by clamping.
    assert "Compute | update ecs service backend: desiredCount" in report, run


def test_drift_fails_under_ansible_runner_as_awx_runs_it(drifted, tmp_path, monkeypatch):
    """ansible-runner (AWX) sets ANSIBLE_CALLBACK_PLUGINS to its own folder: the plan
    callback is still found next to the playbook, so drift is not missed."""
    ansible_runner = pytest.importorskip("ansible_runner")
    monkeypatch.setenv("PATH", f"{ANSIBLE_PLAYBOOK.parent}:{os.environ['PATH']}")
    before = drifted.mark()
    result = ansible_runner.run(
        private_data_dir=str(tmp_path),
        project_dir=str(ROOT),
        playbook="playbooks/drift.yml",
        inventory=str(ROOT / "inventories" / "staging"),
        cmdline="--check --diff",
        envvars={**drifted.env, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        quiet=True,
    )
    output = result.stdout.read()
    assert result.rc != 0, output[-4000:]
    assert "Drift on staging-us-east-1: 3 resources differ" in output, output[-4000:]
    assert mutations(drifted.since(before)) == []


def test_converge_repairs_the_drift_and_drift_is_then_clean(drifted):
    run = playbook("staging", "site.yml", env=drifted.env, timeout=1200)
    assert run.rc == 0, run
    assert run.changed >= 2, run
    ec2, s3 = client(drifted, "ec2"), client(drifted, "s3")
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{PREFIX}-app"]}])
    ports = {rule.get("FromPort") for rule in group["SecurityGroups"][0]["IpPermissions"]}
    assert 22 not in ports
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()), block
    service = client(drifted, "ecs").describe_services(cluster=PREFIX, services=["backend"])["services"][0]
    assert service["desiredCount"] == 3  # clamped into autoscaling's [2, 3]
    before = drifted.mark()
    clean = script("drift", drifted)
    assert clean.rc == 0, clean
    assert "Plan: no changes" in clean.output
    assert mutations(drifted.since(before)) == []
