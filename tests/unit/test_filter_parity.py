# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parity filters: each environment's row of the seed's checklist, from its inventory."""

import shutil
from pathlib import Path

import parity
import pytest
import yaml
from ansible.errors import AnsibleFilterError

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
EXPECTED = yaml.safe_load((ROOT / "plugins" / "filter" / "parity_expected.yml").read_text(encoding="utf-8"))


def row_of(inventory):
    return parity.parity_row(parity.parity_inventory(inventory, ROLES))


def copy_staging(tmp_path, name="staging"):
    target = tmp_path / "inventories" / name
    shutil.copytree(ROOT / "inventories" / "staging", target)
    return target


def set_vars(inventory, filename, **values):
    path = inventory / "group_vars" / "all" / filename
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    data.update(values)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def prod_like(tmp_path, schedule="cron(0 * * * ? *)"):
    """staging's inventory with prod's figures: CDN, Auto 5-10, hourly backups."""
    inventory = copy_staging(tmp_path, "prod")
    set_vars(inventory, "compute.yml", aws_compute_min_capacity=5, aws_compute_max_capacity=10)
    set_vars(inventory, "backup.yml", aws_backup_schedule=schedule)
    set_vars(inventory, "edge.yml", aws_edge_cloudfront_enabled=True)
    validate = inventory / "group_vars" / "all" / "validate.yml"
    data = yaml.safe_load(validate.read_text(encoding="utf-8"))
    data["inventory_check_roles"].append("aws_edge")
    validate.write_text(yaml.safe_dump(data), encoding="utf-8")
    return inventory


def rows_with(**replaced):
    """dev's and staging's real rows, prod not configured, then the replaced ones."""
    rows = {env: row_of(ROOT / "inventories" / env) for env in ("dev", "staging")}
    rows["prod"] = {}
    rows.update(replaced)
    return rows


# --- the real inventories ---------------------------------------------------------


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_the_real_inventories_match_the_seed(environment):
    row = row_of(ROOT / "inventories" / environment)
    assert row == {feature: EXPECTED["expected"][feature][environment] for feature in EXPECTED["features"]}


def test_the_real_inventories_have_no_break():
    rows = {env: row_of(ROOT / "inventories" / env) for env in EXPECTED["environments"]}
    assert parity.parity_breaks(rows, EXPECTED) == []
    prod = rows["prod"]
    # prod is either not configured yet (no roles listed) or matches the seed.
    assert prod == {} or prod == {feature: EXPECTED["expected"][feature]["prod"] for feature in EXPECTED["features"]}


def test_an_inventory_without_roles_is_not_configured(tmp_path):
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    (tmp_path / "group_vars" / "all" / "aws.yml").write_text("aws_environment: prod\n", encoding="utf-8")
    assert parity.parity_inventory(tmp_path, ROLES) == {}
    assert parity.parity_row({}) == {}
    table = parity.parity_table({"dev": row_of(ROOT / "inventories" / "dev"), "prod": {}}, EXPECTED)
    assert "not configured" in table


def test_roles_chosen_per_region_are_read_as_their_union(tmp_path):
    folder = tmp_path / "group_vars" / "all"
    folder.mkdir(parents=True)
    (folder / "validate.yml").write_text(
        'inventory_check_roles: "{{ inventory_check_roles_by_region[x] | flatten }}"\n'
        "inventory_check_roles_by_region:\n"
        "  standby: &standby [aws_network, aws_loadbalancer]\n"
        "  primary: [*standby, aws_aurora, aws_edge]\n",
        encoding="utf-8",
    )
    variables = parity.parity_inventory(tmp_path, ROLES)
    assert variables["inventory_check_roles"] == ["aws_network", "aws_loadbalancer", "aws_aurora", "aws_edge"]
    # Role defaults come in: aws_edge turns CloudFront on by default.
    assert parity.parity_row(variables)["CDN"] == parity.YES


@pytest.mark.parametrize(
    ("values", "tls"),
    [
        ({}, "✗ (no database force_ssl)"),
        ({"aws_aurora_parameters": {"rds.force_ssl": 1}}, parity.YES),
        ({"aws_aurora_parameters": {"rds.force_ssl": 0}}, "✗ (no database force_ssl)"),
        ({"aws_aurora_force_ssl": True}, parity.YES),
    ],
)
def test_aurora_forces_tls_through_its_parameters(values, tls):
    staging = parity.parity_inventory(ROOT / "inventories" / "staging", ROLES)
    roles = [role for role in staging["inventory_check_roles"] if role != "aws_database"] + ["aws_aurora"]
    variables = {key: value for key, value in staging.items() if not key.startswith("aws_database_")}
    variables.update(values, inventory_check_roles=roles)
    assert parity.parity_row(variables)["SSL/TLS"] == tls


# --- breaking the checklist ---------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "values", "why"),
    [
        ("loadbalancer.yml", {"aws_loadbalancer_https": False}, "no HTTPS listener"),
        ("database.yml", {"aws_database_force_ssl": False}, "no database force_ssl"),
        (
            "loadbalancer.yml",
            {"aws_loadbalancer_certificate_arn": "", "aws_loadbalancer_domain_name": ""},
            "certificate",
        ),
    ],
)
def test_staging_without_tls_breaks_parity_naming_the_feature(tmp_path, filename, values, why):
    inventory = copy_staging(tmp_path)
    set_vars(inventory, filename, **values)
    row = row_of(inventory)
    assert row["SSL/TLS"].startswith(parity.NO) and why in row["SSL/TLS"]
    breaks = parity.parity_breaks(rows_with(staging=row), EXPECTED)
    assert len(breaks) == 1 and breaks[0].startswith("staging SSL/TLS:")
    assert "SSL/TLS" in parity.parity_table(rows_with(staging=row), EXPECTED).split("<<")[0].splitlines()[-1]


