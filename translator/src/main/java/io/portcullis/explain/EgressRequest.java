package io.portcullis.explain;

import io.portcullis.bootstrap.IpLiterals;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One connection or request a workload makes, as {@code portcullis explain} is asked about it. The
 * protocol is what the client speaks, which decides what the sidecar can see: a raw TCP connection shows
 * only its destination address, TLS adds the SNI of its ClientHello, plain HTTP adds Host, method, path
 * and headers. Nothing is resolved: a host name stays a name, since DNS answers differ from one pod to
 * the next and the sidecar matches TCP policies on the address the workload dialled.
 */
public sealed interface EgressRequest {

    int port();

    /** The IP the workload dials, when known (an IP literal, or {@code --ip}). */
    Optional<InetAddress> address();

    /** What the user named: a host name or an IP literal. */
    String host();

    /** {@code tcp}, {@code tls} or {@code http}, the values of the decision log's protocol field. */
    String protocol();

    /** {@code host:port} to a raw TCP service. */
    record Tcp(String host, Optional<InetAddress> address, int port) implements EgressRequest {
        public Tcp {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(address, "address");
        }

        @Override
        public String protocol() {
            return "tcp";
        }
    }

    /**
     * An {@code https://} URL: TLS, which the sidecar does not terminate.
     *
     * @param sni the server name of the ClientHello; empty when the client sends none (curl sends none for
     *     an IP literal)
     */
    record Tls(String host, Optional<InetAddress> address, int port, Optional<String> sni) implements EgressRequest {
        public Tls {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(address, "address");
            sni = sni.map(s -> s.toLowerCase(Locale.ROOT));
        }

        @Override
        public String protocol() {
            return "tls";
        }
    }

    /**
     * An {@code http://} URL: a plain HTTP request.
     *
     * @param authority    the Host header as the client sends it ({@code host}, or {@code host:port} off port 80)
     * @param pathAndQuery the request target as sent, query included
     * @param headers      lower-case names to values; repeated headers joined with {@code ,} as Envoy joins them
     */
    record Http(
            String host,
            Optional<InetAddress> address,
            int port,
            String authority,
            String method,
            String pathAndQuery,
            SortedMap<String, String> headers)
            implements EgressRequest {
        public Http {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(address, "address");
            authority = authority.toLowerCase(Locale.ROOT);
            headers = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(headers));
        }

        @Override
        public String protocol() {
            return "http";
        }

