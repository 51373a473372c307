# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parity filters: the seed's "Environment Parity Checklist", computed.

`parity_inventory(inventory_dir, roles_dir)` reads an environment's variables
the way they are written (no templating): the defaults of the roles its
`inventory_check_roles` lists, overridden by its group_vars and the primary
host's host_vars. An inventory that lists no roles yet (prod before it lands)
gives `{}`: "not configured".

`parity_row(vars)` maps those variables to the checklist's eight features:

- PostgreSQL: ✓ when local_postgres, aws_database or aws_aurora is used.
- Redis: ✓ with aws_cache; "Optional" with local_redis enabled; else ✗.
- Load Balancer: ✓ with aws_loadbalancer.
- CDN: ✓ with aws_edge and CloudFront on (`aws_edge_cloudfront_enabled`, or a
  non-empty `aws_edge_cloudfront` dict).
- SSL/TLS: ✓ when the load balancer serves HTTPS with a certificate (an ARN or
  a domain name to issue one for) and the database forces TLS
  (`aws_database_force_ssl`; Aurora: `aws_aurora_force_ssl` or `rds.force_ssl`
  in `aws_aurora_parameters`); "✗ (no ...)" names what is missing.
- Monitoring: "Full" = CloudWatch (aws_observability alarms + Container
  Insights) + DataDog (agent sidecar image) + X-Ray (sampling rule + daemon
  sidecar); "Partial (...)" lists what is wired; "Console" without AWS roles.
- Scaling: "Auto <min>-<max>" from aws_compute_min/max_capacity ("Fixed <n>"
  when equal); "Manual" without aws_compute.
- Backups: "Daily" / "Hourly" / ... from aws_backup_schedule (or
  `aws_aurora_backup_schedule`); "Manual" without aws_backup.

