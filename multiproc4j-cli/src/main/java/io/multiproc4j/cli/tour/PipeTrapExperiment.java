package io.multiproc4j.cli.tour;

import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.ipc.Pipe;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pipe trap: Python's {@code Pipe()} (duplex) is a Unix socket pair and {@code Pipe(duplex=False)}
 * an OS pipe, and the kernel buffers them differently, so how much a {@code send} can hand over while
 * nobody reads (before it blocks) depends on a flag. Measured here: the kernel buffer of a connected
 * Unix-domain stream socket and of an OS pipe (writing without a reader until a non-blocking write
 * takes nothing), then the same for our {@link Pipe#duplex()} and {@link Pipe#oneWay()}, whose
 * directions are shared-memory rings of one size.
 */
public final class PipeTrapExperiment implements Experiment {
    private static final int MESSAGE = 1024;

    @Override
    public String id() {
        return "pipe-trap";
    }

    @Override
    public String description() {
        return "how much a send holds before it blocks: OS socket pair vs OS pipe, and our duplex vs one-way pipes";
    }

    @Override
    public int steps(TourContext ctx) {
        return 4;
    }

    @Override
    public Map<String, Object> pythonParams(TourContext ctx) {
        return Map.of("chunk", MESSAGE);
    }

    @Override
    public List<String> pythonKeys() {
        return List.of("duplex_bytes", "oneway_bytes");
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        long socket = socketPairCapacity();
        ctx.progress().step("pipe trap: OS socket pair");
        long osPipe = osPipeCapacity();
        ctx.progress().step("pipe trap: OS pipe");
        long duplex = oursCapacity(true);
        ctx.progress().step("pipe trap: Pipe.duplex()");
        long oneWay = oursCapacity(false);
        ctx.progress().step("pipe trap: Pipe.oneWay()");
        Table table = new Table("channel", "what Python's Pipe uses it for", "bytes a writer can hand over unread", "KiB");
        table.row("Unix-domain stream socket (socket pair)", "Pipe() / Pipe(duplex=True)", socket, socket / 1024.0);
        table.row("OS pipe", "Pipe(duplex=False)", osPipe, osPipe / 1024.0);
        table.row("multiproc4j Pipe.duplex()", "-", duplex, duplex / 1024.0);
        table.row("multiproc4j Pipe.oneWay()", "-", oneWay, oneWay / 1024.0);
        String reading = interpret(socket, osPipe, duplex, oneWay);
        Chart chart = Chart.bars("What a writer can hand over before its send blocks (KiB, log)", "KiB (log)",
                "socket pair (duplex)", "OS pipe (one-way)", "Pipe.duplex()", "Pipe.oneWay()").logY()
                .bar("measured on this machine", socket / 1024.0, osPipe / 1024.0, duplex / 1024.0, oneWay / 1024.0);
        PythonFigures py = ctx.python();
        if (py.has(id())) {
            double pd = py.get(id(), "duplex_bytes");
            double po = py.get(id(), "oneway_bytes");
            table.row("Python: multiprocessing.Pipe(duplex=True)", "its socket pair", (long) pd, pd / 1024);
            table.row("Python: multiprocessing.Pipe(duplex=False)", "its OS pipe", (long) po, po / 1024);
            chart.bar("Python's Pipe", pd / 1024, po / 1024, Double.NaN, Double.NaN);
            reading += "\n" + String.format(Locale.ROOT, "Python's own pipes, measured the same way: duplex %,.0f"
                    + " bytes, one-way %,.0f bytes (%s).", pd, po, Readings.of(Math.max(pd, po) / Math.min(pd, po))
                    == Readings.Outcome.SAME ? "about the same on this kernel"
                    : Readings.times(Math.max(pd, po) / Math.min(pd, po)) + " apart: the flag decides");
        } else {
            reading += "\n" + py.note(id()) + ".";
        }
        return new Section(id(), "The pipe trap: what one send can hold before it blocks", table, reading, chart);
    }

    /**
     * @return what the four capacities say
     */
    static String interpret(long socket, long osPipe, long duplex, long oneWay) {
        double kernelRatio = (double) Math.max(socket, osPipe) / Math.min(socket, osPipe);
        String kernel = Readings.of(kernelRatio) == Readings.Outcome.SAME
                ? String.format(Locale.ROOT, "On this machine the kernel buffers a socket pair (%,d bytes) and an OS"
                        + " pipe (%,d bytes) about alike, so Python's duplex flag happens not to matter here; on"
                        + " other kernels and settings it does.", socket, osPipe)
                : String.format(Locale.ROOT, "On this machine a socket pair holds %,d bytes and an OS pipe %,d (%s"
                        + " apart): a Python program that sends a message of %,d bytes before its peer reads works"
                        + " with Pipe(%s) and blocks for ever with Pipe(%s).", socket, osPipe,
                        Readings.times(kernelRatio), (Math.min(socket, osPipe) + Math.max(socket, osPipe)) / 2,
                        socket > osPipe ? "duplex=True" : "duplex=False", socket > osPipe ? "duplex=False" : "duplex=True");
        String ours = duplex == oneWay
                ? String.format(Locale.ROOT, " Our duplex and one-way pipes both took %,d bytes of %,d-byte messages"
                        + " before a send blocked: one buffering rule for both, and a message larger than a quarter of"
                        + " the ring goes through a file, so no single send blocks.", duplex, MESSAGE)
                : String.format(Locale.ROOT, " Our duplex pipe took %,d bytes and our one-way pipe %,d before a send"
                        + " blocked: they should hold the same, so this is a defect; please report it.", duplex, oneWay);
        return kernel + ours;
    }

    /** Writes without a reader into a connected Unix-domain stream socket until the kernel takes nothing more. */
    static long socketPairCapacity() throws IOException {
        Path dir = Files.createTempDirectory("multiproc-tour-sock");
        Path file = dir.resolve("s");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(file));
            try (SocketChannel writer = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                writer.connect(UnixDomainSocketAddress.of(file));
                try (SocketChannel reader = server.accept()) {
                    writer.configureBlocking(false);
                    long n = fill(writer); // the reader stays open and reads nothing, as a busy peer
                    return reader.isOpen() ? n : 0;
                }
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /** Writes without a reader into an OS pipe ({@link java.nio.channels.Pipe}, pipe(2) on Linux) until it is full. */
    static long osPipeCapacity() throws IOException {
        java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
        try (var sink = pipe.sink(); var source = pipe.source()) {
            sink.configureBlocking(false);
            long n = fill(sink); // the read end stays open and reads nothing
            return source.isOpen() ? n : 0;
        }
    }

    private static long fill(WritableByteChannel channel) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(MESSAGE);
        long total = 0;
        int zeroWrites = 0;
        while (zeroWrites < 3 && total < (1L << 30)) {
            chunk.clear();
            int n = channel.write(chunk);
            total += n;
            zeroWrites = n == 0 ? zeroWrites + 1 : 0;
        }
        return total;
    }

    /**
     * Sends {@link #MESSAGE}-byte messages into one of our pipes from a thread while nobody receives, until
     * a send blocks (its count stops growing for 200 ms), then closes the pipe to release it.
     */
    static long oursCapacity(boolean duplex) throws InterruptedException {
        Pipe<byte[]> pipe = duplex ? Pipe.duplex() : Pipe.oneWay();
        AtomicLong accepted = new AtomicLong();
        byte[] message = new byte[MESSAGE];
        Thread sender = Thread.ofPlatform().name("tour-pipe-sender").daemon().start(() -> {
            try {
                while (accepted.get() < (256L << 20)) {
                    pipe.right().sendBytes(message);
                    accepted.addAndGet(MESSAGE);
                }
            } catch (RuntimeException closed) {
                // the pipe was closed under a blocked send: that is how this measurement ends
            }
        });
        try {
            long last = -1;
            long stableSince = System.nanoTime();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (sender.isAlive() && System.nanoTime() < deadline) {
                long now = accepted.get();
                // a blocked send may wait in futex(2), where the thread reads as RUNNABLE: judge by the count
                if (now != last) {
                    last = now;
                    stableSince = System.nanoTime();
                } else if (System.nanoTime() - stableSince > 200_000_000L) {
                    break; // nothing accepted for 200 ms: the ring is full and the send waits
                }
                Thread.onSpinWait();
                sender.join(1);
            }
            return accepted.get();
        } finally {
            pipe.close();
            sender.join(10_000);
        }
    }
}
