package eventpipeline.mskiam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Checks the verifier against tokens made by aws-msk-iam-sasl-signer-python 1.0.2 with a pinned
 * clock (2026-01-15T10:30:00Z), so the SigV4 canonical form is checked against the real signer,
 * not against this project's own signing code.
 */
class MskIamTokenVerifierTest {
    static final String KEY_ID = "AKIAJUNITEXAMPLE0001";
    static final String SECRET = "junit/secret+key=value";
    private static final String TEMP_KEY_ID = "ASIAJUNITEXAMPLE0002";
    private static final String TEMP_SECRET = "junit-temp-secret";

    /** Static credentials; the secret has '/', '+' and '=' to exercise encoding. */
    static final String SIGNER_TOKEN =
            "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25u"
            + "ZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QUtJQUpVTklURVhB"
            + "TVBMRTAwMDElMkYyMDI2MDExNSUyRnVzLWVhc3QtMSUyRmthZmthLWNsdXN0ZXIlMkZhd3M0X3JlcXVlc3QmWC1B"
            + "bXotRGF0ZT0yMDI2MDExNVQxMDMwMDBaJlgtQW16LUV4cGlyZXM9OTAwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9z"
            + "dCZYLUFtei1TaWduYXR1cmU9ZGY5YmM5MDZkNmE1NmY1OWJlM2VjOTVjYWZlN2Q2ZTNiZDkxOGMwNWVhZDIxNjE0"
            + "MDc2ZTE4NDQ2YmZhN2IzNCZVc2VyLUFnZW50PWF3cy1tc2staWFtLXNhc2wtc2lnbmVyLXB5dGhvbiUyRjEuMC4y";

    /** Temporary credentials: the signed query also carries X-Amz-Security-Token. */
    private static final String SIGNER_TOKEN_WITH_SESSION =
            "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25u"
            + "ZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QVNJQUpVTklURVhB"
            + "TVBMRTAwMDIlMkYyMDI2MDExNSUyRnVzLWVhc3QtMSUyRmthZmthLWNsdXN0ZXIlMkZhd3M0X3JlcXVlc3QmWC1B"
            + "bXotRGF0ZT0yMDI2MDExNVQxMDMwMDBaJlgtQW16LUV4cGlyZXM9OTAwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9z"
            + "dCZYLUFtei1TZWN1cml0eS1Ub2tlbj1JUW9KYjNKcFoybHVYMlZqRSUyQiUyRnNlc3Npb24lM0R0b2tlbiZYLUFt"
            + "ei1TaWduYXR1cmU9Y2RhOWI5ODhlZTc5YTRiN2FlODJiN2JhZjJhYTE2MDY1MDBjN2Y1YWUzMjc0ZWQ0ZTU0YzU3"
            + "YWQ0NDI1ZTMwZSZVc2VyLUFnZW50PWF3cy1tc2staWFtLXNhc2wtc2lnbmVyLXB5dGhvbiUyRjEuMC4y";

    static final Instant SIGNED_AT = Instant.parse("2026-01-15T10:30:00Z");

    private static MskIamTokenVerifier verifierAt(Instant now, String region, Map<String, String> secrets) {
        return new MskIamTokenVerifier(region, secrets, Clock.fixed(now, ZoneOffset.UTC));
    }

    private static MskIamTokenVerifier verifierAt(Instant now) {
        return verifierAt(now, "us-east-1", Map.of(KEY_ID, SECRET, TEMP_KEY_ID, TEMP_SECRET));
    }

    private static String reason(MskIamTokenVerifier verifier, String token) {
        return assertThrows(TokenRejectedException.class, () -> verifier.verify(token)).getMessage();
    }

    private static String decode(String token) {
        return new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    }

