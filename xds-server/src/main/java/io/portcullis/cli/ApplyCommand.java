package io.portcullis.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "apply", mixinStandardHelpOptions = true,
        description = "Like 'kubectl apply -f', for the directory config source: store the manifests, enforced live.")
final class ApplyCommand implements Callable<Integer> {

    @Mixin
    StoreOptions options;

    @Option(names = {"-f", "--filename"}, required = true, description = "Manifest file, or - for standard input.")
    String file;

    @Option(names = {"-n", "--namespace"}, description = "Namespace for manifests that name none (default: default).")
    String namespace;

    @Override
    public Integer call() throws Exception {
        String yaml = "-".equals(file) ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(Path.of(file));
        try {
            options.store().apply(yaml, "-".equals(file) ? "<stdin>" : file, namespace).forEach(System.out::println);
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
