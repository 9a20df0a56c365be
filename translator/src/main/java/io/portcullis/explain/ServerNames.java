package io.portcullis.explain;

import java.util.List;
import java.util.Optional;

/** Envoy's filter chain match on {@code server_names}: the SNI exactly, else the longest {@code *.suffix}. */
final class ServerNames {

    private ServerNames() {}

    /**
     * The entry of {@code names} that takes {@code sni}, as Envoy's FilterChainManager looks it up: the
     * exact name first, then {@code *.} plus each suffix after a dot, longest first. So
     * {@code *.example.com} takes {@code a.example.com} and {@code a.b.example.com}, never {@code example.com}.
     */
    static Optional<String> match(List<String> names, String sni) {
        if (names.contains(sni)) {
            return Optional.of(sni);
        }
        int dot = sni.indexOf('.', 1);
        while (dot != -1 && dot < sni.length() - 1) {
            String wildcard = "*" + sni.substring(dot);
            if (names.contains(wildcard)) {
                return Optional.of(wildcard);
            }
            dot = sni.indexOf('.', dot + 1);
        }
        return Optional.empty();
    }
}
