package dev.claudecage.json;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one configured ObjectMapper: sorted keys, indented, nulls left out, so that every
 * file claude-cage generates is stable byte for byte and can be compared with a golden file.
 */
public final class Json {

    /** For a streaming read: what needs no object mapper (the mapper starts on first use, not with this class). */
    private static final JsonFactory FACTORY = new JsonFactory();

    /** The mapper and its line writer, made when first used: Jackson's object mapper costs about 45 ms of CPU to start. */
    private static final class Mapper {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .addModule(instantsAsText())
                .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
                .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.NON_NULL))
                .build();

        static final ObjectWriter LINE_WRITER = MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT)
                .with(JsonWriteFeature.ESCAPE_NON_ASCII).with(new PrintableAscii());
    }

    private Json() {
    }

    /** JSON's own escapes, and DEL escaped too. */
    private static final class PrintableAscii extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] escapes = CharacterEscapes.standardAsciiEscapesForJSON();

        PrintableAscii() {
            escapes[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return escapes;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return null;
        }
    }

    /** Instants as ISO-8601 text ("2026-11-28T09:15:21.123Z"): readable in logs, exact, sortable. */
    private static SimpleModule instantsAsText() {
        SimpleModule module = new SimpleModule("instants-as-text");
        module.addSerializer(Instant.class, new JsonSerializer<>() {
            @Override
            public void serialize(Instant value, JsonGenerator generator, SerializerProvider provider) throws IOException {
                generator.writeString(value.toString());
            }
        });
        module.addDeserializer(Instant.class, new JsonDeserializer<>() {
            @Override
            public Instant deserialize(JsonParser parser, DeserializationContext context) throws IOException {
                return Instant.parse(parser.getValueAsString());
            }
        });
        return module;
    }

    public static ObjectMapper mapper() {
        return Mapper.MAPPER;
    }

    /** Jackson's parser factory without its object mapper, for a reader that walks the tokens itself. */
    public static JsonFactory factory() {
        return FACTORY;
    }

    /**
     * The JSON value at the parser's current token, read token by token as the mapper reads one into an
     * Object: objects as LinkedHashMaps in the file's order, arrays as Lists, whole numbers as Integer,
     * Long or BigInteger (the smallest that holds them), other numbers as Double, strings, truth values
     * and null. The parser is left on the value's last token. A reader that needs one kind of value
     * checks it at its record: this takes any JSON.
     */
    public static Object value(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == null) {
            throw new JsonParseException(parser, "expected a value but found the end of the input");
        }
        return switch (token) {
            case START_OBJECT -> {
                Map<String, Object> object = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    parser.nextToken();
                    object.put(name, value(parser));
                }
                yield object;
            }
            case START_ARRAY -> {
                List<Object> array = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    array.add(value(parser));
                }
                yield array;
            }
            case VALUE_STRING -> parser.getText();
            case VALUE_NUMBER_INT -> parser.getNumberValue();
            case VALUE_NUMBER_FLOAT -> parser.getDoubleValue();
            case VALUE_TRUE -> true;
            case VALUE_FALSE -> false;
            case VALUE_NULL -> null;
            default -> throw new JsonParseException(parser, "unexpected " + token);
        };
    }

    /** Pretty JSON with a trailing newline, as written to disk. */
    public static String write(Object value) {
        try {
            return Mapper.MAPPER.writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * What {@link #write} makes of a tree of maps, lists, strings, numbers and truth values, byte for byte
     * (keys sorted, a map's null values left out, indented), written by the streaming generator: for a
     * short call that only hashes such a tree, the object mapper's start would cost more than the rest of it.
     */
    public static String writeTree(Object tree) {
        return writePlain(tree);
    }

    /**
     * {@link #write}'s bytes for a record of plain data (strings, numbers, booleans, instants, paths,
     * enum constants by name, lists, maps and such records, none annotated), written through Jackson's
     * generator without the object mapper: a cage's config.json, on the path of every {@code run}, and
     * a session's record, on the path of every {@code start}, where the mapper's start and its
     * serializers' discovery cost more than the rest of the work. Anything else is refused rather than
     * written differently.
     */
    public static String writePlainRecord(Record value) {
        return writePlain(value);
    }

    private static String writePlain(Object value) {
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = FACTORY.createGenerator(out).useDefaultPrettyPrinter()) {
            writePlain(generator, value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
        return out.append('\n').toString();
    }

    /**
     * {@link #writeLine}'s bytes for a record of plain data (as {@link #writePlainRecord} takes), written
     * through Jackson's generator without the object mapper: an audit log's lines, the first of which
     * every filtered {@code run} writes, where the mapper's start would cost more than the line.
     */
    public static String writePlainLine(Record value) {
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
            // As the line writer: every character past ASCII escaped (ESCAPE_NON_ASCII), and DEL too.
            generator.setHighestNonEscapedChar(0x7f);
            generator.setCharacterEscapes(new PrintableAscii());
            writePlain(generator, value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
        return out.toString();
    }

    /** As the mapper writes them: map keys and record components sorted by name, nulls in them left out. */
    private static void writePlain(JsonGenerator generator, Object value) throws IOException {
        if (value == null) {
            generator.writeNull();
        } else if (value instanceof String text) {
            generator.writeString(text);
        } else if (value instanceof Instant instant) {
            // As the mapper's module writes it (instantsAsText).
            generator.writeString(instant.toString());
        } else if (value instanceof Boolean truth) {
            generator.writeBoolean(truth);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            generator.writeNumber(((Number) value).longValue());
        } else if (value instanceof Double number) {
            generator.writeNumber(number);
        } else if (value instanceof Float number) {
            generator.writeNumber(number);
        } else if (value instanceof BigInteger number) {
            generator.writeNumber(number);
        } else if (value instanceof BigDecimal number) {
            generator.writeNumber(number);
        } else if (value instanceof Enum<?> constant) {
            generator.writeString(constant.name());
        } else if (value instanceof Path path) {
            // As the mapper's serializer writes it: a URI, a folder's with a slash at its end.
            generator.writeString(path.toUri().toString());
        } else if (value instanceof List<?> list) {
            generator.writeStartArray();
            for (Object item : list) {
                writePlain(generator, item);
            }
            generator.writeEndArray();
        } else if (value instanceof Map<?, ?> map) {
            generator.writeStartObject();
            for (Map.Entry<?, ?> entry : new TreeMap<>(map).entrySet()) {
                writeField(generator, (String) entry.getKey(), entry.getValue());
            }
            generator.writeEndObject();
        } else if (value instanceof Record record) {
            RecordComponent[] components = record.getClass().getRecordComponents();
            Arrays.sort(components, Comparator.comparing(RecordComponent::getName));
            generator.writeStartObject();
            for (RecordComponent component : components) {
                if (component.getAnnotations().length > 0 || component.getAccessor().getAnnotations().length > 0) {
                    throw new IllegalArgumentException(record.getClass().getName() + "." + component.getName()
                            + " is annotated, which the mapper may honour: not plain data");
                }
                try {
                    // As the mapper reads a record that is not public: past its access modifiers.
                    Method accessor = component.getAccessor();
                    accessor.setAccessible(true);
                    writeField(generator, component.getName(), accessor.invoke(record));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("cannot read " + record.getClass().getName() + "."
                            + component.getName(), e);
                }
            }
            generator.writeEndObject();
        } else {
            throw new IllegalArgumentException("not plain data: a " + value.getClass().getName());
        }
    }

    private static void writeField(JsonGenerator generator, String name, Object value) throws IOException {
        if (value != null) {
            generator.writeFieldName(name);
            writePlain(generator, value);
        }
    }

    /**
     * Compact JSON on one line, for JSON-lines logs, in printable ASCII: every other character
     * (control characters, DEL, C1 controls, bidirectional overrides, any non-ASCII) is a
     * JSON unicode escape, so that text a cage chose reaches a terminal that prints the line as
     * plain characters, never as a control sequence.
     */
    public static String writeLine(Object value) {
        try {
            return Mapper.LINE_WRITER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * A JSON line read back, with every character {@link #writeLine} would have escaped escaped:
     * for a log written by an older version, or changed since. JSON's own escape keeps it the
     * same JSON, and makes it safe to print.
     */
    public static String printableLine(String line) {
        StringBuilder printable = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                printable.append(c);
            } else {
                printable.append(String.format("\\u%04x", (int) c));
            }
        }
        return printable.toString();
    }

    /**
     * What {@link #read} makes of {@link #write}'s text of a record of plain data (strings, whole numbers,
     * booleans, paths, enum constants by name, lists and such records, none annotated), read with the
     * streaming parser: a session's plan, which its supervisor reads as it starts, where the mapper's start
     * and its deserializers' discovery cost more than the rest of the read and its classes stay in the
     * supervisor's memory. What the mapper would read another way (an unknown field, a number for a name,
     * text for a number, anything after the value) is refused, never read differently.
     */
    public static <R extends Record> R readPlainRecord(String json, Class<R> type) {
        try (JsonParser parser = FACTORY.createParser(json)) {
            parser.nextToken();
            R value = type.cast(readPlain(parser, type));
            if (parser.nextToken() != null) {
                throw new JsonParseException(parser, "more after the value");
            }
            return value;
        } catch (IOException e) {
            throw new UncheckedIOException("invalid JSON for " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static Object readPlain(JsonParser parser, Type type) throws IOException {
        Class<?> kind = (Class<?>) (type instanceof ParameterizedType generic ? generic.getRawType() : type);
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_NULL) {
            // As the mapper reads a null into a primitive (FAIL_ON_NULL_FOR_PRIMITIVES is off): its zero.
            return kind.isPrimitive() ? zero(kind) : null;
        }
        if (kind == String.class) {
            return expect(parser, JsonToken.VALUE_STRING).getText();
        }
        if (kind == int.class || kind == Integer.class) {
            return expect(parser, JsonToken.VALUE_NUMBER_INT).getIntValue();
        }
        if (kind == long.class || kind == Long.class) {
            return expect(parser, JsonToken.VALUE_NUMBER_INT).getLongValue();
        }
        if (kind == boolean.class || kind == Boolean.class) {
            if (token != JsonToken.VALUE_TRUE && token != JsonToken.VALUE_FALSE) {
                throw new JsonParseException(parser, "expected true or false but found " + token);
            }
            return token == JsonToken.VALUE_TRUE;
        }
        if (kind == Path.class) {
            return path(parser, expect(parser, JsonToken.VALUE_STRING).getText());
        }
        if (kind.isEnum()) {
            String name = expect(parser, JsonToken.VALUE_STRING).getText();
            for (Object constant : kind.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(name)) {
                    return constant;
                }
            }
            throw new JsonParseException(parser, "'" + name + "' is not a " + kind.getSimpleName());
        }
        if (kind == List.class && type instanceof ParameterizedType generic) {
            expect(parser, JsonToken.START_ARRAY);
            List<Object> items = new ArrayList<>();
            while (parser.nextToken() != JsonToken.END_ARRAY) {
                items.add(readPlain(parser, generic.getActualTypeArguments()[0]));
            }
            return items;
        }
        if (kind.isRecord()) {
            return readRecord(parser, kind);
        }
        throw new IllegalArgumentException("not plain data: a " + type.getTypeName());
    }

    private static Object readRecord(JsonParser parser, Class<?> kind) throws IOException {
        expect(parser, JsonToken.START_OBJECT);
        RecordComponent[] components = kind.getRecordComponents();
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent component = components[i];
            if (component.getAnnotations().length > 0 || component.getAccessor().getAnnotations().length > 0) {
                throw new IllegalArgumentException(kind.getName() + "." + component.getName()
                        + " is annotated, which the mapper may honour: not plain data");
            }
            types[i] = component.getType();
            // A missing field as the mapper reads it: null, or a primitive's zero.
            values[i] = types[i].isPrimitive() ? zero(types[i]) : null;
        }
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            int index = 0;
            while (index < components.length && !components[index].getName().equals(name)) {
                index++;
            }
            if (index == components.length) {
                throw new JsonParseException(parser, "unknown field '" + name + "' of " + kind.getSimpleName());
            }
            parser.nextToken();
            values[index] = readPlain(parser, components[index].getGenericType());
        }
        try {
            Constructor<?> canonical = kind.getDeclaredConstructor(types);
            canonical.setAccessible(true);
            return canonical.newInstance(values);
        } catch (InvocationTargetException e) {
            throw new JsonParseException(parser, "not a " + kind.getSimpleName() + ": " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make a " + kind.getName(), e);
        }
    }

    private static Object zero(Class<?> primitive) {
        if (primitive == boolean.class) {
            return false;
        }
        if (primitive == int.class) {
            return 0;
        }
        if (primitive == long.class) {
            return 0L;
        }
        throw new IllegalArgumentException("not plain data: a " + primitive.getName());
    }

    private static JsonParser expect(JsonParser parser, JsonToken expected) throws JsonParseException {
        if (parser.currentToken() != expected) {
            throw new JsonParseException(parser, "expected " + expected + " but found " + parser.currentToken());
        }
        return parser;
    }

    /** As the mapper's deserializer reads a path: text without a colon as a path, anything else as a URI. */
    private static Path path(JsonParser parser, String text) throws JsonParseException {
        if (text.indexOf(':') < 0) {
            return Path.of(text);
        }
        try {
            return Path.of(new URI(text));
        } catch (URISyntaxException | IllegalArgumentException | FileSystemNotFoundException e) {
            throw new JsonParseException(parser, "not a path: " + e.getMessage());
        }
    }

    public static <T> T read(String json, Class<T> type) {
        try {
            return Mapper.MAPPER.readValue(json, type);
        } catch (IOException e) {
            throw new UncheckedIOException("invalid JSON for " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}
