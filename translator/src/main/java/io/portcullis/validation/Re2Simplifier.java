package io.portcullis.validation;

import io.portcullis.validation.Re2Node.EmptyWidthKind;
import io.portcullis.validation.Re2Node.RepeatKind;
import java.util.ArrayList;
import java.util.List;

/**
 * RE2's {@code Regexp::Simplify} ({@code re2/simplify.cc}) and the anchor removal of its compiler: what
 * a parsed regex becomes before it is compiled. Adjacent repetitions of one character merge (a*a is
 * a{1,}), counted repetitions become copies (x{2,5} is xx(x(x(x)?)?)?), and a leading \A / trailing \z
 * become flags of the program instead of instructions.
 */
final class Re2Simplifier {

    /** The simplified regex, and whether a leading \A was removed (the program is then anchored at the start). */
    record Simplified(Re2Node regex, boolean anchorStart) {}

    private Re2Simplifier() {}

    static Simplified simplified(Re2Node parsed) {
        Re2Node[] holder = {simplify(coalesce(parsed))};
        boolean anchorStart = removeAnchor(holder, 0, true);
        removeAnchor(holder, 0, false);
        return new Simplified(holder[0], anchorStart);
    }

    /** CoalesceWalker: a*a, a+a*, a{2}a? and the like become one counted repetition (a{1,}, a{1,}, a{2,3}). */
    private static Re2Node coalesce(Re2Node re) {
        return switch (re) {
            case Re2Node.Concat c -> {
                List<Re2Node> subs = new ArrayList<>();
                for (Re2Node sub : c.subs()) {
                    subs.add(coalesce(sub));
                }
                boolean changed = false;
                for (int i = 0; i + 1 < subs.size(); i++) {
                    Re2Node merged = coalesced(subs.get(i), subs.get(i + 1));
                    if (merged != null) {
                        subs.set(i, new Re2Node.EmptyMatch());
                        subs.set(i + 1, merged);
                        changed = true;
                    }
                }
                if (changed) {
                    subs.removeIf(sub -> sub instanceof Re2Node.EmptyMatch);
                }
                yield new Re2Node.Concat(List.copyOf(subs));
            }
            case Re2Node.Alternate a ->
                new Re2Node.Alternate(
                        a.subs().stream().map(Re2Simplifier::coalesce).toList());
            case Re2Node.Capture c -> new Re2Node.Capture(coalesce(c.sub()));
            case Re2Node.Repeat r -> new Re2Node.Repeat(r.kind(), coalesce(r.sub()), r.flags());
            case Re2Node.Counted c -> new Re2Node.Counted(coalesce(c.sub()), c.min(), c.max(), c.flags());
            default -> re;
        };
    }

    private static boolean isSingleCharacter(Re2Node re) {
        return re instanceof Re2Node.Literal
                || re instanceof Re2Node.CharClass
                || re instanceof Re2Node.AnyChar
                || re instanceof Re2Node.AnyByte;
    }

    /** CanCoalesce + DoCoalesce: the counted repetition r1 r2 amount to, or null. */
    private static Re2Node coalesced(Re2Node r1, Re2Node r2) {
        Re2Node sub;
        int min;
        int max;
        int flags;
        switch (r1) {
            case Re2Node.Repeat r
            when isSingleCharacter(r.sub()) -> {
                sub = r.sub();
                flags = r.flags();
                min = r.kind() == RepeatKind.PLUS ? 1 : 0;
                max = r.kind() == RepeatKind.QUEST ? 1 : -1;
            }
            case Re2Node.Counted c
            when isSingleCharacter(c.sub()) -> {
                sub = c.sub();
                flags = c.flags();
                min = c.min();
                max = c.max();
            }
            default -> {
                return null;
            }
        }
        switch (r2) {
            case Re2Node.Repeat r
            when r.sub().equals(sub) && (r.flags() & Re2Node.NON_GREEDY) == (flags & Re2Node.NON_GREEDY) -> {
                if (r.kind() == RepeatKind.PLUS) {
                    min++;
                }
                if (r.kind() == RepeatKind.QUEST) {
                    max = max == -1 ? -1 : max + 1;
                } else {
                    max = -1;
                }
            }
            case Re2Node.Counted c
            when c.sub().equals(sub) && (c.flags() & Re2Node.NON_GREEDY) == (flags & Re2Node.NON_GREEDY) -> {
                min += c.min();
                max = c.max() == -1 || max == -1 ? -1 : max + c.max();
            }
            default -> {
                if (!r2.equals(sub)) {
                    return null;
                }
                min++;
                max = max == -1 ? -1 : max + 1;
            }
        }
        return new Re2Node.Counted(sub, min, max, flags);
    }

