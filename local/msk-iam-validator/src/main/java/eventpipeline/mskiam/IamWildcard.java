package eventpipeline.mskiam;

import java.util.Locale;

/**
 * IAM's {@code *} (any run of characters) and {@code ?} (one character) wildcards.
 *
 * <p>Actions: "The prefix and the action name are case insensitive" (IAM User Guide, "IAM JSON
 * policy elements: Action",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
 *
 * <p>Resources are case sensitive, and wildcards work "within the individual segments of an ARN
 * (the parts separated by colons)... If the * wildcard is the last character of a resource ARN
 * segment, it can expand to match beyond the colon boundaries" (IAM User Guide, "IAM JSON policy
 * elements: Resource",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
 * So here a {@code *} followed by {@code :} or ending the pattern may match colons; any other
 * {@code *}, and every {@code ?}, stays inside its segment. {@code /} is an ordinary character.
 */
final class IamWildcard {
    private IamWildcard() {
    }

    /** Case-insensitive match of an action pattern such as {@code kafka-cluster:*Topic*}. */
    static boolean matchesAction(String pattern, String action) {
        return matches(pattern.toLowerCase(Locale.ROOT), action.toLowerCase(Locale.ROOT), false);
    }

    /** Case-sensitive match of a resource pattern against an ARN. */
    static boolean matchesResource(String pattern, String arn) {
        return matches(pattern, arn, true);
    }

    /**
     * Dynamic programming over (pattern prefix, text prefix): linear memory, no backtracking, so a
     * pattern full of stars costs pattern length x text length at worst (both short here).
     */
    private static boolean matches(String pattern, String text, boolean arnSegments) {
        int n = text.length();
        boolean[] previous = new boolean[n + 1];
        previous[0] = true;
        for (int i = 0; i < pattern.length(); i++) {
            char p = pattern.charAt(i);
            boolean[] current = new boolean[n + 1];
            if (p == '*') {
                boolean crossesColons = !arnSegments || i + 1 == pattern.length()
                        || pattern.charAt(i + 1) == ':';
                current[0] = previous[0];
                for (int j = 1; j <= n; j++) {
                    boolean extend = current[j - 1] && (crossesColons || text.charAt(j - 1) != ':');
                    current[j] = previous[j] || extend;
                }
            } else {
                for (int j = 1; j <= n; j++) {
                    char t = text.charAt(j - 1);
                    boolean one = p == '?' ? !(arnSegments && t == ':') : p == t;
                    current[j] = previous[j - 1] && one;
                }
            }
            previous = current;
        }
        return previous[n];
    }
}
