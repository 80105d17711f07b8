package dev.claudecage.cli;

import picocli.CommandLine.Model.IGetter;
import picocli.CommandLine.Model.IScope;
import picocli.CommandLine.Model.IScoped;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.ITypeInfo;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.PicocliException;

import java.lang.reflect.Field;

/**
 * Binds an option, a positional parameter, a mixin or an arg group of a generated command model
 * ({@link CommandModels}) to its field, as picocli's own field binding does, without reading the
 * field's annotations. The object whose field it is comes from a {@link Scope}: a command or mixin,
 * or the object picocli makes for an arg group when the group matches.
 */
final class FieldBinding implements IGetter, ISetter, IScoped {

    private final Scope scope;
    private final Field field;

    private FieldBinding(Scope scope, Field field) {
        this.scope = scope;
        this.field = field;
    }

    static FieldBinding of(Scope scope, Class<?> declaringClass, String name) {
        try {
            Field field = declaringClass.getDeclaredField(name);
            field.setAccessible(true);
            return new FieldBinding(scope, field);
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("the generated command model names a field " + declaringClass.getName()
                    + "." + name + " that the class lacks: rebuild (mvn package)", e);
        }
    }

    /**
     * {@code builder} bound to {@code binding}. Its initial value (what picocli sets before parsing) is the
     * field's value in the new object, as picocli's reflection reads it; an arg group's object only
     * exists once the group matches, and keeps the values its constructor gives.
     */
    static OptionSpec bound(FieldBinding binding, OptionSpec.Builder builder, boolean inGroup) {
        builder.getter(binding).setter(binding).scope(binding.scope);
        return (inGroup ? builder.hasInitialValue(false) : builder.initialValue(binding.get())).build();
    }

    /** {@link #bound(FieldBinding, OptionSpec.Builder, boolean)} for a positional parameter. */
    static PositionalParamSpec bound(FieldBinding binding, PositionalParamSpec.Builder builder, boolean inGroup) {
        builder.getter(binding).setter(binding).scope(binding.scope);
        return (inGroup ? builder.hasInitialValue(false) : builder.initialValue(binding.get())).build();
    }

    /** What picocli's reflection makes for an arg group's field of type {@code type}. */
    static ITypeInfo groupTypeInfo(Class<?> type) {
        return PositionalParamSpec.builder().type(type).build().typeInfo();
    }

    @Override
    public IScope getScope() {
        return scope;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T get() {
        try {
            return (T) field.get(scope.get());
        } catch (IllegalAccessException | RuntimeException e) {
            throw new PicocliException("Could not get value for field " + field, e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T set(T value) {
        try {
            Object target = scope.get();
            T old = (T) field.get(target);
            field.set(target, value);
            return old;
        } catch (IllegalAccessException | RuntimeException e) {
            throw new PicocliException("Could not set value for field " + field + " to " + value, e);
        }
    }

    /** The object whose fields a set of bindings set; picocli sets it anew for each match of an arg group. */
    static final class Scope implements IScope {
        private Object object;

        Scope(Object object) {
            this.object = object;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T get() {
            return (T) object;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T set(T value) {
            T old = (T) object;
            object = value;
            return old;
        }
    }
}
