package io.multiproc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void writesNumbersRaw_textEscaped_andMissingAsNull() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", 1_000_000);
        m.put("ms", 12.3456789);
        m.put("tiny", 0.000012345678);
        m.put("nan", Double.NaN);
        m.put("text", "a \"quoted\"\\ line\nnext\u0001");
        m.put("list", Arrays.asList(1, null, "x", true));
        String json = Json.write(m);
        assertThat(json).contains("\"n\": 1000000", "\"ms\": 12.3457", "\"tiny\": 0.0000123457", "\"nan\": null",
                "\"text\": \"a \\\"quoted\\\"\\\\ line\\nnext\\u0001\"", "\"list\": [1, null, \"x\", true]");
    }

    @Test
    void tableFormat_readsAsPeopleWrite() {
        assertThat(Table.format(1_000_000)).isEqualTo("1,000,000");
        assertThat(Table.format(1234.5)).isEqualTo("1,235");
        assertThat(Table.format(12.345)).isEqualTo("12.3");
        assertThat(Table.format(1.2345)).isEqualTo("1.23");
        assertThat(Table.format(0.12345)).isEqualTo("0.123");
        assertThat(Table.format(null)).isEqualTo("-");
        assertThat(new Table("a", "b").row("x", 1).render()).contains("  a  b").contains("  x  1");
        assertThat(List.of(new Table("a").row(Double.NaN).render().split("\n"))).last().asString().contains("-");
    }
}
