package io.portcullis.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single {@code portcullis} program; each part of the system is a subcommand. */
@Command(
        name = "portcullis",
        mixinStandardHelpOptions = true,
        version = "portcullis 0.1.0",
        description = "Envoy xDS control plane enforcing Flomesh Egress policies and SMI HTTPRouteGroups.",
        subcommands = {
            ServeCommand.class,
            ProxyStatusCommand.class,
            BootstrapCommand.class,
            CertCommand.class,
            IptablesCommand.class,
            TranslateCommand.class,
            ExplainCommand.class,
            ApplyCommand.class,
            DeleteCommand.class,
            PatchCommand.class,
            NamespaceCommand.class,
            CommandLine.HelpCommand.class
        })
public final class PortcullisCommand {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The name usage and error messages give the program; the kubectl plugin launcher sets it to {@code kubectl
     * portcullis}, so that {@code kubectl portcullis --help} shows the command line the user typed.
     */
    static final String COMMAND_NAME_PROPERTY = "portcullis.commandName";

    /** The command line with its failure handling: a failed command prints one error line, no stack trace. */
    static CommandLine commandLine() {
        return new CommandLine(new PortcullisCommand())
                .setCommandName(System.getProperty(COMMAND_NAME_PROPERTY, "portcullis"))
                .setExecutionExceptionHandler(new CommandFailure());
    }
}
