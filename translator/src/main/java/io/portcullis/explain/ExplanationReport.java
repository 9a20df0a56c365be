package io.portcullis.explain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcullis.envoy.EgressNames;
import io.portcullis.validation.PolicyOrigin;
import java.util.List;
import java.util.Optional;

/**
 * The JSON form of an {@link Explanation}, the one that {@code portcullis explain -o json} prints and
 * {@code GET /debug/explain} answers, and the human text made from it, so offline and live print alike.
 *
 * <pre>{@code
 * {"verdict": "allowed" | "denied" | "would-deny" | "address-needed",
 *  "identity": "curl/curl",
 *  "request": {"protocol": "http", "host": "httpbin.org", "port": 80, "authority": "httpbin.org", "method": "GET", "path": "/get"},
 *  "policies": ["Egress curl/httpbin-80"],          allowed: the policies of the deciding grant
 *  "decidingPolicy": "curl/httpbin-80",             the decision log's policy field for it; null when none
 *  "chain": "egress_http_80", "route": "allow Egress curl/httpbin-80",
 *  "match": "Host httpbin.org matches httpbin.org on port 80; any request to it is allowed",   allowed
 *  "reason": "...",                                 denied, would-deny, address-needed
 *  "closest": {"grant": "...", "policies": [...], "differences": [{"aspect": "path", "policy": "...", "request": "..."}]},
 *  "notes": [...]}
 * }</pre>
 *
 * <p>{@code would-deny}: the namespace, or an Egress naming the port, is in audit mode, so the sidecar lets
 * through what it would refuse (and logs {@code would_deny}); the fields are those of {@code denied}.
 */
public final class ExplanationReport {

    public static final String ALLOWED = "allowed";
    public static final String DENIED = "denied";
    public static final String WOULD_DENY = "would-deny";
    public static final String ADDRESS_NEEDED = "address-needed";

    private static final ObjectMapper JSON = new ObjectMapper();

    private ExplanationReport() {}

    public static ObjectNode toJson(Explanation explanation) {
        ObjectNode root = JSON.createObjectNode();
        root.put(
                "verdict",
                switch (explanation) {
                    case Explanation.Allowed allowed -> ALLOWED;
                    case Explanation.Denied denied -> DENIED;
                    case Explanation.WouldDeny wouldDeny -> WOULD_DENY;
                    case Explanation.AddressNeeded needed -> ADDRESS_NEEDED;
                });
        root.put("identity", explanation.identity().toString());
        root.set("request", JSON.valueToTree(explanation.request().describe()));
        switch (explanation) {
            case Explanation.Allowed allowed -> {
                policies(root.putArray("policies"), allowed.policies());
                decidingPolicy(root, allowed.decidingPolicy());
                root.put("chain", allowed.chain());
                root.put("route", allowed.route().orElse(null));
                root.put("match", allowed.match());
            }
            case Explanation.Denied denied ->
                refusal(
                        root,
                        denied.reason(),
                        denied.decidingPolicy(),
                        denied.chain(),
                        denied.route(),
                        denied.closest());
            case Explanation.WouldDeny wouldDeny ->
                refusal(
                        root,
                        wouldDeny.reason(),
                        wouldDeny.decidingPolicy(),
                        wouldDeny.chain(),
                        wouldDeny.route(),
                        wouldDeny.closest());
            case Explanation.AddressNeeded needed -> root.put("reason", needed.reason());
        }
        ArrayNode notes = root.putArray("notes");
        explanation.notes().forEach(notes::add);
        return root;
    }

    private static void refusal(
            ObjectNode root,
            String reason,
            Optional<PolicyOrigin> decidingPolicy,
            String chain,
            Optional<String> route,
            Optional<Explanation.Closest> closestGrant) {
        root.put("reason", reason);
        decidingPolicy(root, decidingPolicy);
        root.put("chain", chain);
        root.put("route", route.orElse(null));
        closestGrant.ifPresent(closest -> {
            ObjectNode node = root.putObject("closest");
            node.put("grant", closest.grant());
            policies(node.putArray("policies"), closest.policies());
            ArrayNode differences = node.putArray("differences");
            for (Explanation.Difference difference : closest.differences()) {
                differences
                        .addObject()
                        .put("aspect", difference.aspect().label())
                        .put("policy", difference.policy())
                        .put("request", difference.request());
            }
        });
    }

    /** As the sidecar's decision log writes its {@code policy} field, so the two can be matched. */
    private static void decidingPolicy(ObjectNode root, Optional<PolicyOrigin> policy) {
        root.put("decidingPolicy", policy.map(EgressNames::policyName).orElse(null));
    }

