package io.portcullis.cli;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single {@code portcullis} program; each part of the system is a subcommand. */
@Command(
        name = "portcullis",
        mixinStandardHelpOptions = true,
        version = "portcullis 0.1.0",
        description = "Envoy xDS control plane enforcing Flomesh Egress policies and SMI HTTPRouteGroups.")
public final class PortcullisCommand {

    /**
     * Every subcommand by the name its {@code @Command} gives it, in the order {@code --help} lists them. Not in
     * the {@code subcommands} attribute: picocli would build all of them (reflection over each one's options and
     * mixins: {@code portcullis --version}, which still builds them all, takes 0.9-1.0 s of CPU on a busy 2-core
     * machine, {@code portcullis apply --help} 0.6-0.7 s), where a command line naming one needs only that one.
     */
    static final Map<String, Class<?>> SUBCOMMANDS = subcommands();

    private static Map<String, Class<?>> subcommands() {
        Map<String, Class<?>> all = new LinkedHashMap<>();
        all.put("serve", ServeCommand.class);
        all.put("proxy-status", ProxyStatusCommand.class);
        all.put("bootstrap", BootstrapCommand.class);
        all.put("cert", CertCommand.class);
        all.put("iptables", IptablesCommand.class);
        all.put("translate", TranslateCommand.class);
        all.put("explain", ExplainCommand.class);
        all.put("apply", ApplyCommand.class);
        all.put("delete", DeleteCommand.class);
        all.put("patch", PatchCommand.class);
        all.put("namespace", NamespaceCommand.class);
        all.put("help", CommandLine.HelpCommand.class);
        return Collections.unmodifiableMap(all);
    }

    public static void main(String[] args) {
        System.exit(commandLine(args).execute(args));
    }

    /**
     * The name usage and error messages give the program; the kubectl plugin launcher sets it to {@code kubectl
     * portcullis}, so that {@code kubectl portcullis --help} shows the command line the user typed.
     */
    static final String COMMAND_NAME_PROPERTY = "portcullis.commandName";

    /** The command line with every subcommand and its failure handling: one error line, no stack trace. */
    static CommandLine commandLine() {
        return withFailureHandling(withSubcommands(SUBCOMMANDS.keySet()));
    }

    /**
     * The command line for these arguments: when the first one names a subcommand (other than {@code help}),
     * only that subcommand is built, so parsing, usage and errors are the same as with all of them (a
     * subcommand's own usage names only itself); anything else (no arguments, {@code --help}, {@code help
     * apply}, a typo that picocli answers with the list) gets every subcommand.
     */
    static CommandLine commandLine(String... args) {
        if (args.length > 0 && SUBCOMMANDS.containsKey(args[0]) && !args[0].equals("help")) {
            return withFailureHandling(withSubcommands(List.of(args[0])));
        }
        return commandLine();
    }

    private static CommandLine withSubcommands(Iterable<String> names) {
        CommandLine commandLine = new CommandLine(new PortcullisCommand());
        for (String name : names) {
            commandLine.addSubcommand(name, SUBCOMMANDS.get(name));
        }
        return commandLine;
    }

    // After the subcommands are added: picocli hands the name and the handler to the subcommands it has.
    private static CommandLine withFailureHandling(CommandLine commandLine) {
        return commandLine
                .setCommandName(System.getProperty(COMMAND_NAME_PROPERTY, "portcullis"))
                .setExecutionExceptionHandler(new CommandFailure());
    }
}
