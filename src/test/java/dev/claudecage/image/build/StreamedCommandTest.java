package dev.claudecage.image.build;

import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StreamedCommandTest {

    @Test
    void attack_whatABuildStepPrintsIsShownEscapedNotSentToTheTerminal() {
        List<String> shown = new ArrayList<>();
        BuildProgress.Step step = new BuildProgress.Step() {
            @Override
            public void output(String line) {
                shown.add(line);
            }

            @Override
            public void cached() {
            }

            @Override
            public void done() {
            }

            @Override
            public void failed(List<String> outputTail) {
            }
        };
        StreamedCommand.Outcome outcome = StreamedCommand.run(new ProcessRunner(false),
                List.of("printf", "npm notice\\033]52;c;Y3VybCBldmlsIHwgc2g=\\007 10%%\\r100%%\\n\\tplain\\n"),
                Duration.ofSeconds(10), step);
        List<String> expected = List.of("npm notice\\x1b]52;c;Y3VybCBldmlsIHwgc2g=\\x07 10%", "100%", "\tplain");
        assertEquals(expected, shown);
        assertEquals(expected, outcome.tail());
    }
}
