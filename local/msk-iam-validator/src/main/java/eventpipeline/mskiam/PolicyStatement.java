package eventpipeline.mskiam;

import java.util.List;

/**
 * One statement of an identity-based IAM policy, as loaded from the policies file.
 *
 * @param label how the decision log names it: the Sid if present, and always its position,
 *        e.g. {@code "ApiWrite" (policies[0].Statement[1])}
 * @param allow Effect Allow (true) or Deny (false)
 * @param actions the Action patterns, or the NotAction patterns when {@code notAction}
 * @param resources the Resource patterns, or the NotResource patterns when {@code notResource}
 * @param hasCondition the statement has a Condition, which is not evaluated locally
 */
record PolicyStatement(String label, boolean allow, List<String> actions, boolean notAction,
        List<String> resources, boolean notResource, boolean hasCondition) {

    PolicyStatement {
        actions = List.copyOf(actions);
        resources = List.copyOf(resources);
    }

    /**
     * Whether the statement applies to this action on this resource, Condition aside. NotAction
     * "matches everything except the specified list of actions" (IAM User Guide, "IAM JSON policy
     * elements: NotAction",
     * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html);
     * NotResource "matches every resource except those specified" (IAM User Guide, "IAM JSON policy
     * elements: NotResource",
     * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html).
     */
    boolean appliesTo(String action, String arn) {
        return matchesAny(actions, action, true) != notAction
                && matchesAny(resources, arn, false) != notResource;
    }

    private static boolean matchesAny(List<String> patterns, String value, boolean isAction) {
        for (String pattern : patterns) {
            boolean match = isAction ? IamWildcard.matchesAction(pattern, value)
                    : IamWildcard.matchesResource(pattern, value);
            if (match) {
                return true;
            }
        }
        return false;
    }
}
