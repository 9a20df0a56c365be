package io.portcullis.input;

/**
 * Orders values by the text they print as, without building that text. Resource keys, policy origins and
 * IP ranges sort as printed because route names and reports were strings first; but they are compared
 * millions of times while models are merged (sorted sets of origins per port and host), and building two
 * strings per comparison was the largest cost of a full translation.
 */
public final class PrintedOrder {

    private PrintedOrder() {}

    /**
     * Compares the concatenation of {@code left}'s parts with that of {@code right}'s, as {@link
     * String#compareTo} would compare the joined strings.
     */
    public static int compare(String[] left, String[] right) {
        int li = 0;
        int lj = 0;
        int ri = 0;
        int rj = 0;
        while (true) {
            while (li < left.length && lj == left[li].length()) {
                li++;
                lj = 0;
            }
            while (ri < right.length && rj == right[ri].length()) {
                ri++;
                rj = 0;
            }
            boolean leftEnded = li == left.length;
            boolean rightEnded = ri == right.length;
            if (leftEnded || rightEnded) {
                return leftEnded && rightEnded ? 0 : leftEnded ? -1 : 1;
            }
            char l = left[li].charAt(lj++);
            char r = right[ri].charAt(rj++);
            if (l != r) {
                return l - r;
            }
        }
    }
}
