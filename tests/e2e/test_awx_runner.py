# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX without an AWX server: configure.yml against an AWX API, and jobs run the way AWX runs them.

1. awx/configure.yml runs against a small stand-in of AWX's REST API (FakeAWX) that
   keeps what the awx.awx modules send and refuses what AWX refuses (a playbook or
   inventory path not in the project, unknown names, malformed surveys).
2. staging's job templates run through ansible-runner, the way AWX runs a job.

AWX gives ansible-runner a private data directory per job: project/ (the project's
checkout), inventory/ (the synced inventory), env/extravars and env/envvars, where
the "Amazon Web Services" credential type puts AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and, for STS keys, AWS_SECURITY_TOKEN and AWS_SESSION_TOKEN.
The playbook, job type (check -> --check) and diff mode come from the job templates
in awx/vars/controller.yml. The only credentials the jobs see are the injected ones.
"""

import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import ansible_runner
import boto3
import pytest
import yaml

from .helpers import ROOT
from .test_secrets import generated_secrets

pytestmark = pytest.mark.slow

BIN = ROOT / ".venv" / "bin"
CONFIGURE = ROOT / "awx" / "configure.yml"
DATA = yaml.safe_load((ROOT / "awx" / "vars" / "controller.yml").read_text())
TEMPLATES = {t["name"]: t for t in DATA["controller_templates"]}
# The data model's lists and the AWX API collection each one fills.
COLLECTIONS = {
    "controller_organizations": "organizations",
    "controller_execution_environments": "execution_environments",
    "controller_credentials": "credentials",
    "controller_projects": "projects",
    "controller_inventories": "inventories",
    "controller_inventory_sources": "inventory_sources",
    "controller_templates": "job_templates",
}
# What the credential type injects (made-up STS keys; the emulator accepts any).
AWX_AWS_CREDENTIAL = {
    "AWS_ACCESS_KEY_ID": "ASIAAWXRUNNERE2E0001",
    "AWS_SECRET_ACCESS_KEY": "awx-runner-e2e-secret-access-key-0123456789",
    "AWS_SECURITY_TOKEN": "awx-runner-e2e-session-token",
    "AWS_SESSION_TOKEN": "awx-runner-e2e-session-token",
}


@pytest.fixture
def awx_job(emulator, monkeypatch, tmp_path):
    """Run one job template against the emulator; returns (runner, private data dir)."""
    # Nothing of the test's own environment may stand in for the injected credentials.
    for key in list(os.environ):
        if key.startswith("AWS_") or key == "ANSIBLE_CONFIG":
            monkeypatch.delenv(key)
    # The execution environment's ansible-playbook.
    monkeypatch.setenv("PATH", f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    jobs = iter(range(4201, 4300))

    def run(template_name):
        template = TEMPLATES[template_name]
        job_id = next(jobs)
        data = tmp_path / f"job_{job_id}"
        (data / "env").mkdir(parents=True)
        (data / "project").symlink_to(ROOT)
        (data / "inventory").symlink_to(ROOT / "inventories" / "staging")
        extravars = {"awx_job_id": job_id, "awx_job_template_name": template_name, "awx_job_launch_type": "manual"}
        (data / "env" / "extravars").write_text(yaml.safe_dump(extravars))
        envvars = dict(
            AWX_AWS_CREDENTIAL,
            # The test's additions: the emulator, and no instance-metadata lookups.
            AWS_ENDPOINT_URL=emulator.endpoint,
            REELLE_AWS_TARGET="emulator",
            AWS_EC2_METADATA_DISABLED="true",
        )
        (data / "env" / "envvars").write_text(yaml.safe_dump(envvars))
        cmdline = []
        if template["job_type"] == "check":
            cmdline.append("--check")
        if template.get("diff_mode"):
            cmdline.append("--diff")
        runner = ansible_runner.run(
            private_data_dir=str(data),
            playbook=template["playbook"],
            cmdline=" ".join(cmdline) or None,
            ident=str(job_id),
            quiet=True,
            timeout=1200,
        )
        return runner, data

    return run


def changed_tasks(runner):
    return [
        event["event_data"]["task"]
        for event in runner.events
        if event["event"] == "runner_on_ok" and event["event_data"].get("res", {}).get("changed")
    ]


def stdout(runner):
    return runner.stdout.read()


@pytest.mark.emulator
def test_converge_then_plan_through_ansible_runner(emulator, awx_job):
    converge, data = awx_job("reelle staging converge")
    assert (converge.status, converge.rc) == ("successful", 0), stdout(converge)[-6000:]
    assert sum(converge.stats["changed"].values()) > 0
    assert changed_tasks(converge), "no job event reports a change"
    assert set(converge.stats["ok"]) == {"staging-us-east-1"}

    # The job reached this emulator with the injected credentials.
    ec2 = boto3.client(
        "ec2",
        endpoint_url=emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    names = [tag["Value"] for vpc in ec2.describe_vpcs()["Vpcs"] for tag in vpc.get("Tags", []) if tag["Key"] == "Name"]
    assert any(name.startswith("reelle-staging") for name in names), names

    # What AWX keeps of a job (its events and stdout) holds none of the generated secrets.
    secrets = generated_secrets(emulator.endpoint)
    assert "reelle-staging/database/master:password" in secrets, sorted(secrets)
    kept = [
        path for path in Path(data, "artifacts").rglob("*") if path.parent.name == "job_events" or path.name == "stdout"
    ]
    assert len(kept) > 10
    kept_text = "\n".join(path.read_text() for path in kept)
    for name, value in secrets.items():
        assert value not in kept_text, f"{name} is in the job's events or stdout"

    plan, _ = awx_job("reelle staging plan")
    assert {"--check", "--diff"} <= set(plan.config.command)
    assert (plan.status, plan.rc) == ("successful", 0), stdout(plan)[-6000:]
    assert sum(plan.stats["changed"].values()) == 0, changed_tasks(plan)
    assert changed_tasks(plan) == []
    assert sum(plan.stats["ok"].values()) > 0


# --- AWX's side: awx/configure.yml against an AWX API ------------------------------


class FakeAWX(ThreadingHTTPServer):
    """Enough of AWX's /api/v2 for the awx.awx modules, with AWX's own checks.

    Objects live in `self.objects[collection][id]`; lists filter on query fields
    (`or__` pairs are alternatives); survey specs and associations are sub-resources.
    Like AWX it refuses a job template whose playbook, or an inventory source whose
    source_path, is not in the project's checkout (this repository), names it does
    not know, and malformed surveys. Secret credential inputs read back as $encrypted$.
    """

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeAWXHandler)
        self.objects = {"credential_types": {1: {"id": 1, "name": "Amazon Web Services", "kind": "cloud"}}}
        self.surveys, self.associations, self.requests = {}, {}, []
        self.endpoint = f"http://127.0.0.1:{self.server_address[1]}"

    def problems(self, collection, data):
        refs = {
            "organization": "organizations",
            "inventory": "inventories",
            "project": "projects",
            "source_project": "projects",
            "credential_type": "credential_types",
            "execution_environment": "execution_environments",
            "default_environment": "execution_environments",
        }
        found = {
            key: ["Invalid pk"]
            for key, target in refs.items()
            if key in data and data[key] not in self.objects.get(target, {})
        }
        if collection == "job_templates" and not (ROOT / data.get("playbook", "")).is_file():
            found["playbook"] = ["Playbook not found for project."]
        if collection == "inventory_sources" and not (ROOT / data.get("source_path", "-")).exists():
            found["source_path"] = ["Invalid source_path"]
        if collection == "credentials" and set(data.get("inputs", {})) - {"username", "password", "security_token"}:
            found["inputs"] = ["Unknown input for Amazon Web Services"]
        return found

    @staticmethod
    def survey_problems(spec):
        variables = [q.get("variable") for q in spec.get("spec", [])]
        if len(set(variables)) != len(variables) or not variables:
            return "variables must be unique"
        for question in spec["spec"]:
            if {"question_name", "variable", "type", "required"} - set(question):
                return f"{question.get('variable')}: missing keys"
            if question["type"] == "multiplechoice" and question.get("default") not in question["choices"]:
                return f"{question['variable']}: default is not a choice"
            if (
                question["type"] == "text"
                and question.get("default")
                and not (question["min"] <= len(question["default"]) <= question["max"])
            ):
                return f"{question['variable']}: default outside min/max"
        return None


class FakeAWXHandler(BaseHTTPRequestHandler):
    server: FakeAWX

    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-API-Product-Name", "AWX")
        self.send_header("X-API-Product-Version", "24.6.1")
        self.end_headers()
        self.wfile.write(payload)

    def route(self):
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")[2:]  # after api/v2
        collection = parts[0]
        item = int(parts[1]) if len(parts) > 1 else None
        sub = parts[2] if len(parts) > 2 else None
        return collection, item, sub, parse_qs(url.query)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def public(self, collection, obj):
        if collection == "credentials":
            obj = dict(obj, inputs={k: "$encrypted$" if k != "username" else v for k, v in obj["inputs"].items()})
        return obj

    def do_GET(self):
        self.server.requests.append(("GET", self.path))
        collection, item, sub, query = self.route()
        objects = self.server.objects.setdefault(collection, {})
        if item is None:
            either = {k[4:]: v[0] for k, v in query.items() if k.startswith("or__")}
            plain = {k: v[0] for k, v in query.items() if not k.startswith("or__")}
            results = [
                self.public(collection, o)
                for o in objects.values()
                if all(str(o.get(k)) == v for k, v in plain.items())
                and (not either or any(str(o.get(k)) == v for k, v in either.items()))
            ]
            return self.reply(200, {"count": len(results), "next": None, "previous": None, "results": results})
        if item not in objects:
            return self.reply(404, {"detail": "Not found."})
        if sub == "survey_spec":
            return self.reply(200, self.server.surveys.get((collection, item), {}))
        if sub:
            ids = sorted(self.server.associations.get((collection, item, sub), set()))
            return self.reply(200, {"count": len(ids), "next": None, "results": [{"id": i} for i in ids]})
        return self.reply(200, self.public(collection, objects[item]))

    def do_POST(self):
        self.server.requests.append(("POST", self.path))
        collection, item, sub, _ = self.route()
        data = self.read_body()
        objects = self.server.objects.setdefault(collection, {})
        if item is None:
            problems = self.server.problems(collection, data)
            if problems:
                return self.reply(400, problems)
            new_id = max(objects, default=0) + 1
            url = f"/api/v2/{collection}/{new_id}/"
            related = {name: f"{url}{name}/" for name in ("survey_spec", "credentials", "update")}
            objects[new_id] = dict(data, id=new_id, url=url, related=related, summary_fields={}, scm_revision="")
            return self.reply(201, self.public(collection, objects[new_id]))
        if sub == "survey_spec":
            problem = self.server.survey_problems(data)
            if problem:
                return self.reply(400, {"error": problem})
            self.server.surveys[(collection, item)] = data
            return self.reply(200, {})
        linked = self.server.associations.setdefault((collection, item, sub), set())
        if data.get("disassociate"):
            linked.discard(data["id"])
        elif data["id"] in self.server.objects.get(sub, {}):
            linked.add(data["id"])
        else:
            return self.reply(400, {"detail": f"no {sub} {data['id']}"})
        return self.reply(204)

    def do_PATCH(self):
        self.server.requests.append(("PATCH", self.path))
        collection, item, _, _ = self.route()
        data = self.read_body()
        problems = self.server.problems(collection, data)
        if problems:
            return self.reply(400, problems)
        self.server.objects[collection][item].update(data)
        return self.reply(200, self.public(collection, self.server.objects[collection][item]))


@pytest.fixture
def fake_awx():
    server = FakeAWX()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def configure(fake_awx, inputs_file):
    completed = subprocess.run(
        [str(BIN / "ansible-playbook"), str(CONFIGURE), "-e", f"@{inputs_file}"],
        cwd=ROOT,
        env={
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(inputs_file.parent),
            "CONTROLLER_HOST": fake_awx.endpoint,
            "CONTROLLER_OAUTH_TOKEN": "fake-awx-token",
            "ANSIBLE_FORCE_COLOR": "0",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.returncode, completed.stdout + completed.stderr


def test_configure_builds_every_object_on_an_awx_api(fake_awx, tmp_path):
    inputs = {name: f"{name}-value-{index}-ZXQ" for index, name in enumerate(DATA["awx_required_inputs"])}
    inputs["awx_project_scm_url"] = "https://git.example/reelle-miljoer-iac.git"
    inputs_file = tmp_path / "inputs.yml"
    inputs_file.write_text(yaml.safe_dump(inputs))

    rc, output = configure(fake_awx, inputs_file)
    assert rc == 0, output[-6000:]
    for name, value in inputs.items():
        if name.startswith("vault_"):
            assert value not in output, f"{name} in the output"

    objects = fake_awx.objects
    by_name = {collection: {o["name"]: o for o in found.values()} for collection, found in objects.items()}
    for list_name, collection in COLLECTIONS.items():
        assert set(by_name[collection]) == {item["name"] for item in DATA[list_name]}, collection

    project = by_name["projects"]["reelle-miljoer-iac"]
    assert project["scm_url"] == inputs["awx_project_scm_url"]
    for credential in DATA["controller_credentials"]:
        stored = by_name["credentials"][credential["name"]]["inputs"]
        env = credential["name"].rsplit(" ", 1)[1]
        assert stored == {
            "username": inputs[f"vault_awx_aws_{env}_access_key_id"],
            "password": inputs[f"vault_awx_aws_{env}_secret_access_key"],
        }
    credential_names = {o["id"]: o["name"] for o in objects["credentials"].values()}
    for source in DATA["controller_inventory_sources"]:
        stored = by_name["inventory_sources"][source["name"]]
        assert stored["source_project"] == project["id"]
        assert stored["source_path"] == source["source_path"]
    for template in TEMPLATES.values():
        stored = by_name["job_templates"][template["name"]]
        assert stored["playbook"] == template["playbook"]
        assert stored["job_type"] == template["job_type"]
        assert fake_awx.surveys.get(("job_templates", stored["id"])) == template.get("survey_spec")
        linked = fake_awx.associations.get(("job_templates", stored["id"], "credentials"), set())
        assert sorted(credential_names[i] for i in linked) == template.get("credentials", [])

    # A second run changes nothing but the credentials' secrets, which AWX never shows
    # back (update_secrets: the keys may have been rotated in the vault).
    before = len(fake_awx.requests)
    rc, output = configure(fake_awx, inputs_file)
    assert rc == 0, output[-6000:]
    changed = re.search(r"localhost\s*: ok=\d+\s+changed=(\d+)", output)
    assert changed[1] == "1", output[-4000:]
    patched = [path for method, path in fake_awx.requests[before:] if method != "GET"]
    assert patched and all(path.startswith("/api/v2/credentials/") for path in patched), patched
