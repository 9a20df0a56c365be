package io.portcullis.translator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.util.StringQuotingChecker;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.google.protobuf.Message;
import io.portcullis.envoy.EnvoyTypes;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.ir.HttpHostAccess;
import io.portcullis.ir.PortPlan;
import io.portcullis.ir.SidecarEgressModel;
import io.portcullis.ir.TcpAccess;
import io.portcullis.ir.TlsAccess;
import io.portcullis.validation.HttpRequestMatch;
import io.portcullis.validation.PolicyOrigin;
import io.portcullis.validation.PolicyProblem;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * A translation as YAML: problems, then per identity its model and its xDS resources (in the JSON
 * mapping Envoy's config dump uses). The golden files and {@code portcullis translate} print this.
 */
public final class TranslationReport {

    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .stringQuotingChecker(new QuoteWhatReadsBackAsNoString())
                    .build())
            .registerModule(new Jdk8Module())
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private TranslationReport() {}

    /**
     * Jackson's minimal quoting leaves {@code 0x10}, {@code 017} or {@code 1e5} plain, which a YAML 1.1
     * reader (SnakeYAML, PyYAML) reads back as numbers: a server name {@code 0x10} would come back as
     * 16, a version {@code 123e4567} as a float. So any string the YAML 1.1 implicit rules would
     * resolve to something else than a string (int, float, bool, null, timestamp...) is quoted too.
     */
    private static final class QuoteWhatReadsBackAsNoString extends StringQuotingChecker.Default {

        private static final Resolver YAML_1_1 = new Resolver();

        @Override
        public boolean needToQuoteName(String name) {
            return super.needToQuoteName(name) || readsBackAsNoString(name);
        }

        @Override
        public boolean needToQuoteValue(String value) {
            return super.needToQuoteValue(value) || readsBackAsNoString(value);
        }

        private static boolean readsBackAsNoString(String text) {
            return !Tag.STR.equals(YAML_1_1.resolve(NodeId.scalar, text, true));
        }
    }

    public static String toYaml(Translation translation) {
        ObjectNode root = YAML.createObjectNode();
        ArrayNode problems = root.putArray("problems");
        translation.policies().problems().forEach(p -> problems.add(p.toString()));
        ObjectNode identities = root.putObject("identities");
        translation.models().forEach((identity, model) -> {
            ObjectNode node = identities.putObject(identity.toString());
            node.set("model", model(model));
            node.set("xds", xds(translation.resources().get(identity)));
        });
        return toYaml(root);
    }

    /**
     * A report of this shape built from elsewhere ({@code portcullis translate --server} fills it from a control
     * plane's debug endpoint), written as {@link #toYaml(Translation)} writes its own, so both print alike.
     */
    public static String toYaml(JsonNode report) {
        try {
            return YAML.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One identity's model as the report prints it: the keys identity, mode (PASSTHROUGH, DENY_ALL or
     * POLICY), ports and conflicts, each port with tcp, httpHosts, tlsHosts and tlsOrigins, and origins
     * as kubectl-style names. Written out rather than
     * mirrored from the Java types, so the per-mode types and typed origins can evolve without changing
     * what {@code portcullis translate}, {@code /debug/xds} and the golden files show.
     */
    public static ObjectNode model(SidecarEgressModel model) {
        record Shown(String mode, boolean audit, List<PortPlan> ports, List<PolicyProblem> conflicts) {}
        Shown shown = switch (model) {
            case SidecarEgressModel.Passthrough passthrough -> new Shown("PASSTHROUGH", false, List.of(), List.of());
            case SidecarEgressModel.DenyAll denyAll -> new Shown("DENY_ALL", denyAll.audit(), List.of(), List.of());
            case SidecarEgressModel.PolicyEnforced policy ->
                new Shown("POLICY", policy.audit(), policy.ports(), policy.conflicts());
        };
        ObjectNode node = YAML.createObjectNode();
        node.set("identity", YAML.valueToTree(model.identity()));
        node.put("mode", shown.mode());
        // The namespace's egress mode: true lets through, as would_deny, what the mode would refuse.
        node.put("audit", shown.audit());
        ArrayNode ports = node.putArray("ports");
        shown.ports().forEach(plan -> port(plan, ports.addObject()));
        node.set("conflicts", YAML.valueToTree(shown.conflicts()));
        return node;
    }

    private static void port(PortPlan plan, ObjectNode node) {
        node.put("port", plan.port());
        node.put("serverFirst", plan.serverFirst());
        node.put("audit", plan.audit());
        plan.tcp().ifPresentOrElse(tcp -> tcp(tcp, node.putObject("tcp")), () -> node.putNull("tcp"));
        ArrayNode httpHosts = node.putArray("httpHosts");
        plan.httpHosts().forEach(host -> httpHost(host, httpHosts.addObject()));
        node.set(
                "tlsHosts",
                YAML.valueToTree(plan.tls().map(TlsAccess::serverNames).orElse(List.of())));
        node.set("tlsOrigins", origins(plan.tls().map(TlsAccess::origins).orElse(Set.of())));
    }

    private static void tcp(TcpAccess tcp, ObjectNode node) {
        node.put("anyAddress", tcp.anyAddress());
        node.set("ranges", YAML.valueToTree(tcp.ranges()));
        node.set("origins", origins(tcp.origins()));
    }

    private static void httpHost(HttpHostAccess host, ObjectNode node) {
        node.put("host", host.host());
        node.put("anyRequest", host.anyRequest());
        ArrayNode matches = node.putArray("matches");
        for (HttpRequestMatch match : host.matches()) {
            ObjectNode shown = matches.addObject();
            shown.put("origin", match.origin().toString());
            shown.put("pathRegex", match.pathRegex());
            shown.set("methods", YAML.valueToTree(match.methods()));
            shown.set("headers", YAML.valueToTree(new TreeMap<>(match.headers())));
        }
        node.set("origins", origins(host.origins()));
    }

    private static ArrayNode origins(Collection<PolicyOrigin> origins) {
        ArrayNode array = YAML.createArrayNode();
        origins.forEach(origin -> array.add(origin.toString()));
        return array;
    }

    public static ObjectNode xds(SidecarResources resources) {
        ObjectNode xds = YAML.createObjectNode();
        xds.put("version", resources.version());
        xds.set("listeners", protos(resources.listeners()));
        xds.set("routes", protos(resources.routes()));
        xds.set("clusters", protos(resources.clusters()));
        return xds;
    }

    private static ArrayNode protos(List<? extends Message> messages) {
        ArrayNode array = YAML.createArrayNode();
        for (Message message : messages) {
            try {
                array.add(new ObjectMapper().readTree(EnvoyTypes.toJson(message)));
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }
        return array;
    }
}
