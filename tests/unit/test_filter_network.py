# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven tests of the network filters."""

import pytest
from ansible.errors import AnsibleFilterError
from network import FilterModule, network_problems, subnet_plan

STAGING_ZONES = ["us-east-1a", "us-east-1b"]


@pytest.mark.parametrize(
    ("cidr", "zones", "kwargs", "expected"),
    [
        (
            "10.20.0.0/16",
            STAGING_ZONES,
            {},
            [
                {"availability_zone": "us-east-1a", "public_cidr": "10.20.0.0/24", "private_cidr": "10.20.10.0/24"},
                {"availability_zone": "us-east-1b", "public_cidr": "10.20.1.0/24", "private_cidr": "10.20.11.0/24"},
            ],
        ),
        (
            "10.30.0.0/16",
            ["us-east-1a", "us-east-1b", "us-east-1c"],
            {},
            [
                {"availability_zone": "us-east-1a", "public_cidr": "10.30.0.0/24", "private_cidr": "10.30.10.0/24"},
                {"availability_zone": "us-east-1b", "public_cidr": "10.30.1.0/24", "private_cidr": "10.30.11.0/24"},
                {"availability_zone": "us-east-1c", "public_cidr": "10.30.2.0/24", "private_cidr": "10.30.12.0/24"},
            ],
        ),
        (
            "10.0.0.0/24",
            ["eu-west-1a"],
            {"newbits": 2, "private_offset": 2},
            [{"availability_zone": "eu-west-1a", "public_cidr": "10.0.0.0/26", "private_cidr": "10.0.0.128/26"}],
        ),
        ("10.0.0.0/16", [], {}, []),
    ],
)
def test_subnet_plan(cidr, zones, kwargs, expected):
    assert subnet_plan(cidr, zones, **kwargs) == expected


@pytest.mark.parametrize(
    ("cidr", "zones", "kwargs", "message"),
    [
        ("10.20.0.0/33", STAGING_ZONES, {}, "not a valid network CIDR"),
        ("10.20.0.1/16", STAGING_ZONES, {}, "host bits set"),
        ("fd00::/56", STAGING_ZONES, {}, "not an IPv4 CIDR"),
        (None, STAGING_ZONES, {}, "not a CIDR string"),
        ("10.20.0.0/16", "us-east-1a", {}, "must be a list"),
        ("10.20.0.0/16", [1], {}, "must be strings"),
        ("10.20.0.0/16", ["us-east-1a", "us-east-1a"], {}, "more than once"),
        ("10.20.0.0/16", STAGING_ZONES, {"newbits": 0}, "newbits must be an integer >= 1"),
        ("10.20.0.0/16", STAGING_ZONES, {"newbits": "8"}, "newbits must be an integer"),
        ("10.20.0.0/24", STAGING_ZONES, {"newbits": 8}, "/28 at the smallest"),
        ("10.20.0.0/24", STAGING_ZONES, {"newbits": 2}, "holds 4 /26 blocks; the plan needs 12"),
        ("10.20.0.0/16", ["a", "b", "c"], {"private_offset": 2}, "public and private overlap"),
    ],
)
def test_subnet_plan_rejects_bad_input(cidr, zones, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        subnet_plan(cidr, zones, **kwargs)


@pytest.mark.parametrize(
    ("cidr", "zones", "region", "other", "expected"),
    [
        ("10.20.0.0/16", STAGING_ZONES, "us-east-1", [], []),
        ("10.30.0.0/16", ["us-east-1a", "us-east-1b", "us-east-1c"], "us-east-1", ["10.31.0.0/16"], []),
        (
            "10.30.0.0/16",
            STAGING_ZONES,
            "us-east-1",
            ["10.30.128.0/17"],
            ["VPC CIDR 10.30.0.0/16 overlaps 10.30.128.0/17"],
        ),
        ("10.30.0.0/16", STAGING_ZONES, "us-east-1", ["10.0.0.0/8"], ["VPC CIDR 10.30.0.0/16 overlaps 10.0.0.0/8"]),
        ("10.30.0.0/16", STAGING_ZONES, "us-east-1", ["nope"], ["other CIDR 'nope' is not a valid network CIDR"]),
        ("10.20.0.0/16", ["us-east-1a", "eu-west-1b"], "us-east-1", [], ["'eu-west-1b' is not in region us-east-1"]),
        ("10.20.0.0/16", ["us-east-1a", "us-east-1"], "us-east-1", [], ["'us-east-1' is not in region us-east-1"]),
        ("10.20.0.0/16", ["us-east-1a", "us-east-1a"], "us-east-1", [], ["given more than once: us-east-1a"]),
        ("10.20.0.0/16", [], "us-east-1", [], ["no availability zones given for us-east-1"]),
        ("10.20.0.0/16", STAGING_ZONES, "useast", [], ["region 'useast' is not an AWS region name"]),
        ("10.16.0.0/12", STAGING_ZONES, "us-east-1", [], ["must have a netmask from /16 to /28"]),
        ("10.20.0.0/33", STAGING_ZONES, "us-east-1", [], ["VPC CIDR '10.20.0.0/33' is not a valid network CIDR"]),
        ("10.20.0.0/24", STAGING_ZONES, "us-east-1", [], ["too few addresses for the subnet plan"]),
        (
            "10.20.0.0/33",
            ["eu-west-1a"],
            "us-east-1",
            [],
            ["VPC CIDR '10.20.0.0/33' is not", "'eu-west-1a' is not in region us-east-1"],
        ),
    ],
)
def test_network_problems(cidr, zones, region, other, expected):
    problems = network_problems(cidr, zones, region, other)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert start in problem


@pytest.mark.parametrize(
    ("zones", "other", "message"),
    [("us-east-1a", [], "must be a list"), (STAGING_ZONES, "10.0.0.0/16", "other_cidrs must be a list")],
)
def test_network_problems_rejects_wrong_types(zones, other, message):
    with pytest.raises(AnsibleFilterError, match=message):
        network_problems("10.20.0.0/16", zones, "us-east-1", other)


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"subnet_plan", "network_problems"}
