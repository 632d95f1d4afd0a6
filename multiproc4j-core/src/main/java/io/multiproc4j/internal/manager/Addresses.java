package io.multiproc4j.internal.manager;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * Socket addresses as text, so that a serialized proxy carries a plain string:
 * {@code unix:/path/to/socket} or {@code tcp:host:port}.
 */
public final class Addresses {
    private Addresses() {}

    /**
     * @param address a Unix-domain or IP socket address
     * @return its text form
     */
    public static String format(SocketAddress address) {
        return switch (address) {
            case UnixDomainSocketAddress unix -> "unix:" + unix.getPath();
            case InetSocketAddress inet -> "tcp:" + (inet.isUnresolved() ? inet.getHostString()
                    : inet.getAddress().getHostAddress()) + ":" + inet.getPort();
            default -> throw new IllegalArgumentException("a manager listens on a UnixDomainSocketAddress or an "
                    + "InetSocketAddress, not a " + address.getClass().getName());
        };
    }

    /**
     * @param text what {@link #format} returned
     * @return the address
     */
    public static SocketAddress parse(String text) {
        if (text.startsWith("unix:")) {
            return UnixDomainSocketAddress.of(text.substring(5));
        }
        if (text.startsWith("tcp:")) {
            int colon = text.lastIndexOf(':');
            return new InetSocketAddress(text.substring(4, colon), Integer.parseInt(text.substring(colon + 1)));
        }
        throw new IllegalArgumentException("not a manager address: " + text + " (expected unix:PATH or tcp:HOST:PORT)");
    }

    /** Connects, within a timeout for TCP (a Unix-domain connect is answered at once or refused). */
    static SocketChannel connect(SocketAddress address, Duration timeout) throws IOException {
        if (address instanceof UnixDomainSocketAddress) {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                channel.connect(address);
            } catch (IOException e) {
                channel.close();
                throw e;
            }
            return channel;
        }
        SocketChannel channel = SocketChannel.open();
        try {
            channel.socket().connect(address, (int) Math.max(1, timeout.toMillis()));
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            // a peer machine that vanishes without closing is found by keep-alive probes
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return channel;
    }
}
