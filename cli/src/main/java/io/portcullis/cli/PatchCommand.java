package io.portcullis.cli;

import io.portcullis.crds.MeshConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "patch",
        mixinStandardHelpOptions = true,
        description =
                "Like 'kubectl patch meshconfig " + MeshConfig.DEFAULT_NAME + " -n " + MeshConfig.DEFAULT_NAMESPACE
                        + " -p JSON --type=merge', "
                        + "for the directory config source.")
final class PatchCommand implements Callable<Integer> {

    @Mixin
    StoreOptions options;

    @Mixin
    ResourceName resource;

    @Option(
            names = {"-p", "--patch"},
            required = true,
            description = "JSON merge patch (RFC 7386).")
    String patch;

    @Option(
            names = "--type",
            defaultValue = "merge",
            description = "Only 'merge' is supported (default: ${DEFAULT-VALUE}).")
    String type;

    @Override
    public Integer call() throws Exception {
        if (!"merge".equals(type)) {
            System.err.println("error: --type=" + type + " is not supported; use --type=merge (a JSON merge patch)");
            return 1;
        }
        try {
            System.out.println(options.store().patch(resource.kind, resource.namespace, resource.name, patch));
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
