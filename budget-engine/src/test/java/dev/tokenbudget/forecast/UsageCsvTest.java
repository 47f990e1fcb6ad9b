package dev.tokenbudget.forecast;

import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.time.LocalDate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UsageCsvTest {

    private static DailySeries read(String csv) throws Exception {
        return UsageCsv.read(new StringReader(csv), "usage.csv");
    }

    @Test
    void readsTotalsAndIgnoresOtherColumns() throws Exception {
        DailySeries s = read("team,date,total_tokens,requests\nsupport,2026-03-01,100,3\n\"a, b\",2026-03-02,250,9\n");
        assertThat(s.start()).isEqualTo(LocalDate.of(2026, 3, 1));
        assertThat(s.size()).isEqualTo(2);
        assertThat(s.at(1)).isEqualTo(250);
    }

    @Test
    void addsInputAndOutputAndSortsAndFillsMissingDaysWithZero() throws Exception {
        DailySeries s = read("date,output_tokens,input_tokens\n2026-03-04,5,10\n2026-03-01,1,2\n");
        assertThat(s.size()).isEqualTo(4);
        assertThat(s.at(0)).isEqualTo(3);
        assertThat(s.on(LocalDate.of(2026, 3, 2))).isZero();
        assertThat(s.at(3)).isEqualTo(15);
    }

    @Test
    void namesTheLineAndColumnOfBadInput() {
        assertThatThrownBy(() -> read("date,total_tokens\n2026-03-01,12\n2026-03-02,twelve\n"))
                .hasMessage("usage.csv line 3: total_tokens must be a whole number of tokens, was 'twelve'");
        assertThatThrownBy(() -> read("date,total_tokens\n03/01/2026,12\n"))
                .hasMessage("usage.csv line 2: date must be YYYY-MM-DD, was '03/01/2026'");
        assertThatThrownBy(() -> read("date,total_tokens\n2026-03-01,-4\n"))
                .hasMessageContaining("line 2: total_tokens must be in 0..");
        assertThatThrownBy(() -> read("date,total_tokens\n2026-03-01,1\n2026-03-01,2\n"))
                .hasMessage("usage.csv line 3: date 2026-03-01 appears twice");
        assertThatThrownBy(() -> read("day,tokens\n2026-03-01,1\n"))
                .hasMessageStartingWith("usage.csv line 1: the header must name date and total_tokens");
        assertThatThrownBy(() -> read("date,input_tokens\n2026-03-01,1\n"))
                .hasMessageStartingWith("usage.csv line 1:");
        assertThatThrownBy(() -> read("")).hasMessageStartingWith("usage.csv: empty file");
        assertThatThrownBy(() -> read("date,total_tokens\n")).hasMessage("usage.csv: no data rows after the header");
    }
}
