package io.portcullis.crds;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Optional;

/** The kinds {@link ManifestReader} reads, with the one apiVersion accepted for each. */
record KnownKind(
    Class<? extends HasMetadata> type,
    String kind,
    String group,
    String version,
    boolean strictFields,
    boolean specRequired,
    String specHint) {

  static final List<KnownKind> ALL =
      List.of(
          new KnownKind(
              Egress.class,
              "Egress",
              Egress.GROUP,
              Egress.VERSION,
              true,
              true,
              "an Egress needs spec.sources and spec.ports"),
          new KnownKind(
              HTTPRouteGroup.class,
              "HTTPRouteGroup",
              HTTPRouteGroup.GROUP,
              HTTPRouteGroup.VERSION,
              true,
              true,
              "an HTTPRouteGroup needs spec.matches"),
          // FSM's MeshConfig has many more fields than we model: they are kept, never rejected.
          new KnownKind(
              MeshConfig.class, "MeshConfig", MeshConfig.GROUP, MeshConfig.VERSION, false, false, ""));

  String apiVersion() {
    return group + "/" + version;
  }

  static Optional<KnownKind> byKind(String kind) {
    return ALL.stream().filter(k -> k.kind.equals(kind)).findFirst();
  }

  static Optional<KnownKind> byType(Class<?> type) {
    return ALL.stream().filter(k -> k.type.equals(type)).findFirst();
  }

  static String summary() {
    StringBuilder sb = new StringBuilder();
    for (KnownKind k : ALL) {
      if (!sb.isEmpty()) {
        sb.append(", ");
      }
      sb.append(k.kind).append(" (").append(k.apiVersion()).append(')');
    }
    return sb.toString();
  }
}
