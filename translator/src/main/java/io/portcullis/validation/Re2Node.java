package io.portcullis.validation;

import java.util.BitSet;
import java.util.List;

/**
 * A parsed RE2 regular expression in RE2's own shapes (the ops of {@code re2/regexp.h}), so that
 * {@link Re2ProgramSize} can compile it to the same instructions RE2 does. Characters are bytes:
 * Envoy runs RE2 in Latin-1 mode, where one character is one byte (0-255).
 */
sealed interface Re2Node {

    /** Parse flags that change what RE2 builds; two repetitions squash only when they are equal. */
    int FOLD_CASE = 1;

    int ONE_LINE = 2;
    int DOT_NL = 4;
    int NON_GREEDY = 8;

    /** Matches nothing (an empty character class). */
    record NoMatch() implements Re2Node {}

    /** Matches the empty string, e.g. {@code (?:)} or {@code x{0}}. */
    record EmptyMatch() implements Re2Node {}

    /** One byte; {@code foldCase} makes RE2 match an ASCII letter in either case. */
    record Literal(int rune, boolean foldCase) implements Re2Node {}

    /** A set of bytes (RE2 turns a set of one byte into a {@link Literal}; an empty set matches nothing). */
    record CharClass(BitSet bytes) implements Re2Node {

        /** Like RE2's CharClassBuilder::FoldsASCII: every ASCII letter is in the set in both cases or in neither. */
        boolean foldsAscii() {
            for (int c = 'a'; c <= 'z'; c++) {
                if (bytes.get(c) != bytes.get(c - 'a' + 'A')) {
                    return false;
                }
            }
            return true;
        }

        /** The maximal runs of consecutive bytes, as {lo, hi} pairs in ascending order. */
        List<int[]> ranges() {
            List<int[]> ranges = new java.util.ArrayList<>();
            for (int lo = bytes.nextSetBit(0); lo >= 0; ) {
                int hi = bytes.nextClearBit(lo) - 1;
                ranges.add(new int[] {lo, hi});
                lo = bytes.nextSetBit(hi + 1);
            }
            return ranges;
        }
    }

    /** {@code (?s).}: any byte. */
    record AnyChar() implements Re2Node {}

    /** {@code \C}: any byte. */
    record AnyByte() implements Re2Node {}

    enum EmptyWidthKind {
        BEGIN_LINE,
        END_LINE,
        BEGIN_TEXT,
        END_TEXT,
        WORD_BOUNDARY,
        NO_WORD_BOUNDARY
    }

    /** {@code ^ $ \A \z \b \B}. */
    record EmptyWidth(EmptyWidthKind kind) implements Re2Node {}

    record Capture(Re2Node sub) implements Re2Node {}

    record Concat(List<Re2Node> subs) implements Re2Node {}

    record Alternate(List<Re2Node> subs) implements Re2Node {}

    enum RepeatKind {
        STAR,
        PLUS,
        QUEST
    }

    /** {@code x* x+ x?}; {@code flags} decide greediness and whether two of them squash into one. */
    record Repeat(RepeatKind kind, Re2Node sub, int flags) implements Re2Node {}

    /** {@code x{min,max}}, max -1 for {@code x{min,}}. */
    record Counted(Re2Node sub, int min, int max, int flags) implements Re2Node {}
}
