package io.portcullis.explain;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * The path a route's {@code safe_regex} is matched against: the HTTP connection manager of every HTTP
 * port has {@code normalize_path} and {@code merge_slashes} on, and Envoy matches path regexes on the
 * path without its query string. Normalising follows RFC 3986 as Envoy's canonicaliser does: escapes of
 * unreserved characters are decoded ({@code %41} is {@code A}), other escapes kept with upper-case hex,
 * dot segments removed; then runs of slashes become one.
 */
final class RequestPath {

    private RequestPath() {}

    static String normalize(String pathAndQuery) {
        String path = pathAndQuery;
        int cut = indexOfAny(path, '?', '#');
        if (cut >= 0) {
            path = path.substring(0, cut);
        }
        if (path.isEmpty()) {
            path = "/";
        }
        String decoded = decodeUnreserved(path);
        String withoutDots = removeDotSegments(decoded);
        return withoutDots.replaceAll("/{2,}", "/");
    }

    private static int indexOfAny(String text, char a, char b) {
        int first = text.indexOf(a);
        int second = text.indexOf(b);
        return first < 0 ? second : second < 0 ? first : Math.min(first, second);
    }

    private static String decodeUnreserved(String path) {
        StringBuilder out = new StringBuilder(path.length());
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' && i + 2 < path.length() && hex(path.charAt(i + 1)) && hex(path.charAt(i + 2))) {
                int value = Integer.parseInt(path.substring(i + 1, i + 3), 16);
                if (unreserved(value)) {
                    out.append((char) value);
                } else {
                    out.append('%').append(path.substring(i + 1, i + 3).toUpperCase(Locale.ROOT));
                }
                i += 2;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean hex(char c) {
        return Character.digit(c, 16) >= 0;
    }

    private static boolean unreserved(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0;
    }

    /** RFC 3986 section 5.2.4, on an absolute path. */
    private static String removeDotSegments(String path) {
        Deque<String> segments = new ArrayDeque<>();
        String[] parts = path.split("/", -1);
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i];
            boolean last = i == parts.length - 1;
            if (part.equals(".")) {
                if (last) {
                    segments.addLast("");
                }
            } else if (part.equals("..")) {
                if (!segments.isEmpty()) {
                    segments.removeLast();
                }
                if (last) {
                    segments.addLast("");
                }
            } else {
                segments.addLast(part);
            }
        }
        return "/" + String.join("/", segments);
    }
}
