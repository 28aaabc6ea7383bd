"""Once per AWS account: the read-only role for pull-request previews (docs/operating.md, "CI").

    pulumi -C bootstrap/ci stack init account && pulumi -C bootstrap/ci up
    pulumi -C bootstrap/ci stack output previewRoleArn   # -> repository variable
                                                         #    AWS_PREVIEW_ROLE_ARN
"""

import re

import pulumi
from preview_role import PreviewRole, PreviewRoleArgs

config = pulumi.Config()
repository = config.require("githubRepository")
if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
    raise pulumi.RunError(f"{config.full_key('githubRepository')} = {repository!r}: must be "
                          "owner/name of the GitHub repository, without wildcards")

preview = PreviewRole("pr-preview", PreviewRoleArgs(
    repository=repository,
    create_oidc_provider=config.get_bool("createOidcProvider") or False,
))

pulumi.export("previewRoleArn", preview.role_arn)