    private static void policies(ArrayNode array, List<PolicyOrigin> policies) {
        policies.forEach(p -> array.add(p.toString()));
    }

    /** The text for people: one verdict line, then the details. Made from the JSON, so a server's answer prints alike. */
    public static String toText(JsonNode json) {
        StringBuilder out = new StringBuilder();
        String verdict = json.path("verdict").asText();
        JsonNode request = json.path("request");
        String what = request.path("protocol").asText() + " " + target(request);
        String identity = json.path("identity").asText();
        switch (verdict) {
            case ALLOWED -> {
                List<String> policies = texts(json.path("policies"));
                out.append("ALLOWED: ")
                        .append(identity)
                        .append(" -> ")
                        .append(what)
                        .append(
                                policies.isEmpty()
                                        ? " (passthrough, no policy needed)"
                                        : " by " + String.join(", ", policies))
                        .append('\n');
                out.append("  match: ").append(json.path("match").asText()).append('\n');
                decidedBy(out, json);
            }
            case DENIED -> {
                out.append("DENIED: ")
                        .append(identity)
                        .append(" -> ")
                        .append(what)
                        .append('\n');
                out.append("  reason: ").append(json.path("reason").asText()).append('\n');
                decidedBy(out, json);
            }
            case WOULD_DENY -> {
                out.append("WOULD-DENY: ")
                        .append(identity)
                        .append(" -> ")
                        .append(what)
                        .append('\n');
                out.append("  allowed by audit mode, would be denied: ")
                        .append(json.path("reason").asText())
                        .append('\n');
                decidedBy(out, json);
            }
            default -> {
                out.append("UNDECIDED: ")
                        .append(identity)
                        .append(" -> ")
                        .append(what)
                        .append('\n');
                out.append("  needs: ").append(json.path("reason").asText()).append('\n');
            }
        }
        if (json.hasNonNull("chain")) {
            out.append("  envoy: filter chain ").append(json.path("chain").asText());
            if (json.hasNonNull("route")) {
                out.append(", route ").append(json.path("route").asText());
            }
            out.append('\n');
        }
        JsonNode closest = json.path("closest");
        if (closest.isObject()) {
            out.append("  closest: ")
                    .append(closest.path("grant").asText())
                    .append(" (")
                    .append(String.join(", ", texts(closest.path("policies"))))
                    .append(")\n");
            for (JsonNode difference : closest.path("differences")) {
                out.append("    ")
                        .append(difference.path("aspect").asText())
                        .append(": policy allows ")
                        .append(difference.path("policy").asText())
                        .append("; request has ")
                        .append(difference.path("request").asText())
                        .append('\n');
            }
        }
        for (JsonNode note : json.path("notes")) {
            out.append("  note: ").append(note.asText()).append('\n');
        }
        return out.toString();
    }

    private static void decidedBy(StringBuilder out, JsonNode json) {
        if (json.hasNonNull("decidingPolicy")) {
            out.append("  decided by: ")
                    .append(json.path("decidingPolicy").asText())
                    .append(" (the decision log's policy)\n");
        }
    }

    private static String target(JsonNode request) {
        String host = request.path("host").asText();
        String hostPort = (host.contains(":") ? "[" + host + "]" : host) + ":"
                + request.path("port").asText();
        StringBuilder out = new StringBuilder(hostPort);
        if (request.hasNonNull("address") && !request.path("address").asText().equals(host)) {
            out.append(" (address ").append(request.path("address").asText()).append(')');
        }
        if (request.has("sni")) {
            out.append(request.hasNonNull("sni") ? " SNI " + request.path("sni").asText() : " without SNI");
        }
        if (request.has("method")) {
            out.append(' ')
                    .append(request.path("method").asText())
                    .append(' ')
                    .append(request.path("path").asText())
                    .append(" Host ")
                    .append(request.path("authority").asText());
        }
        return out.toString();
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new java.util.ArrayList<>();
        array.forEach(node -> out.add(node.asText()));
        return out;
    }

    /**
     * The exit code of {@code portcullis explain}: 0 allowed, 1 denied, 2 when it cannot decide (or on a usage
     * error). A would-deny is 0: the traffic passes (a script gating on it sees what the workload sees); the
     * verdict tells it apart.
     */
    public static int exitCode(JsonNode json) {
        return switch (json.path("verdict").asText()) {
            case ALLOWED, WOULD_DENY -> 0;
            case DENIED -> 1;
            default -> 2;
        };
    }
}
