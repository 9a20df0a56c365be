package io.portcullis.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.yaml.snakeyaml.LoaderOptions;

/** The YAML mappers shared by reader, writer and merge patch. */
final class Yaml {
    private Yaml() {}

    /** Lenient mapper: unknown fields ignored (or kept, for MeshConfig). Used for writing too. */
    static final ObjectMapper LENIENT = base().build();

    /**
     * Mapper that rejects unknown fields of Egress and HTTPRouteGroup (like {@code kubectl apply
     * --validate=strict}): a misspelt {@code host:} for {@code hosts:} must not silently load as an
     * Egress without host restriction. The records stay lenient for other Jackson users; strictness
     * is added here through mix-ins.
     */
    static final ObjectMapper STRICT = base().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addMixIn(Egress.class, Strict.class)
            .addMixIn(EgressSpec.class, Strict.class)
            .addMixIn(EgressSource.class, Strict.class)
            .addMixIn(EgressPort.class, Strict.class)
            .addMixIn(EgressMatch.class, Strict.class)
            .addMixIn(HTTPRouteGroup.class, Strict.class)
            .addMixIn(HTTPRouteGroupSpec.class, Strict.class)
            .addMixIn(HttpMatch.class, Strict.class)
            .build();

    @JsonIgnoreProperties(ignoreUnknown = false)
    private interface Strict {}

    private static YAMLMapper.Builder base() {
        // Deliberate limits, so hostile text costs bounded memory and stack; ManifestReader reports
        // each with its fix (it refuses larger text before parsing; this is the parser's backstop).
        LoaderOptions limits = new LoaderOptions();
        limits.setCodePointLimit(ManifestReader.MAX_BYTES);
        YAMLFactory factory = YAMLFactory.builder()
                .loaderOptions(limits)
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(ManifestReader.MAX_NESTING_DEPTH)
                        .build())
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                // "80" or "true" as a string must stay a string when read back
                .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                .build();
        return YAMLMapper.builder(factory)
                // duplicate keys are an error (kubectl rejects them too), never "last one wins"
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    }
}
