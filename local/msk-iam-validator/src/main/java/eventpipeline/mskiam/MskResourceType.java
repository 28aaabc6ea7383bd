package eventpipeline.mskiam;

/**
 * The four resource types of MSK IAM access control, named as in their ARNs
 * ("Semantics of IAM authorization policy actions and resources", Resources table:
 * https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html).
 */
enum MskResourceType {
    CLUSTER("cluster"),
    TOPIC("topic"),
    GROUP("group"),
    TRANSACTIONAL_ID("transactional-id");

    private final String arnType;

    MskResourceType(String arnType) {
        this.arnType = arnType;
    }

    /** The resource-type word of the ARN, e.g. {@code topic} in {@code ...:topic/NAME/UUID/T}. */
    String arnType() {
        return arnType;
    }
}
