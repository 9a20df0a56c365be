package io.portcullis.debug;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpPrincipal;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.portcullis.explain.EgressExplainer;
import io.portcullis.explain.EgressRequest;
import io.portcullis.explain.ExplanationReport;
import io.portcullis.identity.SpiffeId;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.translator.TranslationReport;
import io.portcullis.validation.PolicyProblem;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.Lockdown;
import io.portcullis.xds.Quarantine;
import io.portcullis.xds.SidecarRegistry;
import io.portcullis.xds.SidecarStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-only HTTP endpoint for operators, JSON throughout:
 * <ul>
 *   <li>{@code /debug/sidecars} connected sidecars: identity, node id, versions sent, ACKed and NACKed per type</li>
 *   <li>{@code /debug/xds/<namespace>/<serviceAccount>} the model and xDS resources served to an identity</li>
 *   <li>{@code /debug/explain?from=<namespace>/<serviceAccount>&target=<url or host:port>[&method=..][&header=name=value]...[&sni=..][&ip=..]}
 *       whether that identity's sidecar allows the request, from the model it is served ({@code portcullis explain --server})</li>
 *   <li>{@code /debug/problems} every invalid input: resource, field, why; and every policy left out because
 *       Envoy rejected the config built from it</li>
 *   <li>{@code /healthz}</li>
 * </ul>
 * Unauthenticated it listens on loopback only; elsewhere it needs a bearer token and/or mutual TLS ({@link DebugAccess}).
 */