    private static Re2Node simplify(Re2Node re) {
        return switch (re) {
            case Re2Node.Concat c -> {
                List<Re2Node> subs = simplifyAll(c.subs());
                yield subs == c.subs() ? c : new Re2Node.Concat(subs);
            }
            case Re2Node.Alternate a -> {
                List<Re2Node> subs = simplifyAll(a.subs());
                yield subs == a.subs() ? a : new Re2Node.Alternate(subs);
            }
            case Re2Node.Capture c -> {
                Re2Node sub = simplify(c.sub());
                yield sub == c.sub() ? c : new Re2Node.Capture(sub);
            }
            case Re2Node.Repeat r -> {
                Re2Node sub = simplify(r.sub());
                if (sub instanceof Re2Node.EmptyMatch) {
                    yield sub;
                }
                if (sub == r.sub()) {
                    yield r;
                }
                if (sub instanceof Re2Node.Repeat s && s.kind() == r.kind() && s.flags() == r.flags()) {
                    yield sub;
                }
                yield new Re2Node.Repeat(r.kind(), sub, r.flags());
            }
            case Re2Node.Counted c -> {
                Re2Node sub = simplify(c.sub());
                yield sub instanceof Re2Node.EmptyMatch ? sub : simplifyCounted(sub, c.min(), c.max(), c.flags());
            }
            case Re2Node.CharClass cc -> cc.bytes().isEmpty() ? new Re2Node.NoMatch() : cc;
            default -> re;
        };
    }

    private static List<Re2Node> simplifyAll(List<Re2Node> subs) {
        List<Re2Node> result = new ArrayList<>(subs.size());
        boolean changed = false;
        for (Re2Node sub : subs) {
            Re2Node s = simplify(sub);
            changed |= s != sub;
            result.add(s);
        }
        return changed ? List.copyOf(result) : subs;
    }

    private static boolean isEmptyOp(Re2Node re) {
        return re instanceof Re2Node.EmptyWidth;
    }

    /** SimplifyWalker::SimplifyRepeat: x{2,5} is xx(x(x(x)?)?)?, x{3,} is xxx+. */
    private static Re2Node simplifyCounted(Re2Node re, int min, int max, int flags) {
        List<Re2Node> subs = Re2Parser.children(re);
        if (isEmptyOp(re)
                || ((re instanceof Re2Node.Concat || re instanceof Re2Node.Alternate)
                        && subs.stream().allMatch(Re2Simplifier::isEmptyOp))) {
            min = Math.min(min, 1);
            max = Math.min(max, 1);
        }
        if (max == -1) {
            if (min == 0) {
                return starPlusOrQuest(RepeatKind.STAR, re, flags);
            }
            if (min == 1) {
                return starPlusOrQuest(RepeatKind.PLUS, re, flags);
            }
            List<Re2Node> copies = new ArrayList<>(java.util.Collections.nCopies(min - 1, re));
            copies.add(starPlusOrQuest(RepeatKind.PLUS, re, flags));
            return new Re2Node.Concat(copies);
        }
        if (min == 0 && max == 0) {
            return new Re2Node.EmptyMatch();
        }
        if (min == 1 && max == 1) {
            return re;
        }
        Re2Node prefix = null;
        if (min > 0) {
            prefix = min == 1 ? re : new Re2Node.Concat(java.util.Collections.nCopies(min, re));
        }
        if (max > min) {
            Re2Node suffix = starPlusOrQuest(RepeatKind.QUEST, re, flags);
            for (int i = min + 1; i < max; i++) {
                suffix = starPlusOrQuest(RepeatKind.QUEST, new Re2Node.Concat(List.of(re, suffix)), flags);
            }
            prefix = prefix == null ? suffix : new Re2Node.Concat(List.of(prefix, suffix));
        }
        return prefix;
    }

    /** Regexp::StarPlusOrQuest: x** is x*, and x*+ x+? etc. are x* when the flags agree. */
    private static Re2Node starPlusOrQuest(RepeatKind kind, Re2Node sub, int flags) {
        if (sub instanceof Re2Node.Repeat r && r.flags() == flags) {
            if (r.kind() == kind || r.kind() == RepeatKind.STAR) {
                return sub;
            }
            return new Re2Node.Repeat(RepeatKind.STAR, r.sub(), flags);
        }
        return new Re2Node.Repeat(kind, sub, flags);
    }

    /** IsAnchorStart / IsAnchorEnd: a leading \A (trailing \z) is dropped and recorded on the program instead. */
    private static boolean removeAnchor(Re2Node[] holder, int depth, boolean start) {
        Re2Node re = holder[0];
        if (depth >= 4) {
            return false;
        }
        switch (re) {
            case Re2Node.Concat c
            when !c.subs().isEmpty() -> {
                int index = start ? 0 : c.subs().size() - 1;
                Re2Node[] sub = {c.subs().get(index)};
                if (removeAnchor(sub, depth + 1, start)) {
                    List<Re2Node> subs = new ArrayList<>(c.subs());
                    subs.set(index, sub[0]);
                    holder[0] = new Re2Node.Concat(subs);
                    return true;
                }
                return false;
            }
            case Re2Node.Capture c -> {
                Re2Node[] sub = {c.sub()};
                if (removeAnchor(sub, depth + 1, start)) {
                    holder[0] = new Re2Node.Capture(sub[0]);
                    return true;
                }
                return false;
            }
            case Re2Node.EmptyWidth e
            when e.kind() == (start ? EmptyWidthKind.BEGIN_TEXT : EmptyWidthKind.END_TEXT) -> {
                holder[0] = new Re2Node.EmptyMatch();
                return true;
            }
            default -> {
                return false;
            }
        }
    }
}
