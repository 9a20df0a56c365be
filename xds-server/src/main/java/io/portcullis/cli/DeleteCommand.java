package io.portcullis.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "delete", mixinStandardHelpOptions = true,
        description = "Like 'kubectl delete egress NAME -n NAMESPACE', for the directory config source.")
final class DeleteCommand implements Callable<Integer> {

    @Mixin
    StoreOptions options;

    @Parameters(index = "0", description = "egress, httproutegroup or meshconfig")
    String kind;

    @Parameters(index = "1")
    String name;

    @Option(names = {"-n", "--namespace"})
    String namespace;

    @Override
    public Integer call() throws Exception {
        try {
            System.out.println(options.store().delete(kind, namespace, name));
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
