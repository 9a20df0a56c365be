package io.portcullis.bootstrap;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Parses IP literals without ever touching DNS: {@code InetAddress.getByName} would resolve a host
 * name, and a bootstrap renderer must behave the same on a laptop and in an admission webhook. The
 * one IP literal parser of the project: the translator reads policy CIDRs with it too.
 *
 * <p>An IPv4 octet with a leading zero ({@code 010.0.0.1}) is refused: some parsers read it as
 * octal (8), others as decimal (10), so what it names depends on who reads it.
 */
public final class IpLiterals {

    private static final Pattern IPV4 =
            Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9a-fA-F:.]+");

    private IpLiterals() {}

    /** The address if {@code text} is an IPv4 or IPv6 literal (no brackets, no zone), else empty. */
    public static Optional<InetAddress> parse(String text) {
        boolean v4 = IPV4.matcher(text).matches();
        boolean v6 = text.contains(":") && IPV6_CHARS.matcher(text).matches();
        if (!v4 && !v6) {
            return Optional.empty();
        }
        try {
            // Safe: with the shape checked above, getByName parses a literal and never does a lookup.
            return Optional.of(InetAddress.getByName(text));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }
}
