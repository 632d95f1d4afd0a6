package io.multiproc4j.cli.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A chart drawn by XChart into a PNG for the HTML report: either lines and points over a numeric x
 * axis ({@link #series}), or bars for categories ({@link #bars}, {@link #bar}), each bar labelled with
 * its value, so that a comparison of named ways (plain, locked, atomic) reads at a glance.
 */
public final class Chart {
    /**
     * One line (or set of points) of a chart.
     * @param name   the legend label
     * @param x      x values
     * @param y      y values, as many as x
     * @param points whether to draw points only (measurements) rather than a line (a model)
     */
    public record Series(String name, double[] x, double[] y, boolean points) {
        /** Checks the sizes. */
        public Series {
            if (x.length != y.length || x.length == 0) {
                throw new IllegalArgumentException("series " + name + " needs as many x as y values, and at least one");
            }
        }
    }

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private boolean logX;
    private boolean logY;
    private final List<Series> series = new ArrayList<>();
    private List<String> categories;
    private final List<String> barNames = new ArrayList<>();
    private final List<double[]> barValues = new ArrayList<>();

    /**
     * A bar chart: one group of bars per category, one bar per series ({@link #bar}).
     * @param title      the chart's title
     * @param yTitle     the value axis title
     * @param categories the names along the x axis, at least one
     * @return the chart, without bars yet
     */
    public static Chart bars(String title, String yTitle, String... categories) {
        if (categories.length == 0) {
            throw new IllegalArgumentException("a bar chart needs at least one category: " + title);
        }
        Chart c = new Chart(title, "", yTitle);
        c.categories = List.of(categories);
        return c;
    }

    /**
     * @param name   the legend label
     * @param values one value per category; NaN where this series has no figure (no bar is drawn)
     * @return this chart
     */
    public Chart bar(String name, double... values) {
        if (categories == null) {
            throw new IllegalStateException("bar() needs a chart made by Chart.bars(...): " + title);
        }
        if (values.length != categories.size()) {
            throw new IllegalArgumentException("series " + name + " has " + values.length + " values for "
                    + categories.size() + " categories " + categories);
        }
        barNames.add(name);
        barValues.add(values.clone());
        return this;
    }

    /** @return whether this is a bar chart */
    public boolean isBarChart() {
        return categories != null;
    }

    /** @return the categories of a bar chart (empty for a line chart) */
    public List<String> categories() {
        return categories == null ? List.of() : categories;
    }

    /** @return the names of the bar series, in order */
    public List<String> barNames() {
        return List.copyOf(barNames);
    }

    /**
     * @param index which bar series
     * @return its values, one per category (NaN where absent)
     */
    public double[] barValues(int index) {
        return barValues.get(index).clone();
    }

    /**
     * @param title  the chart's title
     * @param xTitle the x axis title
     * @param yTitle the y axis title
     */
    public Chart(String title, String xTitle, String yTitle) {
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
    }

    /**
     * @return this chart, with a logarithmic x axis
     */
    public Chart logX() {
        this.logX = true;
        return this;
    }

    /**
     * @return this chart, with a logarithmic y axis
     */
    public Chart logY() {
        this.logY = true;
        return this;
    }

    /**
     * @param name   the legend label
     * @param x      x values
     * @param y      y values
     * @param points points only (measured) rather than a line
     * @return this chart
     */
    public Chart series(String name, double[] x, double[] y, boolean points) {
        series.add(new Series(name, x, y, points));
        return this;
    }

    /** @return the chart's title */
    public String title() {
        return title;
    }

    /** @return the series */
    public List<Series> seriesList() {
        return series;
    }

    private double[] range(boolean xAxis) {
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (Series s : series) {
            for (double v : xAxis ? s.x() : s.y()) {
                if (Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        if (min > max) {
            return new double[] {0, 1};
        }
        if (min == max) {
            return new double[] {min / 2, max * 2 + 1};
        }
        return new double[] {min, max};
    }

    /** @return the chart as a PNG image */
    public byte[] png() {
        if (categories != null) {
            return barPng();
        }
        XYChart chart = new XYChartBuilder().width(760).height(420).title(title)
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setXAxisLogarithmic(logX);
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setMarkerSize(9);
        // XChart's automatic range can clip the extreme point of a logarithmic axis: set it from the data.
        double[] yRange = range(false);
        double[] xRange = range(true);
        if (logY) {
            chart.getStyler().setYAxisMin(yRange[0] / 1.5);
            chart.getStyler().setYAxisMax(yRange[1] * 1.5);
        } else {
            chart.getStyler().setYAxisMin(Math.min(0, yRange[0]));
            chart.getStyler().setYAxisMax(yRange[1] * 1.1);
        }
        if (logX) {
            chart.getStyler().setXAxisMin(xRange[0] / 1.5);
            chart.getStyler().setXAxisMax(xRange[1] * 1.5);
        }
        for (Series s : series) {
            XYSeries xy = chart.addSeries(s.name(), s.x(), s.y());
            if (s.points()) {
                xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                xy.setMarker(SeriesMarkers.CIRCLE);
            } else {
                xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
                xy.setMarker(SeriesMarkers.NONE);
            }
        }
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("could not draw the chart \"" + title + "\"", e);
        }
    }

    private byte[] barPng() {
        if (barNames.isEmpty()) {
            throw new IllegalStateException("bar chart \"" + title + "\" has no bars");
        }
        CategoryChart chart = new CategoryChartBuilder().width(760).height(420).title(title)
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsFontColorAutomaticEnabled(false);
        chart.getStyler().setLabelsFontColor(java.awt.Color.BLACK);
        chart.getStyler().setLabelsPosition(1.0);
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setLegendVisible(barNames.size() > 1);
        double max = 0;
        double min = Double.MAX_VALUE;
        for (double[] values : barValues) {
            for (double v : values) {
                if (Double.isFinite(v)) {
                    max = Math.max(max, v);
                    min = Math.min(min, v);
                }
            }
        }
        // plain numbers on the bars and the axis, never 1.6E5: as many decimals as the smallest figure needs
        double smallest = min == Double.MAX_VALUE ? 1 : Math.abs(min);
        String pattern = smallest >= 100 ? "#,##0" : smallest >= 1 ? "#,##0.#" : smallest >= 0.01 ? "#,##0.###"
                : "#,##0.#####";
        chart.getStyler().setDecimalPattern(pattern);
        chart.getStyler().setYAxisDecimalPattern(pattern);
        if (logY) {
            chart.getStyler().setYAxisMin(min > 0 && min != Double.MAX_VALUE ? min / 2 : 0.1);
            chart.getStyler().setYAxisMax(max > 0 ? max * 3 : 1);
        } else {
            chart.getStyler().setYAxisMin(0.0);
            chart.getStyler().setYAxisMax(max > 0 ? max * 1.15 : 1);
        }
        if (categories.stream().mapToInt(String::length).sum() > 90) {
            chart.getStyler().setXAxisLabelRotation(20);
        }
        for (int i = 0; i < barNames.size(); i++) {
            List<Number> ys = new ArrayList<>();
            for (double v : barValues.get(i)) {
                // a category without a figure in this series gets no bar (XChart draws null as a gap)
                ys.add(Double.isFinite(v) && !(logY && v <= 0) ? v : null);
            }
            chart.addSeries(barNames.get(i), categories, ys);
        }
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("could not draw the chart \"" + title + "\"", e);
        }
    }
}
