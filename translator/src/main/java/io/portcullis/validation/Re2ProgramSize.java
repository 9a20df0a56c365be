package io.portcullis.validation;

import io.portcullis.validation.Re2Node.EmptyWidthKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BinaryOperator;

/**
 * The size of the program RE2 compiles a parsed regex to ({@code RE2::ProgramSize()}), which Envoy
 * compares with {@code re2.max_program_size.error_level}. It follows RE2 step by step: Simplify
 * ({@link Re2Simplifier}), the Latin-1 compiler ({@code re2/compile.cc}), the peephole optimiser and
 * Flatten ({@code re2/prog.cc}), whose instruction count is what RE2 reports.
 *
 * <p>RE2's parser also factors alternations and merges adjacent repetitions; those only ever make its
 * program smaller, so skipping them gives an upper bound, never an undercount. The one rewrite that
 * can make RE2's program larger (a leading {@code ^literal} is matched separately and the rest
 * compiled unanchored) is accounted for by taking the larger of both compilations.
 */
final class Re2ProgramSize {

    private static final int FAIL = 0;
    private static final int ALT = 1;
    private static final int ALT_MATCH = 2;
    private static final int BYTE_RANGE = 3;
    private static final int CAPTURE = 4;
    private static final int EMPTY_WIDTH = 5;
    private static final int MATCH = 6;
    private static final int NOP = 7;

    /** Compiles bigger than this are abandoned: far beyond any program-size limit we would allow. */
    static final int MAX_INSTRUCTIONS = 200_000;

    /** A holed instruction: id << 1, plus 1 for out1. 0 ends a list (instruction 0 is Fail, never a hole). */
    private record PatchList(int head, int tail) {
        static final PatchList NULL = new PatchList(0, 0);
    }

    private record Frag(int begin, PatchList end, boolean nullable) {
        static final Frag NO_MATCH = new Frag(0, PatchList.NULL, false);
    }

    private static final class TooLarge extends RuntimeException {
        TooLarge() {
            super(null, null, false, false);
        }
    }

    private int[] op = new int[64];
    private int[] out = new int[64];
    private int[] out1 = new int[64];
    private int[] lo = new int[64];
    private int[] hi = new int[64];
    private int size;
    private int rangeBegin;
    private PatchList rangeEnd;

    private Re2ProgramSize() {
        alloc(FAIL);
    }

    /**
     * An upper bound of RE2's ProgramSize() for the regex, or -1 when it is far too large to compile.
     */
    static int of(Re2Node parsed) {
        try {
            int size = new Re2ProgramSize().compile(parsed);
            // RE2 matches "^literal..." by searching for the literal and running the rest unanchored.
            if (parsed instanceof Re2Node.Concat concat) {
                List<Re2Node> subs = concat.subs();
                int i = 0;
                while (i < subs.size()
                        && subs.get(i) instanceof Re2Node.EmptyWidth e
                        && e.kind() == EmptyWidthKind.BEGIN_TEXT) {
                    i++;
                }
                if (i > 0 && i < subs.size() && subs.get(i) instanceof Re2Node.Literal) {
                    List<Re2Node> rest = subs.subList(i + 1, subs.size());
                    Re2Node suffix = rest.isEmpty()
                            ? new Re2Node.EmptyMatch()
                            : rest.size() == 1 ? rest.get(0) : new Re2Node.Concat(List.copyOf(rest));
                    size = Math.max(size, new Re2ProgramSize().compile(suffix));
                }
            }
            return size;
        } catch (TooLarge e) {
            return -1;
        }
    }

    // ------------------------------------------------------------------ Compiler (re2/compile.cc, Latin-1)

    private int compile(Re2Node parsed) {
        Re2Simplifier.Simplified simplified = Re2Simplifier.simplified(parsed);
        boolean anchorStart = simplified.anchorStart();
        Frag all = frag(simplified.regex());
        all = cat(all, match());
        int start = all.begin();
        if (!anchorStart) {
            all = cat(dotStar(), all);
        }
        int startUnanchored = all.begin();
        if (start == 0 && startUnanchored == 0) {
            return 1;
        }
        optimize(start);
        return flattenedSize(start, startUnanchored);
    }

