# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX as code (awx/) and the execution environment (execution-environment.yml).

There is no AWX server here: the data in awx/vars/controller.yml is checked against
the awx.awx modules' own documentation (the options they accept), against the
repository (playbooks and inventories it names), and against the contract of the
job templates (every environment, check jobs, confirmation surveys). The execution
environment is checked by building its context with ansible-builder.
"""

import json
import os
import re
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
DATA = yaml.safe_load((ROOT / "awx" / "vars" / "controller.yml").read_text())
CONFIGURE = ROOT / "awx" / "configure.yml"

# Each list of the data model (infra.aap_configuration's names) and the module it feeds.
LISTS = {
    "controller_organizations": "awx.awx.organization",
    "controller_execution_environments": "awx.awx.execution_environment",
    "controller_credentials": "awx.awx.credential",
    "controller_projects": "awx.awx.project",
    "controller_inventories": "awx.awx.inventory",
    "controller_inventory_sources": "awx.awx.inventory_source",
    "controller_templates": "awx.awx.job_template",
}
TEMPLATES = DATA["controller_templates"]
JINJA = re.compile(r"^\{\{.*\}\}$")
CONFIRMATION = {"teardown": "teardown_confirm", "DR failover": "dr_confirm", "DR failback": "dr_confirm"}


def env_of(inventory_name):
    """The environment an AWX inventory stands for: its source's inventories/<env>."""
    source = next(s for s in DATA["controller_inventory_sources"] if s["inventory"] == inventory_name)
    return Path(source["source_path"]).name


def kind_of(template):
    """'converge', 'plan', ... from 'reelle <env> <kind>'."""
    return template["name"].split(" ", 2)[2]


@pytest.fixture(scope="module")
def module_docs():
    completed = subprocess.run(
        [str(BIN / "ansible-doc"), "--json", *LISTS.values()], capture_output=True, text=True, check=True
    )
    return {name: entry["doc"]["options"] for name, entry in json.loads(completed.stdout).items()}


def accepted(options):
    """Option names and their aliases."""
    names = set(options)
    for spec in options.values():
        names.update(spec.get("aliases", []))
    return names


@pytest.fixture(scope="module")
def configure_tasks():
    play = yaml.safe_load(CONFIGURE.read_text())[0]
    tasks = {}
    for task in play["tasks"]:
        module = next((key for key in task if key.startswith("awx.awx.")), None)
        if module:
            tasks[module] = task
    return tasks


@pytest.mark.parametrize(("list_name", "module"), LISTS.items())
def test_every_key_is_an_option_of_its_module(module_docs, list_name, module):
    options = module_docs[module]
    assert DATA[list_name], f"{list_name} is empty"
    for item in DATA[list_name]:
        unknown = set(item) - accepted(options)
        assert not unknown, f"{list_name} {item['name']}: not options of {module}: {sorted(unknown)}"
        for key, value in item.items():
            choices = options.get(key, {}).get("choices")
            if choices and not (isinstance(value, str) and JINJA.match(value)):
                assert value in choices, f"{item['name']}: {key}={value!r} is not one of {choices}"


@pytest.mark.parametrize(("list_name", "module"), LISTS.items())
def test_configure_playbook_passes_every_key(module_docs, configure_tasks, list_name, module):
    task = configure_tasks[module]
    assert task["loop"].replace(" ", "") == f"{{{{{list_name}}}}}"
    passed = set(task[module])
    assert passed <= accepted(module_docs[module]), sorted(passed - accepted(module_docs[module]))
    for item in DATA[list_name]:
        dropped = set(item) - passed
        assert not dropped, f"{item['name']}: configure.yml does not pass {sorted(dropped)} to {module}"


def test_credential_inputs_come_from_vault_variables_only():
    for credential in DATA["controller_credentials"]:
        assert credential["credential_type"] == "Amazon Web Services"
        assert set(credential["inputs"]) == {"username", "password"}
        for value in credential["inputs"].values():
            match = re.fullmatch(r"\{\{ (vault_awx_aws_\w+) \}\}", value)
            assert match, f"{credential['name']}: {value!r} is not a vault variable"
            assert match[1] in DATA["awx_required_inputs"]


