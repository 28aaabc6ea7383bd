package eventpipeline.mskiam;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Checks an MSK IAM OAUTHBEARER token the way MSK does: the token is a base64url SigV4 presigned
 * URL for {@code kafka-cluster:Connect}, signed by a known access key, in this region, not expired.
 */
public final class MskIamTokenVerifier {
    static final String ACTION = "kafka-cluster:Connect";
    static final String SERVICE = "kafka-cluster";
    /** SigV4's own ceiling for presigned URLs (7 days). */
    static final long MAX_EXPIRES_SECONDS = 604_800L;
    /** AWS tolerates this much clock skew for a signature dated in the future. */
    static final Duration MAX_FUTURE_SKEW = Duration.ofMinutes(15);
    /** Real tokens are well under 2 KB even with a session token; refuse to parse megabytes. */
    static final int MAX_TOKEN_CHARS = 8192;

    private static final DateTimeFormatter AMZ_DATE =
            DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'");
    private static final String SIGNATURE = "X-Amz-Signature";
    /** The signer appends User-Agent after signing, so it is not covered by the signature. */
    private static final String USER_AGENT = "User-Agent";

    private final String region;
    private final String host;
    private final Map<String, String> secretsByAccessKeyId;
    private final Clock clock;

    public MskIamTokenVerifier(String region, Map<String, String> secretsByAccessKeyId, Clock clock) {
        this.region = Objects.requireNonNull(region, "region");
        this.host = "kafka." + region + ".amazonaws.com";
        this.secretsByAccessKeyId = Map.copyOf(secretsByAccessKeyId);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** How many access keys this verifier knows, for the broker log. */
    public int accessKeyCount() {
        return secretsByAccessKeyId.size();
    }

    /** Returns the verified identity, or throws with the one reason the token is refused. */
    public VerifiedToken verify(String token) throws TokenRejectedException {
        if (token == null || token.isEmpty()) {
            throw new TokenRejectedException("token is empty");
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new TokenRejectedException("token is longer than " + MAX_TOKEN_CHARS + " characters");
        }
        URI url = parseUrl(decodeBase64Url(token));
        if (!"https".equals(url.getScheme()) || !"/".equals(url.getRawPath())
                || url.getRawQuery() == null) {
            throw new TokenRejectedException("token is not an https presigned URL for path /");
        }
        Map<String, String> params = parseQuery(url.getRawQuery());

        String action = require(params, "Action");
        if (!ACTION.equals(action)) {
            throw new TokenRejectedException("action '" + action + "' is not " + ACTION);
        }
        String algorithm = require(params, "X-Amz-Algorithm");
        if (!SigV4.ALGORITHM.equals(algorithm)) {
            throw new TokenRejectedException("algorithm '" + algorithm + "' is not " + SigV4.ALGORITHM);
        }
        String[] credential = require(params, "X-Amz-Credential").split("/", -1);
        if (credential.length != 5 || !"aws4_request".equals(credential[4])) {
            throw new TokenRejectedException("X-Amz-Credential is not <key>/<date>/<region>/<service>/aws4_request");
        }
        String accessKeyId = credential[0];
        String scopeDate = credential[1];
        String scopeRegion = credential[2];
        String scopeService = credential[3];
        if (!SERVICE.equals(scopeService)) {
            throw new TokenRejectedException("credential scope service '" + scopeService + "' is not " + SERVICE);
        }
        if (!region.equals(scopeRegion)) {
            throw new TokenRejectedException("credential scope region '" + scopeRegion
                    + "' is not this cluster's region '" + region + "'");
        }
        if (!host.equals(url.getHost()) || url.getPort() != -1) {
            throw new TokenRejectedException("URL host '" + url.getHost() + "' is not " + host);
        }
        String signedHeaders = require(params, "X-Amz-SignedHeaders");
        if (!"host".equals(signedHeaders)) {
            throw new TokenRejectedException("signed headers '" + signedHeaders + "' are not exactly 'host'");
        }

        String amzDate = require(params, "X-Amz-Date");
        Instant signedAt = parseAmzDate(amzDate);
        if (!amzDate.startsWith(scopeDate) || scopeDate.length() != 8) {
            throw new TokenRejectedException("credential scope date '" + scopeDate
                    + "' is not the day of X-Amz-Date " + amzDate);
        }
        long expiresSeconds = parseExpires(require(params, "X-Amz-Expires"));
        Instant expiresAt = signedAt.plusSeconds(expiresSeconds);
        Instant now = clock.instant();
        if (!now.isBefore(expiresAt)) {
            throw new TokenRejectedException("token expired at " + expiresAt + " (now " + now + ")");
        }
        if (signedAt.isAfter(now.plus(MAX_FUTURE_SKEW))) {
            throw new TokenRejectedException("token is dated " + signedAt + ", more than "
                    + MAX_FUTURE_SKEW.toMinutes() + " minutes in the future (now " + now + ")");
        }

        String givenSignature = require(params, SIGNATURE);
        String secret = secretsByAccessKeyId.get(accessKeyId);
        if (secret == null) {
            throw new TokenRejectedException("unknown access key id '" + accessKeyId + "'");
        }
        Map<String, String> signed = new LinkedHashMap<>(params);
        signed.remove(SIGNATURE);
        signed.remove(USER_AGENT);
        String expected = SigV4.presignedGetSignature(
                host, signed, amzDate, scopeDate, region, SERVICE, secret);
        if (!SigV4.sameSignature(expected, givenSignature)) {
            throw new TokenRejectedException("signature does not match for access key id '"
                    + accessKeyId + "' (wrong secret or altered token)");
        }
        return new VerifiedToken(accessKeyId, signedAt.toEpochMilli(), expiresAt.toEpochMilli());
    }

    private static String decodeBase64Url(String token) throws TokenRejectedException {
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(token);
        } catch (IllegalArgumentException e) {
            throw new TokenRejectedException("token is not base64url");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new TokenRejectedException("decoded token is not UTF-8 text");
        }
    }

