package io.portcullis.decisions;

import com.google.protobuf.Timestamp;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.portcullis.envoy.DecisionLog;
import io.portcullis.input.ServiceAccountRef;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads one gRPC access log entry of the decision log ({@link DecisionLog}: custom tags named
 * {@link DecisionLog#TAG_PREFIX} + field) into an {@link EgressDecision}.
 *
 * <p>The identity is never read from the entry: it is the one the access log stream's certificate proved
 * (see {@link DecisionLogReceiver}), given here. A tag claiming another identity is reported back so the
 * receiver can flag it; the decision keeps the proven one.
 *
 * <p>What Envoy reports for every entry fills a field whose tag is missing: the original destination is
 * the downstream local address (what the workload dialled, restored by the listener's original-destination
 * handling), SNI, and for HTTP the authority, method, path and response code. The decision itself
 * (decision, policy, match, reason) exists only in the tags, as the translator put it in the config.
 *
 * <p>Text fields are cut to {@link #MAX_TEXT} characters: the control plane keeps the last decisions in
 * memory, and a path is the workload's to choose. Label values are checked (decision, protocol, policy),
 * so what a sidecar sends cannot add arbitrary metric series.
 */
public final class DecisionLogEntries {

    /** Longest text kept of a host, path, reason or match. */
    public static final int MAX_TEXT = 1024;

    private static final Set<String> DECISIONS = Set.of(DecisionLog.ALLOW, DecisionLog.DENY, DecisionLog.WOULD_DENY);
    private static final Set<String> PROTOCOLS = Set.of(DecisionLog.TCP, DecisionLog.TLS, DecisionLog.HTTP);
    /** {@code namespace/name}: a DNS label, then a DNS subdomain (what Kubernetes allows for each). */
    private static final Pattern POLICY =
            Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?");

    private DecisionLogEntries() {}

    /** What one entry said. */
    public sealed interface Reading {}

    /**
     * An egress decision.
     *
     * @param claimedIdentity the identity tag when it named another identity than the proven one, else null
     */
    public record Decision(EgressDecision decision, String claimedIdentity) implements Reading {}

    /**
     * Not a decision, or one whose values are out of the contract; left out.
     *
     * @param problem a fixed word, the metric label ({@code no_decision}, {@code invalid_decision}, ...)
     * @param detail what was wrong, for the log
     */
    public record Ignored(String problem, String detail) implements Reading {}

    /** A TCP proxy's entry: a connection (TLS when it carried SNI). */
    public static Reading read(TCPAccessLogEntry entry, ServiceAccountRef identity, Instant received) {
        AccessLogCommon common = entry.getCommonProperties();
        String sni = tagOr(
                common, DecisionLog.SNI, blankToNull(common.getTlsProperties().getTlsSniHostname()));
        return read(
                common,
                identity,
                received,
                sni == null ? DecisionLog.TCP : DecisionLog.TLS,
                sni,
                tag(common, DecisionLog.HOST),
                tag(common, DecisionLog.METHOD),
                tag(common, DecisionLog.PATH),
                tag(common, DecisionLog.RESPONSE_CODE));
    }

    /** An HTTP connection manager's entry: one request. */
    public static Reading read(HTTPAccessLogEntry entry, ServiceAccountRef identity, Instant received) {
        AccessLogCommon common = entry.getCommonProperties();
        var request = entry.getRequest();
        String method = request.getRequestMethod() == RequestMethod.METHOD_UNSPECIFIED
                        || request.getRequestMethod() == RequestMethod.UNRECOGNIZED
                ? null
                : request.getRequestMethod().name();
        String status = entry.getResponse().hasResponseCode()
                        && entry.getResponse().getResponseCode().getValue() != 0
                ? Integer.toString(entry.getResponse().getResponseCode().getValue())
                : null;
        return read(
                common,
                identity,
                received,
                DecisionLog.HTTP,
                tagOr(
                        common,
                        DecisionLog.SNI,
                        blankToNull(common.getTlsProperties().getTlsSniHostname())),
                tagOr(common, DecisionLog.HOST, blankToNull(request.getAuthority())),
                tagOr(common, DecisionLog.METHOD, method),
                tagOr(common, DecisionLog.PATH, blankToNull(request.getPath())),
                tagOr(common, DecisionLog.RESPONSE_CODE, status));
    }

    private static Reading read(
            AccessLogCommon common,
            ServiceAccountRef identity,
            Instant received,
            String defaultProtocol,
            String sni,
            String host,
            String method,
            String path,
            String responseCode) {
        String decision = tag(common, DecisionLog.DECISION);
        if (decision == null) {
            return new Ignored("no_decision", "no " + DecisionLog.TAG_PREFIX + DecisionLog.DECISION + " tag");
        }
        if (!DECISIONS.contains(decision)) {
            return new Ignored("invalid_decision", "decision '" + cut(decision) + "' is none of " + DECISIONS);
        }
        String protocol = tagOr(common, DecisionLog.PROTOCOL, defaultProtocol);
        if (!PROTOCOLS.contains(protocol)) {
            return new Ignored("invalid_protocol", "protocol '" + cut(protocol) + "' is none of " + PROTOCOLS);
        }
        String policy = tag(common, DecisionLog.POLICY);
        if (policy != null && !POLICY.matcher(policy).matches()) {
            return new Ignored("invalid_policy", "policy '" + cut(policy) + "' is not namespace/name");
        }
        Integer status;
        try {
            status = responseCode == null ? null : Integer.valueOf(responseCode);
        } catch (NumberFormatException e) {
            status = null; // "0" or "-" when no response was sent: the field is simply absent
        }
        String claimed = tag(common, DecisionLog.IDENTITY);
        String proven = identity.toString();
        EgressDecision read = new EgressDecision(
                time(common, received),
                proven,
                tagOr(common, DecisionLog.DESTINATION, address(common.getDownstreamLocalAddress())),
                protocol,
                cut(sni),
                cut(host),
                cut(method),
                cut(path),
                decision,
                policy,
                cut(tag(common, DecisionLog.MATCH)),
                cut(tag(common, DecisionLog.REASON)),
                status == null || status == 0 ? null : status);
        return new Decision(read, claimed == null || claimed.equals(proven) ? null : cut(claimed));
    }

    /** When the connection or request started, as Envoy timed it; else the time tag; else when it arrived. */
    private static Instant time(AccessLogCommon common, Instant received) {
        if (common.hasStartTime()) {
            Timestamp start = common.getStartTime();
            return Instant.ofEpochSecond(start.getSeconds(), start.getNanos());
        }
        String tagged = tag(common, DecisionLog.TIME);
        if (tagged != null) {
            try {
                return Instant.parse(tagged);
            } catch (DateTimeParseException e) {
                // fall through: the arrival time is close enough
            }
        }
        return received;
    }

    /** A tag's value; Envoy writes {@code -} (or nothing) for a value it did not have. */
    private static String tag(AccessLogCommon common, String field) {
        Map<String, String> tags = common.getCustomTagsMap();
        return blankToNull(tags.get(DecisionLog.TAG_PREFIX + field));
    }

    private static String tagOr(AccessLogCommon common, String field, String fallback) {
        String value = tag(common, field);
        return value != null ? value : fallback;
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() || value.equals("-") ? null : value;
    }

    private static String address(Address address) {
        if (!address.hasSocketAddress()) {
            return null;
        }
        String ip = address.getSocketAddress().getAddress();
        if (ip.isEmpty()) {
            return null;
        }
        int port = address.getSocketAddress().getPortValue();
        return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + port;
    }

    private static String cut(String text) {
        return text == null || text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT);
    }
}
