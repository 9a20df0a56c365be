package io.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Reads JSON from a running control plane's debug endpoint ({@code serve --debug-port}), authenticated as {@code
 * explain --server} is: the bearer token of {@code serve --debug-token-file}, if any. Every failure is an {@link
 * IOException} whose message names the URL and what to check, so a command prints it as its one error line.
 */
final class DebugEndpointClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final String token;
    private final HttpClient http;

    /** @param tokenFile the bearer token's file, or null when the endpoint needs none */
    DebugEndpointClient(URI server, Path tokenFile) throws IOException {
        this.base = server.toString().replaceAll("/+$", "");
        this.token = tokenFile == null ? null : Files.readString(tokenFile).strip();
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** @param path from the endpoint's root, already URL-encoded, e.g. {@code /debug/problems} */
    JsonNode get(String path) throws IOException, InterruptedException {
        String url = base + path;
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            // HttpClient's ConnectException usually has no message at all: say what it means here.
            throw new IOException(
                    url + ": no control plane answers there (" + e.getClass().getSimpleName()
                            + "); is 'portcullis serve' running with this --debug-port, and --debug-address reachable"
                            + " from here?",
                    e);
        } catch (IOException e) {
            throw new IOException(url + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()), e);
        }
        if (response.statusCode() != 200) {
            throw new IOException(url + " answered " + response.statusCode()
                    + (response.statusCode() == 401 ? " (give the bearer token with --token-file)" : "") + ": "
                    + response.body().strip());
        }
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IOException(url + " did not answer JSON; is it a Portcullis debug endpoint?", e);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
