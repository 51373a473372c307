# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity filters: can the configured classes carry the seed's figures?

`rds_default_max_connections(instance_class, engine='postgres')` is the
`max_connections` RDS gives a PostgreSQL (or Aurora PostgreSQL) instance of that
class when the parameter group leaves the default formula in place:

    LEAST({DBInstanceClassMemory/9531392}, 5000)

DBInstanceClassMemory is the class's memory minus what the operating system and
the RDS processes on the instance reserve. AWS does not publish the reserved
amount; this module approximates it as 230 MiB + 2 % of the class memory, a fit to
the `max_connections` RDS reports on small and large classes (db.t2/t3.micro 81-87,
db.t3.medium ~410, db.t3.large ~850, db.r4.large ~1660; the fit stays within 5 %).
For capacity checks that is close enough: the figures we check against are
tens or hundreds of connections, not the last few.

`capacity_problems(...)` returns a list of messages (empty when everything fits):
an instance class that is not in the table (naming the known ones), a
`max_connections` (explicit, from the parameter group, or the class default)
below the required concurrent connections, an explicit `max_connections` above
what the class's memory carries by default, and a per-task throughput
(requests/s divided by the minimum task count) above the configured capacity of
one task. Bad input (negative numbers, booleans, unknown engines) raises
AnsibleFilterError naming the value.
"""

import re

from ansible.errors import AnsibleFilterError

_GIB = 1024**3
_MIB = 1024**2
_BYTES_PER_CONNECTION = 9531392
_MAX_CONNECTIONS_CAP = 5000
_RESERVED_BASE = 230 * _MIB
_RESERVED_SHARE = 0.02
ENGINES = ("postgres", "aurora-postgresql")

# Memory (GiB) per size, by instance family. The burstable families share one
# table, so do the general purpose and the memory optimised ones.
_BURSTABLE = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_GENERAL = {
    "large": 8,
    "xlarge": 16,
    "2xlarge": 32,
    "4xlarge": 64,
    "8xlarge": 128,
    "12xlarge": 192,
    "16xlarge": 256,
    "24xlarge": 384,
}
_MEMORY = {
    "large": 16,
    "xlarge": 32,
    "2xlarge": 64,
    "4xlarge": 128,
    "8xlarge": 256,
    "12xlarge": 384,
    "16xlarge": 512,
    "24xlarge": 768,
}
_FAMILIES = {
    "t3": _BURSTABLE,
    "t4g": _BURSTABLE,
    "m5": _GENERAL,
    "m6g": _GENERAL,
    "m6i": _GENERAL,
    "m7g": _GENERAL,
    "r5": _MEMORY,
    "r6g": _MEMORY,
    "r6i": _MEMORY,
    "r7g": _MEMORY,
}
INSTANCE_CLASS_MEMORY_GIB = {
    f"db.{family}.{size}": gib for family, sizes in _FAMILIES.items() for size, gib in sizes.items()
}
_NUMBER = re.compile(r"^\s*\d+\s*$")


def _known_classes():
    return ", ".join(sorted(INSTANCE_CLASS_MEMORY_GIB))


def _class_memory(instance_class, caller):
    if not isinstance(instance_class, str) or instance_class not in INSTANCE_CLASS_MEMORY_GIB:
        raise AnsibleFilterError(
            f"{caller}: unknown DB instance class {instance_class!r}; known classes: {_known_classes()}"
        )
    return INSTANCE_CLASS_MEMORY_GIB[instance_class] * _GIB


def _check_engine(engine, caller):
    if engine not in ENGINES:
        raise AnsibleFilterError(f"{caller}: engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def _count(value, name, caller, minimum=0, allow_none=True):
    """A whole number >= minimum (ints or digit strings, as inventories give them)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and _NUMBER.match(value))):
        raise AnsibleFilterError(f"{caller}: {name} must be a whole number, got {value!r}")
    number = int(value)
    if number < minimum:
        raise AnsibleFilterError(f"{caller}: {name} must be at least {minimum}, got {value!r}")
    return number


def _rate(value, name, caller):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AnsibleFilterError(f"{caller}: {name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise AnsibleFilterError(f"{caller}: {name} must be a number, got {value!r}") from None
    if number <= 0:
        raise AnsibleFilterError(f"{caller}: {name} must be greater than 0, got {value!r}")
    return number


def instance_class_memory_bytes(instance_class):
    """Memory of a DB instance class in bytes (before RDS's reservation)."""
    return _class_memory(instance_class, "instance_class_memory_bytes")


def rds_default_max_connections(instance_class, engine="postgres"):
    """Default max_connections of an RDS PostgreSQL instance of instance_class."""
    _check_engine(engine, "rds_default_max_connections")
    memory = _class_memory(instance_class, "rds_default_max_connections")
    usable = memory - _RESERVED_BASE - memory * _RESERVED_SHARE
    return min(int(usable // _BYTES_PER_CONNECTION), _MAX_CONNECTIONS_CAP)


def _connection_problems(instance_class, required, explicit, engine):
    caller = "capacity_problems"
    if instance_class not in INSTANCE_CLASS_MEMORY_GIB:
        return [f"DB instance class {instance_class!r} is unknown; use one of: {_known_classes()}"]
    default = rds_default_max_connections(instance_class, engine)
    problems = []
    if explicit is not None and explicit > default:
        problems.append(
            f"max_connections {explicit} is above what {instance_class} carries by default ({default}); "
            "each connection needs memory: use a larger class or a lower max_connections"
        )
    if required is None:
        return problems
    available = explicit if explicit is not None else default
    source = "the parameter group's max_connections" if explicit is not None else f"{instance_class}'s default"
    if required > available:
        problems.append(
            f"{required} concurrent database connections are required but {source} allows {available}"
            + ("" if explicit is not None else f" ({caller} uses LEAST(DBInstanceClassMemory/9531392, 5000))")
        )
    return problems


def capacity_problems(
    instance_class=None,
    required_connections=None,
    max_connections=None,
    requests_per_second=None,
    min_tasks=None,
    task_capacity_rps=None,
    engine="postgres",
):
    """Messages saying which configured class cannot carry which figure ([] when all fit).

    instance_class: the DB instance class (None skips the database checks).
    required_connections: concurrent connections the application needs (seed).
    max_connections: the parameter group's explicit max_connections (None: the class default).
    requests_per_second, min_tasks, task_capacity_rps: the service's required
    throughput, its minimum task count and what one task serves; the check runs
    when all three are given.
    """
    caller = "capacity_problems"
    _check_engine(engine, caller)
    required = _count(required_connections, "required_connections", caller, minimum=1)
    explicit = _count(max_connections, "max_connections", caller, minimum=1)
    rps = _rate(requests_per_second, "requests_per_second", caller)
    tasks = _count(min_tasks, "min_tasks", caller, minimum=1)
    per_task = _rate(task_capacity_rps, "task_capacity_rps", caller)
    problems = []
    if instance_class is not None:
        if not isinstance(instance_class, str):
            raise AnsibleFilterError(f"{caller}: instance_class must be a string such as db.t3.medium")
        problems.extend(_connection_problems(instance_class, required, explicit, engine))
    if None not in (rps, tasks, per_task):
        needed = rps / tasks
        if needed > per_task:
            problems.append(
                f"{rps:g} requests/s over at least {tasks} tasks is {needed:g} requests/s per task, "
                f"above the configured capacity of one task ({per_task:g} requests/s)"
            )
    return problems


class FilterModule:
    def filters(self):
        return {
            "rds_default_max_connections": rds_default_max_connections,
            "capacity_problems": capacity_problems,
        }
