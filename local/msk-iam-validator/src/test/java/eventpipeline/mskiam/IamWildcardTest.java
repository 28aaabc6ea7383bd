package eventpipeline.mskiam;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * IAM wildcard rules from the IAM User Guide pages "IAM JSON policy elements: Action" (case
 * insensitive, * and ?) and "IAM JSON policy elements: Resource" (case sensitive, wildcards within
 * colon-separated segments, a segment-final * may cross colons).
 */
class IamWildcardTest {
    private static final String TOPIC = "arn:aws:kafka:us-east-1:000000000000:topic/local/u-1/events";

    @Test
    void actionNamesAndPrefixesAreCaseInsensitive() {
        assertTrue(IamWildcard.matchesAction("kafka-cluster:WriteData", "kafka-cluster:WriteData"));
        assertTrue(IamWildcard.matchesAction("KAFKA-CLUSTER:writedata", "kafka-cluster:WriteData"));
        assertFalse(IamWildcard.matchesAction("kafka-cluster:WriteData", "kafka-cluster:WriteDataIdempotently"));
        assertFalse(IamWildcard.matchesAction("kafka:WriteData", "kafka-cluster:WriteData"));
    }

    @Test
    void starInActionsMatchesAnyRunIncludingNone() {
        assertTrue(IamWildcard.matchesAction("*", "kafka-cluster:Connect"));
        assertTrue(IamWildcard.matchesAction("kafka-cluster:*", "kafka-cluster:Connect"));
        // The guide's own example: *Topic covers CreateTopic..DeleteTopic but not ...DynamicConfiguration.
        assertTrue(IamWildcard.matchesAction("kafka-cluster:*Topic", "kafka-cluster:DescribeTopic"));
        assertFalse(IamWildcard.matchesAction("kafka-cluster:*Topic", "kafka-cluster:DescribeTopicDynamicConfiguration"));
        assertTrue(IamWildcard.matchesAction("kafka-cluster:*Topic*", "kafka-cluster:DescribeTopicDynamicConfiguration"));
        assertTrue(IamWildcard.matchesAction("kafka-cluster:Describe*", "kafka-cluster:Describe"));
    }

    @Test
    void questionMarkMatchesExactlyOneCharacter() {
        assertTrue(IamWildcard.matchesAction("kafka-cluster:?riteData", "kafka-cluster:WriteData"));
        assertFalse(IamWildcard.matchesAction("kafka-cluster:?WriteData", "kafka-cluster:WriteData"));
        assertTrue(IamWildcard.matchesResource("arn:aws:kafka:us-east-1:000000000000:topic/local/u-1/event?", TOPIC));
        assertFalse(IamWildcard.matchesResource("arn:aws:kafka:us-east-1:000000000000:topic/local/u-1/event??", TOPIC));
    }

    @Test
    void resourcesAreCaseSensitive() {
        assertTrue(IamWildcard.matchesResource(TOPIC, TOPIC));
        assertFalse(IamWildcard.matchesResource(TOPIC.replace("events", "Events"), TOPIC));
        assertFalse(IamWildcard.matchesResource(TOPIC.toUpperCase(), TOPIC));
    }

    @Test
    void starInResourcesCrossesSlashes() {
        assertTrue(IamWildcard.matchesResource("*", TOPIC));
        assertTrue(IamWildcard.matchesResource("arn:aws:kafka:us-east-1:000000000000:topic/local/*", TOPIC));
        assertTrue(IamWildcard.matchesResource("arn:aws:kafka:us-east-1:000000000000:topic/*/events", TOPIC));
        assertFalse(IamWildcard.matchesResource("arn:aws:kafka:us-east-1:000000000000:group/local/*", TOPIC));
    }

    @Test
    void onlyASegmentFinalStarCrossesColons() {
        // "*" ends its segment: may expand across ':' boundaries.
        assertTrue(IamWildcard.matchesResource("arn:aws:kafka:*:topic/local/u-1/events", TOPIC));
        assertTrue(IamWildcard.matchesResource("arn:aws:kafka:us-east-1:*", TOPIC));
        // "us-*" is followed by more of the segment, so it stays within the region segment.
        assertTrue(IamWildcard.matchesResource("arn:aws:kafka:us-*-1:000000000000:topic/local/u-1/events", TOPIC));
        // "us-*0" would need its star to run on through ":00000000000" into the account segment.
        assertFalse(IamWildcard.matchesResource("arn:aws:kafka:us-*0:topic/local/u-1/events", TOPIC));
        assertTrue(IamWildcard.matchesAction("kafka-cluster:*0:topic/local/u-1/events",
                "kafka-cluster:us-east-1:000000000000:topic/local/u-1/events"), "actions have no segment rule");
        // '?' never stands for a ':' separator.
        assertFalse(IamWildcard.matchesResource("arn:aws:kafka:us-east-1?000000000000:topic/local/u-1/events", TOPIC));
    }

    @Test
    void manyStarsStayCheap() {
        String pattern = "*a".repeat(40) + "b";
        String text = "a".repeat(200);
        long start = System.nanoTime();
        assertFalse(IamWildcard.matchesAction(pattern, text));
        assertTrue((System.nanoTime() - start) < 1_000_000_000L, "no exponential backtracking");
    }
}
