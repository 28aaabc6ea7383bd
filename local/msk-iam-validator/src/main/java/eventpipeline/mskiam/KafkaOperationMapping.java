package eventpipeline.mskiam;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Which {@code kafka-cluster:*} action MSK checks when Kafka asks to authorize an operation on a
 * resource. Source: MSK developer guide, "Semantics of IAM authorization policy actions and
 * resources" (https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html), whose
 * table gives for each action the Apache Kafka ACL it is "equivalent to" (e.g. ReadData:
 * READ TOPIC, AlterGroup: READ GROUP, WriteDataIdempotently: IDEMPOTENT_WRITE CLUSTER).
 *
 * <p>Operations Kafka 4.1.1 asks for that have no row there (CLUSTER_ACTION, the inter-broker
 * operation; DESCRIBE_CONFIGS/ALTER_CONFIGS on GROUP; TWO_PHASE_COMMIT; DELEGATION_TOKEN, USER)
 * map to nothing and are denied. CREATE and DELETE on CLUSTER map to nothing too: CreateTopics and
 * DeleteTopics fall back to CREATE/DELETE on each TOPIC when the cluster-wide check fails (Kafka
 * 4.1.1 ControllerApis), which is where MSK's per-topic CreateTopic/DeleteTopic apply.
 */
final class KafkaOperationMapping {
    private static final Map<ResourceType, Map<AclOperation, MskAction>> TABLE = new EnumMap<>(ResourceType.class);

    static {
        map(ResourceType.CLUSTER, AclOperation.DESCRIBE, MskAction.DESCRIBE_CLUSTER);
        map(ResourceType.CLUSTER, AclOperation.ALTER, MskAction.ALTER_CLUSTER);
        map(ResourceType.CLUSTER, AclOperation.DESCRIBE_CONFIGS, MskAction.DESCRIBE_CLUSTER_DYNAMIC_CONFIGURATION);
        map(ResourceType.CLUSTER, AclOperation.ALTER_CONFIGS, MskAction.ALTER_CLUSTER_DYNAMIC_CONFIGURATION);
        map(ResourceType.CLUSTER, AclOperation.IDEMPOTENT_WRITE, MskAction.WRITE_DATA_IDEMPOTENTLY);
        map(ResourceType.TOPIC, AclOperation.CREATE, MskAction.CREATE_TOPIC);
        map(ResourceType.TOPIC, AclOperation.DESCRIBE, MskAction.DESCRIBE_TOPIC);
        map(ResourceType.TOPIC, AclOperation.ALTER, MskAction.ALTER_TOPIC);
        map(ResourceType.TOPIC, AclOperation.DELETE, MskAction.DELETE_TOPIC);
        map(ResourceType.TOPIC, AclOperation.DESCRIBE_CONFIGS, MskAction.DESCRIBE_TOPIC_DYNAMIC_CONFIGURATION);
        map(ResourceType.TOPIC, AclOperation.ALTER_CONFIGS, MskAction.ALTER_TOPIC_DYNAMIC_CONFIGURATION);
        map(ResourceType.TOPIC, AclOperation.READ, MskAction.READ_DATA);
        map(ResourceType.TOPIC, AclOperation.WRITE, MskAction.WRITE_DATA);
        map(ResourceType.GROUP, AclOperation.DESCRIBE, MskAction.DESCRIBE_GROUP);
        map(ResourceType.GROUP, AclOperation.READ, MskAction.ALTER_GROUP);
        map(ResourceType.GROUP, AclOperation.DELETE, MskAction.DELETE_GROUP);
        map(ResourceType.TRANSACTIONAL_ID, AclOperation.DESCRIBE, MskAction.DESCRIBE_TRANSACTIONAL_ID);
        map(ResourceType.TRANSACTIONAL_ID, AclOperation.WRITE, MskAction.ALTER_TRANSACTIONAL_ID);
    }

    private KafkaOperationMapping() {
    }

    private static void map(ResourceType type, AclOperation operation, MskAction action) {
        TABLE.computeIfAbsent(type, t -> new EnumMap<>(AclOperation.class)).put(operation, action);
    }

    /** The MSK action for this Kafka operation, or null when MSK grants it to no IAM principal. */
    static MskAction actionFor(ResourceType type, AclOperation operation) {
        Map<AclOperation, MskAction> byOperation = TABLE.get(type);
        return byOperation == null ? null : byOperation.get(operation);
    }

    /** Why an operation with no MSK action is denied, for the decision log. */
    static String unmappedReason(ResourceType type, AclOperation operation) {
        if (type == ResourceType.CLUSTER && operation == AclOperation.CREATE) {
            return "no kafka-cluster action maps to CREATE on CLUSTER: MSK authorizes creation per topic"
                    + " (kafka-cluster:CreateTopic on the topic ARN), which Kafka checks next";
        }
        if (type == ResourceType.CLUSTER && operation == AclOperation.DELETE) {
            return "no kafka-cluster action maps to DELETE on CLUSTER: MSK authorizes deletion per topic"
                    + " (kafka-cluster:DeleteTopic on the topic ARN), which Kafka checks next";
        }
        if (type == ResourceType.CLUSTER && operation == AclOperation.CLUSTER_ACTION) {
            return "CLUSTER_ACTION is Kafka's inter-broker operation: IAM access control grants it to no client";
        }
        return "no kafka-cluster action maps to " + operation + " on " + type;
    }

    /**
     * The actions checked, in order, when Kafka asks for {@code primary}: Connect (on the cluster,
     * for every request), the action itself, then its required actions that apply to the same
     * resource or to the cluster. A required action on another resource type (ReadData needs
     * AlterGroup, WriteDataIdempotently and AlterTransactionalId need WriteData) has no ARN in this
     * request: Kafka asks for it on the request that names that group or topic (JoinGroup,
     * OffsetCommit, Produce), where it is checked like any other.
     */
    static List<MskAction> checksFor(MskAction primary) {
        List<MskAction> checks = new ArrayList<>();
        checks.add(MskAction.CONNECT);
        if (primary != MskAction.CONNECT) {
            checks.add(primary);
        }
        for (MskAction required : primary.allRequiredActions()) {
            boolean sameResource = required.resourceType() == primary.resourceType()
                    || required.resourceType() == MskResourceType.CLUSTER;
            if (sameResource && !checks.contains(required)) {
                checks.add(required);
            }
        }
        return List.copyOf(checks);
    }
}
