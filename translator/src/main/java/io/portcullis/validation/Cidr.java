package io.portcullis.validation;

import io.portcullis.bootstrap.IpLiterals;
import io.portcullis.input.PrintedOrder;
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
        return bits().contains(inner.bits());
    }

    /** This range with its address read into bytes once, to test it against many others. */
    public Bits bits() {
        return new Bits(bytes(address), prefixLength);
    }

    /**
     * A range as address bytes and prefix length. A port's model tests every range against every other, and
     * reading the address text each time was most of that cost.
     */
    public static final class Bits {
        private final byte[] address;
        private final int prefixLength;

        private Bits(byte[] address, int prefixLength) {
            this.address = address;
            this.prefixLength = prefixLength;
        }

        /** Whether every address of {@code inner} is in this range. */
        public boolean contains(Bits inner) {
            if (address.length != inner.address.length || inner.prefixLength < prefixLength) {
                return false;
            }
            int wholeBytes = prefixLength / 8;
            for (int i = 0; i < wholeBytes; i++) {
                if (address[i] != inner.address[i]) {
                    return false;
                }
            }
            int restBits = prefixLength % 8;
            if (restBits == 0) {
                return true;
            }
            int mask = (0xFF << (8 - restBits)) & 0xFF;
            return (address[wholeBytes] & mask) == (inner.address[wholeBytes] & mask);
        }
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
        if (address.equals(other.address)) {
            return Integer.toString(prefixLength).compareTo(Integer.toString(other.prefixLength));
        }
        return PrintedOrder.compare(
                new String[] {address, "/", Integer.toString(prefixLength)},
                new String[] {other.address, "/", Integer.toString(other.prefixLength)});
    }

    @Override
    public String toString() {
        return address + "/" + prefixLength;
    }
}
