package io.portcullis.crds;

import java.util.regex.Pattern;

/**
 * Kubernetes object-name rules, checked locally so that a bad name fails where it is built instead
 * of surfacing later as an unmatched policy or a sidecar that never receives configuration.
 *
 * <p>The one copy of these rules: the manifest reader, the policy validator and the sidecar node id
 * all check names here, each with its own message. A subdomain's dot-separated parts are held to
 * 63 characters like DNS labels, a little stricter than the API server's regex, so that every name
 * accepted here is also a valid DNS name.
 */
public final class KubernetesNames {

    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final int MAX_LABEL = 63;
    private static final int MAX_SUBDOMAIN = 253;

    private KubernetesNames() {}

    /** Namespaces are DNS-1123 labels. Returns {@code null} when valid, else why not. */
    public static String label(String value) {
        if (value.length() > MAX_LABEL) {
            return "is not a valid DNS-1123 label: " + value.length() + " characters, at most " + MAX_LABEL;
        }
        if (!LABEL.matcher(value).matches()) {
            return "is not a valid DNS-1123 label: only lowercase letters, digits and '-' are allowed,"
                    + " starting and ending with a letter or digit";
        }
        return null;
    }

    /** Service accounts and pods are named by DNS-1123 subdomains. Returns {@code null} when valid. */
    public static String subdomain(String value) {
        if (value.length() > MAX_SUBDOMAIN) {
            return "is not a valid DNS-1123 subdomain: " + value.length() + " characters, at most " + MAX_SUBDOMAIN;
        }
        // Split with limit -1 so "a..b" and "a." yield empty labels instead of silently dropping them.
        for (String part : value.split("\\.", -1)) {
            if (part.isEmpty()
                    || part.length() > MAX_LABEL
                    || !LABEL.matcher(part).matches()) {
                return "is not a valid DNS-1123 subdomain: dot-separated parts of lowercase letters, digits"
                        + " and '-', each starting and ending with a letter or digit";
            }
        }
        return null;
    }

    /** Whether {@code value} is a DNS-1123 label: a namespace name. */
    public static boolean isLabel(String value) {
        return value != null && label(value) == null;
    }

    /** Whether {@code value} is a DNS-1123 subdomain: an object name such as a ServiceAccount's. */
    public static boolean isSubdomain(String value) {
        return value != null && subdomain(value) == null;
    }
}
