package io.portcullis.validation;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Test-only name resolver (registered in META-INF/services) that records every host name the JVM
 * resolves and then delegates to the built-in resolver. Literal addresses never reach a resolver, so
 * {@link #LOOKUPS} shows exactly the DNS lookups code under test made.
 */
public final class RecordingResolverProvider extends InetAddressResolverProvider {

    static final List<String> LOOKUPS = new CopyOnWriteArrayList<>();

    @Override
    public InetAddressResolver get(Configuration configuration) {
        InetAddressResolver builtin = configuration.builtinResolver();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                LOOKUPS.add(host);
                return builtin.lookupByName(host, policy);
            }

            @Override
            public String lookupByAddress(byte[] address) throws UnknownHostException {
                return builtin.lookupByAddress(address);
            }
        };
    }

    @Override
    public String name() {
        return "portcullis-test-recording-resolver";
    }
}
