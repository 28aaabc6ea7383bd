package eventpipeline.mskiam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ARN formats from the Resources table of "Semantics of IAM authorization policy actions and resources". */
class MskClusterArnTest {
    private static final String CLUSTER =
            "arn:aws:kafka:eu-west-1:123456789012:cluster/events/3f2a9c1e-0d4b-4c55-9a1e-1b2c3d4e5f60-s2";

    @Test
    void parsesTheClusterArn() {
        MskClusterArn arn = MskClusterArn.parse(CLUSTER);
        assertEquals("aws", arn.partition());
        assertEquals("eu-west-1", arn.region());
        assertEquals("123456789012", arn.account());
        assertEquals("events", arn.clusterName());
        assertEquals("3f2a9c1e-0d4b-4c55-9a1e-1b2c3d4e5f60-s2", arn.clusterUuid());
        assertEquals(CLUSTER, arn.cluster());
    }

    @Test
    void buildsTopicGroupAndTransactionalIdArns() {
        MskClusterArn arn = MskClusterArn.parse(CLUSTER);
        String tail = "/events/3f2a9c1e-0d4b-4c55-9a1e-1b2c3d4e5f60-s2/";
        assertEquals("arn:aws:kafka:eu-west-1:123456789012:topic" + tail + "orders.v1",
                arn.resource(MskResourceType.TOPIC, "orders.v1"));
        assertEquals("arn:aws:kafka:eu-west-1:123456789012:group" + tail + "esm group",
                arn.resource(MskResourceType.GROUP, "esm group"));
        assertEquals("arn:aws:kafka:eu-west-1:123456789012:transactional-id" + tail + "tx-1",
                arn.resource(MskResourceType.TRANSACTIONAL_ID, "tx-1"));
        assertEquals(CLUSTER, arn.resource(MskResourceType.CLUSTER, "kafka-cluster"));
    }

    @Test
    void keepsOtherPartitions() {
        String china = "arn:aws-cn:kafka:cn-north-1:123456789012:cluster/c/u";
        assertEquals("arn:aws-cn:kafka:cn-north-1:123456789012:topic/c/u/t",
                MskClusterArn.parse(china).resource(MskResourceType.TOPIC, "t"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "arn:aws:kafka:us-east-1:000000000000:topic/local/u/t",
            "arn:aws:kafka:us-east-1:0000:cluster/local/u", "arn:aws:kafka:us-east-1:000000000000:cluster/local",
            "arn:aws:sqs:us-east-1:000000000000:cluster/local/u", "arn:aws:kafka:us-east-1:000000000000:cluster/a/b/c",
    })
    void refusesWhatIsNotAClusterArn(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MskClusterArn.parse(text));
        assertTrue(e.getMessage().contains("cluster/NAME/UUID"), e.getMessage());
    }
}
