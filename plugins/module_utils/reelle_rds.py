# -*- coding: utf-8 -*-
# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the RDS modules (rds_postgres, aurora_global_database) share: engine-version and KMS key
comparison, and the master password generated into Secrets Manager."""

PASSWORD_LENGTH = 32


def version_tuple(version):
    """(15, 4) for "15.4"; stops at the first part that is not a number."""
    parts = []
    for part in str(version or "").split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def version_change(desired, actual):
    """How actual compares with desired: None (satisfied), minor-upgrade, major-upgrade, downgrade, newer."""
    wanted, running = version_tuple(desired), version_tuple(actual)
    if not wanted or not running or running[: len(wanted)] == wanted:
        return None
    if wanted[0] < running[0]:
        return "downgrade"
    if wanted[0] > running[0]:
        return "major-upgrade"
    return "minor-upgrade" if wanted > running[: len(wanted)] else "newer"


def kms_key_id_of(value):
    """The key id in a KMS key ARN or id (aliases are returned as they are)."""
    return value.rsplit("key/", 1)[-1] if value and ":key/" in value else value


def same_kms_key(desired, actual):
    """True when desired (key ARN or key id) names the key actual names; aliases cannot be told apart here."""
    if not desired or desired == actual:
        return True
    if "alias/" in desired or "alias/" in (actual or ""):
        return True
    return kms_key_id_of(desired) == kms_key_id_of(actual)


def drop_none(values):
    return {key: value for key, value in values.items() if value is not None}


def generate_password(module, secrets):
    """A new master password from Secrets Manager, registered as a no_log value (never output)."""
    answer = secrets.get_random_password(
        aws_retry=True, PasswordLength=PASSWORD_LENGTH, ExcludePunctuation=True, IncludeSpace=False
    )
    password = answer["RandomPassword"]
    module.no_log_values.add(password)
    return password
