"""Once per AWS account: the IPAM and a pool per region (README "Deploy to AWS", step 2).

    pulumi -C bootstrap/ipam stack init account && pulumi -C bootstrap/ipam up
    pulumi -C bootstrap/ipam stack output poolId     # -> the app stacks' ipamPoolId
"""

import pulumi
import pulumi_aws as aws
from account_ipam import AccountIpam, AccountIpamArgs
from pools import read_pools

region = pulumi.Config("aws").get("region")
pools = read_pools(pulumi.Config(), region)

ipam = AccountIpam("account", AccountIpamArgs(pools=pools, home_region=region))

# ECS's service-linked role (AWSServiceRoleForECS), once per account. ECS creates it itself on the
# first cluster or service ("Using service-linked roles for Amazon ECS", https://docs.aws.amazon.com/
# AmazonECS/latest/developerguide/using-service-linked-roles.html), but in an account that never
# used ECS the first CreateService of an application stack can fail with "Unable to assume the
# service linked role" while the new role propagates. Created here, it exists long before.
# IAM refuses a second one (the name is fixed), so an account that already has it
# (`aws iam get-role --role-name AWSServiceRoleForECS`) sets createEcsServiceLinkedRole=false.
# Kept on destroy: application stacks of the account use it, and ECS refuses its deletion while
# any cluster is left.
if pulumi.Config().get_bool("createEcsServiceLinkedRole") is not False:
    aws.iam.ServiceLinkedRole(
        "ecs-service-linked-role", aws_service_name="ecs.amazonaws.com",
        description="Amazon ECS service-linked role (event-pipeline bootstrap/ipam)",
        opts=pulumi.ResourceOptions(retain_on_delete=True))

pulumi.export("ipamId", ipam.ipam_id)
pulumi.export("poolIds", ipam.pool_ids)
if region in ipam.pool_ids:
    pulumi.export("poolId", ipam.pool_ids[region])
