package io.multiproc4j.cli.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A table of results: column names and rows of cells. A cell is a {@link Number} (written raw to
 * JSON, formatted for people in the terminal and the HTML page) or text.
 */
public final class Table {
    private final List<String> columns;
    private final List<List<Object>> rows = new ArrayList<>();

    /**
     * @param columns the column names
     */
    public Table(String... columns) {
        this.columns = List.of(columns);
    }

    /**
     * @param cells one cell per column
     * @return this table
     */
    public Table row(Object... cells) {
        if (cells.length != columns.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, table has "
                    + columns.size() + " columns " + columns);
        }
        rows.add(Arrays.asList(cells));
        return this;
    }

    /** @return the column names */
    public List<String> columns() {
        return columns;
    }

    /** @return the rows */
    public List<List<Object>> rows() {
        return rows;
    }

    /**
     * @param cell a cell
     * @return it as people read it: integers with thousands separators, other numbers with 3
     *     significant digits, text as is
     */
    public static String format(Object cell) {
        if (cell == null) {
            return "-";
        }
        if (cell instanceof Integer || cell instanceof Long) {
            return String.format(Locale.ROOT, "%,d", ((Number) cell).longValue());
        }
        if (cell instanceof Number n) {
            double d = n.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return "-";
            }
            double a = Math.abs(d);
            if (a >= 100) {
                return String.format(Locale.ROOT, "%,.0f", d);
            }
            if (a >= 10) {
                return String.format(Locale.ROOT, "%.1f", d);
            }
            if (a >= 1) {
                return String.format(Locale.ROOT, "%.2f", d);
            }
            return String.format(Locale.ROOT, "%.3f", d);
        }
        return cell.toString();
    }

    /** @return the table as aligned text, numbers right-aligned */
    public String render() {
        int[] widths = new int[columns.size()];
        for (int c = 0; c < widths.length; c++) {
            widths[c] = columns.get(c).length();
            for (List<Object> row : rows) {
                widths[c] = Math.max(widths[c], format(row.get(c)).length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (int c = 0; c < widths.length; c++) {
            b.append(c == 0 ? "  " : "  ").append(pad(columns.get(c), widths[c], false));
        }
        b.append('\n');
        for (int c = 0; c < widths.length; c++) {
            b.append("  ").append("-".repeat(widths[c]));
        }
        b.append('\n');
        for (List<Object> row : rows) {
            for (int c = 0; c < widths.length; c++) {
                Object cell = row.get(c);
                b.append("  ").append(pad(format(cell), widths[c], cell instanceof Number));
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(Math.max(0, width - s.length()));
        return right ? fill + s : s + fill;
    }
}
