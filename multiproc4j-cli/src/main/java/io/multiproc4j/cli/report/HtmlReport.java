package io.multiproc4j.cli.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code report.html} (tables, interpretations, charts as embedded PNG images; one file, no
 * network) and {@code results.json} (the same figures, raw) into a directory.
 */
public final class HtmlReport {
    private HtmlReport() {}

    /**
     * @param dir      the directory, created if missing
     * @param title    the page title
     * @param machine  facts about the machine (processors, JDK, ...)
     * @param sections the results
     * @return the path of report.html
     * @throws IOException when a file cannot be written
     */
    public static Path write(Path dir, String title, Map<String, Object> machine, List<Section> sections)
            throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("results.json"), Json.write(json(title, machine, sections)));
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<link rel=\"icon\" href=\"data:,\">\n")
                .append("<title>").append(esc(title)).append("</title>\n<style>\n")
                .append("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\n")
                .append("table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .6rem}\n")
                .append("td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\n")
                .append("p.why{background:#f6f8ff;border-left:4px solid #4a6fd8;padding:.4rem .8rem}\n")
                .append("img.chart{max-width:100%;border:1px solid #ddd}\n")
                .append("p.again{color:#555;font-size:.9rem}code{background:#f3f3f3;padding:0 .2rem}\n")
                .append("</style></head><body>\n")
                .append("<h1>").append(esc(title)).append("</h1>\n<h2>Machine</h2>\n<table>\n");
        machine.forEach((k, v) -> h.append("<tr><th>").append(esc(k)).append("</th><td>")
                .append(esc(Table.format(v))).append("</td></tr>\n"));
        h.append("</table>\n");
        for (Section s : sections) {
            h.append("<section id=\"").append(esc(s.id())).append("\">\n<h2>").append(esc(s.title())).append("</h2>\n<table><tr>");
            for (String c : s.table().columns()) {
                h.append("<th>").append(esc(c)).append("</th>");
            }
            h.append("</tr>\n");
            for (List<Object> row : s.table().rows()) {
                h.append("<tr>");
                for (Object cell : row) {
                    h.append(cell instanceof Number ? "<td class=\"n\">" : "<td>").append(esc(Table.format(cell))).append("</td>");
                }
                h.append("</tr>\n");
            }
            h.append("</table>\n");
            for (String paragraph : s.interpretation().split("\n")) {
                h.append("<p class=\"why\">").append(esc(paragraph)).append("</p>\n");
            }
            if (s.chart() != null) {
                h.append("<img class=\"chart\" alt=\"").append(esc(s.chart().title()))
                        .append("\" src=\"data:image/png;base64,")
                        .append(Base64.getEncoder().encodeToString(s.chart().png())).append("\">\n");
            }
            if (s.command() != null) {
                h.append("<p class=\"again\">Measure again: <code>").append(esc(s.command())).append("</code>")
                        .append(Double.isNaN(s.seconds()) ? "" : String.format(java.util.Locale.ROOT,
                                " (this section took %.1f s)", s.seconds())).append("</p>\n");
            }
            h.append("</section>\n");
        }
        // Marks the page with how many charts decoded, so a headless browser test can read it from the
        // DOM; a chart that fails to decode is a console error.
        h.append("<script>\nwindow.addEventListener('load', () => {\n")
                .append("  const charts = Array.from(document.querySelectorAll('img.chart'));\n")
                .append("  const bad = charts.filter(i => !(i.complete && i.naturalWidth > 0));\n")
                .append("  bad.forEach(i => console.error('chart did not load: ' + i.alt));\n")
                .append("  document.body.setAttribute('data-charts-loaded', String(charts.length - bad.length));\n")
                .append("});\n</script>\n</body></html>\n");
        Path html = dir.resolve("report.html");
        Files.writeString(html, h.toString());
        return html;
    }

    private static Map<String, Object> json(String title, Map<String, Object> machine, List<Section> sections) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("title", title);
        root.put("machine", machine);
        List<Object> list = new ArrayList<>();
        for (Section s : sections) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", s.id());
            m.put("title", s.title());
            m.put("columns", s.table().columns());
            m.put("rows", s.table().rows());
            m.put("interpretation", s.interpretation());
            if (s.command() != null) {
                m.put("command", s.command());
            }
            if (!Double.isNaN(s.seconds())) {
                m.put("seconds", Math.round(s.seconds() * 10) / 10.0);
            }
            list.add(m);
        }
        root.put("sections", list);
        return root;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
