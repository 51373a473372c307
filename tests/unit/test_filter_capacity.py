# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven tests of the capacity filters."""

import pytest
from ansible.errors import AnsibleFilterError
from capacity import (
    INSTANCE_CLASS_MEMORY_GIB,
    FilterModule,
    capacity_problems,
    instance_class_memory_bytes,
    rds_default_max_connections,
)


@pytest.mark.parametrize(
    ("instance_class", "engine", "expected"),
    [
        # Close to what RDS reports (db.t3.micro ~81-87, db.t3.medium ~410, db.t3.large ~850).
        ("db.t3.micro", "postgres", 85),
        ("db.t3.small", "postgres", 195),
        ("db.t3.medium", "postgres", 416),
        ("db.t3.large", "postgres", 857),
        ("db.t4g.medium", "postgres", 416),
        ("db.m5.large", "postgres", 857),
        ("db.r5.large", "postgres", 1741),
        ("db.r5.xlarge", "aurora-postgresql", 3507),
        ("db.r6g.2xlarge", "postgres", 5000),
        ("db.r6i.4xlarge", "postgres", 5000),
    ],
)
def test_rds_default_max_connections(instance_class, engine, expected):
    assert rds_default_max_connections(instance_class, engine) == expected


@pytest.mark.parametrize(
    "family",
    ["t3", "t4g", "m5", "m6g", "m6i", "r5", "r6g", "r6i"],
)
def test_table_covers_the_families_up_to_4xlarge(family):
    sizes = ["micro", "small", "medium", "large", "xlarge", "2xlarge"] if family in ("t3", "t4g") else ["large"]
    sizes += [] if family in ("t3", "t4g") else ["xlarge", "2xlarge", "4xlarge"]
    for size in sizes:
        assert f"db.{family}.{size}" in INSTANCE_CLASS_MEMORY_GIB


def test_default_grows_with_memory_and_is_capped():
    values = [rds_default_max_connections(f"db.r5.{size}") for size in ("large", "xlarge", "2xlarge", "4xlarge")]
    assert values == sorted(values)
    assert max(values) == 5000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("db.t3.nano",), "unknown DB instance class 'db.t3.nano'; known classes: db.m5.12xlarge"),
        ((None,), "unknown DB instance class None"),
        (("db.t3.medium", "mysql"), "engine must be one of postgres, aurora-postgresql"),
    ],
)
def test_rds_default_max_connections_rejects_bad_input(args, message):
    with pytest.raises(AnsibleFilterError, match=message.replace(".", r"\.").replace("(", r"\(")):
        rds_default_max_connections(*args)


def test_instance_class_memory_bytes():
    assert instance_class_memory_bytes("db.t3.medium") == 4 * 1024**3


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # Staging: db.t3.medium, 50 concurrent connections, max_connections 100.
        ({"instance_class": "db.t3.medium", "required_connections": 50, "max_connections": 100}, []),
        ({"instance_class": "db.t3.medium", "required_connections": "50"}, []),
        # Prod: 500+ connections on db.r5.xlarge.
        ({"instance_class": "db.r5.xlarge", "required_connections": 500, "engine": "aurora-postgresql"}, []),
        (
            {"instance_class": "db.t3.micro", "required_connections": 500},
            ["500 concurrent database connections are required but db.t3.micro's default allows 85"],
        ),
        (
            {"instance_class": "db.t3.medium", "required_connections": 50, "max_connections": 40},
            ["50 concurrent database connections are required but the parameter group's max_connections allows 40"],
        ),
        (
            {"instance_class": "db.t3.medium", "max_connections": 1000},
            ["max_connections 1000 is above what db.t3.medium carries by default (416)"],
        ),
        ({"instance_class": "db.x9.huge", "required_connections": 5}, ["DB instance class 'db.x9.huge' is unknown"]),
        # Throughput: staging 1000 req/s over 2..3 tasks.
        ({"requests_per_second": 1000, "min_tasks": 2, "task_capacity_rps": 500}, []),
        (
            {"requests_per_second": 1000, "min_tasks": 2, "task_capacity_rps": 400},
            ["1000 requests/s over at least 2 tasks is 500 requests/s per task, above the configured capacity"],
        ),
        # A check whose inputs are incomplete does not run.
        ({"requests_per_second": 1000, "min_tasks": 2}, []),
        ({}, []),
    ],
)
def test_capacity_problems(kwargs, expected):
    problems = capacity_problems(**kwargs)
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instance_class": "db.t3.medium", "required_connections": -1}, "required_connections must be at least 1"),
        ({"instance_class": "db.t3.medium", "required_connections": True}, "required_connections must be a whole"),
        ({"instance_class": "db.t3.medium", "max_connections": "many"}, "max_connections must be a whole number"),
        ({"requests_per_second": "fast", "min_tasks": 2, "task_capacity_rps": 1}, "requests_per_second must be a"),
        ({"requests_per_second": 10, "min_tasks": 0, "task_capacity_rps": 1}, "min_tasks must be at least 1"),
        ({"requests_per_second": 10, "min_tasks": 1, "task_capacity_rps": 0}, "task_capacity_rps must be greater"),
        ({"instance_class": 5}, "instance_class must be a string"),
        ({"engine": "mysql"}, "engine must be one of"),
    ],
)
def test_capacity_problems_rejects_bad_input(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        capacity_problems(**kwargs)


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"rds_default_max_connections", "capacity_problems"}
