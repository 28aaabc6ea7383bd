package eventpipeline.mskiam;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local cluster's ARN and the ARNs MSK gives its topics, groups and transactional ids:
 * {@code arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID}, {@code .../topic/NAME/UUID/TOPIC},
 * {@code .../group/NAME/UUID/GROUP}, {@code .../transactional-id/NAME/UUID/ID}. Source: MSK
 * developer guide, "Semantics of IAM authorization policy actions and resources", Resources table
 * (https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html).
 */
record MskClusterArn(String partition, String region, String account, String clusterName,
        String clusterUuid) {

    private static final Pattern CLUSTER_ARN = Pattern.compile(
            "arn:(aws[a-z-]*):kafka:([a-z0-9-]+):([0-9]{12}):cluster/([^/]+)/([^/]+)");

    /** Parses a cluster ARN, or throws IllegalArgumentException saying what form it must have. */
    static MskClusterArn parse(String arn) {
        Matcher m = CLUSTER_ARN.matcher(arn == null ? "" : arn);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + arn + "' is not an MSK cluster ARN"
                    + " (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID, 12-digit account)");
        }
        return new MskClusterArn(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5));
    }

    String cluster() {
        return prefix(MskResourceType.CLUSTER);
    }

    /** The ARN of a resource of this cluster; for the cluster itself the name is ignored. */
    String resource(MskResourceType type, String name) {
        return type == MskResourceType.CLUSTER ? cluster() : prefix(type) + "/" + name;
    }

    private String prefix(MskResourceType type) {
        return "arn:" + partition + ":kafka:" + region + ":" + account + ":" + type.arnType()
                + "/" + clusterName + "/" + clusterUuid;
    }

    @Override
    public String toString() {
        return cluster();
    }
}
