package dev.claudecage.image.dockerfile;

import java.util.List;

/** One build stage: its FROM and the instructions up to the next FROM. */
public record Stage(int index, Instruction.From from, List<Instruction> instructions) {

    public Stage {
        instructions = List.copyOf(instructions);
    }
}
