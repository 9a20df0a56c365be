package io.portcullis.translator;

import io.portcullis.translator.GeneratedPolicySet.Match;
import io.portcullis.translator.GeneratedPolicySet.Mesh;
import io.portcullis.translator.GeneratedPolicySet.Policy;
import io.portcullis.translator.GeneratedPolicySet.Port;
import io.portcullis.translator.GeneratedPolicySet.Quoting;
import io.portcullis.translator.GeneratedPolicySet.RouteGroup;
import io.portcullis.translator.GeneratedPolicySet.Source;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Random policy sets that look valid and are nasty where Envoy is picky: a few namespaces and
 * ServiceAccounts so identities share policies; hosts with wildcards, duplicates, upper case, trailing
 * dots and maximal labels; every protocol on popular and arbitrary ports; overlapping, duplicate,
 * single-address and 0.0.0.0/0 ranges; route group references that exist or not; every MeshConfig mode.
 * A few values are invalid on purpose (the validator must skip them, not pass them on).
 *
 * <p>With {@code regexFeatures} the route groups also get what stresses Envoy's RE2 (long literals,
 * big and nested repeats, escapes, method lists, empty header values); without, only small regexes,
 * single methods and plain header regexes, so other rejection classes are not drowned by those.
 * Shared by {@code EnvoyAcceptsGeneratedPolicySetsTest} (envoy --mode validate) and xds-server's live
 * ADS test.
 */
public final class PolicySetArbitraries {

    /** The IANA HTTP method registry (RFC 9110 and extensions); FSM also allows "*". */
    public static final List<String> REGISTERED_METHODS = List.of(
            "ACL",
            "BASELINE-CONTROL",
            "BIND",
            "CHECKIN",
            "CHECKOUT",
            "CONNECT",
            "COPY",
            "DELETE",
            "GET",
            "HEAD",
            "LABEL",
            "LINK",
            "LOCK",
            "MERGE",
            "MKACTIVITY",
            "MKCALENDAR",
            "MKCOL",
            "MKREDIRECTREF",
            "MKWORKSPACE",
            "MOVE",
            "OPTIONS",
            "ORDERPATCH",
            "PATCH",
            "POST",
            "PRI",
            "PROPFIND",
            "PROPPATCH",
            "PUT",
            "REBIND",
            "REPORT",
            "SEARCH",
            "TRACE",
            "UNBIND",
            "UNCHECKOUT",
            "UNLINK",
            "UNLOCK",
            "UPDATE",
            "UPDATEREDIRECTREF",
            "VERSION-CONTROL");

    static final List<String> NAMESPACES = List.of("curl", "other", "team-a");
    static final List<String> SERVICE_ACCOUNTS = List.of("curl", "other", "api");
    /** Legal but unusual ServiceAccount names: dotted, numeric, maximal label length. */
    static final List<String> ODD_SERVICE_ACCOUNTS = List.of("svc.account", "123", "a".repeat(63), "x-1.y-2");

    private static final int ROUTE_GROUP_NAMES = 6;

    private final boolean regexFeatures;

    public PolicySetArbitraries(boolean regexFeatures) {
        this.regexFeatures = regexFeatures;
    }

    public Arbitrary<GeneratedPolicySet> policySets() {
        return Combinators.combine(
                        Arbitraries.of(Mesh.class),
                        policy().list().ofMinSize(1).ofMaxSize(30),
                        routeGroup().list().ofMaxSize(ROUTE_GROUP_NAMES),
                        Arbitraries.of(Quoting.class))
                .as(GeneratedPolicySet::new)
                // jqwik scales sizes with the number of tries: 20 tries would mean tiny sets. Big ones are the point.
                .fixGenSize(1000);
    }

    // ------------------------------------------------------------------ Egress

    private Arbitrary<Policy> policy() {
        return Combinators.combine(
                        namespaceOrOmitted(),
                        source().list().ofMinSize(1).ofMaxSize(3),
                        // no hosts: fine for tcp, an error for http/https (the whole policy is then skipped)
                        Arbitraries.frequencyOf(
                                weighted(7, host().list().ofMinSize(1).ofMaxSize(8)),
                                weighted(1, Arbitraries.just(List.<String>of()))),
                        ipAddress().list().ofMaxSize(4),
                        port().list().ofMinSize(1).ofMaxSize(4),
                        // most policies name no route group: one that does is restricted to the groups' matches
                        Arbitraries.frequencyOf(
                                weighted(4, Arbitraries.just(List.<Integer>of())),
                                weighted(
                                        1,
                                        Arbitraries.integers()
                                                .between(0, ROUTE_GROUP_NAMES)
                                                .list()
                                                .ofMinSize(1)
                                                .ofMaxSize(2))))
                .as(Policy::new);
    }

