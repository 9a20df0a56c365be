package io.portcullis.validation;

import io.portcullis.bootstrap.IpLiterals;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/** An IP range from {@code spec.ipAddresses}, normalised so equal ranges compare equal. */
public record Cidr(String address, int prefixLength) implements Comparable<Cidr> {

    /** Parses {@code 198.18.0.0/16}, {@code 2001:db8::/32} or a bare address (a single host). */
    public static Optional<Cidr> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String[] parts = text.trim().split("/", -1);
        if (parts.length > 2) {
            return Optional.empty();
        }
        Optional<InetAddress> literal = IpLiterals.parse(parts[0]);
        if (literal.isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes = literal.get().getAddress();
        int maxPrefix = bytes.length * 8;
        int prefix;
        try {
            prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : maxPrefix;
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (prefix < 0 || prefix > maxPrefix) {
            return Optional.empty();
        }
        // Envoy rejects nothing here, but normalising host bits keeps merged ranges de-duplicated.
        for (int bit = prefix; bit < maxPrefix; bit++) {
            bytes[bit / 8] &= (byte) ~(0x80 >> (bit % 8));
        }
        try {
            return Optional.of(new Cidr(InetAddress.getByAddress(bytes).getHostAddress(), prefix));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether every address of {@code inner} is in this range. Envoy picks the filter chain with the most
     * specific matching prefix, so the policies deciding a range are those whose ranges contain it.
     */
    public boolean contains(Cidr inner) {
        byte[] outerBytes = bytes(address);
        byte[] innerBytes = bytes(inner.address);
        if (outerBytes.length != innerBytes.length || inner.prefixLength < prefixLength) {
            return false;
        }
        for (int bit = 0; bit < prefixLength; bit++) {
            int mask = 0x80 >> (bit % 8);
            if ((outerBytes[bit / 8] & mask) != (innerBytes[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The address's bytes. A model compares every range of a port with every other, so the canonical IPv4
     * form {@link #parse} writes is read here directly; anything else goes through {@link IpLiterals}.
     */
    private static byte[] bytes(String address) {
        byte[] quad = new byte[4];
        int octet = 0;
        int value = 0;
        int digits = 0;
        for (int i = 0; i <= address.length(); i++) {
            char c = i < address.length() ? address.charAt(i) : '.';
            if (c >= '0' && c <= '9' && digits < 3 && !(digits == 1 && value == 0)) {
                value = value * 10 + (c - '0');
                digits++;
            } else if (c == '.' && digits > 0 && value <= 255 && octet < 4) {
                quad[octet++] = (byte) value;
                value = 0;
                digits = 0;
            } else {
                return IpLiterals.parse(address).orElseThrow().getAddress();
            }
        }
        return octet == 4 ? quad : IpLiterals.parse(address).orElseThrow().getAddress();
    }

    @Override
    public int compareTo(Cidr other) {
        return toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
        return address + "/" + prefixLength;
    }
}
