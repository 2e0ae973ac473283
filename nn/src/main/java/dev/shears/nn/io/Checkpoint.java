package dev.shears.nn.io;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.shears.engine.DType;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.optim.Optimizer;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A Shears checkpoint: one safetensors file holding the model's parameters and buffers under their
 * PyTorch state_dict names ({@code layer1.0.conv1.weight}, {@code bn1.running_mean}), each mask as
 * {@code <name>.mask} (U8 0/1: a quarter of F32's size, and the mask is binary anyway), the
 * optimizer state as {@code optim.<name>.<slot>}, and in {@code __metadata__}: {@code format},
 * {@code format_version}, {@code model} (the spec as JSON), {@code optim.kind}, {@code optim.step},
 * plus whatever the caller adds (the trainer's {@code training} JSON). Restores check everything
 * before changing anything. Pinned by CheckpointTest.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String FORMAT = "shears-checkpoint";
    public static final String VERSION = "1";
    public static final String MASK_SUFFIX = ".mask";
    public static final String OPTIM_PREFIX = "optim.";

    private final Safetensors.Contents contents;
    private final Map<String, String> spec;

    private Checkpoint(Safetensors.Contents contents, Map<String, String> spec) {
        this.contents = contents;
        this.spec = spec;
    }

    // ---------------------------------------------------------------- save

    /** Writes {@code model} (and {@code optimizer}'s state when not null) atomically to {@code file}. */
    public static void save(Path file, Model model, Optimizer optimizer, Map<String, String> extraMetadata) {
        List<Safetensors.Entry> entries = new ArrayList<>();
        for (Parameter p : model.parameters()) entries.add(Safetensors.f32(p.name(), p.value()));
        for (Map.Entry<String, Tensor> b : model.buffers().entrySet()) entries.add(entry(b.getKey(), b.getValue()));
        for (Parameter p : model.parameters()) {
            if (p.mask() == null) continue;
            byte[] bits = new byte[Math.toIntExact(p.size())];
            MemorySegment m = p.mask().segment();
            for (int i = 0; i < bits.length; i++) bits[i] = m.getAtIndex(JAVA_FLOAT, i) != 0f ? (byte) 1 : 0;
            entries.add(new Safetensors.Entry(p.name() + MASK_SUFFIX, Safetensors.DType.U8, Safetensors.toLong(p.shape()), MemorySegment.ofArray(bits)));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", VERSION);
        meta.put("model", new Gson().toJson(new TreeMap<>(model.spec())));
        if (optimizer != null) {
            for (Map.Entry<String, Tensor> s : optimizer.state().entrySet()) entries.add(Safetensors.f32(OPTIM_PREFIX + s.getKey(), s.getValue()));
            meta.put("optim.kind", optimizer.config().kind().name());
            meta.put("optim.step", Long.toString(optimizer.steps()));
        }
        if (extraMetadata != null) {
            for (Map.Entry<String, String> e : extraMetadata.entrySet()) {
                if (meta.containsKey(e.getKey())) throw new IllegalArgumentException("metadata key '" + e.getKey() + "' is reserved by the checkpoint format");
                meta.put(e.getKey(), e.getValue());
            }
        }
        Safetensors.write(file, entries, meta);
    }

    private static Safetensors.Entry entry(String name, Tensor t) {
        Safetensors.DType d = switch (t.dtype()) {
            case F32 -> Safetensors.DType.F32;
            case I32 -> Safetensors.DType.I32;
            case U8 -> Safetensors.DType.U8;
        };
        return new Safetensors.Entry(name, d, Safetensors.toLong(t.shape()), t.segment().asSlice(0, t.size() * t.dtype().bytes));
    }

    // ---------------------------------------------------------------- read

    /** Reads and validates {@code file} as a Shears checkpoint; a foreign or damaged file is a clear error. */
    public static Checkpoint read(Path file) {
        Safetensors.Contents c = Safetensors.read(file);
        try {
            Map<String, String> meta = c.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new SafetensorsFormatException(file + ": a safetensors file but not a Shears checkpoint (its __metadata__ has no 'format': '" + FORMAT + "')");
            }
            if (!VERSION.equals(meta.get("format_version"))) {
                throw new SafetensorsFormatException(file + ": checkpoint format version '" + meta.get("format_version") + "', this build reads version " + VERSION);
            }
            Map<String, String> spec = new LinkedHashMap<>();
            try {
                JsonObject o = JsonParser.parseString(meta.getOrDefault("model", "")).getAsJsonObject();
                for (String k : o.keySet()) spec.put(k, o.get(k).getAsString());
            } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
                throw new SafetensorsFormatException(file + ": metadata 'model' is not a JSON object of strings (the model spec)");
            }
            return new Checkpoint(c, Map.copyOf(spec));
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public Path file() { return contents.file(); }

    /** The model spec the checkpoint was written from (zoo name and options). */
    public Map<String, String> spec() { return spec; }

    /** Every {@code __metadata__} entry. */
    public Map<String, String> metadata() { return contents.metadata(); }

    /** The raw tensors, by name. */
    public Map<String, Safetensors.Entry> tensors() { return contents.entries(); }

    public boolean hasOptimizerState() { return contents.metadata().containsKey("optim.kind"); }

    /**
     * Copies parameters, buffers and masks into {@code model}. Parameters with a mask in the file get
     * it (allocated in {@code maskOwner} when they had none; it must outlive the model's use); others
     * lose theirs. Everything is checked first: a missing tensor or wrong shape changes nothing.
     */
    public void restoreModel(Model model, Workspace maskOwner) {
        Path f = contents.file();
        for (Parameter p : model.parameters()) {
            check(p.name(), DType.F32, p.shape(), "parameter");
            if (contents.entries().containsKey(p.name() + MASK_SUFFIX)) {
                Safetensors.Entry m = contents.entries().get(p.name() + MASK_SUFFIX);
                if (m.dtype() != Safetensors.DType.U8 || !Arrays.equals(m.shape(), Safetensors.toLong(p.shape()))) {
                    throw new SafetensorsFormatException(f + ": mask '" + m.name() + "' is " + m.dtype() + " " + Arrays.toString(m.shape())
                            + ", expected U8 " + Shape.str(p.shape()));
                }
                for (long i = 0; i < m.elements(); i++) {
                    byte v = m.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, i);
                    if (v != 0 && v != 1) throw new SafetensorsFormatException(f + ": mask '" + m.name() + "' holds " + v + " at index " + i + "; masks are 0 or 1");
                }
                if (p.mask() == null && maskOwner == null) {
                    throw new IllegalStateException(f + ": has a mask for '" + p.name() + "' but the parameter has none and no workspace was given to own one");
                }
            }
        }
        for (Map.Entry<String, Tensor> b : model.buffers().entrySet()) check(b.getKey(), b.getValue().dtype(), b.getValue().shape(), "buffer");
        for (Parameter p : model.parameters()) {
            copy(contents.require(p.name()), p.value());
            Safetensors.Entry m = contents.entries().get(p.name() + MASK_SUFFIX);
            if (m == null) {
                p.clearMask();
                continue;
            }
            float[] keep = new float[Math.toIntExact(p.size())];
            for (int i = 0; i < keep.length; i++) keep[i] = m.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, i);
            if (p.mask() != null) {
                p.mask().copyFrom(keep);
                p.applyMask();
            } else {
                p.setMask(maskOwner, keep);
            }
        }
        for (Map.Entry<String, Tensor> b : model.buffers().entrySet()) copy(contents.require(b.getKey()), b.getValue());
    }

    /** Copies the optimizer state (and step count) into {@code optimizer}; checks first. */
    public void restoreOptimizer(Optimizer optimizer) {
        Path f = contents.file();
        String kind = contents.metadata().get("optim.kind");
        if (kind == null) throw new SafetensorsFormatException(f + ": has no optimizer state (written without an optimizer)");
        if (!kind.equals(optimizer.config().kind().name())) {
            throw new SafetensorsFormatException(f + ": optimizer state is for " + kind + " but the run uses " + optimizer.config().kind());
        }
        long step;
        try {
            step = Long.parseLong(contents.metadata().getOrDefault("optim.step", ""));
        } catch (NumberFormatException e) {
            throw new SafetensorsFormatException(f + ": metadata 'optim.step' is not a step count");
        }
        for (Map.Entry<String, Tensor> s : optimizer.state().entrySet()) check(OPTIM_PREFIX + s.getKey(), DType.F32, s.getValue().shape(), "optimizer state");
        for (Map.Entry<String, Tensor> s : optimizer.state().entrySet()) copy(contents.require(OPTIM_PREFIX + s.getKey()), s.getValue());
        optimizer.setSteps(step);
    }

    private void check(String name, DType dtype, int[] shape, String what) {
        Safetensors.Entry e = contents.entries().get(name);
        Path f = contents.file();
        if (e == null) throw new SafetensorsFormatException(f + ": no tensor '" + name + "' (the model's " + what + "); is it a checkpoint of another model?");
        if (!e.dtype().name().equals(dtype.name()) || !Arrays.equals(e.shape(), Safetensors.toLong(shape))) {
            throw new SafetensorsFormatException(f + ": tensor '" + name + "' is " + e.dtype() + " " + Arrays.toString(e.shape())
                    + " but the model's " + what + " is " + dtype + " " + Shape.str(shape));
        }
    }

    private static void copy(Safetensors.Entry from, Tensor to) {
        MemorySegment.copy(from.data(), 0, to.segment(), 0, from.data().byteSize());
    }

    @Override
    public void close() {
        contents.close();
    }
}
