package io.portcullis.validation;

import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.crds.HttpMatch;
import io.portcullis.input.ResourceKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Checks one SMI HTTPRouteGroup. Regexes are checked by {@link EnvoyRegex} as Envoy's RE2 checks them
 * (syntax and program size under the sidecars' limit), so a pattern Envoy would reject is reported here
 * instead of being NACKed by every sidecar.
 */
final class RouteGroupValidator {

    private static final java.util.regex.Pattern HTTP_TOKEN =
            java.util.regex.Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    List<HttpRequestMatch> matches(HTTPRouteGroup group, List<PolicyProblem> problems) {
        ResourceKey key = ResourceKey.of(group);
        List<HttpRequestMatch> result = new ArrayList<>();
        List<HttpMatch> matches =
                group.getSpec() == null ? List.of() : group.getSpec().matches();
        if (matches.isEmpty()) {
            problems.add(PolicyProblem.error(
                    key, "spec.matches", "empty; list at least one match (name, pathRegex, methods, headers)"));
        }
        for (int i = 0; i < matches.size(); i++) {
            HttpMatch match = matches.get(i);
            String field = "spec.matches[" + i + "]";
            int before = problems.size();
            String pathRegex = match.pathRegex() == null || match.pathRegex().isEmpty() ? null : match.pathRegex();
            if (pathRegex != null) {
                checkRegex(key, field + ".pathRegex", pathRegex, problems);
            }
            List<String> methods = new ArrayList<>();
            for (int m = 0; m < match.methods().size(); m++) {
                String method = match.methods().get(m);
                if ("*".equals(method)) {
                    methods.clear();
                    break;
                }
                if (method == null || !HTTP_TOKEN.matcher(method).matches()) {
                    problems.add(PolicyProblem.error(
                            key,
                            field + ".methods[" + m + "]",
                            "'" + method + "' is not an HTTP method; write e.g. GET, or * for any"));
                } else if (!methods.contains(method.toUpperCase(Locale.ROOT))) {
                    methods.add(method.toUpperCase(Locale.ROOT));
                }
            }
            Map<String, String> headers = new LinkedHashMap<>();
            match.headers().forEach((name, value) -> {
                if (name == null || !HTTP_TOKEN.matcher(name).matches()) {
                    problems.add(
                            PolicyProblem.error(key, field + ".headers", "'" + name + "' is not an HTTP header name"));
                    return;
                }
                if (value == null) {
                    problems.add(PolicyProblem.error(
                            key,
                            field + ".headers." + name,
                            "has no value; give an RE2 regex the header value must match"));
                    return;
                }
                if (value.isEmpty()) {
                    // Envoy refuses an empty regex; an empty value is more likely a slip than "header present".
                    problems.add(PolicyProblem.error(
                            PolicyProblem.Cause.REGEX_REFUSED,
                            key,
                            field + ".headers." + name,
                            "empty; give an RE2 regex the value must match, e.g. '.*' for any value"));
                    return;
                }
                checkRegex(key, field + ".headers." + name, value, problems);
                // HTTP header names are case-insensitive; Envoy holds them lower-case.
                if (headers.putIfAbsent(name.toLowerCase(Locale.ROOT), value) != null) {
                    problems.add(PolicyProblem.error(
                            key,
                            field + ".headers." + name,
                            "names the same header as another entry (header names are case-insensitive); "
                                    + "merge them into one regex"));
                }
            });
            if (problems.size() == before) {
                HttpMatchOrigin origin =
                        new HttpMatchOrigin(key.namespace(), key.name(), i, Optional.ofNullable(match.name()));
                result.add(new HttpRequestMatch(origin, pathRegex, methods, headers));
            }
        }
        return result;
    }

    private static void checkRegex(ResourceKey key, String field, String regex, List<PolicyProblem> problems) {
        if (EnvoyRegex.check(regex) instanceof EnvoyRegex.Refused refused) {
            problems.add(PolicyProblem.error(
                    PolicyProblem.Cause.REGEX_REFUSED, key, field, "'" + regex + "' " + refused.reason()));
        }
    }
}
