# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan callback's rows and table, and the recording emulator's request classification."""

import io
import sys
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "plugins" / "callback"))

from plan import render, row_from_diff, rows_of  # noqa: E402

from tests.support.recording_emulator import Recorder, classify  # noqa: E402

NAMED = {"invocation": {"module_args": {"name": "reelle-backend"}}}
UNNAMED = "docker_container (Start the backend)"
TASK = SimpleNamespace(action="community.docker.docker_container", get_name=lambda: "local_backend : Start the backend")


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        # ChangeSet modules: their own rows, as they are.
        (
            {"changed": True, "changes": [{"action": "update", "resource": "sg app", "attributes": ["ingress"]}]},
            [{"action": "update", "resource": "sg app", "attributes": ["ingress"]}],
        ),
        ({"changed": False, "changes": []}, []),
        # Other modules: one row per changed task, attributes from the diff.
        (
            {
                "changed": True,
                "invocation": {"module_args": {"name": "reelle-backend"}},
                "diff": {
                    "before": {"image": "a", "env": {"X": "1", "Y": "2"}},
                    "after": {"image": "b", "env": {"X": "1", "Y": "3"}},
                },
            },
            [{"action": "update", "resource": "docker_container reelle-backend", "attributes": ["env.Y", "image"]}],
        ),
        (
            {"changed": True, "diff": {"before": {"exists": False}, "after": {"exists": True, "image": "a"}}},
            [{"action": "create", "resource": UNNAMED, "attributes": ["image"]}],
        ),
        (
            {"changed": True, "diff": {"before": {"state": "present"}, "after": {"state": "absent"}}},
            [{"action": "delete", "resource": UNNAMED, "attributes": []}],
        ),
        (
            {"changed": True},
            [{"action": "change", "resource": UNNAMED, "attributes": []}],
        ),
        ({"changed": False}, []),
        ({"skipped": True, "changed": True}, []),
        # Loops: the rows of every item.
        (
            {
                "changed": True,
                "results": [{"changed": True, **NAMED}, {"changed": False}],
            },
            [{"action": "change", "resource": "docker_container reelle-backend", "attributes": []}],
        ),
    ],
)
def test_rows_of(result, expected):
    assert rows_of(result, TASK) == expected


def test_row_from_diff_of_text_diffs():
    assert row_from_diff([{"before": "a\n", "after": "b\n"}]) == ("update", [])


def test_render_groups_by_tier_and_counts():
    rows = [
        {"tier": "Network", "host": "h", "action": "create", "resource": "vpc v", "attributes": []},
        {"tier": "Network", "host": "h", "action": "update", "resource": "sg app", "attributes": ["ingress"]},
        {"tier": "Data", "host": "h", "action": "delete", "resource": "bucket b", "attributes": []},
    ]
    assert render(rows) == [
        "TIER     ACTION  RESOURCE  ATTRIBUTES",
        "Network  create  vpc v",
        "         update  sg app    ingress",
        "Data     delete  bucket b",
        "",
        "Plan: 1 to create, 1 to update, 1 to delete (h).",
    ]
    assert render([]) == ["Plan: no changes. The live state matches the inventory."]


def test_render_shows_the_host_when_there_are_several_and_shortens_long_attribute_lists():
    rows = [
        {
            "tier": "Data",
            "host": "a",
            "action": "update",
            "resource": "r",
            "attributes": [f"attr{i}" for i in range(30)],
        },
        {"tier": "Data", "host": "b", "action": "update", "resource": "r", "attributes": ["x"]},
    ]
    lines = render(rows)
    assert lines[0].split() == ["TIER", "HOST", "ACTION", "RESOURCE", "ATTRIBUTES"]
    assert lines[1].endswith("more") and len(lines[1].split("r ", 1)[1].strip()) <= 70
    assert lines[-1] == "Plan: 0 to create, 2 to update, 0 to delete (a, b)."


def _environ(method, path, query="", target="", body=b"", service="ec2", form=False):
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_X_AMZ_TARGET": target,
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=testing/20261125/us-east-1/{service}/aws4_request, ...",
        "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8" if form else "application/x-amz-json-1.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            _environ("POST", "/", target="AmazonEC2ContainerServiceV20141113.UpdateService", service="ecs"),
            ("ecs", "UpdateService", True),
        ),
        (
            _environ("POST", "/", target="AmazonEC2ContainerServiceV20141113.DescribeServices", service="ecs"),
            ("ecs", "DescribeServices", False),
        ),
        (
            _environ("POST", "/", body=b"Action=AuthorizeSecurityGroupIngress&Version=2016-11-15", form=True),
            ("ec2", "AuthorizeSecurityGroupIngress", True),
        ),
        (
            _environ("POST", "/", body=b"Action=DescribeSecurityGroups&Version=2016-11-15", form=True),
            ("ec2", "DescribeSecurityGroups", False),
        ),
        (
            _environ("DELETE", "/bucket", query="publicAccessBlock=", service="s3"),
            ("s3", "DeletePublicAccessBlock", True),
        ),
        (_environ("PUT", "/bucket", query="publicAccessBlock=", service="s3"), ("s3", "PutPublicAccessBlock", True)),
        (_environ("GET", "/bucket", query="publicAccessBlock=", service="s3"), ("s3", "GetPublicAccessBlock", False)),
        # A read over POST (REST): matched against the service model.
        (_environ("POST", "/Groups", service="xray"), ("xray", "GetGroups", False)),
        # No operation matches: the method decides.
        (_environ("POST", "/nowhere/at/all", service="xray"), ("xray", "POST /nowhere/at/all", True)),
    ],
)
def test_recorder_classifies_requests_by_operation(environ, expected):
    body = environ["wsgi.input"].read()
    assert classify(environ, body) == expected


def test_recorder_logs_then_passes_the_untouched_body_on(tmp_path):
    seen = {}

    def app(environ, start_response):
        seen["body"] = environ["wsgi.input"].read()
        return [b"ok"]

    recorder = Recorder(app, tmp_path / "log.jsonl")
    body = b"Action=CreateVpc&CidrBlock=10.0.0.0%2F16"
    assert recorder(_environ("POST", "/", body=body, form=True), None) == [b"ok"]
    assert recorder(_environ("POST", "/moto-api/reset"), None) == [b"ok"]
    recorder.log.close()
    assert seen["body"] == b""  # the reset request carried none
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert '"operation": "CreateVpc"' in lines[0] and '"mutating": true' in lines[0]
    assert '"control": true' in lines[1]
