package io.multiproc4j.internal.manager;

import io.multiproc4j.internal.supervise.SupervisedChild;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

/**
 * The main class of a manager JVM started by {@code Manager.start()}, supervised like a pool's
 * workers ({@link io.multiproc4j.internal.supervise.Supervisor}: key in the environment, HELLO
 * handshake on a private Unix-domain socket, start timeout, exit cause).
 *
 * <pre>
 *  connect, HELLO ─► CONFIG frame ({@value #CONFIG_FRAME}), UTF-8 lines:  key HEX
 *                                                                        address unix:PATH | tcp:HOST:PORT
 *                                                                        allow-package P      (any number)
 *                                                                        allow-class C        (any number)
 *                                                                        max-frame N
 *                                                                        allow-other-users    (optional)
 *                  ─► listening ─► READY frame ({@value #READY_FRAME}): the address, UTF-8
 *  EOF on the connection ─► close the server, exit     (the owner closed us, or died: SIGKILL included)
 * </pre>
 *
 * The connection is the lifeline: its EOF is how the manager learns that its owner is gone, without polling.
 */
public final class ManagerServerMain {
    /** The code of the frame that configures the manager. */
    public static final int CONFIG_FRAME = 1;
    /** The code of the frame the manager sends once it listens. */
    public static final int READY_FRAME = 2;

    private ManagerServerMain() {}

    /**
     * @param args unused: the configuration comes over the supervision connection
     * @throws IOException when the owner cannot be reached
     */
    public static void main(String[] args) throws IOException {
        FrameChannel channel = SupervisedChild.connect("manager");
        Frame config = channel.receive();
        if (config.code() != CONFIG_FRAME) {
            System.err.println("multiproc4j manager: expected its configuration first, got frame code " + config.code());
            System.exit(2);
        }
        byte[] key = null;
        String address = null;
        Set<String> packages = new HashSet<>();
        Set<String> classes = new HashSet<>();
        int maxFrame = ManagerLayout.DEFAULT_MAX_FRAME;
        boolean allowOtherUsers = false;
        for (String line : new String(config.payload(), StandardCharsets.UTF_8).split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            int space = line.indexOf(' ');
            String field = space < 0 ? line : line.substring(0, space);
            String value = space < 0 ? "" : line.substring(space + 1);
            switch (field) {
                case "key" -> key = HexFormat.of().parseHex(value);
                case "address" -> address = value;
                case "allow-package" -> packages.add(value);
                case "allow-class" -> classes.add(value);
                case "max-frame" -> maxFrame = Integer.parseInt(value);
                case "allow-other-users" -> allowOtherUsers = true;
                default -> throw new IllegalArgumentException("unknown manager setting " + field);
            }
        }
        if (key == null || address == null) {
            System.err.println("multiproc4j manager: no key or address in its configuration");
            System.exit(2);
        }
        ManagerServer server = ManagerServer.start(Addresses.parse(address), key, packages, classes, maxFrame,
                allowOtherUsers);
        channel.sendCode(READY_FRAME, server.address().getBytes(StandardCharsets.UTF_8));
        try {
            while (true) {
                channel.receive(); // nothing more is sent; we only wait for EOF
            }
        } catch (IOException e) {
            // EOF or a broken connection: the owner is gone
        }
        server.close();
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(0);
    }
}
