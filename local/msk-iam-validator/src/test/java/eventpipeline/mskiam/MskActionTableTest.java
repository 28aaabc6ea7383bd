package eventpipeline.mskiam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * One row per line of the "Authorization policy actions" table of the MSK developer guide page
 * "Semantics of IAM authorization policy actions and resources"
 * (https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html): the Kafka ACL each
 * action is "equivalent to", its required actions, required resource and serverless column.
 */
class MskActionTableTest {

    @ParameterizedTest(name = "{0} = {1} {2}, needs [{3}], {4}, serverless {5}")
    @CsvSource(delimiter = '|', textBlock = """
            Connect                            | -                | -                | -                                             | CLUSTER          | true
            DescribeCluster                    | CLUSTER          | DESCRIBE         | Connect                                       | CLUSTER          | true
            AlterCluster                       | CLUSTER          | ALTER            | Connect DescribeCluster                       | CLUSTER          | false
            DescribeClusterDynamicConfiguration| CLUSTER          | DESCRIBE_CONFIGS | Connect                                       | CLUSTER          | false
            AlterClusterDynamicConfiguration   | CLUSTER          | ALTER_CONFIGS    | Connect DescribeClusterDynamicConfiguration   | CLUSTER          | false
            WriteDataIdempotently              | CLUSTER          | IDEMPOTENT_WRITE | Connect WriteData                             | CLUSTER          | true
            CreateTopic                        | TOPIC            | CREATE           | Connect                                       | TOPIC            | true
            DescribeTopic                      | TOPIC            | DESCRIBE         | Connect                                       | TOPIC            | true
            AlterTopic                         | TOPIC            | ALTER            | Connect DescribeTopic                         | TOPIC            | true
            DeleteTopic                        | TOPIC            | DELETE           | Connect DescribeTopic                         | TOPIC            | true
            DescribeTopicDynamicConfiguration  | TOPIC            | DESCRIBE_CONFIGS | Connect                                       | TOPIC            | true
            AlterTopicDynamicConfiguration     | TOPIC            | ALTER_CONFIGS    | Connect DescribeTopicDynamicConfiguration     | TOPIC            | true
            ReadData                           | TOPIC            | READ             | Connect DescribeTopic AlterGroup              | TOPIC            | true
            WriteData                          | TOPIC            | WRITE            | Connect DescribeTopic                         | TOPIC            | true
            DescribeGroup                      | GROUP            | DESCRIBE         | Connect                                       | GROUP            | true
            AlterGroup                         | GROUP            | READ             | Connect DescribeGroup                         | GROUP            | true
            DeleteGroup                        | GROUP            | DELETE           | Connect DescribeGroup                         | GROUP            | true
            DescribeTransactionalId            | TRANSACTIONAL_ID | DESCRIBE         | Connect                                       | TRANSACTIONAL_ID | true
            AlterTransactionalId               | TRANSACTIONAL_ID | WRITE            | Connect DescribeTransactionalId WriteData     | TRANSACTIONAL_ID | true
            """)
    void tableRow(String action, String kafkaResource, String kafkaOperation, String required,
            MskResourceType resource, boolean serverless) {
        MskAction mskAction = byName(action);
        assertEquals("kafka-cluster:" + action, mskAction.iamName());
        if (!kafkaResource.equals("-")) {
            assertEquals(mskAction, KafkaOperationMapping.actionFor(ResourceType.valueOf(kafkaResource),
                    AclOperation.valueOf(kafkaOperation)));
        }
        List<String> requiredNames = required.equals("-") ? List.of() : List.of(required.split(" "));
        assertEquals(requiredNames, mskAction.requiredActions().stream()
                .map(a -> a.iamName().substring("kafka-cluster:".length())).toList());
        assertEquals(resource, mskAction.resourceType());
        assertEquals(serverless, mskAction.applicableToServerless());
    }

    @Test
    void everyTableActionIsCoveredByARow() {
        assertEquals(19, MskAction.values().length);
    }

    @ParameterizedTest(name = "{0} {1} has no MSK action")
    @CsvSource({
            "CLUSTER, CREATE", "CLUSTER, DELETE", "CLUSTER, CLUSTER_ACTION", "CLUSTER, READ",
            "GROUP, DESCRIBE_CONFIGS", "GROUP, ALTER_CONFIGS", "TRANSACTIONAL_ID, TWO_PHASE_COMMIT",
            "DELEGATION_TOKEN, DESCRIBE", "USER, CREATE_TOKENS", "TOPIC, CLUSTER_ACTION",
    })
    void operationsWithoutAnMskActionAreUnmapped(ResourceType type, AclOperation operation) {
        assertNull(KafkaOperationMapping.actionFor(type, operation));
        assertTrue(KafkaOperationMapping.unmappedReason(type, operation).contains(operation.toString()));
    }

    @Test
    void requiredActionsAreFollowedTransitively() {
        assertEquals(List.of(MskAction.CONNECT, MskAction.DESCRIBE_TRANSACTIONAL_ID, MskAction.WRITE_DATA,
                MskAction.DESCRIBE_TOPIC), List.copyOf(MskAction.ALTER_TRANSACTIONAL_ID.allRequiredActions()));
    }

    @Test
    void checksAreConnectTheActionAndRequiredActionsOnTheSameResourceOrCluster() {
        assertEquals(List.of(MskAction.CONNECT, MskAction.READ_DATA, MskAction.DESCRIBE_TOPIC),
                KafkaOperationMapping.checksFor(MskAction.READ_DATA), "AlterGroup is checked on the group's own request");
        assertEquals(List.of(MskAction.CONNECT, MskAction.WRITE_DATA, MskAction.DESCRIBE_TOPIC),
                KafkaOperationMapping.checksFor(MskAction.WRITE_DATA));
        assertEquals(List.of(MskAction.CONNECT, MskAction.ALTER_GROUP, MskAction.DESCRIBE_GROUP),
                KafkaOperationMapping.checksFor(MskAction.ALTER_GROUP));
        assertEquals(List.of(MskAction.CONNECT, MskAction.ALTER_CLUSTER, MskAction.DESCRIBE_CLUSTER),
                KafkaOperationMapping.checksFor(MskAction.ALTER_CLUSTER));
        assertEquals(List.of(MskAction.CONNECT, MskAction.WRITE_DATA_IDEMPOTENTLY),
                KafkaOperationMapping.checksFor(MskAction.WRITE_DATA_IDEMPOTENTLY));
        assertEquals(List.of(MskAction.CONNECT, MskAction.ALTER_TRANSACTIONAL_ID, MskAction.DESCRIBE_TRANSACTIONAL_ID),
                KafkaOperationMapping.checksFor(MskAction.ALTER_TRANSACTIONAL_ID));
    }

    @Test
    void onlyTheDocumentedActionsAreNotForServerless() {
        Set<MskAction> notServerless = EnumSet.noneOf(MskAction.class);
        for (MskAction action : MskAction.values()) {
            if (!action.applicableToServerless()) {
                notServerless.add(action);
            }
        }
        assertEquals(EnumSet.of(MskAction.ALTER_CLUSTER, MskAction.DESCRIBE_CLUSTER_DYNAMIC_CONFIGURATION,
                MskAction.ALTER_CLUSTER_DYNAMIC_CONFIGURATION), notServerless);
    }

    private static MskAction byName(String shortName) {
        for (MskAction action : MskAction.values()) {
            if (action.iamName().equals("kafka-cluster:" + shortName)) {
                return action;
            }
        }
        throw new AssertionError("no MskAction kafka-cluster:" + shortName);
    }
}
