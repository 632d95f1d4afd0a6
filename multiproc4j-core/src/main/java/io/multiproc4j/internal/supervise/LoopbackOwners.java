package io.multiproc4j.internal.supervise;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who owns a loopback TCP socket, as the kernel lists it in {@code /proc/net/tcp} and
 * {@code /proc/net/tcp6}: the uid column of the line whose local and remote endpoints are the given
 * ones. For a TCP lifeline this is what {@code SO_PEERCRED} is for a Unix-domain one: a peer cannot
 * lie about it. Both ends of a connection on this machine are listed (loopback), so a process can
 * read its peer's socket owner and its own from one snapshot, and compare them without knowing its
 * own uid.
 *
 * <p>The file lists an address as the 32-bit words of the address in the kernel's byte order, each
 * printed {@code %08X}, and the port {@code %04X}: 127.0.0.1:8080 is {@code 0100007F:1F90} on a
 * little-endian machine. An IPv4 socket's peer may be an IPv6 (dual-stack) socket, listed in
 * {@code tcp6} with the v4-mapped address; both files are read.
 *
 * <p>Costs two small file reads (a line per TCP socket of this network namespace) and a scan with
 * no regular expressions, once per connection: on the path to a new worker's first result, so kept
 * cheap for the interpreter.
 */
final class LoopbackOwners {
    /** A listening socket's remote endpoint and state in the file. */
    private static final String NO_PEER = "00000000:0000", NO_PEER6 = "00000000000000000000000000000000:0000";
    private static final String LISTEN = "0A";

    private final String tcp;
    private final String tcp6;

    private LoopbackOwners(String tcp, String tcp6) {
        this.tcp = tcp;
        this.tcp6 = tcp6;
    }

    /** @return the current listing, or null when this system has none ({@code /proc} absent or hidden) */
    static LoopbackOwners snapshot() {
        String tcp = read(Path.of("/proc/net/tcp"));
        return tcp == null ? null : new LoopbackOwners(tcp, read(Path.of("/proc/net/tcp6")));
    }

    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * @param local  the socket's local endpoint
     * @param remote its remote endpoint
     * @return the uid that owns the connected socket with these endpoints, or -1 when none is listed
     */
    int ownerOf(InetSocketAddress local, InetSocketAddress remote) {
        int uid = find(tcp, endpoint(local, false), endpoint(remote, false), null);
        return uid >= 0 || tcp6 == null ? uid : find(tcp6, endpoint(local, true), endpoint(remote, true), null);
    }

    /**
     * The owner of the socket listening where a connection to {@code address} goes: one bound to that
     * address, or to the wildcard, in either file.
     *
     * @param address a listener's IPv4 address and port
     * @return its uid, or -1 when no listener is listed there
     */
    int listenerOf(InetSocketAddress address) {
        var wildcard = new InetSocketAddress(wildcardV4(), address.getPort());
        int uid = find(tcp, endpoint(address, false), NO_PEER, LISTEN);
        if (uid < 0) {
            uid = find(tcp, endpoint(wildcard, false), NO_PEER, LISTEN);
        }
        if (uid < 0 && tcp6 != null) {
            uid = find(tcp6, endpoint(address, true), NO_PEER6, LISTEN);
            if (uid < 0) {
                uid = find(tcp6, "00000000000000000000000000000000:" + port(address.getPort()), NO_PEER6, LISTEN);
            }
        }
        return uid;
    }

    private static InetAddress wildcardV4() {
        try {
            return InetAddress.getByAddress(new byte[4]);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always an address
        }
    }

    /**
     * Scans the lines for one whose second and third fields are {@code local} and {@code remote}
     * (and whose state is {@code state}, unless null), and returns its uid (eighth field).
     */
    private static int find(String listing, String local, String remote, String state) {
        int at = listing.indexOf(local);
        while (at >= 0) {
            int lineStart = listing.lastIndexOf('\n', at) + 1;
            int lineEnd = listing.indexOf('\n', at);
            if (lineEnd < 0) {
                lineEnd = listing.length();
            }
            String[] fields = fields(listing, lineStart, lineEnd);
            if (fields != null && fields[1].equals(local) && fields[2].equals(remote)
                    && (state == null || fields[3].equals(state))) {
                try {
                    return Integer.parseInt(fields[7]);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
            at = listing.indexOf(local, lineEnd);
        }
        return -1;
    }

    /** The first eight whitespace-separated fields of a line, or null when it has fewer. */
    private static String[] fields(String s, int from, int to) {
        String[] fields = new String[8];
        int n = 0, i = from;
        while (n < fields.length) {
            while (i < to && s.charAt(i) == ' ') {
                i++;
            }
            if (i >= to) {
                return null;
            }
            int start = i;
            while (i < to && s.charAt(i) != ' ') {
                i++;
            }
            fields[n++] = s.substring(start, i);
        }
        return fields;
    }

    /** An endpoint as the file prints it; an IPv4 address as v4-mapped IPv6 when {@code six}. */
    static String endpoint(InetSocketAddress address, boolean six) {
        byte[] bytes = address.getAddress().getAddress();
        if (six && address.getAddress() instanceof Inet4Address) {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(bytes, 0, mapped, 12, 4);
            bytes = mapped;
        }
        var text = new StringBuilder(bytes.length * 2 + 5);
        boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
        for (int word = 0; word < bytes.length; word += 4) {
            for (int i = 0; i < 4; i++) {
                int b = bytes[word + (little ? 3 - i : i)] & 0xff;
                text.append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return text.append(':').append(port(address.getPort())).toString();
    }

    private static String port(int port) {
        String hex = Integer.toHexString(port).toUpperCase(java.util.Locale.ROOT);
        return "0000".substring(hex.length()) + hex;
    }
}
