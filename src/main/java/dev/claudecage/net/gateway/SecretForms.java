package dev.claudecage.net.gateway;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The forms a git token can come back in from a server, an error or a log line, each masked with as
 * many {@code '*'} wherever it appears: the token as it is; URL-encoded; and base64, which is how the
 * gateway sends it ({@code Authorization: Basic base64(user:token)}), so a server that echoes the
 * header, or a message that quotes it, would hand the cage the token in all but name. Base64 is
 * covered whatever comes before the token (any user, {@code x-access-token}, none): a base64 text
 * holds the encoding of the token's bytes from the first whole group of three on, at one of three
 * alignments, and each of those is a form (in the standard and the URL-safe alphabet). The longest
 * forms are masked first, so the whole Basic value goes as one.
 */
final class SecretForms {

    /** Shorter derived forms are not masked: they would match by chance in the binary of a git pack. */
    static final int MIN_DERIVED_CHARS = 12;
    private static final String UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

    private final List<String> forms;

    private SecretForms(List<String> forms) {
        this.forms = List.copyOf(forms);
    }

    /** The forms of {@code token}, sent as Basic credentials of {@code user}. */
    static SecretForms ofGitToken(String user, String token) {
        if (token.isEmpty()) {
            throw new IllegalArgumentException("an empty token has no forms to mask");
        }
        Set<String> derived = new LinkedHashSet<>();
        derived.addAll(base64(user + ":" + token));
        derived.addAll(base64("x-access-token:" + token));
        for (int skip = 0; skip < 3 && skip < token.length(); skip++) {
            String aligned = token.substring(skip, skip + (token.length() - skip) / 3 * 3);
            derived.addAll(base64(aligned));
        }
        derived.add(percentEncoded(token, false));
        derived.add(percentEncoded(token, true));
        List<String> forms = new ArrayList<>(List.of(token));
        derived.stream().filter(form -> form.length() >= MIN_DERIVED_CHARS && !forms.contains(form))
                .forEach(forms::add);
        forms.sort(Comparator.comparingInt(String::length).reversed());
        return new SecretForms(forms);
    }

    List<String> forms() {
        return forms;
    }

    /** {@code text} with every form masked, same length. */
    String mask(String text) {
        String masked = text;
        for (String form : forms) {
            masked = masked.replace(form, String.valueOf((char) KeyRedactor.MASK).repeat(form.length()));
        }
        return masked;
    }

    boolean foundIn(String text) {
        return forms.stream().anyMatch(text::contains);
    }

    /** A stream that masks every form in what passes through it to {@code out}; {@link Redacting#finish} at the end. */
    Redacting redacting(OutputStream out) {
        return new Redacting(out, forms.stream().map(form -> new KeyRedactor(form.getBytes(StandardCharsets.US_ASCII)))
                .toList());
    }

    /** Unpadded base64 in both alphabets: the padding says nothing, and an echo may leave it off. */
    private static List<String> base64(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        return List.of(Base64.getEncoder().withoutPadding().encodeToString(bytes),
                Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    private static String percentEncoded(String token, boolean lowerCase) {
        StringBuilder encoded = new StringBuilder();
        for (char c : token.toCharArray()) {
            if (UNRESERVED.indexOf(c) >= 0) {
                encoded.append(c);
            } else {
                String hex = String.format("%%%02X", (int) c);
                encoded.append(lowerCase ? hex.toLowerCase(java.util.Locale.ROOT) : hex);
            }
        }
        return encoded.toString();
    }

    /**
     * The forms' redactors in a row, the longest first: each masks its form in what the one before let
     * through. Each holds back only a tail that could still be the start of its form, so a line that
     * ends in a newline still passes whole.
     */
    static final class Redacting extends OutputStream {
        private final OutputStream out;
        private final List<KeyRedactor> stages;

        private Redacting(OutputStream out, List<KeyRedactor> stages) {
            this.out = out;
            this.stages = stages;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            passOn(0, buffer, offset, length);
        }

        /** Releases what every stage still holds back, in order: at the end of the stream it was no form. */
        void finish() throws IOException {
            for (int stage = 0; stage < stages.size(); stage++) {
                ByteArrayOutputStream held = new ByteArrayOutputStream();
                stages.get(stage).finish(held);
                byte[] bytes = held.toByteArray();
                passOn(stage + 1, bytes, 0, bytes.length);
            }
        }

        private void passOn(int stage, byte[] buffer, int offset, int length) throws IOException {
            if (stage == stages.size()) {
                out.write(buffer, offset, length);
                return;
            }
            ByteArrayOutputStream next = new ByteArrayOutputStream(length);
            stages.get(stage).write(buffer, offset, length, next);
            byte[] bytes = next.toByteArray();
            passOn(stage + 1, bytes, 0, bytes.length);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }
    }
}
