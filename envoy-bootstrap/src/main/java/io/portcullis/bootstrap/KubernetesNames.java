package io.portcullis.bootstrap;

import java.util.regex.Pattern;

/**
 * Kubernetes object-name rules, checked locally so that a bad name fails where it is built instead
 * of surfacing later as an unmatched policy or a sidecar that never receives configuration.
 */
final class KubernetesNames {

  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final int MAX_LABEL = 63;
  private static final int MAX_SUBDOMAIN = 253;

  private KubernetesNames() {}

  /** Namespaces are DNS-1123 labels. Returns {@code null} when valid, else why not. */
  static String label(String value) {
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
  static String subdomain(String value) {
    if (value.length() > MAX_SUBDOMAIN) {
      return "is not a valid DNS-1123 subdomain: " + value.length() + " characters, at most "
          + MAX_SUBDOMAIN;
    }
    // Split with limit -1 so "a..b" and "a." yield empty labels instead of silently dropping them.
    for (String part : value.split("\\.", -1)) {
      if (part.isEmpty() || part.length() > MAX_LABEL || !LABEL.matcher(part).matches()) {
        return "is not a valid DNS-1123 subdomain: dot-separated parts of lowercase letters, digits"
            + " and '-', each starting and ending with a letter or digit";
      }
    }
    return null;
  }
}