    private static Arbitrary<String> namespaceOrOmitted() {
        return Arbitraries.of(NAMESPACES).injectNull(0.12);
    }

    private static Arbitrary<Source> source() {
        Arbitrary<String> name = Arbitraries.frequencyOf(
                weighted(10, Arbitraries.of(SERVICE_ACCOUNTS)), weighted(1, Arbitraries.of(ODD_SERVICE_ACCOUNTS)));
        return Combinators.combine(name, namespaceOrOmitted()).as(Source::new);
    }

    private static Arbitrary<String> host() {
        Arbitrary<String> known = Arbitraries.of(
                "httpbin.org",
                "api.github.com",
                "example.com",
                "www.example.com",
                "a-b.c-d.example.io",
                "pypi.org",
                "localhost",
                "1.2.3.4",
                "80",
                "xn--bcher-kva.example");
        Arbitrary<String> wildcards =
                Arbitraries.of("*.example.com", "*.github.com", "*.org", "*.a.b.c.example.com", "*.httpbin.org");
        Arbitrary<String> label = Arbitraries.strings()
                .withChars("abcdefghijklmnopqrstuvwxyz0123456789-")
                .ofMinLength(1)
                .ofMaxLength(63);
        Arbitrary<String> randomName = label.list().ofMinSize(1).ofMaxSize(5).map(labels -> String.join(".", labels));
        Arbitrary<String> maximal = Arbitraries.integers()
                .between(1, 4)
                .map(n -> String.join(".", java.util.Collections.nCopies(n, "a".repeat(63))));
        Arbitrary<String> name = Arbitraries.frequencyOf(
                weighted(6, known), weighted(3, wildcards), weighted(2, randomName), weighted(1, maximal));
        // The same host written as users do: upper case, a trailing dot, blanks a copy-paste brought along.
        return Combinators.combine(name, Arbitraries.of(HostSpelling.class)).as((h, spelling) -> spelling.apply(h));
    }

    private enum HostSpelling {
        AS_IS,
        UPPER,
        TRAILING_DOT,
        FIRST_LETTER_UPPER,
        BLANKS;

        String apply(String host) {
            return switch (this) {
                case AS_IS -> host;
                case UPPER -> host.toUpperCase(java.util.Locale.ROOT);
                case TRAILING_DOT -> host + ".";
                case FIRST_LETTER_UPPER ->
                    host.isEmpty() ? host : Character.toUpperCase(host.charAt(0)) + host.substring(1);
                case BLANKS -> " " + host + " ";
            };
        }
    }

    private static Arbitrary<String> ipAddress() {
        Arbitrary<String> known = Arbitraries.of(
                "0.0.0.0/0",
                "10.0.0.0/8",
                "10.1.0.0/16",
                "10.1.2.3",
                "10.1.2.3/32",
                "198.18.0.0/24",
                "198.18.0.5/24",
                "192.168.0.0/16",
                "192.168.1.1/31",
                "255.255.255.255",
                "2001:db8::/32",
                "::/0",
                "::1",
                "2001:db8::1/128",
                "0.0.0.0/32",
                "0.0.0.0",
                "::ffff:10.1.2.3",
                "010.001.002.003",
                "10.0.0.0/08",
                "2001:DB8::/48",
                "fe80::1/64");
        Arbitrary<String> random = Combinators.combine(
                        Arbitraries.integers().between(0, 255).list().ofSize(4),
                        Arbitraries.integers().between(0, 32))
                .as((octets, prefix) ->
                        String.join(".", octets.stream().map(String::valueOf).toList()) + "/" + prefix);
        return Arbitraries.frequencyOf(weighted(3, known), weighted(2, random));
    }

    private static Arbitrary<Port> port() {
        Arbitrary<Integer> number = Arbitraries.frequencyOf(
                weighted(4, Arbitraries.of(80, 443, 8080, 8443, 22, 3306, 25, 15001, 15000)),
                weighted(2, Arbitraries.integers().between(1, 65535)),
                weighted(1, Arbitraries.of(1, 65535)));
        Arbitrary<String> protocol = Arbitraries.frequencyOf(
                weighted(10, Arbitraries.of("http", "https", "tcp", "tcp-server-first")),
                weighted(1, Arbitraries.of("HTTP", "Https", "TCP")));
        return Combinators.combine(number, protocol).as(Port::new);
    }

    // ------------------------------------------------------------------ HTTPRouteGroup

    private Arbitrary<RouteGroup> routeGroup() {
        return Combinators.combine(
                        namespaceOrOmitted(), match().list().ofMinSize(1).ofMaxSize(4))
                .as(RouteGroup::new);
    }

