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
import io.portcullis.decisions.EgressDecision;
import io.portcullis.envoy.DecisionLog;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.explain.EgressExplainer;
import io.portcullis.explain.EgressRequest;
import io.portcullis.explain.ExplanationReport;
import io.portcullis.identity.SpiffeId;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.metrics.ControlPlaneMetrics;
import io.portcullis.translator.TranslationReport;
import io.portcullis.validation.PolicyProblem;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.Lockdown;
import io.portcullis.xds.Quarantine;
import io.portcullis.xds.SidecarRegistry;
import io.portcullis.xds.SidecarStatus;
import io.portcullis.xds.SidecarSync;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-only HTTP endpoint for operators: JSON, and the operator page for browsers:
 * <ul>
 *   <li>{@code /} the operator page: the same data as below, as one HTML page for people ({@link OperatorPage})</li>
 *   <li>{@code /debug/sidecars} connected sidecars: identity, pod, replica, versions sent, ACKed and NACKed per
 *       type, last seen, sync state ({@code ?staleAfter=PT30S} sets how long un-ACKed counts as pending)</li>
 *   <li>{@code /debug/xds/<namespace>/<serviceAccount>} the model and xDS resources served to an identity</li>
 *   <li>{@code /debug/explain?from=<namespace>/<serviceAccount>&target=<url or host:port>[&method=..][&header=name=value]...[&sni=..][&ip=..]}
 *       whether that identity's sidecar allows the request, from the model it is served ({@code portcullis explain --server})</li>
 *   <li>{@code /debug/problems} every invalid input: resource, field, why; and every policy left out because
 *       Envoy rejected the config built from it</li>
 *   <li>{@code /debug/decisions} the last egress decisions sidecars reported, newest first
 *       ({@code ?limit=N}, {@code ?refused=true} for denials and would-be denials only)</li>
 *   <li>{@code /metrics} the control plane's metrics in Prometheus text form ({@link ControlPlaneMetrics})</li>
 *   <li>{@code /healthz}</li>
 * </ul>
 * Unauthenticated it listens on loopback only; elsewhere it needs a bearer token and/or mutual TLS ({@link DebugAccess}),
 * /metrics included: a Prometheus scrape config sets {@code authorization: {credentials_file: ...}} (or
 * {@code tls_config} with a client certificate).
 */
