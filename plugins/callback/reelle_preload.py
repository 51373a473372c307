# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load boto3, our AWS modules and their service models once, in the controller.

Ansible forks one worker process per task. Before the first task that uses an
action of ``plugins/action`` (our AWS modules running in the worker, see
``plugins/plugin_utils/inprocess.py``), this callback imports what those
modules need in the controller process, so every later worker starts with it
already loaded instead of paying ~1.5 s per task. It prints nothing and changes
nothing; without it the modules still run, only slower.
"""

from __future__ import annotations

DOCUMENTATION = """
name: reelle_preload
type: aggregate
short_description: Preload boto3 and the project's AWS modules before the first AWS task
description:
  - Imports boto3, the project's modules that run in the worker process and the botocore service
    models they use, once, in the controller, so forked workers start with them loaded.
  - Set C(REELLE_IN_PROCESS=0) to turn both the preload and the in-process execution off.
requirements:
  - enabled in ansible.cfg (callbacks_enabled)
"""

import importlib
import os

from ansible.plugins.callback import CallbackBase

# Every service our modules call; their models are read once here.
SERVICES = (
    "acm",
    "apigatewayv2",
    "application-autoscaling",
    "autoscaling",
    "backup",
    "cloudfront",
    "cloudwatch",
    "ec2",
    "ecr",
    "ecs",
    "elasticache",
    "elbv2",
    "iam",
    "kms",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "ssm",
    "sts",
    "xray",
)
COLLECTION = "reelle.infra"
MODEL_KINDS = ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "reelle_preload"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._done = False

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._done:
            return
        # Through its realpath: this file is also linked from playbooks/callback_plugins.
        action_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "action")
        names = {entry[:-3] for entry in os.listdir(action_dir) if entry.endswith(".py")}
        if task.action.rpartition(".")[2] not in names:
            return
        self._done = True
        try:
            self._preload(names)
        except Exception as error:  # the modules still run without the preload
            self._display.vvv(f"reelle_preload: not preloaded ({error})")

    def _preload(self, names):
        reelle_inprocess = importlib.import_module(f"ansible_collections.{COLLECTION}.plugins.plugin_utils.inprocess")
        if not reelle_inprocess.enabled():
            return
        # Each module from where a task finds it: the collection's path.
        module_loader = importlib.import_module("ansible.plugins.loader").module_loader
        for name in sorted(names):
            context = module_loader.find_plugin_with_context(f"{COLLECTION}.{name}")
            if context.resolved and context.plugin_resolved_path.endswith(".py"):
                reelle_inprocess.load_module(name, context.plugin_resolved_path)
        # Imported here, not at the top: runs without AWS tasks never load boto3.
        boto3 = importlib.import_module("boto3")
        # The Session our module_utils hands to amazon.aws's connection code
        # (one per profile): its loader caches every model read below.
        reelle_aws = importlib.import_module("ansible_collections.reelle.infra.plugins.module_utils.reelle_aws")

        session = reelle_aws._amazon_aws_botocore.boto3.session.Session()
        loader = session._session.get_component("data_loader")
        for service in SERVICES:
            for kind in MODEL_KINDS:
                try:
                    loader.load_service_model(service, kind)
                except Exception:  # noqa: S112 - a service without waiters, say
                    continue
        loader.load_data("endpoints")
        loader.load_data("partitions")
        self._display.vvv(
            f"reelle_preload: boto3 {boto3.__version__}, {len(names)} modules, {len(SERVICES)} service models"
        )