`parity_live_row(facts, vars)` maps what describe calls (or the Docker engine)
report to the same features, for the features they can show.
`parity_breaks(rows, expected, live)` lists the differences and
`parity_table(rows, expected, live)` renders the table.
"""

import re
from pathlib import Path

import yaml
from ansible.errors import AnsibleFilterError

YES = "✓"
NO = "✗"
NOT_CONFIGURED = "not configured"
_REFERENCE = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")


# --- reading an inventory ----------------------------------------------------------


def _yaml_files(folder):
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and not p.name.startswith("vault"))


def _load(path):
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise AnsibleFilterError(f"parity_inventory: cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise AnsibleFilterError(f"parity_inventory: {path} does not hold a mapping of variables")
    return data


def _vars_of(base, name):
    """Variables of group_vars/<name> or host_vars/<name>: a file or a folder of files."""
    files = []
    for suffix in (".yml", ".yaml"):
        if (base / f"{name}{suffix}").is_file():
            files.append(base / f"{name}{suffix}")
    files.extend(_yaml_files(base / name))
    found = {}
    for path in files:
        found.update(_load(path))
    return found


def parity_inventory(inventory_dir, roles_dir):
    """Variables of one inventory as written (no templating).

    The defaults of the roles `inventory_check_roles` lists, then group_vars/all, the other
    groups' group_vars, and the primary host's host_vars (`aws_primary_host`, else the only
    host). {} when the inventory does not list its roles yet (not configured).
    """
    inventory = Path(str(inventory_dir))
    found = _vars_of(inventory / "group_vars", "all")
    groups = inventory / "group_vars"
    names = sorted({p.stem if p.is_file() else p.name for p in groups.iterdir()} - {"all"}) if groups.is_dir() else []
    for name in names:
        found.update(_vars_of(groups, name))
    hosts = sorted(p.stem if p.is_file() else p.name for p in (inventory / "host_vars").glob("*"))
    primary = found.get("aws_primary_host") or (hosts[0] if len(hosts) == 1 else None)
    if primary:
        found.update(_vars_of(inventory / "host_vars", str(primary)))
    roles = _used_roles(found)
    if not roles:
        return {}
    merged = {}
    for role in roles:
        defaults = Path(str(roles_dir)) / str(role) / "defaults" / "main.yml"
        if defaults.is_file():
            merged.update(_load(defaults))
    merged.update(found)
    merged["inventory_check_roles"] = roles
    return merged


def _flatten(items):
    for item in items:
        if isinstance(item, list | tuple):
            yield from _flatten(item)
        else:
            yield item


def _used_roles(found):
    """The roles an environment uses: inventory_check_roles, or - when that is a template
    choosing per host (prod: per region) - the union of the `inventory_check_roles_by_*` lists."""
    roles = found.get("inventory_check_roles")
    if isinstance(roles, list):
        return list(dict.fromkeys(_flatten(roles)))
    union = []
    for name, value in sorted(found.items()):
        if name.startswith("inventory_check_roles_by_") and isinstance(value, dict):
            union.extend(_flatten(list(value.values())))
    return list(dict.fromkeys(union))


# --- one environment's row ---------------------------------------------------------


def _value(variables, name, default=None, _depth=0):
    """A variable, following plain `{{ other }}` references within the same inventory."""
    value = variables.get(name, default)
    match = _REFERENCE.match(value) if isinstance(value, str) else None
    if match and match.group(1) in variables and _depth < 10:
        return _value(variables, match.group(1), default, _depth + 1)
    return value


def _true(variables, name, default=False):
    value = _value(variables, name, default)
    if isinstance(value, str):
        if "{{" in value:
            raise AnsibleFilterError(f"parity_row: {name} is a template ({value!r}); parity needs a plain value")
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def _int(variables, name):
    value = _value(variables, name)
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError(f"parity_row: {name} must be a number, got {value!r}") from error


def backup_frequency(schedule):
    """Daily / Hourly / Every N hours / Weekly / ... of an AWS Backup schedule expression."""
    text = str(schedule or "").strip()
    rate = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", text)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if unit == "minute":
            return "Hourly" if count == 60 else f"Every {count} minutes"
        if unit == "hour":
            return "Hourly" if count == 1 else ("Daily" if count == 24 else f"Every {count} hours")
        return "Daily" if count == 1 else f"Every {count} days"
    cron = re.fullmatch(r"cron\((.+)\)", text)
    if not cron or len(cron.group(1).split()) != 6:
        raise AnsibleFilterError(f"backup schedule {text!r} is neither cron(6 fields) nor rate(...)")
    minute, hour, day, _month, weekday, _year = cron.group(1).split()
    if day not in ("*", "?") or weekday not in ("*", "?"):
        return "Weekly" if weekday not in ("*", "?") else "Monthly"
    if hour in ("*", "0/1", "*/1"):
        return "Hourly"
    step = re.fullmatch(r"(?:\*|\d+)/(\d+)", hour)
    if step:
        return f"Every {step.group(1)} hours"
    if "," in hour:
        return f"{len(hour.split(','))} times a day"
    if hour.isdigit() and minute.isdigit():
        return "Daily"
    raise AnsibleFilterError(f"backup schedule {text!r}: cannot tell how often it runs")


def scaling_label(minimum, maximum):
    minimum, maximum = int(minimum), int(maximum)
    return f"Fixed {minimum}" if minimum == maximum else f"Auto {minimum}-{maximum}"


def _tls(variables, roles):
    if "aws_loadbalancer" not in roles:
        return NO
    missing = []
    if not _true(variables, "aws_loadbalancer_https"):
        missing.append("HTTPS listener")
    elif not (
        _value(variables, "aws_loadbalancer_certificate_arn") or _value(variables, "aws_loadbalancer_domain_name")
    ):
        missing.append("certificate")
    if not _database_forces_tls(variables, roles):
        missing.append("database force_ssl")
    return YES if not missing else f"{NO} (no {', '.join(missing)})"


def _database_forces_tls(variables, roles):
    """aws_database_force_ssl, and for Aurora aws_aurora_force_ssl or rds.force_ssl in aws_aurora_parameters."""
    checks = []
    if "aws_database" in roles:
        checks.append(_true(variables, "aws_database_force_ssl"))
    if "aws_aurora" in roles:
        parameters = _value(variables, "aws_aurora_parameters") or {}
        forced = str(parameters.get("rds.force_ssl", "")).strip().lower() in ("1", "true", "on")
        checks.append(_true(variables, "aws_aurora_force_ssl") or forced)
    return bool(checks) and all(checks)


def _monitoring(variables, roles):
    if not {"aws_observability", "aws_compute"} & roles:
        return "Console"
    wired = []
    if "aws_observability" in roles and _value(variables, "aws_compute_container_insights") == "enabled":
        wired.append("CloudWatch")
    if "aws_compute" in roles and _value(variables, "aws_compute_datadog_image"):
        wired.append("DataDog")
    if (
        "aws_compute" in roles
        and _value(variables, "aws_compute_xray_image")
        and _true(variables, "aws_observability_xray_enabled")
    ):
        wired.append("X-Ray")
    return "Full" if len(wired) == 3 else f"Partial ({', '.join(wired) or 'nothing wired'})"


def _cdn(variables, roles):
    if "aws_edge" not in roles:
        return NO
    if "aws_edge_cloudfront_enabled" in variables:
        return YES if _true(variables, "aws_edge_cloudfront_enabled") else NO
    return YES if _value(variables, "aws_edge_cloudfront") else NO


def parity_row(variables):
    """The checklist's eight features for one environment's variables ({} when not configured)."""
    if variables is None or not hasattr(variables, "get"):
        raise AnsibleFilterError(f"parity_row expects a mapping of variables, got {type(variables).__name__}")
    if not variables:
        return {}
    roles = set(variables.get("inventory_check_roles") or [])
    if "local_redis" in roles:
        redis = "Optional" if _true(variables, "local_redis_enabled", True) else NO
    else:
        redis = YES if "aws_cache" in roles else NO
    if "aws_backup" in roles:
        backups = backup_frequency(_value(variables, "aws_backup_schedule"))
    elif "aws_aurora_backup_schedule" in variables:
        backups = backup_frequency(_value(variables, "aws_aurora_backup_schedule"))
    else:
        backups = "Manual"
    return {
        "PostgreSQL": YES if {"local_postgres", "aws_database", "aws_aurora"} & roles else NO,
        "Redis": redis,
        "Load Balancer": YES if "aws_loadbalancer" in roles else NO,
        "CDN": _cdn(variables, roles),
        "SSL/TLS": _tls(variables, roles),
        "Monitoring": _monitoring(variables, roles),
        "Scaling": (
            scaling_label(_int(variables, "aws_compute_min_capacity"), _int(variables, "aws_compute_max_capacity"))
            if "aws_compute" in roles
            else "Manual"
        ),
        "Backups": backups,
    }


# --- what is deployed ----------------------------------------------------------------


_INLINE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _render(variables, name, _depth=0):
    """A string variable with its plain `{{ other }}` references filled in (others stay as written)."""
    value = _value(variables, name)
    if not isinstance(value, str) or _depth > 10:
        return value

    def fill(match):
        other = match.group(1)
        if other in variables and isinstance(_value(variables, other), str | int):
            return str(_render(variables, other, _depth + 1))
        return match.group(0)

    return _INLINE.sub(fill, value)


def parity_names(variables):
    """Names and region the deployed resources of an AWS environment are found by."""
    if not variables or "aws_name_prefix" not in variables and "aws_region" not in variables:
        return {}
    prefix = _render(variables, "aws_name_prefix")
    cluster = _render(variables, "aws_compute_cluster_name") or prefix
    service = _render(variables, "aws_compute_service_name") or "backend"
    return {
        "region": _render(variables, "aws_region"),
        "prefix": prefix,
        "load_balancer": _render(variables, "aws_loadbalancer_name") or prefix,
        "cache": _render(variables, "aws_cache_replication_group_id") or f"{prefix}-redis",
        "task_family": _render(variables, "aws_compute_task_family") or f"{prefix}-backend",
        "scalable_target": f"service/{cluster}/{service}",
        "backup_plan": _render(variables, "aws_backup_plan_name") or f"{prefix}-plan",
        "alarm_prefix": _render(variables, "aws_observability_alarm_name_prefix") or f"{prefix}-",
    }


def deployed_aws_facts(names, session=None):
    """Read-only describe calls: what parity_live_row needs. {} when the VPC is not there (not deployed).

    Not a filter (it calls AWS): parity.yml runs it with the controller's Python.
    """
    import boto3  # noqa: PLC0415 - only this reader needs it

    session = session or boto3.session.Session(region_name=names["region"])
    ec2 = session.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [names["prefix"]]}])["Vpcs"]
    if not vpcs:
        return {}
    prefix = names["prefix"]
    rds = session.client("rds")
    instances = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    clusters = [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]]
    elasticache = session.client("elasticache")
    groups = elasticache.describe_replication_groups()["ReplicationGroups"]
    elb = session.client("elbv2")
    lbs = [
        lb for lb in elb.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"] == names["load_balancer"]
    ]
    listeners = elb.describe_listeners(LoadBalancerArn=lbs[0]["LoadBalancerArn"])["Listeners"] if lbs else []
    cloudfront = session.client("cloudfront").list_distributions()["DistributionList"].get("Items", [])
    targets = session.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[names["scalable_target"]]
    )["ScalableTargets"]
    backup = session.client("backup")
    schedules = []
    for plan in backup.list_backup_plans()["BackupPlansList"]:
        if plan["BackupPlanName"] == names["backup_plan"]:
            rules = backup.get_backup_plan(BackupPlanId=plan["BackupPlanId"])["BackupPlan"]["Rules"]
            schedules.extend(rule["ScheduleExpression"] for rule in rules if rule.get("ScheduleExpression"))
    alarms = session.client("cloudwatch").describe_alarms(AlarmNamePrefix=names["alarm_prefix"])["MetricAlarms"]
    ecs = session.client("ecs")
    try:
        containers = ecs.describe_task_definition(taskDefinition=names["task_family"])["taskDefinition"]
        images = [c["image"] for c in containers["containerDefinitions"]]
    except ecs.exceptions.ClientException:
        images = []
    return {
        "database": any(i.startswith(prefix) for i in instances + clusters),
        "cache": any(g["ReplicationGroupId"] == names["cache"] and g["Status"] != "deleting" for g in groups),
        "load_balancer": bool(lbs),
        "https_listener": any(item["Port"] == 443 and item["Protocol"] == "HTTPS" for item in listeners),
        "cdn": any(str(item.get("Comment", "")).startswith(prefix) for item in cloudfront),
        "scaling": {"min": targets[0]["MinCapacity"], "max": targets[0]["MaxCapacity"]} if targets else None,
        "backup_schedules": schedules,
        "monitoring": {
            "cloudwatch": bool(alarms),
            "datadog": any("datadog" in image for image in images),
            "xray": any("xray" in image for image in images),
        },
    }


def parity_live_row(facts, variables=None):
    """Features as deployed, from the facts parity.yml gathers; only those the facts show.

    facts (every key optional): database, cache, load_balancer, https_listener, cdn (bool);
    redis_optional (bool, dev: Redis is an optional container); scaling ({min, max});
    backup_schedules (list); monitoring ({cloudwatch, datadog, xray: bool}).
    """
    if not facts:
        return {}
    if not hasattr(facts, "get"):
        raise AnsibleFilterError(f"parity_live_row expects a mapping, got {type(facts).__name__}")
    row = {}
    if "database" in facts:
        row["PostgreSQL"] = YES if facts["database"] else NO
    if "cache" in facts:
        row["Redis"] = ("Optional" if facts.get("redis_optional") else YES) if facts["cache"] else NO
    if "load_balancer" in facts:
        row["Load Balancer"] = YES if facts["load_balancer"] else NO
    if "cdn" in facts:
        row["CDN"] = YES if facts["cdn"] else NO
    if "https_listener" in facts:
        row["SSL/TLS"] = YES if facts["https_listener"] else f"{NO} (no HTTPS listener)"
    if facts.get("scaling"):
        row["Scaling"] = scaling_label(facts["scaling"]["min"], facts["scaling"]["max"])
    elif "scaling" in facts:
        row["Scaling"] = "Manual"
    if "backup_schedules" in facts:
        schedules = facts["backup_schedules"] or []
        labels = sorted({backup_frequency(item) for item in schedules})
        row["Backups"] = " + ".join(labels) if labels else "Manual"
    if "monitoring" in facts:
        wired = [name for name, key in (("CloudWatch", "cloudwatch"), ("DataDog", "datadog"), ("X-Ray", "xray"))]
        wired = [name for name in wired if facts["monitoring"].get(name.lower().replace("-", ""))]
        row["Monitoring"] = "Full" if len(wired) == 3 else f"Partial ({', '.join(wired) or 'nothing wired'})"
    return row


# --- comparing and printing ----------------------------------------------------------


def _check_expected(expected):
    if not isinstance(expected, dict) or not {"environments", "features", "expected"} <= set(expected):
        raise AnsibleFilterError("parity: expected must hold environments, features and expected (parity_expected.yml)")


def parity_breaks(rows, expected, live=None):
    """Differences: inventory vs the seed, and deployed vs the inventory (not configured is no break)."""
    _check_expected(expected)
    live = live or {}
    breaks = []
    for environment in expected["environments"]:
        row = rows.get(environment) or {}
        if not row:
            continue
        for feature in expected["features"]:
            want = expected["expected"][feature][environment]
            have = row.get(feature)
            if have != want:
                breaks.append(f"{environment} {feature}: inventory gives {have!r}, the seed's checklist says {want!r}")
            deployed = (live.get(environment) or {}).get(feature)
            if deployed is not None and deployed != have:
                breaks.append(f"{environment} {feature}: deployed is {deployed!r}, the inventory says {have!r}")
    return breaks


def parity_table(rows, expected, live=None):
    """The checklist as a text table; a cell that breaks parity is marked `!= <seed>` or `[deployed: x]`."""
    _check_expected(expected)
    live = live or {}
    environments = expected["environments"]
    header = ["Feature"] + [
        f"{env.capitalize()}{'' if not rows.get(env) else ' (deployed)' if live.get(env) else ''}"
        for env in environments
    ]
    lines = []
    for feature in expected["features"]:
        cells = [feature]
        for env in environments:
            row = rows.get(env) or {}
            if not row:
                cells.append(NOT_CONFIGURED)
                continue
            want = expected["expected"][feature][env]
            cell = str(row.get(feature))
            if row.get(feature) != want:
                cell += f"  != {want}  <<"
            deployed = (live.get(env) or {}).get(feature)
            if deployed is not None and deployed != row.get(feature):
                cell += f"  [deployed: {deployed}]  <<"
            cells.append(cell)
        lines.append(cells)
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]

    def render(cells):
        return "| " + " | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(cells)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(header), rule, *[render(line) for line in lines]])


class FilterModule:
    def filters(self):
        return {
            "parity_inventory": parity_inventory,
            "parity_row": parity_row,
            "parity_live_row": parity_live_row,
            "parity_names": parity_names,
            "parity_breaks": parity_breaks,
            "parity_table": parity_table,
            "backup_frequency": backup_frequency,
        }