def test_references_between_objects_resolve():
    names = {key: {item["name"] for item in DATA[key]} for key in LISTS}
    for item in [*DATA["controller_projects"], *DATA["controller_inventories"], *TEMPLATES]:
        assert item["organization"] in names["controller_organizations"]
    for project in DATA["controller_projects"]:
        assert project["default_environment"] in names["controller_execution_environments"]
    for source in DATA["controller_inventory_sources"]:
        assert source["inventory"] in names["controller_inventories"]
        assert source["source_project"] in names["controller_projects"]
    for template in TEMPLATES:
        assert template["project"] in names["controller_projects"]
        assert template["inventory"] in names["controller_inventories"]
        assert template["execution_environment"] in names["controller_execution_environments"]
        assert set(template.get("credentials", [])) <= names["controller_credentials"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t["name"])
def test_template_playbook_exists(template):
    assert (ROOT / template["playbook"]).is_file(), f"{template['name']}: {template['playbook']} is missing"


@pytest.mark.parametrize("source", DATA["controller_inventory_sources"], ids=lambda s: s["name"])
def test_inventory_source_path_exists(source):
    path = ROOT / source["source_path"]
    assert source["source"] == "scm"
    assert (path / "hosts.yml").is_file(), f"{source['name']}: {source['source_path']}/hosts.yml is missing"


def test_every_environment_has_its_templates():
    environments = {path.name for path in (ROOT / "inventories").iterdir() if path.is_dir()}
    assert {"dev", "staging", "prod"} <= environments
    kinds = {}
    for template in TEMPLATES:
        env = env_of(template["inventory"])
        assert template["name"].startswith(f"reelle {env} "), template["name"]
        kinds.setdefault(env, set()).add(kind_of(template))
    assert set(kinds) == environments
    for env in environments:
        expected = {"converge", "plan", "drift", "teardown"} | (
            {"DR failover", "DR failback"} if env == "prod" else set()
        )
        assert kinds[env] == expected, env


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t["name"])
def test_job_type_and_credentials(template):
    env, kind = env_of(template["inventory"]), kind_of(template)
    assert template["job_type"] == ("check" if kind in {"plan", "drift"} else "run")
    expected_credentials = [] if env == "dev" else [f"reelle AWS {env}"]
    assert template.get("credentials", []) == expected_credentials


@pytest.mark.parametrize("template", [t for t in TEMPLATES if kind_of(t) in CONFIRMATION], ids=lambda t: t["name"])
def test_confirmation_survey(template):
    env = env_of(template["inventory"])
    assert template["survey_enabled"] is True
    questions = {q["variable"]: q for q in template["survey_spec"]["spec"]}
    question = questions[CONFIRMATION[kind_of(template)]]
    assert question["required"] is True
    assert question["type"] == "text"
    assert question["default"] == "", "a pre-filled answer would confirm by itself"
    assert question["min"] == question["max"] == len(env)
    assert re.search(rf"\b{env}\b", question["question_description"])
    assert f"Answer: {env}" in template["survey_spec"]["description"]
    # Optional questions never pre-answer a destructive choice.
    for other in questions.values():
        if not other["required"]:
            assert other["default"] in ("", "false"), other
    # The playbook reads every variable its survey sets.
    path = ROOT / template["playbook"]
    assert path.is_file(), f"{template['playbook']} is missing"
    playbook = path.read_text()
    for variable in questions:
        assert variable in playbook, f"{template['playbook']} never reads {variable}"


@pytest.mark.parametrize("template", [t for t in TEMPLATES if kind_of(t) not in CONFIRMATION], ids=lambda t: t["name"])
def test_no_survey_where_nothing_is_destroyed(template):
    assert not template.get("survey_enabled")


