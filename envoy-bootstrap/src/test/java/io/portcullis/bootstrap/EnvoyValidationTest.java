package io.portcullis.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Feeds generated bootstraps to the real Envoy ({@code envoy --mode validate}), which parses the
 * config and builds every static object without opening connections. If Envoy is missing the test
 * fails (see {@link ExternalTools#envoy()}) instead of skipping.
 */
@NeedsEnvoy
class EnvoyValidationTest {

    private static final SidecarNodeId NODE = new SidecarNodeId("shop", "cart", "cart-7d9f8c-x2k4q");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} via {1}, admin {2}")
    @CsvSource({
        "10.96.0.10,                         yaml, 127.0.0.1",
        "portcullis.portcullis-system.svc.,  yaml, 127.0.0.1",
        "fd00::10,                           json, ::1",
        "portcullis,                         json, 127.0.0.1",
    })
    void envoyAcceptsTheGeneratedBootstrap(String xdsHost, String format, String admin) throws IOException {
        SidecarBootstrap sb = new SidecarBootstrap(NODE, xdsHost, 18000, 15000, admin);
        String text = format.equals("yaml") ? sb.toYaml() : sb.toJson();

        ExternalTools.Result result = validate(write("bootstrap." + format, text));

        assertThat(result.exitCode())
                .as("envoy --mode validate output:%n%s", result.output())
                .isZero();
        assertThat(result.output()).contains("configuration").contains("OK");
    }

    /** Several control planes: IP literals (STATIC), and host names mixed with IPs (STRICT_DNS). */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "10.96.0.10:15010 10.96.0.11:15010 [fd00::12]:15011",
        "portcullis-a.portcullis-system.svc:15010 portcullis-b.portcullis-system.svc:15010 10.96.0.12:15010",
    })
    void envoyAcceptsABootstrapListingSeveralControlPlanes(String endpoints) throws IOException {
        List<XdsEndpoint> xds = java.util.Arrays.stream(endpoints.split(" "))
                .map(e -> XdsEndpoint.parse(e, 15010))
                .toList();

        ExternalTools.Result result =
                validate(write("bootstrap.yaml", SidecarBootstrap.of(NODE, xds).toYaml()));

        assertThat(result.exitCode())
                .as("envoy --mode validate output:%n%s", result.output())
                .isZero();
        assertThat(result.output()).contains("configuration").contains("OK");
    }

    /** Negative control for the back-off: Envoy checks it, so the check above would catch a bad one. */
    @Test
    void envoyRejectsAnAdsBackOffWhoseMaximumIsBelowItsBase() throws IOException {
        String yaml = SidecarBootstrap.of(NODE, "10.96.0.10", 18000).toYaml();
        assertThat(yaml).contains("max_interval: \"1s\"");

        ExternalTools.Result result =
                validate(write("backoff.yaml", yaml.replace("max_interval: \"1s\"", "max_interval: \"0.1s\"")));

        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isNotZero();
        assertThat(result.output()).contains("max_interval must be greater than or equal to the base_interval");
    }

    /**
     * The checked-in golden bootstraps are what reviewers read, so they must be valid too. Envoy
     * insists the SDS files exist, so the mTLS ones are pointed at a directory holding a real set.
     */
    @Test
    void envoyAcceptsTheGoldenFiles() throws IOException {
        CertificateDirectory certs = publishedCertificates();
        for (Path golden : GoldenFilesTest.goldenBootstraps()) {
            assertThat(golden)
                    .as("run GoldenFilesTest with -Dportcullis.updateGolden=true")
                    .exists();
            String text = Files.readString(golden)
                    .replace(GoldenFilesTest.CERTS.dir().toString(), certs.dir().toString());
            ExternalTools.Result result = validate(write("golden-" + golden.getFileName(), text));
            assertThat(result.exitCode()).as("%s:%n%s", golden, result.output()).isZero();
        }
    }

    @ParameterizedTest(name = "xDS server {0}")
    @CsvSource({"10.96.0.10", "portcullis.portcullis-system.svc."})
    void envoyAcceptsMutualTlsToXdsWithCertificatesFromSdsFiles(String xdsHost) throws IOException {
        CertificateDirectory certs = publishedCertificates();
        String yaml = SidecarBootstrap.of(NODE, xdsHost, 18000)
                .withXdsCertificates(certs)
                .toYaml();

        ExternalTools.Result result = validate(write("mtls.yaml", yaml));

        assertThat(result.exitCode())
                .as("envoy --mode validate output:%n%s", result.output())
                .isZero();
    }

    /** Negative control: Envoy really reads the SDS paths, so a sidecar started before its certificates fails loudly. */
    @Test
    void envoyRejectsAMutualTlsBootstrapWhoseCertificatesAreNotThere() throws IOException {
        CertificateDirectory empty = new CertificateDirectory(Files.createDirectory(dir.resolve("no-certs")));
        String yaml = SidecarBootstrap.of(NODE, "10.96.0.10", 18000)
                .withXdsCertificates(empty)
                .toYaml();

        ExternalTools.Result result = validate(write("mtls-missing.yaml", yaml));

        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isNotZero();
        assertThat(result.output())
                .contains(CertificateDirectory.TLS_CERTIFICATE_SDS)
                .contains("does not exist");
    }

    /** A real key and self-signed certificate from openssl, published the way portcullis does. */
    private CertificateDirectory publishedCertificates() throws IOException {
        Path work = Files.createTempDirectory(dir, "openssl");
        ExternalTools.Result made = ExternalTools.run(List.of(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/O=portcullis-test",
                "-days",
                "1",
                "-keyout",
                work.resolve("key.pem").toString(),
                "-out",
                work.resolve("cert.pem").toString()));
        assertThat(made.exitCode())
                .as("openssl (run scripts/install-deps):%n%s", made.output())
                .isZero();
        String cert = Files.readString(work.resolve("cert.pem"));
        CertificateDirectory certs =
                new CertificateDirectory(dir.resolve("certs").toAbsolutePath());
        certs.publish(cert, Files.readString(work.resolve("key.pem")), cert, java.util.OptionalInt.empty());
        return certs;
    }

    /** Negative control: proves the check above can fail, i.e. Envoy really cross-checks the config. */
    @Test
    void envoyRejectsAnAdsConfigPointingAtAMissingCluster() throws IOException {
        Bootstrap good = SidecarBootstrap.of(NODE, "10.96.0.10", 18000).toProto();
        Bootstrap broken = good.toBuilder()
                .setDynamicResources(good.getDynamicResources().toBuilder()
                        .setAdsConfig(good.getDynamicResources().getAdsConfig().toBuilder()
                                .setGrpcServices(
                                        0,
                                        GrpcService.newBuilder()
                                                .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                                                        .setClusterName("no_such_cluster")))))
                .build();
        String json =
                JsonFormat.printer().usingTypeRegistry(SidecarBootstrap.TYPES).print(broken);

        ExternalTools.Result result = validate(write("broken.json", json));

        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isNotZero();
        assertThat(result.output()).contains("no_such_cluster");
    }

    /** Negative control for the text form: an unknown field must be rejected, not ignored. */
    @Test
    void envoyRejectsAnUnknownField() throws IOException {
        String yaml = SidecarBootstrap.of(NODE, "10.96.0.10", 18000)
                .toYaml()
                .replace("transport_api_version:", "transport_api_versio:");

        ExternalTools.Result result = validate(write("typo.yaml", yaml));

        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isNotZero();
        assertThat(result.output()).contains("transport_api_versio");
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static ExternalTools.Result validate(Path config) {
        return ExternalTools.run(List.of(
                ExternalTools.envoy().toString(),
                "--mode",
                "validate",
                "--log-level",
                "warn",
                "-c",
                config.toString()));
    }
}
