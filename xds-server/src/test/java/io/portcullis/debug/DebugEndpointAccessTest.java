package io.portcullis.debug;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.portcullis.identity.CertificateAuthority;
import io.portcullis.identity.IssuedCertificate;
import io.portcullis.identity.JdkServerTls;
import io.portcullis.identity.SpiffeId;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.source.SourceUpdate;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.SidecarRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The debug endpoint shows every identity's config: who may read it, on which addresses. */
class DebugEndpointAccessTest {

    private static final SpiffeId OPERATOR = new SpiffeId("cluster.local", "fsm-system", "portcullis-operator");

    private EgressControlPlane controlPlane;
    private SidecarRegistry registry;
    private DebugEndpoint endpoint;

    @BeforeEach
    void controlPlane() {
        controlPlane = new EgressControlPlane();
        controlPlane.apply(new SourceUpdate(ResourceSnapshot.EMPTY, List.of()));
        registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        if (endpoint != null) {
            endpoint.close();
        }
    }

    @Test
    void withoutAuthenticationItRefusesToListenBeyondLoopback() {
        assertThatThrownBy(() -> new DebugEndpoint(new InetSocketAddress("0.0.0.0", 0), controlPlane, registry))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("may listen on 0.0.0.0 only with authentication")
                .hasMessageContaining("--debug-token-file")
                .hasMessageContaining("--debug-client-identity");
    }

    @Test
    void withoutAuthenticationItAnswersOnLoopback() throws Exception {
        endpoint = new DebugEndpoint(new InetSocketAddress("127.0.0.1", 0), controlPlane, registry);
        endpoint.start();

        assertThat(get(HttpClient.newHttpClient(), "http", null).statusCode()).isEqualTo(200);
    }

    @Test
    void theUrlItLogsAtStartIsWellFormedAndAnswers() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger logger = (Logger) LoggerFactory.getLogger(DebugEndpoint.class);
        logger.addAppender(log);
        try {
            endpoint = new DebugEndpoint(new InetSocketAddress("127.0.0.1", 0), controlPlane, registry);
            endpoint.start();
        } finally {
            logger.detachAppender(log);
        }

        String line = log.list.stream()
                .map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.startsWith("debug endpoint listening on "))
                .findFirst()
                .orElseThrow();
        String url = line.substring("debug endpoint listening on ".length()).split(" ", -1)[0];
        assertThat(url).isEqualTo("http://127.0.0.1:" + endpoint.address().getPort() + "/debug/sidecars");
        assertThat(HttpClient.newHttpClient()
                        .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void withABearerTokenOnlyRequestsCarryingItAreAnsweredOnAnyAddress() throws Exception {
        endpoint = new DebugEndpoint(
                new InetSocketAddress("0.0.0.0", 0),
                controlPlane,
                registry,
                new DebugAccess(Optional.of("s3cret-token"), Optional.empty(), Set.of()));
        endpoint.start();
        HttpClient client = HttpClient.newHttpClient();

        assertThat(get(client, "http", null).statusCode()).isEqualTo(401);
        assertThat(get(client, "http", "Bearer wrong").statusCode()).isEqualTo(401);
        HttpResponse<String> ok = get(client, "http", "Bearer s3cret-token");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).startsWith("[");
    }

    @Test
    void withMutualTlsOnlyAnAllowedCertificateFromTheCaIsAnswered() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
        endpoint = new DebugEndpoint(
                new InetSocketAddress("0.0.0.0", 0),
                controlPlane,
                registry,
                new DebugAccess(
                        Optional.empty(),
                        Optional.of(JdkServerTls.serverContext(
                                ca, List.of("127.0.0.1"), Duration.ofHours(1), Clock.systemUTC())),
                        Set.of(OPERATOR)));
        endpoint.start();

        HttpClient operator = client(ca, ca.issueWorkload(OPERATOR, Duration.ofHours(1)));
        assertThat(get(operator, "https", null).statusCode()).isEqualTo(200);

        HttpClient sidecar =
                client(ca, ca.issueWorkload(new SpiffeId("cluster.local", "curl", "curl"), Duration.ofHours(1)));
        assertThat(get(sidecar, "https", null).statusCode())
                .as("a sidecar's certificate is not an operator's")
                .isEqualTo(403);

        CertificateAuthority foreign = CertificateAuthority.generate(Clock.systemUTC());
        HttpClient stranger = client(ca, foreign.issueWorkload(OPERATOR, Duration.ofHours(1)));
        assertThatThrownBy(() -> get(stranger, "https", null)).isInstanceOf(IOException.class);

        HttpClient anonymous = client(ca, null);
        assertThatThrownBy(() -> get(anonymous, "https", null)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> get(HttpClient.newHttpClient(), "http", null))
                .as("no plaintext either")
                .isInstanceOf(IOException.class);
    }

    private HttpResponse<String> get(HttpClient client, String scheme, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(scheme + "://127.0.0.1:" + endpoint.address().getPort() + "/debug/sidecars"))
                .timeout(Duration.ofSeconds(5));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpClient client(CertificateAuthority trusted, IssuedCertificate cert) throws Exception {
        char[] password = "x".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        if (cert != null) {
            keys.setKeyEntry("me", cert.privateKey(), password, new Certificate[] {cert.certificate()});
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", trusted.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return HttpClient.newBuilder()
                .sslContext(context)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }
}