public final class DebugEndpoint implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DebugEndpoint.class);
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).findAndRegisterModules();

    private final HttpServer server;
    private final DebugAccess access;
    private final EgressControlPlane controlPlane;
    private final SidecarRegistry registry;

    /** Unauthenticated: loopback addresses only. */
    public DebugEndpoint(InetSocketAddress address, EgressControlPlane controlPlane, SidecarRegistry registry)
            throws IOException {
        this(address, controlPlane, registry, DebugAccess.loopbackOnly());
    }

    /**
     * @throws IllegalArgumentException when {@code address} is not loopback and {@code access} authenticates nobody:
     *     the endpoint shows every identity's config
     */
    public DebugEndpoint(
            InetSocketAddress address, EgressControlPlane controlPlane, SidecarRegistry registry, DebugAccess access)
            throws IOException {
        if (!access.authenticates()
                && (address.getAddress() == null || !address.getAddress().isLoopbackAddress())) {
            throw new IllegalArgumentException(notLoopbackMessage(address.getHostString()));
        }
        this.controlPlane = controlPlane;
        this.registry = registry;
        this.access = access;
        if (access.tls().isPresent()) {
            HttpsServer https = HttpsServer.create(address, 0);
            https.setHttpsConfigurator(new HttpsConfigurator(access.tls().get()) {
                @Override
                public void configure(HttpsParameters params) {
                    SSLParameters ssl = getSSLContext().getDefaultSSLParameters();
                    ssl.setNeedClientAuth(true);
                    params.setSSLParameters(ssl);
                }
            });
            this.server = https;
        } else {
            this.server = HttpServer.create(address, 0);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        context("/healthz", exchange -> respond(exchange, 200, "text/plain", "ok\n"));
        context("/debug/sidecars", exchange -> json(exchange, sidecars()));
        context("/debug/problems", exchange -> json(exchange, problems()));
        context("/debug/xds/", this::xds);
        context("/debug/explain", this::explain);
        context(
                "/",
                exchange -> respond(
                        exchange,
                        404,
                        "text/plain",
                        "unknown path; try /debug/sidecars, /debug/problems, /debug/xds/<namespace>/<serviceAccount>,"
                                + " /debug/explain?from=<namespace>/<serviceAccount>&target=<url or host:port>\n"));
    }

    /** Why an unauthenticated debug endpoint may not listen on {@code address}; shared with serve's option check. */
    public static String notLoopbackMessage(String address) {
        return "the debug endpoint shows every identity's config and may listen on " + address
                + " only with authentication: pass --debug-token-file FILE and/or --debug-client-identity NAMESPACE/SERVICEACCOUNT"
                + " (mutual TLS with a certificate from the mesh CA), or keep --debug-address 127.0.0.1";
    }

    private void context(String path, HttpHandler handler) {
        server.createContext(path, handler).setAuthenticator(new Authenticator() {
            @Override
            public Result authenticate(HttpExchange exchange) {
                return DebugEndpoint.this.authenticate(exchange);
            }
        });
    }

    private Authenticator.Result authenticate(HttpExchange exchange) {
        String who = "debug";
        if (access.tls().isPresent()) {
            SpiffeId client;
            try {
                var chain = ((HttpsExchange) exchange).getSSLSession().getPeerCertificates();
                client = SpiffeId.fromCertificate((X509Certificate) chain[0]);
            } catch (SSLPeerUnverifiedException | RuntimeException e) {
                LOG.warn(
                        "debug endpoint: refused {}: no usable client certificate: {}",
                        exchange.getRemoteAddress(),
                        e.getMessage());
                return new Authenticator.Failure(403);
            }
            if (!access.clients().contains(client)) {
                LOG.warn(
                        "debug endpoint: refused {}: {} is not allowed (--debug-client-identity)",
                        exchange.getRemoteAddress(),
                        client);
                return new Authenticator.Failure(403);
            }
            who = client.uri();
        }
        if (access.bearerToken().isPresent()) {
            String header = exchange.getRequestHeaders().getFirst("Authorization");
            byte[] expected = ("Bearer " + access.bearerToken().get()).getBytes(StandardCharsets.UTF_8);
            if (header == null || !MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8))) {
                exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"portcullis-debug\"");
                return new Authenticator.Retry(401);
            }
        }
        return new Authenticator.Success(new HttpPrincipal(who, "portcullis"));
    }

    public void start() {
        server.start();
        // Not address().toString(): an InetSocketAddress prints as "hostname/ip:port", "/127.0.0.1:15080"
        // without a hostname, which made the logged URL http:///127.0.0.1:15080.
        String host = address().getAddress().getHostAddress();
        LOG.info(
                "debug endpoint listening on {}://{}:{}/debug/sidecars ({})",
                access.tls().isPresent() ? "https" : "http",
                host.contains(":") ? "[" + host + "]" : host,
                address().getPort(),
                access.authenticates()
                        ? (access.bearerToken().isPresent() ? "bearer token" : "")
                                + (access.bearerToken().isPresent()
                                                && access.tls().isPresent()
                                        ? " and "
                                        : "")
                                + (access.tls().isPresent() ? "client certificates " + access.clients() : "")
                        : "unauthenticated, loopback");
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private JsonNode sidecars() {
        ArrayNode list = JSON.createArrayNode();
        for (SidecarStatus sidecar : registry.sidecars()) {
            ObjectNode node = list.addObject();
            node.put("identity", sidecar.identity().toString());
            node.put("nodeId", sidecar.nodeId());
            node.put("stream", sidecar.streamId());
            node.put("connectedAt", sidecar.connectedAt().toString());
            String served = controlPlane
                    .served(sidecar.identity())
                    .map(s -> s.resources().version())
                    .orElse(null);
            node.put("servedVersion", served);
            node.put("ackedVersion", sidecar.ackedListenerVersion());
            // Up to date: it runs the identity's current listeners and clusters, and rejected none of the
            // current version. Route tables are left out of the ACK check: Envoy asks for them by name and
            // stops asking when no listener uses them, so their last ACK can lawfully lag; their status is
            // listed under "types".
            node.put(
                    "upToDate",
                    served != null
                            && served.equals(sidecar.ackedListenerVersion())
                            && sidecar.types().containsKey("Cluster")
                            && served.equals(sidecar.types().get("Cluster").ackedVersion())
                            && sidecar.types().values().stream().noneMatch(t -> served.equals(t.nackedVersion())));
            // Its rejections: while it NACKs, Envoy runs what it last accepted, which upToDate tells apart.
            ArrayNode rejected = node.putArray("rejected");
            ObjectNode types = node.putObject("types");
            sidecar.types().forEach((type, status) -> {
                ObjectNode t = types.putObject(type);
                t.put("sent", status.sentVersion());
                t.put("acked", status.ackedVersion());
                if (status.nackedVersion() != null) {
                    t.put("nacked", status.nackedVersion());
                    t.put("nackMessage", status.nackMessage());
                    t.put("nacks", status.nacks());
                    rejected.addObject()
                            .put("type", type)
                            .put("version", status.nackedVersion())
                            .put("message", status.nackMessage())
                            .put("count", status.nacks());
                }
            });
        }
        return list;
    }

    private JsonNode problems() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode source = root.putArray("source");
        controlPlane.sourceProblems().forEach(source::add);
        ArrayNode policies = root.putArray("policies");
        for (PolicyProblem problem : controlPlane.policyProblems()) {
            ObjectNode p = policies.addObject();
            p.put("severity", problem.severity().name());
            p.put("resource", problem.resource().toString());
            p.put("field", problem.field());
            p.put("message", problem.message());
        }
        // Policies (or whole identities) left out because Envoy rejected the config built from them.
        ArrayNode rejected = root.putArray("rejectedByEnvoy");
        for (Quarantine quarantine : controlPlane.quarantined()) {
            rejected.addObject()
                    .put("severity", "ERROR")
                    .put("resource", quarantine.policy().toString())
                    .put("identity", quarantine.identity().toString())
                    .put("version", quarantine.version())
                    .put("type", quarantine.type())
                    .put("node", quarantine.nodeId())
                    .put("envoyMessage", quarantine.envoyMessage())
                    .put("fix", quarantine.fix());
        }
        for (Lockdown lockdown : controlPlane.lockdowns()) {
            rejected.addObject()
                    .put("severity", "ERROR")
                    .putNull("resource")
                    .put("identity", lockdown.identity().toString())
                    .put("version", lockdown.version())
                    .put("type", lockdown.type())
                    .put("node", lockdown.nodeId())
                    .put("envoyMessage", lockdown.envoyMessage())
                    .put("fix", lockdown.fix());
        }
        return root;
    }

    private void xds(HttpExchange exchange) throws IOException {
        String rest = exchange.getRequestURI().getPath().substring("/debug/xds/".length());
        ServiceAccountRef identity;
        try {
            identity = ServiceAccountRef.parse(rest);
        } catch (IllegalArgumentException e) {
            respond(exchange, 400, "text/plain", e.getMessage() + "\n");
            return;
        }
        boolean connected = controlPlane.served(identity).isPresent();
        EgressControlPlane.Served current = controlPlane.current(identity);
        ObjectNode root = JSON.createObjectNode();
        root.put("identity", identity.toString());
        // false: no sidecar of this identity has connected; this is what one would get.
        root.put("served", connected);
        // The same rendering as 'portcullis translate': version, listeners, routes, clusters.
        root.setAll(TranslationReport.xds(current.resources()));
        root.set("model", TranslationReport.model(current.model()));
        json(exchange, root);
    }

    /**
     * The verdict on one request, from the model the identity is served (or would be, if none of its sidecars
     * has connected): the same evaluation as {@code portcullis explain} offline, on the control plane's
     * snapshot, so quarantined policies and lock-downs count.
     */
    private void explain(HttpExchange exchange) throws IOException {
        Map<String, List<String>> query = query(exchange.getRequestURI().getRawQuery());
        ObjectNode answer;
        try {
            ServiceAccountRef identity = ServiceAccountRef.parse(single(query, "from", true));
            EgressRequest request = EgressRequest.parse(
                    single(query, "target", true),
                    single(query, "method", false),
                    query.getOrDefault("header", List.of()),
                    single(query, "sni", false),
                    single(query, "ip", false));
            boolean connected = controlPlane.served(identity).isPresent();
            answer = ExplanationReport.toJson(
                    new EgressExplainer().explain(controlPlane.current(identity).model(), request));
            // false: no sidecar of this identity has connected; the verdict is what one would get.
            answer.put("served", connected);
        } catch (IllegalArgumentException e) {
            respond(exchange, 400, "text/plain", e.getMessage() + "\n");
            return;
        }
        json(exchange, answer);
    }

    private static Map<String, List<String>> query(String rawQuery) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return out;
        }
        for (String pair : rawQuery.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
        }
        return out;
    }

    private static String single(Map<String, List<String>> query, String name, boolean required) {
        List<String> values = query.getOrDefault(name, List.of());
        if (values.size() > 1) {
            throw new IllegalArgumentException("give " + name + " once");
        }
        if (values.isEmpty()) {
            if (required) {
                throw new IllegalArgumentException("missing " + name
                        + "; /debug/explain?from=<namespace>/<serviceAccount>&target=<url or host:port>");
            }
            return null;
        }
        return values.get(0);
    }

    private static void json(HttpExchange exchange, JsonNode body) throws IOException {
        respond(exchange, 200, "application/json", JSON.writeValueAsString(body) + "\n");
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType + "; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
