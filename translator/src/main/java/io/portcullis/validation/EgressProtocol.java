package io.portcullis.validation;

import java.util.Arrays;
import java.util.Optional;

/** The {@code spec.ports[].protocol} values an Egress may use. */
public enum EgressProtocol {
    HTTP("http"),
    HTTPS("https"),
    TCP("tcp"),
    /** TCP where the server speaks first (SSH, MySQL, SMTP): the port must not be held for protocol detection. */
    TCP_SERVER_FIRST("tcp-server-first");

    private final String wireName;

    EgressProtocol(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<EgressProtocol> parse(String text) {
        return Arrays.stream(values())
                .filter(p -> p.wireName.equalsIgnoreCase(text))
                .findFirst();
    }

    public static String allowedValues() {
        return String.join(
                ", ", Arrays.stream(values()).map(EgressProtocol::wireName).toList());
    }
}
