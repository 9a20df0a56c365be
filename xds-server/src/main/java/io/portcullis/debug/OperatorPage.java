package io.portcullis.debug;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcullis.decisions.EgressDecision;
import io.portcullis.input.ServiceAccountRef;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The operator page the debug endpoint serves at {@code /}: identities and what they may reach, connected
 * sidecars and their sync state, current problems and recent denials, as one server-rendered HTML page.
 *
 * <p>It renders the same JSON the {@code /debug/*} endpoints answer (and {@code proxy-status} reads), so the
 * page and the tools cannot disagree. No script and no external asset: the page must work on a machine
 * without internet, and much of what it shows comes from workloads (a denied request's Host and path), so
 * every value is escaped and {@link #CONTENT_SECURITY_POLICY} forbids scripts should escaping ever be missed.
 */
final class OperatorPage {

    /** Inline styles only; no script, no frame, no fetch, no form. */
    static final String CONTENT_SECURITY_POLICY =
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; frame-ancestors 'none'";

    static final int REFRESH_SECONDS = 10;

    private static final String STYLE = """
            body{font-family:"DejaVu Sans",Arial,sans-serif;margin:1.5em;color:#1d232a;background:#f6f7f9;font-size:14px}
            h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:2px solid #c9d1da}
            .meta{color:#5b6570;margin:0}
            table{border-collapse:collapse;width:100%;background:#fff}
            th,td{border:1px solid #d5dbe1;padding:.3em .5em;text-align:left;vertical-align:top}
            th{background:#e9edf1}
            code,.mono{font-family:"DejaVu Sans Mono",monospace;font-size:.92em}
            .state{font-weight:bold;padding:.1em .45em;border-radius:3px;color:#fff}
            .SYNCED{background:#2e7d32}.PENDING{background:#8d6e00}.STALE{background:#c62828}.NACKED{background:#6a1b9a}
            .deny{color:#c62828;font-weight:bold}.would_deny{color:#8d6e00;font-weight:bold}
            .ERROR{color:#c62828;font-weight:bold}.WARNING{color:#8d6e00;font-weight:bold}
            .none{color:#5b6570;font-style:italic}
            .nowrap,.pod,.replica,.last-seen{white-space:nowrap}
            """;

    /**
     * @param identity  namespace/serviceAccount
     * @param connected whether a sidecar of it is connected (else: what it would get)
     * @param model     {@code TranslationReport.model(...)}: what {@code portcullis translate} and {@code /debug/xds} show
     */
    record IdentityModel(ServiceAccountRef identity, boolean connected, ObjectNode model) {}

    private final String replica;
    private final Instant generatedAt;

    OperatorPage(String replica, Instant generatedAt) {
        this.replica = Objects.requireNonNull(replica);
        this.generatedAt = generatedAt.truncatedTo(ChronoUnit.SECONDS);
    }

    /**
     * @param sidecars  what {@code /debug/sidecars} answers
     * @param problems  what {@code /debug/problems} answers
     * @param denials   denials and would-be denials, newest first
     */
    String render(
            List<IdentityModel> identities, ArrayNode sidecars, ObjectNode problems, List<EgressDecision> denials) {
        Html html = new Html();
        html.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .raw("<meta http-equiv=\"refresh\" content=\"" + REFRESH_SECONDS + "\">")
                .raw("<title>Portcullis: ")
                .text(replica)
                .raw("</title><style>")
                .raw(STYLE)
                .raw("</style></head>\n<body>\n");
        html.raw("<header><h1>Portcullis egress</h1><p class=\"meta\">control plane replica <b id=\"replica\">")
                .text(replica)
                .raw("</b> &middot; generated ")
                .text(generatedAt.toString())
                .raw(" &middot; refreshes every " + REFRESH_SECONDS + " s &middot; JSON: ")
                .raw("<code>/debug/sidecars</code>, <code>/debug/problems</code>, <code>/debug/decisions</code>,"
                        + " <code>/debug/xds/&lt;namespace&gt;/&lt;serviceAccount&gt;</code></p></header>\n");
        sidecars(html, sidecars);
        denials(html, denials);
        problems(html, problems);
        identities(html, identities);
        html.raw("</body></html>\n");
        return html.toString();
    }

    private static void sidecars(Html html, ArrayNode sidecars) {
        html.raw("<section id=\"sidecars\"><h2>Connected sidecars (" + sidecars.size() + ")</h2>\n");
        if (sidecars.isEmpty()) {
            html.raw("<p class=\"none\">No sidecar is connected to this replica.</p></section>\n");
            return;
        }
        html.raw("<table><thead><tr><th>Identity</th><th>Pod</th><th>Replica</th><th>Sync</th>"
                + "<th>Listeners sent / ACKed</th><th>Clusters sent / ACKed</th><th>Routes sent / ACKed</th>"
                + "<th>Last seen</th><th>Detail</th></tr></thead><tbody>\n");
        for (JsonNode sidecar : sidecars) {
            String state = sidecar.path("syncState").asText();
            html.raw("<tr class=\"sidecar\"><td class=\"identity\">")
                    .text(sidecar.path("identity").asText())
                    .raw("</td><td class=\"pod\">")
                    .text(sidecar.path("pod").asText())
                    .raw("</td><td class=\"replica\">")
                    .text(sidecar.path("replica").asText())
                    .raw("</td><td class=\"sync\"><span class=\"state ")
                    // The class is one of four fixed names; anything else would be escaped text in a class.
                    .text(state)
                    .raw("\">")
                    .text(state)
                    .raw("</span></td>");
            for (String type : List.of("Listener", "Cluster", "RouteConfiguration")) {
                JsonNode t = sidecar.path("types").path(type);
                html.raw("<td class=\"mono nowrap\">");
                if (t.isMissingNode()) {
                    html.raw("&ndash;");
                } else {
                    html.text(shortVersion(t.path("sent").asText(null)))
                            .raw(" / ")
                            .text(shortVersion(t.path("acked").asText(null)));
                    // Each type has its own version; say so when the identity is now served another one.
                    String served = t.path("served").asText(null);
                    if (served != null && !served.equals(t.path("sent").asText(null))) {
                        html.raw(" <span class=\"served\">(served ")
                                .text(shortVersion(served))
                                .raw(")</span>");
                    }
                }
                html.raw("</td>");
            }
            html.raw("<td class=\"last-seen\">")
                    .text(toSeconds(sidecar.path("lastSeen").asText()))
                    .raw("</td><td class=\"detail\">")
                    .text(sidecar.path("syncDetail").asText())
                    .raw("</td></tr>\n");
        }
        html.raw("</tbody></table></section>\n");
    }

    private static void denials(Html html, List<EgressDecision> denials) {
        html.raw("<section id=\"denials\"><h2>Recent denials (" + denials.size() + ")</h2>\n");
        if (denials.isEmpty()) {
            html.raw("<p class=\"none\">No denial reported by a sidecar since this replica started.</p></section>\n");
            return;
        }
        html.raw("<table><thead><tr><th>Time</th><th>Identity</th><th>Destination</th><th>Protocol</th>"
                + "<th>SNI / Host</th><th>Request</th><th>Decision</th><th>Policy</th><th>Reason</th>"
                + "</tr></thead><tbody>\n");
        for (EgressDecision d : denials) {
            html.raw("<tr class=\"denial\"><td>")
                    .text(d.time().truncatedTo(ChronoUnit.MILLIS).toString())
                    .raw("</td><td class=\"identity\">")
                    .text(d.identity())
                    .raw("</td><td class=\"destination mono\">")
                    .text(d.destination())
                    .raw("</td><td class=\"protocol\">")
                    .text(d.protocol())
                    .raw("</td><td class=\"name mono\">")
                    .text(d.sni() != null ? d.sni() : d.host())
                    .raw("</td><td class=\"request mono\">")
                    .text(d.method() == null ? null : d.method() + " " + Objects.requireNonNullElse(d.path(), ""))
                    .raw("</td><td class=\"decision ")
                    .text(d.decision())
                    .raw("\">")
                    .text(d.decision())
                    .raw("</td><td class=\"policy\">")
                    .text(d.policy() == null ? "none" : d.policy() + (d.match() == null ? "" : " (" + d.match() + ")"))
                    .raw("</td><td class=\"reason\">")
                    .text(d.reason())
                    .raw("</td></tr>\n");
        }
        html.raw("</tbody></table></section>\n");
    }

    private static void problems(Html html, ObjectNode problems) {
        List<String[]> rows = new ArrayList<>(); // severity, resource, field, message, fix
        problems.path("source").forEach(p -> rows.add(new String[] {"ERROR", "config source", "", p.asText(), ""}));
        problems.path("policies")
                .forEach(p -> rows.add(new String[] {
                    p.path("severity").asText(),
                    p.path("resource").asText(),
                    p.path("field").asText(),
                    p.path("message").asText(),
                    ""
                }));
        problems.path("rejectedByEnvoy")
                .forEach(p -> rows.add(new String[] {
                    p.path("severity").asText(),
                    p.path("resource").isNull()
                            ? "all of " + p.path("identity").asText()
                            : p.path("resource").asText(),
                    p.path("type").asText(),
                    "rejected by Envoy of " + p.path("node").asText() + ": "
                            + p.path("envoyMessage").asText(),
                    p.path("fix").asText()
                }));
        html.raw("<section id=\"problems\"><h2>Problems (" + rows.size() + ")</h2>\n");
        if (rows.isEmpty()) {
            html.raw("<p class=\"none\">No problem: every resource was accepted and every sidecar took its config."
                    + "</p></section>\n");
            return;
        }
        html.raw("<table><thead><tr><th>Severity</th><th>Resource</th><th>Field</th><th>Problem</th><th>Fix</th>"
                + "</tr></thead><tbody>\n");
        for (String[] row : rows) {
            html.raw("<tr class=\"problem\"><td class=\"")
                    .text(row[0])
                    .raw("\">")
                    .text(row[0])
                    .raw("</td>");
            for (int i = 1; i < row.length; i++) {
                html.raw("<td>").text(row[i]).raw("</td>");
            }
            html.raw("</tr>\n");
        }
        html.raw("</tbody></table></section>\n");
    }

    private static void identities(Html html, List<IdentityModel> identities) {
        html.raw("<section id=\"identities\"><h2>Identities and their allowed destinations (" + identities.size()
                + ")</h2>\n");
        if (identities.isEmpty()) {
            html.raw("<p class=\"none\">No policy names an identity and no sidecar is connected.</p></section>\n");
            return;
        }
        html.raw("<table><thead><tr><th>Identity</th><th>Mode</th><th>Port</th><th>Protocol</th>"
                + "<th>Destination</th><th>Requests</th><th>Allowed by</th></tr></thead><tbody>\n");
        for (IdentityModel identity : identities) {
            List<String[]> rows = destinations(identity.model()); // port, protocol, destination, requests, origins
            String mode = identity.model().path("mode").asText()
                    // audit mode (portcullis.io/egress-mode): what the mode refuses is let through and logged
                    // would_deny
                    + (identity.model().path("audit").asBoolean() ? " (audit)" : "");
            if (rows.isEmpty()) {
                rows.add(new String[] {
                    "",
                    "",
                    switch (identity.model().path("mode").asText()) {
                        case "PASSTHROUGH" -> "every destination (MeshConfig spec.traffic.enableEgress is on)";
                        case "DENY_ALL" -> "nothing (MeshConfig spec.featureFlags.enableEgressPolicy is off)";
                        default -> "nothing: no accepted Egress names it";
                    },
                    "",
                    ""
                });
            }
            boolean first = true;
            for (String[] row : rows) {
                html.raw("<tr class=\"destination-row\">");
                if (first) {
                    html.raw("<td class=\"identity\" rowspan=\"" + rows.size() + "\">")
                            .text(identity.identity().toString())
                            .raw(identity.connected() ? "" : " <span class=\"none\">(no sidecar connected)</span>")
                            .raw("</td><td rowspan=\"" + rows.size() + "\">")
                            .text(mode)
                            .raw("</td>");
                    first = false;
                }
                html.raw("<td>").text(row[0]).raw("</td><td>").text(row[1]).raw("</td>");
                html.raw("<td class=\"mono\">")
                        .text(row[2])
                        .raw("</td><td class=\"mono\">")
                        .text(row[3]);
                html.raw("</td><td>").text(row[4]).raw("</td></tr>\n");
            }
        }
        html.raw("</tbody></table></section>\n");
    }

    /** One row per thing an identity may reach, read from the model as TranslationReport prints it. */
    private static List<String[]> destinations(ObjectNode model) {
        List<String[]> rows = new ArrayList<>();
        for (JsonNode port : model.path("ports")) {
            String number = port.path("port").asText();
            JsonNode tcp = port.path("tcp");
            if (tcp.isObject()) {
                rows.add(new String[] {
                    number,
                    port.path("serverFirst").asBoolean() ? "tcp-server-first" : "tcp",
                    tcp.path("anyAddress").asBoolean() ? "any address" : join(tcp.path("ranges")),
                    "",
                    join(tcp.path("origins"))
                });
            }
            for (JsonNode host : port.path("httpHosts")) {
                List<String> requests = new ArrayList<>();
                if (host.path("anyRequest").asBoolean()) {
                    requests.add("any request");
                }
                for (JsonNode match : host.path("matches")) {
                    String methods = match.path("methods").isEmpty() ? "any method" : join(match.path("methods"));
                    String path = match.path("pathRegex").isNull()
                            ? "any path"
                            : match.path("pathRegex").asText();
                    String headers = match.path("headers").isEmpty()
                            ? ""
                            : " headers " + match.path("headers").toString();
                    requests.add(methods + " " + path + headers);
                }
                rows.add(new String[] {
                    number, "http", host.path("host").asText(), String.join("; ", requests), join(host.path("origins"))
                });
            }
            for (JsonNode name : port.path("tlsHosts")) {
                rows.add(new String[] {number, "tls (SNI)", name.asText(), "", join(port.path("tlsOrigins"))});
            }
        }
        return rows;
    }

    private static String join(JsonNode array) {
        List<String> parts = new ArrayList<>();
        array.forEach(item -> parts.add(item.isTextual() ? item.asText() : item.toString()));
        return String.join(", ", parts);
    }

    /** Versions are content digests: eight characters tell them apart, as in {@code proxy-status}. */
    private static String shortVersion(String version) {
        if (version == null) {
            return "none";
        }
        return version.length() > 8 ? version.substring(0, 8) : version;
    }

    private static String toSeconds(String instant) {
        try {
            return Instant.parse(instant).truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (java.time.format.DateTimeParseException e) {
            return instant;
        }
    }

    /** A page being written: {@link #text} escapes, {@link #raw} is for the page's own markup only. */
    private static final class Html {
        private final StringBuilder out = new StringBuilder();

        Html raw(String markup) {
            out.append(markup);
            return this;
        }

        /** Escaped for element content and for quoted attribute values alike; null prints as nothing. */
        Html text(String value) {
            if (value == null) {
                return this;
            }
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '&' -> out.append("&amp;");
                    case '<' -> out.append("&lt;");
                    case '>' -> out.append("&gt;");
                    case '"' -> out.append("&quot;");
                    case '\'' -> out.append("&#39;");
                    default -> out.append(c);
                }
            }
            return this;
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }
}
