package io.portcullis.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "delete",
        mixinStandardHelpOptions = true,
        description = "Like 'kubectl delete egress NAME -n NAMESPACE', for the directory config source.")
final class DeleteCommand implements Callable<Integer> {

    @Mixin
    StoreOptions options;

    @Mixin
    ResourceName resource;

    @Override
    public Integer call() throws Exception {
        try {
            System.out.println(options.store().delete(resource.kind, resource.namespace, resource.name));
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
