package io.portcullis.kubernetes.admission;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one HTTPS server the API server calls for admission: {@code POST <path>} with an
 * {@code admission.k8s.io/v1} AdmissionReview, answered by the {@link AdmissionHandler} registered for
 * that path. The server, not the handler, copies the request's uid into the response and sets
 * apiVersion and kind, since the API server discards an answer whose uid does not match.
 *
 * <p>Answers that are not a review: 400 for a body that is not an AdmissionReview v1 with a request and
 * a uid, 404 for a path with no handler, 405 for anything but POST, 413 for a body larger than any
 * review can be, 500 when a handler fails (the API server then applies the webhook's failurePolicy).
 *
 * <p>TLS 1.2 and 1.3 only; no client certificate is asked for (the API server presents none unless it
 * is configured to, and the webhook decides nothing on who calls it: it only says whether an object is
 * valid).
 */
public final class AdmissionServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdmissionServer.class);
    public static final String REVIEW_API_VERSION = "admission.k8s.io/v1";
    public static final String REVIEW_KIND = "AdmissionReview";
    /**
     * The API server refuses objects over 1.5 MiB in etcd; an UPDATE review carries the object twice.
     * Anything much larger is not a review.
     */
    static final int MAX_BODY_BYTES = 8 * 1024 * 1024;

    private final HttpsServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, AdmissionHandler> handlers;
    private final KubernetesSerialization json = new KubernetesSerialization();

    /**
     * @param handlers by path, e.g. {@code /validate}; each path is matched exactly
     */
    public AdmissionServer(InetSocketAddress address, SSLContext tls, Map<String, AdmissionHandler> handlers)
            throws IOException {
        this.handlers = new TreeMap<>(handlers);
        this.server = HttpsServer.create(address, 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters ssl = getSSLContext().getDefaultSSLParameters();
                ssl.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
                params.setSSLParameters(ssl);
            }
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    public void start() {
        server.start();
        LOG.info(
                "admission webhooks listening on https://{}:{} {}",
                address().getAddress().getHostAddress(),
                address().getPort(),
                handlers.keySet());
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            AdmissionHandler handler = handlers.get(path);
            if (handler == null) {
                text(exchange, 404, "no admission webhook at " + path + "; the webhooks are " + handlers.keySet());
                return;
            }
            if (!"POST".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "POST");
                text(exchange, 405, "an admission webhook takes POST with an AdmissionReview");
                return;
            }
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readNBytes(MAX_BODY_BYTES + 1);
            }
            if (body.length > MAX_BODY_BYTES) {
                text(exchange, 413, "larger than " + MAX_BODY_BYTES + " bytes; no AdmissionReview is that large");
                return;
            }
            AdmissionRequest request;
            try {
                request = request(body);
            } catch (RuntimeException e) {
                LOG.warn(
                        "{} {}: refused a malformed AdmissionReview: {}",
                        path,
                        exchange.getRemoteAddress(),
                        e.getMessage());
                text(exchange, 400, "not an " + REVIEW_API_VERSION + " " + REVIEW_KIND + ": " + e.getMessage());
                return;
            }
            AdmissionResponse response;
            try {
                response = handler.review(request);
            } catch (RuntimeException e) {
                LOG.error("{}: the webhook failed on request {}", path, request.getUid(), e);
                text(exchange, 500, "the webhook failed: " + e);
                return;
            }
            response.setUid(request.getUid());
            AdmissionReview review = new AdmissionReview();
            review.setApiVersion(REVIEW_API_VERSION);
            review.setKind(REVIEW_KIND);
            review.setResponse(response);
            respond(exchange, 200, "application/json", json.asJson(review));
        }
    }

    /** @throws RuntimeException with the reason when the body is not a review this server answers */
    private AdmissionRequest request(byte[] body) {
        AdmissionReview review;
        try {
            review = json.unmarshal(new String(body, StandardCharsets.UTF_8), AdmissionReview.class);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not JSON of an AdmissionReview (" + firstLine(e) + ")", e);
        }
        if (review == null) {
            throw new IllegalArgumentException("empty body");
        }
        if (!REVIEW_API_VERSION.equals(review.getApiVersion()) || !REVIEW_KIND.equals(review.getKind())) {
            throw new IllegalArgumentException("apiVersion/kind is " + review.getApiVersion() + "/" + review.getKind()
                    + "; list only v1 in the webhook's admissionReviewVersions");
        }
        AdmissionRequest request = review.getRequest();
        if (request == null) {
            throw new IllegalArgumentException("no request");
        }
        if (request.getUid() == null || request.getUid().isBlank()) {
            throw new IllegalArgumentException("request.uid is missing");
        }
        return request;
    }

    private static String firstLine(RuntimeException e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        String message = String.valueOf(cause.getMessage());
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    private static void text(HttpExchange exchange, int status, String message) throws IOException {
        respond(exchange, status, "text/plain", message + "\n");
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
        executor.close();
    }
}