def test_configure_playbook_syntax():
    completed = subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check", str(CONFIGURE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_configure_refuses_to_run_without_its_inputs():
    """Fails on the missing inputs before it contacts any AWX (none is reachable here)."""
    completed = subprocess.run(
        [str(BIN / "ansible-playbook"), str(CONFIGURE), "-e", "awx_project_scm_url=https://git.example/r.git"],
        cwd=ROOT,
        env={
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "CONTROLLER_HOST": "http://127.0.0.1:9",
            "ANSIBLE_FORCE_COLOR": "0",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output
    assert "awx_project_scm_url is not set" not in output
    for name in DATA["awx_required_inputs"][1:]:
        assert f"{name} is not set" in output
    assert "TASK [AWX | Organizations]" not in output


# --- the execution environment ----------------------------------------------------


def pins(lines):
    found = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            found[name.lower()] = version
    return found


@pytest.fixture(scope="module")
def ee_context(tmp_path_factory):
    context = tmp_path_factory.mktemp("ee") / "context"
    # What `make ee-context` does first: the collection's tarball, which the EE installs.
    built = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", "build/collection"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    completed = subprocess.run(
        [
            str(BIN / "ansible-builder"),
            "create",
            "--file",
            str(ROOT / "execution-environment.yml"),
            "--context",
            str(context),
            "--output-filename",
            "Containerfile",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return context


def test_ee_context_has_the_collections_of_requirements_yml(ee_context):
    built = yaml.safe_load((ee_context / "_build" / "requirements.yml").read_text())
    assert built == yaml.safe_load((ROOT / "requirements.yml").read_text())
    assert {c["name"] for c in built["collections"]} >= {"amazon.aws", "community.aws", "community.docker"}


def test_ee_context_pins_python_like_the_venv(ee_context):
    project = pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    constraints = pins((ROOT / "constraints.txt").read_text().splitlines())
    built = pins((ee_context / "_build" / "requirements.txt").read_text().splitlines())
    assert {"boto3", "botocore"} <= set(built)
    for name, version in built.items():
        assert constraints.get(name) == version, f"{name}=={version} but constraints.txt pins {constraints.get(name)}"
        if name in project:
            assert project[name] == version
    containerfile = (ee_context / "Containerfile").read_text()
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', containerfile, re.MULTILINE)[1].split()
    assert sorted(refs) == sorted(f"{name}=={project[name]}" for name in ("ansible-core", "ansible-runner"))


def test_ee_context_base_image_system_packages_and_tag(ee_context):
    definition = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    containerfile = (ee_context / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert "ansible-galaxy collection install" in containerfile
    bindep = (ee_context / "_build" / "bindep.txt").read_text()
    assert re.search(r"^git-core \[platform:rpm\]$", bindep, re.MULTILINE)
    # AWX pulls the image this file builds.
    assert DATA["awx_execution_environment_image"] in definition["options"]["tags"]


def test_ee_context_installs_this_collection(ee_context):
    tarballs = list((ee_context / "_build" / "collection").glob("reelle-infra-*.tar.gz"))
    assert len(tarballs) == 1
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert tarballs[0].name == f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    with tarfile.open(tarballs[0]) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["name"] == "infra"
    assert manifest["collection_info"]["dependencies"].get("amazon.aws")
    modules = {path.name for path in (ROOT / "plugins" / "modules").glob("*.py")}
    assert {f"plugins/modules/{name}" for name in modules} <= names
    assert {"meta/runtime.yml", "plugins/plugin_utils/inprocess.py", "roles/aws_compute/tasks/main.yml"} <= names
    # Nothing of the project's tooling or state goes into it.
    assert not [name for name in names if name.split("/")[0] in {"tests", "inventories", "molecule", ".venv", "bench"}]
    containerfile = (ee_context / "Containerfile").read_text()
    install = re.search(r"^RUN ansible-galaxy collection install .*reelle-infra-\*\.tar\.gz.*$", containerfile, re.M)
    assert install and "/usr/share/ansible/collections" in install[0]
    assert containerfile.index("COPY _build/collection/") < install.start()
