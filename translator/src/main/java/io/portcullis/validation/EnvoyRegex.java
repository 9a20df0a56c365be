package io.portcullis.validation;

import io.portcullis.bootstrap.SidecarContract;

/**
 * Decides whether Envoy accepts a regex as a safe_regex: RE2 syntax as Envoy's RE2 (Latin-1 mode)
 * parses it, and a program no larger than the sidecars' limit ({@link SidecarContract}). A regex
 * accepted here is accepted by Envoy; some regexes Envoy would take are refused on purpose, each with
 * the reason and what to write instead.
 */
public final class EnvoyRegex {

    public sealed interface Verdict permits Accepted, Refused {}

    /** @param programSizeBound at least RE2's ProgramSize() for the regex */
    public record Accepted(int programSizeBound) implements Verdict {}

    /** @param reason why, and what to write instead; reads after the quoted regex */
    public record Refused(String reason) implements Verdict {}

    private EnvoyRegex() {}

    public static Verdict check(String regex) {
        return check(regex, SidecarContract.REGEX_MAX_PROGRAM_SIZE);
    }

    public static Verdict check(String regex, int maxProgramSize) {
        if (regex.isEmpty()) {
            return new Refused("is empty, which Envoy refuses; write .* to match anything");
        }
        Re2Node parsed;
        try {
            parsed = Re2Parser.parse(regex);
        } catch (Re2Parser.RegexRefusal e) {
            return new Refused(e.getMessage());
        }
        int size = Re2ProgramSize.of(parsed);
        if (size < 0 || size > maxProgramSize) {
            return new Refused("compiles to an RE2 program of "
                    + (size < 0 ? "more than " + Re2ProgramSize.MAX_INSTRUCTIONS : "up to " + size)
                    + " instructions, above the sidecars' limit of " + maxProgramSize
                    + " (Envoy refuses larger regexes); make it smaller, e.g. replace a long counted repetition such"
                    + " as {1,128} by + or *, or split a long alternation into several matches");
        }
        return new Accepted(size);
    }
}
