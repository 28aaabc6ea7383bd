"""A program outside the repository that pip-installed event-pipeline-components, run under
Pulumi's own mocks (tests/unit/test_distribution.py copies it out of the tree and runs it with the
fresh virtualenv's Python). It prints what it found as JSON on its last line."""

import json
import sys
from pathlib import Path

import pulumi


class Mocks(pulumi.runtime.Mocks):
    """Every resource echoes its inputs plus the outputs the components read back."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        arn = f"arn:aws:mock:us-east-1:123456789012:{args.name}"
        outputs = {"arn": arn, "name": args.name, "url": f"https://{args.name}",
                   "arnSuffix": args.name, "repositoryUrl": f"ecr/{args.name}",
                   "digest": "sha256:" + "0" * 64, "bucket": args.name, "uuid": args.name,
                   "codeSha256": "0", "result": "{}", "dnsName": f"{args.name}.elb", "zoneId": "Z1",
                   **args.inputs}
        REGISTERED.append((args.typ, args.name, dict(args.inputs)))
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {"region": "us-east-1", "name": "us-east-1", "accountId": "123456789012",
                "partition": "aws", "dnsSuffix": "amazonaws.com", "id": "us-east-1"}


REGISTERED: list[tuple[str, str, dict]] = []
pulumi.runtime.set_mocks(Mocks(), project="outside", stack="test", preview=False)

import event_contract  # noqa: E402

import components  # noqa: E402
from components import (  # noqa: E402
    ApiService,
    ApiServiceArgs,
    Consumer,
    ConsumerArgs,
    ExistingKafkaCluster,
    ExistingTopic,
    ExistingVpc,
)
from components.package_files import source_root  # noqa: E402
from components.project_sources import project_sources  # noqa: E402

VPC = ExistingVpc(
    vpc_id="vpc-0123456789abcdef0", private_subnet_ids=["subnet-1", "subnet-2"],
    public_subnet_ids=["subnet-3", "subnet-4"], s3_prefix_list_id="pl-63a5400a",
    endpoint_security_group_ids={name: f"sg-{name}" for name in
                                 ("ecr.api", "ecr.dkr", "logs", "sts", "lambda", "sqs")})
TOPIC = ExistingTopic(cluster=ExistingKafkaCluster(
    arn="arn:aws:kafka:us-east-1:123456789012:cluster/c/0f1e2d3c-1234-5678-9abc-def0123456-s1",
    bootstrap_brokers_sasl_iam="b-1.example:9098", security_group_id="sg-cluster"),
    topic_name="orders")


@pulumi.runtime.test
def deploy() -> pulumi.Output:
    api = ApiService("api", ApiServiceArgs(network=VPC, topic=TOPIC, alarm_actions=["arn:sns"],
                                           allow_plain_http=True))
    consumer = Consumer("consumer", ConsumerArgs(
        network=VPC, topic=TOPIC, alarm_actions=["arn:sns"],
        code=pulumi.AssetArchive({"handler.py": pulumi.StringAsset("")})))
    return pulumi.Output.all(api.url, consumer.function_name)


deploy()
image = next(inputs for type_, _, inputs in REGISTERED if type_ == "docker-build:index:Image")
consumer_sources = project_sources(source_root() / "services" / "consumer",
                                   (source_root() / "libs",))
print(json.dumps({
    "components": components.__file__,
    "event_contract": event_contract.__file__,
    "version": components.__version__,
    "source_root": str(source_root()),
    "image_context": str((Path.cwd() / image["context"]["location"]).resolve()),
    "dockerfile": str((Path.cwd() / image["dockerfile"]["location"]).resolve()),
    "consumer_packages": [str(p) for p in consumer_sources.import_packages],
    "types": sorted({type_ for type_, _, _ in REGISTERED}),
    "resources": len(REGISTERED),
    "sys_path_has_checkout": any("event-pipeline" in p or "/work/" in p for p in sys.path[:1]),
}))
