package io.portcullis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Reads JSON from a running control plane's debug endpoint ({@code serve --debug-port}), authenticated as {@code
 * explain --server} is: the bearer token of {@code serve --debug-token-file}, if any. Every failure is an {@link
 * IOException} whose message names the URL and what to check, so a command prints it as its one error line.
 *
 * <p>{@link HttpURLConnection} rather than {@code java.net.http.HttpClient}: building an HttpClient sets up TLS
 * (the default SSLContext and the JDK's trust store) even for an {@code http://} URL, about a thousand classes and
 * most of a short command's start-up.
 */
final class DebugEndpointClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private final String base;
    private final String token;

    /** @param tokenFile the bearer token's file, or null when the endpoint needs none */
    DebugEndpointClient(URI server, Path tokenFile) throws IOException {
        this.base = server.toString().replaceAll("/+$", "");
        this.token = tokenFile == null ? null : Files.readString(tokenFile).strip();
    }

    /** @param path from the endpoint's root, already URL-encoded, e.g. {@code /debug/problems} */
    JsonNode get(String path) throws IOException {
        String url = base + path;
        HttpURLConnection connection;
        try {
            connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new IOException(url + ": not an http:// or https:// URL", e);
        }
        connection.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
        connection.setReadTimeout((int) READ_TIMEOUT.toMillis());
        connection.setInstanceFollowRedirects(false);
        if (token != null) {
            connection.setRequestProperty("Authorization", "Bearer " + token);
        }
        int status;
        String body;
        try {
            status = connection.getResponseCode();
            try (InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream()) {
                body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (ConnectException | SocketTimeoutException e) {
            throw new IOException(
                    url + ": no control plane answers there (" + e.getClass().getSimpleName()
                            + "); is 'portcullis serve' running with this --debug-port, and --debug-address reachable"
                            + " from here?",
                    e);
        } catch (IOException e) {
            throw new IOException(url + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()), e);
        } finally {
            connection.disconnect();
        }
        if (status != 200) {
            throw new IOException(url + " answered " + status
                    + (status == 401 ? " (give the bearer token with --token-file)" : "") + ": " + body.strip());
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new IOException(url + " did not answer JSON; is it a Portcullis debug endpoint?", e);
        }
    }
}
