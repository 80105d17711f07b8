package dev.claudecage.image.build;

import dev.claudecage.image.store.Digest;
import dev.claudecage.json.Json;

import java.util.Map;
import java.util.TreeMap;

/**
 * The build cache's key for one step: the state the step starts from (its layers and settings,
 * see {@link StageState#id()}) and everything the step itself depends on: the instruction with
 * its variables expanded, the ARG values a RUN sees, and the content hashes of the files a
 * COPY reads. Equal keys mean the step would do the same again.
 */
final class StepKey {

    private StepKey() {
    }

    static Digest of(Digest parentState, String keyword, Map<String, ?> inputs) {
        Map<String, Object> key = new TreeMap<>(inputs);
        key.put("parent", parentState.toString());
        key.put("instruction", keyword);
        return Digest.of(Json.write(key));
    }
}
