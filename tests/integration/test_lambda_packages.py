"""What `pulumi up` uploads runs here as Lambda runs it, for every stack file: each function's
package exactly as the program builds it (build/<service>/package, nothing else on the path),
Python 3.13, the handler string and environment variables from the program's resource graph,
and every call through AWS's Runtime Interface Emulator (local/lambda_runtime).

- the topic provisioner, invoked with exactly the `Invocation`'s input as the `topic-admin`
  principal against the real broker: the topic exists afterwards, a second run changes nothing;
- the consumer, fed by the local event source mapping with the program's mapping settings,
  through the Invoke API: every good record processed, poison ones dead-lettered to SQS;
- and the failures this tier exists to catch: a module missing from the package, a handler
  string that names nothing, a variable the program does not set.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from event_api.events import build_event, to_record

from local.esm.emulated import EmulatorHandler, event_id_of, succeeded_records
from local.functions import emulated, localized, split_principal_env
from local.lambda_runtime import FunctionError, FunctionSpec, LambdaEmulator, ensure_toolchain
from testing.deployables import StackDeployables, stack_deployables
from testing.pulumi_harness import PROJECT_ROOT
from tests.fixtures.consumer import committed_offsets, end_offsets, produce, wait_until
from tests.fixtures.kafka import partitions

pytestmark = pytest.mark.integration
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                for p in PROJECT_ROOT.glob("Pulumi.*.yaml"))


@pytest.fixture(scope="session")
def toolchain():
    return ensure_toolchain()


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> StackDeployables:
    return stack_deployables(request.param)


def test_the_topic_provisioner_package_makes_the_stacks_topic_once(stack, kafka_broker, tmp_path,
                                                                    toolchain):
    function = stack.function("topic_admin")
    request = dict(stack.topic_request)
    kafka_broker.grant(request["topic"], stack.mapping.group_id)  # the policies `up` renders
    local_values, role = split_principal_env(kafka_broker.client_env("topic-admin"),
                                             function.environment)
    with emulated(function, tmp_path, toolchain=toolchain, local_values=local_values,
                  runtime_env=role) as emulator:
        first = emulator.invoke(request)
        second = emulator.invoke(request)
    assert first["action"] in {"created", "unchanged"}  # dev and prod share the topic here
    assert partitions(kafka_broker, request["topic"]) == request["partitions"]
    assert second == {**first, "action": "unchanged"}
    log = emulator.log_path.read_text()
    assert log.count("REPORT RequestId") == 2  # two invocations through the Invoke API


def test_the_consumer_package_behind_the_programs_mapping(stack, kafka_broker, kafka_topic,
                                                          dead_letter_aws, esm_runner, tmp_path,
                                                          toolchain):
    function, mapping = stack.function("consumer"), stack.mapping
    events = [build_event(f"user{i % 5}") for i in range(30)]
    messages = [{"key": r.key, "value": r.value, "headers": r.headers}
                for r in map(to_record, events)]
    messages += [{"key": b"x", "value": b"not json"}, {"key": b"y", "value": b'{"event_id": 1}'}]
    produce(kafka_broker, kafka_topic, messages)
    finished: set[str] = set()

    def on_result(event, result):
        for record in succeeded_records(event, result, mapping.report_batch_item_failures):
            finished.add(event_id_of(record))

    role = {k: v for k, v in kafka_broker.client_env("consumer").items() if k.startswith("AWS_")}
    with emulated(function, tmp_path, toolchain=toolchain,
                  local_values={"DEAD_LETTER_QUEUE_URL": dead_letter_aws.queue_url,
                                "DEAD_LETTER_BUCKET": dead_letter_aws.bucket},
                  runtime_env={**role, **dead_letter_aws.aws.client_env()}) as emulator:
        esm_runner(kafka_topic, EmulatorHandler(emulator, on_result),
                   group_id=mapping.group_id, batch_size=mapping.batch_size,
                   batching_window_s=mapping.batching_window_s,
                   starting_position=mapping.starting_position,
                   max_retry_attempts=mapping.max_retry_attempts,
                   report_batch_item_failures=mapping.report_batch_item_failures,
                   on_failure=f"sqs:{dead_letter_aws.queue_url}")
        ends = end_offsets(kafka_broker, kafka_topic)
        wait_until(lambda: all(committed_offsets(kafka_broker, mapping.group_id).get(tp) == end
                               for tp, end in ends.items()), 90, "every record committed")
        log = emulator.log_path.read_text()
    assert {e.event_id for e in events} <= finished
    letters = dead_letter_aws.drain()
    assert len(letters) == 2, letters  # the two poison records, nothing else
    assert "START RequestId" in log and "Version: $LATEST" in log


def test_a_module_missing_from_the_package_fails_its_init(kafka_broker, tmp_path, toolchain):
    function = stack_deployables("dev").function("topic_admin")
    package = tmp_path / "package"
    shutil.copytree(function.build(), package)
    shutil.rmtree(package / "event_contract")  # what the program shipped before this test
    spec = FunctionSpec(function.resource_name, package, function.handler,
                        function.environment, function.timeout_s, function.memory_mb)
    with LambdaEmulator(spec, tmp_path / "fn.log", toolchain=toolchain) as emulator:
        with pytest.raises(FunctionError) as failure:
            emulator.invoke({"topic": "events", "partitions": 3})
    assert failure.value.error_type == "Runtime.ImportModuleError"
    assert "event_contract" in failure.value.error_message


def test_a_handler_string_that_names_nothing_fails_its_init(tmp_path, toolchain):
    function = stack_deployables("dev").function("consumer")
    spec = FunctionSpec(function.resource_name, function.build(),
                        function.handler + "_renamed", function.environment)
    with LambdaEmulator(spec, tmp_path / "fn.log", toolchain=toolchain) as emulator:
        with pytest.raises(FunctionError) as failure:
            emulator.invoke({})
    assert failure.value.error_type == "Runtime.HandlerNotFound"


def test_a_variable_the_program_does_not_set_fails_the_invocation(tmp_path, toolchain):
    function = stack_deployables("dev").function("consumer")
    environment = localized(function.environment, {"DEAD_LETTER_QUEUE_URL":
                                                   "https://sqs.us-east-1.amazonaws.com/1/q"})
    del environment["DEAD_LETTER_BUCKET"]
    spec = FunctionSpec(function.resource_name, function.build(), function.handler, environment)
    with LambdaEmulator(spec, tmp_path / "fn.log", toolchain=toolchain,
                        extra_env={"AWS_REGION": "us-east-1"}) as emulator:
        with pytest.raises(FunctionError, match="DEAD_LETTER_BUCKET is required"):
            emulator.invoke({"eventSource": "aws:kafka", "records": {"t-0": [
                {"topic": "t", "partition": 0, "offset": 0, "value": "e30="}]}})


def test_the_packages_are_the_folders_pulumi_up_uploads():
    for function in stack_deployables("dev").functions.values():
        assert function.build() == PROJECT_ROOT / function.build_dir / "package"
        assert Path(function.build(), *function.handler.split(".")[:-1]).with_suffix(
            ".py").is_file()


def test_running_a_package_leaves_the_uploaded_folder_untouched(tmp_path, toolchain):
    """Lambda's /var/task is read-only; here the package is the folder `pulumi up` zips, so the
    emulator must not write byte code into it (and a package that has some is rebuilt)."""
    function = stack_deployables("dev").function("consumer")
    package = function.build()
    spec = FunctionSpec(function.resource_name, package, function.handler,
                        # An empty batch writes no letter: the queue is never reached.
                        {"DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:9/000000000000/dl",
                         "DEAD_LETTER_BUCKET": "dead-letters"})
    with LambdaEmulator(spec, tmp_path / "fn.log", toolchain=toolchain,
                        extra_env={"AWS_REGION": "us-east-1",
                                   "AWS_DEFAULT_REGION": "us-east-1"}) as emulator:
        assert emulator.invoke({}) == {"processed": 0, "dead_lettered": 0}
    assert not list(package.rglob("__pycache__"))
    stray = package / "event_consumer" / "__pycache__"
    stray.mkdir()
    assert function.build() == package and not stray.exists()  # rebuilt, not shipped
