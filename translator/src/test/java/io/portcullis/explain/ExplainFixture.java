package io.portcullis.explain;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.portcullis.crds.Egress;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.ManifestReader;
import io.portcullis.crds.ManifestSet;
import io.portcullis.crds.MeshConfig;
import io.portcullis.crds.Namespaces;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.translator.EgressTranslator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/** Manifests to the model and Envoy resources of one identity, as the control plane builds them. */
record ExplainFixture(SidecarEgressModel model, SidecarResources resources) {

    static ExplainFixture of(String manifests, String identity) {
        return of(manifests, identity, java.util.Set.of());
    }

    /** With {@code auditedNamespaces} annotated {@code portcullis.io/egress-mode: audit}. */
    static ExplainFixture of(String manifests, String identity, java.util.Set<String> auditedNamespaces) {
        ManifestSet set = new ManifestReader().read(manifests, "test");
        assertThat(set.problems()).as("test manifests").isEmpty();
        set.resources().forEach(r -> Namespaces.fillIn(r, MeshConfig.DEFAULT_NAMESPACE));
        List<MeshConfig> mesh = set.resourcesOf(MeshConfig.class);
        ResourceSnapshot snapshot = ResourceSnapshot.of(
                        mesh.isEmpty() ? null : mesh.get(0),
                        set.resourcesOf(Egress.class),
                        set.resourcesOf(HTTPRouteGroup.class))
                .withAuditedNamespaces(auditedNamespaces);
        EgressTranslator translator = new EgressTranslator();
        var policies = translator.validate(snapshot);
        assertThat(policies.problems()).as("test manifests are valid").isEmpty();
        SidecarEgressModel model = translator.model(policies, ServiceAccountRef.parse(identity));
        return new ExplainFixture(model, translator.resources(model));
    }

    static String resource(String name) {
        try (InputStream in = ExplainFixture.class.getResourceAsStream("/explain/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Explanation explain(String target, String... options) {
        String method = null;
        String sni = null;
        String ip = null;
        List<String> headers = new java.util.ArrayList<>();
        for (int i = 0; i < options.length; i += 2) {
            switch (options[i]) {
                case "--method" -> method = options[i + 1];
                case "--sni" -> sni = options[i + 1];
                case "--ip" -> ip = options[i + 1];
                case "--header" -> headers.add(options[i + 1]);
                default -> throw new IllegalArgumentException(options[i]);
            }
        }
        Explanation explanation =
                new EgressExplainer().explain(model, EgressRequest.parse(target, method, headers, sni, ip));
        assertNamesAreInEnvoyConfig(explanation);
        return explanation;
    }

    /**
     * The chain and route an explanation names are ones the sidecar really has: explain names what Envoy
     * runs, not a guess.
     */
    void assertNamesAreInEnvoyConfig(Explanation explanation) {
        String chain;
        Optional<String> route;
        switch (explanation) {
            case Explanation.Allowed allowed -> {
                chain = allowed.chain();
                route = allowed.route();
            }
            case Explanation.Denied denied -> {
                chain = denied.chain();
                route = denied.route();
            }
            case Explanation.WouldDeny wouldDeny -> {
                chain = wouldDeny.chain();
                route = wouldDeny.route();
            }
            case Explanation.AddressNeeded needed -> {
                return;
            }
        }
        if (chain.startsWith("none")) {
            return;
        }
        Listener listener = resources.listeners().get(0);
        List<String> chains = new java.util.ArrayList<>(listener.getFilterChainsList().stream()
                .map(FilterChain::getName)
                .toList());
        chains.add(listener.getDefaultFilterChain().getName());
        assertThat(chains).as("filter chains of the sidecar's listener").contains(chain);
        route.ifPresent(name -> {
            int port = explanation.request().port();
            List<String> routes = resources.routes().stream()
                    .filter(r -> r.getName().equals("egress_http_" + port))
                    .map(RouteConfiguration::getVirtualHostsList)
                    .flatMap(List::stream)
                    .map(VirtualHost::getRoutesList)
                    .flatMap(List::stream)
                    .map(Route::getName)
                    .toList();
            assertThat(routes).as("routes of egress_http_%s", port).contains(name);
        });
    }
}
