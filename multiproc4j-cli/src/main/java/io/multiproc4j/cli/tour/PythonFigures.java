package io.multiproc4j.cli.tour;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Python's figures for the tour's experiments, measured by the script that ships with the CLI
 * ({@code tour_python.py}) in the same run, parsed and checked, never trusted blindly.
 *
 * <p>Protocol: the script gets {@code SECTION:KEY=VALUE} parameters and prints {@code version X.Y.Z},
 * then {@code value SECTION KEY NUMBER} per figure and {@code error SECTION MESSAGE} for a section it
 * could not measure. A figure counts only when it is a finite number {@code >= 0} and its section printed
 * every key the experiment expects; otherwise the section gets a note saying what went wrong, and no
 * figure (a failed Python run is a note, never a zero).
 */
public final class PythonFigures {
    private final String version;
    private final String globalNote;
    private final Map<String, Map<String, Double>> values;
    private final Map<String, String> notes;

    private PythonFigures(String version, String globalNote, Map<String, Map<String, Double>> values,
                          Map<String, String> notes) {
        this.version = version;
        this.globalNote = globalNote;
        this.values = values;
        this.notes = notes;
    }

    /** @return figures for a run that did not ask for Python */
    static PythonFigures notRequested() {
        return new PythonFigures(null, "Python's figures: run `multiproc tour --compare-python` with python3 on"
                + " the PATH to measure multiprocessing beside these", Map.of(), Map.of());
    }

    /**
     * @param note why there are none
     * @return figures with none, and that note
     */
    static PythonFigures unavailable(String note) {
        return new PythonFigures(null, note, Map.of(), Map.of());
    }

    /** @return the Python version measured, or null when Python did not run */
    public String version() {
        return version;
    }

    /** @return whether any Python figure was measured */
    public boolean measured() {
        return version != null;
    }

    /**
     * @param section an experiment id
     * @param key     a figure it expects
     * @return the figure, or null when Python did not measure it (see {@link #note})
     */
    public Double get(String section, String key) {
        Map<String, Double> m = values.get(section);
        return m == null ? null : m.get(key);
    }

    /**
     * @param section an experiment id
     * @return whether every expected figure of that section is there
     */
    public boolean has(String section) {
        return values.containsKey(section);
    }

    /**
     * @param section an experiment id
     * @return why that section has no Python figures: the script's error, a figure that did not parse,
     *     or how to get them
     */
    public String note(String section) {
        if (notes.containsKey(section)) {
            return notes.get(section);
        }
        return globalNote != null ? globalNote : "Python has no counterpart of this experiment in the tour";
    }

    /**
     * Parses and checks the script's output.
     * @param output   what the script printed
     * @param expected for each section asked for, the keys it must print
     * @return the valid figures, with a note for each section that failed
     */
    static PythonFigures parse(String output, Map<String, List<String>> expected) {
        String version = null;
        Map<String, Map<String, Double>> raw = new LinkedHashMap<>();
        Map<String, String> notes = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            String[] f = line.strip().split(" ", 4);
            if (f.length >= 2 && f[0].equals("version")) {
                version = f[1];
            } else if (f.length >= 3 && f[0].equals("error")) {
                notes.put(f[1], "the Python side of this section failed: " + line.strip().substring(
                        ("error " + f[1] + " ").length()));
            } else if (f.length == 4 && f[0].equals("value")) {
                List<String> keys = expected.get(f[1]);
                if (keys == null || !keys.contains(f[2])) {
                    continue; // a figure nobody asked for: ignored
                }
                double v;
                try {
                    v = Double.parseDouble(f[3]);
                } catch (NumberFormatException e) {
                    notes.putIfAbsent(f[1], "Python printed \"" + f[3] + "\" for " + f[2] + ", not a number");
                    continue;
                }
                if (!Double.isFinite(v) || v < 0) {
                    notes.putIfAbsent(f[1], "Python printed " + f[3] + " for " + f[2] + ", not a finite figure >= 0");
                    continue;
                }
                raw.computeIfAbsent(f[1], k -> new LinkedHashMap<>()).put(f[2], v);
            }
        }
        if (version == null) {
            return unavailable("the Python script printed no version line, so none of its output was used");
        }
        Map<String, Map<String, Double>> valid = new LinkedHashMap<>();
        expected.forEach((section, keys) -> {
            if (notes.containsKey(section)) {
                return;
            }
            Map<String, Double> got = raw.getOrDefault(section, Map.of());
            List<String> missing = keys.stream().filter(k -> !got.containsKey(k)).toList();
            if (missing.isEmpty()) {
                valid.put(section, Map.copyOf(got));
            } else {
                notes.put(section, "the Python side did not print " + String.join(", ", missing)
                        + ", so its figures for this section are left out");
            }
        });
        return new PythonFigures(version, null, valid, notes);
    }

    /**
     * Runs the script with python3 from the PATH for the given experiments.
     * @param experiments the experiments of this run
     * @param ctx         their sizes
     * @param timeoutSeconds how long the script may run
     * @return the figures, or none with a note saying why
     */
    static PythonFigures run(List<Experiment> experiments, TourContext ctx, long timeoutSeconds) {
        String python = findOnPath("python3");
        if (python == null) {
            return unavailable("python3 is not on the PATH, so Python's multiprocessing was not measured: install it"
                    + " (apt-get install python3) and run `multiproc tour --compare-python` again");
        }
        Map<String, List<String>> expected = new LinkedHashMap<>();
        List<String> cmd = new ArrayList<>();
        Path script;
        try {
            script = Files.createTempFile("multiproc-tour", ".py");
            try (InputStream in = PythonFigures.class.getResourceAsStream("tour_python.py")) {
                if (in == null) {
                    return unavailable("tour_python.py is missing from the CLI's jar");
                }
                Files.write(script, in.readAllBytes());
            }
        } catch (IOException e) {
            return unavailable("could not write the Python script: " + e.getMessage());
        }
        cmd.add(python);
        cmd.add(script.toString());
        for (Experiment e : experiments) {
            if (e.pythonKeys().isEmpty()) {
                continue;
            }
            expected.put(e.id(), e.pythonKeys());
            cmd.add(e.id() + ":run=1");
            e.pythonParams(ctx).forEach((k, v) -> cmd.add(e.id() + ":" + k + "=" + v));
        }
        try {
            if (expected.isEmpty()) {
                return unavailable("none of the chosen experiments has a Python counterpart");
            }
            Path out = Files.createTempFile("multiproc-tour-python", ".txt");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try {
                p.getOutputStream().close();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    return unavailable("the Python side ran past " + timeoutSeconds + " s and was stopped");
                }
                String output = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    String last = output.strip().lines().reduce((a, b) -> b).orElse("");
                    return unavailable("the Python side failed (exit " + p.exitValue() + "): " + last);
                }
                return parse(output, expected);
            } finally {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            return unavailable("could not run " + python + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unavailable("interrupted while Python ran");
        } finally {
            try {
                Files.deleteIfExists(script);
            } catch (IOException e) {
                // a temporary file left behind is harmless
            }
        }
    }

    static String findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }
}
