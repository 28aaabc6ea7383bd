"""Run a Pulumi program under mocks and record everything it registers.

The one harness behind the tests (tests/fixtures/pulumi_mocks.py wraps it in pytest fixtures),
the offline policy-pack run (testing/policy_run.py) and bench/program.py:

    run = run_program(lambda: Network("net", NetworkArgs(ipam_pool_id=POOL)), account=account)
    run.one("aws:ec2/vpc:Vpc").outputs["cidrBlock"]

Three modules, one concern each; import their names from here:
- testing/aws_account.py: the fake account (`AwsAccount`) the stacks deploy into. It outlives a
  run: pass the same one to several runs to deploy several stacks into one account and region;
  by default a run deploys into `AwsAccount.bootstrapped()`, the account as bootstrap/ipam leaves
  it. It refuses (`AwsRefusal`) what AWS refuses and what settings or the policy pack must catch
  first: a second IPAM (1 per Region), a VPC from an unknown or exhausted IPAM pool, a subnet
  outside its VPC, overlapping another one, or outside /16-/28.
- testing/aws_mocks.py: the mocked provider (`AwsMocks`): inputs echoed, ids/ARNs/names derived
  from the type token, and only the computed outputs the program consumes (SPECIAL_OUTPUTS);
  every other computed output stays unset, so a program that starts to rely on one fails here.
- testing/pulumi_runner.py: the runner (`run_program`, `run_project`, `run_main`) and what a run
  registered (`PulumiRun`, `RecordedResource`); the stack files' config (`stack_config`).
"""

from testing.aws_account import (
    ACCOUNT_ID,
    ACCOUNTLESS_SERVICES,
    BOOTSTRAPPED_POOL_CIDR,
    BOOTSTRAPPED_POOL_ID,
    GLOBAL_SERVICES,
    IPAM_QUOTA,
    PARTITION,
    REGION,
    VPC_NETMASKS,
    AwsAccount,
    AwsRefusal,
)
from testing.aws_mocks import (
    ARN_LAYOUTS,
    ARN_SERVICES,
    EC2_ID_PREFIXES,
    ID_IS_ARN,
    INVOKE_RESULTS,
    NAME_PROPERTIES,
    SECRET_SIGNATURE,
    SPECIAL_OUTPUTS,
    AwsMocks,
    InvokeFactory,
    MockResource,
    OutputFactory,
    TypeToken,
    declared_outputs,
    generic_outputs,
    reveal,
)
from testing.pulumi_runner import (
    EXAMPLE_VALUES,
    PLACEHOLDER_FILE,
    PROJECT_ROOT,
    STACK_TYPE,
    PulumiRun,
    RecordedResource,
    full_config,
    project_name,
    resolve,
    run_main,
    run_program,
    run_project,
    stack_config,
)

__all__ = [
    "ACCOUNTLESS_SERVICES", "ACCOUNT_ID", "ARN_LAYOUTS", "ARN_SERVICES", "BOOTSTRAPPED_POOL_CIDR",
    "BOOTSTRAPPED_POOL_ID", "EC2_ID_PREFIXES", "EXAMPLE_VALUES", "GLOBAL_SERVICES", "ID_IS_ARN",
    "INVOKE_RESULTS", "IPAM_QUOTA", "NAME_PROPERTIES", "PARTITION", "PLACEHOLDER_FILE",
    "PROJECT_ROOT", "REGION", "SECRET_SIGNATURE", "SPECIAL_OUTPUTS", "STACK_TYPE", "VPC_NETMASKS",
    "AwsAccount", "AwsMocks", "AwsRefusal", "InvokeFactory", "MockResource", "OutputFactory",
    "PulumiRun", "RecordedResource", "TypeToken", "declared_outputs", "full_config",
    "generic_outputs", "project_name", "resolve", "reveal", "run_main", "run_program",
    "run_project", "stack_config",
]