    private static String encode(String url) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(url.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void acceptsTheSignersTokenAndNamesTheAccessKeyAsPrincipal() throws Exception {
        MskIamTokenVerifier.VerifiedToken verified = verifierAt(SIGNED_AT.plusSeconds(60)).verify(SIGNER_TOKEN);

        assertEquals(KEY_ID, verified.accessKeyId());
        assertEquals(SIGNED_AT.toEpochMilli(), verified.issuedAtMs());
        assertEquals(SIGNED_AT.plusSeconds(900).toEpochMilli(), verified.expiresAtMs());
    }

    @Test
    void acceptsATokenSignedWithTemporaryCredentials() throws Exception {
        assertEquals(TEMP_KEY_ID,
                verifierAt(SIGNED_AT.plusSeconds(60)).verify(SIGNER_TOKEN_WITH_SESSION).accessKeyId());
    }

    @Test
    void refusesAtAndAfterExpiry() {
        assertTrue(reason(verifierAt(SIGNED_AT.plusSeconds(900)), SIGNER_TOKEN).startsWith("token expired at"));
        assertTrue(reason(verifierAt(SIGNED_AT.plusSeconds(3600)), SIGNER_TOKEN).startsWith("token expired at"));
    }

    @Test
    void acceptsSmallClockSkewButRefusesTokensFromTheFarFuture() throws Exception {
        verifierAt(SIGNED_AT.minusSeconds(14 * 60)).verify(SIGNER_TOKEN);
        assertTrue(reason(verifierAt(SIGNED_AT.minusSeconds(16 * 60)), SIGNER_TOKEN)
                .contains("minutes in the future"));
    }

    @Test
    void refusesAWrongSecretWithoutEchoingIt() {
        MskIamTokenVerifier verifier = verifierAt(SIGNED_AT, "us-east-1", Map.of(KEY_ID, "another-secret"));
        String reason = reason(verifier, SIGNER_TOKEN);
        assertTrue(reason.startsWith("signature does not match"), reason);
        assertTrue(!reason.contains("another-secret") && !reason.contains("df9bc906"), reason);
    }

    @Test
    void refusesAnUnknownAccessKey() {
        MskIamTokenVerifier verifier = verifierAt(SIGNED_AT, "us-east-1", Map.of("AKIAOTHER", SECRET));
        assertEquals("unknown access key id '" + KEY_ID + "'", reason(verifier, SIGNER_TOKEN));
    }

    @Test
    void refusesAnotherRegion() {
        MskIamTokenVerifier verifier = verifierAt(SIGNED_AT, "eu-west-1", Map.of(KEY_ID, SECRET));
        assertTrue(reason(verifier, SIGNER_TOKEN).startsWith("credential scope region 'us-east-1'"));
    }

    @Test
    void refusesAnyAlteredSignedParameter() {
        String url = decode(SIGNER_TOKEN);
        String longer = url.replace("X-Amz-Expires=900", "X-Amz-Expires=901");
        assertTrue(reason(verifierAt(SIGNED_AT), encode(longer)).startsWith("signature does not match"));
        String extra = url.replace("&User-Agent", "&extra=1&User-Agent");
        assertTrue(reason(verifierAt(SIGNED_AT), encode(extra)).startsWith("signature does not match"));
    }

    @Test
    void userAgentIsNotSigned() throws Exception {
        String url = decode(SIGNER_TOKEN).replace("signer-python%2F1.0.2", "something-else");
        assertEquals(KEY_ID, verifierAt(SIGNED_AT).verify(encode(url)).accessKeyId());
    }

    @Test
    void refusesAnotherActionBeforeLookingAtTheSignature() {
        String url = decode(SIGNER_TOKEN).replace("kafka-cluster%3AConnect", "kafka-cluster%3AAlterCluster");
        assertEquals("action 'kafka-cluster:AlterCluster' is not kafka-cluster:Connect",
                reason(verifierAt(SIGNED_AT), encode(url)));
    }

    @Test
    void refusesDuplicateParameters() {
        String url = decode(SIGNER_TOKEN).replace("&User-Agent", "&Action=kafka-cluster%3AConnect&User-Agent");
        assertEquals("query parameter 'Action' appears twice", reason(verifierAt(SIGNED_AT), encode(url)));
    }

    @Test
    void refusesMalformedTokens() {
        MskIamTokenVerifier verifier = verifierAt(SIGNED_AT);
        assertEquals("token is empty", reason(verifier, ""));
        assertEquals("token is not base64url", reason(verifier, "not~base64"));
        assertEquals("decoded token is not a URL", reason(verifier, encode("hello, broker")));
        assertEquals("token is not an https presigned URL for path /",
                reason(verifier, encode(decode(SIGNER_TOKEN).replace("https://", "http://"))));
        assertTrue(reason(verifier, "A".repeat(MskIamTokenVerifier.MAX_TOKEN_CHARS + 4)).contains("longer"));
        String noSignature = decode(SIGNER_TOKEN).replaceAll("&X-Amz-Signature=[0-9a-f]+", "");
        assertEquals("presigned URL has no X-Amz-Signature parameter", reason(verifier, encode(noSignature)));
    }

    @Test
    void uriEncodingFollowsSigV4() {
        assertEquals("AZaz09-_.~", SigV4.uriEncode("AZaz09-_.~"));
        assertEquals("a%2Fb%2Bc%3Dd%20e%3A", SigV4.uriEncode("a/b+c=d e:"));
        assertEquals("%C3%A9", SigV4.uriEncode("\u00e9"));
    }
}
