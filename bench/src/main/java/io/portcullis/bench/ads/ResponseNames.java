package io.portcullis.bench.ads;

import com.google.protobuf.Any;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * What a simulated sidecar reads from a response, and only that: the route names its listeners reference
 * (to subscribe to RDS) and the names of the route tables it got (to know it holds every one).
 *
 * <p>Why it is cheaper than Envoy, on purpose: the client shares the machine's cores with the server it
 * measures, and in a connect storm it parsed 1,000 full listener sets. The listeners of a wildcard LDS
 * response are all of the identity's listeners, and their version is a digest of their content, so the
 * route names of one listener version are read once and shared by the sidecars that get the same version
 * (ten pods per identity: a tenth of the parsing). A route table's name is field 1 of {@code
 * RouteConfiguration}: it is read without building the table. Both still read what the server sent; nothing
 * is assumed.
 *
 * <p>Thread-safe: shared by every sidecar of a fleet.
 */
final class ResponseNames {

    private static final String LISTENER_TYPE =
            "type.googleapis.com/" + Listener.getDescriptor().getFullName();
    private static final String ROUTE_TYPE =
            "type.googleapis.com/" + RouteConfiguration.getDescriptor().getFullName();

    /** The wire tag of {@code RouteConfiguration.name}: field 1, length-delimited. */
    private static final int NAME_TAG =
            (RouteConfiguration.NAME_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;

    /** Route names by listener version; bounded by the identities times the changes a run makes. */
    private final ConcurrentMap<String, Set<String>> routeNamesByListenerVersion = new ConcurrentHashMap<>();

    /** The RDS route names the listeners' HTTP connection managers reference, sorted. */
    Set<String> routeNames(DiscoveryResponse listeners) {
        String version = listeners.getVersionInfo();
        if (version.isEmpty()) {
            return parseRouteNames(listeners);
        }
        return routeNamesByListenerVersion.computeIfAbsent(version, v -> parseRouteNames(listeners));
    }

    /** The names of the route tables of an RDS response. */
    Set<String> routeConfigurationNames(DiscoveryResponse routes) {
        Set<String> names = new TreeSet<>();
        for (Any resource : routes.getResourcesList()) {
            if (!resource.getTypeUrl().equals(ROUTE_TYPE)) {
                throw new IllegalStateException("the control plane sent a " + resource.getTypeUrl() + " as a route");
            }
            names.add(routeConfigurationName(resource));
        }
        return names;
    }

    /** Field 1 ({@code name}) of a serialised {@code RouteConfiguration}, skipping every other field. */
    private static String routeConfigurationName(Any resource) {
        try {
            CodedInputStream in = resource.getValue().newCodedInput();
            String name = "";
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (tag == NAME_TAG) {
                    name = in.readStringRequireUtf8(); // the last occurrence wins, as in a full parse
                } else if (!in.skipField(tag)) {
                    break;
                }
            }
            return name;
        } catch (IOException e) {
            throw new IllegalStateException("the control plane sent a route table that does not parse", e);
        }
    }

    private static Set<String> parseRouteNames(DiscoveryResponse listeners) {
        Set<String> names = new TreeSet<>();
        for (Any resource : listeners.getResourcesList()) {
            if (!resource.getTypeUrl().equals(LISTENER_TYPE)) {
                throw new IllegalStateException("the control plane sent a " + resource.getTypeUrl() + " as a listener");
            }
            Listener listener = unpack(resource, Listener.class);
            List<FilterChain> chains = new ArrayList<>(listener.getFilterChainsList());
            if (listener.hasDefaultFilterChain()) {
                chains.add(listener.getDefaultFilterChain());
            }
            for (FilterChain chain : chains) {
                for (Filter filter : chain.getFiltersList()) {
                    if (filter.hasTypedConfig() && filter.getTypedConfig().is(HttpConnectionManager.class)) {
                        HttpConnectionManager manager = unpack(filter.getTypedConfig(), HttpConnectionManager.class);
                        if (manager.hasRds()) {
                            names.add(manager.getRds().getRouteConfigName());
                        }
                    }
                }
            }
        }
        return Collections.unmodifiableSet(names);
    }

    private static <T extends com.google.protobuf.Message> T unpack(Any any, Class<T> type) {
        try {
            return any.unpack(type);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("the control plane sent a " + any.getTypeUrl() + " that does not parse", e);
        }
    }
}
