package io.multiproc4j.cli.report;

/**
 * One experiment's results: a table, the sentences that read it, an optional chart, and the command
 * that measures it again.
 * @param id             a stable key for results.json
 * @param title          the heading
 * @param table          the measurements
 * @param interpretation the sentences reading the table, computed from its figures
 * @param chart          a chart of the table, or null
 * @param command        the command that reproduces this section, or null
 * @param seconds        how long the tour took to measure it (wall time), or NaN when not timed
 */
public record Section(String id, String title, Table table, String interpretation, Chart chart, String command,
                      double seconds) {
    /**
     * A section without a reproducing command (yet; see {@link #withCommand}).
     * @param id             a stable key for results.json
     * @param title          the heading
     * @param table          the measurements
     * @param interpretation the sentences reading the table
     * @param chart          a chart of the table, or null
     */
    public Section(String id, String title, Table table, String interpretation, Chart chart) {
        this(id, title, table, interpretation, chart, null, Double.NaN);
    }

    /**
     * @param reproduce the command that measures this section again
     * @return this section with that command
     */
    public Section withCommand(String reproduce) {
        return new Section(id, title, table, interpretation, chart, reproduce, seconds);
    }

    /**
     * @param took how long measuring this section took, in seconds of wall time
     * @return this section with that time
     */
    public Section withSeconds(double took) {
        return new Section(id, title, table, interpretation, chart, command, took);
    }

    /** @return the section as people read it in a terminal */
    public String render() {
        return "== " + title + " ==\n" + table.render() + wrap(interpretation, 100)
                + (command == null ? "" : "  (again: " + command + ")\n");
    }

    private static String wrap(String text, int width) {
        StringBuilder b = new StringBuilder();
        for (String paragraph : text.split("\n")) {
            int col = 0;
            for (String word : paragraph.split(" ")) {
                if (col > 0 && col + word.length() + 1 > width) {
                    b.append('\n');
                    col = 0;
                }
                if (col > 0) {
                    b.append(' ');
                    col++;
                }
                b.append(word);
                col += word.length();
            }
            b.append('\n');
        }
        return b.toString();
    }
}
