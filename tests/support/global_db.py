# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Aurora global database switchover and failover in the recording emulator (moto 5.2.5 lacks both).

`install()` teaches moto's RDS responder two actions, ``FailoverGlobalCluster`` and
``SwitchoverGlobalCluster`` (`middleware` calls it before the first RDS request reaches moto).
They change moto's in-process RDS backends, so every later DescribeGlobalClusters (moto keeps
global clusters in the us-east-1 backend and answers them from any region without a request to
us-east-1) and DescribeDBClusters sees the new roles.

What AWS does (RDS API reference, FailoverGlobalCluster and SwitchoverGlobalCluster; Aurora
User Guide, "Using switchover or failover in Amazon Aurora Global Database"; the AWS CLI's
examples of both calls):

* ``SwitchoverGlobalCluster`` (planned, RPO 0; called in the primary's region) and
  ``FailoverGlobalCluster`` without ``AllowDataLoss`` (``Switchover`` set or omitted) wait for
  the target secondary to catch up, make the old primary read-only and promote the target; the
  old primary becomes a secondary: the topology is kept.
* ``FailoverGlobalCluster`` with ``AllowDataLoss`` (managed failover, for a regional outage;
  called in the target's region) promotes the target at once, without waiting for replication.
  Aurora tries to fence writes on the old primary. When the old primary's region is healthy
  again, Aurora adds the old primary back as a secondary on a new storage volume; before that
  it tries to snapshot the old volume at the point of failure as
  ``rds:unplanned-global-failover-<old primary>-<timestamp>`` (a system snapshot, subject to
  the old primary's backup retention: copy it to keep it). Other secondaries are rebuilt from
  the new primary.
* ``AllowDataLoss`` together with ``Switchover`` is refused (InvalidParameterCombination).
  Errors of both calls: GlobalClusterNotFoundFault (404), DBClusterNotFoundFault (404),
  InvalidDBClusterStateFault and InvalidGlobalClusterStateFault (400).
* The call answers the GlobalCluster element as it is when the operation starts: ``Status``
  ``failing-over`` or ``switching-over``, the old roles (the old primary still ``IsWriter``)
  and ``FailoverState`` ``{Status: pending, FromDbClusterArn, ToDbClusterArn,
  IsDataLossAllowed}``. FailoverState disappears when the operation is over.

What the emulator does:

* The roles change at once (moto's ``DBCluster.is_writer``, which drives ``IsWriter`` and the
  writer's ``Readers`` in GlobalClusterMembers); the call's answer is AWS's (old roles,
  ``failing-over``/``switching-over``, FailoverState ``pending``). With a lifecycle profile,
  tests/support/lifecycle.py keeps reporting the operation (Status, FailoverState, old roles)
  for the profile's next describes, as AWS does while it runs.
* A region outage is only the fault middleware's dropped connections, so a failover with
  ``AllowDataLoss`` makes the old primary a secondary member at once (AWS: when its region
  recovers) and takes the ``rds:unplanned-global-failover-...`` cluster snapshot (type
  ``automated``) in the old primary's region at once; it can be seen once that region answers
  again, as on AWS.
* ``TargetDbClusterIdentifier`` is an ARN or an identifier in the region the call is signed
  for. A cluster that does not exist: DBClusterNotFoundFault; one that is not a member of the
  global cluster, or is its writer already: InvalidDBClusterStateFault.
* Not modelled: the region a call must be made in, engine-version compatibility, a second
  operation while one runs, a switchover attempted while a member's region is down (AWS
  documents that switchover needs every cluster healthy, not the error it answers), moto's
  writer instance in secondary clusters (AWS's secondaries have only readers) and
  ``ReplicationSourceIdentifier`` of secondaries.
"""

import copy
import threading
import time
from types import SimpleNamespace

LOCK = threading.Lock()
GLOBAL_REGION = "us-east-1"  # where moto keeps global clusters (RDSResponse.global_backend)
SNAPSHOT_PREFIX = "rds:unplanned-global-failover-"
RDS_SCOPE = "/rds/aws4_request"  # in the Authorization header of every request signed for RDS


def _errors():
    from moto.rds.exceptions import RDSClientError

    class GlobalClusterNotFound(RDSClientError):
        def __init__(self, identifier):
            super().__init__("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")

    return RDSClientError, GlobalClusterNotFound


def _find_cluster(backends, identifier, region):
    """The DB cluster an ARN or an identifier in `region` names (None when there is none)."""
    if identifier.startswith("arn:"):
        parts = identifier.split(":")
        if len(parts) < 7 or parts[5] != "cluster":
            return None
        region, identifier = parts[3], parts[6]
    try:
        clusters = backends[region].clusters
    except KeyError:  # not a region
        return None
    return clusters.get(identifier) or clusters.get(identifier.lower())


def _writer(glob):
    """The member that writes; moto's CreateGlobalCluster from a source cluster flags none (the source, first)."""
    return next((member for member in glob.members if member.is_writer), glob.members[0] if glob.members else None)


def _answer(glob, writer, target, data_loss):
    """The GlobalCluster as the call answers it: the operation starting, the old roles."""
    shown = copy.copy(glob)
    shown.members = [
        SimpleNamespace(db_cluster_arn=member.db_cluster_arn, is_writer=member is writer) for member in glob.members
    ]
    shown.status = "failing-over" if data_loss else "switching-over"
    shown.failover_state = {
        "Status": "pending",
        "FromDbClusterArn": writer.db_cluster_arn,
        "ToDbClusterArn": target.db_cluster_arn,
        "IsDataLossAllowed": data_loss,
    }
    return shown


def _point_of_failure_snapshot(cluster):
    """AWS's snapshot of the old primary's volume at the point of failure (best effort, as AWS's)."""
    stamp = time.strftime("%Y-%m-%d-%H-%M", time.gmtime())
    name = f"{SNAPSHOT_PREFIX}{cluster.db_cluster_identifier}-{stamp}"
    try:
        cluster.backend.create_db_cluster_snapshot(cluster.db_cluster_identifier, name, snapshot_type="automated")
    except Exception:  # noqa: BLE001 - one per minute and cluster; AWS only "attempts" it too
        return None
    return name


def promote(account, region, identifier, target_identifier, data_loss):
    """Make the target the writer of the global cluster; the GlobalCluster to answer (AWS's view at the start)."""
    from moto.rds.models import rds_backends

    client_error, global_cluster_not_found = _errors()
    backends = rds_backends[account]
    with LOCK:
        glob = backends[GLOBAL_REGION].global_clusters.get(identifier or "")
        if glob is None:
            raise global_cluster_not_found(identifier)
        target = _find_cluster(backends, target_identifier or "", region)
        if target is None:
            raise client_error("DBClusterNotFoundFault", f"DBCluster {target_identifier} not found.")
        if target not in glob.members:
            message = f"DB cluster {target.db_cluster_arn} is not a member of global cluster {glob.global_cluster_arn}"
            raise client_error("InvalidDBClusterStateFault", message)
        writer = _writer(glob)
        if target is writer:
            message = f"DB cluster {target.db_cluster_arn} is already the primary of global cluster {identifier}"
            raise client_error("InvalidDBClusterStateFault", message)
        answer = _answer(glob, writer, target, data_loss)
        for member in glob.members:
            member.is_writer = member is target
        if data_loss:
            _point_of_failure_snapshot(writer)
    return answer


def failover_global_cluster(response):
    """RDSResponse.failover_global_cluster: a failover with AllowDataLoss, else a switchover."""
    from moto.core.responses import ActionResult
    from moto.rds.exceptions import InvalidParameterCombination

    params = response.params
    data_loss = bool(params.get("AllowDataLoss"))
    if data_loss and params.get("Switchover"):
        raise InvalidParameterCombination("Cannot specify both AllowDataLoss and Switchover.")
    glob = promote(
        response.current_account,
        response.region,
        params.get("GlobalClusterIdentifier"),
        params.get("TargetDbClusterIdentifier"),
        data_loss,
    )
    return ActionResult({"GlobalCluster": glob})


def switchover_global_cluster(response):
    """RDSResponse.switchover_global_cluster: always without data loss."""
    from moto.core.responses import ActionResult

    params = response.params
    glob = promote(
        response.current_account,
        response.region,
        params.get("GlobalClusterIdentifier"),
        params.get("TargetDbClusterIdentifier"),
        False,
    )
    return ActionResult({"GlobalCluster": glob})


def install():
    """Add both actions to moto's RDS responder (in this process; idempotent)."""
    from moto.rds.responses import RDSResponse

    RDSResponse.failover_global_cluster = failover_global_cluster
    RDSResponse.switchover_global_cluster = switchover_global_cluster


def middleware(app):
    """WSGI middleware in front of moto: `install()` before the first RDS request reaches moto.

    Importing moto's RDS (and the EC2 models it imports) takes about a second; moto itself does it at the
    first RDS request, so the emulator starts as fast as moto_server does.
    """
    installed = []

    def serve(environ, start_response):
        if not installed and RDS_SCOPE in environ.get("HTTP_AUTHORIZATION", ""):
            install()
            installed.append(True)
        return app(environ, start_response)

    return serve
