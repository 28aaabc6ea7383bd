"""Once per AWS account: the IPAM and a pool per region (README "Deploy to AWS", step 1).

    pulumi -C bootstrap/ipam stack init account && pulumi -C bootstrap/ipam up
    pulumi -C bootstrap/ipam stack output poolId     # -> the app stacks' ipamPoolId
"""

import pulumi
from account_ipam import AccountIpam, AccountIpamArgs
from pools import read_pools

region = pulumi.Config("aws").get("region")
pools = read_pools(pulumi.Config(), region)

ipam = AccountIpam("account", AccountIpamArgs(pools=pools, home_region=region))

pulumi.export("ipamId", ipam.ipam_id)
pulumi.export("poolIds", ipam.pool_ids)
if region in ipam.pool_ids:
    pulumi.export("poolId", ipam.pool_ids[region])