    private Frag frag(Re2Node re) {
        switch (re) {
            case Re2Node.NoMatch n -> {
                return Frag.NO_MATCH;
            }
            case Re2Node.EmptyMatch e -> {
                return nop();
            }
            case Re2Node.Literal l -> {
                return byteRange(l.rune(), l.rune());
            }
            case Re2Node.CharClass cc -> {
                boolean foldsAscii = cc.foldsAscii();
                beginRange();
                for (int[] range : cc.ranges()) {
                    // An A-Z range is covered by the case-folded a-z range.
                    if (foldsAscii && 'A' <= range[0] && range[1] <= 'Z') {
                        continue;
                    }
                    addRange(range[0], range[1]);
                }
                return new Frag(rangeBegin, rangeEnd, false);
            }
            case Re2Node.AnyChar a -> {
                beginRange();
                addRange(0, 0xff);
                return new Frag(rangeBegin, rangeEnd, false);
            }
            case Re2Node.AnyByte a -> {
                return byteRange(0, 0xff);
            }
            case Re2Node.EmptyWidth e -> {
                int id = alloc(EMPTY_WIDTH);
                return new Frag(id, mk(id << 1), true);
            }
            case Re2Node.Capture c -> {
                Frag a = frag(c.sub());
                if (a.begin() == 0) {
                    return Frag.NO_MATCH;
                }
                int id = alloc(CAPTURE);
                int id2 = alloc(CAPTURE);
                out[id] = a.begin();
                patch(a.end(), id2);
                return new Frag(id, mk(id2 << 1), a.nullable());
            }
            case Re2Node.Concat c -> {
                return fold(c.subs(), this::cat);
            }
            case Re2Node.Alternate a -> {
                return fold(a.subs(), this::alt);
            }
            case Re2Node.Repeat r -> {
                Frag a = frag(r.sub());
                boolean nonGreedy = (r.flags() & Re2Node.NON_GREEDY) != 0;
                return switch (r.kind()) {
                    case STAR -> star(a, nonGreedy);
                    case PLUS -> plus(a, nonGreedy);
                    case QUEST -> quest(a, nonGreedy);
                };
            }
            case Re2Node.Counted c -> throw new IllegalStateException("counted repetition left after simplify: " + c);
        }
    }

    private int alloc(int opcode) {
        if (size >= MAX_INSTRUCTIONS) {
            throw new TooLarge();
        }
        if (size == op.length) {
            int capacity = size * 2;
            op = Arrays.copyOf(op, capacity);
            out = Arrays.copyOf(out, capacity);
            out1 = Arrays.copyOf(out1, capacity);
            lo = Arrays.copyOf(lo, capacity);
            hi = Arrays.copyOf(hi, capacity);
        }
        op[size] = opcode;
        return size++;
    }

    private static PatchList mk(int hole) {
        return new PatchList(hole, hole);
    }

    private int next(int hole) {
        return (hole & 1) == 0 ? out[hole >> 1] : out1[hole >> 1];
    }

    private void setHole(int hole, int value) {
        if ((hole & 1) == 0) {
            out[hole >> 1] = value;
        } else {
            out1[hole >> 1] = value;
        }
    }

    private void patch(PatchList list, int value) {
        int hole = list.head();
        while (hole != 0) {
            int next = next(hole);
            setHole(hole, value);
            hole = next;
        }
    }

    private PatchList append(PatchList l1, PatchList l2) {
        if (l1.head() == 0) {
            return l2;
        }
        if (l2.head() == 0) {
            return l1;
        }
        setHole(l1.tail(), l2.head());
        return new PatchList(l1.head(), l2.tail());
    }

    /**
     * Compiles every sub-expression first, in order (instruction numbering follows RE2's, which the
     * size count depends on), then joins the fragments left to right.
     */
    private Frag fold(List<Re2Node> subs, BinaryOperator<Frag> join) {
        Frag[] children = new Frag[subs.size()];
        for (int i = 0; i < children.length; i++) {
            children[i] = frag(subs.get(i));
        }
        Frag f = children[0];
        for (int i = 1; i < children.length; i++) {
            f = join.apply(f, children[i]);
        }
        return f;
    }

