package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code portcullis serve} wires its metrics: a scrape of the debug endpoint's {@code /metrics} with the
 * debug token shows the directory source's events and the problems of what it read.
 */
class ServeMetricsTest {

    private static final Pattern DEBUG_URL =
            Pattern.compile("debug endpoint listening on (http://\\S+)/debug/sidecars");
    private static final String TOKEN = "scrape-me";

    @TempDir
    Path tmp;

    @Test
    void aScrapeWithTheDebugTokenShowsTheConfigSourceEventsAndPolicyProblems() throws Exception {
        Path config = Files.createDirectories(tmp.resolve("config"));
        // An Egress naming an HTTPRouteGroup that does not exist: one error of cause route_group_not_found.
        Files.writeString(config.resolve("httpbin.yaml"), """
                apiVersion: policy.flomesh.io/v1alpha1
                kind: Egress
                metadata: {name: httpbin-80, namespace: curl}
                spec:
                  sources: [{kind: ServiceAccount, name: curl, namespace: curl}]
                  hosts: [httpbin.org]
                  ports: [{number: 80, protocol: http}]
                  matches: [{apiGroup: specs.smi-spec.io/v1alpha4, kind: HTTPRouteGroup, name: missing}]
                """);
        Path token = Files.writeString(tmp.resolve("token"), TOKEN + "\n");
        Path log = tmp.resolve("serve.log");
        Process serve = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        PortcullisCommand.class.getName(),
                        "serve",
                        "--config-dir",
                        config.toString(),
                        "--ca-dir",
                        tmp.resolve("ca").toString(),
                        "--xds-address",
                        "127.0.0.1",
                        "--xds-port",
                        "0",
                        "--debug-port",
                        "0",
                        "--debug-token-file",
                        token.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        try {
            String url = await("serve logs its debug endpoint")
                    .atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(200))
                    .until(
                            () -> {
                                assertThat(serve.isAlive())
                                        .as("serve is running: %s", Files.readString(log))
                                        .isTrue();
                                Matcher m = DEBUG_URL.matcher(Files.readString(log));
                                return m.find() ? m.group(1) : null;
                            },
                            found -> found != null);

            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> anonymous = client.send(
                    HttpRequest.newBuilder(URI.create(url + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).isEqualTo(401);

            HttpResponse<String> scrape = client.send(
                    HttpRequest.newBuilder(URI.create(url + "/metrics"))
                            .header("Authorization", "Bearer " + TOKEN)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.body())
                    .contains("portcullis_config_source_events_total{event=\"update_applied\",source=\"directory\"} 1")
                    .contains("portcullis_config_source_events_total{event=\"file_read\",source=\"directory\"} 2")
                    .contains("portcullis_policy_problems{cause=\"route_group_not_found\",severity=\"error\"} 1")
                    .contains("portcullis_sidecars_connected 0");
        } finally {
            serve.destroy();
            serve.waitFor();
        }
    }
}
