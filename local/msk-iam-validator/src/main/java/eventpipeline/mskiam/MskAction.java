package eventpipeline.mskiam;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code kafka-cluster:*} actions of MSK IAM access control, one constant per row of the
 * "Authorization policy actions" table in the MSK developer guide, page "Semantics of IAM
 * authorization policy actions and resources"
 * (https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html): the resource type
 * the action needs ("Required resources"), the actions it requires ("Required actions") and
 * whether it applies to serverless clusters. Declared in an order where required actions come
 * first, so the constructor can refer to them.
 */
enum MskAction {
    CONNECT("Connect", MskResourceType.CLUSTER, true),
    DESCRIBE_CLUSTER("DescribeCluster", MskResourceType.CLUSTER, true, CONNECT),
    ALTER_CLUSTER("AlterCluster", MskResourceType.CLUSTER, false, CONNECT, DESCRIBE_CLUSTER),
    DESCRIBE_CLUSTER_DYNAMIC_CONFIGURATION("DescribeClusterDynamicConfiguration",
            MskResourceType.CLUSTER, false, CONNECT),
    ALTER_CLUSTER_DYNAMIC_CONFIGURATION("AlterClusterDynamicConfiguration",
            MskResourceType.CLUSTER, false, CONNECT, DESCRIBE_CLUSTER_DYNAMIC_CONFIGURATION),
    CREATE_TOPIC("CreateTopic", MskResourceType.TOPIC, true, CONNECT),
    DESCRIBE_TOPIC("DescribeTopic", MskResourceType.TOPIC, true, CONNECT),
    ALTER_TOPIC("AlterTopic", MskResourceType.TOPIC, true, CONNECT, DESCRIBE_TOPIC),
    DELETE_TOPIC("DeleteTopic", MskResourceType.TOPIC, true, CONNECT, DESCRIBE_TOPIC),
    DESCRIBE_TOPIC_DYNAMIC_CONFIGURATION("DescribeTopicDynamicConfiguration",
            MskResourceType.TOPIC, true, CONNECT),
    ALTER_TOPIC_DYNAMIC_CONFIGURATION("AlterTopicDynamicConfiguration",
            MskResourceType.TOPIC, true, CONNECT, DESCRIBE_TOPIC_DYNAMIC_CONFIGURATION),
    DESCRIBE_GROUP("DescribeGroup", MskResourceType.GROUP, true, CONNECT),
    ALTER_GROUP("AlterGroup", MskResourceType.GROUP, true, CONNECT, DESCRIBE_GROUP),
    DELETE_GROUP("DeleteGroup", MskResourceType.GROUP, true, CONNECT, DESCRIBE_GROUP),
    READ_DATA("ReadData", MskResourceType.TOPIC, true, CONNECT, DESCRIBE_TOPIC, ALTER_GROUP),
    WRITE_DATA("WriteData", MskResourceType.TOPIC, true, CONNECT, DESCRIBE_TOPIC),
    WRITE_DATA_IDEMPOTENTLY("WriteDataIdempotently", MskResourceType.CLUSTER, true,
            CONNECT, WRITE_DATA),
    DESCRIBE_TRANSACTIONAL_ID("DescribeTransactionalId", MskResourceType.TRANSACTIONAL_ID, true,
            CONNECT),
    ALTER_TRANSACTIONAL_ID("AlterTransactionalId", MskResourceType.TRANSACTIONAL_ID, true,
            CONNECT, DESCRIBE_TRANSACTIONAL_ID, WRITE_DATA);

    static final String PREFIX = "kafka-cluster:";

    private final String iamName;
    private final MskResourceType resourceType;
    private final boolean serverless;
    private final List<MskAction> requiredActions;

    MskAction(String shortName, MskResourceType resourceType, boolean serverless,
            MskAction... requiredActions) {
        this.iamName = PREFIX + shortName;
        this.resourceType = resourceType;
        this.serverless = serverless;
        this.requiredActions = List.of(requiredActions);
    }

    /** The action as written in a policy, e.g. {@code kafka-cluster:WriteData}. */
    String iamName() {
        return iamName;
    }

    MskResourceType resourceType() {
        return resourceType;
    }

    /** The table's "Applicable to serverless clusters" column. */
    boolean applicableToServerless() {
        return serverless;
    }

    /** The table's "Required actions" column, as listed there (not transitive). */
    List<MskAction> requiredActions() {
        return requiredActions;
    }

    /**
     * Every action this one requires, directly or through another required action, in table
     * order (e.g. AlterTransactionalId: Connect, DescribeTransactionalId, WriteData, DescribeTopic).
     */
    Set<MskAction> allRequiredActions() {
        Set<MskAction> all = new LinkedHashSet<>();
        for (MskAction required : requiredActions) {
            all.add(required);
            all.addAll(required.allRequiredActions());
        }
        return all;
    }
}