public final class DebugEndpoint implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DebugEndpoint.class);
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).findAndRegisterModules();
    /** The replica name of a debug endpoint not given one (tests; serve always names its replica). */
    public static final String UNNAMED_REPLICA = "portcullis";

    /** How many recent denials the operator page shows. */
    private static final int DENIALS_SHOWN = 50;

    private final HttpServer server;
    private final DebugAccess access;
    private final EgressControlPlane controlPlane;
    /**
     * Platform threads, not virtual ones: a {@code BufferedWriter} made on a virtual thread (the Prometheus text
     * writer makes one per scrape) starts at 512 chars and grows by each write's length, copying its buffer at every
     * write up to 8 KiB. A 6 KiB scrape allocated 11 MB that way, garbage the collector paid for during the next
     * config change (three scrapes per change in the bench: most of the server's allocation). Cached: requests are
     * few and short, a scrape reuses the last one's thread, and an idle thread ends after a minute.
     */
    private final ExecutorService handlers = Executors.newCachedThreadPool(
            Thread.ofPlatform().name("portcullis-debug-", 1).daemon().factory());

    private final SidecarRegistry registry;
    private final String replica;
    private final Clock clock;

    /** Unauthenticated: loopback addresses only. */
    public DebugEndpoint(InetSocketAddress address, EgressControlPlane controlPlane, SidecarRegistry registry)
            throws IOException {
        this(address, controlPlane, registry, DebugAccess.loopbackOnly());
    }

    /** A control plane without a replica name of its own: {@link #UNNAMED_REPLICA}. */
    public DebugEndpoint(
            InetSocketAddress address, EgressControlPlane controlPlane, SidecarRegistry registry, DebugAccess access)
            throws IOException {
        this(address, controlPlane, registry, UNNAMED_REPLICA, access);
    }

    /**
     * @param replica   this control plane's name among its replicas ({@code serve --replica-name}), shown with
     *     every sidecar so that {@code proxy-status} across replicas says which one a sidecar is connected to
     * @throws IllegalArgumentException when {@code address} is not loopback and {@code access} authenticates nobody:
     *     the endpoint shows every identity's config
     */
    public DebugEndpoint(
            InetSocketAddress address,
            EgressControlPlane controlPlane,
            SidecarRegistry registry,
            String replica,
            DebugAccess access)
            throws IOException {
        if (!access.authenticates()
                && (address.getAddress() == null || !address.getAddress().isLoopbackAddress())) {
            throw new IllegalArgumentException(notLoopbackMessage(address.getHostString()));
        }
        this.controlPlane = controlPlane;
        this.registry = registry;
        this.replica = replica;
        // The registry's clock would do as well; the instants compared must come from one machine's clock.
        this.clock = Clock.systemUTC();
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
        server.setExecutor(handlers);
        context("/healthz", exchange -> respond(exchange, 200, "text/plain", "ok\n"));
        context("/debug/sidecars", this::sidecars);
        context("/debug/problems", exchange -> json(exchange, problems()));
        context("/debug/xds/", this::xds);
        context("/debug/decisions", this::decisions);
        context("/debug/explain", this::explain);
        context("/metrics", this::metrics);
        context("/", this::operatorPage);
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

    private void sidecars(HttpExchange exchange) throws IOException {
        Duration staleAfter = SidecarSync.DEFAULT_STALE_AFTER;
        String asked = query(exchange, "staleAfter");
        if (asked != null) {
            try {
                staleAfter = Duration.parse(asked);
            } catch (java.time.format.DateTimeParseException e) {
                respond(
                        exchange,
                        400,
                        "text/plain",
                        "staleAfter=" + asked + ": not an ISO-8601 duration such as PT30S\n");
                return;
            }
        }
        json(exchange, sidecars(staleAfter));
    }

    private ArrayNode sidecars(Duration staleAfter) {
        ArrayNode list = JSON.createArrayNode();
        Instant now = clock.instant();
        for (SidecarStatus sidecar : registry.sidecars()) {
            ObjectNode node = list.addObject();
            node.put("identity", sidecar.identity().toString());
            node.put("nodeId", sidecar.nodeId());
            node.put("pod", sidecar.podName());
            node.put("replica", replica);
            node.put("stream", sidecar.streamId());
            node.put("connectedAt", sidecar.connectedAt().toString());
            node.put("lastSeen", sidecar.lastSeen().toString());
            SidecarResources.Versions served = controlPlane
                    .served(sidecar.identity())
                    .map(s -> s.resources().versions())
                    .orElse(null);
            // The identity's config version, as proxy-status and logs name it; each xDS type has its own
            // version (servedTypeVersions, types.<type>), and only a type whose version changed is re-sent.
            node.put("servedVersion", served == null ? null : served.config());
            // Up to date: it runs each type of the identity's current config and rejected none of them.
            SidecarSync sync = SidecarSync.assess(sidecar, served, now, staleAfter);
            // The config version it runs: the served one once it holds every type of it; else unknown here
            // (its per-type versions are below).
            node.put("ackedVersion", served != null && sidecar.holds(served) ? served.config() : null);
            ObjectNode servedTypes = node.putObject("servedTypeVersions");
            if (served != null) {
                for (String type : List.of(
                        SidecarResources.Versions.LISTENER,
                        SidecarResources.Versions.CLUSTER,
                        SidecarResources.Versions.ROUTE_CONFIGURATION)) {
                    servedTypes.put(type, served.of(type).orElseThrow());
                }
            }
            node.put("upToDate", sync.upToDate());
            node.put("syncState", sync.state().name());
            node.put("syncDetail", sync.detail());
            // Its rejections: while it NACKs, Envoy runs what it last accepted, which upToDate tells apart.
            ArrayNode rejected = node.putArray("rejected");
            ObjectNode types = node.putObject("types");
            sidecar.types().forEach((type, status) -> {
                ObjectNode t = types.putObject(type);
                t.put("served", served == null ? null : served.of(type).orElse(null));
                t.put("sent", status.sentVersion());
                t.put("acked", status.ackedVersion());
                if (status.pendingSince() != null) {
                    t.put("pendingSince", status.pendingSince().toString());
                }
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

    private void operatorPage(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestURI().getPath().equals("/")) {
            respond(
                    exchange,
                    404,
                    "text/plain",
                    "unknown path; try /, /debug/sidecars, /debug/problems, /debug/decisions,"
                            + " /debug/xds/<namespace>/<serviceAccount>, /metrics,"
                            + " /debug/explain?from=<namespace>/<serviceAccount>&target=<url or host:port>\n");
            return;
        }
        List<OperatorPage.IdentityModel> identities = new ArrayList<>();
        Map<ServiceAccountRef, EgressControlPlane.Served> served = controlPlane.allServed();
        Set<ServiceAccountRef> named =
                new TreeSet<>(controlPlane.evaluation().validated().namedIdentities());
        named.addAll(served.keySet());
        for (ServiceAccountRef identity : named) {
            identities.add(new OperatorPage.IdentityModel(
                    identity,
                    served.containsKey(identity),
                    TranslationReport.model(controlPlane.current(identity).model())));
        }
        String html = new OperatorPage(replica, clock.instant())
                .render(
                        identities,
                        sidecars(SidecarSync.DEFAULT_STALE_AFTER),
                        problems(),
                        controlPlane.decisions().recentRefusals(DENIALS_SHOWN));
        exchange.getResponseHeaders().set("Content-Security-Policy", OperatorPage.CONTENT_SECURITY_POLICY);
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        respond(exchange, 200, "text/html", html);
    }

    /** A query parameter's decoded value, or null. */
    private static String query(HttpExchange exchange, String name) {
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw == null) {
            return null;
        }
        for (String pair : raw.split("&", -1)) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (key.equals(name)) {
                return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private ObjectNode problems() {
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

    private void metrics(HttpExchange exchange) throws IOException {
        ControlPlaneMetrics.Scrape scrape =
                controlPlane.metrics().scrape(exchange.getRequestHeaders().getFirst("Accept"));
        byte[] bytes = scrape.body().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", scrape.contentType());
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Newest first, in the decision log's field names (null where Envoy had nothing). */
    private void decisions(HttpExchange exchange) throws IOException {
        int limit = EgressControlPlane.DEFAULT_RECENT_DECISIONS;
        boolean refusedOnly = false;
        String query = exchange.getRequestURI().getQuery();
        if (query != null) {
            for (String parameter : query.split("&", -1)) {
                if (parameter.isEmpty()) {
                    continue;
                }
                String[] pair = parameter.split("=", 2);
                String value = pair.length == 2 ? pair[1] : "";
                switch (pair[0]) {
                    case "limit" -> {
                        try {
                            limit = Integer.parseInt(value);
                        } catch (NumberFormatException e) {
                            limit = -1;
                        }
                        if (limit < 1) {
                            respond(
                                    exchange,
                                    400,
                                    "text/plain",
                                    "limit must be a positive number, got '" + value + "'\n");
                            return;
                        }
                    }
                    case "refused" -> refusedOnly = value.isEmpty() || Boolean.parseBoolean(value);
                    default -> {
                        respond(
                                exchange,
                                400,
                                "text/plain",
                                "unknown parameter '" + pair[0] + "'; use limit, refused\n");
                        return;
                    }
                }
            }
        }
        var recent = refusedOnly
                ? controlPlane.decisions().recentRefusals(limit)
                : controlPlane.decisions().recent(limit);
        ArrayNode list = JSON.createArrayNode();
        for (EgressDecision decision : recent) {
            ObjectNode node = list.addObject();
            node.put(DecisionLog.TIME, decision.time().toString());
            node.put(DecisionLog.IDENTITY, decision.identity());
            node.put(DecisionLog.DESTINATION, decision.destination());
            node.put(DecisionLog.PROTOCOL, decision.protocol());
            node.put(DecisionLog.SNI, decision.sni());
            node.put(DecisionLog.HOST, decision.host());
            node.put(DecisionLog.METHOD, decision.method());
            node.put(DecisionLog.PATH, decision.path());
            node.put(DecisionLog.DECISION, decision.decision());
            node.put(DecisionLog.POLICY, decision.policy());
            node.put(DecisionLog.MATCH, decision.match());
            node.put(DecisionLog.REASON, decision.reason());
            node.put(DecisionLog.RESPONSE_CODE, decision.responseCode());
        }
        json(exchange, list);
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
        // The version each type is sent with (SidecarResources.Versions): "version" above is the config's.
        SidecarResources.Versions versions = current.resources().versions();
        root.putObject("typeVersions")
                .put(SidecarResources.Versions.LISTENER, versions.listeners())
                .put(SidecarResources.Versions.CLUSTER, versions.clusters())
                .put(SidecarResources.Versions.ROUTE_CONFIGURATION, versions.routes());
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
        handlers.shutdownNow();
    }
}
