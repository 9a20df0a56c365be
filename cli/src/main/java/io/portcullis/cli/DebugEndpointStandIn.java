package io.portcullis.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.portcullis.cli.CacheTrainingRun.Step;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A control plane's debug endpoint as {@code translate --server} sees it, with canned
 * answers of the real shapes: what the {@code client} training run ({@link CacheTrainingRun}) asks, so that its
 * start-up cache holds the HTTP client and the report writing those commands use, without a real control plane's
 * classes in the training JVM (a JDK 25 cache would load them at every start of those commands).
 */
final class DebugEndpointStandIn implements AutoCloseable {

    private static final String PROBLEMS = """
            {"policies": [{"severity": "ERROR", "resource": "Egress curl/broken", "field": "spec.matches[0]",
              "message": "HTTPRouteGroup curl/none does not exist: create it or remove the match"}],
             "source": [], "rejectedByEnvoy": []}
            """;

    private static final String XDS = """
            {"version": "training", "model": {"identity": "curl/curl", "ports": [{"port": 80, "protocol": "http",
              "hosts": [{"host": "httpbin.org", "policies": ["Egress curl/httpbin-80"]}]}]},
             "listeners": [{"name": "outbound", "address": {"socketAddress": {"address": "0.0.0.0", "portValue": 15001}},
               "filterChains": [{"name": "80", "filterChainMatch": {"destinationPort": 80}}]}],
             "routes": [{"name": "80", "virtualHosts": [{"name": "httpbin.org", "domains": ["httpbin.org"],
               "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "dynamic_forward_proxy"}}]}]}],
             "clusters": [{"name": "dynamic_forward_proxy", "connectTimeout": "5s"}]}
            """;

    private final HttpServer server;

    private DebugEndpointStandIn(HttpServer server) {
        this.server = server;
    }

    static DebugEndpointStandIn start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/debug/problems", exchange -> answer(exchange, PROBLEMS));
        server.createContext("/debug/xds/", exchange -> answer(exchange, XDS));
        server.start();
        return new DebugEndpointStandIn(server);
    }

    /**
     * The commands of the {@code client} training, against this stand-in: {@code translate --server} only. {@code
     * explain --server} still asks through {@code java.net.http.HttpClient}, whose TLS set-up (about a thousand
     * classes) would then be loaded by every {@code translate --server} too; it uses this cache all the same.
     */
    List<Step> steps() {
        String url = "http://" + server.getAddress().getHostString() + ":"
                + server.getAddress().getPort();
        return List.of(
                Step.of("translate", "--server", url, "--identity", "curl/curl"),
                Step.of("translate", "--server", url + "/", "--identity", "curl/curl", "--identity", "team-3/app-3"));
    }

    private static void answer(HttpExchange exchange, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