        /** A header as Envoy's route header matchers see it; pseudo-headers included. */
        public Optional<String> header(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "host", ":authority" -> Optional.of(authority);
                case ":method" -> Optional.of(method);
                case ":path" -> Optional.of(pathAndQuery);
                case ":scheme" -> Optional.of("http");
                default -> Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
            };
        }
    }

    /**
     * Reads the command line's target: {@code http://host[:port]/path?query} (plain HTTP),
     * {@code https://host[:port]/...} (TLS) or {@code host:port} (raw TCP; {@code [v6]:port} for IPv6).
     *
     * @param method  the HTTP method (default GET); only for http:// URLs
     * @param headers {@code name=value} or {@code name: value}; only for http:// URLs. {@code Host} replaces the URL's
     * @param sni     the SNI to send instead of the URL's host; only for https:// URLs
     * @param ip      the address the workload dials, when the target names a host
     * @throws IllegalArgumentException naming what is wrong with the target or the options
     */
    static EgressRequest parse(String target, String method, List<String> headers, String sni, String ip) {
        Objects.requireNonNull(target, "target");
        List<String> headerList = headers == null ? List.of() : headers;
        Optional<InetAddress> given = Optional.ofNullable(ip)
                .map(text -> IpLiterals.parse(text.trim())
                        .orElseThrow(() -> new IllegalArgumentException("--ip " + text + " is not an IP address")));
        String lower = target.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            return parseUrl(target, method, headerList, sni, given);
        }
        if (target.contains("://")) {
            throw new IllegalArgumentException(
                    target + ": only http:// and https:// URLs, or host:port for raw TCP, can be explained");
        }
        if (method != null || !headerList.isEmpty() || sni != null) {
            throw new IllegalArgumentException(
                    "--method and --header need an http:// URL, --sni an https:// URL; " + target + " is raw TCP");
        }
        int colon = target.lastIndexOf(':');
        if (colon <= 0 || colon == target.length() - 1) {
            throw new IllegalArgumentException(
                    target + ": give a URL (http://..., https://...) or host:port for raw TCP, e.g. 198.18.0.22:22");
        }
        String host = unbracket(target.substring(0, colon));
        int port = port(target.substring(colon + 1), target);
        return new Tcp(host, given.or(() -> IpLiterals.parse(host)), port);
    }

    private static EgressRequest parseUrl(
            String target, String method, List<String> headers, String sni, Optional<InetAddress> given) {
        URI uri;
        try {
            uri = new URI(target);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(target + " is not a URL: " + e.getReason());
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException(target + " names no host");
        }
        boolean tls = "https".equalsIgnoreCase(uri.getScheme());
        int defaultPort = tls ? 443 : 80;
        int port = uri.getPort() == -1 ? defaultPort : port(String.valueOf(uri.getPort()), target);
        String host = unbracket(uri.getHost()).toLowerCase(Locale.ROOT);
        Optional<InetAddress> literal = IpLiterals.parse(host);
        Optional<InetAddress> address = given.or(() -> literal);
        if (tls) {
            if (method != null || !headers.isEmpty()) {
                throw new IllegalArgumentException(
                        "--method and --header need an http:// URL: the sidecar does not decrypt TLS, so it never"
                                + " sees the method or headers of an https:// request");
            }
            // Like curl: no SNI for an IP literal.
            Optional<String> serverName =
                    sni != null ? Optional.of(sni) : literal.isPresent() ? Optional.empty() : Optional.of(host);
            return new Tls(host, address, port, serverName.filter(s -> !s.isEmpty()));
        }
        if (sni != null) {
            throw new IllegalArgumentException("--sni needs an https:// URL: plain HTTP has no SNI");
        }
        // Like curl: the Host header carries the port only when it is not the scheme's default.
        String hostInHeader = host.contains(":") ? "[" + host + "]" : host;
        String authority = port == defaultPort ? hostInHeader : hostInHeader + ":" + port;
        SortedMap<String, String> headerMap = new TreeMap<>();
        for (String header : headers) {
            int sep = header.indexOf('=');
            int colon = header.indexOf(':');
            int at = sep < 0 ? colon : colon < 0 ? sep : Math.min(sep, colon);
            if (at <= 0) {
                throw new IllegalArgumentException("--header " + header + ": write name=value (or 'name: value')");
            }
            String name = header.substring(0, at).trim().toLowerCase(Locale.ROOT);
            String value = header.substring(at + 1).trim();
            if (name.equals("host")) {
                authority = value;
            } else {
                headerMap.merge(name, value, (a, b) -> a + "," + b);
            }
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String pathAndQuery = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        String verb = method == null ? "GET" : method.trim();
        if (verb.isEmpty()) {
            throw new IllegalArgumentException("--method is empty");
        }
        return new Http(host, address, port, authority, verb, pathAndQuery, headerMap);
    }

    private static String unbracket(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static int port(String text, String target) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(target + ": " + text + " is not a TCP port (1-65535)");
    }

    /** True for IPv6: the pod's firewall refuses IPv6 TCP, so it never reaches the sidecar. */
    default boolean ipv6() {
        return address().map(a -> a instanceof Inet6Address).orElse(false);
    }

    /** The map form used in JSON output; absent parts are left out. */
    default Map<String, Object> describe() {
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("protocol", protocol());
        out.put("host", host());
        address().ifPresent(a -> out.put("address", a.getHostAddress()));
        out.put("port", port());
        switch (this) {
            case Tcp tcp -> {}
            case Tls t -> out.put("sni", t.sni().orElse(null));
            case Http h -> {
                out.put("authority", h.authority());
                out.put("method", h.method());
                out.put("path", h.pathAndQuery());
                if (!h.headers().isEmpty()) {
                    out.put("headers", h.headers());
                }
            }
        }
        return out;
    }
}