    private Arbitrary<Match> match() {
        // Match names end up in Envoy route names: include what a YAML string may hold.
        Arbitrary<String> name = Arbitraries.frequencyOf(
                weighted(8, Arbitraries.of("get", "post", "any", "status", "with-header")),
                weighted(
                        1,
                        Arbitraries.of("", "caf\u00e9 \u2603", "it's \"quoted\"", "a".repeat(300), "#1", "-", "x: y")));
        Arbitrary<String> path = regexFeatures
                ? Arbitraries.frequencyOf(weighted(3, safePathRegex()), weighted(3, riskyPathRegex()))
                        .injectNull(0.25)
                : safePathRegex().injectNull(0.4);
        Arbitrary<List<String>> methods = regexFeatures
                ? Arbitraries.frequencyOf(
                        weighted(3, safeMethods()),
                        weighted(
                                2,
                                Arbitraries.of(REGISTERED_METHODS)
                                        .list()
                                        .ofMinSize(2)
                                        .ofMaxSize(39)),
                        weighted(1, Arbitraries.just(REGISTERED_METHODS)),
                        weighted(
                                1,
                                Arbitraries.of(REGISTERED_METHODS)
                                        .list()
                                        .ofMinSize(1)
                                        .ofMaxSize(5)
                                        .map(list -> concat(list, "*"))))
                : safeMethods();
        // Exact repeats are a YAML error (duplicate key); names differing in case only are the validator's to refuse.
        Arbitrary<List<Map.Entry<String, String>>> headers =
                header().list().ofMaxSize(3).uniqueElements(Map.Entry::getKey);
        return Combinators.combine(name, path, methods, headers, Arbitraries.of(false, true))
                .as(Match::new);
    }

    private static Arbitrary<String> safePathRegex() {
        return Arbitraries.of("/get", "/anything/.*", "/status/[0-9]+", "/api/v[12]/.*", "", "/post", ".*", "/");
    }

    private static Arbitrary<String> riskyPathRegex() {
        Arbitrary<String> longLiteral = Arbitraries.strings()
                .withChars("abcdefghijklmnopqrstuvwxyz0123456789/-_")
                .ofMinLength(50)
                .ofMaxLength(3000)
                .map(s -> "/" + s);
        Arbitrary<String> bigRepeat = Arbitraries.integers().between(2, 1000).map(n -> "/[a-z]{" + n + "}");
        Arbitrary<String> nestedRepeat = Combinators.combine(
                        Arbitraries.integers().between(2, 200),
                        Arbitraries.integers().between(2, 200))
                .as((a, b) -> "/(a{" + a + "}b){" + b + "}");
        Arbitrary<String> escapes = Arbitraries.of(
                "/\\x{100}",
                "/\\x{10FFFF}",
                "/\\pL+",
                "/\\p{Greek}+",
                "/\\Q.*\\E",
                "/(?i)get",
                "/[^/]+/\\d+",
                "/caf\u00e9",
                "/\\.well-known/.*",
                "/\\x41",
                "/[[:alpha:]]+",
                "/(?P<id>[0-9]+)",
                "/a{2,}",
                "/a{,2}",
                "(",
                "/\\C",
                "/\\z");
        return Arbitraries.oneOf(longLiteral, bigRepeat, nestedRepeat, escapes);
    }

    private static Arbitrary<List<String>> safeMethods() {
        return Arbitraries.frequencyOf(
                weighted(3, Arbitraries.just(List.of())),
                weighted(3, Arbitraries.of(REGISTERED_METHODS).map(List::of)),
                weighted(1, Arbitraries.of("get", "post", "Delete").map(List::of)),
                weighted(1, Arbitraries.just(List.of("*"))),
                weighted(1, Arbitraries.of(REGISTERED_METHODS).map(m -> List.of(m, "*"))));
    }

    private Arbitrary<Map.Entry<String, String>> header() {
        Arbitrary<String> name = Arbitraries.of(
                "User-Agent", "user-agent", "X-Request-ID", "accept", "X-Custom_Header", "host", "content-type");
        Arbitrary<String> safe = Arbitraries.of(".*curl.*", "[0-9a-f-]+", "text/html", "gzip", ".*", "v1\\.2");
        Arbitrary<String> value = !regexFeatures
                ? safe
                : Arbitraries.frequencyOf(
                        weighted(4, safe),
                        weighted(2, Arbitraries.of("", "/\\x{100}", "[a-z]{1000}", "((a{50}){50})", "a".repeat(200))));
        return Combinators.combine(name, value).as(Map::entry);
    }

    // ------------------------------------------------------------------ helpers

    private static <T> List<T> concat(List<T> list, T last) {
        java.util.ArrayList<T> result = new java.util.ArrayList<>(list);
        result.add(last);
        return result;
    }

    private static <T> net.jqwik.api.Tuple.Tuple2<Integer, Arbitrary<? extends T>> weighted(
            int weight, Arbitrary<? extends T> arbitrary) {
        return net.jqwik.api.Tuple.of(weight, arbitrary);
    }
}
