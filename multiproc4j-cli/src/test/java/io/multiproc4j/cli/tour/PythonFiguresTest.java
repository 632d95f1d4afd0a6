package io.multiproc4j.cli.tour;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Python's output is parsed and checked: a failed or malformed figure is a note, never a zero. */
class PythonFiguresTest {
    private static final Map<String, List<String>> EXPECTED = Map.of(
            "queue-vs-pipe", List.of("n", "queue_per_s", "pipe_per_s"),
            "pipe-trap", List.of("duplex_bytes", "oneway_bytes"));

    @Test
    void validOutput_givesEveryFigure() {
        PythonFigures py = PythonFigures.parse("""
                version 3.11.7
                value queue-vs-pipe n 1000
                value queue-vs-pipe queue_per_s 20000.5
                value queue-vs-pipe pipe_per_s 25000
                value pipe-trap duplex_bytes 95232
                value pipe-trap oneway_bytes 65536
                """, EXPECTED);
        assertThat(py.measured()).isTrue();
        assertThat(py.version()).isEqualTo("3.11.7");
        assertThat(py.get("queue-vs-pipe", "queue_per_s")).isEqualTo(20000.5);
        assertThat(py.has("pipe-trap")).isTrue();
    }

    @Test
    void aSectionThatFailed_isANote_andTheOthersStillCount() {
        PythonFigures py = PythonFigures.parse("""
                version 3.11.7
                error queue-vs-pipe RuntimeError: queue lost or changed messages
                value pipe-trap duplex_bytes 95232
                value pipe-trap oneway_bytes 65536
                """, EXPECTED);
        assertThat(py.has("queue-vs-pipe")).isFalse();
        assertThat(py.get("queue-vs-pipe", "queue_per_s")).isNull();
        assertThat(py.note("queue-vs-pipe")).contains("failed").contains("queue lost or changed messages");
        assertThat(py.has("pipe-trap")).isTrue();
    }

    @Test
    void notANumber_negative_infinite_orMissing_leavesTheSectionOut() {
        PythonFigures py = PythonFigures.parse("""
                version 3.11.7
                value queue-vs-pipe n 1000
                value queue-vs-pipe queue_per_s fast
                value queue-vs-pipe pipe_per_s 25000
                value pipe-trap duplex_bytes -1
                value pipe-trap oneway_bytes inf
                """, EXPECTED);
        assertThat(py.has("queue-vs-pipe")).isFalse();
        assertThat(py.note("queue-vs-pipe")).contains("\"fast\"").contains("not a number");
        assertThat(py.has("pipe-trap")).isFalse();
        assertThat(py.note("pipe-trap")).contains("not a finite figure >= 0");
        PythonFigures missing = PythonFigures.parse("version 3.11.7\nvalue pipe-trap duplex_bytes 1\n", EXPECTED);
        assertThat(missing.note("pipe-trap")).contains("did not print oneway_bytes");
        assertThat(missing.note("queue-vs-pipe")).contains("did not print n, queue_per_s, pipe_per_s");
    }

    @Test
    void noVersionLine_meansNothingIsTrusted() {
        PythonFigures py = PythonFigures.parse("Traceback (most recent call last):\nvalue pipe-trap duplex_bytes 1\n",
                EXPECTED);
        assertThat(py.measured()).isFalse();
        assertThat(py.has("pipe-trap")).isFalse();
        assertThat(py.note("pipe-trap")).contains("no version line");
    }

    @Test
    void notRequested_saysHowToGetPythonsFigures() {
        assertThat(PythonFigures.notRequested().note("vector-light")).contains("--compare-python").contains("python3");
    }
}
