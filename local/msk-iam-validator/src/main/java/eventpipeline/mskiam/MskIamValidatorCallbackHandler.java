package eventpipeline.mskiam;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server-side OAUTHBEARER callback handler that validates MSK IAM tokens. Configure it per listener:
 * <pre>
 * listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class=eventpipeline.mskiam.MskIamValidatorCallbackHandler
 * msk.iam.region=us-east-1
 * msk.iam.credentials.file=/path/to/credentials.properties
 * </pre>
 * The two settings may instead be JAAS options {@code region} and {@code credentialsFile}.
 */
public final class MskIamValidatorCallbackHandler implements AuthenticateCallbackHandler {
    public static final String REGION_CONFIG = "msk.iam.region";
    public static final String CREDENTIALS_FILE_CONFIG = "msk.iam.credentials.file";
    static final String REGION_OPTION = "region";
    static final String CREDENTIALS_FILE_OPTION = "credentialsFile";

    private static final Logger LOG = LoggerFactory.getLogger(MskIamValidatorCallbackHandler.class);

    private final Clock clock;
    private WatchedFile<MskIamTokenVerifier> verifiers;

    public MskIamValidatorCallbackHandler() {
        this(Clock.systemUTC());
    }

    /** For tests: tokens are checked against {@code clock}. */
    MskIamValidatorCallbackHandler(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism,
            List<AppConfigurationEntry> jaasConfigEntries) {
        if (!OAuthBearerLoginModule.OAUTHBEARER_MECHANISM.equals(saslMechanism)) {
            throw new IllegalArgumentException("MSK IAM validator only handles OAUTHBEARER, not " + saslMechanism);
        }
        Map<String, ?> options = jaasConfigEntries.isEmpty() ? Map.of() : jaasConfigEntries.get(0).getOptions();
        String region = setting(options, REGION_OPTION, configs, REGION_CONFIG);
        String credentialsFile = setting(options, CREDENTIALS_FILE_OPTION, configs, CREDENTIALS_FILE_CONFIG);
        try {
            // Read again when it changes (see WatchedFile): the local broker can be given new
            // principals while it runs.
            verifiers = WatchedFile.load(Path.of(credentialsFile),
                    path -> new MskIamTokenVerifier(region, CredentialsFile.load(path), clock),
                    new WatchedFile.Listener<>() {
                        @Override
                        public void reloaded(MskIamTokenVerifier verifier) {
                            LOG.info("MSK IAM validator reloaded {}: {} access key id(s)", credentialsFile,
                                    verifier.accessKeyCount());
                        }

                        @Override
                        public void rejected(String problem) {
                            LOG.error("MSK IAM validator credentials not reloaded: {}", problem);
                        }
                    });
        } catch (Exception e) {
            throw new KafkaException("MSK IAM validator cannot read credentials file " + credentialsFile
                    + ": " + e.getMessage());
        }
        LOG.info("MSK IAM validator ready: region {}, {} access key id(s) from {} (read again when it changes)",
                region, verifiers.current().accessKeyCount(), credentialsFile);
    }

    private static String setting(Map<String, ?> options, String option, Map<String, ?> configs, String config) {
        Object value = options.get(option);
        if (value == null) {
            value = configs.get(config);
        }
        if (value == null || value.toString().isBlank()) {
            throw new KafkaException("MSK IAM validator needs broker property " + config
                    + " (or JAAS option " + option + ")");
        }
        return value.toString();
    }

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        if (verifiers == null) {
            throw new IllegalStateException("MSK IAM validator used before configure()");
        }
        for (Callback callback : callbacks) {
            if (callback instanceof OAuthBearerValidatorCallback validation) {
                validate(validation);
            } else {
                // Includes the extensions callback: Kafka then accepts no extensions, as MSK does.
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

    private void validate(OAuthBearerValidatorCallback callback) {
        String token = callback.tokenValue();
        try {
            MskIamTokenVerifier.VerifiedToken verified = verifiers.current().verify(token);
            callback.token(new MskIamBearerToken(token, verified));
            LOG.info("MSK IAM authentication accepted for principal {}", verified.accessKeyId());
        } catch (TokenRejectedException e) {
            LOG.warn("MSK IAM authentication rejected: {}", e.getMessage());
            callback.error("invalid_token", null, null);
        }
    }

    @Override
    public void close() {
        verifiers = null;
    }
}
