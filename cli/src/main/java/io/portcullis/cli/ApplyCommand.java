package io.portcullis.cli;

import io.portcullis.crds.ManifestReader;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "apply",
        mixinStandardHelpOptions = true,
        description = "Like 'kubectl apply -f', for the directory config source: store the manifests, enforced live.")
final class ApplyCommand implements Callable<Integer> {

    @Mixin
    StoreOptions options;

    @Option(
            names = {"-f", "--filename"},
            required = true,
            description = "Manifest file, or - for standard input.")
    String file;

    @Option(
            names = {"-n", "--namespace"},
            description = "Namespace for manifests that name none (default: default).")
    String namespace;

    @Override
    public Integer call() throws Exception {
        byte[] manifest;
        // Bytes, bounded: the reader refuses what is not UTF-8 or too large, with the fix.
        try (InputStream in = "-".equals(file) ? System.in : Files.newInputStream(Path.of(file))) {
            manifest = in.readNBytes(ManifestReader.MAX_BYTES + 1);
        }
        try {
            options.store()
                    .apply(manifest, "-".equals(file) ? "<stdin>" : file, namespace)
                    .forEach(System.out::println);
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
