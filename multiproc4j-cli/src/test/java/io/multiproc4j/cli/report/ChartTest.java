package io.multiproc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.awt.image.BufferedImage;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** Bar charts for named ways: drawn as real PNG images, with a gap where a series has no figure. */
class ChartTest {
    @Test
    void barChart_drawsAPng_withAGapForAMissingFigure() throws Exception {
        System.setProperty("java.awt.headless", "true");
        Chart chart = Chart.bars("Shared counter", "ns per increment", "unsynchronized", "locked", "atomic")
                .bar("Java", 4.0, 120.0, 9.5).bar("Python", 90.0, 900.0, Double.NaN);
        assertThat(chart.isBarChart()).isTrue();
        assertThat(chart.categories()).containsExactly("unsynchronized", "locked", "atomic");
        assertThat(chart.barNames()).containsExactly("Java", "Python");
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(chart.png()));
        assertThat(image.getWidth()).isEqualTo(760);
        assertThat(image.getHeight()).isEqualTo(420);
        BufferedImage log = ImageIO.read(new ByteArrayInputStream(Chart.bars("log", "µs", "a", "b").logY()
                .bar("x", 0.01, 300).png()));
        assertThat(log.getWidth()).isEqualTo(760);
    }

    @Test
    void badBars_areRefusedAtTheCall_namingTheMismatch() {
        assertThatThrownBy(() -> Chart.bars("t", "y", "a", "b").bar("Java", 1.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 values for 2 categories");
        assertThatThrownBy(() -> new Chart("t", "x", "y").bar("Java", 1.0))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("Chart.bars");
        assertThatThrownBy(() -> Chart.bars("t", "y")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Chart.bars("empty", "y", "a").png()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has no bars");
    }
}
