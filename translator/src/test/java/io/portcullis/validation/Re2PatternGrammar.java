package io.portcullis.validation;

import java.util.Random;

/**
 * Random RE2-ish patterns from a small grammar: literals, escapes, classes, groups, alternation,
 * nested repetitions with counts up to ~1200, anchors, flags, and the constructs Latin-1 RE2 treats
 * specially (\C, \p, \x{..}, non-ASCII). Some are malformed on purpose, so refusals are exercised too.
 */
public final class Re2PatternGrammar {

    private static final String[] LITERALS = {
        "a", "b", "z", "A", "Z", "0", "9", "/", "-", "_", ".", " ", "{", "}", "]", ",", "v2", "api", "GET", "json",
        "%2F", "=", "&", ":", "@", "~", "'", "\""
    };
    private static final String[] ESCAPES = {
        "\\d",
        "\\w",
        "\\s",
        "\\D",
        "\\W",
        "\\S",
        "\\b",
        "\\B",
        "\\A",
        "\\z",
        "\\.",
        "\\/",
        "\\-",
        "\\n",
        "\\t",
        "\\x41",
        "\\x7f",
        "\\x{7F}",
        "\\x{FF}",
        "\\x{100}",
        "\\xE9",
        "\\101",
        "\\0",
        "\\777",
        "\\Qa.b*\\E",
        "\\Q(",
        "\\q",
        "\\1",
        "\\_",
        "\\C",
        "\\p{L}",
        "\\pN",
        "\\P{Greek}",
        "\\p{Kawi}",
        "\\p{^Lu}",
        "\\Z",
        "\\x",
        "\\x{}",
        "\\x{41",
        "\\"
    };
    private static final String[] CLASS_ITEMS = {
        "a",
        "z",
        "A",
        "0",
        "-",
        "_",
        ".",
        "a-z",
        "A-Z",
        "0-9",
        "z-a",
        "\\d",
        "\\s",
        "\\W",
        "[:alpha:]",
        "[:^digit:]",
        "[:word:]",
        "[:foo:]",
        "\\p{L}",
        "\\x{FF}",
        "\\x00-\\x7f",
        "é",
        "^",
        "\\]",
        "\\-",
        "[",
        "\\b",
        "!-/"
    };
    private static final String[] FLAGS = {"(?i)", "(?s)", "(?m)", "(?U)", "(?-i)", "(?i-s)", "(?-)", "(?x)", "(?)"};
    private static final String[] ODD = {
        "é",
        "ü",
        "中",
        "^",
        "$",
        "*",
        "+",
        "?",
        ")",
        "(",
        "|",
        "(?=a)",
        "(?P<n>a)",
        "(?P<n>b)",
        "(?<m>c)",
        "(?P<1x>d)",
        "(?P=n)",
        "(?#c)",
        "[]a]",
        "[^]a]",
        "[a",
        "[]",
        "x{2}{3}",
        "a**",
        "a*?+"
    };

    private final Random random;

    private Re2PatternGrammar(Random random) {
        this.random = random;
    }

    public static String pattern(long seed) {
        Random random = new Random(seed);
        return new Re2PatternGrammar(random).alternation(random.nextInt(4));
    }

    private String alternation(int depth) {
        StringBuilder out = new StringBuilder(concatenation(depth));
        int branches = random.nextInt(10) < 7 ? 0 : 1 + random.nextInt(3);
        for (int i = 0; i < branches; i++) {
            out.append('|').append(concatenation(depth));
        }
        return out.toString();
    }

    private String concatenation(int depth) {
        StringBuilder out = new StringBuilder();
        int pieces = random.nextInt(5);
        for (int i = 0; i < pieces; i++) {
            out.append(atom(depth));
            if (random.nextInt(3) == 0) {
                out.append(quantifier());
                if (random.nextInt(25) == 0) {
                    out.append(quantifier());
                }
            }
        }
        return out.toString();
    }

    private String atom(int depth) {
        int choice = random.nextInt(100);
        if (choice < 30) {
            return pick(LITERALS);
        }
        if (choice < 45) {
            return pick(ESCAPES);
        }
        if (choice < 60) {
            StringBuilder out = new StringBuilder("[");
            if (random.nextBoolean()) {
                out.append('^');
            }
            int items = 1 + random.nextInt(4);
            for (int i = 0; i < items; i++) {
                out.append(pick(CLASS_ITEMS));
            }
            return out.append(random.nextInt(30) == 0 ? "" : "]").toString();
        }
        if (choice < 78 && depth > 0) {
            String open = switch (random.nextInt(6)) {
                case 0, 1 -> "(";
                case 2, 3 -> "(?:";
                case 4 -> "(?i:";
                default -> "(?P<g" + random.nextInt(3) + ">";
            };
            return open + alternation(depth - 1) + (random.nextInt(40) == 0 ? "" : ")");
        }
        if (choice < 84) {
            return pick(FLAGS);
        }
        if (choice < 90) {
            return random.nextBoolean() ? "." : "^";
        }
        if (choice < 94) {
            return "$";
        }
        return pick(ODD);
    }

    private String quantifier() {
        String q = switch (random.nextInt(8)) {
            case 0 -> "*";
            case 1 -> "+";
            case 2 -> "?";
            case 3 -> "{" + count() + "}";
            case 4 -> "{" + count() + ",}";
            case 5, 6 -> {
                int a = count();
                int b = random.nextInt(8) == 0 ? count() : a + count();
                yield "{" + a + "," + b + "}";
            }
            default -> random.nextBoolean() ? "{,3}" : "{01}";
        };
        return random.nextInt(5) == 0 ? q + "?" : q;
    }

    /** Mostly small counts; some near RE2's limits of 1000 per repetition and 1000 nested. */
    private int count() {
        return switch (random.nextInt(10)) {
            case 0 -> random.nextInt(1201);
            case 1 -> 990 + random.nextInt(20);
            case 2 -> 20 + random.nextInt(100);
            default -> random.nextInt(12);
        };
    }

    private String pick(String[] choices) {
        return choices[random.nextInt(choices.length)];
    }
}
