package eventpipeline.mskiam;

import java.util.List;

/**
 * An IAM identity the local broker knows: the access key id it signs with (the OAUTHBEARER
 * principal name, see {@link MskIamBearerToken}), the role name it stands for, and the statements
 * of all its policies in file order.
 */
record LocalPrincipal(String accessKeyId, String name, List<PolicyStatement> statements) {
    LocalPrincipal {
        statements = List.copyOf(statements);
    }
}
