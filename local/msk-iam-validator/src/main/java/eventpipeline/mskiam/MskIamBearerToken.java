package eventpipeline.mskiam;

import java.util.Set;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;

/** The broker's view of an accepted MSK IAM token: the principal is the access key id. */
final class MskIamBearerToken implements OAuthBearerToken {
    private final String value;
    private final MskIamTokenVerifier.VerifiedToken verified;

    MskIamBearerToken(String value, MskIamTokenVerifier.VerifiedToken verified) {
        this.value = value;
        this.verified = verified;
    }

    @Override
    public String value() {
        return value;
    }

    @Override
    public Set<String> scope() {
        return Set.of();
    }

    @Override
    public long lifetimeMs() {
        return verified.expiresAtMs();
    }

    @Override
    public String principalName() {
        return verified.accessKeyId();
    }

    @Override
    public Long startTimeMs() {
        return verified.issuedAtMs();
    }
}