def test_a_prod_like_inventory_passes_and_breaks_when_backups_go_daily(tmp_path):
    hourly = row_of(prod_like(tmp_path))
    assert hourly["Backups"] == "Hourly" and hourly["Scaling"] == "Auto 5-10" and hourly["CDN"] == parity.YES
    assert parity.parity_breaks(rows_with(prod=hourly), EXPECTED) == []

    daily = row_of(prod_like(tmp_path / "daily", schedule="cron(0 5 * * ? *)"))
    assert daily["Backups"] == "Daily"
    assert parity.parity_breaks(rows_with(prod=daily), EXPECTED) == [
        "prod Backups: inventory gives 'Daily', the seed's checklist says 'Hourly'"
    ]


def test_dev_without_redis_and_staging_without_datadog(tmp_path):
    dev = parity.parity_inventory(ROOT / "inventories" / "dev", ROLES)
    assert parity.parity_row(dict(dev, local_redis_enabled=False))["Redis"] == parity.NO
    staging = parity.parity_inventory(ROOT / "inventories" / "staging", ROLES)
    assert parity.parity_row(dict(staging, aws_compute_datadog_image=""))["Monitoring"] == "Partial (CloudWatch, X-Ray)"
    assert parity.parity_row(dict(staging, aws_compute_min_capacity=3))["Scaling"] == "Fixed 3"


# --- schedules, live rows, names ------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "label"),
    [
        ("cron(0 5 * * ? *)", "Daily"),
        ("cron(30 23 ? * * *)", "Daily"),
        ("cron(0 * * * ? *)", "Hourly"),
        ("cron(15 0/1 * * ? *)", "Hourly"),
        ("cron(0 */6 * * ? *)", "Every 6 hours"),
        ("cron(0 1,13 * * ? *)", "2 times a day"),
        ("cron(0 5 ? * SUN *)", "Weekly"),
        ("cron(0 5 1 * ? *)", "Monthly"),
        ("rate(1 hour)", "Hourly"),
        ("rate(60 minutes)", "Hourly"),
        ("rate(12 hours)", "Every 12 hours"),
        ("rate(1 day)", "Daily"),
    ],
)
def test_backup_frequency(schedule, label):
    assert parity.backup_frequency(schedule) == label


@pytest.mark.parametrize("schedule", ["", "cron(0 5 * *)", "every day", None])
def test_backup_frequency_rejects_what_it_cannot_read(schedule):
    with pytest.raises(AnsibleFilterError):
        parity.backup_frequency(schedule)


def test_deployed_state_that_differs_from_the_inventory_is_a_break():
    facts = {
        "database": True,
        "cache": True,
        "load_balancer": True,
        "https_listener": False,
        "cdn": False,
        "scaling": {"min": 2, "max": 4},
        "backup_schedules": ["cron(0 5 * * ? *)"],
        "monitoring": {"cloudwatch": True, "datadog": True, "xray": True},
    }
    live = parity.parity_live_row(facts)
    assert live["SSL/TLS"] == "✗ (no HTTPS listener)" and live["Scaling"] == "Auto 2-4"
    assert live["Monitoring"] == "Full" and live["Backups"] == "Daily" and live["PostgreSQL"] == parity.YES
    breaks = parity.parity_breaks(rows_with(), EXPECTED, {"staging": live})
    assert breaks == [
        "staging SSL/TLS: deployed is '✗ (no HTTPS listener)', the inventory says '✓'",
        "staging Scaling: deployed is 'Auto 2-4', the inventory says 'Auto 2-3'",
    ]
    table = parity.parity_table(rows_with(), EXPECTED, {"staging": live})
    assert "[deployed: Auto 2-4]" in table and "Staging (deployed)" in table


def test_dev_live_row_and_an_environment_not_deployed():
    assert parity.parity_live_row({"database": True, "cache": False, "redis_optional": True}) == {
        "PostgreSQL": parity.YES,
        "Redis": parity.NO,
    }
    assert parity.parity_live_row({}) == {}


def test_names_follow_the_role_defaults():
    names = parity.parity_names(parity.parity_inventory(ROOT / "inventories" / "staging", ROLES))
    assert names == {
        "region": "us-east-1",
        "prefix": "reelle-staging",
        "load_balancer": "reelle-staging",
        "cache": "reelle-staging-redis",
        "task_family": "reelle-staging-backend",
        "scalable_target": "service/reelle-staging/backend",
        "backup_plan": "reelle-staging-plan",
        "alarm_prefix": "reelle-staging-",
    }


@pytest.mark.parametrize("bad", [None, ["a"], "text"])
def test_bad_input_raises(bad):
    with pytest.raises(AnsibleFilterError):
        parity.parity_row(bad)


def test_a_templated_flag_is_refused_with_its_name():
    staging = parity.parity_inventory(ROOT / "inventories" / "staging", ROLES)
    with pytest.raises(AnsibleFilterError, match="aws_loadbalancer_https"):
        parity.parity_row(dict(staging, aws_loadbalancer_https="{{ lookup('env', 'X') }}"))
