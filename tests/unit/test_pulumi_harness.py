"""The mocks harness answers from the type token, invents nothing, and refuses what AWS refuses."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from testing.pulumi_harness import (
    ACCOUNT_ID,
    REGION,
    AwsAccount,
    AwsMocks,
    AwsRefusal,
    TypeToken,
    run_program,
)

POOL = "ipam-pool-0123456789abcdef0"


def test_the_type_token_names_service_and_kind():
    token = TypeToken.parse("aws:sqs/queue:Queue")
    assert (token.package, token.service, token.kind, token.class_name) == (
        "aws", "sqs", "queue", "Queue")
    assert TypeToken.parse("aws:lb/targetGroup:TargetGroup").service == "elasticloadbalancing"
    assert TypeToken.parse("aws:cloudwatch/logGroup:LogGroup").service == "logs"


def test_arns_ids_and_names_are_derived_from_the_token():
    def program():
        aws.sqs.Queue("orders")
        aws.iam.Role("runner", assume_role_policy="{}")
        aws.s3.BucketV2("archive")
        aws.cloudwatch.LogGroup("logs")
        aws.ecs.Cluster("cluster")

    run = run_program(program)
    queue = run.one("aws:sqs/queue:Queue")
    name = queue.outputs["name"]
    assert name.startswith("orders-") and name != "orders"  # auto-named
    assert queue.outputs["arn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    assert queue.id == queue.outputs["url"] == (
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}")
    role = run.one("aws:iam/role:Role")
    assert role.id == role.outputs["name"]
    assert role.outputs["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{role.outputs['name']}"
    bucket = run.one("aws:s3/bucketV2:BucketV2")
    assert bucket.outputs["arn"] == f"arn:aws:s3:::{bucket.outputs['bucket']}"
    log_group = run.one("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.outputs["arn"].endswith(f":log-group:{log_group.outputs['name']}")
    cluster = run.one("aws:ecs/cluster:Cluster")
    assert cluster.id == cluster.outputs["arn"]  # ECS clusters are identified by ARN


def test_a_name_the_program_sets_is_kept():
    run = run_program(lambda: aws.sqs.Queue("q", name="exact-name"))
    assert run.one("aws:sqs/queue:Queue").outputs["name"] == "exact-name"


def test_only_declared_outputs_and_no_invented_computed_values():
    def program():
        aws.ec2.RouteTableAssociation("assoc", subnet_id="subnet-1", route_table_id="rtb-1")
        aws.lambda_.Function("fn", role="arn:aws:iam::123456789012:role/r",
                             code=pulumi.AssetArchive({}), runtime="python3.13",
                             handler="h.handler")

    run = run_program(program)
    association = run.one("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert "arn" not in association.outputs and "name" not in association.outputs
    assert association.id.startswith("rtbassoc-")
    function = run.one("aws:lambda/function:Function")
    # Computed outputs no special case produces stay unset, as in a preview.
    assert "invokeArn" not in function.outputs and "version" not in function.outputs


def test_secret_inputs_are_revealed_for_assertions():
    run = run_program(lambda: aws.sqs.Queue("q", policy=pulumi.Output.secret('{"a": 1}')))
    assert run.one("aws:sqs/queue:Queue").inputs["policy"] == '{"a": 1}'


def test_resource_options_are_recorded():
    def program():
        aws.ecs.Cluster("c", opts=pulumi.ResourceOptions(
            ignore_changes=["settings"], protect=True,
            custom_timeouts=pulumi.CustomTimeouts(delete="45m")))

    options = run_program(program).one("aws:ecs/cluster:Cluster").options
    assert options["ignore_changes"] == ["settings"]
    assert options["protect"] is True
    assert options["delete_timeout"] == "45m"


def test_an_unknown_invoke_fails_loudly():
    with pytest.raises(Exception, match="no mocked result for invoke aws:index/getArn:getArn"):
        run_program(lambda: pulumi.Output.from_input(
            aws.get_arn(arn="arn:aws:sqs:us-east-1:123456789012:q")))


def test_an_ec2_type_without_a_known_id_prefix_fails_loudly():
    with pytest.raises(KeyError, match="EC2_ID_PREFIXES"):
        run_program(lambda: aws.ec2.KeyPair("key", public_key="ssh-ed25519 AAAA"))


# --- the account: limits AWS enforces ----------------------------------------------------------

def _vpc_program(pool: str = POOL, netmask: int = 24, subnets: tuple[str, ...] = ()):
    def program():
        vpc = aws.ec2.Vpc("vpc", ipv4_ipam_pool_id=pool, ipv4_netmask_length=netmask)
        for index, cidr in enumerate(subnets):
            aws.ec2.Subnet(f"subnet-{index}", vpc_id=vpc.id, cidr_block=cidr)

    return program


def test_a_vpc_gets_the_first_free_block_of_an_existing_pool():
    account = AwsAccount(ipam_pools={POOL: ["10.40.0.0/23"]})
    first = run_program(_vpc_program(), account=account).one("aws:ec2/vpc:Vpc")
    second = run_program(_vpc_program(), account=account).one("aws:ec2/vpc:Vpc")
    assert first.outputs["cidrBlock"] == "10.40.0.0/24"
    assert second.outputs["cidrBlock"] == "10.40.1.0/24"
    with pytest.raises(AwsRefusal, match="has no free /24"):
        run_program(_vpc_program(), account=account)


def test_a_vpc_from_a_pool_the_account_does_not_have_is_refused():
    with pytest.raises(AwsRefusal, match=f"IPAM pool {POOL} does not exist"):
        run_program(_vpc_program(), account=AwsAccount())


@pytest.mark.parametrize(("subnets", "refusal"), [
    (("10.40.1.0/26",), "is not within the CIDR 10.40.0.0/24"),
    # Either subnet may register first: the refusal names the other one.
    (("10.40.0.0/25", "10.40.0.64/26"),
     r"subnet 10\.40\.0\.(0/25|64/26) conflicts with subnet 10\.40\.0\.(64/26|0/25)"),
    (("10.40.0.0/29",), "outside /16-/28"),
])
def test_subnets_must_fit_their_vpc_without_overlap(subnets, refusal):
    account = AwsAccount(ipam_pools={POOL: ["10.40.0.0/24"]})
    with pytest.raises(AwsRefusal, match=refusal):
        run_program(_vpc_program(subnets=subnets), account=account)


def test_subnets_that_fit_are_accepted():
    account = AwsAccount(ipam_pools={POOL: ["10.40.0.0/24"]})
    run = run_program(_vpc_program(subnets=("10.40.0.0/25", "10.40.0.128/25")), account=account)
    # Registration order of sibling resources is not fixed: compare as a set.
    assert sorted(s.outputs["cidrBlock"] for s in run.of_type("aws:ec2/subnet:Subnet")) == [
        "10.40.0.0/25", "10.40.0.128/25"]


def test_an_account_holds_one_ipam():
    account = AwsAccount()

    def program():
        aws.ec2.VpcIpam("ipam", operating_regions=[{"region_name": REGION}])

    run_program(program, account=account)
    with pytest.raises(AwsRefusal, match="quota is 1"):
        run_program(program, account=account)
    run_program(program, account=AwsAccount())  # another account may have its own


def test_mocks_tables_are_per_instance():
    mocks = AwsMocks()
    mocks.outputs["aws:sqs/queue:Queue"] = lambda r, a: {"url": "https://example.invalid/q"}
    assert AwsMocks().outputs["aws:sqs/queue:Queue"] is not mocks.outputs["aws:sqs/queue:Queue"]
    run = run_program(lambda: aws.sqs.Queue("q"), mocks=mocks)
    assert run.one("aws:sqs/queue:Queue").outputs["url"] == "https://example.invalid/q"


# What testing/pulumi_harness.py defined itself before it was split into the account, the mocks
# and the runner: other branches and tools import these names from it.
HARNESS_NAMES = {
    "ACCOUNTLESS_SERVICES", "ACCOUNT_ID", "ARN_LAYOUTS", "ARN_SERVICES", "AwsAccount", "AwsMocks",
    "AwsRefusal", "BOOTSTRAPPED_POOL_CIDR", "BOOTSTRAPPED_POOL_ID", "EC2_ID_PREFIXES",
    "EXAMPLE_VALUES", "GLOBAL_SERVICES", "ID_IS_ARN", "INVOKE_RESULTS", "IPAM_QUOTA",
    "InvokeFactory", "MockResource", "NAME_PROPERTIES", "OutputFactory", "PARTITION",
    "PLACEHOLDER_FILE", "PROJECT_ROOT", "PulumiRun", "REGION", "RecordedResource",
    "SECRET_SIGNATURE", "SPECIAL_OUTPUTS", "STACK_TYPE", "TypeToken", "VPC_NETMASKS",
    "declared_outputs", "full_config", "generic_outputs", "project_name", "resolve", "reveal",
    "run_main", "run_program", "run_project", "stack_config",
}


def test_the_entry_module_keeps_every_public_name_of_the_split_modules():
    import importlib

    import testing.pulumi_harness as harness

    assert set(harness.__all__) == HARNESS_NAMES
    for module_name in ("testing.aws_account", "testing.aws_mocks", "testing.pulumi_runner"):
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if name in HARNESS_NAMES:  # the same object, not a copy that could drift
                assert getattr(harness, name) is value, f"{module_name}.{name}"
