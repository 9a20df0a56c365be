package io.portcullis.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code KIND NAME [-n NAMESPACE]}, as kubectl's delete and patch take them. */
final class ResourceName {

    @Parameters(index = "0", description = "egress, httproutegroup, meshconfig or namespace")
    String kind;

    @Parameters(index = "1")
    String name;

    @Option(names = {"-n", "--namespace"})
    String namespace;
}
