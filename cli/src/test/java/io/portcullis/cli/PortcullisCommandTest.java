package io.portcullis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The command line built for one subcommand (what {@code main} does, to start fast) behaves as the one with every
 * subcommand: same usage, same errors, same exit codes; anything else gets every subcommand.
 */
class PortcullisCommandTest {

    record Run(int exitCode, String stdout, String stderr) {}

    private static Run run(CommandLine command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        command.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        int code = command.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void eachSubcommandIsListedUnderTheNameItsCommandAnnotationGivesIt() {
        PortcullisCommand.SUBCOMMANDS.forEach((name, type) ->
                assertThat(type.getAnnotation(Command.class).name()).isEqualTo(name));
    }

    @Test
    void aCommandLineNamingOneSubcommandBuildsOnlyThatOne() {
        assertThat(PortcullisCommand.commandLine("apply", "-f", "x.yaml").getSubcommands())
                .containsOnlyKeys("apply");
        for (String[] args : List.of(
                new String[0], new String[] {"--help"}, new String[] {"help", "apply"}, new String[] {"aply"})) {
            assertThat(PortcullisCommand.commandLine(args).getSubcommands().keySet())
                    .as(String.join(" ", args))
                    .containsExactlyElementsOf(PortcullisCommand.SUBCOMMANDS.keySet());
        }
    }

    @Test
    void usageAndErrorsOfASubcommandAreTheSameBuiltAloneOrWithAllTheOthers() {
        for (List<String> args : List.of(
                List.of("apply", "--help"),
                List.of("apply"),
                List.of("translate", "--help"),
                List.of("delete", "egress"),
                List.of("patch", "meshconfig", "--nonsense"),
                List.of("namespace", "--help"),
                List.of("explain", "--help"),
                List.of("serve", "--help"))) {
            String[] array = args.toArray(String[]::new);
            Run alone = run(PortcullisCommand.commandLine(array), array);
            Run withAll = run(PortcullisCommand.commandLine(), array);
            assertThat(alone).as(String.join(" ", args)).isEqualTo(withAll);
            assertThat(alone.stdout() + alone.stderr())
                    .as(String.join(" ", args))
                    .isNotEmpty();
        }
    }

    @Test
    void topLevelHelpListsEverySubcommand() {
        Run help = run(PortcullisCommand.commandLine("--help"), "--help");
        assertThat(help.exitCode()).isZero();
        PortcullisCommand.SUBCOMMANDS
                .keySet()
                .forEach(name -> assertThat(help.stdout()).contains("  " + name + " "));
    }
}
