package io.portcullis.kubernetes.injection;

import io.portcullis.bootstrap.InterceptionRules;
import io.portcullis.bootstrap.SidecarContract;
import io.portcullis.crds.MeshConfig;
import io.portcullis.crds.Traffic;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Destinations a pod reaches directly, bypassing its sidecar: they are inside the cluster, so they are not
 * egress, and turning egress policy on must never break them. The cluster's pod and service CIDRs (the
 * injector's settings) plus FSM's MeshConfig {@code spec.traffic.outboundIPRangeExclusionList} and
 * {@code spec.traffic.outboundPortExclusionList}, read when the pod is created (as FSM does: a change applies
 * to pods created afterwards).
 *
 * <p>An entry that cannot be used is left out and reported in {@link #problems()}: leaving it out keeps that
 * traffic behind the sidecar (fail closed) rather than guessing what was meant. FSM's per-pod exclusion
 * annotations are not honoured: they would let a pod's author exempt it from egress policy.
 *
 * @param cidrs IPv4 ranges, each once, in order
 * @param ports ports, ascending, each once
 * @param problems each entry left out, naming the MeshConfig field and the fix
 */
public record ClusterInternalDestinations(List<String> cidrs, List<Integer> ports, List<String> problems) {

    static final String IP_RANGES = "outboundIPRangeExclusionList";
    static final String PORTS = "outboundPortExclusionList";

    public ClusterInternalDestinations {
        cidrs = List.copyOf(new LinkedHashSet<>(cidrs));
        ports = List.copyOf(new TreeSet<>(ports));
        problems = List.copyOf(problems);
    }

    /** The cluster CIDRs, and the exclusions of the MeshConfig if there is one. */
    public static ClusterInternalDestinations of(List<String> clusterCidrs, Optional<MeshConfig> meshConfig) {
        Set<String> cidrs = new LinkedHashSet<>(clusterCidrs);
        List<Integer> ports = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Traffic traffic =
                meshConfig.map(MeshConfig::getSpec).map(s -> s.traffic()).orElse(null);
        if (traffic != null) {
            String where =
                    "MeshConfig " + MeshConfig.DEFAULT_NAMESPACE + "/" + MeshConfig.DEFAULT_NAME + " spec.traffic.";
            List<?> ranges = list(traffic.otherFields().get(IP_RANGES), where + IP_RANGES, problems);
            for (int i = 0; i < ranges.size(); i++) {
                String field = where + IP_RANGES + "[" + i + "]";
                Object entry = ranges.get(i);
                if (!(entry instanceof String cidr)) {
                    problems.add(field + ": " + entry + " is not a string; write a CIDR like \"10.96.0.0/12\"");
                } else if (cidr.contains(":")) {
                    problems.add(field + ": \"" + cidr + "\" is IPv6; a pod's IPv6 egress is refused, not"
                            + " intercepted, so only IPv4 ranges can be excluded");
                } else {
                    try {
                        new InterceptionRules(
                                SidecarContract.DEFAULT_PROXY_UID, SidecarContract.OUTBOUND_PORT, List.of(cidr));
                        cidrs.add(cidr);
                    } catch (IllegalArgumentException e) {
                        problems.add(field + ": " + e.getMessage());
                    }
                }
            }
            List<?> portList = list(traffic.otherFields().get(PORTS), where + PORTS, problems);
            for (int i = 0; i < portList.size(); i++) {
                String field = where + PORTS + "[" + i + "]";
                Object entry = portList.get(i);
                if (!(entry instanceof Integer port) || port < 1 || port > 65535) {
                    problems.add(field + ": " + entry + " is not a port number 1-65535");
                } else if (port == SidecarContract.OUTBOUND_PORT) {
                    problems.add(field + ": " + port + " is the sidecar's own outbound port; remove it");
                } else {
                    ports.add(port);
                }
            }
        }
        return new ClusterInternalDestinations(List.copyOf(cidrs), ports, problems);
    }

    private static List<?> list(Object value, String field, List<String> problems) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> list) {
            return list;
        }
        problems.add(field + ": expected a list, found " + value);
        return List.of();
    }
}
