package io.portcullis.validation;

import io.portcullis.validation.Re2Node.EmptyWidthKind;
import io.portcullis.validation.Re2Node.RepeatKind;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses a regex the way RE2's parser ({@code re2/parse.cc}) does with the options Envoy uses (Perl
 * syntax, Latin-1), refusing everything RE2 refuses, and additionally what Envoy would take with a
 * surprising meaning: non-ASCII characters and {@code \p} Unicode classes (Latin-1 RE2 matches bytes,
 * so {@code é} or {@code \p{L}} would not match what their author means). One parser per regex.
 */
final class Re2Parser {

    /** RE2's maximum_repeat_count: no {n,m} above it, and no product of nested counts above it. */
    static final int MAX_REPEAT = 1000;

    /** Deeper group nesting is refused: no real path needs it, and it keeps this recursive parser's stack small. */
    static final int MAX_GROUP_NESTING = 100;

    private static final String FIX_ESCAPE = "escape a literal character with a backslash, e.g. \\. or \\*";

    private static final Map<String, int[]> PERL_GROUPS = Map.of(
            "d", new int[] {'0', '9'},
            "s", new int[] {'\t', '\n', '\f', '\r', ' ', ' '},
            "w", new int[] {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'});

    private static final Map<String, int[]> POSIX_GROUPS = Map.ofEntries(
            Map.entry("alnum", new int[] {'0', '9', 'A', 'Z', 'a', 'z'}),
            Map.entry("alpha", new int[] {'A', 'Z', 'a', 'z'}),
            Map.entry("ascii", new int[] {0, 0x7f}),
            Map.entry("blank", new int[] {'\t', '\t', ' ', ' '}),
            Map.entry("cntrl", new int[] {0, 0x1f, 0x7f, 0x7f}),
            Map.entry("digit", new int[] {'0', '9'}),
            Map.entry("graph", new int[] {0x21, 0x7e}),
            Map.entry("lower", new int[] {'a', 'z'}),
            Map.entry("print", new int[] {0x20, 0x7e}),
            Map.entry("punct", new int[] {0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e}),
            Map.entry("space", new int[] {0x09, 0x0d, ' ', ' '}),
            Map.entry("upper", new int[] {'A', 'Z'}),
            Map.entry("word", new int[] {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'}),
            Map.entry("xdigit", new int[] {'0', '9', 'A', 'F', 'a', 'f'}));

    /** Why a regex is refused, and what to write instead; the message is shown to the policy author. */
    static final class RegexRefusal extends Exception {
        RegexRefusal(String message) {
            super(message, null, false, false);
        }
    }

    private final String regex;
    private int pos;
    // Perl mode: ^ and $ match at the ends of the text only, until (?m).
    private int flags = Re2Node.ONE_LINE;
    private final Set<String> captureNames = new HashSet<>();
    private int groupDepth;

    /** What "(?" opens. */
    private enum PerlGroup {
        FLAGS_ONLY,
        NON_CAPTURING,
        CAPTURING
    }

    private Re2Parser(String regex) {
        this.regex = regex;
    }

    static Re2Node parse(String regex) throws RegexRefusal {
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c > 0x7f) {
                throw new RegexRefusal(
                        "contains the non-ASCII character '" + c + "' (U+"
                                + String.format("%04X", (int) c)
                                + "); Envoy matches regexes byte by byte, so it would not match"
                                + " that character as one; match its percent-encoded form (e.g. %C3%A9 for é) or use . per byte");
            }
        }
        Re2Parser parser = new Re2Parser(regex);
        Re2Node node = parser.alternation();
        if (parser.pos < regex.length()) {
            throw new RegexRefusal("has an unmatched ')' at offset " + parser.pos + "; remove it or escape it as \\)");
        }
        return node;
    }

    private Re2Node alternation() throws RegexRefusal {
        List<Re2Node> branches = new ArrayList<>();
        branches.add(concatenation());
        while (pos < regex.length() && regex.charAt(pos) == '|') {
            pos++;
            branches.add(concatenation());
        }
        List<Re2Node> flat = new ArrayList<>();
        for (Re2Node branch : branches) {
            if (branch instanceof Re2Node.Alternate alternate) {
                flat.addAll(alternate.subs());
            } else {
                flat.add(branch);
            }
        }
        return flat.size() == 1 ? flat.get(0) : new Re2Node.Alternate(List.copyOf(flat));
    }

    private Re2Node concatenation() throws RegexRefusal {
        List<Re2Node> pieces = new ArrayList<>();
        boolean afterRepetition = false;
        while (pos < regex.length()) {
            char c = regex.charAt(pos);
            if (c == '|' || c == ')') {
                break;
            }
            boolean repetition = false;
            switch (c) {
                case '(' -> group(pieces);
                case '^' -> {
                    pos++;
                    pieces.add(new Re2Node.EmptyWidth(
                            (flags & Re2Node.ONE_LINE) != 0 ? EmptyWidthKind.BEGIN_TEXT : EmptyWidthKind.BEGIN_LINE));
                }
                case '$' -> {
                    pos++;
                    pieces.add(new Re2Node.EmptyWidth(
                            (flags & Re2Node.ONE_LINE) != 0 ? EmptyWidthKind.END_TEXT : EmptyWidthKind.END_LINE));
                }
                case '.' -> {
                    pos++;
                    if ((flags & Re2Node.DOT_NL) != 0) {
                        pieces.add(new Re2Node.AnyChar());
                    } else {
                        BitSet dot = new BitSet(256);
                        dot.set(0, 256);
                        dot.clear('\n');
                        pieces.add(charClass(dot));
                    }
                }
                case '[' -> pieces.add(charClass(bracketClass()));
                case '*', '+', '?' -> {
                    int start = pos++;
                    int opFlags = flags;
                    if (pos < regex.length() && regex.charAt(pos) == '?') {
                        pos++;
                        opFlags ^= Re2Node.NON_GREEDY;
                    }
                    String op = regex.substring(start, pos);
                    requireRepeatable(pieces, afterRepetition, op);
                    RepeatKind kind = c == '*' ? RepeatKind.STAR : c == '+' ? RepeatKind.PLUS : RepeatKind.QUEST;
                    Re2Node top = pieces.get(pieces.size() - 1);
                    // Like RE2: x** is x*, and *+ ?* etc. squash to * when the flags agree.
                    if (top instanceof Re2Node.Repeat r && r.flags() == opFlags) {
                        if (r.kind() != kind) {
                            pieces.set(pieces.size() - 1, new Re2Node.Repeat(RepeatKind.STAR, r.sub(), opFlags));
                        }
                    } else {
                        pieces.set(pieces.size() - 1, new Re2Node.Repeat(kind, top, opFlags));
                    }
                    repetition = true;
                }
                case '{' -> repetition = countedRepetition(pieces, afterRepetition);
                case '\\' -> escape(pieces);
                default -> {
                    pos++;
                    pieces.add(literal(c));
                }
            }
            afterRepetition = repetition;
        }
        List<Re2Node> flat = new ArrayList<>();
        for (Re2Node piece : pieces) {
            if (piece instanceof Re2Node.Concat concat) {
                flat.addAll(concat.subs());
            } else {
                flat.add(piece);
            }
        }
        if (flat.isEmpty()) {
            return new Re2Node.EmptyMatch();
        }
        return flat.size() == 1 ? flat.get(0) : new Re2Node.Concat(List.copyOf(flat));
    }

    private void requireRepeatable(List<Re2Node> pieces, boolean afterRepetition, String op) throws RegexRefusal {
        if (afterRepetition) {
            throw new RegexRefusal("has two repetition operators in a row before offset " + pos + " ('" + op
                    + "' follows another); RE2 refuses that: group the inner repetition, e.g. (?:a*)" + op);
        }
        if (pieces.isEmpty()) {
            throw new RegexRefusal("has the repetition operator '" + op + "' at offset " + (pos - op.length())
                    + " with nothing before it to repeat; " + FIX_ESCAPE);
        }
    }

    private boolean countedRepetition(List<Re2Node> pieces, boolean afterRepetition) throws RegexRefusal {
        int start = pos;
        int[] range = repetitionRange();
        if (range == null) {
            // Not {n}, {n,} or {n,m}: RE2 takes the brace literally.
            pos++;
            pieces.add(literal('{'));
            return false;
        }
        int opFlags = flags;
        if (pos < regex.length() && regex.charAt(pos) == '?') {
            pos++;
            opFlags ^= Re2Node.NON_GREEDY;
        }
        String op = regex.substring(start, pos);
        int min = range[0];
        int max = range[1];
        if (afterRepetition) {
            requireRepeatable(pieces, true, op);
        }
        if ((max != -1 && max < min) || min > MAX_REPEAT || max > MAX_REPEAT) {
            throw new RegexRefusal("has the repetition " + op
                    + (max != -1 && max < min
                            ? ", whose maximum is below its minimum; write {min,max} with min <= max"
                            : ", above RE2's limit of " + MAX_REPEAT + "; use + or * for \"many\", e.g. [a-z]+"));
        }
        requireRepeatable(pieces, false, op);
        Re2Node.Counted counted = new Re2Node.Counted(pieces.get(pieces.size() - 1), min, max, opFlags);
        if ((min >= 2 || max >= 2) && repetitionBudget(counted, MAX_REPEAT) == 0) {
            throw new RegexRefusal("nests repetitions whose counts multiply to more than " + MAX_REPEAT + " (at " + op
                    + "), which RE2 refuses; use + or * for the inner or outer repetition");
        }
        pieces.set(pieces.size() - 1, counted);
        return true;
    }

    /** RE2's RepetitionWalker: what is left of the budget after dividing by every nested count. */
    private static int repetitionBudget(Re2Node node, int budget) {
        if (node instanceof Re2Node.Counted counted) {
            int m = counted.max() < 0 ? counted.min() : counted.max();
            if (m > 0) {
                budget /= m;
            }
        }
        int result = budget;
        for (Re2Node child : children(node)) {
            result = Math.min(result, repetitionBudget(child, budget));
        }
        return result;
    }

    static List<Re2Node> children(Re2Node node) {
        return switch (node) {
            case Re2Node.Capture c -> List.of(c.sub());
            case Re2Node.Concat c -> c.subs();
            case Re2Node.Alternate a -> a.subs();
            case Re2Node.Repeat r -> List.of(r.sub());
            case Re2Node.Counted c -> List.of(c.sub());
            default -> List.of();
        };
    }

    /** RE2's MaybeParseRepetition: {n}, {n,} or {n,m} (max -1 for none), or null when it is none of those. */
    private int[] repetitionRange() {
        int p = pos + 1;
        int[] lo = integer(p);
        if (lo == null || lo[1] >= regex.length()) {
            return null;
        }
        p = lo[1];
        int max;
        if (regex.charAt(p) == ',') {
            p++;
            if (p >= regex.length()) {
                return null;
            }
            if (regex.charAt(p) == '}') {
                max = -1;
            } else {
                int[] hi = integer(p);
                if (hi == null) {
                    return null;
                }
                max = hi[0];
                p = hi[1];
            }
        } else {
            max = lo[0];
        }
        if (p >= regex.length() || regex.charAt(p) != '}') {
            return null;
        }
        pos = p + 1;
        return new int[] {lo[0], max};
    }

    /** {value, end offset}, or null: no digits, a leading zero, or 100000000 and more. */
    private int[] integer(int p) {
        if (p >= regex.length() || !isDigit(regex.charAt(p))) {
            return null;
        }
        if (p + 1 < regex.length() && regex.charAt(p) == '0' && isDigit(regex.charAt(p + 1))) {
            return null;
        }
        int n = 0;
        while (p < regex.length() && isDigit(regex.charAt(p))) {
            if (n >= 100_000_000) {
                return null;
            }
            n = n * 10 + regex.charAt(p) - '0';
            p++;
        }
        return new int[] {n, p};
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void group(List<Re2Node> pieces) throws RegexRefusal {
        int open = pos;
        int outerFlags = flags;
        boolean capture = true;
        if (regex.startsWith("(?", pos)) {
            PerlGroup kind = perlGroup();
            if (kind == PerlGroup.FLAGS_ONLY) {
                return; // (?i) and friends: only the flags change, up to the end of the enclosing group
            }
            capture = kind == PerlGroup.CAPTURING;
        } else {
            pos++;
        }
        if (++groupDepth > MAX_GROUP_NESTING) {
            throw new RegexRefusal("nests groups more than " + MAX_GROUP_NESTING + " deep (at offset " + open
                    + "); remove the parentheses that group nothing");
        }
        Re2Node inner = alternation();
        groupDepth--;
        if (pos >= regex.length()) {
            throw new RegexRefusal("has a '(' at offset " + open + " that is never closed; add the missing ')'");
        }
        pos++; // ')'
        flags = outerFlags;
        pieces.add(capture ? new Re2Node.Capture(inner) : inner);
    }

    /** At "(?": parses flags, a non-capturing or a named group; the group's flags are in effect after it. */
    private PerlGroup perlGroup() throws RegexRefusal {
        String rest = regex.substring(pos);
        if ((rest.length() > 3 && (rest.charAt(2) == '=' || rest.charAt(2) == '!'))
                || (rest.length() > 4 && rest.charAt(2) == '<' && (rest.charAt(3) == '=' || rest.charAt(3) == '!'))) {
            throw new RegexRefusal("uses a look-around assertion at offset " + pos
                    + ", which RE2 does not support; match the text itself instead");
        }
        if ((rest.length() > 4 && rest.charAt(2) == 'P' && rest.charAt(3) == '<')
                || (rest.length() > 3 && rest.charAt(2) == '<')) {
            int begin = rest.charAt(2) == 'P' ? 4 : 3;
            int end = rest.indexOf('>', begin);
            String name = end < 0 ? "" : rest.substring(begin, end);
            if (end < 0 || !name.matches("[A-Za-z0-9_]+")) {
                throw new RegexRefusal("has an invalid capture group name at offset " + pos
                        + "; write (?P<name>...) with a name of letters, digits and _");
            }
            // Older RE2 releases refuse a repeated name; refusing it here keeps us safe on any of them.
            if (!captureNames.add(name)) {
                throw new RegexRefusal("names two capture groups '" + name + "'; give each group its own name");
            }
            pos += end + 1;
            return PerlGroup.CAPTURING;
        }
        int p = pos + 2;
        int newFlags = flags;
        boolean negated = false;
        boolean sawFlags = false;
        while (true) {
            if (p >= regex.length()) {
                throw badPerlGroup(p);
            }
            char c = regex.charAt(p++);
            int bit;
            switch (c) {
                case 'i' -> bit = Re2Node.FOLD_CASE;
                case 'm' -> bit = Re2Node.ONE_LINE;
                case 's' -> bit = Re2Node.DOT_NL;
                case 'U' -> bit = Re2Node.NON_GREEDY;
                case '-' -> {
                    if (negated) {
                        throw badPerlGroup(p);
                    }
                    negated = true;
                    sawFlags = false;
                    continue;
                }
                case ':', ')' -> {
                    if (negated && !sawFlags) {
                        throw badPerlGroup(p);
                    }
                    pos = p;
                    flags = newFlags;
                    return c == ':' ? PerlGroup.NON_CAPTURING : PerlGroup.FLAGS_ONLY;
                }
                default -> throw badPerlGroup(p);
            }
            sawFlags = true;
            // (?m) clears OneLine: ^ and $ then match at line breaks too.
            boolean set = (bit == Re2Node.ONE_LINE) == negated;
            newFlags = set ? newFlags | bit : newFlags & ~bit;
        }
    }

    private RegexRefusal badPerlGroup(int end) {
        return new RegexRefusal(
                "has the unsupported group syntax '" + regex.substring(pos, Math.min(end, regex.length()))
                        + "'; RE2 knows (?:...), (?P<name>...) and the flags i, m, s, U as in (?i) or (?i:...)");
    }

    private void escape(List<Re2Node> pieces) throws RegexRefusal {
        if (pos + 1 >= regex.length()) {
            throw new RegexRefusal("ends with a lone backslash; escape it as \\\\ or remove it");
        }
        char c = regex.charAt(pos + 1);
        switch (c) {
            case 'b' -> {
                pos += 2;
                pieces.add(new Re2Node.EmptyWidth(EmptyWidthKind.WORD_BOUNDARY));
                return;
            }
            case 'B' -> {
                pos += 2;
                pieces.add(new Re2Node.EmptyWidth(EmptyWidthKind.NO_WORD_BOUNDARY));
                return;
            }
            case 'A' -> {
                pos += 2;
                pieces.add(new Re2Node.EmptyWidth(EmptyWidthKind.BEGIN_TEXT));
                return;
            }
            case 'z' -> {
                pos += 2;
                pieces.add(new Re2Node.EmptyWidth(EmptyWidthKind.END_TEXT));
                return;
            }
            case 'C' -> {
                pos += 2;
                pieces.add(new Re2Node.AnyByte());
                return;
            }
            case 'Q' -> {
                pos += 2;
                while (pos < regex.length()) {
                    if (regex.startsWith("\\E", pos)) {
                        pos += 2;
                        break;
                    }
                    pieces.add(literal(regex.charAt(pos++)));
                }
                return;
            }
            case 'p', 'P' -> throw unicodeClass();
            default -> {
                int[] group = PERL_GROUPS.get(String.valueOf(Character.toLowerCase(c)));
                if (group != null && "dswDSW".indexOf(c) >= 0) {
                    pos += 2;
                    BitSet set = new BitSet(256);
                    addGroup(set, group, Character.isUpperCase(c));
                    pieces.add(charClass(set));
                    return;
                }
            }
        }
        pieces.add(literal(escapedCharacter()));
    }

    private RegexRefusal unicodeClass() {
        return new RegexRefusal("uses the Unicode class '" + regex.substring(pos, Math.min(pos + 2, regex.length()))
                + "...' at offset " + pos + "; Envoy's RE2 matches bytes (Latin-1), where Unicode classes do not mean"
                + " what they say; write the ASCII class you mean, e.g. [A-Za-z] or [0-9]");
    }

    /** RE2's ParseEscape at a backslash, with runes limited to ASCII (see the class comment). */
    private int escapedCharacter() throws RegexRefusal {
        int start = pos;
        if (pos + 1 >= regex.length()) {
            throw new RegexRefusal("ends with a lone backslash; escape it as \\\\ or remove it");
        }
        pos++;
        char c = regex.charAt(pos++);
        int code;
        switch (c) {
            case '1', '2', '3', '4', '5', '6', '7', '0' -> {
                if (c != '0' && (pos >= regex.length() || regex.charAt(pos) < '0' || regex.charAt(pos) > '7')) {
                    throw new RegexRefusal("uses the backreference " + regex.substring(start, pos)
                            + ", which RE2 does not support; for an octal escape write three digits, e.g. \\101");
                }
                code = c - '0';
                for (int i = 0;
                        i < 2 && pos < regex.length() && regex.charAt(pos) >= '0' && regex.charAt(pos) <= '7';
                        i++) {
                    code = code * 8 + regex.charAt(pos++) - '0';
                }
                return checkedRune(code, start);
            }
            case 'x' -> {
                if (pos < regex.length() && regex.charAt(pos) == '{') {
                    pos++;
                    int digits = 0;
                    code = 0;
                    while (pos < regex.length() && Character.digit(regex.charAt(pos), 16) >= 0) {
                        code = code * 16 + Character.digit(regex.charAt(pos++), 16);
                        digits++;
                        if (code > 0xff) {
                            throw outsideLatin1(start);
                        }
                    }
                    if (digits == 0 || pos >= regex.length() || regex.charAt(pos) != '}') {
                        throw badEscape(start);
                    }
                    pos++;
                    return checkedRune(code, start);
                }
                if (pos + 1 >= regex.length()
                        || Character.digit(regex.charAt(pos), 16) < 0
                        || Character.digit(regex.charAt(pos + 1), 16) < 0) {
                    pos = Math.min(pos + 2, regex.length());
                    throw badEscape(start);
                }
                code = Character.digit(regex.charAt(pos), 16) * 16 + Character.digit(regex.charAt(pos + 1), 16);
                pos += 2;
                return checkedRune(code, start);
            }
            case 'n' -> {
                return '\n';
            }
            case 'r' -> {
                return '\r';
            }
            case 't' -> {
                return '\t';
            }
            case 'a' -> {
                return 0x07;
            }
            case 'f' -> {
                return '\f';
            }
            case 'v' -> {
                return 0x0b;
            }
            default -> {
                if (c < 0x80 && !Character.isLetterOrDigit(c)) {
                    return c;
                }
                throw badEscape(start);
            }
        }
    }

    private int checkedRune(int code, int start) throws RegexRefusal {
        if (code > 0xff) {
            throw outsideLatin1(start);
        }
        if (code > 0x7f) {
            throw new RegexRefusal(
                    "has the escape " + regex.substring(start, pos) + ", which Envoy matches as the single byte 0x"
                            + String.format("%02X", code) + ", not as the character U+" + String.format("%04X", code)
                            + " (in UTF-8 that is two bytes); match the percent-encoded or UTF-8 bytes as ASCII text instead,"
                            + " or use . for any byte");
        }
        return code;
    }

    private RegexRefusal outsideLatin1(int start) {
        int end = regex.indexOf('}', start);
        String escape = regex.substring(start, end < 0 ? Math.min(pos, regex.length()) : end + 1);
        return new RegexRefusal(
                "has the escape " + escape + ", which Envoy refuses: its RE2 runs in Latin-1 mode, where"
                        + " escapes above \\x{FF} are invalid; match ASCII text instead (e.g. the percent-encoded form)");
    }

    private RegexRefusal badEscape(int start) {
        return new RegexRefusal(
                "has the invalid escape sequence '" + regex.substring(start, Math.min(pos, regex.length()))
                        + "' at offset " + start + "; " + FIX_ESCAPE + ", or use \\d \\s \\w \\xHH");
    }

    /** RE2's PushLiteral: with (?i) an ASCII letter matches both cases. */
    private Re2Node literal(int c) {
        boolean fold = (flags & Re2Node.FOLD_CASE) != 0;
        if (fold && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
            return new Re2Node.Literal(Character.toLowerCase(c), true);
        }
        return new Re2Node.Literal(c, fold);
    }

    /** RE2's PushRegexp: a class of one byte is a literal, and [Aa] is a case-folded literal. */
    private Re2Node charClass(BitSet set) {
        int count = set.cardinality();
        if (count == 1) {
            return new Re2Node.Literal(set.nextSetBit(0), (flags & Re2Node.FOLD_CASE) != 0);
        }
        int first = set.nextSetBit(0);
        if (count == 2 && first >= 'A' && first <= 'Z' && set.get(first + 'a' - 'A')) {
            return new Re2Node.Literal(first + 'a' - 'A', true);
        }
        return new Re2Node.CharClass(set);
    }

    /** RE2's ParseCharClass, at '['. */
    private BitSet bracketClass() throws RegexRefusal {
        int start = pos;
        pos++;
        boolean negated = false;
        if (pos < regex.length() && regex.charAt(pos) == '^') {
            pos++;
            negated = true;
        }
        BitSet set = new BitSet(256);
        boolean first = true;
        while (pos < regex.length() && (regex.charAt(pos) != ']' || first)) {
            first = false;
            if (regex.length() - pos > 2 && regex.startsWith("[:", pos)) {
                int close = regex.indexOf(":]", pos + 2);
                if (close >= 0) {
                    String name = regex.substring(pos + 2, close);
                    boolean negatedGroup = name.startsWith("^");
                    int[] group = POSIX_GROUPS.get(negatedGroup ? name.substring(1) : name);
                    if (group == null) {
                        throw new RegexRefusal(
                                "has the unknown character class [" + regex.substring(pos + 1, close + 1)
                                        + "]; RE2 knows [:alnum:] [:alpha:] [:digit:] [:lower:] [:upper:] [:space:] [:word:] etc.");
                    }
                    addGroup(set, group, negatedGroup);
                    pos = close + 2;
                    continue;
                }
            }
            if (regex.length() - pos > 2
                    && regex.charAt(pos) == '\\'
                    && (regex.charAt(pos + 1) == 'p' || regex.charAt(pos + 1) == 'P')) {
                throw unicodeClass();
            }
            if (regex.length() - pos >= 2
                    && regex.charAt(pos) == '\\'
                    && "dswDSW".indexOf(regex.charAt(pos + 1)) >= 0) {
                char c = regex.charAt(pos + 1);
                addGroup(set, PERL_GROUPS.get(String.valueOf(Character.toLowerCase(c))), Character.isUpperCase(c));
                pos += 2;
                continue;
            }
            int rangeStart = pos;
            int lo = classCharacter(start);
            int hi = lo;
            if (regex.length() - pos >= 2 && regex.charAt(pos) == '-' && regex.charAt(pos + 1) != ']') {
                pos++;
                hi = classCharacter(start);
                if (hi < lo) {
                    throw new RegexRefusal("has the character range " + regex.substring(rangeStart, pos)
                            + " whose end is before its start; write the lower character first, or escape - as \\-");
                }
            }
            addRange(set, lo, hi);
        }
        if (pos >= regex.length()) {
            throw new RegexRefusal("has a '[' at offset " + start + " that is never closed; add the missing ']'"
                    + " or escape the bracket as \\[");
        }
        pos++; // ']'
        if (negated) {
            set.flip(0, 256);
        }
        return set;
    }

    private int classCharacter(int classStart) throws RegexRefusal {
        if (pos >= regex.length()) {
            throw new RegexRefusal("has a '[' at offset " + classStart + " that is never closed; add the missing ']'"
                    + " or escape the bracket as \\[");
        }
        if (regex.charAt(pos) == '\\') {
            return escapedCharacter();
        }
        return regex.charAt(pos++);
    }

    /** RE2's AddRangeFlags: with (?i), ASCII letters come in both cases. */
    private void addRange(BitSet set, int lo, int hi) {
        set.set(lo, hi + 1);
        if ((flags & Re2Node.FOLD_CASE) != 0) {
            for (int c = lo; c <= hi; c++) {
                if (c >= 'A' && c <= 'Z') {
                    set.set(c - 'A' + 'a');
                } else if (c >= 'a' && c <= 'z') {
                    set.set(c - 'a' + 'A');
                }
            }
        }
    }

    /** RE2's AddUGroup for the ASCII Perl and POSIX groups; a negated group is the complement of the folded group. */
    private void addGroup(BitSet set, int[] ranges, boolean negated) {
        BitSet group = new BitSet(256);
        for (int i = 0; i < ranges.length; i += 2) {
            addRange(group, ranges[i], ranges[i + 1]);
        }
        if (negated) {
            group.flip(0, 256);
        }
        set.or(group);
    }
}