    private Frag cat(Frag a, Frag b) {
        if (a.begin() == 0 || b.begin() == 0) {
            return Frag.NO_MATCH;
        }
        if (op[a.begin()] == NOP && a.end().head() == (a.begin() << 1) && out[a.begin()] == 0) {
            patch(a.end(), b.begin());
            return b;
        }
        patch(a.end(), b.begin());
        return new Frag(a.begin(), b.end(), a.nullable() && b.nullable());
    }

    private Frag alt(Frag a, Frag b) {
        if (a.begin() == 0) {
            return b;
        }
        if (b.begin() == 0) {
            return a;
        }
        int id = alloc(ALT);
        out[id] = a.begin();
        out1[id] = b.begin();
        return new Frag(id, append(a.end(), b.end()), a.nullable() || b.nullable());
    }

    private Frag plus(Frag a, boolean nonGreedy) {
        int id = alloc(ALT);
        PatchList pl;
        if (nonGreedy) {
            out1[id] = a.begin();
            pl = mk(id << 1);
        } else {
            out[id] = a.begin();
            pl = mk((id << 1) | 1);
        }
        patch(a.end(), id);
        return new Frag(a.begin(), pl, a.nullable());
    }

    private Frag star(Frag a, boolean nonGreedy) {
        // RE2: a nullable body needs (a+)? for correct priorities, one more Alt.
        if (a.nullable()) {
            return quest(plus(a, nonGreedy), nonGreedy);
        }
        int id = alloc(ALT);
        PatchList pl;
        if (nonGreedy) {
            out1[id] = a.begin();
            pl = mk(id << 1);
        } else {
            out[id] = a.begin();
            pl = mk((id << 1) | 1);
        }
        patch(a.end(), id);
        return new Frag(id, pl, true);
    }

    private Frag quest(Frag a, boolean nonGreedy) {
        if (a.begin() == 0) {
            return nop();
        }
        int id = alloc(ALT);
        PatchList pl;
        if (nonGreedy) {
            out1[id] = a.begin();
            pl = mk(id << 1);
        } else {
            out[id] = a.begin();
            pl = mk((id << 1) | 1);
        }
        return new Frag(id, append(pl, a.end()), true);
    }

    private Frag byteRange(int low, int high) {
        int id = alloc(BYTE_RANGE);
        lo[id] = low;
        hi[id] = high;
        return new Frag(id, mk(id << 1), false);
    }

    private Frag nop() {
        int id = alloc(NOP);
        return new Frag(id, mk(id << 1), true);
    }

    private Frag match() {
        int id = alloc(MATCH);
        return new Frag(id, PatchList.NULL, false);
    }

    private Frag dotStar() {
        return star(byteRange(0x00, 0xff), true);
    }

    private void beginRange() {
        rangeBegin = 0;
        rangeEnd = PatchList.NULL;
    }

    /** AddRuneRangeLatin1 + AddSuffix: one ByteRange per range, joined by Alts. */
    private void addRange(int low, int high) {
        Frag f = byteRange(low, high);
        rangeEnd = append(rangeEnd, f.end());
        if (rangeBegin == 0) {
            rangeBegin = f.begin();
            return;
        }
        int id = alloc(ALT);
        out[id] = rangeBegin;
        out1[id] = f.begin();
        rangeBegin = id;
    }

    // ------------------------------------------------------------------ Prog::Optimize and Prog::Flatten

    private void optimize(int start) {
        Set<Integer> queue = new LinkedHashSet<>();
        List<Integer> order = new ArrayList<>();
        enqueue(queue, order, start);
        for (int i = 0; i < order.size(); i++) {
            int id = order.get(i);
            int j = out[id];
            while (j != 0 && op[j] == NOP) {
                j = out[j];
            }
            out[id] = j;
            enqueue(queue, order, j);
            if (op[id] == ALT) {
                j = out1[id];
                while (j != 0 && op[j] == NOP) {
                    j = out[j];
                }
                out1[id] = j;
                enqueue(queue, order, j);
            }
        }
        queue.clear();
        order.clear();
        enqueue(queue, order, start);
        for (int i = 0; i < order.size(); i++) {
            int id = order.get(i);
            enqueue(queue, order, out[id]);
            if (op[id] == ALT) {
                enqueue(queue, order, out1[id]);
                int j = out[id];
                int k = out1[id];
                if (op[j] == BYTE_RANGE && out[j] == id && lo[j] == 0 && hi[j] == 0xff && isMatch(k)) {
                    op[id] = ALT_MATCH;
                } else if (isMatch(j) && op[k] == BYTE_RANGE && out[k] == id && lo[k] == 0 && hi[k] == 0xff) {
                    op[id] = ALT_MATCH;
                }
            }
        }
    }

