package io.multiproc4j.cli.report;

/**
 * One experiment's results: a table, a sentence saying what it means, and an optional chart.
 * @param id             a stable key for results.json
 * @param title          the heading
 * @param table          the measurements
 * @param interpretation one or two sentences reading the table
 * @param chart          a chart of the table, or null
 */
public record Section(String id, String title, Table table, String interpretation, Chart chart) {
    /** @return the section as people read it in a terminal */
    public String render() {
        return "== " + title + " ==\n" + table.render() + wrap(interpretation, 100) + "\n";
    }

    private static String wrap(String text, int width) {
        StringBuilder b = new StringBuilder();
        int col = 0;
        for (String word : text.split(" ")) {
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
        return b.append('\n').toString();
    }
}
