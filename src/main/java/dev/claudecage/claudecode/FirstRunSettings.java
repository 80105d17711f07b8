package dev.claudecage.claudecode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What Claude Code's own configuration file, {@code ~/.claude.json}, must hold for its first
 * interactive start in a cage to go straight to the prompt, merged into whatever the file holds:
 * <ul>
 *   <li>{@code hasCompletedOnboarding: true}. The onboarding's connectivity check calls
 *       {@code api.anthropic.com} and the OAuth host itself, whatever {@code ANTHROPIC_BASE_URL} says;
 *       with the gateway holding the key that route is closed, and a failed check ends Claude Code.
 *       Its other steps (theme, sign-in) have nothing to do in a cage whose gateway is the sign-in.</li>
 *   <li>the cage's placeholder in {@code customApiKeyResponses.approved}, by its last 20
 *       characters as Claude Code keeps it: otherwise it asks whether to use the "custom API key"
 *       with No preselected, and No turns the gateway off.</li>
 *   <li>{@code projects[WORKDIR].hasTrustDialogAccepted: true} for the folder Claude Code starts in:
 *       the folder the user mounted into the cage to work on; the cage, not this dialog, is what
 *       keeps that folder's settings and hooks away from the host.</li>
 * </ul>
 * The file is the cage's: a persisted home keeps it, and the user's choices in it stand. Only
 * what is missing is added (an approval the user rejected stays rejected, a trust set to false
 * stays false); {@code hasCompletedOnboarding} is set whatever it was, because Claude Code clears
 * it on {@code /logout} and onboarding cannot complete in such a cage. Everything else is kept as
 * it was, in its order. Content that is not a JSON object, or that has something other than an
 * object or array where these keys go, is left alone: {@link Outcome#refusal()} says why.
 */
public final class FirstRunSettings {

    /** Claude Code approves a key by its last characters, this many ({@code key.trim().slice(-20)}). */
    static final int APPROVAL_SUFFIX = 20;

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(100).build())
                    .build())
            .disable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /**
     * What to do with the file.
     *
     * @param content   the new content, or null when nothing needs writing
     * @param added     what was added, in words, for the log
     * @param refusal   why the file was left alone although it may lack something, or null
     */
    public record Outcome(byte[] content, List<String> added, String refusal) {
        public Outcome {
            added = List.copyOf(added);
        }

        public boolean writes() {
            return content != null;
        }
    }

    private FirstRunSettings() {
    }

    /** The value Claude Code keeps in {@code customApiKeyResponses} for an API key it was told to use. */
    public static String approvalOf(String apiKey) {
        String key = apiKey.strip();
        return key.substring(Math.max(0, key.length() - APPROVAL_SUFFIX));
    }

    /**
     * Merges the first-run settings into {@code existing}, the file's bytes or null when there is
     * no file, for a cage whose API key is {@code apiKey} and that starts in {@code workingDirectory}.
     */
    public static Outcome merge(byte[] existing, String apiKey, String workingDirectory) {
        ObjectNode root;
        if (existing == null) {
            root = MAPPER.createObjectNode();
        } else {
            JsonNode parsed;
            try {
                parsed = MAPPER.readTree(new String(existing, StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                // Where, not what: the parser's message would quote the cage's bytes.
                return refused("it is not valid JSON" + (e.getLocation() == null ? ""
                        : " (at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")"));
            }
            if (!(parsed instanceof ObjectNode object)) {
                return refused("it holds " + describe(parsed) + ", not a JSON object");
            }
            root = object;
        }
        String unexpected = unexpectedShape(root, workingDirectory);
        if (unexpected != null) {
            return refused(unexpected);
        }
        List<String> added = new ArrayList<>();
        if (!root.path("hasCompletedOnboarding").isBoolean() || !root.path("hasCompletedOnboarding").booleanValue()) {
            root.put("hasCompletedOnboarding", true);
            added.add("hasCompletedOnboarding");
        }
        String approval = approvalOf(apiKey);
        ObjectNode responses = objectAt(root, "customApiKeyResponses");
        ArrayNode approved = arrayAt(responses, "approved");
        ArrayNode rejected = arrayAt(responses, "rejected");
        if (!contains(approved, approval) && !contains(rejected, approval)) {
            approved.add(approval);
            added.add("customApiKeyResponses.approved (the cage's placeholder key)");
        }
        ObjectNode project = objectAt(objectAt(root, "projects"), workingDirectory);
        if (!project.has("hasTrustDialogAccepted")) {
            project.put("hasTrustDialogAccepted", true);
            added.add("projects[" + workingDirectory + "].hasTrustDialogAccepted");
        }
        if (added.isEmpty()) {
            return new Outcome(null, added, null);
        }
        try {
            return new Outcome((MAPPER.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8), added, null);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree read as JSON is always written back", e);
        }
    }

    private static Outcome refused(String why) {
        return new Outcome(null, List.of(), why);
    }

    /** Why the keys this merge writes cannot be written without replacing what is there, or null. */
    private static String unexpectedShape(ObjectNode root, String workingDirectory) {
        for (String key : List.of("customApiKeyResponses", "projects")) {
            if (root.has(key) && !root.get(key).isObject()) {
                return key + " is " + describe(root.get(key)) + ", not an object";
            }
        }
        JsonNode responses = root.path("customApiKeyResponses");
        for (String key : List.of("approved", "rejected")) {
            if (responses.has(key) && !responses.get(key).isArray()) {
                return "customApiKeyResponses." + key + " is " + describe(responses.get(key)) + ", not an array";
            }
        }
        JsonNode project = root.path("projects").path(workingDirectory);
        if (!project.isMissingNode() && !project.isObject()) {
            return "projects[" + workingDirectory + "] is " + describe(project) + ", not an object";
        }
        return null;
    }

    private static ObjectNode objectAt(ObjectNode parent, String key) {
        return parent.has(key) ? (ObjectNode) parent.get(key) : parent.putObject(key);
    }

    private static ArrayNode arrayAt(ObjectNode parent, String key) {
        return parent.has(key) ? (ArrayNode) parent.get(key) : parent.putArray(key);
    }

    private static boolean contains(ArrayNode array, String value) {
        for (JsonNode element : array) {
            if (element.isTextual() && element.textValue().equals(value)) {
                return true;
            }
        }
        return false;
    }

    private static String describe(JsonNode node) {
        return node == null || node.isNull() ? "null" : "a " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }
}