    private static void enqueue(Set<Integer> queue, List<Integer> order, int id) {
        if (id != 0 && queue.add(id)) {
            order.add(id);
        }
    }

    private boolean isMatch(int id) {
        while (true) {
            switch (op[id]) {
                case CAPTURE, NOP -> id = out[id];
                case MATCH -> {
                    return true;
                }
                default -> {
                    return false;
                }
            }
        }
    }

    private boolean isAlt(int id) {
        return op[id] == ALT || op[id] == ALT_MATCH;
    }

    private int flattenedSize(int start, int startUnanchored) {
        Map<Integer, Integer> rootmap = new LinkedHashMap<>();
        Map<Integer, List<Integer>> predecessors = new LinkedHashMap<>();
        rootmap.put(0, 0);
        rootmap.putIfAbsent(startUnanchored, rootmap.size());
        rootmap.putIfAbsent(start, rootmap.size());
        // MarkSuccessors
        Set<Integer> reachable = new java.util.HashSet<>();
        java.util.ArrayDeque<Integer> stack = new java.util.ArrayDeque<>();
        stack.push(startUnanchored);
        while (!stack.isEmpty()) {
            int id = stack.pop();
            while (reachable.add(id)) {
                if (isAlt(id)) {
                    predecessors
                            .computeIfAbsent(out[id], k -> new ArrayList<>())
                            .add(id);
                    predecessors
                            .computeIfAbsent(out1[id], k -> new ArrayList<>())
                            .add(id);
                    stack.push(out1[id]);
                    id = out[id];
                } else if (op[id] == BYTE_RANGE || op[id] == CAPTURE || op[id] == EMPTY_WIDTH) {
                    rootmap.putIfAbsent(out[id], rootmap.size());
                    id = out[id];
                } else if (op[id] == NOP) {
                    id = out[id];
                } else {
                    break;
                }
            }
        }
        // MarkDominator, for the roots found so far from the highest id down, but not the lowest (Fail).
        List<Integer> sorted = new ArrayList<>(rootmap.keySet());
        sorted.sort(null);
        for (int i = sorted.size() - 1; i > 0; i--) {
            int root = sorted.get(i);
            if (root != startUnanchored && root != start) {
                markDominator(root, rootmap, predecessors);
            }
        }
        int total = 0;
        for (int root : rootmap.keySet()) {
            total += emitListSize(root, rootmap);
        }
        return total;
    }

    private Set<Integer> epsilonReach(int root, Map<Integer, Integer> rootmap) {
        Set<Integer> reachable = new LinkedHashSet<>();
        java.util.ArrayDeque<Integer> stack = new java.util.ArrayDeque<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            int id = stack.pop();
            while (reachable.add(id)) {
                if (id != root && rootmap.containsKey(id)) {
                    break;
                }
                if (isAlt(id)) {
                    stack.push(out1[id]);
                    id = out[id];
                } else if (op[id] == NOP) {
                    id = out[id];
                } else {
                    break;
                }
            }
        }
        return reachable;
    }

    private void markDominator(int root, Map<Integer, Integer> rootmap, Map<Integer, List<Integer>> predecessors) {
        Set<Integer> reachable = epsilonReach(root, rootmap);
        for (int id : reachable) {
            for (int pred : predecessors.getOrDefault(id, List.of())) {
                if (!reachable.contains(pred)) {
                    rootmap.putIfAbsent(id, rootmap.size());
                }
            }
        }
    }

    /** EmitList: one flat instruction per reached non-Alt/Nop instruction, a Nop per other root reached, two per AltMatch. */
    private int emitListSize(int root, Map<Integer, Integer> rootmap) {
        int count = 0;
        for (int id : epsilonReach(root, rootmap)) {
            if (id != root && rootmap.containsKey(id)) {
                count++;
            } else if (op[id] == ALT_MATCH) {
                count++;
            } else if (op[id] != ALT && op[id] != NOP) {
                count++;
            }
        }
        return count;
    }
}
