"""The local broker's IAM identities: one access key per principal, and the two files the broker
reads for them (the validator's credentials file, the authorizer's policies file).

Both files are replaced atomically (write, then rename): the broker reads them again on the next
request after a change (local/msk-iam-validator, WatchedFile), never half-written.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from local.kafka.policies import ADMIN, ADMIN_POLICY, PolicyDocument, RenderPolicy, render

# AWS's documentation account id: the local cluster belongs to no real account.
LOCAL_ACCOUNT = "123456789012"
CLUSTER_NAME = "local"


def local_cluster_arn(region: str) -> str:
    """An MSK Serverless cluster ARN, `cluster/NAME/UUID` with a fresh UUID. Serverless cluster
    UUIDs end in `-s<digit>` (MSK guide, "Create an IAM role for topics on MSK Serverless
    cluster": `cluster/msk-serverless-tutorial-cluster/c07c74ea-...-9baa787a5b14-s3`,
    https://docs.aws.amazon.com/msk/latest/developerguide/create-iam-role.html)."""
    return f"arn:aws:kafka:{region}:{LOCAL_ACCOUNT}:cluster/{CLUSTER_NAME}/{uuid.uuid4()}-s1"


def _access_key_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))


@dataclass(frozen=True)
class Principal:
    """One role's identity and IAM policies: the fixed `documents`, plus `policy` rendered for
    every granted (topic, group)."""

    name: str
    policy: RenderPolicy | None = None
    documents: tuple[PolicyDocument, ...] = ()
    access_key_id: str = field(default_factory=_access_key_id)
    secret_access_key: str = field(default_factory=lambda: secrets.token_urlsafe(30),
                                   repr=False)

    def policies(self, cluster_arn: str,
                 grants: Iterable[tuple[str, str]]) -> list[PolicyDocument]:
        rendered = [] if self.policy is None else render(self.policy, cluster_arn, grants)
        return [*self.documents, *rendered]


def admin_principal() -> Principal:
    return Principal(ADMIN, documents=(ADMIN_POLICY,))


def write_atomically(path: Path, text: str) -> None:
    """Owner-only file (it holds secrets) replaced in one rename."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def credentials_text(principals: Iterable[Principal]) -> str:
    """The validator's `<access key id>=<secret>` lines."""
    return "".join(f"{p.access_key_id}={p.secret_access_key}\n" for p in principals)


def policies_text(cluster_arn: str, principals: Iterable[Principal],
                  grants: Iterable[tuple[str, str]]) -> str:
    """The authorizer's policies file (local/msk-iam-validator, PoliciesFile)."""
    grants = list(grants)
    return json.dumps({
        "cluster_arn": cluster_arn,
        "principals": {
            p.access_key_id: {"name": p.name, "policies": p.policies(cluster_arn, grants)}
            for p in principals
        },
    }, indent=1)
