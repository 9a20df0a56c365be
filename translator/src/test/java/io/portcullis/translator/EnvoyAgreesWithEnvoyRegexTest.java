package io.portcullis.translator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.bootstrap.v3.LayeredRuntime;
import io.envoyproxy.envoy.config.bootstrap.v3.RuntimeLayer;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.portcullis.bootstrap.SidecarBootstrap;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.envoy.EnvoyTypes;
import io.portcullis.validation.EnvoyRegex;
import io.portcullis.validation.Re2PatternGrammar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The final authority on EnvoyRegex is Envoy itself ({@code envoy --mode validate}) under the sidecars'
 * runtime: every regex of a seeded random sample that EnvoyRegex accepts is loaded as a route's
 * safe_regex, all in one bootstrap, and Envoy must accept them all. EnvoyRegexOracleTest checks many
 * more patterns against google-re2; this proves that oracle speaks for Envoy.
 */
@NeedsEnvoy
class EnvoyAgreesWithEnvoyRegexTest {

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().usingTypeRegistry(EnvoyTypes.REGISTRY);

    @TempDir
    Path dir;

    @Test
    void envoyAcceptsEveryRegexOfARandomSampleThatEnvoyRegexAccepts() throws IOException {
        List<String> accepted = new ArrayList<>();
        for (long seed = 1; accepted.size() < 1000 && seed < 20_000; seed++) {
            String pattern = Re2PatternGrammar.pattern(seed);
            if (EnvoyRegex.check(pattern) instanceof EnvoyRegex.Accepted) {
                accepted.add(pattern);
            }
        }
        assertThat(accepted).hasSize(1000);

        EnvoyProcess.Result result = EnvoyProcess.validate(write(
                accepted,
                LayeredRuntime.newBuilder()
                        .addLayers(SidecarBootstrap.contractLayer())
                        .build()));

        assertThat(result.exitCode())
                .as("envoy --mode validate refused a regex EnvoyRegex accepts:%n%s", result.output())
                .isZero();
    }

    /**
     * Envoy's own count of the program size is within our bound: each sampled regex with a sizeable
     * program is loaded with Envoy's limit set to exactly our bound, so one instruction more would be refused.
     */
    @Test
    void envoysProgramSizeOfEachSampledRegexIsWithinOurBound() throws IOException {
        int checked = 0;
        for (long seed = 1; checked < 25 && seed < 20_000; seed++) {
            String pattern = Re2PatternGrammar.pattern(seed);
            if (EnvoyRegex.check(pattern) instanceof EnvoyRegex.Accepted accepted
                    && accepted.programSizeBound() >= 40) {
                EnvoyProcess.Result result =
                        EnvoyProcess.validate(write(List.of(pattern), runtime(accepted.programSizeBound())));
                assertThat(result.exitCode())
                        .as(
                                "Envoy's program for '%s' is larger than our bound %d:%n%s",
                                pattern, accepted.programSizeBound(), result.output())
                        .isZero();
                checked++;
            }
        }
        assertThat(checked).isEqualTo(25);
    }

    /** Negative control of the test above: Envoy enforces a limit set this way. */
    @Test
    void envoyRefusesTheManifestPathWithTheLimitSetBelowItsSize() throws IOException {
        EnvoyProcess.Result result =
                EnvoyProcess.validate(write(List.of("/v2/[a-z0-9]+/manifests/[a-zA-Z0-9_.-]{1,128}"), runtime(660)));
        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isNotZero();
        assertThat(result.output()).contains("RE2 program size of 661 > max program size of 660");
    }

    private static LayeredRuntime runtime(int maxProgramSize) {
        return LayeredRuntime.newBuilder()
                .addLayers(RuntimeLayer.newBuilder()
                        .setName("limit")
                        .setStaticLayer(Struct.newBuilder()
                                .putFields(
                                        SidecarContract.REGEX_PROGRAM_SIZE_RUNTIME_KEY,
                                        Value.newBuilder()
                                                .setNumberValue(maxProgramSize)
                                                .build())))
                .build();
    }

    /** Negative controls: Envoy refuses these, so the test above can fail; the size one shows the limit is 1024. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "/v2/[a-z0-9]+/manifests/[a-zA-Z0-9_.-]{1,300} | max program size of 1024",
                "/\\x{100}                                    | invalid escape sequence",
                "/((a{10}){10}){11}                           | invalid repetition size",
            })
    void envoyAndEnvoyRegexBothRefuse(String regex, String envoySays) throws IOException {
        assertThat(EnvoyRegex.check(regex)).isInstanceOf(EnvoyRegex.Refused.class);

        EnvoyProcess.Result result = EnvoyProcess.validate(write(
                List.of(regex),
                LayeredRuntime.newBuilder()
                        .addLayers(SidecarBootstrap.contractLayer())
                        .build()));

        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isNotZero();
        assertThat(result.output()).contains(envoySays);
    }

    /** The largest realistic path of the contract's comment: over Envoy's default of 100, accepted under 1024. */
    @Test
    void envoyAcceptsTheManifestPathUnderTheSidecarRuntime() throws IOException {
        String regex = "/v2/[a-z0-9]+/manifests/[a-zA-Z0-9_.-]{1,128}";
        assertThat(EnvoyRegex.check(regex)).isInstanceOf(EnvoyRegex.Accepted.class);

        EnvoyProcess.Result result = EnvoyProcess.validate(write(
                List.of(regex),
                LayeredRuntime.newBuilder()
                        .addLayers(SidecarBootstrap.contractLayer())
                        .build()));

        assertThat(result.exitCode()).as("envoy output:%n%s", result.output()).isZero();
    }

    private Path write(List<String> regexes, LayeredRuntime runtime) throws IOException {
        VirtualHost.Builder vhost = VirtualHost.newBuilder().setName("sample").addDomains("*");
        for (int i = 0; i < regexes.size(); i++) {
            vhost.addRoutes(Route.newBuilder()
                    .setName("r" + i)
                    .setMatch(RouteMatch.newBuilder()
                            .setSafeRegex(RegexMatcher.newBuilder().setRegex(regexes.get(i))))
                    .setDirectResponse(DirectResponseAction.newBuilder().setStatus(200)));
        }
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix("sample")
                .setRouteConfig(
                        RouteConfiguration.newBuilder().setName("sample").addVirtualHosts(vhost))
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName("envoy.filters.http.router")
                        .setTypedConfig(Any.pack(Router.getDefaultInstance())))
                .build();
        Listener listener = Listener.newBuilder()
                .setName("sample")
                .setAddress(Address.newBuilder()
                        .setSocketAddress(SocketAddress.newBuilder()
                                .setAddress("127.0.0.1")
                                .setPortValue(10000)))
                .addFilterChains(FilterChain.newBuilder()
                        .addFilters(Filter.newBuilder()
                                .setName("envoy.filters.network.http_connection_manager")
                                .setTypedConfig(Any.pack(hcm))))
                .build();
        Bootstrap bootstrap = Bootstrap.newBuilder()
                .setStaticResources(Bootstrap.StaticResources.newBuilder().addListeners(listener))
                .setLayeredRuntime(runtime)
                .build();
        try {
            return Files.writeString(dir.resolve("regexes.json"), PRINTER.print(bootstrap));
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("type missing from EnvoyTypes.REGISTRY: " + e.getMessage(), e);
        }
    }
}
