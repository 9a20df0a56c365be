package io.portcullis.bootstrap;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where a sidecar reaches one control plane: an IP literal or a DNS host name, and a port.
 *
 * @param host an IP literal (IPv6 without brackets) or a DNS host name; a trailing dot (fully
 *     qualified, skips the resolv.conf search list) is allowed
 */
public record XdsEndpoint(String host, int port) {

    // A host name for STRICT_DNS.
    private static final Pattern HOSTNAME =
            Pattern.compile("(?i)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\\.?");

    private static final Pattern NUMERIC_TLD = Pattern.compile("(.*\\.)?\\d+\\.?");

    public XdsEndpoint {
        Objects.requireNonNull(host, "xdsHost must not be null");
        if (IpLiterals.parse(host).isEmpty()) {
            if (host.length() > 253 || !HOSTNAME.matcher(host).matches()) {
                throw new IllegalArgumentException(
                        "xdsHost '" + host + "' is neither an IP literal nor a DNS host name");
            }
            // "10.0.0.256" matches the host-name grammar; without this it would become a DNS lookup.
            if (NUMERIC_TLD.matcher(host).matches()) {
                throw new IllegalArgumentException(
                        "xdsHost '" + host + "' looks like a malformed IP address, not a DNS host name");
            }
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("xdsPort " + port + " is outside 1-65535");
        }
    }

    /**
     * Reads {@code host}, {@code host:port}, {@code [ipv6]:port} or a bare IPv6 literal, as typed on
     * a command line.
     *
     * @param defaultPort the port when the text names none
     */
    public static XdsEndpoint parse(String text, int defaultPort) {
        Objects.requireNonNull(text, "xDS endpoint must not be null");
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("xDS endpoint '" + text + "' has no closing ']'");
            }
            String rest = text.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                throw new IllegalArgumentException(
                        "xDS endpoint '" + text + "': expected ':port' after ']', as in [fd00::10]:15010");
            }
            return new XdsEndpoint(
                    text.substring(1, close), rest.isEmpty() ? defaultPort : port(text, rest.substring(1)));
        }
        int colon = text.indexOf(':');
        // Two colons or more: a bare IPv6 literal, which can carry no port without brackets.
        if (colon < 0 || text.indexOf(':', colon + 1) >= 0) {
            return new XdsEndpoint(text, defaultPort);
        }
        return new XdsEndpoint(text.substring(0, colon), port(text, text.substring(colon + 1)));
    }

    public boolean isIpLiteral() {
        return IpLiterals.parse(host).isPresent();
    }

    /** {@code host:port}, with IPv6 literals in brackets: the form {@link #parse} reads. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    private static int port(String text, String port) {
        try {
            return Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("xDS endpoint '" + text + "': port '" + port + "' is not a number");
        }
    }
}
