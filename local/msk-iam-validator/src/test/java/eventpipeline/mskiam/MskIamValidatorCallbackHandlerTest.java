package eventpipeline.mskiam;

import static eventpipeline.mskiam.MskIamTokenVerifierTest.KEY_ID;
import static eventpipeline.mskiam.MskIamTokenVerifierTest.SECRET;
import static eventpipeline.mskiam.MskIamTokenVerifierTest.SIGNED_AT;
import static eventpipeline.mskiam.MskIamTokenVerifierTest.SIGNER_TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import javax.security.auth.callback.Callback;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The validator as the broker drives it, with a credentials file that changes while it runs. */
class MskIamValidatorCallbackHandlerTest {
    @TempDir
    Path dir;

    private MskIamValidatorCallbackHandler handler(Path credentials) {
        MskIamValidatorCallbackHandler handler = new MskIamValidatorCallbackHandler(
                Clock.fixed(SIGNED_AT.plusSeconds(60), ZoneOffset.UTC));
        handler.configure(Map.of("msk.iam.region", "us-east-1", "msk.iam.credentials.file", credentials.toString()),
                "OAUTHBEARER", List.of());
        return handler;
    }

    private static OAuthBearerValidatorCallback validate(MskIamValidatorCallbackHandler handler) throws Exception {
        OAuthBearerValidatorCallback callback = new OAuthBearerValidatorCallback(SIGNER_TOKEN);
        handler.handle(new Callback[] {callback});
        return callback;
    }

    private static void replace(Path file, String text) throws Exception {
        Path next = file.resolveSibling("credentials.next");
        Files.writeString(next, text);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void anAccessKeyAddedToTheCredentialsFileIsAcceptedWithoutARestart() throws Exception {
        Path credentials = dir.resolve("credentials.properties");
        Files.writeString(credentials, "AKIAOTHERKEY00000001=other-secret\n");
        MskIamValidatorCallbackHandler handler = handler(credentials);
        OAuthBearerValidatorCallback refused = validate(handler);
        assertNull(refused.token());
        assertEquals("invalid_token", refused.errorStatus());

        replace(credentials, "AKIAOTHERKEY00000001=other-secret\n" + KEY_ID + "=" + SECRET + "\n");
        OAuthBearerValidatorCallback accepted = validate(handler);
        assertEquals(KEY_ID, accepted.token().principalName());

        replace(credentials, "AKIAOTHERKEY00000001=other-secret\n");
        assertEquals("invalid_token", validate(handler).errorStatus(), "and refused once removed");
    }

    @Test
    void aBrokenCredentialsFileKeepsTheKnownKeys() throws Exception {
        Path credentials = dir.resolve("credentials.properties");
        Files.writeString(credentials, KEY_ID + "=" + SECRET + "\n");
        MskIamValidatorCallbackHandler handler = handler(credentials);
        replace(credentials, "# nothing here\n");
        assertEquals(KEY_ID, validate(handler).token().principalName());
    }

    @Test
    void aMissingCredentialsFileStopsTheBroker() {
        KafkaException error = assertThrows(KafkaException.class, () -> handler(dir.resolve("absent.properties")));
        assertTrue(error.getMessage().contains("absent.properties"), error.getMessage());
    }
}
