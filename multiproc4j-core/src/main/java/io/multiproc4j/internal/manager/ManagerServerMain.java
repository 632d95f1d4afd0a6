package io.multiproc4j.internal.manager;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

/**
 * The main class of a manager JVM started by {@code Manager.start()}.
 *
 * <pre>
 *  stdin (from the owner, never the command line):   key HEX
 *                                                     address unix:PATH | tcp:HOST:PORT
 *                                                     allow-package P      (any number)
 *                                                     allow-class C        (any number)
 *                                                     max-frame N
 *                                                     allow-other-users    (optional)
 *                                                     end
 *  stdout:  {@value #READY} ADDRESS        once listening
 *  stdin EOF ─► close the server, exit     (the owner closed us, or died: SIGKILL included)
 * </pre>
 *
 * Stdin is the lifeline: its EOF is how the manager learns that its owner is gone, without polling.
 */
public final class ManagerServerMain {
    /** The line the manager prints once it listens. */
    public static final String READY = "MULTIPROC4J-MANAGER-READY";

    private ManagerServerMain() {}

    /**
     * @param args unused: the configuration comes on stdin
     * @throws IOException when stdin cannot be read
     */
    public static void main(String[] args) throws IOException {
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        byte[] key = null;
        String address = null;
        Set<String> packages = new HashSet<>();
        Set<String> classes = new HashSet<>();
        int maxFrame = ManagerLayout.DEFAULT_MAX_FRAME;
        boolean allowOtherUsers = false;
        for (String line; (line = in.readLine()) != null && !line.equals("end"); ) {
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
            System.err.println("multiproc4j manager: no key or address on stdin; managers are started by "
                    + "Manager.start(), or served with Manager.serve(...)");
            System.exit(2);
        }
        ManagerServer server = ManagerServer.start(Addresses.parse(address), key, packages, classes, maxFrame,
                allowOtherUsers);
        System.out.println(READY + " " + server.address());
        System.out.flush();
        try {
            while (in.read() >= 0) {
                // nothing more is sent; we only wait for EOF
            }
        } catch (IOException e) {
            // a broken pipe is EOF too
        }
        server.close();
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(0);
    }
}