    private static URI parseUrl(String text) throws TokenRejectedException {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw new TokenRejectedException("decoded token is not a URL");
        }
    }

    private static Map<String, String> parseQuery(String rawQuery) throws TokenRejectedException {
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : rawQuery.split("&", -1)) {
            int eq = pair.indexOf('=');
            String name = percentDecode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : percentDecode(pair.substring(eq + 1));
            if (params.putIfAbsent(name, value) != null) {
                throw new TokenRejectedException("query parameter '" + name + "' appears twice");
            }
        }
        return params;
    }

    /** Percent-decoding only: SigV4 URLs encode spaces as %20, so '+' stays a literal plus. */
    private static String percentDecode(String s) throws TokenRejectedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new TokenRejectedException("bad percent-encoding in the URL query");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new TokenRejectedException("bad percent-encoding in the URL query");
                }
                out.write((hi << 4) | lo);
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String require(Map<String, String> params, String name) throws TokenRejectedException {
        String value = params.get(name);
        if (value == null || value.isEmpty()) {
            throw new TokenRejectedException("presigned URL has no " + name + " parameter");
        }
        return value;
    }

    private static Instant parseAmzDate(String amzDate) throws TokenRejectedException {
        try {
            return LocalDateTime.parse(amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new TokenRejectedException("X-Amz-Date '" + amzDate + "' is not yyyyMMddTHHmmssZ");
        }
    }

    private static long parseExpires(String text) throws TokenRejectedException {
        long seconds;
        try {
            seconds = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new TokenRejectedException("X-Amz-Expires '" + text + "' is not a number");
        }
        if (seconds < 1 || seconds > MAX_EXPIRES_SECONDS) {
            throw new TokenRejectedException("X-Amz-Expires " + seconds + " is outside 1.." + MAX_EXPIRES_SECONDS);
        }
        return seconds;
    }

    /** Who the token proves to be, and the window in which it is valid (epoch milliseconds). */
    public record VerifiedToken(String accessKeyId, long issuedAtMs, long expiresAtMs) {
    }
}
